//! The Runtime API client: one keep-alive connection (ureq's pool over our own transport,
//! src/client/transport.rs: TCP_NODELAY, one write per request, no liveness probes), no
//! timeouts (GET next is held open by the Runtime API until an event exists), and every
//! response body drained so that the connection goes back to the pool.
//!
//! Retry policy: a request whose connection closes before any byte of an answer arrives is sent
//! once more, on a new connection. That is the signature of a keep-alive connection the server
//! closed while idle (Node's http server does so after 5 s, longer than many handlers run):
//! our transport does not probe a pooled connection before reusing it, so the request meets the
//! close and the server never read it. Before the repeat every pooled connection is marked
//! stale (they idled as long), so the repeat goes out on a new connection.
//! It holds for POSTs too: the Runtime API accepts one outcome per request id, so in the rare
//! case where the server did read a POST before the connection died, the repeat is refused with a
//! 4xx and nothing is applied twice, whereas not retrying would lose the outcome. Nothing else is
//! retried: a refused connection, an HTTP status, or a break in the middle of an answer.

use std::io::Read;

use ureq::unversioned::resolver::DefaultResolver;
use ureq::Agent;

use crate::endpoint::base_url;
use crate::error::{ErrorCode, RuntimeApiError};
use crate::invocation::Invocation;

pub mod queued_post;
mod transport;
use transport::{RapidConnector, Staleness};

/// Largest body we read from the Runtime API: Lambda's own payload limits are 6 MB (buffered)
/// and 200 MB (streamed), so this only stops a runaway server.
pub(crate) const MAX_BODY: u64 = 256 * 1024 * 1024;
const API_VERSION: &str = "2018-06-01";
pub(crate) const USER_AGENT: &str = "lambda-rapid/0.1";

pub struct RuntimeApiClient {
    agent: Agent,
    /// Shared with every connection of `agent`: bumped to retire the pooled ones.
    staleness: Staleness,
    next_url: String,
    init_error_url: String,
    /// `.../runtime/invocation/`, to which `{id}/response` or `{id}/error` is appended.
    invocation_url: String,
}

impl RuntimeApiClient {
    pub fn new(endpoint: &str) -> Result<Self, RuntimeApiError> {
        let base = base_url(endpoint)?;
        let config = Agent::config_builder()
            // A 413 or 400 carries a body the caller needs; never turn it into a bare error.
            .http_status_as_error(false)
            .no_delay(true)
            .max_idle_connections_per_host(2)
            .user_agent(USER_AGENT)
            .build();
        let staleness = Staleness::default();
        let agent = Agent::with_parts(
            config,
            RapidConnector::new(staleness.clone()),
            DefaultResolver::default(),
        );
        Ok(RuntimeApiClient {
            agent,
            staleness,
            next_url: format!("{base}/{API_VERSION}/runtime/invocation/next"),
            init_error_url: format!("{base}/{API_VERSION}/runtime/init/error"),
            invocation_url: format!("{base}/{API_VERSION}/runtime/invocation/"),
        })
    }

    /// GET next's URL, for the event loop's GET to the same Runtime API (src/next/polled.rs).
    pub fn next_url(&self) -> &str {
        &self.next_url
    }

    /// GET next: blocks until the Runtime API has an event.
    pub fn next_invocation(&self) -> Result<Invocation, RuntimeApiError> {
        let mut response = self.retry_if_closed_before_answer(|| self.agent.get(&self.next_url).call())?;
        let body = read_body(response.body_mut())?;
        invocation_from_answer(response.status().as_u16(), response.headers(), body)
    }

    /// POST `/invocation/{id}/response`.
    pub fn post_response(&self, request_id: &str, body: &[u8]) -> Result<(), RuntimeApiError> {
        let url = self.invocation_path(request_id, "response");
        finish(
            "POST response",
            self.retry_if_closed_before_answer(|| {
                self.agent
                    .post(&url)
                    .header("Content-Type", "application/json")
                    .send(body)
            }),
        )
    }

    /// POST `/invocation/{id}/error` with the error type and, when given, the X-Ray cause.
    pub fn post_error(
        &self,
        request_id: &str,
        body: &[u8],
        error_type: &str,
        xray_cause: Option<&str>,
    ) -> Result<(), RuntimeApiError> {
        let url = self.invocation_path(request_id, "error");
        let error_type = header_safe(error_type);
        let xray_cause = xray_cause.map(ascii_json);
        finish(
            "POST error",
            self.retry_if_closed_before_answer(|| {
                let mut request = self
                    .agent
                    .post(&url)
                    .header("Content-Type", "application/json")
                    .header("Lambda-Runtime-Function-Error-Type", &error_type);
                if let Some(cause) = &xray_cause {
                    request = request.header("Lambda-Runtime-Function-XRay-Error-Cause", cause);
                }
                request.send(body)
            }),
        )
    }

    /// POST `/runtime/init/error`.
    pub fn post_init_error(&self, body: &[u8], error_type: &str) -> Result<(), RuntimeApiError> {
        let error_type = header_safe(error_type);
        finish(
            "POST init/error",
            self.retry_if_closed_before_answer(|| {
                self.agent
                    .post(&self.init_error_url)
                    .header("Content-Type", "application/json")
                    .header("Lambda-Runtime-Function-Error-Type", &error_type)
                    .send(body)
            }),
        )
    }

    fn invocation_path(&self, request_id: &str, what: &str) -> String {
        let mut url = String::with_capacity(self.invocation_url.len() + request_id.len() + 10);
        url.push_str(&self.invocation_url);
        percent_encode_into(request_id, &mut url);
        url.push('/');
        url.push_str(what);
        url
    }

