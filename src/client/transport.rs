//! The client's own ureq transport: a plain `TcpStream` (TCP_NODELAY) that costs one `sendto`
//! per request and no system call at all to decide whether a pooled connection can be reused.
//!
//! ureq's default TCP transport spends, per request/answer pair, four probes of the pooled
//! connection (`ioctl(FIONBIO)`, a one-byte `recvfrom` failing with `EAGAIN`, `ioctl(FIONBIO)`,
//! when it returns to the pool and again when it is taken) and writes a request's head and body
//! with one `sendto` each, so the Runtime API wakes twice to read a POST. This transport:
//!
//! - **Coalesces output.** What ureq transmits is kept in the output buffer and written in one
//!   `write_all` when ureq starts waiting for the answer (`maybe_await_input`/`await_input`),
//!   or earlier once half the buffer is used (a large body goes out in chunks of at least half
//!   the buffer, as before, not all at once).
//! - **Answers `is_open()` from what it already knows**: not broken (no EOF or I/O error seen),
//!   no unread input left over, and not older than the last time the client saw a kept-alive
//!   connection die ([`Staleness`]). A connection the server closed while idle is therefore not
//!   detected before reuse; the request meets the close (EOF or reset before any answer), and
//!   the client's retry (src/client/mod.rs) marks every pooled connection stale and sends once more,
//!   which is then certain to open a new connection instead of taking another stale one.
//!
//! No timeouts: the Agent configures none (GET next is held open until an event exists), so the
//! `NextTimeout` arguments are not applied to the socket.

use std::fmt;
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};

use ureq::unversioned::transport::{
    Buffers, ConnectionDetails, Connector, LazyBuffers, NextTimeout, ShutdownHandle, Transport,
};
use ureq::Error;

/// A generation counter shared by the client and every connection it opened: bumping it marks
/// every connection that has not received a byte since as not reusable.
#[derive(Debug, Default, Clone)]
pub struct Staleness(Arc<AtomicU64>);

impl Staleness {
    /// A kept-alive connection was found closed: the others idled as long, so they are suspect too.
    pub fn mark_all_stale(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }

    fn generation(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// Opens a [`RapidTransport`] to the first resolved address that accepts.
#[derive(Debug)]
pub struct RapidConnector {
    staleness: Staleness,
}

impl RapidConnector {
    pub fn new(staleness: Staleness) -> Self {
        RapidConnector { staleness }
    }
}

impl Connector for RapidConnector {
    type Out = RapidTransport;

    fn connect(
        &self,
        details: &ConnectionDetails,
        _chained: Option<()>,
    ) -> Result<Option<RapidTransport>, Error> {
        let mut last_error = None;
        let mut stream = None;
        for addr in details.addrs.iter() {
            match TcpStream::connect(addr) {
                Ok(s) => {
                    stream = Some(s);
                    break;
                }
                Err(e) => last_error = Some(e),
            }
        }
        let Some(stream) = stream else {
            return Err(Error::Io(last_error.unwrap_or_else(|| {
                io::Error::new(io::ErrorKind::ConnectionRefused, "no address to connect to")
            })));
        };
        if details.config.no_delay() {
            stream.set_nodelay(true)?;
        }
        let transport = RapidTransport::new(
            stream,
            details.config.input_buffer_size(),
            details.config.output_buffer_size(),
            self.staleness.clone(),
        );
        // Lets `Agent::shutdown()` interrupt I/O blocked on this socket, as ureq's own TCP
        // transport does.
        (details.register_shutdown)(transport.shutdown_handle())?;
        Ok(Some(transport))
    }
}

pub struct RapidTransport {
    stream: Arc<TcpStream>,
    buffers: RapidBuffers,
    staleness: Staleness,
    /// The staleness generation when this connection was opened or last received bytes.
    alive_at: u64,
    /// An EOF or an I/O error was seen: never reuse.
    broken: bool,
    /// Bytes received since the last request went out: a reset after some of an answer arrived
    /// is that answer breaking off, not a connection the server dropped unread (the client
    /// retries only the latter, src/client/mod.rs).
    answer_bytes: usize,
}

impl RapidTransport {
    fn new(stream: TcpStream, input_size: usize, output_size: usize, staleness: Staleness) -> Self {
        RapidTransport {
            stream: Arc::new(stream),
            buffers: RapidBuffers::new(input_size, output_size),
            alive_at: staleness.generation(),
            staleness,
            broken: false,
            answer_bytes: 0,
        }
    }

    fn shutdown_handle(&self) -> Weak<dyn ShutdownHandle> {
        Arc::downgrade(&self.stream) as Weak<dyn ShutdownHandle>
    }

    /// A reset once part of the answer arrived becomes `InvalidData`, which the client reports
    /// as a broken answer (ureq passes I/O errors through unchanged).
    fn broken_answer(&self, e: io::Error) -> io::Error {
        let reset = matches!(
            e.kind(),
            io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionAborted
        );
        if reset && self.answer_bytes > 0 {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "the connection was reset after {} bytes of the answer had arrived ({e})",
                    self.answer_bytes
                ),
            )
        } else {
            e
        }
    }

