//! A deliberately small HTTP/1.1 server side: enough for the Runtime API and the invoke API, no
//! more. Keep-alive, `Content-Length` and chunked bodies in both directions, request trailers
//! (streamed responses end with `Lambda-Runtime-Function-Error-*` trailers), `Expect:
//! 100-continue` (curl sends it for large events). Why not a crate: a full server (hyper, tiny_http)
//! brings an async runtime or a thread pool we do not need and ~20 s of extra compile time on the
//! two build cores; each connection here gets its own std thread and blocking socket.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::Arc;

/// Limits that keep a bad client from holding memory: a request head, and one header line.
const MAX_HEAD_BYTES: usize = 64 * 1024;
/// How long, and how much, a refused request's remaining input is drained before the close
/// (see [`Connection::close_after_answer`]).
const LINGER: std::time::Duration = std::time::Duration::from_secs(2);
const LINGER_BYTES: usize = 8 * 1024 * 1024;

/// A parsed request line and headers; the body is read separately (it can be streamed).
#[derive(Debug, Clone)]
pub struct RequestHead {
    pub method: String,
    pub path: String,
    /// `HTTP/1.0` requests close the connection unless they ask for keep-alive.
    pub http10: bool,
    pub headers: Vec<(String, String)>,
}

impl RequestHead {
    /// The first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn is_chunked(&self) -> bool {
        self.header("transfer-encoding")
            .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"))
    }

    /// The declared body length: `Ok(None)` when chunked or absent. Every `Content-Length` (and
    /// every item of a list in one) must agree: differing lengths make the framing ambiguous, the
    /// classic request-smuggling shape, which RFC 9112 section 6.3 requires refusing.
    pub fn content_length(&self) -> Result<Option<u64>, HttpError> {
        if self.is_chunked() {
            return Ok(None);
        }
        let mut length = None;
        let values = self
            .headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case("content-length"))
            .flat_map(|(_, v)| v.split(','));
        for value in values {
            let n = value
                .trim()
                .parse::<u64>()
                .map_err(|_| HttpError::Malformed("invalid Content-Length"))?;
            if length.is_some_and(|l| l != n) {
                return Err(HttpError::Malformed("conflicting Content-Length headers"));
            }
            length = Some(n);
        }
        Ok(length)
    }

    pub fn keep_alive(&self) -> bool {
        let conn = self.header("connection").map(|v| v.to_ascii_lowercase());
        match conn.as_deref() {
            Some(v) if v.contains("close") => false,
            Some(v) if v.contains("keep-alive") => true,
            _ => !self.http10,
        }
    }

    pub fn expects_continue(&self) -> bool {
        self.header("expect")
            .is_some_and(|v| v.eq_ignore_ascii_case("100-continue"))
    }
}

#[derive(Debug)]
pub enum HttpError {
    /// The peer closed the connection before a new request started (normal end of keep-alive).
    Closed,
    Io(io::Error),
    Malformed(&'static str),
    TooLarge,
}

impl HttpError {
    /// What was wrong, for the answer's message.
    pub fn why(&self) -> &'static str {
        match self {
            HttpError::Closed => "the connection closed",
            HttpError::Io(_) => "the connection failed",
            HttpError::Malformed(why) => why,
            HttpError::TooLarge => "the request head is larger than 64 KiB",
        }
    }
}

impl From<io::Error> for HttpError {
    fn from(e: io::Error) -> Self {
        HttpError::Io(e)
    }
}

/// A socket's writing side that other threads can hold too (a parked `GET next`, an answer
/// sink): cloning it is a reference count, not a `dup` of the descriptor.
#[derive(Debug, Clone)]
pub struct SharedStream(pub Arc<TcpStream>);

