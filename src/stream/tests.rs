//! The streamed response end to end, against a Runtime API on 127.0.0.1.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use super::*;
use crate::base64;

const ANSWER_202: &[u8] =
    b"HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\nContent-Length: 15\r\n\r\n{\"status\":\"OK\"}";

/// Reads one chunked request off the socket exactly as sent: head, chunks, trailers.
fn read_raw_request(r: &mut impl BufRead) -> Vec<u8> {
    let mut raw = Vec::new();
    loop {
        let n = r.read_until(b'\n', &mut raw).unwrap();
        assert!(
            n > 0,
            "connection closed inside the head: {:?}",
            String::from_utf8_lossy(&raw)
        );
        if raw.ends_with(b"\r\n\r\n") {
            break;
        }
    }
    loop {
        let start = raw.len();
        r.read_until(b'\n', &mut raw).unwrap();
        let line = String::from_utf8(raw[start..].to_vec()).unwrap();
        let size = usize::from_str_radix(line.trim_end(), 16).expect("chunk size line");
        if size == 0 {
            loop {
                let start = raw.len();
                r.read_until(b'\n', &mut raw).unwrap();
                if &raw[start..] == b"\r\n" {
                    return raw;
                }
            }
        }
        let start = raw.len();
        raw.resize(start + size + 2, 0);
        r.read_exact(&mut raw[start..]).unwrap();
        assert_eq!(&raw[raw.len() - 2..], b"\r\n");
    }
}

/// A Runtime API on 127.0.0.1 that records one raw request and answers it with `answer`.
fn serve_one(answer: &'static [u8]) -> (String, thread::JoinHandle<Vec<u8>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = listener.local_addr().unwrap().to_string();
    let handle = thread::spawn(move || {
        let (sock, _) = listener.accept().unwrap();
        let mut reader = BufReader::new(&sock);
        let raw = read_raw_request(&mut reader);
        (&sock).write_all(answer).unwrap();
        raw
    });
    (endpoint, handle)
}

fn head(endpoint: &str, path: &str, content_type: &str) -> String {
    format!(
        "POST {path} HTTP/1.1\r\nHost: {endpoint}\r\nUser-Agent: lambda-rapid/0.1\r\n\
         Lambda-Runtime-Function-Response-Mode: streaming\r\nContent-Type: {content_type}\r\n\
         Transfer-Encoding: chunked\r\n\
         Trailer: Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body\r\n\r\n"
    )
}

fn open(endpoint: &str, id: &str, content_type: &str, high_water: usize) -> ResponseStream<Vec<u8>> {
    let target = StreamTarget::for_response(endpoint, id).unwrap();
    ResponseStream::start(target, content_type, high_water).unwrap()
}

fn end_and_wait(s: &mut ResponseStream<Vec<u8>>, how: StreamEnd) -> Result<StreamAnswer, RuntimeApiError> {
    let (tx, rx) = mpsc::channel();
    s.end(how, move |r| tx.send(r).unwrap());
    rx.recv_timeout(Duration::from_secs(10)).unwrap()
}

#[test]
fn streaming_target_keeps_prefix_and_encodes_the_request_id() {
    let t = StreamTarget::for_response("http://127.0.0.1:9001/.rt/", "a/b c").unwrap();
    assert_eq!(t.authority, "127.0.0.1:9001");
    assert_eq!(t.path, "/.rt/2018-06-01/runtime/invocation/a%2Fb%20c/response");
    let err = StreamTarget::for_response("nope", "id").unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidEndpoint);
}

#[test]
fn streaming_chunks_are_sent_byte_for_byte() {
    let (endpoint, server) = serve_one(ANSWER_202);
    let mut s = open(&endpoint, "req-1", DEFAULT_CONTENT_TYPE, 1 << 20);
    assert!(s.write(vec![b"chunk-1;".to_vec()]).unwrap());
    assert!(
        s.write(vec![Vec::new()]).unwrap(),
        "an empty write is not an error"
    );
    assert!(s.write(vec![b"chunk-".to_vec(), b"2;".to_vec()]).unwrap());
    let answer = end_and_wait(&mut s, StreamEnd::Complete).unwrap();
    assert_eq!(answer.status, 202);
    assert_eq!(answer.body, b"{\"status\":\"OK\"}");
    let raw = String::from_utf8(server.join().unwrap()).unwrap();
    let path = "/2018-06-01/runtime/invocation/req-1/response";
    // Chunks may be coalesced into one write, but each write stays one HTTP chunk.
    let expected = format!(
        "{}8\r\nchunk-1;\r\n8\r\nchunk-2;\r\n0\r\n\r\n",
        head(&endpoint, path, "application/octet-stream")
    );
    assert_eq!(raw, expected);
}