    /// Writes every pending output byte in one `write_all`.
    fn flush(&mut self) -> Result<(), Error> {
        if self.buffers.pending == 0 {
            return Ok(());
        }
        let result = (&*self.stream).write_all(&self.buffers.out[..self.buffers.pending]);
        self.buffers.pending = 0;
        self.answer_bytes = 0;
        result.map_err(|e| {
            self.broken = true;
            Error::Io(e)
        })
    }
}

impl Transport for RapidTransport {
    fn buffers(&mut self) -> &mut dyn Buffers {
        &mut self.buffers
    }

    fn transmit_output(&mut self, amount: usize, _timeout: NextTimeout) -> Result<(), Error> {
        let buffers = &mut self.buffers;
        buffers.pending = (buffers.pending + amount).min(buffers.out.len());
        if buffers.room_is_low() {
            self.flush()?;
        }
        Ok(())
    }

    fn maybe_await_input(&mut self, timeout: NextTimeout) -> Result<bool, Error> {
        // The request must be on the wire before we wait for its answer, also when the answer's
        // first bytes are buffered already.
        self.flush()?;
        if self.buffers.can_use_input() {
            return Ok(true);
        }
        self.await_input(timeout)
    }

    fn await_input(&mut self, _timeout: NextTimeout) -> Result<bool, Error> {
        self.flush()?;
        let input = self.buffers.input_append_buf();
        let amount = loop {
            match (&*self.stream).read(input) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    self.broken = true;
                    return Err(Error::Io(self.broken_answer(e)));
                }
                Ok(n) => break n,
            }
        };
        if amount == 0 {
            self.broken = true;
            return Ok(false);
        }
        self.buffers.input_appended(amount);
        self.answer_bytes += amount;
        self.alive_at = self.staleness.generation();
        Ok(true)
    }

    fn is_open(&mut self) -> bool {
        !self.broken && self.buffers.input().is_empty() && self.alive_at >= self.staleness.generation()
    }
}

impl fmt::Debug for RapidTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RapidTransport")
            .field("peer", &self.stream.peer_addr().ok())
            .field("pending", &self.buffers.pending)
            .field("broken", &self.broken)
            .finish()
    }
}

/// Input as ureq's `LazyBuffers` keeps it; output in our own buffer, where bytes ureq has
/// transmitted stay (`out[..pending]`) until flushed, and ureq writes after them.
struct RapidBuffers {
    /// Only its input side is used (its output buffer is one unused byte).
    input: LazyBuffers,
    /// Allocated on first use, `output_size` bytes.
    out: Vec<u8>,
    output_size: usize,
    pending: usize,
}

impl RapidBuffers {
    fn new(input_size: usize, output_size: usize) -> Self {
        RapidBuffers {
            input: LazyBuffers::new(input_size.max(1), 1),
            out: Vec::new(),
            output_size: output_size.max(1),
            pending: 0,
        }
    }

    /// Space for ureq to write after the pending bytes: never less than half the buffer
    /// (transmit_output flushes once less would be left), the whole of it for a request's head.
    fn free_output(&mut self) -> &mut [u8] {
        if self.out.len() < self.output_size {
            self.out.resize(self.output_size, 0);
        }
        &mut self.out[self.pending..]
    }

    fn room_is_low(&self) -> bool {
        self.pending * 2 > self.output_size
    }
}

impl Buffers for RapidBuffers {
    fn output(&mut self) -> &mut [u8] {
        self.free_output()
    }

    fn input(&self) -> &[u8] {
        self.input.input()
    }

    fn input_append_buf(&mut self) -> &mut [u8] {
        self.input.input_append_buf()
    }

    fn input_appended(&mut self, amount: usize) {
        self.input.input_appended(amount)
    }

    fn input_consume(&mut self, amount: usize) {
        self.input.input_consume(amount)
    }

    fn tmp_and_output(&mut self) -> (&mut [u8], &mut [u8]) {
        if self.out.len() < self.output_size {
            self.out.resize(self.output_size, 0);
        }
        let (tmp, _unused) = self.input.tmp_and_output();
        (tmp, &mut self.out[self.pending..])
    }

