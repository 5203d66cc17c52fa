//! Where an invocation's answer goes: straight onto the caller's socket, written by whichever
//! thread has the answer (the runtime's connection thread for a response or an error, the
//! supervisor for a timeout or a crash). The caller's connection thread does not wait to relay
//! it: a thread-to-thread hand-off costs a futex wake-up and a context switch, which measured as
//! the largest part of the emulator's per-invocation CPU.
//!
//! Whoever writes the final part (a whole answer, or the end of a stream) closes the sink;
//! anything sent after that is dropped, so a response racing a timeout can never interleave
//! with it on the wire.

use std::net::Shutdown;
use std::sync::{Arc, Condvar, Mutex};

use super::answer::Reply;
use super::http::{self, ChunkedResponse, Connection, HttpError, RequestHead, SharedStream};
use super::http_reply::HttpClientReply;
use crate::base64;

const STREAM_TRAILERS: [&str; 3] = [
    "X-Amz-Function-Error",
    "Lambda-Runtime-Function-Error-Type",
    "Lambda-Runtime-Function-Error-Body",
];

enum Target {
    /// The caller's connection.
    Socket {
        stream: SharedStream,
        keep_alive: bool,
        request_id: String,
        version: String,
        /// A chunked answer is under way.
        streaming: bool,
    },
    /// Nobody listens (an asynchronous `Event` invocation).
    Discard,
    /// An HTTP client of the HTTP front: the answer is mapped back to an HTTP response.
    HttpClient(HttpClientReply),
}

pub struct ReplySink {
    state: Mutex<(Target, bool)>,
    done: Condvar,
}

impl std::fmt::Debug for ReplySink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ReplySink")
    }
}

impl ReplySink {
    pub fn socket(stream: SharedStream, keep_alive: bool, request_id: &str, version: &str) -> Self {
        Self::new(Target::Socket {
            stream,
            keep_alive,
            request_id: request_id.to_string(),
            version: version.to_string(),
            streaming: false,
        })
    }

    pub fn http_client(reply: HttpClientReply) -> Self {
        Self::new(Target::HttpClient(reply))
    }

    pub fn discard() -> Self {
        Self::new(Target::Discard)
    }

    fn new(target: Target) -> Self {
        ReplySink {
            state: Mutex::new((target, false)),
            done: Condvar::new(),
        }
    }

    /// Delivers one part of the answer; ignored once the answer is complete.
    pub fn send(&self, reply: Reply) {
        let mut guard = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let (target, finished) = &mut *guard;
        if *finished {
            return;
        }
        let last = matches!(reply, Reply::Complete { .. } | Reply::StreamEnd { .. });
        let ok = match target {
            Target::Discard => true,
            Target::Socket {
                stream,
                keep_alive,
                request_id,
                version,
                streaming,
            } => write_part(stream, *keep_alive, request_id, version, streaming, reply),
            Target::HttpClient(client) => client.write(reply),
        };
        if last || !ok {
            *finished = true;
            let connection = match target {
                Target::Socket {
                    stream, keep_alive, ..
                } => Some((&*stream, *keep_alive)),
                Target::HttpClient(client) => Some((client.stream(), client.keep_alive)),
                Target::Discard => None,
            };
            if let Some((stream, keep_alive)) = connection {
                if !ok || !keep_alive {
                    let _ = stream.0.shutdown(Shutdown::Both);
                }
            }
            self.done.notify_all();
        }
    }

    /// Waits until the answer is complete (only for a pipelining caller: its next answer must
    /// not overtake this one).
    pub fn wait_done(&self) {
        let mut guard = self.state.lock().unwrap_or_else(|p| p.into_inner());
        while !guard.1 {
            guard = self.done.wait(guard).unwrap_or_else(|p| p.into_inner());
        }
    }
}

/// Writes one part as HTTP; `false` when the caller's connection is gone.
fn write_part(
    stream: &mut SharedStream,
    keep_alive: bool,
    request_id: &str,
    version: &str,
    streaming: &mut bool,
    reply: Reply,
) -> bool {
    match reply {
        Reply::Complete {
            body,
            content_type,
            function_error,
        } => {
            if *streaming {
                // A whole answer after a stream began (cannot happen today): end the stream.
                return ChunkedResponse::resume(stream).finish(&[]).is_ok();
            }
            let mut headers = vec![
                ("Content-Type", content_type.as_str()),
                ("X-Amzn-RequestId", request_id),
                ("X-Amz-Executed-Version", version),
            ];
            if let Some(e) = &function_error {
                headers.push(("X-Amz-Function-Error", e.as_str()));
            }
            http::write_response(stream, 200, &headers, &body, keep_alive).is_ok()
        }
        Reply::StreamStart { content_type } => {
            *streaming = true;
            let headers = [
                ("Content-Type", content_type.as_str()),
                ("X-Amzn-RequestId", request_id),
                ("X-Amz-Executed-Version", version),
            ];
            ChunkedResponse::start(stream, 200, &headers, &STREAM_TRAILERS, keep_alive).is_ok()
        }
        Reply::StreamChunk(data) => ChunkedResponse::resume(stream).chunk(&data).is_ok(),
        Reply::StreamEnd { error } => {
            let trailers = match error {
                Some((error_type, body)) => vec![
                    ("X-Amz-Function-Error".to_string(), "Unhandled".to_string()),
                    ("Lambda-Runtime-Function-Error-Type".to_string(), error_type),
                    (
                        "Lambda-Runtime-Function-Error-Body".to_string(),
                        base64::encode(body.as_bytes()),
                    ),
                ],
                None => Vec::new(),
            };
            if *streaming {
                ChunkedResponse::resume(stream).finish(&trailers).is_ok()
            } else {
                // The stream ended before it started (e.g. a timeout before the first byte).
                ChunkedResponse::start(
                    stream,
                    200,
                    &[("X-Amzn-RequestId", request_id)],
                    &STREAM_TRAILERS,
                    keep_alive,
                )
                .and_then(|r| r.finish(&trailers))
                .is_ok()
            }
        }
    }
}

/// The next request's head on a kept connection, read while the previous request's answer may
/// still be written by another thread; that answer finishes first, so that a pipelining
/// client's answers keep their order. Both fronts (invoke API and `--http`) serve this way.
pub fn next_request_head(
    conn: &mut Connection,
    previous: &mut Option<Arc<ReplySink>>,
) -> Result<RequestHead, HttpError> {
    let head = conn.read_head();
    if let Some(p) = previous.take() {
        p.wait_done();
    }
    head
}
