//! A Runtime API client without an HTTP library, and the raw loop over it: what the HTTP client
//! itself costs, next to the raw loop over the product's client (benchmark/native).

use std::io::{BufReader, Write};
use std::net::TcpStream;

use crate::{read_body, read_head, API};

/// A Runtime API connection without an HTTP library: one blocking socket, each request written
/// with a single `write`, no connection probing. For measuring what the transport costs with
/// nothing but the protocol itself (benchmark diagnostics only: no retries, no timeouts).
pub struct LeanConnection {
    writer: TcpStream,
    reader: BufReader<TcpStream>,
    line: String,
    next_request: String,
    post_prefix: String,
    authority: String,
    out: Vec<u8>,
}

impl LeanConnection {
    pub fn connect(endpoint: &str) -> std::io::Result<LeanConnection> {
        let rest = endpoint.trim_start_matches("http://");
        let (authority, prefix) = match rest.find('/') {
            Some(i) => (&rest[..i], rest[i..].trim_end_matches('/')),
            None => (rest, ""),
        };
        let stream = TcpStream::connect(authority)?;
        stream.set_nodelay(true)?;
        Ok(LeanConnection {
            writer: stream.try_clone()?,
            reader: BufReader::with_capacity(64 * 1024, stream),
            line: String::new(),
            next_request: format!("GET {prefix}{API}/invocation/next HTTP/1.1\r\nHost: {authority}\r\n\r\n"),
            post_prefix: format!("POST {prefix}{API}/invocation/"),
            authority: authority.to_string(),
            out: Vec::with_capacity(64 * 1024),
        })
    }

    /// GET next: the request id and the event.
    pub fn next_invocation(&mut self) -> std::io::Result<(String, Vec<u8>)> {
        self.writer.write_all(self.next_request.as_bytes())?;
        let head = read_head(&mut self.reader, &mut self.line)?
            .ok_or_else(|| std::io::Error::other("the Runtime API closed the connection"))?;
        let body = read_body(&mut self.reader, &head, &mut self.line, || {})?;
        let id = head
            .request_id
            .ok_or_else(|| std::io::Error::other("no Lambda-Runtime-Aws-Request-Id"))?;
        Ok((id, body))
    }

    /// POST the response, headers and body in one write, and read the answer.
    pub fn respond(&mut self, id: &str, body: &[u8]) -> std::io::Result<()> {
        self.out.clear();
        write!(
            self.out,
            "{}{id}/response HTTP/1.1\r\nHost: {}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            self.post_prefix,
            self.authority,
            body.len()
        )?;
        self.out.extend_from_slice(body);
        self.writer.write_all(&self.out)?;
        let head = read_head(&mut self.reader, &mut self.line)?
            .ok_or_else(|| std::io::Error::other("the Runtime API closed the connection"))?;
        read_body(&mut self.reader, &head, &mut self.line, || {})?;
        Ok(())
    }
}

/// The raw loop over `LeanConnection`: the gap to `raw_echo_loop` is the HTTP client's cost.
pub fn raw_echo_loop_lean(endpoint: &str) -> std::io::Result<()> {
    let mut conn = LeanConnection::connect(endpoint)?;
    loop {
        let (id, body) = conn.next_invocation()?;
        conn.respond(&id, &body)?;
    }
}