impl Write for SharedStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        (&*self.0).write(buf)
    }
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        (&*self.0).write_all(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// One side of a connection: a buffered reader over the socket and a shared writer.
pub struct Connection {
    pub reader: BufReader<TcpStream>,
    pub writer: SharedStream,
}

impl Connection {
    pub fn new(stream: TcpStream) -> io::Result<Self> {
        stream.set_nodelay(true)?;
        let writer = SharedStream(Arc::new(stream.try_clone()?));
        Ok(Connection {
            reader: BufReader::with_capacity(64 * 1024, stream),
            writer,
        })
    }

    /// Reads the next request head; `Err(Closed)` at a clean end of the connection.
    pub fn read_head(&mut self) -> Result<RequestHead, HttpError> {
        let mut total = 0usize;
        let mut line = String::new();
        // Tolerate empty lines before a request line (RFC 9112 section 2.2).
        loop {
            line.clear();
            let n = read_line_limited(&mut self.reader, &mut line, MAX_HEAD_BYTES)?;
            if n == 0 {
                return Err(HttpError::Closed);
            }
            total += n;
            if !line.trim().is_empty() {
                break;
            }
            if total > MAX_HEAD_BYTES {
                return Err(HttpError::TooLarge);
            }
        }
        let mut parts = line.split_whitespace();
        let (method, path, version) = match (parts.next(), parts.next(), parts.next()) {
            (Some(m), Some(p), Some(v)) if v.starts_with("HTTP/1.") => (m, p, v),
            _ => return Err(HttpError::Malformed("invalid request line")),
        };
        let head_method = method.to_string();
        let head_path = path.to_string();
        let http10 = version == "HTTP/1.0";
        let headers = read_fields(&mut self.reader, &mut total)?;
        let head = RequestHead {
            method: head_method,
            path: head_path,
            http10,
            headers,
        };
        // Framing is checked before anything is answered (a 100 Continue included).
        head.content_length()?;
        Ok(head)
    }

    /// Closes after a final answer such as a 400 while the client may still be sending: our
    /// side is shut down (the answer is followed by a FIN) and what the client still sends is
    /// read and discarded until it closes too, for at most [`LINGER`] and [`LINGER_BYTES`].
    /// Closing with unread input would send a reset instead, and a reset makes the client's
    /// kernel drop the answer it has not read yet.
    pub fn close_after_answer(mut self) {
        let stream = self.reader.get_ref();
        if stream.shutdown(std::net::Shutdown::Write).is_err()
            || stream.set_read_timeout(Some(LINGER)).is_err()
        {
            return;
        }
        let started = std::time::Instant::now();
        let mut drained = 0usize;
        let mut buf = [0u8; 16 * 1024];
        while drained < LINGER_BYTES && started.elapsed() < LINGER {
            match self.reader.read(&mut buf) {
                Ok(0) | Err(_) => return,
                Ok(n) => drained += n,
            }
        }
    }

    pub fn send_continue(&mut self) -> io::Result<()> {
        self.writer.write_all(b"HTTP/1.1 100 Continue\r\n\r\n")
    }

    /// Reads a whole body of at most `limit` bytes. Over the limit, returns `TooLarge` having
    /// read (and discarded) no more than the limit: the caller answers 413 and closes.
    pub fn read_body(&mut self, head: &RequestHead, limit: usize) -> Result<Body, HttpError> {
        let mut reader = BodyReader::new(head)?;
        let mut data = Vec::new();
        if let Some(len) = reader.remaining_fixed() {
            if len > limit as u64 {
                return Err(HttpError::TooLarge);
            }
            data.reserve(len as usize);
        }
        while let Some(chunk) = reader.next_chunk(&mut self.reader)? {
            if data.len() + chunk.len() > limit {
                return Err(HttpError::TooLarge);
            }
            data.extend_from_slice(&chunk);
        }
        Ok(Body {
            data,
            trailers: reader.trailers,
        })
    }
}

/// A fully read request body and its trailers (chunked requests only).
#[derive(Debug, Default)]
pub struct Body {
    pub data: Vec<u8>,
    pub trailers: Vec<(String, String)>,
}

/// Reads a request body piece by piece, as it arrives: a streamed response is passed on chunk by
/// chunk, never buffered whole.
pub struct BodyReader {
    mode: BodyMode,
    pub trailers: Vec<(String, String)>,
}

enum BodyMode {
    Fixed(u64),
    Chunked { done: bool },
}

const READ_PIECE: usize = 64 * 1024;

impl BodyReader {
    pub fn new(head: &RequestHead) -> Result<Self, HttpError> {
        let mode = if head.is_chunked() {
            BodyMode::Chunked { done: false }
        } else {
            BodyMode::Fixed(head.content_length()?.unwrap_or(0))
        };
        Ok(BodyReader {
            mode,
            trailers: Vec::new(),
        })
    }

    fn remaining_fixed(&self) -> Option<u64> {
        match self.mode {
            BodyMode::Fixed(n) => Some(n),
            BodyMode::Chunked { .. } => None,
        }
    }

    /// The next piece of the body, `None` at its end (trailers are then in `self.trailers`).
    pub fn next_chunk<R: BufRead>(&mut self, r: &mut R) -> Result<Option<Vec<u8>>, HttpError> {
        match &mut self.mode {
            BodyMode::Fixed(0) => Ok(None),
            BodyMode::Fixed(left) => {
                let want = (*left).min(READ_PIECE as u64) as usize;
                let mut buf = vec![0u8; want];
                r.read_exact(&mut buf).map_err(eof_is_malformed)?;
                *left -= want as u64;
                Ok(Some(buf))
            }
            BodyMode::Chunked { done: true } => Ok(None),
            BodyMode::Chunked { done } => {
                let mut line = String::new();
                if read_line_limited(r, &mut line, 1024)? == 0 {
                    return Err(HttpError::Malformed("connection closed inside a chunked body"));
                }
                let size_str = line.trim().split(';').next().unwrap_or("").trim();
                let size = usize::from_str_radix(size_str, 16)
                    .map_err(|_| HttpError::Malformed("invalid chunk size"))?;
                if size == 0 {
                    *done = true;
                    let mut total = 0;
                    self.trailers = read_fields(r, &mut total)?;
                    return Ok(None);
                }
                let mut buf = vec![0u8; size];
                r.read_exact(&mut buf).map_err(eof_is_malformed)?;
                let mut crlf = [0u8; 2];
                r.read_exact(&mut crlf).map_err(eof_is_malformed)?;
                if &crlf != b"\r\n" {
                    return Err(HttpError::Malformed("chunk not followed by CRLF"));
                }
                Ok(Some(buf))
            }
        }
    }
}

fn eof_is_malformed(e: io::Error) -> HttpError {
    if e.kind() == io::ErrorKind::UnexpectedEof {
        HttpError::Malformed("connection closed inside a body")
    } else {
        HttpError::Io(e)
    }
}

fn read_line_limited<R: BufRead>(r: &mut R, line: &mut String, limit: usize) -> Result<usize, HttpError> {
    let mut raw = Vec::new();
    let n = r.take(limit as u64 + 1).read_until(b'\n', &mut raw)?;
    if n > limit {
        return Err(HttpError::TooLarge);
    }
    if n > 0 && !raw.ends_with(b"\n") {
        return Err(HttpError::Malformed("connection closed inside a request head"));
    }
    line.push_str(&String::from_utf8_lossy(&raw));
    Ok(n)
}

/// Header (or trailer) fields up to the empty line.
fn read_fields<R: BufRead>(r: &mut R, total: &mut usize) -> Result<Vec<(String, String)>, HttpError> {
    let mut fields = Vec::new();
    loop {
        let mut line = String::new();
        let n = read_line_limited(r, &mut line, MAX_HEAD_BYTES)?;
        if n == 0 {
            return Err(HttpError::Malformed("connection closed inside a request head"));
        }
        *total += n;
        if *total > MAX_HEAD_BYTES {
            return Err(HttpError::TooLarge);
        }
        let line = line.trim_end_matches(['\r', '\n']);
        if line.is_empty() {
            return Ok(fields);
        }
        let (name, value) = line
            .split_once(':')
            .ok_or(HttpError::Malformed("header line without a colon"))?;
        fields.push((name.trim().to_string(), value.trim().to_string()));
    }
}

pub fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        206 => "Partial Content",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        401 => "Unauthorized",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        413 => "Request Entity Too Large",
        422 => "Unprocessable Content",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Unknown",
    }
}

