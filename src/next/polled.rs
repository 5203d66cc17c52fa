//! GET next without a thread: the request and its answer over a non-blocking socket, advanced by
//! whoever watches that socket. In Node that is libuv's own loop (src/next/on_loop.rs), so the
//! event's arrival wakes the JS thread directly, with no thread in between to wake first and
//! no hop back (docs/wire-protocol.md has the measurements).
//!
//! The HTTP is ureq's: its sans-IO protocol layer (`ureq-proto`) writes the request and parses
//! the answer; this module only moves bytes between it and the socket. Connection handling
//! follows the blocking client's (src/client/mod.rs): one kept-alive connection with TCP_NODELAY,
//! and a GET whose connection closes before any byte of an answer is sent once more on a new
//! connection (the server closed it while idle, or dropped the GET it held). This connection is
//! GET next's own: the posts keep theirs in the blocking client's pool.
//!
//! Use: [`PolledNextChannel::begin`] a [`PolledNext`], call [`PolledNext::resume`] whenever its
//! socket ([`PolledNext::fd`]) is ready for what the last [`Step::Wait`] asked, and give it
//! back with [`PolledNextChannel::finish`] after [`Step::Done`] so that its connection is kept.

use std::io::{self, Read, Write};
use std::mem;
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::os::fd::{AsRawFd, FromRawFd, RawFd};
use std::rc::Rc;

use ureq::http::{Request, Response, Uri};
use ureq_proto::client::state::{RecvBody, RecvResponse};
use ureq_proto::client::{Call, RecvBodyResult, RecvResponseResult, SendRequestResult};

use crate::client::{invocation_from_answer, still_open, MAX_BODY, USER_AGENT};
use crate::error::{ErrorCode, RuntimeApiError};
use crate::invocation::Invocation;

/// What the socket must become before [`PolledNext::resume`] can make progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Want {
    Readable,
    Writable,
}

pub enum Step {
    Wait(Want),
    Done(Result<Invocation, RuntimeApiError>),
}

/// Where GET next goes, and the connection kept between two GETs.
pub struct PolledNextChannel {
    uri: Uri,
    host: Rc<str>,
    port: u16,
    /// Resolved on first use (an IP address, or `localhost`, costs no lookup on the network);
    /// lent to each GET and given back by `finish`.
    addrs: Vec<SocketAddr>,
    idle: Option<TcpStream>,
    /// Socket reads land here before the protocol layer copies them out; reused across GETs.
    scratch: Vec<u8>,
}

const SCRATCH: usize = 128 * 1024;
/// Request line plus headers; ours is about 130 bytes.
const REQUEST_HEAD_MAX: usize = 1024;

impl PolledNextChannel {
    /// `next_url` is the full URL of GET next, e.g. `http://127.0.0.1:9001/2018-06-01/runtime/invocation/next`.
    pub fn new(next_url: &str) -> Result<Self, RuntimeApiError> {
        let invalid = |why: String| RuntimeApiError::new(ErrorCode::InvalidEndpoint, why);
        let uri: Uri = next_url
            .parse()
            .map_err(|e| invalid(format!("invalid Runtime API URL '{next_url}': {e}")))?;
        let host = uri
            .host()
            .ok_or_else(|| invalid(format!("no host in Runtime API URL '{next_url}'")))?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .into();
        let port = uri.port_u16().unwrap_or(80);
        Ok(PolledNextChannel {
            uri,
            host,
            port,
            addrs: Vec::new(),
            idle: None,
            scratch: Vec::new(),
        })
    }

    /// A GET next, on the kept connection if there is one. Nothing is sent before the first
    /// [`PolledNext::resume`].
    pub fn begin(&mut self) -> PolledNext {
        let mut scratch = mem::take(&mut self.scratch);
        if scratch.len() < SCRATCH {
            scratch = vec![0; SCRATCH];
        }
        PolledNext {
            uri: self.uri.clone(),
            addrs: mem::take(&mut self.addrs),
            host: self.host.clone(),
            port: self.port,
            stream: None,
            answered: false,
            sent_only: true,
            retried: false,
            phase: Phase::Start(self.idle.take()),
            head: Vec::new(),
            scratch,
            answer: None,
            retired: Vec::new(),
        }
    }

    /// The kept connection, taken out if it is no longer fit for the next GET: the server closed
    /// it (or it failed, or sent bytes nobody asked for). For whoever watches it while idle.
    pub fn take_idle_if_closed(&mut self) -> Option<TcpStream> {
        if still_open(self.idle.as_ref()?) {
            None
        } else {
            self.idle.take()
        }
    }

