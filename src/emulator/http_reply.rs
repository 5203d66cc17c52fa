//! An HTTP client's answer (`serve --http`): the parts of a function's answer (`Reply`) written
//! as the HTTP response, by whichever thread has them. A streamed answer
//! (`HttpResponseStream.from`) goes out as it arrives: the prelude's status and headers, then each
//! chunk, written by the runtime's connection thread with a blocking write, so a slow client
//! slows the runtime's upload (TCP backpressure end to end) and nothing is buffered whole.

use super::answer::Reply;
use super::http::{self, ChunkedResponse, RequestHead, SharedStream};
use super::http_event::{self, EventFormat, HttpAnswer, HTTP_INTEGRATION_CONTENT_TYPE};

/// A prelude longer than this without its delimiter is not a prelude.
const MAX_PRELUDE: usize = 64 * 1024;

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
    pub fn new(
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::net::{Shutdown, TcpListener, TcpStream};
    use std::sync::Arc;

    /// Writes `parts` through a client reply on a real socket; returns what the client read and
    /// whether each write succeeded.
    fn answer_for(parts: Vec<Reply>) -> (String, Vec<bool>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let mut client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (server, _) = listener.accept().unwrap();
        let stream = SharedStream(Arc::new(server));
        let head = RequestHead {
            method: "GET".into(),
            path: "/".into(),
            http10: false,
            headers: Vec::new(),
        };
        let mut reply = HttpClientReply::new(stream.clone(), true, EventFormat::FunctionUrl, &head, "rid");
        let oks = parts.into_iter().map(|p| reply.write(p)).collect();
        stream.0.shutdown(Shutdown::Write).unwrap();
        let mut out = String::new();
        client.read_to_string(&mut out).unwrap();
        (out, oks)
    }

    fn start(content_type: &str) -> Reply {
        Reply::StreamStart {
            content_type: content_type.into(),
        }
    }

    fn chunk(data: &[u8]) -> Reply {
        Reply::StreamChunk(data.to_vec())
    }

    #[test]
    fn a_prelude_split_across_chunks_gives_the_head_then_the_body_streams() {
        let prelude = br#"{"statusCode":207,"headers":{"x-a":"1"},"cookies":["c=1"]}"#;
        let (out, oks) = answer_for(vec![
            start(HTTP_INTEGRATION_CONTENT_TYPE),
            chunk(&prelude[..10]),
            chunk(&[&prelude[10..], &[0u8; 3][..]].concat()),
            chunk(&[&[0u8; 5][..], b"he"].concat()),
            chunk(b"llo"),
            Reply::StreamEnd { error: None },
        ]);
        assert!(oks.iter().all(|ok| *ok));
        assert!(out.starts_with("HTTP/1.1 207 "), "{out}");
        assert!(
            out.contains("\r\nx-a: 1\r\n") && out.contains("\r\nSet-Cookie: c=1\r\n"),
            "{out}"
        );
        assert!(out.contains("Transfer-Encoding: chunked"), "{out}");
        assert!(
            out.ends_with("\r\n\r\n2\r\nhe\r\n3\r\nllo\r\n0\r\n\r\n"),
            "{out:?}"
        );
    }

    #[test]
    fn a_stream_that_fails_before_its_first_byte_is_a_502_with_the_error() {
        let (out, _) = answer_for(vec![
            start("text/plain"),
            Reply::StreamEnd {
                error: Some((
                    "Error".into(),
                    r#"{"errorType":"Error","errorMessage":"early"}"#.into(),
                )),
            },
        ]);
        assert!(out.starts_with("HTTP/1.1 502 "), "{out}");
        assert!(
            out.ends_with(r#"{"errorType":"Error","errorMessage":"early"}"#),
            "{out}"
        );
    }

    #[test]
    fn a_stream_that_fails_midway_ends_without_its_last_chunk() {
        let (out, oks) = answer_for(vec![
            start("text/plain"),
            chunk(b"part"),
            Reply::StreamEnd {
                error: Some(("Error".into(), "{}".into())),
            },
        ]);
        assert_eq!(oks, vec![true, true, false]);
        assert!(
            out.starts_with("HTTP/1.1 200 ") && out.contains("Content-Type: text/plain"),
            "{out}"
        );
        assert!(out.ends_with("4\r\npart\r\n"), "{out:?}");
    }
}
