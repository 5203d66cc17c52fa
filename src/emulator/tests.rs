//! The emulator end to end over real sockets, with no Node: the "runtime" is a test thread
//! speaking the Runtime API (external mode), or a shell command (supervised mode).

use std::io::{BufReader, Read, Write};
use std::net::TcpStream;
use std::thread;
use std::time::Duration;

use super::http::{BodyReader, RequestHead};
use super::*;

/// A response as a client sees it.
#[derive(Debug)]
struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    chunks: Vec<Vec<u8>>,
    trailers: Vec<(String, String)>,
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    fn body(&self) -> String {
        String::from_utf8(self.chunks.concat()).unwrap()
    }
    fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body()).unwrap()
    }
}

/// One request on a fresh connection; reads the whole response.
fn request(port: u16, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Response {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes()).unwrap();
    let _ = s.write_all(body);
    read_response(&mut BufReader::new(s))
}

fn read_response<R: std::io::BufRead>(r: &mut R) -> Response {
    let mut line = String::new();
    r.read_line(&mut line).unwrap();
    let status: u16 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    let mut headers = Vec::new();
    loop {
        let mut l = String::new();
        r.read_line(&mut l).unwrap();
        let l = l.trim_end();
        if l.is_empty() {
            break;
        }
        let (k, v) = l.split_once(':').unwrap();
        headers.push((k.trim().to_string(), v.trim().to_string()));
    }
    let head = RequestHead {
        method: "X".into(),
        path: "/".into(),
        http10: false,
        headers: headers.clone(),
    };
    let mut reader = BodyReader::new(&head).unwrap();
    let mut chunks = Vec::new();
    while let Some(c) = reader.next_chunk(r).unwrap() {
        chunks.push(c);
    }
    Response {
        status,
        headers,
        chunks,
        trailers: reader.trailers,
    }
}

const INVOKE: &str = "/2015-03-31/functions/function/invocations";

/// Polls `cond` for up to 10 s (a loaded CI machine can be slow to start a process).
fn wait_until(cond: impl Fn() -> bool) {
    for _ in 0..1000 {
        if cond() {
            return;
        }
        thread::sleep(Duration::from_millis(10));
    }
    panic!("condition not met within 10 s");
}

/// An emulator on free ports, without START/END/REPORT lines.
fn quiet() -> EmulatorConfig {
    EmulatorConfig {
        invoke_port: 0,
        platform_logs: false,
        ..EmulatorConfig::default()
    }
}

fn external(timeout: Duration) -> (Emulator, u16, u16) {
    external_with(EmulatorConfig { timeout, ..quiet() })
}

/// An emulator whose runtime the test plays itself: (emulator, invoke port, Runtime API port).
fn external_with(config: EmulatorConfig) -> (Emulator, u16, u16) {
    let emu = Emulator::start(config).unwrap();
    let endpoint = emu.runtime_api_endpoint().unwrap();
    let rport: u16 = endpoint.rsplit(':').next().unwrap().parse().unwrap();
    let iport = emu.invoke_port();
    (emu, iport, rport)
}

fn next(rport: u16) -> Response {
    request(rport, "GET", "/2018-06-01/runtime/invocation/next", &[], b"")
}

