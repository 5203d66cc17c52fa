//! A Runtime API for the wire tests of both GET next paths (the blocking client's,
//! src/client/wire_tests.rs, and the event loop's, src/next/polled_tests.rs): a real HTTP/1.1
//! server on 127.0.0.1 (a std `TcpListener`, no HTTP library between us and the bytes), so that
//! framing, header case, keep-alive and connection drops are exactly what a test writes, not what
//! a server library would choose to send.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;

use super::RuntimeApiClient;
use crate::invocation::Invocation;

pub(crate) const ARN: &str = "arn:aws:lambda:us-east-1:123456789012:function:f";
pub(crate) const DEADLINE: &str = "1700000000000";

/// One request as the server read it off the wire.
#[derive(Debug, Clone)]
pub(crate) struct Seen {
    /// Index of the TCP connection it came on (0 = first accepted).
    pub(crate) connection: usize,
    pub(crate) method: String,
    pub(crate) path: String,
    /// Names lowercased, in arrival order.
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
}

impl Seen {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// What the server does with a request.
pub(crate) enum Answer {
    /// Writes these exact bytes (status line, headers, body) and keeps the connection open.
    Raw(Vec<u8>),
    /// Writes these bytes, then closes the connection (without a `Connection: close` header).
    RawThenClose(Vec<u8>),
    /// Closes the connection without answering: a keep-alive connection the server dropped.
    Close,
    /// Writes these bytes, then resets the connection (RST, not FIN).
    RawThenReset(Vec<u8>),
    /// Writes these pieces with a pause before each but the first, and keeps the connection open.
    Slowly(Vec<Vec<u8>>),
}

pub(crate) type Handler = dyn Fn(&Seen, usize) -> Answer + Send + Sync;

pub(crate) struct Server {
    pub(crate) endpoint: String,
    accepted: Arc<AtomicUsize>,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Server {
    /// Starts a server on a free port; `handler` gets each request and its index over all
    /// connections. Threads end with the test process (they block on accept/read).
    pub(crate) fn start(handler: impl Fn(&Seen, usize) -> Answer + Send + Sync + 'static) -> Server {
        Server::start_with_prefix("", handler)
    }

    pub(crate) fn start_with_prefix(
        prefix: &str,
        handler: impl Fn(&Seen, usize) -> Answer + Send + Sync + 'static,
    ) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let port = listener.local_addr().expect("local addr").port();
        let accepted = Arc::new(AtomicUsize::new(0));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let handler: Arc<Handler> = Arc::new(handler);
        {
            let accepted = accepted.clone();
            let seen = seen.clone();
            thread::spawn(move || {
                for stream in listener.incoming() {
                    let Ok(stream) = stream else { return };
                    let connection = accepted.fetch_add(1, Ordering::SeqCst);
                    let seen = seen.clone();
                    let handler = handler.clone();
                    thread::spawn(move || serve(stream, connection, &seen, &*handler));
                }
            });
        }
        Server {
            endpoint: format!("127.0.0.1:{port}{prefix}"),
            accepted,
            seen,
        }
    }

    /// Answers the first request with `first`, then as [`lambda_like`].
    pub(crate) fn first_then_lambda_like(first: Answer) -> Server {
        let first = Mutex::new(Some(first));
        Server::start(move |seen, index| {
            first
                .lock()
                .expect("lock")
                .take()
                .unwrap_or_else(|| lambda_like(seen, index))
        })
    }

    pub(crate) fn client(&self) -> RuntimeApiClient {
        RuntimeApiClient::new(&self.endpoint).expect("valid endpoint")
    }

    pub(crate) fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }

    pub(crate) fn seen(&self) -> Vec<Seen> {
        self.seen.lock().expect("lock").clone()
    }
}

pub(crate) fn serve(stream: TcpStream, connection: usize, seen: &Mutex<Vec<Seen>>, handler: &Handler) {
    let mut writer = stream.try_clone().expect("clone stream");
    let mut reader = BufReader::new(stream);
    loop {
        let Some(request) = read_request(&mut reader, connection) else {
            return;
        };
        let index = {
            let mut all = seen.lock().expect("lock");
            all.push(request.clone());
            all.len() - 1
        };
        match handler(&request, index) {
            Answer::Raw(bytes) => {
                if writer.write_all(&bytes).is_err() {
                    return;
                }
            }
            Answer::RawThenClose(bytes) => {
                let _ = writer.write_all(&bytes);
                let _ = writer.shutdown(std::net::Shutdown::Both);
                return;
            }
            Answer::Close => {
                let _ = writer.shutdown(std::net::Shutdown::Both);
                return;
            }
            Answer::RawThenReset(bytes) => {
                let _ = writer.write_all(&bytes);
                // Let the bytes arrive first: a reset discards what the peer has not read.
                thread::sleep(std::time::Duration::from_millis(50));
                reset(&writer);
                return; // the close (reader and writer) sends the RST
            }
            Answer::Slowly(pieces) => {
                for (i, piece) in pieces.iter().enumerate() {
                    if i > 0 {
                        thread::sleep(std::time::Duration::from_millis(30));
                    }
                    if writer.write_all(piece).and_then(|_| writer.flush()).is_err() {
                        return;
                    }
                }
            }
        }
    }
}

/// Makes the close of `stream`'s socket a reset: SO_LINGER on, with a zero timeout.
pub(crate) fn reset(stream: &TcpStream) {
    use std::os::fd::AsRawFd;
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: a valid socket and a linger struct of the size given.
    unsafe {
        libc::setsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&linger as *const libc::linger).cast(),
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        );
    }
    // The RST goes out when `serve` returns and drops the last descriptor of the socket.
}