/// Writes a complete response with a `Content-Length` body.
pub fn write_response<W: Write>(
    w: &mut W,
    status: u16,
    headers: &[(&str, &str)],
    body: &[u8],
    keep_alive: bool,
) -> io::Result<()> {
    let mut head = format!("HTTP/1.1 {} {}\r\n", status, reason(status));
    for (k, v) in headers {
        head.push_str(k);
        head.push_str(": ");
        head.push_str(v);
        head.push_str("\r\n");
    }
    head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    if !keep_alive {
        head.push_str("Connection: close\r\n");
    }
    head.push_str("\r\n");
    // One write for small responses: a second segment costs a round of Nagle/delayed-ACK on some
    // stacks, and the Runtime API's answers are tiny.
    if body.len() <= 16 * 1024 {
        let mut all = head.into_bytes();
        all.extend_from_slice(body);
        w.write_all(&all)?;
    } else {
        w.write_all(head.as_bytes())?;
        w.write_all(body)?;
    }
    w.flush()
}

/// A response whose body is sent as it is produced (chunked), with optional trailers.
pub struct ChunkedResponse<'a, W: Write> {
    w: &'a mut W,
}

impl<'a, W: Write> ChunkedResponse<'a, W> {
    pub fn start(
        w: &'a mut W,
        status: u16,
        headers: &[(&str, &str)],
        trailer_names: &[&str],
        keep_alive: bool,
    ) -> io::Result<Self> {
        let mut head = format!("HTTP/1.1 {} {}\r\n", status, reason(status));
        for (k, v) in headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        if !trailer_names.is_empty() {
            head.push_str(&format!("Trailer: {}\r\n", trailer_names.join(", ")));
        }
        head.push_str("Transfer-Encoding: chunked\r\n");
        if !keep_alive {
            head.push_str("Connection: close\r\n");
        }
        head.push_str("\r\n");
        w.write_all(head.as_bytes())?;
        w.flush()?;
        Ok(ChunkedResponse { w })
    }

