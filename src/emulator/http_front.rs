//! The HTTP front (`serve --http`): every HTTP request becomes a Function URL (or REST API proxy)
//! event queued like any invoke, and the function's answer is written back as the HTTP response
//! by whichever thread has it, as the invoke API's answers are (`reply.rs`). A streamed answer
//! (`HttpResponseStream.from`) goes out as it arrives: the prelude's status and headers, then each
//! chunk, written by the runtime's connection thread with a blocking write, so a slow client
//! slows the runtime's upload (TCP backpressure end to end) and nothing is buffered whole.

use std::net::TcpStream;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use super::environment::new_request_id;
use super::http::{self, ChunkedResponse, Connection, HttpError, RequestHead, SharedStream};
use super::http_event::{self, EventFormat, HttpAnswer, HttpRequest, HTTP_INTEGRATION_CONTENT_TYPE};
use super::reply::ReplySink;
use super::state::{Instances, Invocation, Reply};
use super::MAX_INVOKE_PAYLOAD;

/// The shortest time a client may go without reading before it is dropped.
const MIN_WRITE_STALL: Duration = Duration::from_secs(5);
/// A prelude longer than this without its delimiter is not a prelude.
const MAX_PRELUDE: usize = 64 * 1024;

pub fn serve_connection(instances: &Instances, stream: TcpStream, format: EventFormat) {
    let source_ip = stream
        .peer_addr()
        .map_or_else(|_| "127.0.0.1".to_string(), |a| a.ip().to_string());
    let local_port = stream.local_addr().map_or(0, |a| a.port());
    // A client that reads nothing for as long as the function may run is dropped: a stalled
    // write to it holds its answer's sink, which the supervisor needs to end the invocation.
    let _ = stream.set_write_timeout(Some(instances.0[0].config.timeout.max(MIN_WRITE_STALL)));
    let Ok(mut conn) = Connection::new(stream) else {
        return;
    };
    let mut previous: Option<Arc<ReplySink>> = None;
    loop {
        let head = conn.read_head();
        // A pipelining client: its next answer must not overtake the one still pending.
        if let Some(p) = previous.take() {
            p.wait_done();
        }
        let head = match head {
            Ok(h) => h,
            Err(HttpError::Closed) | Err(HttpError::Io(_)) => return,
            Err(HttpError::TooLarge) => return plain(&mut conn, 431, "Request header fields too large"),
            Err(_) => return plain(&mut conn, 400, "Malformed HTTP request"),
        };
        // HEAD answers carry no body: closing after each keeps a streamed one framed.
        let keep_alive = head.keep_alive() && head.method != "HEAD";
        if head.expects_continue() {
            if head
                .content_length()
                .ok()
                .flatten()
                .is_some_and(|n| n > MAX_INVOKE_PAYLOAD as u64)
            {
                return plain(&mut conn, 413, "Request Entity Too Large");
            }
            if conn.send_continue().is_err() {
                return;
            }
        }
        let body = match conn.read_body(&head, MAX_INVOKE_PAYLOAD) {
            Ok(b) => b.data,
            Err(HttpError::TooLarge) => return plain(&mut conn, 413, "Request Entity Too Large"),
            Err(_) => return plain(&mut conn, 400, "Malformed request body"),
        };
        let request_id = new_request_id();
        let event = http_event::event(
            format,
            &HttpRequest {
                method: &head.method,
                target: &head.path,
                headers: &head.headers,
                body: &body,
                source_ip: &source_ip,
                local_port,
                request_id: &request_id,
                time: SystemTime::now(),
            },
        );
        let reply = Arc::new(ReplySink::http_client(HttpClientReply::new(
            conn.writer.clone(),
            keep_alive,
            format,
            &head,
            &request_id,
        )));
        let inv = Invocation {
            request_id,
            body: event,
            trace_id: None,
            client_context: None,
            cognito_identity: None,
            tenant_id: None,
            reply: reply.clone(),
        };
        if !instances.pick().enqueue(inv) {
            return plain(&mut conn, 503, "The local emulator is shutting down");
        }
        if !keep_alive {
            return;
        }
        previous = Some(reply);
    }
}

/// A plain-text answer that ends the connection.
fn plain(conn: &mut Connection, status: u16, message: &str) {
    let _ = http::write_response(
        &mut conn.writer,
        status,
        &[("Content-Type", "text/plain; charset=utf-8")],
        message.as_bytes(),
        false,
    );
}

enum Phase {
    /// Nothing written yet.
    Waiting,
    /// A streamed answer without a prelude, whose head waits for its first byte: a function that
    /// fails before writing anything gets a 502, as a buffered one does.
    Unstarted(String),
    /// A streamed answer with an HTTP prelude: its bytes until the 8-NUL delimiter.
    Prelude(Vec<u8>),
    /// The head is written; chunks follow.
    Streaming,
}

/// The HTTP client's side of one invocation: turns `Reply` parts into the HTTP response.
pub struct HttpClientReply {
    stream: SharedStream,
    pub keep_alive: bool,
    format: EventFormat,
    head_only: bool,
    request_id: String,
    phase: Phase,
}

impl HttpClientReply {
    fn new(
        stream: SharedStream,
        keep_alive: bool,
        format: EventFormat,
        head: &RequestHead,
        request_id: &str,
    ) -> Self {
        HttpClientReply {
            stream,
            keep_alive,
            format,
            head_only: head.method == "HEAD",
            request_id: request_id.to_string(),
            phase: Phase::Waiting,
        }
    }

    pub fn stream(&self) -> &SharedStream {
        &self.stream
    }