    /// Takes back a finished GET: its connection is kept when the answer left it reusable.
    pub fn finish(&mut self, next: PolledNext) {
        let PolledNext {
            stream,
            phase,
            scratch,
            addrs,
            ..
        } = next;
        self.scratch = scratch;
        self.addrs = addrs;
        if let (Phase::Done { keep: true }, Some(stream)) = (phase, stream) {
            self.idle = Some(stream);
        }
    }
}

enum Phase {
    /// Not sent yet; the kept connection, if any.
    Start(Option<TcpStream>),
    /// A non-blocking connect to `addrs[index]` is in progress.
    Connecting { index: usize },
    /// The request head, written up to `written`.
    Sending {
        head: Vec<u8>,
        written: usize,
        call: Call<RecvResponse>,
    },
    /// Waiting for the status line and headers (what arrived so far is in `PolledNext::head`).
    Head { call: Call<RecvResponse> },
    Body {
        call: Call<RecvBody>,
        response: Response<()>,
        body: Vec<u8>,
        filled: usize,
    },
    /// The answer is complete; `keep`: the connection can serve the next GET.
    Done { keep: bool },
}

/// One GET next in progress. See the module documentation.
pub struct PolledNext {
    uri: Uri,
    /// Where to connect: the channel's, resolved from `host` and `port` if still empty.
    addrs: Vec<SocketAddr>,
    host: Rc<str>,
    port: u16,
    stream: Option<TcpStream>,
    /// Some byte of the answer arrived: a close from then on is not retried.
    answered: bool,
    /// Not read from yet: the first `resume` only sends (see `resume`).
    sent_only: bool,
    retried: bool,
    phase: Phase,
    /// Bytes of the answer's head received so far.
    head: Vec<u8>,
    scratch: Vec<u8>,
    /// The complete answer: its status and headers, and its body.
    answer: Option<(Response<()>, Vec<u8>)>,
    /// Connections given up, still open: whoever watches a socket must stop before it is
    /// closed (libuv's rule), so they are closed by [`PolledNext::drop_retired`] or at the end.
    retired: Vec<TcpStream>,
}

impl PolledNext {
    /// The socket to watch, once there is one (after the first `resume`).
    pub fn fd(&self) -> Option<RawFd> {
        self.stream.as_ref().map(|s| s.as_raw_fd())
    }

    /// Whether the connection stays open for the next GET (once done).
    pub fn keeps_connection(&self) -> bool {
        matches!(self.phase, Phase::Done { keep: true }) && self.stream.is_some()
    }

    /// Closes the connections given up so far (see `retired`).
    pub fn drop_retired(&mut self) {
        self.retired.clear();
    }

    fn retire_stream(&mut self) {
        if let Some(stream) = self.stream.take() {
            self.retired.push(stream);
        }
    }

    /// Makes all the progress the socket allows without blocking. The first call stops once the
    /// request is sent, and waits for the socket to be readable even if the answer is already
    /// there: the answer is then always taken in the event loop's poll phase, never inside the
    /// JS call that sent the GET (docs/event-loop.md depends on the phase).
    pub fn resume(&mut self) -> Step {
        match self.advance() {
            Ok(Some(want)) => Step::Wait(want),
            Ok(None) => Step::Done(self.invocation()),
            Err(e) => {
                self.phase = Phase::Done { keep: false };
                self.retire_stream();
                Step::Done(Err(e))
            }
        }
    }