    fn can_use_input(&self) -> bool {
        self.input.can_use_input()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;
    use std::time::Duration;

    /// A transport connected to a server socket the test reads from directly.
    fn pair(output_size: usize) -> (RapidTransport, TcpStream, Staleness) {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let client = TcpStream::connect(listener.local_addr().expect("addr")).expect("connect");
        let (server, _) = listener.accept().expect("accept");
        let staleness = Staleness::default();
        let transport = RapidTransport::new(client, 4096, output_size, staleness.clone());
        (transport, server, staleness)
    }

    fn transmit(t: &mut RapidTransport, bytes: &[u8]) {
        let out = t.buffers().output();
        out[..bytes.len()].copy_from_slice(bytes);
        t.transmit_output(bytes.len(), NextTimeout::default())
            .expect("transmit");
    }

    /// What the server can read without waiting (up to 1 MiB).
    fn readable_now(server: &TcpStream) -> Vec<u8> {
        server.set_nonblocking(true).expect("nonblocking");
        let mut all = Vec::new();
        let mut buf = [0u8; 65536];
        loop {
            match (&*server).read(&mut buf) {
                Ok(0) => break,
                Ok(n) => all.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) => panic!("read: {e}"),
            }
        }
        server.set_nonblocking(false).expect("blocking");
        all
    }

    /// Bytes in flight on loopback arrive within this; used only to show nothing was sent.
    fn settle() {
        std::thread::sleep(Duration::from_millis(20));
    }

    #[test]
    fn head_and_body_stay_buffered_until_the_answer_is_awaited() {
        let (mut t, mut server, _) = pair(1024);
        transmit(&mut t, b"POST /x HTTP/1.1\r\nContent-Length: 2\r\n\r\n");
        transmit(&mut t, b"{}");
        settle();
        assert!(
            readable_now(&server).is_empty(),
            "nothing sent before await_input"
        );
        server.write_all(b"HTTP/1.1 202 Accepted\r\n").expect("answer");
        assert!(t.maybe_await_input(NextTimeout::default()).expect("input"));
        settle();
        assert_eq!(
            readable_now(&server),
            b"POST /x HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}".to_vec()
        );
        assert_eq!(t.buffers().input(), b"HTTP/1.1 202 Accepted\r\n");
        assert!(!t.is_open(), "unconsumed input: not reusable");
        let n = t.buffers().input().len();
        t.buffers().input_consume(n);
        assert!(t.is_open());
    }

    #[test]
    fn a_large_body_goes_out_once_half_the_buffer_is_used() {
        let (mut t, server, _) = pair(100);
        transmit(&mut t, &[b'a'; 30]);
        transmit(&mut t, &[b'b'; 30]);
        settle();
        assert_eq!(readable_now(&server).len(), 60, "flushed past half of 100");
        assert_eq!(t.buffers().output().len(), 100, "the whole buffer again");
        transmit(&mut t, &[b'c'; 10]);
        settle();
        assert!(readable_now(&server).is_empty());
        t.flush().expect("flush");
        settle();
        assert_eq!(readable_now(&server), vec![b'c'; 10]);
    }

    #[test]
    fn output_is_written_after_the_pending_bytes() {
        let (mut t, server, _) = pair(64);
        transmit(&mut t, b"abc");
        assert_eq!(t.buffers().output().len(), 61);
        let (_tmp, out) = t.buffers().tmp_and_output();
        assert_eq!(out.len(), 61);
        out[..3].copy_from_slice(b"def");
        t.transmit_output(3, NextTimeout::default()).expect("transmit");
        t.flush().expect("flush");
        settle();
        assert_eq!(readable_now(&server), b"abcdef".to_vec());
    }

    #[test]
    fn eof_makes_the_connection_not_reusable() {
        let (mut t, server, _) = pair(64);
        assert!(t.is_open());
        drop(server);
        assert!(!t
            .await_input(NextTimeout::default())
            .expect("eof is not an error"));
        assert!(!t.is_open());
    }

    #[test]
    fn marking_stale_retires_connections_that_have_not_heard_from_the_server_since() {
        let (mut t, mut server, staleness) = pair(64);
        let (mut idle, _idle_server, _) = pair(64);
        idle.staleness = staleness.clone();
        assert!(t.is_open() && idle.is_open());
        staleness.mark_all_stale();
        assert!(!t.is_open() && !idle.is_open());
        // A connection that received bytes after the mark is alive again.
        server.write_all(b"x").expect("write");
        assert!(t.await_input(NextTimeout::default()).expect("input"));
        t.buffers().input_consume(1);
        assert!(t.is_open());
        assert!(!idle.is_open());
    }

    #[test]
    fn a_write_to_a_reset_connection_is_an_io_error_and_breaks_the_transport() {
        let (mut t, server, _) = pair(64);
        // Unread data at close makes the server reset the connection.
        transmit(&mut t, b"first");
        t.flush().expect("flush");
        settle();
        drop(server);
        settle();
        let mut result = Ok(());
        for _ in 0..3 {
            transmit_unchecked(&mut t, b"second");
            result = t.flush();
            if result.is_err() {
                break;
            }
            settle();
        }
        assert!(matches!(result, Err(Error::Io(_))), "{result:?}");
        assert!(!t.is_open());
    }

    fn transmit_unchecked(t: &mut RapidTransport, bytes: &[u8]) {
        let out = t.buffers().output();
        out[..bytes.len()].copy_from_slice(bytes);
        let _ = t.transmit_output(bytes.len(), NextTimeout::default());
    }
}