#[test]
fn streaming_large_chunks_pass_through_intact() {
    let (endpoint, server) = serve_one(ANSWER_202);
    let mut s = open(&endpoint, "big", "text/plain", 1 << 20);
    let big: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    s.write(vec![b"small".to_vec(), big.clone()]).unwrap();
    end_and_wait(&mut s, StreamEnd::Complete).unwrap();
    let raw = server.join().unwrap();
    let mut expected = head(
        &endpoint,
        "/2018-06-01/runtime/invocation/big/response",
        "text/plain",
    )
    .into_bytes();
    expected.extend_from_slice(format!("{:x}\r\nsmall", 200_005).as_bytes());
    expected.extend_from_slice(&big);
    expected.extend_from_slice(b"\r\n0\r\n\r\n");
    assert_eq!(raw.len(), expected.len());
    assert!(raw == expected);
}

#[test]
fn streaming_failure_ends_with_error_trailers() {
    let (endpoint, server) = serve_one(ANSWER_202);
    let mut s = open(&endpoint, "req-2", "application/octet-stream", 1 << 20);
    s.write(vec![b"partial;".to_vec()]).unwrap();
    let json = br#"{"errorType":"Error","errorMessage":"failed mid-stream","trace":[]}"#;
    let how = StreamEnd::Failed {
        error_type: "Error".into(),
        error_json: json.to_vec(),
    };
    end_and_wait(&mut s, how).unwrap();
    let raw = String::from_utf8(server.join().unwrap()).unwrap();
    let expected = format!(
        "{}8\r\npartial;\r\n0\r\nLambda-Runtime-Function-Error-Type: Error\r\n\
         Lambda-Runtime-Function-Error-Body: {}\r\n\r\n",
        head(
            &endpoint,
            "/2018-06-01/runtime/invocation/req-2/response",
            "application/octet-stream"
        ),
        base64::encode(json)
    );
    assert_eq!(raw, expected);
}

#[test]
fn streaming_failure_before_any_write_sends_only_trailers() {
    let (endpoint, server) = serve_one(ANSWER_202);
    let mut s = open(&endpoint, "req-3", "text/plain\r\nX-Evil: 1", 1 << 20);
    let how = StreamEnd::Failed {
        error_type: "Runtime.Bad\nType".into(),
        error_json: b"{}".to_vec(),
    };
    end_and_wait(&mut s, how).unwrap();
    let raw = String::from_utf8(server.join().unwrap()).unwrap();
    let expected = format!(
        "{}0\r\nLambda-Runtime-Function-Error-Type: Runtime.Bad?Type\r\n\
         Lambda-Runtime-Function-Error-Body: e30=\r\n\r\n",
        head(
            &endpoint,
            "/2018-06-01/runtime/invocation/req-3/response",
            "text/plain??X-Evil: 1"
        ),
    );
    assert_eq!(raw, expected);
}

#[test]
fn streaming_refusal_is_a_status_error_with_the_body() {
    let answer: &'static [u8] = b"HTTP/1.1 413 Payload Too Large\r\nTransfer-Encoding: chunked\r\n\r\n\
          5\r\n{\"err\r\n6\r\nor\":1}\r\n0\r\n\r\n";
    let (endpoint, server) = serve_one(answer);
    let mut s = open(&endpoint, "req-4", DEFAULT_CONTENT_TYPE, 1 << 20);
    s.write(vec![b"x".to_vec()]).unwrap();
    let err = end_and_wait(&mut s, StreamEnd::Complete).unwrap_err();
    assert_eq!(err.code, ErrorCode::Status);
    assert_eq!(err.status, Some(413));
    assert_eq!(err.body.as_deref(), Some("{\"error\":1}"));
    server.join().unwrap();
    assert!(
        s.write(vec![b"late".to_vec()]).is_err(),
        "a finished stream refuses writes"
    );
}

#[test]
fn streaming_unreachable_api_is_reported_and_never_blocks_writers() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = listener.local_addr().unwrap().to_string();
    drop(listener);
    let mut s = open(&endpoint, "req-5", DEFAULT_CONTENT_TYPE, 4);
    let _ = s.write(vec![b"more than four".to_vec()]);
    let (tx, rx) = mpsc::channel();
    s.when_drained(move || tx.send(()).unwrap());
    rx.recv_timeout(Duration::from_secs(10))
        .expect("a broken stream wakes its writer");
    let err = end_and_wait(&mut s, StreamEnd::Complete).unwrap_err();
    assert_eq!(err.code, ErrorCode::Unreachable);
    assert!(s.write(vec![b"x".to_vec()]).is_err());
}