    /// Drives the phases until the socket would block (`Some`) or the answer is complete (`None`).
    fn advance(&mut self) -> Result<Option<Want>, RuntimeApiError> {
        loop {
            self.phase = match mem::replace(&mut self.phase, Phase::Done { keep: false }) {
                Phase::Start(Some(kept)) => {
                    self.stream = Some(kept);
                    self.sending()?
                }
                Phase::Start(None) => self.connect_from(0)?,
                Phase::Connecting { index } => {
                    let outcome = match &self.stream {
                        Some(stream) => stream.take_error(),
                        None => Ok(None),
                    };
                    match outcome {
                        Ok(None) => self.sending()?,
                        Ok(Some(e)) | Err(e) => {
                            self.retire_stream();
                            self.connect_after_failure(index + 1, e)?
                        }
                    }
                }
                Phase::Sending { head, written, call } => match self.stream_mut()?.write(&head[written..]) {
                    Ok(n) if written + n == head.len() => Phase::Head { call },
                    Ok(n) => Phase::Sending {
                        head,
                        written: written + n,
                        call,
                    },
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                        self.phase = Phase::Sending { head, written, call };
                        return Ok(Some(Want::Writable));
                    }
                    Err(e) => self.retry_or_fail(e)?,
                },
                Phase::Head { call } if self.sent_only => {
                    self.sent_only = false;
                    self.phase = Phase::Head { call };
                    return Ok(Some(Want::Readable));
                }
                Phase::Head { call } => {
                    let n = match self.read() {
                        Ok(0) => {
                            self.phase = self.retry_or_fail(io::ErrorKind::UnexpectedEof.into())?;
                            continue;
                        }
                        Ok(n) => n,
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                            self.phase = Phase::Head { call };
                            return Ok(Some(Want::Readable));
                        }
                        Err(e) => {
                            self.phase = self.retry_or_fail(e)?;
                            continue;
                        }
                    };
                    self.answered = true;
                    self.head.extend_from_slice(&self.scratch[..n]);
                    self.parse_head(call)?
                }
                Phase::Body {
                    mut call,
                    response,
                    mut body,
                    mut filled,
                } => {
                    let n = match self.read() {
                        Ok(n) => n,
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                            self.phase = Phase::Body {
                                call,
                                response,
                                body,
                                filled,
                            };
                            return Ok(Some(Want::Readable));
                        }
                        Err(e) => return Err(broken_body(&e.to_string())),
                    };
                    if n == 0 {
                        // Only a body delimited by the connection's end may end this way.
                        if call.body_mode() != ureq_proto::BodyMode::CloseDelimited {
                            return Err(broken_body("the connection closed in the middle of the body"));
                        }
                        self.retire_stream();
                        body.truncate(filled);
                        self.answer = Some((response, body));
                        Phase::Done { keep: false }
                    } else {
                        let used = feed_body(&mut call, &mut body, &mut filled, &self.scratch[..n])?;
                        self.body_or_done(call, response, body, filled, used < n)
                    }
                }
                done @ Phase::Done { .. } => {
                    self.phase = done;
                    return Ok(None);
                }
            };
        }
    }

    /// Parses the head once it is complete; the bytes after it start the body.
    fn parse_head(&mut self, mut call: Call<RecvResponse>) -> Result<Phase, RuntimeApiError> {
        let (used, response) = call.try_response(&self.head, false).map_err(malformed)?;
        let Some(response) = response else {
            self.head.drain(..used); // a 100 Continue was skipped; the rest needs more bytes
            return Ok(Phase::Head { call });
        };
        let rest = self.head.split_off(used);
        self.head.clear();
        match call.proceed() {
            Some(RecvResponseResult::RecvBody(mut call)) => {
                let mut body = vec![0; initial_body_capacity(&response)?];
                let mut filled = 0;
                let used = feed_body(&mut call, &mut body, &mut filled, &rest)?;
                Ok(self.body_or_done(call, response, body, filled, used < rest.len()))
            }
            Some(RecvResponseResult::Cleanup(cleanup)) => {
                self.answer = Some((response, Vec::new()));
                Ok(Phase::Done {
                    keep: !cleanup.must_close_connection() && rest.is_empty(),
                })
            }
            Some(RecvResponseResult::Redirect(_)) | None => {
                Err(protocol("the Runtime API answered GET next with a redirect"))
            }
        }
    }

    /// Still in the body, or done with it. `extra`: bytes arrived past the answer's end, which
    /// no request asked for, so the connection is not reused.
    fn body_or_done(
        &mut self,
        call: Call<RecvBody>,
        response: Response<()>,
        mut body: Vec<u8>,
        filled: usize,
        extra: bool,
    ) -> Phase {
        if !body_ended(&call) {
            return Phase::Body {
                call,
                response,
                body,
                filled,
            };
        }
        let keep = match call.proceed() {
            Some(RecvBodyResult::Cleanup(cleanup)) => !cleanup.must_close_connection() && !extra,
            _ => false,
        };
        body.truncate(filled);
        self.answer = Some((response, body));
        Phase::Done { keep }
    }

    /// The request head, written by ureq-proto, ready to go out on the connected stream.
    fn sending(&mut self) -> Result<Phase, RuntimeApiError> {
        let request = Request::get(self.uri.clone())
            .header("user-agent", USER_AGENT)
            .header("accept", "*/*")
            .body(())
            .map_err(|e| protocol(&format!("cannot build GET next: {e}")))?;
        let call = Call::new(request).map_err(malformed)?;
        let mut call = call.proceed();
        let mut head = vec![0; REQUEST_HEAD_MAX];
        let len = call.write(&mut head).map_err(malformed)?;
        head.truncate(len);
        match call.proceed().map_err(malformed)? {
            Some(SendRequestResult::RecvResponse(call)) => Ok(Phase::Sending {
                head,
                written: 0,
                call,
            }),
            _ => Err(protocol("internal: GET next has no body to send")),
        }
    }

    /// The connection closed before any byte of an answer: the request goes once more, on a
    /// new connection (the blocking client's policy, src/client/mod.rs). Once bytes of the answer
    /// arrived, the break is the answer's: the Runtime API may have handed the event out, so it
    /// is reported as such (how far the head got) and not sent again.
    fn retry_or_fail(&mut self, e: io::Error) -> Result<Phase, RuntimeApiError> {
        self.retire_stream();
        let received = self.head.len();
        self.head.clear();
        if self.answered {
            let how = if e.kind() == io::ErrorKind::UnexpectedEof {
                "the connection closed".to_owned()
            } else {
                format!("the connection was reset ({e})")
            };
            return Err(protocol(&format!(
                "the Runtime API's answer to GET next broke off inside its head: {how} after {received} bytes of it had arrived"
            )));
        }
        if !self.retried {
            self.retried = true;
            return self.connect_from(0);
        }
        Err(RuntimeApiError::new(
            ErrorCode::Unreachable,
            format!(
                "the Runtime API is unreachable: the connection closed before GET next was answered ({e})"
            ),
        ))
    }

    /// Starts a non-blocking connect to the first address, from `index`, that does not refuse at once.
    fn connect_from(&mut self, index: usize) -> Result<Phase, RuntimeApiError> {
        if self.addrs.is_empty() {
            let host = &self.host;
            let addrs = (&**host, self.port).to_socket_addrs().map_err(|e| {
                RuntimeApiError::new(
                    ErrorCode::Unreachable,
                    format!("the Runtime API is unreachable: cannot resolve '{host}': {e}"),
                )
            })?;
            self.addrs = addrs.collect();
        }
        let mut last_error = None;
        for (i, addr) in self.addrs.iter().enumerate().skip(index) {
            match start_connect(addr) {
                Ok((stream, connected)) => {
                    self.stream = Some(stream);
                    return if connected {
                        self.sending()
                    } else {
                        Ok(Phase::Connecting { index: i })
                    };
                }
                Err(e) => last_error = Some(e),
            }
        }
        Err(unreachable(last_error))
    }

    fn connect_after_failure(&mut self, index: usize, e: io::Error) -> Result<Phase, RuntimeApiError> {
        if index < self.addrs.len() {
            self.connect_from(index)
        } else {
            Err(unreachable(Some(e)))
        }
    }

    fn stream_mut(&mut self) -> Result<&mut TcpStream, RuntimeApiError> {
        self.stream
            .as_mut()
            .ok_or_else(|| protocol("internal: no connection"))
    }

    fn read(&mut self) -> io::Result<usize> {
        match self.stream.as_mut() {
            Some(stream) => stream.read(&mut self.scratch),
            None => Err(io::ErrorKind::NotConnected.into()),
        }
    }

    /// The finished answer as an invocation, or the Runtime API's refusal.
    fn invocation(&mut self) -> Result<Invocation, RuntimeApiError> {
        let (response, body) = self
            .answer
            .take()
            .ok_or_else(|| protocol("internal: GET next finished without an answer"))?;
        invocation_from_answer(response.status().as_u16(), response.headers(), body)
    }
}