    /// Continues a chunked response whose head was already written.
    pub fn resume(w: &'a mut W) -> Self {
        ChunkedResponse { w }
    }

    /// Sends one chunk now (flushed: the point of streaming is that the client sees it).
    pub fn chunk(&mut self, data: &[u8]) -> io::Result<()> {
        if data.is_empty() {
            return Ok(());
        }
        let mut out = format!("{:x}\r\n", data.len()).into_bytes();
        out.extend_from_slice(data);
        out.extend_from_slice(b"\r\n");
        self.w.write_all(&out)?;
        self.w.flush()
    }

    pub fn finish(self, trailers: &[(String, String)]) -> io::Result<()> {
        let mut out = String::from("0\r\n");
        for (k, v) in trailers {
            out.push_str(&format!("{k}: {v}\r\n"));
        }
        out.push_str("\r\n");
        self.w.write_all(out.as_bytes())?;
        self.w.flush()
    }
}

/// Ends both directions of a connection (the peer sees the close; a blocked reader wakes).
pub fn close_stream(s: &TcpStream) {
    let _ = s.shutdown(Shutdown::Both);
}

/// `%XX` escapes decoded (a request id in a Runtime API path, an HTTP front's path and query);
/// `+` is kept (API Gateway does not turn it into a space).
pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
            if let Some(v) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;
    use std::net::{TcpListener, TcpStream};
    use std::thread;

    fn pair() -> (TcpStream, Connection) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let client = TcpStream::connect(addr).unwrap();
        let (server, _) = listener.accept().unwrap();
        (client, Connection::new(server).unwrap())
    }

    #[test]
    fn reads_keep_alive_requests_with_length_and_chunked_bodies_and_trailers() {
        let (mut client, mut conn) = pair();
        let writer = thread::spawn(move || {
            client
                .write_all(
                    b"POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello\
                      POST /b HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTrailer: X-T\r\n\r\n\
                      3\r\nabc\r\n2;ext=1\r\nde\r\n0\r\nX-T: tv\r\n\r\n",
                )
                .unwrap();
            client
        });
        let head = conn.read_head().unwrap();
        assert_eq!((head.method.as_str(), head.path.as_str()), ("POST", "/a"));
        assert!(head.keep_alive());
        let body = conn.read_body(&head, 100).unwrap();
        assert_eq!(body.data, b"hello");
        let head = conn.read_head().unwrap();
        assert_eq!(head.path, "/b");
        let body = conn.read_body(&head, 100).unwrap();
        assert_eq!(body.data, b"abcde");
        assert_eq!(body.trailers, vec![("X-T".to_string(), "tv".to_string())]);
        drop(writer.join().unwrap());
        assert!(matches!(conn.read_head(), Err(HttpError::Closed)));
    }

    #[test]
    fn rejects_bodies_over_the_limit_without_reading_them() {
        let (mut client, mut conn) = pair();
        client
            .write_all(b"POST / HTTP/1.1\r\nContent-Length: 1000\r\n\r\n")
            .unwrap();
        let head = conn.read_head().unwrap();
        assert!(matches!(conn.read_body(&head, 10), Err(HttpError::TooLarge)));
    }

    #[test]
    fn rejects_a_malformed_request_line_and_chunk_size() {
        let (mut client, mut conn) = pair();
        client.write_all(b"NONSENSE\r\n\r\n").unwrap();
        assert!(matches!(conn.read_head(), Err(HttpError::Malformed(_))));
        let mut r = Cursor::new(b"zz\r\n".to_vec());
        let head = RequestHead {
            method: "POST".into(),
            path: "/".into(),
            http10: false,
            headers: vec![("Transfer-Encoding".into(), "chunked".into())],
        };
        let mut br = BodyReader::new(&head).unwrap();
        assert!(matches!(br.next_chunk(&mut r), Err(HttpError::Malformed(_))));
    }

    #[test]
    fn writes_fixed_and_chunked_responses_a_client_can_parse() {
        let mut out = Vec::new();
        write_response(
            &mut out,
            202,
            &[("Content-Type", "application/json")],
            b"{}",
            true,
        )
        .unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"
        );
        let mut out = Vec::new();
        let mut res = ChunkedResponse::start(&mut out, 200, &[], &["X-E"], false).unwrap();
        res.chunk(b"hi").unwrap();
        res.finish(&[("X-E".into(), "1".into())]).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with(
            "HTTP/1.1 200 OK\r\nTrailer: X-E\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        ));
        assert!(text.ends_with("2\r\nhi\r\n0\r\nX-E: 1\r\n\r\n"));
    }

    #[test]
    fn content_lengths_must_agree() {
        let head = |values: &[&str]| RequestHead {
            method: "POST".into(),
            path: "/".into(),
            http10: false,
            headers: values
                .iter()
                .map(|v| ("Content-Length".to_string(), v.to_string()))
                .collect(),
        };
        assert_eq!(head(&["5"]).content_length().ok(), Some(Some(5)));
        assert_eq!(head(&["5", "5"]).content_length().ok(), Some(Some(5)));
        assert_eq!(head(&["5, 5"]).content_length().ok(), Some(Some(5)));
        for conflicting in [&["5", "6"][..], &["5, 6"][..]] {
            assert!(matches!(
                head(conflicting).content_length(),
                Err(HttpError::Malformed("conflicting Content-Length headers"))
            ));
        }
    }

    #[test]
    fn http10_closes_by_default_and_expect_continue_is_seen() {
        let head = RequestHead {
            method: "GET".into(),
            path: "/".into(),
            http10: true,
            headers: vec![("Expect".into(), "100-continue".into())],
        };
        assert!(!head.keep_alive());
        assert!(head.expects_continue());
    }

    #[test]
    fn percent_decoding_is_byte_exact_and_tolerant() {
        assert_eq!(percent_decode("a%20b%C3%A9%"), "a bé%");
        assert_eq!(percent_decode("%zz%4"), "%zz%4");
        assert_eq!(percent_decode("a%2Fb%"), "a/b%");
        assert_eq!(percent_decode("%a\u{e9}"), "%a\u{e9}"); // an escape cut by a multi-byte char
    }
}
