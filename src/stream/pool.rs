//! The streamed responses' connection pool: a finished stream's connection is kept for the next
//! stream to the same Runtime API, briefly.

use std::io;
use std::net::TcpStream;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::queue::lock;
use crate::client::still_open;

/// Connections of finished streamed responses, kept open as an HTTP client's pool would: the
/// next stream to the same Runtime API (usually the next invocation's) skips the TCP handshake
/// and the server's per-connection setup. A few, for concurrent invocations.
static IDLE: Mutex<Vec<(String, TcpStream, Instant)>> = Mutex::new(Vec::new());
const MAX_IDLE: usize = 4;
/// A connection idle for longer is not reused: a body already streamed cannot be sent again if
/// the server closes the connection just as we reuse it, and servers close idle connections
/// after a few seconds (Node's default is 5 s). Back-to-back invocations are what reuse is for.
const MAX_IDLE_AGE: Duration = Duration::from_secs(2);

pub(super) fn connect(authority: &str) -> io::Result<TcpStream> {
    if let Some(stream) = take_idle(authority) {
        stream.set_nonblocking(false)?;
        return Ok(stream);
    }
    let stream = TcpStream::connect(authority)?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

/// A kept-alive connection to `authority` that is still open, left in non-blocking mode.
pub(super) fn take_idle(authority: &str) -> Option<TcpStream> {
    loop {
        let (_, stream, since) = {
            let mut idle = lock(&IDLE);
            let found = idle.iter().rposition(|(a, _, _)| a == authority)?;
            idle.remove(found)
        };
        if since.elapsed() < MAX_IDLE_AGE && still_open(&stream) {
            return Some(stream);
        }
        // Closed by the server meanwhile, or idle too long: try the next one.
    }
}

pub(super) fn keep_idle(authority: &str, stream: TcpStream) {
    let mut idle = lock(&IDLE);
    if idle.len() >= MAX_IDLE {
        idle.remove(0);
    }
    idle.push((authority.to_string(), stream, Instant::now()));
}