#[test]
fn an_event_reaches_the_runtime_and_its_response_reaches_the_caller() {
    let (_emu, iport, rport) = external(Duration::from_secs(5));
    let runtime = thread::spawn(move || {
        let inv = next(rport);
        let id = inv.header("Lambda-Runtime-Aws-Request-Id").unwrap().to_string();
        assert!(
            inv.header("Lambda-Runtime-Deadline-Ms")
                .unwrap()
                .parse::<u128>()
                .unwrap()
                > 0
        );
        assert!(inv
            .header("Lambda-Runtime-Invoked-Function-Arn")
            .unwrap()
            .starts_with("arn:aws:lambda:"));
        assert_eq!(inv.header("Lambda-Runtime-Trace-Id"), Some("Root=1-abc"));
        let echo = format!("{{\"got\":{}}}", inv.body());
        let res = request(
            rport,
            "POST",
            &format!("/2018-06-01/runtime/invocation/{id}/response"),
            &[],
            echo.as_bytes(),
        );
        assert_eq!(res.status, 202);
        id
    });
    let res = request(
        iport,
        "POST",
        INVOKE,
        &[("X-Amzn-Trace-Id", "Root=1-abc")],
        br#"{"n":1}"#,
    );
    let id = runtime.join().unwrap();
    assert_eq!(res.status, 200);
    assert_eq!(res.body(), r#"{"got":{"n":1}}"#);
    assert_eq!(res.header("X-Amz-Function-Error"), None);
    assert_eq!(res.header("X-Amzn-RequestId"), Some(id.as_str()));
}

#[test]
fn a_function_error_comes_back_with_x_amz_function_error() {
    let (_emu, iport, rport) = external(Duration::from_secs(5));
    thread::spawn(move || {
        let inv = next(rport);
        let id = inv.header("Lambda-Runtime-Aws-Request-Id").unwrap().to_string();
        let body = br#"{"errorType":"Error","errorMessage":"boom"}"#;
        let hdr = [("Lambda-Runtime-Function-Error-Type", "Error")];
        request(
            rport,
            "POST",
            &format!("/2018-06-01/runtime/invocation/{id}/error"),
            &hdr,
            body,
        );
    });
    let res = request(iport, "POST", INVOKE, &[], b"{}");
    assert_eq!(res.status, 200);
    assert_eq!(res.header("X-Amz-Function-Error"), Some("Unhandled"));
    assert_eq!(res.json()["errorMessage"], "boom");
}

#[test]
fn a_streamed_response_passes_through_with_its_error_trailers() {
    let (_emu, iport, rport) = external(Duration::from_secs(5));
    let runtime = thread::spawn(move || {
        let inv = next(rport);
        let id = inv.header("Lambda-Runtime-Aws-Request-Id").unwrap().to_string();
        let mut s = TcpStream::connect(("127.0.0.1", rport)).unwrap();
        let head = format!(
            "POST /2018-06-01/runtime/invocation/{id}/response HTTP/1.1\r\nHost: x\r\n\
             Lambda-Runtime-Function-Response-Mode: streaming\r\nContent-Type: text/plain\r\n\
             Transfer-Encoding: chunked\r\nTrailer: Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body\r\n\r\n"
        );
        s.write_all(head.as_bytes()).unwrap();
        s.write_all(b"5\r\nhello\r\n").unwrap();
        thread::sleep(Duration::from_millis(50));
        s.write_all(b"6\r\n world\r\n").unwrap();
        s.write_all(b"0\r\nLambda-Runtime-Function-Error-Type: Error\r\nLambda-Runtime-Function-Error-Body: eyJlcnJvck1lc3NhZ2UiOiJsYXRlIn0=\r\n\r\n").unwrap();
        read_response(&mut BufReader::new(s)).status
    });
    let res = request(
        iport,
        "POST",
        "/2021-11-15/functions/function/response-streaming-invocations",
        &[],
        b"{}",
    );
    assert_eq!(runtime.join().unwrap(), 202);
    assert_eq!(res.header("Content-Type"), Some("text/plain"));
    assert_eq!(res.body(), "hello world");
    assert!(res.chunks.len() >= 2, "chunks arrive as sent: {:?}", res.chunks);
    let t = |n: &str| res.trailers.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
    assert_eq!(t("X-Amz-Function-Error").as_deref(), Some("Unhandled"));
    assert_eq!(t("Lambda-Runtime-Function-Error-Type").as_deref(), Some("Error"));
}

#[test]
fn an_invocation_past_its_timeout_gets_lambdas_timeout_error() {
    let (_emu, iport, rport) = external(Duration::from_millis(200));
    let runtime = thread::spawn(move || {
        let inv = next(rport);
        let id = inv.header("Lambda-Runtime-Aws-Request-Id").unwrap().to_string();
        thread::sleep(Duration::from_millis(400));
        request(
            rport,
            "POST",
            &format!("/2018-06-01/runtime/invocation/{id}/response"),
            &[],
            b"late",
        )
        .status
    });
    let res = request(iport, "POST", INVOKE, &[], b"{}");
    assert_eq!(res.header("X-Amz-Function-Error"), Some("Unhandled"));
    assert_eq!(res.json()["errorType"], "Sandbox.Timedout");
    assert!(res.json()["errorMessage"]
        .as_str()
        .unwrap()
        .ends_with("Task timed out after 0.20 seconds"));
    assert_eq!(runtime.join().unwrap(), 400, "a late response is refused");
}

#[test]
fn concurrent_invocations_are_queued_and_served_in_order() {
    let (_emu, iport, rport) = external(Duration::from_secs(5));
    let runtime = thread::spawn(move || {
        let mut seen = Vec::new();
        for _ in 0..3 {
            let inv = next(rport);
            let id = inv.header("Lambda-Runtime-Aws-Request-Id").unwrap().to_string();
            seen.push(inv.body());
            request(
                rport,
                "POST",
                &format!("/2018-06-01/runtime/invocation/{id}/response"),
                &[],
                inv.body().as_bytes(),
            );
        }
        seen
    });
    let mut callers = Vec::new();
    for n in 0..3 {
        callers.push(thread::spawn(move || {
            request(iport, "POST", INVOKE, &[], format!("{n}").as_bytes()).body()
        }));
        thread::sleep(Duration::from_millis(30));
    }
    let answers: Vec<String> = callers.into_iter().map(|c| c.join().unwrap()).collect();
    assert_eq!(answers, vec!["0", "1", "2"]);
    assert_eq!(runtime.join().unwrap(), vec!["0", "1", "2"]);
}

#[test]
fn bad_invoke_requests_get_lambdas_errors_and_the_server_keeps_serving() {
    let (_emu, iport, rport) = external(Duration::from_secs(5));
    let res = request(iport, "POST", INVOKE, &[], b"{not json");
    assert_eq!(res.status, 400);
    assert_eq!(
        res.header("x-amzn-ErrorType"),
        Some("InvalidRequestContentException")
    );
    assert!(res.json()["message"]
        .as_str()
        .unwrap()
        .starts_with("Could not parse request body into json"));
    let res = request(iport, "GET", "/nope", &[], b"");
    assert_eq!(res.status, 404);
    let big = vec![b' '; MAX_INVOKE_PAYLOAD + 1];
    let res = request(iport, "POST", INVOKE, &[], &big);
    assert_eq!(res.status, 413);
    assert_eq!(
        res.header("x-amzn-ErrorType"),
        Some("RequestEntityTooLargeException")
    );
    // Still serving.
    thread::spawn(move || {
        let inv = next(rport);
        let id = inv.header("Lambda-Runtime-Aws-Request-Id").unwrap().to_string();
        request(
            rport,
            "POST",
            &format!("/2018-06-01/runtime/invocation/{id}/response"),
            &[],
            b"\"ok\"",
        );
    });
    assert_eq!(request(iport, "POST", INVOKE, &[], b"").body(), "\"ok\"");
}

#[test]
fn an_oversized_function_response_is_refused_with_413_and_the_caller_told() {
    let (_emu, iport, rport) = external(Duration::from_secs(5));
    let runtime = thread::spawn(move || {
        let inv = next(rport);
        let id = inv.header("Lambda-Runtime-Aws-Request-Id").unwrap().to_string();
        let big = vec![b'x'; MAX_RUNTIME_RESPONSE + 1];
        request(
            rport,
            "POST",
            &format!("/2018-06-01/runtime/invocation/{id}/response"),
            &[],
            &big,
        )
        .status
    });
    let res = request(iport, "POST", INVOKE, &[], b"{}");
    assert_eq!(runtime.join().unwrap(), 413);
    assert_eq!(res.json()["errorType"], "Function.ResponseSizeTooLarge");
}

#[cfg(unix)]
#[test]
fn a_runtime_that_exits_during_init_fails_the_waiting_invocation_with_runtime_exit_error() {
    let emu = Emulator::start(EmulatorConfig {
        command: Some(vec!["sh".into(), "-c".into(), "exit 3".into()]),
        ..quiet()
    })
    .unwrap();
    // The runtime started at start-up fails with nobody waiting; the invoke starts a new one.
    wait_until(|| emu.stats().init_errors == 1);
    let res = request(emu.invoke_port(), "POST", INVOKE, &[], b"{}");
    assert_eq!(res.header("X-Amz-Function-Error"), Some("Unhandled"));
    assert_eq!(res.json()["errorType"], "Runtime.ExitError");
    assert!(res.json()["errorMessage"]
        .as_str()
        .unwrap()
        .ends_with("Runtime exited with error: exit status 3"));
    assert_eq!(emu.stats().runtimes_started, 2, "the invoke retried init");
}

#[cfg(unix)]
#[test]
fn stop_kills_the_runtime_and_closes_the_invoke_port() {
    let emu = Emulator::start(EmulatorConfig {
        command: Some(vec!["sleep".into(), "30".into()]),
        ..quiet()
    })
    .unwrap();
    let port = emu.invoke_port();
    wait_until(|| emu.instances.0[0].lock().runtime.pid.is_some());
    let pid = {
        let st = emu.instances.0[0].lock();
        st.runtime.pid.unwrap()
    };
    assert!(std::path::Path::new(&format!("/proc/{pid}")).exists());
    emu.stop();
    assert!(
        !std::path::Path::new(&format!("/proc/{pid}")).exists(),
        "runtime {pid} reaped"
    );
    let refused = TcpStream::connect(("127.0.0.1", port)).map(|mut s| {
        let _ = s.write_all(b"GET / HTTP/1.1\r\n\r\n");
        let mut buf = [0u8; 1];
        s.read(&mut buf).unwrap_or(0)
    });
    assert!(matches!(refused, Err(_) | Ok(0)));
}

#[test]
fn with_multi_concurrency_two_invocations_are_in_flight_at_once() {
    let (_emu, iport, rport) = external_with(EmulatorConfig {
        max_concurrency: 2,
        ..quiet()
    });
    // Two runtime workers each take one event and hold it until both have one.
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(2));
    let workers: Vec<_> = (0..2)
        .map(|_| {
            let barrier = barrier.clone();
            thread::spawn(move || {
                let inv = next(rport);
                let id = inv.header("Lambda-Runtime-Aws-Request-Id").unwrap().to_string();
                barrier.wait();
                let path = format!("/2018-06-01/runtime/invocation/{id}/response");
                request(rport, "POST", &path, &[], inv.body().as_bytes()).status
            })
        })
        .collect();
    let callers: Vec<_> = (0..2)
        .map(|n| thread::spawn(move || request(iport, "POST", INVOKE, &[], format!("{n}").as_bytes()).body()))
        .collect();
    let mut answers: Vec<String> = callers.into_iter().map(|c| c.join().unwrap()).collect();
    answers.sort();
    assert_eq!(answers, vec!["0", "1"]);
    for w in workers {
        assert_eq!(w.join().unwrap(), 202);
    }
}