    /// Sends a request (built afresh by `send`), and once more, on a new connection, if its
    /// connection closed before an answer began (see the retry policy at the top of this file).
    fn retry_if_closed_before_answer(
        &self,
        send: impl Fn() -> Result<Answer, ureq::Error>,
    ) -> Result<Answer, RuntimeApiError> {
        match send() {
            Err(e) if closed_before_answer(&e) => {
                self.staleness.mark_all_stale();
                send().map_err(transport_error)
            }
            result => result.map_err(transport_error),
        }
    }
}

type Answer = ureq::http::Response<ureq::Body>;

/// GET next's answer as an invocation, or the Runtime API's refusal (a status that is not 2xx).
/// Shared by the blocking client and the event loop's (src/next/polled.rs).
pub(crate) fn invocation_from_answer(
    status: u16,
    headers: &ureq::http::HeaderMap,
    body: Vec<u8>,
) -> Result<Invocation, RuntimeApiError> {
    if !(200..300).contains(&status) {
        return Err(RuntimeApiError::status(
            status,
            "GET next",
            String::from_utf8_lossy(&body).into_owned(),
        ));
    }
    // Values as bytes: `HeaderValue::to_str` refuses anything but visible ASCII, and an id or a
    // client context in UTF-8 is what the official clients serve (src/invocation.rs decodes).
    let headers = headers
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_bytes()));
    Invocation::from_parts(headers, body)
}

/// ureq reports a peer that closed before the status line as `UnexpectedEof`, and a write to or
/// read from a connection the peer already dropped as a reset, abort or broken pipe.
fn closed_before_answer(e: &ureq::Error) -> bool {
    use std::io::ErrorKind::{BrokenPipe, ConnectionAborted, ConnectionReset, UnexpectedEof};
    matches!(e, ureq::Error::Io(io) if matches!(io.kind(), UnexpectedEof | ConnectionReset | ConnectionAborted | BrokenPipe))
}

fn finish(what: &str, result: Result<Answer, RuntimeApiError>) -> Result<(), RuntimeApiError> {
    let mut response = result?;
    let status = response.status().as_u16();
    let body = read_body(response.body_mut())?;
    if (200..300).contains(&status) {
        Ok(())
    } else {
        Err(RuntimeApiError::status(
            status,
            what,
            String::from_utf8_lossy(&body).into_owned(),
        ))
    }
}

/// Reads a whole body, chunked, sized or empty, so the connection can be reused.
fn read_body(body: &mut ureq::Body) -> Result<Vec<u8>, RuntimeApiError> {
    let mut out = Vec::new();
    body.with_config()
        .limit(MAX_BODY)
        .reader()
        .read_to_end(&mut out)
        .map_err(|e| {
            RuntimeApiError::new(
                ErrorCode::Protocol,
                format!("reading the Runtime API's answer failed: {e}"),
            )
        })?;
    Ok(out)
}

fn transport_error(e: ureq::Error) -> RuntimeApiError {
    match e {
        // An answer that broke off after it began (src/client/transport.rs).
        ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::InvalidData => RuntimeApiError::new(
            ErrorCode::Protocol,
            format!("the Runtime API's answer broke off: {io}"),
        ),
        ureq::Error::Io(_)
        | ureq::Error::ConnectionFailed
        | ureq::Error::HostNotFound
        | ureq::Error::Timeout(_) => RuntimeApiError::new(
            ErrorCode::Unreachable,
            format!("the Runtime API is unreachable: {e}"),
        ),
        other => RuntimeApiError::new(
            ErrorCode::Protocol,
            format!("talking to the Runtime API failed: {other}"),
        ),
    }
}

/// Whether an idle kept-alive connection is still usable: one the server has closed reads as
/// end-of-file (or fails) at once, an open one has nothing to read. Leaves the socket
/// non-blocking. (The streamed responses' pool and GET next's connection ask it.)
pub fn still_open(stream: &std::net::TcpStream) -> bool {
    if stream.set_nonblocking(true).is_err() {
        return false;
    }
    let mut byte = [0u8; 1];
    matches!(stream.peek(&mut byte), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock)
}

/// Percent-encodes everything but RFC 3986 unreserved characters, so any request id is one
/// path segment.
pub fn percent_encode_into(s: &str, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in s.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(HEX[(b >> 4) as usize] as char);
            out.push(HEX[(b & 15) as usize] as char);
        }
    }
}

/// A header value may hold only visible ASCII and spaces; an error type with anything else
/// keeps its readable part.
fn header_safe(value: &str) -> String {
    value
        .chars()
        .map(|c| if (' '..='~').contains(&c) { c } else { '?' })
        .collect()
}

/// The X-Ray cause is JSON: escape non-ASCII as `\uXXXX` so it stays the same JSON and a valid
/// header value; control characters can only appear escaped in JSON already.
fn ascii_json(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        if (' '..='~').contains(&c) {
            out.push(c);
        } else {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        }
    }
    out
}

#[cfg(test)]
pub(crate) mod wire_server;
#[cfg(test)]
mod wire_tests;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_one_encoded_path_segment() {
        let mut s = String::new();
        percent_encode_into("a/b c?d#é", &mut s);
        assert_eq!(s, "a%2Fb%20c%3Fd%23%C3%A9");
    }

    #[test]
    fn xray_cause_is_kept_as_equivalent_ascii_json() {
        let cause = "{\"m\":\"héllo 😀\"}";
        let escaped = ascii_json(cause);
        assert!(escaped.is_ascii());
        assert_eq!(escaped, "{\"m\":\"h\\u00e9llo \\ud83d\\ude00\"}");
    }

    #[test]
    fn header_safe_replaces_what_a_header_cannot_hold() {
        assert_eq!(header_safe("Runtime.Error\n"), "Runtime.Error?");
    }
}