    /// Writes one part; `false` when the client is gone or the response cannot be completed (the
    /// connection is then closed: a stream that failed midway ends without its last chunk, so
    /// the client sees it incomplete rather than whole).
    pub fn write(&mut self, reply: Reply) -> bool {
        match reply {
            Reply::Complete {
                body, function_error, ..
            } => match self.phase {
                Phase::Streaming => false,
                _ => self.write_answer(http_event::answer(self.format, &body, function_error.is_some())),
            },
            Reply::StreamStart { content_type } => {
                if content_type.eq_ignore_ascii_case(HTTP_INTEGRATION_CONTENT_TYPE) {
                    self.phase = Phase::Prelude(Vec::new());
                    true
                } else {
                    self.phase = Phase::Unstarted(content_type);
                    true
                }
            }
            Reply::StreamChunk(data) => match &mut self.phase {
                Phase::Streaming => self.chunk(&data),
                Phase::Prelude(buf) => {
                    buf.extend_from_slice(&data);
                    let Some(end) = http_event::prelude_end(buf) else {
                        return buf.len() <= MAX_PRELUDE || self.bad_prelude();
                    };
                    let rest = buf.split_off(end + http_event::PRELUDE_DELIMITER.len());
                    buf.truncate(end);
                    let Some((status, headers)) = http_event::prelude(buf) else {
                        return self.bad_prelude();
                    };
                    self.start(status, headers) && self.chunk(&rest)
                }
                Phase::Unstarted(content_type) => {
                    let content_type = std::mem::take(content_type);
                    self.start(200, vec![("Content-Type".into(), content_type)]) && self.chunk(&data)
                }
                // A chunk before the stream started cannot happen; treat it as a plain body.
                Phase::Waiting => {
                    self.start(
                        200,
                        vec![("Content-Type".into(), "application/octet-stream".into())],
                    ) && self.chunk(&data)
                }
            },
            Reply::StreamEnd { error } => match std::mem::replace(&mut self.phase, Phase::Waiting) {
                Phase::Streaming => {
                    self.phase = Phase::Streaming;
                    error.is_none() && ChunkedResponse::resume(&mut self.stream).finish(&[]).is_ok()
                }
                // Failed (or timed out) before the first byte: the error, as a buffered one.
                _ if error.is_some() => {
                    let body = error.map(|(_, body)| body).unwrap_or_default();
                    self.write_answer(http_event::answer(self.format, body.as_bytes(), true))
                }
                // Ended with a prelude and no body.
                Phase::Prelude(buf) => {
                    let end = http_event::prelude_end(&buf).unwrap_or(buf.len());
                    match http_event::prelude(&buf[..end]) {
                        Some((status, headers)) => self.write_answer(HttpAnswer {
                            status,
                            headers,
                            body: Vec::new(),
                        }),
                        None => self.bad_prelude(),
                    }
                }
                Phase::Unstarted(content_type) => self.write_answer(HttpAnswer {
                    status: 200,
                    headers: vec![("Content-Type".into(), content_type)],
                    body: Vec::new(),
                }),
                Phase::Waiting => self.write_answer(HttpAnswer {
                    status: 200,
                    headers: Vec::new(),
                    body: Vec::new(),
                }),
            },
        }
    }

    fn bad_prelude(&mut self) -> bool {
        let body = br#"{"message":"The function's HttpResponseStream prelude is not a JSON object"}"#;
        self.phase = Phase::Waiting;
        self.write_answer(HttpAnswer {
            status: 502,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: body.to_vec(),
        });
        // The connection closes: what the function streams after this has nowhere to go.
        false
    }

    fn common_headers<'a>(&'a self, headers: &'a [(String, String)]) -> Vec<(&'a str, &'a str)> {
        let mut out: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        out.push(("X-Amzn-RequestId", &self.request_id));
        out
    }

    fn write_answer(&mut self, a: HttpAnswer) -> bool {
        self.no_body_for(a.status);
        let headers = self.common_headers(&a.headers);
        let mut stream = self.stream.clone();
        if self.head_only {
            // The length the body would have had (none for 204 and 304), and no body.
            let mut head_only = headers.clone();
            let len = a.body.len().to_string();
            if !matches!(a.status, 204 | 304) {
                head_only.push(("Content-Length", &len));
            }
            return write_head(&mut stream, a.status, &head_only);
        }
        http::write_response(&mut stream, a.status, &headers, &a.body, self.keep_alive).is_ok()
    }

    /// 204 and 304 answers have no body (RFC 9110): sent like a HEAD answer, so that no body
    /// framing (a chunked terminator, `Content-Length`) is mistaken for the next response.
    fn no_body_for(&mut self, status: u16) {
        if matches!(status, 204 | 304) {
            self.head_only = true;
            self.keep_alive = false;
        }
    }

    fn start(&mut self, status: u16, headers: Vec<(String, String)>) -> bool {
        self.phase = Phase::Streaming;
        self.no_body_for(status);
        let mut stream = self.stream.clone();
        let fields = self.common_headers(&headers);
        if self.head_only {
            return write_head(&mut stream, status, &fields);
        }
        ChunkedResponse::start(&mut stream, status, &fields, &[], self.keep_alive).is_ok()
    }

    fn chunk(&mut self, data: &[u8]) -> bool {
        if self.head_only {
            return true;
        }
        ChunkedResponse::resume(&mut self.stream).chunk(data).is_ok()
    }
}

/// A response head with no body (HEAD), then the connection closes.
fn write_head(w: &mut SharedStream, status: u16, headers: &[(&str, &str)]) -> bool {
    use std::io::Write;
    let mut head = format!("HTTP/1.1 {} {}\r\n", status, http::reason(status));
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("Connection: close\r\n\r\n");
    w.write_all(head.as_bytes()).is_ok()
}