#[test]
fn streaming_connection_closed_mid_body_is_an_error() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = listener.local_addr().unwrap().to_string();
    let server = thread::spawn(move || {
        let (sock, _) = listener.accept().unwrap();
        let mut r = BufReader::new(&sock);
        let mut line = String::new();
        r.read_line(&mut line).unwrap();
        // close without answering
    });
    let mut s = open(&endpoint, "req-6", DEFAULT_CONTENT_TYPE, 1 << 20);
    s.write(vec![b"hello".to_vec()]).unwrap();
    server.join().unwrap();
    let err = end_and_wait(&mut s, StreamEnd::Complete).unwrap_err();
    assert!(
        matches!(err.code, ErrorCode::Unreachable | ErrorCode::Protocol),
        "{err}"
    );
}

#[test]
fn streaming_slow_server_causes_backpressure_then_drains() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = listener.local_addr().unwrap().to_string();
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let server = thread::spawn(move || {
        let (sock, _) = listener.accept().unwrap();
        go_rx.recv().unwrap(); // the server does not read until told to
        let raw = read_raw_request(&mut BufReader::new(&sock));
        (&sock).write_all(ANSWER_202).unwrap();
        raw
    });
    const CHUNK: usize = 256 * 1024;
    const TOTAL_CHUNKS: usize = 128; // 32 MiB: more than loopback socket buffers hold
    let mut s = open(&endpoint, "slow", DEFAULT_CONTENT_TYPE, 1 << 20);
    let mut go = Some(go_tx);
    let mut saw_full = false;
    let mut stalled = false;
    for i in 0..TOTAL_CHUNKS {
        let room = s.write(vec![vec![(i % 256) as u8; CHUNK]]).unwrap();
        if room {
            continue;
        }
        saw_full = true;
        let (tx, rx) = mpsc::channel();
        s.when_drained(move || {
            let _ = tx.send(());
        });
        match rx.recv_timeout(Duration::from_millis(200)) {
            Ok(()) => continue,
            Err(RecvTimeoutError::Timeout) => {
                // The socket is full and the server is not reading: the queue must stay
                // bounded while we wait.
                stalled = true;
                assert!(
                    s.queued_bytes() <= (1 << 20) + CHUNK,
                    "queue grew to {}",
                    s.queued_bytes()
                );
                if let Some(go) = go.take() {
                    go.send(()).unwrap();
                }
                rx.recv_timeout(Duration::from_secs(10))
                    .expect("drained once the server reads");
            }
            Err(e) => panic!("{e}"),
        }
    }
    if let Some(go) = go.take() {
        go.send(()).unwrap();
    }
    end_and_wait(&mut s, StreamEnd::Complete).unwrap();
    assert!(saw_full && stalled, "full={saw_full} stalled={stalled}");
    let raw = server.join().unwrap();
    let body_start = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    let mut pos = body_start;
    for i in 0..TOTAL_CHUNKS {
        let size_line = format!("{CHUNK:x}\r\n");
        assert_eq!(
            &raw[pos..pos + size_line.len()],
            size_line.as_bytes(),
            "chunk {i}"
        );
        pos += size_line.len();
        assert!(
            raw[pos..pos + CHUNK].iter().all(|&b| b == (i % 256) as u8),
            "chunk {i} data"
        );
        pos += CHUNK + 2;
    }
    assert_eq!(&raw[pos..], b"0\r\n\r\n");
}

/// A chunk that records the thread it is dropped on.
struct Tracked(Vec<u8>, Arc<Mutex<Vec<thread::ThreadId>>>);
impl AsRef<[u8]> for Tracked {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}
impl Drop for Tracked {
    fn drop(&mut self) {
        lock(&self.1).push(thread::current().id());
    }
}

#[test]
fn streaming_spent_chunks_are_dropped_on_the_writing_thread() {
    let (endpoint, server) = serve_one(ANSWER_202);
    let target = StreamTarget::for_response(&endpoint, "spent").unwrap();
    let mut s: ResponseStream<Tracked> =
        ResponseStream::start(target, DEFAULT_CONTENT_TYPE, 1 << 20).unwrap();
    let drops = Arc::new(Mutex::new(Vec::new()));
    s.write(vec![Tracked(b"one".to_vec(), drops.clone())]).unwrap();
    let (tx, rx) = mpsc::channel();
    s.end(StreamEnd::Complete, move |r| tx.send(r).unwrap());
    rx.recv_timeout(Duration::from_secs(10)).unwrap().unwrap();
    assert!(lock(&drops).is_empty(), "dropped by the worker");
    s.spent_chunks().reclaim();
    assert_eq!(*lock(&drops), vec![thread::current().id()]);
    assert_eq!(
        String::from_utf8(server.join().unwrap())
            .unwrap()
            .split("\r\n\r\n")
            .nth(1),
        Some("3\r\none\r\n0")
    );
}

