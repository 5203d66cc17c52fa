//! A Runtime API server for `npm run bench` (pure Rust, tested without Node; its bindings are
//! benchmark/native): it feeds invocations one at a time to a runtime and
//! times them on the server side, where no client can hide its own cost.
//!
//! One thread per connection, blocking sockets, no allocation beyond what a request needs. The
//! hot path has no thread hop: the connection thread that receives `GET next` pops the next
//! event from a queue the run filled beforehand, writes it and takes the time; the connection
//! thread that receives the `POST .../response` reads the whole body, takes the time, checks the
//! body byte for byte and only then answers `202`. So a round trip is exactly "event written ->
//! response fully read", and throughput is N over the time from the first event written to the
//! last response read.
//!
//! For Managed Instances the server also runs a **closed loop** (`closed_loop`): exactly C
//! invocations are outstanding (queued for a `GET next` or handed out) until the run's total has
//! been issued; each response that arrives queues the next invocation at once. Every event is
//! its own (`{"id":"ev-<n>"}`), and each response must be exactly
//! `{"id":"ev-<n>","requestId":"<its own request id>"}`, so an answer posted for the wrong
//! invocation fails the run.

mod lean;
pub use lean::{raw_echo_loop_lean, LeanConnection};

use std::collections::{HashMap, VecDeque};
use std::io::{BufRead, BufReader, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

pub(crate) const API: &str = "/2018-06-01/runtime";
const ARN: &str = "arn:aws:lambda:us-east-1:123456789012:function:bench-function";
const ACCEPTED: &[u8] =
    b"HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\nContent-Length: 15\r\n\r\n{\"status\":\"OK\"}";
/// Bodies up to this size are written with their headers in one `write`; larger ones in two.
const ONE_WRITE_MAX: usize = 64 * 1024;
/// A runaway client cannot make the server buffer more than this.
const MAX_BODY: usize = 64 * 1024 * 1024;

/// What a response must be for a run to count.
#[derive(Clone)]
pub enum Expect {
    /// The event itself, byte for byte.
    Echo,
    /// Exactly these bytes.
    Bytes(Arc<Vec<u8>>),
    /// Any body: a runtime's output cannot be predicted (only used for diagnostics).
    Any,
    /// `{"id":"<this event id>","requestId":"<the invocation's request id>"}` (closed loop).
    Invocation(String),
}

impl Expect {
    /// The bytes a response to `request_id` must be, when they are not the event itself.
    fn bytes(&self, request_id: &str) -> Option<Vec<u8>> {
        match self {
            Expect::Bytes(b) => Some(b.to_vec()),
            Expect::Invocation(event_id) => {
                Some(format!("{{\"id\":\"{event_id}\",\"requestId\":\"{request_id}\"}}").into_bytes())
            }
            Expect::Echo | Expect::Any => None,
        }
    }
}

/// One measured invocation, in nanoseconds since the server started.
#[derive(Clone, Copy, Debug, Default)]
pub struct Sample {
    /// The invocation was queued (for a closed loop: when its caller "sent" it).
    pub queued_ns: u64,
    /// The event was written to the socket (the write returned).
    pub written_ns: u64,
    /// The first byte of the response body arrived (for a chunked body: the first chunk).
    pub first_byte_ns: u64,
    /// The response body was read completely.
    pub done_ns: u64,
}

#[derive(Debug)]
pub struct RunReport {
    pub samples: Vec<Sample>,
    /// Responses whose body was not the expected one, with a description of the first few.
    pub mismatches: Vec<String>,
}

struct Queued {
    request_id: String,
    event: Arc<Vec<u8>>,
    expect: Expect,
    queued_ns: u64,
}

struct Pending {
    request_id: String,
    event: Arc<Vec<u8>>,
    expect: Expect,
    queued_ns: u64,
    written_ns: u64,
}

#[derive(Default)]
struct State {
    /// Events not yet handed out.
    queue: VecDeque<Queued>,
    /// Closed loop: invocations still to issue as responses come back.
    to_issue: usize,
    /// Responses that arrived before their event's write returned (a fast client and a tiny
    /// event): request id -> index in `samples`, stamped when the write returns.
    unstamped: HashMap<String, usize>,
    /// Events handed out whose response has not arrived.
    in_flight: Vec<Pending>,
    samples: Vec<Sample>,
    mismatches: Vec<String>,
    /// The first `GET next` since the last reset.
    first_get_ns: Option<u64>,
    /// Set when the runtime reported an error or the caller aborted: the run ends with it.
    failure: Option<String>,
    init_error: Option<String>,
    stopped: bool,
    seq: u64,
    /// Bumped by `reset`: a `GET next` held for a previous runtime (whose process is gone but
    /// whose connection thread still waits) must not take the next runtime's events.
    generation: u64,
}

pub struct BenchServer {
    port: u16,
    epoch: Instant,
    state: Mutex<State>,
    /// Signalled when a response arrives or the run fails (the caller's `wait`).
    changed: Condvar,
    /// Signalled when an event is queued, or on reset/stop (the held `GET next`s). Apart from
    /// `changed` so that a response wakes one held GET per queued event, not all of them.
    queued: Condvar,
}

impl BenchServer {
    /// Binds 127.0.0.1 on a free port and starts accepting connections on a thread.
    pub fn start() -> std::io::Result<Arc<BenchServer>> {
        let listener = TcpListener::bind(("127.0.0.1", 0))?;
        let port = listener.local_addr()?.port();
        let server = Arc::new(BenchServer {
            port,
            epoch: Instant::now(),
            state: Mutex::new(State::default()),
            changed: Condvar::new(),
            queued: Condvar::new(),
        });
        let accepting = server.clone();
        thread::Builder::new()
            .name("bench-accept".into())
            .spawn(move || accepting.accept_loop(listener))?;
        Ok(server)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Nanoseconds since the server started: the clock every sample uses.
    pub fn now_ns(&self) -> u64 {
        self.epoch.elapsed().as_nanos() as u64
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A connection thread never panics while holding the lock; if one did, the data is
        // still consistent enough for a benchmark to report the failure.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Forgets everything about the previous runtime process, before spawning the next one.
    pub fn reset(&self) {
        let mut s = self.lock();
        s.generation += 1;
        s.queue.clear();
        s.to_issue = 0;
        s.unstamped.clear();
        s.in_flight.clear();
        s.samples.clear();
        s.mismatches.clear();
        s.first_get_ns = None;
        s.failure = None;
        s.init_error = None;
        self.changed.notify_all();
        self.queued.notify_all();
    }

    pub fn first_get_ns(&self) -> Option<u64> {
        self.lock().first_get_ns
    }

    pub fn init_error(&self) -> Option<String> {
        self.lock().init_error.clone()
    }

    /// Ends a run in progress with this reason (e.g. the runtime process exited).
    pub fn abort(&self, reason: &str) {
        let mut s = self.lock();
        if s.failure.is_none() {
            s.failure = Some(reason.to_string());
        }
        self.changed.notify_all();
        self.queued.notify_all();
    }

    /// Stops accepting and fails any run in progress.
    pub fn stop(&self) {
        self.lock().stopped = true;
        self.abort("the bench server stopped");
        // Wake the accept loop so that it sees `stopped`.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }

    /// `enqueue` then `wait`.
    pub fn run(
        &self,
        event: Arc<Vec<u8>>,
        expect: Expect,
        count: usize,
        timeout: Duration,
    ) -> Result<RunReport, String> {
        self.enqueue(event, expect, count);
        self.wait(count, timeout)
    }

    /// Queues `count` copies of `event` (each with its own request id) and starts a new set of
    /// samples. Cheap and non-blocking: call it before spawning a runtime to time a cold start.
    pub fn enqueue(&self, event: Arc<Vec<u8>>, expect: Expect, count: usize) {
        let mut s = self.lock();
        s.samples.clear();
        s.samples.reserve(count);
        s.mismatches.clear();
        s.unstamped.clear();
        let now = self.now_ns();
        for _ in 0..count {
            let request_id = next_request_id(&mut s);
            s.queue.push_back(Queued {
                request_id,
                event: event.clone(),
                expect: expect.clone(),
                queued_ns: now,
            });
        }
        self.queued.notify_all();
    }

    /// Starts a closed loop: `concurrency` invocations outstanding at every moment until `total`
    /// have been issued, each with its own event and its own expected answer (see the module
    /// comment). Take the samples with `wait` as they come (e.g. a warm-up, then the window).
    pub fn closed_loop(&self, concurrency: usize, total: usize) {
        let mut s = self.lock();
        s.samples.clear();
        s.mismatches.clear();
        s.unstamped.clear();
        let first = concurrency.min(total);
        s.to_issue = total - first;
        for _ in 0..first {
            self.issue(&mut s);
        }
        self.queued.notify_all();
    }

    /// Queues one closed-loop invocation (the caller notifies the held GETs).
    fn issue(&self, s: &mut State) {
        let request_id = next_request_id(s);
        let event_id = format!("ev-{}", s.seq);
        let event = Arc::new(format!("{{\"id\":\"{event_id}\"}}").into_bytes());
        s.queue.push_back(Queued {
            request_id,
            event,
            expect: Expect::Invocation(event_id),
            queued_ns: self.now_ns(),
        });
    }

    /// Blocks until `count` responses have arrived, a runtime posted an error, the run was
    /// aborted, or `timeout` passed with no progress.
    pub fn wait(&self, count: usize, timeout: Duration) -> Result<RunReport, String> {
        let mut s = self.lock();
        let mut seen = 0;
        loop {
            if let Some(f) = s.failure.clone() {
                s.queue.clear();
                return Err(f);
            }
            if s.samples.len() >= count {
                s.unstamped.clear();
                return Ok(RunReport {
                    samples: std::mem::take(&mut s.samples),
                    mismatches: std::mem::take(&mut s.mismatches),
                });
            }
            let (guard, waited) = self
                .changed
                .wait_timeout(s, timeout)
                .unwrap_or_else(|p| p.into_inner());
            s = guard;
            if waited.timed_out() && s.samples.len() == seen && s.failure.is_none() {
                s.queue.clear();
                return Err(format!(
                    "no response for {} ms ({} of {} invocations done, {} handed out and unanswered)",
                    timeout.as_millis(),
                    s.samples.len(),
                    count,
                    s.in_flight.len()
                ));
            }
            seen = s.samples.len();
        }
    }

    fn accept_loop(self: Arc<Self>, listener: TcpListener) {
        for stream in listener.incoming() {
            if self.lock().stopped {
                return;
            }
            let Ok(stream) = stream else { continue };
            let _ = stream.set_nodelay(true);
            let server = self.clone();
            let _ = thread::Builder::new().name("bench-conn".into()).spawn(move || {
                let _ = server.serve(stream);
            });
        }
    }

    /// Serves one keep-alive connection until the client closes it.
    fn serve(&self, stream: TcpStream) -> std::io::Result<()> {
        let mut writer = stream.try_clone()?;
        let mut reader = BufReader::with_capacity(64 * 1024, stream);
        let mut line = String::new();
        let mut out = Vec::with_capacity(ONE_WRITE_MAX + 1024);
        loop {
            let Some(head) = read_head(&mut reader, &mut line)? else {
                return Ok(());
            };
            if head.expect_continue {
                writer.write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
            }
            let path = head.path.as_str();
            let route = path.strip_prefix(API).unwrap_or("");
            if head.method == "GET" && route == "/invocation/next" {
                self.hand_out_next(&mut writer, &mut out)?;
            } else if head.method == "POST" && route.starts_with("/invocation/") {
                let rest = &route["/invocation/".len()..];
                let mut first_byte_ns = 0;
                let body = read_body(&mut reader, &head, &mut line, || first_byte_ns = self.now_ns())?;
                let done_ns = self.now_ns();
                if let Some(id) = rest.strip_suffix("/response") {
                    self.record_response(id, body, first_byte_ns, done_ns);
                } else if let Some(id) = rest.strip_suffix("/error") {
                    let error_type = head.error_type.unwrap_or_default();
                    self.fail(format!(
                        "the runtime posted an error for {id}: {error_type} {}",
                        snippet(&body)
                    ));
                } else {
                    writer.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")?;
                    continue;
                }
                writer.write_all(ACCEPTED)?;
            } else if head.method == "POST" && route == "/init/error" {
                let body = read_body(&mut reader, &head, &mut line, || {})?;
                let text = format!(
                    "{} {}",
                    head.error_type.unwrap_or_default(),
                    String::from_utf8_lossy(&body)
                );
                self.lock().init_error = Some(text.clone());
                self.fail(format!("the runtime posted an init error: {text}"));
                writer.write_all(ACCEPTED)?;
            } else {
                let _ = read_body(&mut reader, &head, &mut line, || {});
                writer.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")?;
            }
            if head.close {
                let _ = writer.shutdown(Shutdown::Both);
                return Ok(());
            }
        }
    }

    fn fail(&self, reason: String) {
        let mut s = self.lock();
        if s.failure.is_none() {
            s.failure = Some(reason);
        }
        self.changed.notify_all();
    }

    /// Holds `GET next` until an event is queued, then writes it and stamps the time.
    fn hand_out_next(&self, writer: &mut TcpStream, out: &mut Vec<u8>) -> std::io::Result<()> {
        let mut s = self.lock();
        if s.first_get_ns.is_none() {
            s.first_get_ns = Some(self.now_ns());
        }
        let generation = s.generation;
        let item = loop {
            if s.stopped || s.generation != generation {
                // Pass on a wake-up this GET may have taken from a current one.
                if !s.queue.is_empty() {
                    self.queued.notify_one();
                }
                return Err(std::io::Error::other("stopped or reset"));
            }
            if let Some(item) = s.queue.pop_front() {
                break item;
            }
            s = self.queued.wait(s).unwrap_or_else(|p| p.into_inner());
        };
        // Registered before the write: a fast client may answer before `write_all` returns.
        let Queued {
            request_id: id,
            event,
            expect,
            queued_ns,
        } = item;
        s.in_flight.push(Pending {
            request_id: id.clone(),
            event: event.clone(),
            expect,
            queued_ns,
            written_ns: 0,
        });
        drop(s);
        let deadline_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as u64 + 900_000)
            .unwrap_or(0);
        out.clear();
        write!(
            out,
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\
             Lambda-Runtime-Aws-Request-Id: {id}\r\nLambda-Runtime-Deadline-Ms: {deadline_ms}\r\n\
             Lambda-Runtime-Invoked-Function-Arn: {ARN}\r\n\
             Lambda-Runtime-Trace-Id: Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1\r\n\
             Content-Length: {}\r\n\r\n",
            event.len()
        )?;
        if event.len() <= ONE_WRITE_MAX {
            out.extend_from_slice(&event);
            writer.write_all(out)?;
        } else {
            writer.write_all(out)?;
            writer.write_all(&event)?;
        }
        let written_ns = self.now_ns();
        let mut s = self.lock();
        if let Some(p) = s.in_flight.iter_mut().find(|p| p.request_id == id) {
            p.written_ns = written_ns;
        } else if let Some(i) = s.unstamped.remove(&id) {
            // The response already arrived (possible for tiny events): fix up its sample.
            if let Some(sample) = s.samples.get_mut(i) {
                sample.written_ns = written_ns;
            }
        }
        Ok(())
    }

    fn record_response(&self, id: &str, body: Vec<u8>, first_byte_ns: u64, done_ns: u64) {
        let id = percent_decode(id);
        let mut s = self.lock();
        let Some(i) = s.in_flight.iter().position(|p| p.request_id == id) else {
            let reason = format!("a response for an unknown request id {id:?}");
            s.failure.get_or_insert(reason);
            self.changed.notify_all();
            return;
        };
        let p = s.in_flight.swap_remove(i);
        let wanted = p.expect.bytes(&p.request_id);
        let ok = match (&p.expect, &wanted) {
            (Expect::Any, _) => true,
            (_, Some(w)) => body == *w,
            (_, None) => body == *p.event,
        };
        if !ok && s.mismatches.len() < 3 {
            let expected: &[u8] = wanted.as_deref().unwrap_or(&p.event);
            let at = body
                .iter()
                .zip(expected)
                .position(|(a, b)| a != b)
                .unwrap_or(body.len().min(expected.len()));
            let m = format!(
                "response for {id}: {} bytes, expected {} bytes, first difference at byte {at}: got {} expected {}",
                body.len(),
                expected.len(),
                snippet(&body[at.min(body.len())..]),
                snippet(&expected[at.min(expected.len())..]),
            );
            s.mismatches.push(m);
        } else if !ok {
            s.mismatches.push(String::new());
        }
        if p.written_ns == 0 {
            let i = s.samples.len();
            s.unstamped.insert(p.request_id.clone(), i);
        }
        let written_ns = if p.written_ns == 0 { u64::MAX } else { p.written_ns };
        if s.to_issue > 0 && s.failure.is_none() {
            s.to_issue -= 1;
            self.issue(&mut s);
            self.queued.notify_one();
        }
        s.samples.push(Sample {
            queued_ns: p.queued_ns,
            written_ns,
            first_byte_ns: if first_byte_ns == 0 {
                done_ns
            } else {
                first_byte_ns
            },
            done_ns,
        });
        self.changed.notify_all();
    }
}

fn next_request_id(s: &mut State) -> String {
    s.seq += 1;
    format!("bench-{:08x}-0000-4000-8000-{:012x}", s.seq >> 32, s.seq)
}

fn snippet(b: &[u8]) -> String {
    let s = String::from_utf8_lossy(&b[..b.len().min(80)]).into_owned();
    format!("{s:?}")
}

fn percent_decode(s: &str) -> String {
    if !s.contains('%') {
        return s.to_string();
    }
    let bytes = s.as_bytes();
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push(h << 4 | l);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

pub(crate) struct Head {
    method: String,
    path: String,
    content_length: Option<usize>,
    chunked: bool,
    expect_continue: bool,
    close: bool,
    error_type: Option<String>,
    pub(crate) request_id: Option<String>,
}

/// Reads a request line and headers; `None` when the client closed the connection.
pub(crate) fn read_head(reader: &mut impl BufRead, line: &mut String) -> std::io::Result<Option<Head>> {
    line.clear();
    if reader.read_line(line)? == 0 {
        return Ok(None);
    }
    let mut parts = line.split_ascii_whitespace();
    let method = parts.next().unwrap_or("").to_string();
    let path = parts.next().unwrap_or("").to_string();
    let mut head = Head {
        method,
        path,
        content_length: None,
        chunked: false,
        expect_continue: false,
        close: false,
        error_type: None,
        request_id: None,
    };
    loop {
        line.clear();
        if reader.read_line(line)? == 0 {
            return Ok(None);
        }
        let h = line.trim_end();
        if h.is_empty() {
            return Ok(Some(head));
        }
        let Some((name, value)) = h.split_once(':') else {
            continue;
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            head.content_length = value.parse().ok();
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            head.chunked = value.to_ascii_lowercase().contains("chunked");
        } else if name.eq_ignore_ascii_case("expect") {
            head.expect_continue = value.eq_ignore_ascii_case("100-continue");
        } else if name.eq_ignore_ascii_case("connection") {
            head.close = value.eq_ignore_ascii_case("close");
        } else if name.eq_ignore_ascii_case("lambda-runtime-function-error-type") {
            head.error_type = Some(value.to_string());
        } else if name.eq_ignore_ascii_case("lambda-runtime-aws-request-id") {
            head.request_id = Some(value.to_string());
        }
    }
}

/// Reads a sized or chunked body (trailers skipped); `first_byte` is called when the first
/// body byte is available.
pub(crate) fn read_body(
    reader: &mut impl BufRead,
    head: &Head,
    line: &mut String,
    mut first_byte: impl FnMut(),
) -> std::io::Result<Vec<u8>> {
    let too_big = || std::io::Error::other("body too large");
    if head.chunked {
        let mut body = Vec::new();
        loop {
            line.clear();
            if reader.read_line(line)? == 0 {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
            let size_text = line.trim_end().split(';').next().unwrap_or("");
            let size = usize::from_str_radix(size_text.trim(), 16)
                .map_err(|_| std::io::Error::other("bad chunk size"))?;
            if size == 0 {
                // Trailers, then the empty line.
                loop {
                    line.clear();
                    if reader.read_line(line)? == 0 || line.trim_end().is_empty() {
                        return Ok(body);
                    }
                }
            }
            if body.is_empty() {
                first_byte();
            }
            if body.len() + size > MAX_BODY {
                return Err(too_big());
            }
            let start = body.len();
            body.resize(start + size, 0);
            reader.read_exact(&mut body[start..])?;
            line.clear();
            reader.read_line(line)?; // the CRLF after the chunk
        }
    } else {
        let len = head.content_length.unwrap_or(0);
        if len > MAX_BODY {
            return Err(too_big());
        }
        let mut body = vec![0; len];
        if len > 0 {
            // The first byte is stamped once the buffer holds some of the body.
            reader.fill_buf()?;
            first_byte();
            reader.read_exact(&mut body)?;
        }
        Ok(body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    /// Sends one request; returns (status line, request id header, body).
    fn request(stream: &mut TcpStream, text: &str) -> (String, String, String) {
        stream.write_all(text.as_bytes()).unwrap();
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut status = String::new();
        reader.read_line(&mut status).unwrap();
        let (mut len, mut id) = (0, String::new());
        let mut line = String::new();
        loop {
            line.clear();
            reader.read_line(&mut line).unwrap();
            if line.trim_end().is_empty() {
                break;
            }
            let (name, value) = line.split_once(':').unwrap();
            match name.to_ascii_lowercase().as_str() {
                "content-length" => len = value.trim().parse().unwrap(),
                "lambda-runtime-aws-request-id" => id = value.trim().to_string(),
                _ => {}
            }
        }
        let mut body = vec![0; len];
        reader.read_exact(&mut body).unwrap();
        (status, id, String::from_utf8(body).unwrap())
    }

    const NEXT: &str = "GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\n\r\n";

    #[test]
    fn echo_run_times_and_checks_every_response() {
        let server = BenchServer::start().unwrap();
        let port = server.port();
        let client = thread::spawn(move || {
            let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
            for i in 0..3 {
                let (_, id, body) = request(&mut s, NEXT);
                // The last response is chunked and differs from the event: a mismatch.
                let post = if i < 2 {
                    format!(
                        "POST /2018-06-01/runtime/invocation/{id}/response HTTP/1.1\r\nContent-Length: {}\r\n\r\n{body}",
                        body.len()
                    )
                } else {
                    format!(
                        "POST /2018-06-01/runtime/invocation/{id}/response HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n1\r\nc\r\n0\r\nX-Trailer: 1\r\n\r\n"
                    )
                };
                let (status, _, _) = request(&mut s, &post);
                assert!(status.starts_with("HTTP/1.1 202"), "{status}");
            }
        });
        let report = server
            .run(
                Arc::new(b"{\"a\":1}".to_vec()),
                Expect::Echo,
                3,
                Duration::from_secs(5),
            )
            .unwrap();
        client.join().unwrap();
        assert_eq!(report.samples.len(), 3);
        for s in &report.samples {
            assert!(s.written_ns > 0 && s.written_ns <= s.first_byte_ns && s.first_byte_ns <= s.done_ns);
        }
        assert_eq!(report.mismatches.len(), 1);
        assert!(report.mismatches[0].contains("3 bytes, expected 7 bytes"));
        assert!(server.first_get_ns().is_some());
        server.stop();
    }

    #[test]
    fn a_posted_error_fails_the_run() {
        let server = BenchServer::start().unwrap();
        let port = server.port();
        let client = thread::spawn(move || {
            let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
            let (_, id, _) = request(&mut s, NEXT);
            let post = format!(
                "POST /2018-06-01/runtime/invocation/{id}/error HTTP/1.1\r\nLambda-Runtime-Function-Error-Type: Runtime.Boom\r\nContent-Length: 2\r\n\r\n{{}}"
            );
            request(&mut s, &post);
        });
        let err = server
            .run(Arc::new(b"{}".to_vec()), Expect::Any, 2, Duration::from_secs(5))
            .unwrap_err();
        client.join().unwrap();
        assert!(err.contains("Runtime.Boom"), "{err}");
        server.stop();
    }

    #[test]
    fn a_next_held_for_a_previous_runtime_does_not_take_the_next_runtimes_event() {
        let server = BenchServer::start().unwrap();
        let port = server.port();
        // The "previous runtime": a GET next held open, then the process is gone.
        let mut old = TcpStream::connect(("127.0.0.1", port)).unwrap();
        old.write_all(NEXT.as_bytes()).unwrap();
        while server.first_get_ns().is_none() {
            thread::sleep(Duration::from_millis(1));
        }
        server.reset();
        let client = thread::spawn(move || {
            let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
            let (_, id, body) = request(&mut s, NEXT);
            let post = format!(
                "POST /2018-06-01/runtime/invocation/{id}/response HTTP/1.1\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            );
            request(&mut s, &post);
        });
        let report = server
            .run(Arc::new(b"{}".to_vec()), Expect::Echo, 1, Duration::from_secs(5))
            .unwrap();
        client.join().unwrap();
        assert_eq!(report.samples.len(), 1);
        drop(old);
        server.stop();
    }

    #[test]
    fn a_closed_loop_keeps_c_outstanding_and_refuses_an_answer_for_another_invocation() {
        let server = BenchServer::start().unwrap();
        let port = server.port();
        server.closed_loop(2, 6);
        // Two GETs on two connections, as two workers would: both are served at once, since
        // two invocations are outstanding.
        let mut a = TcpStream::connect(("127.0.0.1", port)).unwrap();
        let mut b = TcpStream::connect(("127.0.0.1", port)).unwrap();
        let (_, id_a, event_a) = request(&mut a, NEXT);
        let (_, id_b, event_b) = request(&mut b, NEXT);
        assert_ne!(id_a, id_b);
        assert_ne!(event_a, event_b, "every invocation has its own event");
        let answer = |event: &str, id: &str| {
            let event_id = event.trim_start_matches("{\"id\":\"").trim_end_matches("\"}");
            format!("{{\"id\":\"{event_id}\",\"requestId\":\"{id}\"}}")
        };
        let post = |s: &mut TcpStream, id: &str, body: &str| {
            let text = format!(
                "POST /2018-06-01/runtime/invocation/{id}/response HTTP/1.1\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            );
            request(s, &text)
        };
        // A right answer, and one for invocation b posted as a's answer's twin: mixed up.
        post(&mut a, &id_a, &answer(&event_a, &id_a));
        post(&mut b, &id_b, &answer(&event_a, &id_b));
        let report = server.wait(2, Duration::from_secs(5)).unwrap();
        assert_eq!(report.samples.len(), 2);
        assert_eq!(report.mismatches.len(), 1, "{:?}", report.mismatches);
        // Each answer queued the next invocation: two more are ready without waiting.
        let (_, id_c, _) = request(&mut a, NEXT);
        let (_, id_d, _) = request(&mut b, NEXT);
        assert!(![&id_a, &id_b].contains(&&id_c) && id_c != id_d);
        for s in &report.samples {
            assert!(s.queued_ns <= s.written_ns && s.written_ns <= s.done_ns);
        }
        server.stop();
    }

    #[test]
    fn percent_decoding_of_request_ids() {
        assert_eq!(percent_decode("a%2Fb"), "a/b");
        assert_eq!(percent_decode("plain-id"), "plain-id");
        assert_eq!(percent_decode("bad%zz"), "bad%zz");
    }
}