#[test]
fn the_runtime_api_refuses_what_lambda_refuses() {
    let (_emu, iport, rport) = external(Duration::from_secs(5));
    // A response for an invocation nobody gave out.
    let res = request(
        rport,
        "POST",
        "/2018-06-01/runtime/invocation/nope/response",
        &[],
        b"{}",
    );
    assert_eq!(res.status, 400);
    assert_eq!(res.json()["errorType"], "InvalidRequestID");
    // An unknown Runtime API path.
    let res = request(rport, "GET", "/2018-06-01/runtime/whatever", &[], b"");
    assert_eq!(res.status, 404);
    // init/error after init is over (the first GET next ended it).
    let runtime = thread::spawn(move || {
        let inv = next(rport);
        let id = inv.header("Lambda-Runtime-Aws-Request-Id").unwrap().to_string();
        let late = request(rport, "POST", "/2018-06-01/runtime/init/error", &[], b"{}");
        let path = format!("/2018-06-01/runtime/invocation/{id}/response");
        let first = request(rport, "POST", &path, &[], b"1").status;
        let second = request(rport, "POST", &path, &[], b"2").status;
        (late, first, second)
    });
    assert_eq!(request(iport, "POST", INVOKE, &[], b"{}").body(), "1");
    let (late, first, second) = runtime.join().unwrap();
    assert_eq!(late.status, 403);
    assert_eq!(late.json()["errorType"], "InvalidStateTransition");
    assert_eq!((first, second), (202, 400), "an invocation is answered once");
}