#[test]
fn streaming_connection_is_kept_for_the_next_stream() {
    // Each stream after the first starts on the kept connection, where a small first write
    // goes out from the caller's thread: every shape of stream must still be byte-exact.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = listener.local_addr().unwrap().to_string();
    let server = thread::spawn(move || {
        let (sock, _) = listener.accept().unwrap();
        let mut reader = BufReader::new(&sock);
        let mut raws = Vec::new();
        for _ in 0..4 {
            raws.push(read_raw_request(&mut reader));
            (&sock).write_all(ANSWER_202).unwrap();
        }
        // A second connection would wait here forever: none is accepted.
        raws
    });
    let big = vec![b'z'; 3 * COALESCE_MAX];
    let path = |id: &str| format!("/2018-06-01/runtime/invocation/{id}/response");
    // The request as it must arrive: head, one HTTP chunk per write, the last chunk.
    let request = |id: &str, content_type: &str, writes: &[&[u8]]| {
        let mut out = head(&endpoint, &path(id), content_type).into_bytes();
        for data in writes {
            out.extend_from_slice(format!("{:x}\r\n", data.len()).as_bytes());
            out.extend_from_slice(data);
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"0\r\n\r\n");
        out
    };
    let mut expected = Vec::new();

    let mut s = open(&endpoint, "first", DEFAULT_CONTENT_TYPE, 1 << 20);
    s.write(vec![b"first".to_vec()]).unwrap();
    assert_eq!(end_and_wait(&mut s, StreamEnd::Complete).unwrap().status, 202);
    expected.push(request("first", DEFAULT_CONTENT_TYPE, &[b"first"]));

    // small first write (sent from here), then a large one (through the queue)
    let mut s = open(&endpoint, "second", "text/plain", 1 << 20);
    s.write(vec![b"ab".to_vec(), b"c".to_vec()]).unwrap();
    s.write(vec![big.clone()]).unwrap();
    assert_eq!(end_and_wait(&mut s, StreamEnd::Complete).unwrap().status, 202);
    expected.push(request("second", "text/plain", &[b"abc", &big]));

    // a large first write: left to the upload thread
    let mut s = open(&endpoint, "third", DEFAULT_CONTENT_TYPE, 1 << 20);
    s.write(vec![big.clone()]).unwrap();
    assert_eq!(end_and_wait(&mut s, StreamEnd::Complete).unwrap().status, 202);
    expected.push(request("third", DEFAULT_CONTENT_TYPE, &[&big]));

    // no write at all, then a failure
    let mut s = open(&endpoint, "fourth", DEFAULT_CONTENT_TYPE, 1 << 20);
    let how = StreamEnd::Failed {
        error_type: "E".into(),
        error_json: b"{}".to_vec(),
    };
    assert_eq!(end_and_wait(&mut s, how).unwrap().status, 202);
    expected.push(
        format!(
            "{}0\r\nLambda-Runtime-Function-Error-Type: E\r\nLambda-Runtime-Function-Error-Body: e30=\r\n\r\n",
            head(&endpoint, &path("fourth"), DEFAULT_CONTENT_TYPE)
        )
        .into_bytes(),
    );

    let raws = server.join().unwrap();
    for (raw, want) in raws.iter().zip(&expected) {
        assert_eq!(String::from_utf8_lossy(raw), String::from_utf8_lossy(want));
    }
}

#[test]
fn streaming_a_connection_closed_while_idle_is_replaced() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = listener.local_addr().unwrap().to_string();
    let server = thread::spawn(move || {
        let mut raws = Vec::new();
        for _ in 0..2 {
            let (sock, _) = listener.accept().unwrap();
            raws.push(read_raw_request(&mut BufReader::new(&sock)));
            (&sock).write_all(ANSWER_202).unwrap();
            // closes the connection after one answer, as a server with a short keep-alive does
        }
        raws
    });
    for id in ["one", "two"] {
        let mut s = open(&endpoint, id, DEFAULT_CONTENT_TYPE, 1 << 20);
        s.write(vec![id.as_bytes().to_vec()]).unwrap();
        assert_eq!(end_and_wait(&mut s, StreamEnd::Complete).unwrap().status, 202);
        thread::sleep(Duration::from_millis(50)); // the server's FIN arrives
    }
    assert_eq!(server.join().unwrap().len(), 2);
}

#[test]
fn streaming_dropped_stream_aborts_the_request() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = listener.local_addr().unwrap().to_string();
    let server = thread::spawn(move || {
        let (sock, _) = listener.accept().unwrap();
        let mut all = Vec::new();
        let _ = (&sock).read_to_end(&mut all);
        all
    });
    let mut s = open(&endpoint, "gone", DEFAULT_CONTENT_TYPE, 1 << 20);
    s.write(vec![b"abc".to_vec()]).unwrap();
    drop(s);
    let raw = String::from_utf8(server.join().unwrap()).unwrap();
    assert!(raw.ends_with("3\r\nabc\r\n"), "{raw:?}");
}