/// Reads one request (sized or chunked body); `None` when the client closed the connection.
pub(crate) fn read_request(reader: &mut BufReader<TcpStream>, connection: usize) -> Option<Seen> {
    let mut line = String::new();
    if reader.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_string();
    let path = parts.next()?.to_string();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        reader.read_line(&mut h).ok()?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        let (name, value) = h.split_once(':')?;
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
    }
    let find = |name: &str| headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone());
    let mut body = Vec::new();
    if let Some(len) = find("content-length") {
        body.resize(len.parse().ok()?, 0);
        reader.read_exact(&mut body).ok()?;
    } else if find("transfer-encoding").is_some_and(|te| te.eq_ignore_ascii_case("chunked")) {
        loop {
            let mut size = String::new();
            reader.read_line(&mut size).ok()?;
            let size = usize::from_str_radix(size.trim(), 16).ok()?;
            let mut chunk = vec![0; size + 2];
            reader.read_exact(&mut chunk).ok()?;
            if size == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..size]);
        }
    }
    Some(Seen {
        connection,
        method,
        path,
        headers,
        body,
    })
}

/// A complete HTTP/1.1 answer with a Content-Length.
pub(crate) fn sized(status: &str, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {status}\r\n");
    for (n, v) in headers {
        out.push_str(&format!("{n}: {v}\r\n"));
    }
    out.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    let mut out = out.into_bytes();
    out.extend_from_slice(body);
    out
}

pub(crate) fn accepted_202() -> Vec<u8> {
    sized(
        "202 Accepted",
        &[("Content-Type", "application/json")],
        b"{\"status\":\"OK\"}",
    )
}

/// An invocation with the three required headers spelled as AWS does.
pub(crate) fn event(id: &str, body: &[u8]) -> Vec<u8> {
    sized(
        "200 OK",
        &[
            ("Content-Type", "application/json"),
            ("Lambda-Runtime-Aws-Request-Id", id),
            ("Lambda-Runtime-Deadline-Ms", DEADLINE),
            ("Lambda-Runtime-Invoked-Function-Arn", ARN),
        ],
        body,
    )
}

/// A Runtime API that hands out events `id-0`, `id-1`, ... and accepts every POST.
pub(crate) fn lambda_like(seen: &Seen, index: usize) -> Answer {
    if seen.method == "GET" {
        Answer::Raw(event(&format!("id-{index}"), b"{\"n\":1}"))
    } else {
        Answer::Raw(accepted_202())
    }
}

/// An answer whose head is written byte for byte (header values with raw, non-ASCII bytes).
pub(crate) fn raw_event(head_lines: &[&[u8]], body: &[u8]) -> Vec<u8> {
    let mut out = b"HTTP/1.1 200 OK\r\n".to_vec();
    for line in head_lines {
        out.extend_from_slice(line);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes());
    out.extend_from_slice(body);
    out
}

/// An answer and what must be read from it.
pub(crate) struct Tolerated {
    pub(crate) answer: Vec<u8>,
    pub(crate) id: &'static str,
    pub(crate) arn: &'static str,
    pub(crate) deadline: i64,
    pub(crate) client_context: Option<&'static str>,
}

/// What the official clients serve, read over the wire by both GET next paths: raw UTF-8 (and
/// invalid UTF-8) in header values, a repeated request id, no deadline, cargo-lambda's relative
/// deadline, no function ARN.
pub(crate) fn tolerated_answers() -> Vec<Tolerated> {
    let arn = b"Lambda-Runtime-Invoked-Function-Arn: arn:x".as_slice();
    vec![
        Tolerated {
            answer: raw_event(
                &[
                    "Lambda-Runtime-Aws-Request-Id: id-\u{e9}t\u{e9}".as_bytes(),
                    b"Lambda-Runtime-Deadline-Ms: 1700000000000",
                    arn,
                    "Lambda-Runtime-Client-Context: {\"n\":\"J\u{fc}rgen\"}".as_bytes(),
                ],
                b"{}",
            ),
            id: "id-\u{e9}t\u{e9}",
            arn: "arn:x",
            deadline: 1_700_000_000_000,
            client_context: Some("{\"n\":\"J\u{fc}rgen\"}"),
        },
        Tolerated {
            answer: raw_event(
                &[
                    b"Lambda-Runtime-Aws-Request-Id: id-\xff\xfe",
                    b"Lambda-Runtime-Deadline-Ms: 1700000000000",
                    arn,
                ],
                b"{}",
            ),
            id: "id-\u{fffd}\u{fffd}",
            arn: "arn:x",
            deadline: 1_700_000_000_000,
            client_context: None,
        },
        Tolerated {
            answer: raw_event(
                &[
                    b"Lambda-Runtime-Aws-Request-Id: first",
                    b"Lambda-Runtime-Aws-Request-Id: second",
                    b"Lambda-Runtime-Deadline-Ms: 600000",
                ],
                b"{}",
            ),
            id: "first",
            arn: "",
            deadline: 600_000,
            client_context: None,
        },
        Tolerated {
            answer: raw_event(&[b"Lambda-Runtime-Aws-Request-Id: no-deadline", arn], b"{}"),
            id: "no-deadline",
            arn: "arn:x",
            deadline: 0,
            client_context: None,
        },
    ]
}

/// Asserts that `inv` is what `want`'s answer must be read as.
pub(crate) fn assert_tolerated(inv: &Invocation, want: &Tolerated) {
    assert_eq!(
        (
            inv.request_id.as_str(),
            inv.invoked_function_arn.as_str(),
            inv.deadline_ms
        ),
        (want.id, want.arn, want.deadline)
    );
    assert_eq!(inv.client_context.as_deref(), want.client_context);
}