/// Writes `bytes` on a new connection and reads everything until the server closes: the raw
/// answer, or the read error (a reset) that ended it.
fn raw_exchange(port: u16, bytes: &[u8]) -> (Vec<u8>, Option<std::io::Error>) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let writer = {
        let mut s = s.try_clone().unwrap();
        let bytes = bytes.to_vec();
        thread::spawn(move || {
            let _ = s.write_all(&bytes);
        })
    };
    // Let the server read, answer and close before we read: a reset arrives first if it comes.
    thread::sleep(Duration::from_millis(200));
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    let error = loop {
        match s.read(&mut buf) {
            Ok(0) => break None,
            Ok(n) => answer.extend_from_slice(&buf[..n]),
            Err(e) => break Some(e),
        }
    };
    let _ = writer.join();
    (answer, error)
}

#[test]
fn an_invoke_with_conflicting_content_lengths_is_refused_with_400_and_the_connection_closed() {
    let (emu, iport, _rport) = external(Duration::from_secs(5));
    // Read with the first length, the rest would be a second request: RFC 9112 section 6.3.
    let smuggled = format!(
        "POST {INVOKE} HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 60\r\n\r\n{{}}\
         POST {INVOKE} HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{{}}"
    );
    let (answer, error) = raw_exchange(iport, smuggled.as_bytes());
    let text = String::from_utf8_lossy(&answer);
    assert!(error.is_none(), "closed, not reset: {error:?}");
    assert!(text.starts_with("HTTP/1.1 400 "), "{text}");
    assert!(text.contains("Content-Length"), "{text}");
    assert_eq!(
        text.matches("HTTP/1.1").count(),
        1,
        "one answer, then the close: {text}"
    );
    assert_eq!(emu.stats().invocations, 0, "nothing was invoked");
}

#[test]
fn a_request_head_over_the_limit_gets_its_400_rather_than_a_reset() {
    let (_emu, iport, rport) = external(Duration::from_secs(5));
    for port in [iport, rport] {
        let head = format!(
            "POST {INVOKE} HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\nContent-Length: 2\r\n\r\n{{}}",
            "a".repeat(200 * 1024)
        );
        let (answer, error) = raw_exchange(port, head.as_bytes());
        let text = String::from_utf8_lossy(&answer);
        assert!(error.is_none(), "closed, not reset: {error:?}");
        assert!(text.starts_with("HTTP/1.1 400 "), "{text}");
    }
}