/// Copies body bytes from `input` through the protocol layer into `body`, growing it when the
/// size was not announced; returns how much of `input` belonged to the body.
fn feed_body(
    call: &mut Call<RecvBody>,
    body: &mut Vec<u8>,
    filled: &mut usize,
    input: &[u8],
) -> Result<usize, RuntimeApiError> {
    let mut used = 0;
    while used < input.len() && !body_ended(call) {
        if *filled == body.len() {
            let grown = (body.len() * 2).max(16 * 1024);
            if grown as u64 > MAX_BODY {
                return Err(broken_body("the body is larger than any Lambda event"));
            }
            body.resize(grown, 0);
        }
        let (input_used, output_used) = call
            .read(&input[used..], &mut body[*filled..])
            .map_err(malformed)?;
        if input_used == 0 && output_used == 0 {
            break;
        }
        used += input_used;
        *filled += output_used;
    }
    Ok(used)
}

/// The protocol layer says a close-delimited body "can proceed" from the start: it ends only
/// with the connection.
fn body_ended(call: &Call<RecvBody>) -> bool {
    call.can_proceed() && call.body_mode() != ureq_proto::BodyMode::CloseDelimited
}

/// The announced length (zeroed memory from the allocator costs nothing until written), or a
/// start for a chunked body.
fn initial_body_capacity(response: &Response<()>) -> Result<usize, RuntimeApiError> {
    let announced = response
        .headers()
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    match announced {
        Some(len) if len > MAX_BODY => Err(broken_body("the body is larger than any Lambda event")),
        Some(len) => Ok(len as usize),
        None => Ok(16 * 1024),
    }
}

