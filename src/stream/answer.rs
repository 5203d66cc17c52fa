//! The Runtime API's answer to a streamed response, read off the same connection.

use std::io::{self, BufRead, Read};

use super::StreamAnswer;
use crate::error::{ErrorCode, RuntimeApiError};

/// The Runtime API's answer to a streamed response is a small JSON document.
const MAX_ANSWER_BODY: usize = 1024 * 1024;

/// Reads one HTTP/1.1 response (skipping interim 1xx ones): status and body, whether the body is
/// sized, chunked or delimited by the connection closing.
/// `true` with the answer when the connection may carry another request (HTTP/1.1, no
/// `Connection: close`, a body delimited by its framing).
pub(super) fn read_answer<R: BufRead>(r: &mut R) -> Result<(StreamAnswer, bool), RuntimeApiError> {
    let protocol = |why: String| RuntimeApiError::new(ErrorCode::Protocol, why);
    let io_error = |e: io::Error| {
        RuntimeApiError::new(
            ErrorCode::Unreachable,
            format!("reading the Runtime API's answer to the streamed response failed: {e}"),
        )
    };
    loop {
        let status_line = read_line(r).map_err(io_error)?;
        if status_line.is_empty() {
            return Err(RuntimeApiError::new(
                ErrorCode::Unreachable,
                "the Runtime API closed the connection without answering the streamed response",
            ));
        }
        let status = status_line
            .strip_prefix("HTTP/1.")
            .and_then(|rest| rest.get(2..5))
            .and_then(|code| code.parse::<u16>().ok())
            .ok_or_else(|| protocol(format!("malformed HTTP status line {status_line:?}")))?;
        let mut content_length: Option<usize> = None;
        let mut chunked = false;
        let mut keep_alive = status_line.starts_with("HTTP/1.1");
        loop {
            let line = read_line(r).map_err(io_error)?;
            if line.is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':') {
                let value = value.trim();
                if name.eq_ignore_ascii_case("content-length") {
                    let n = value
                        .parse::<usize>()
                        .map_err(|_| protocol(format!("malformed Content-Length {value:?}")))?;
                    content_length = Some(n);
                } else if name.eq_ignore_ascii_case("transfer-encoding") {
                    chunked = value.to_ascii_lowercase().contains("chunked");
                } else if name.eq_ignore_ascii_case("connection") {
                    keep_alive &= !value.to_ascii_lowercase().contains("close");
                }
            }
        }
        if (100..200).contains(&status) {
            continue;
        }
        let too_big = || protocol("the Runtime API's answer is implausibly large".to_string());
        let body = if status == 204 || status == 304 {
            Vec::new()
        } else if chunked {
            read_chunked(r, MAX_ANSWER_BODY)
                .map_err(io_error)?
                .ok_or_else(too_big)?
        } else if let Some(n) = content_length {
            if n > MAX_ANSWER_BODY {
                return Err(too_big());
            }
            let mut body = vec![0; n];
            r.read_exact(&mut body).map_err(io_error)?;
            body
        } else {
            keep_alive = false; // the body ends where the connection does
            let mut body = Vec::new();
            r.take(MAX_ANSWER_BODY as u64 + 1)
                .read_to_end(&mut body)
                .map_err(io_error)?;
            if body.len() > MAX_ANSWER_BODY {
                return Err(too_big());
            }
            body
        };
        return Ok((StreamAnswer { status, body }, keep_alive));
    }
}

/// A CRLF (or LF) terminated line without its terminator; empty at end of input.
fn read_line<R: BufRead>(r: &mut R) -> io::Result<String> {
    let mut buf = Vec::new();
    r.take(16 * 1024).read_until(b'\n', &mut buf)?;
    while matches!(buf.last(), Some(b'\n' | b'\r')) {
        buf.pop();
    }
    Ok(String::from_utf8_lossy(&buf).into_owned())
}

/// A chunked body, trailers skipped. `None` when it is larger than `max`.
fn read_chunked<R: BufRead>(r: &mut R, max: usize) -> io::Result<Option<Vec<u8>>> {
    let mut body = Vec::new();
    loop {
        let line = read_line(r)?;
        let size_hex = line.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size_hex, 16)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "malformed chunk size"))?;
        if size == 0 {
            while !read_line(r)?.is_empty() {}
            return Ok(Some(body));
        }
        if body.len() + size > max {
            return Ok(None);
        }
        let start = body.len();
        body.resize(start + size, 0);
        r.read_exact(&mut body[start..])?;
        read_line(r)?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streaming_answer_parser_handles_interim_and_unsized_responses() {
        let mut r = &b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 202 Accepted\r\nConnection: close\r\n\r\nok"[..];
        let (a, keep_alive) = read_answer(&mut r).unwrap();
        assert_eq!((a.status, a.body.as_slice()), (202, &b"ok"[..]));
        assert!(
            !keep_alive,
            "a body delimited by the connection's end ends the connection"
        );
        let mut r = &b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n"[..];
        assert!(read_answer(&mut r).unwrap().1);
        let mut r = &b"HTTP/1.1 202 Accepted\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"[..];
        assert!(!read_answer(&mut r).unwrap().1);
        let mut r = &b"garbage\r\n\r\n"[..];
        assert_eq!(read_answer(&mut r).unwrap_err().code, ErrorCode::Protocol);
        let mut r = &b""[..];
        assert_eq!(read_answer(&mut r).unwrap_err().code, ErrorCode::Unreachable);
    }
}