/// A non-blocking TCP socket with a connect to `addr` started: `(stream, true)` if it connected
/// at once, `(stream, false)` if it is in progress (the socket turns writable when it ends).
fn start_connect(addr: &SocketAddr) -> io::Result<(TcpStream, bool)> {
    let domain = match addr {
        SocketAddr::V4(_) => libc::AF_INET,
        SocketAddr::V6(_) => libc::AF_INET6,
    };
    // SAFETY: plain socket(2); the descriptor is owned by the TcpStream right after.
    let fd = unsafe { libc::socket(domain, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `fd` is a fresh socket that nothing else owns.
    let stream = unsafe { TcpStream::from_raw_fd(fd) };
    stream.set_nonblocking(true)?;
    stream.set_nodelay(true)?;
    let (storage, len) = socket_address(addr);
    // SAFETY: `storage` holds a valid sockaddr of `len` bytes for the socket's family.
    let rc = unsafe { libc::connect(fd, (&storage as *const libc::sockaddr_storage).cast(), len) };
    if rc == 0 {
        return Ok((stream, true));
    }
    let e = io::Error::last_os_error();
    if e.raw_os_error() == Some(libc::EINPROGRESS) {
        Ok((stream, false))
    } else {
        Err(e)
    }
}

fn socket_address(addr: &SocketAddr) -> (libc::sockaddr_storage, libc::socklen_t) {
    // SAFETY: an all-zero sockaddr_storage is a valid (unspecified) address.
    let mut storage: libc::sockaddr_storage = unsafe { mem::zeroed() };
    let len = match addr {
        SocketAddr::V4(a) => {
            // SAFETY: sockaddr_storage is large and aligned enough for any sockaddr.
            let sin =
                unsafe { &mut *(&mut storage as *mut libc::sockaddr_storage).cast::<libc::sockaddr_in>() };
            sin.sin_family = libc::AF_INET as libc::sa_family_t;
            sin.sin_port = a.port().to_be();
            sin.sin_addr = libc::in_addr {
                s_addr: u32::from_ne_bytes(a.ip().octets()),
            };
            mem::size_of::<libc::sockaddr_in>()
        }
        SocketAddr::V6(a) => {
            // SAFETY: as above.
            let sin6 =
                unsafe { &mut *(&mut storage as *mut libc::sockaddr_storage).cast::<libc::sockaddr_in6>() };
            sin6.sin6_family = libc::AF_INET6 as libc::sa_family_t;
            sin6.sin6_port = a.port().to_be();
            sin6.sin6_flowinfo = a.flowinfo();
            sin6.sin6_addr = libc::in6_addr {
                s6_addr: a.ip().octets(),
            };
            sin6.sin6_scope_id = a.scope_id();
            mem::size_of::<libc::sockaddr_in6>()
        }
    };
    (storage, len as libc::socklen_t)
}

fn unreachable(e: Option<io::Error>) -> RuntimeApiError {
    let why = e.map_or_else(|| "no address to connect to".to_owned(), |e| e.to_string());
    RuntimeApiError::new(
        ErrorCode::Unreachable,
        format!("the Runtime API is unreachable: {why}"),
    )
}

fn malformed(e: ureq_proto::Error) -> RuntimeApiError {
    protocol(&format!(
        "the Runtime API's answer to GET next is not valid HTTP: {e}"
    ))
}

fn broken_body(why: &str) -> RuntimeApiError {
    protocol(&format!("reading the Runtime API's answer failed: {why}"))
}

fn protocol(message: &str) -> RuntimeApiError {
    RuntimeApiError::new(ErrorCode::Protocol, message)
}
