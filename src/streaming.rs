//! Response streaming: one chunked HTTP/1.1 `POST /runtime/invocation/{id}/response` per streamed
//! invocation, written by hand over a `TcpStream` because the Runtime API reports a mid-stream
//! failure in request *trailers*, which ureq cannot send.
//!
//! The upload runs on a thread of its own, fed by JS writes through a queue whose size is bounded
//! in bytes: `write` says whether there is room left, and `when_drained` calls back (from the
//! worker thread) once there is room again. The JS thread never blocks on the socket; a slow
//! Runtime API shows up in JS as backpressure. Chunks are whatever the caller owns (`AsRef<[u8]>`):
//! the N-API boundary passes JS Buffers here without copying them.
//!
//! Wire format (what the official client's `http.request` sends, in a stable order):
//!
//! ```text
//! POST /2018-06-01/runtime/invocation/{id}/response HTTP/1.1
//! Host: {host:port}
//! Lambda-Runtime-Function-Response-Mode: streaming
//! Content-Type: {content type}
//! Transfer-Encoding: chunked
//! Trailer: Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body
//!
//! {size in hex}\r\n{bytes}\r\n ...
//! 0\r\n
//! [Lambda-Runtime-Function-Error-Type: {type}\r\n
//!  Lambda-Runtime-Function-Error-Body: {base64 of the error JSON}\r\n]
//! \r\n
//! ```

use std::io::{self, BufRead, BufReader, IoSlice, Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use crate::base64;
use crate::client::{percent_encode_into, still_open};
use crate::endpoint::base_url;
use crate::error::{ErrorCode, RuntimeApiError};

pub const RESPONSE_MODE_HEADER: &str = "Lambda-Runtime-Function-Response-Mode";
pub const ERROR_TYPE_TRAILER: &str = "Lambda-Runtime-Function-Error-Type";
pub const ERROR_BODY_TRAILER: &str = "Lambda-Runtime-Function-Error-Body";
pub const DEFAULT_CONTENT_TYPE: &str = "application/octet-stream";
const API_VERSION: &str = "2018-06-01";
/// Chunk data up to this size is copied next to its framing so that a burst of small writes
/// leaves in one `write` call; larger data goes to the socket from the caller's memory.
const COALESCE_MAX: usize = 8 * 1024;
/// The copied bytes are flushed at this size even while more commands are queued.
const PENDING_FLUSH_AT: usize = 64 * 1024;
/// The Runtime API's answer to a streamed response is a small JSON document.
const MAX_ANSWER_BODY: usize = 1024 * 1024;

/// Where a streamed response goes: `host:port` to connect to and the request target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamTarget {
    pub authority: String,
    pub path: String,
}

impl StreamTarget {
    /// The response URL of one invocation, from `AWS_LAMBDA_RUNTIME_API` (`host:port[/prefix]`).
    pub fn for_response(endpoint: &str, request_id: &str) -> Result<Self, RuntimeApiError> {
        let base = base_url(endpoint)?;
        // base_url always yields `http://authority[/prefix]`.
        let rest = base.strip_prefix("http://").unwrap_or(&base);
        let (authority, prefix) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, ""),
        };
        let mut path = String::with_capacity(prefix.len() + request_id.len() + 48);
        path.push_str(prefix);
        path.push('/');
        path.push_str(API_VERSION);
        path.push_str("/runtime/invocation/");
        percent_encode_into(request_id, &mut path);
        path.push_str("/response");
        Ok(StreamTarget {
            authority: authority.to_string(),
            path,
        })
    }
}

/// The Runtime API's answer once the whole stream was sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamAnswer {
    pub status: u16,
    pub body: Vec<u8>,
}

/// How the stream ends: normally, or with the error trailers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamEnd {
    Complete,
    Failed { error_type: String, error_json: Vec<u8> },
}

enum Command<C> {
    Chunks(Vec<C>, usize),
    End(StreamEnd),
}

type Callback<T> = Box<dyn FnOnce(T) + Send>;

/// Chunks the worker has finished with, handed back so that the caller's thread drops them: a
/// JS Buffer is released where it was created, at once, instead of waiting for an event-loop
/// turn (a producer writing in a tight loop of nextTicks gives none).
pub struct SpentChunks<C>(Arc<Mutex<Vec<C>>>);

impl<C> SpentChunks<C> {
    /// Drops, on this thread, every chunk the worker has finished with.
    pub fn reclaim(&self) {
        let spent = std::mem::take(&mut *lock(&self.0));
        drop(spent);
    }

    fn put(&self, chunks: Vec<C>) {
        lock(&self.0).extend(chunks);
    }
}

impl<C> Clone for SpentChunks<C> {
    fn clone(&self) -> Self {
        SpentChunks(self.0.clone())
    }
}

/// A one-shot notification that may be awaited before or after it happens.
enum Slot<T> {
    Waiting(Option<Callback<T>>),
    Done(T),
}

struct Shared {
    /// Bytes accepted from the caller and not yet handed to the socket.
    queued: AtomicUsize,
    high_water: usize,
    drain_waiter: Mutex<Option<Callback<()>>>,
    /// Set when the upload broke; later writes are refused with it.
    broken: Mutex<Option<RuntimeApiError>>,
    finished: Mutex<Slot<Result<StreamAnswer, RuntimeApiError>>>,
}

impl Shared {
    fn has_room(&self) -> bool {
        self.queued.load(Ordering::SeqCst) < self.high_water
    }

    /// Called by the worker after `n` queued bytes left the queue.
    fn release(&self, n: usize) {
        self.queued.fetch_sub(n, Ordering::SeqCst);
        if self.has_room() {
            self.wake_drain_waiter();
        }
    }

    fn wake_drain_waiter(&self) {
        let waiter = lock(&self.drain_waiter).take();
        if let Some(w) = waiter {
            w(());
        }
    }

    fn finish(&self, result: Result<StreamAnswer, RuntimeApiError>) {
        let mut slot = lock(&self.finished);
        match std::mem::replace(&mut *slot, Slot::Waiting(None)) {
            Slot::Waiting(Some(cb)) => {
                *slot = Slot::Done(result.clone());
                drop(slot);
                cb(result);
            }
            _ => {
                *slot = Slot::Done(result);
                drop(slot);
            }
        }
        // Whoever waits for room must not wait forever on a stream that is over.
        self.wake_drain_waiter();
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic while holding one of these locks leaves plain data behind; keep going.
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The JS-facing half of one streamed response. Dropping it without `end`/`fail` aborts the
/// request (the Runtime API sees a connection closed mid-body).
pub struct ResponseStream<C: AsRef<[u8]> + Send + 'static> {
    tx: Option<Sender<Command<C>>>,
    shared: Arc<Shared>,
    spent: SpentChunks<C>,
    /// The upload not handed to its thread yet: a kept-alive connection was ready, so the first
    /// write goes out from the caller's thread (see `write`).
    unstarted: Option<Unstarted<C>>,
}

/// What the upload thread needs, held until the first write.
struct Unstarted<C> {
    authority: String,
    stream: TcpStream,
    head: Vec<u8>,
    rx: Receiver<Command<C>>,
}

impl<C: AsRef<[u8]> + Send + 'static> ResponseStream<C> {
    /// Starts the worker thread, which connects right away and sends the request head with the
    /// first chunk (or with the end, for an empty stream). `high_water` is the number of queued
    /// bytes at which `write` starts reporting that there is no room.
    pub fn start(
        target: StreamTarget,
        content_type: &str,
        high_water: usize,
    ) -> Result<Self, RuntimeApiError> {
        let shared = Arc::new(Shared {
            queued: AtomicUsize::new(0),
            high_water: high_water.max(1),
            drain_waiter: Mutex::new(None),
            broken: Mutex::new(None),
            finished: Mutex::new(Slot::Waiting(None)),
        });
        let (tx, rx) = mpsc::channel();
        let head = request_head(&target, content_type);
        let spent = SpentChunks(Arc::new(Mutex::new(Vec::new())));
        let mut stream = ResponseStream {
            tx: Some(tx),
            shared,
            spent,
            unstarted: None,
        };
        match take_idle(&target.authority) {
            Some(kept) => {
                stream.unstarted = Some(Unstarted {
                    authority: target.authority,
                    stream: kept,
                    head,
                    rx,
                })
            }
            None => stream.start_upload(target.authority, None, head, rx)?,
        }
        Ok(stream)
    }

    /// Hands the upload to its thread. `connection`: one already open, on which `preamble` (the
    /// head, or what is left of the head and first chunk) is to be written at once; without
    /// one, the thread connects and sends the head with the first chunk.
    fn start_upload(
        &self,
        authority: String,
        connection: Option<TcpStream>,
        preamble: Vec<u8>,
        rx: Receiver<Command<C>>,
    ) -> Result<(), RuntimeApiError> {
        let worker_shared = self.shared.clone();
        let worker_spent = self.spent.clone();
        run_on_upload_thread(Box::new(move || {
            let result = upload(
                &authority,
                connection,
                preamble,
                &rx,
                &worker_shared,
                &worker_spent,
            );
            worker_shared.finish(result);
        }))
        .map_err(|e| {
            RuntimeApiError::new(
                ErrorCode::Protocol,
                format!("could not start the response stream's thread: {e}"),
            )
        })
    }

    /// The first write on a kept-alive connection: the head and a small first chunk go out from
    /// this thread in one non-blocking `write`, so the first byte does not wait for the upload
    /// thread to wake (docs/streaming.md). Returns whether `chunks` were sent (or left in the
    /// preamble the thread finishes writing); `false` leaves them to the queue.
    fn first_write(&mut self, chunks: &[C]) -> Result<bool, RuntimeApiError> {
        let Some(Unstarted {
            authority,
            stream,
            head,
            rx,
        }) = self.unstarted.take()
        else {
            return Ok(false);
        };
        let total: usize = chunks.iter().map(|c| c.as_ref().len()).sum();
        if total > COALESCE_MAX {
            self.start_upload(authority, Some(stream), head, rx)?;
            return Ok(false);
        }
        let mut preamble = ChunkedWriter::new(Vec::new(), head);
        // Into memory: cannot fail, and every part is small enough to be copied.
        let _ = preamble.chunk(chunks);
        let mut bytes = preamble.pending;
        match (&stream).write(&bytes) {
            Ok(n) => {
                bytes.drain(..n);
                self.start_upload(authority, Some(stream), bytes, rx)?;
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                self.start_upload(authority, Some(stream), bytes, rx)?;
            }
            // Closed since it was checked: nothing of this request reached the server, so all
            // of it goes on a new connection.
            Err(_) => {
                drop(stream);
                self.start_upload(authority, None, bytes, rx)?;
            }
        }
        Ok(true)
    }

    /// Queues chunks (sent as one HTTP chunk; empty ones are skipped). Returns whether there is
    /// still room; when there is not, the caller should wait for `when_drained`. Refused once the
    /// stream has ended or the upload has broken.
    pub fn write(&mut self, chunks: Vec<C>) -> Result<bool, RuntimeApiError> {
        self.spent.reclaim();
        if let Some(e) = lock(&self.shared.broken).as_ref() {
            return Err(e.clone());
        }
        if self.tx.is_none() {
            return Err(ended_error());
        }
        let n: usize = chunks.iter().map(|c| c.as_ref().len()).sum();
        if n == 0 {
            return Ok(self.shared.has_room());
        }
        if self.first_write(&chunks)? {
            return Ok(self.shared.has_room());
        }
        let tx = self.tx.as_ref().ok_or_else(ended_error)?;
        self.shared.queued.fetch_add(n, Ordering::SeqCst);
        if tx.send(Command::Chunks(chunks, n)).is_err() {
            // The worker is gone: the upload finished with an error already recorded.
            self.shared.queued.fetch_sub(n, Ordering::SeqCst);
            return Err(lock(&self.shared.broken).clone().unwrap_or_else(ended_error));
        }
        Ok(self.shared.has_room())
    }

    /// A handle to drop the chunks the worker has finished with (see `SpentChunks`).
    pub fn spent_chunks(&self) -> SpentChunks<C> {
        self.spent.clone()
    }

    /// Bytes queued and not yet handed to the socket.
    pub fn queued_bytes(&self) -> usize {
        self.shared.queued.load(Ordering::SeqCst)
    }

    /// Calls `f` once there is room in the queue (right away, on this thread, if there is room
    /// now), or once the stream is over.
    pub fn when_drained(&self, f: impl FnOnce() + Send + 'static) {
        let mut waiter = lock(&self.shared.drain_waiter);
        // Checked under the lock the worker takes to wake us: no wake-up can be missed.
        let over = matches!(*lock(&self.shared.finished), Slot::Done(_));
        if self.shared.has_room() || over {
            drop(waiter);
            f();
        } else {
            *waiter = Some(Box::new(move |()| f()));
        }
    }

    /// Ends the stream (with the error trailers for `StreamEnd::Failed`). `on_finished` gets the
    /// Runtime API's answer, on the worker thread, or right away if the stream is already over.
    pub fn end(
        &mut self,
        how: StreamEnd,
        on_finished: impl FnOnce(Result<StreamAnswer, RuntimeApiError>) + Send + 'static,
    ) {
        self.start_if_unstarted();
        if let Some(tx) = self.tx.take() {
            // A send error means the worker already stopped; its result is in `finished`.
            let _ = tx.send(Command::End(how));
        }
        self.on_finished(on_finished);
    }

    /// Nothing was written: the thread sends the head with whatever comes next (the end, or
    /// nothing for a dropped stream, which it then aborts).
    fn start_if_unstarted(&mut self) {
        if let Some(Unstarted {
            authority,
            stream,
            head,
            rx,
        }) = self.unstarted.take()
        {
            if let Err(e) = self.start_upload(authority, Some(stream), head, rx) {
                self.shared.finish(Err(e));
            }
        }
    }

    fn on_finished(&self, f: impl FnOnce(Result<StreamAnswer, RuntimeApiError>) + Send + 'static) {
        let mut slot = lock(&self.shared.finished);
        match &mut *slot {
            Slot::Done(result) => {
                let result = result.clone();
                drop(slot);
                f(result);
            }
            Slot::Waiting(cb) => *cb = Some(Box::new(f)),
        }
    }
}

impl<C: AsRef<[u8]> + Send + 'static> Drop for ResponseStream<C> {
    fn drop(&mut self) {
        self.start_if_unstarted();
    }
}

type Job = Box<dyn FnOnce() + Send>;

/// Upload threads waiting for their next stream: a thread outlives its stream, so the next
/// invocation does not pay for creating one. A few, for concurrent invocations.
static PARKED: Mutex<Vec<Sender<Job>>> = Mutex::new(Vec::new());
const MAX_PARKED: usize = 2;

fn run_on_upload_thread(job: Job) -> io::Result<()> {
    let mut job = job;
    loop {
        let parked = lock(&PARKED).pop();
        match parked {
            Some(thread) => match thread.send(job) {
                Ok(()) => return Ok(()),
                Err(mpsc::SendError(returned)) => job = returned,
            },
            None => break,
        }
    }
    thread::Builder::new()
        .name("lambda-rapid-stream".into())
        .spawn(move || {
            let mut job = job;
            loop {
                job();
                let (tx, rx) = mpsc::channel();
                {
                    let mut parked = lock(&PARKED);
                    if parked.len() >= MAX_PARKED {
                        return;
                    }
                    parked.push(tx);
                }
                match rx.recv() {
                    Ok(next) => job = next,
                    Err(_) => return,
                }
            }
        })
        .map(|_| ())
}

fn ended_error() -> RuntimeApiError {
    RuntimeApiError::new(
        ErrorCode::Protocol,
        "the response stream has already ended; nothing more can be written to it",
    )
}

fn request_head(target: &StreamTarget, content_type: &str) -> Vec<u8> {
    let mut head = Vec::with_capacity(320 + target.path.len());
    head.extend_from_slice(b"POST ");
    head.extend_from_slice(target.path.as_bytes());
    head.extend_from_slice(b" HTTP/1.1\r\nHost: ");
    head.extend_from_slice(target.authority.as_bytes());
    head.extend_from_slice(b"\r\nUser-Agent: lambda-rapid/0.1\r\n");
    head.extend_from_slice(RESPONSE_MODE_HEADER.as_bytes());
    head.extend_from_slice(b": streaming\r\nContent-Type: ");
    head.extend_from_slice(header_value(content_type).as_bytes());
    head.extend_from_slice(b"\r\nTransfer-Encoding: chunked\r\nTrailer: ");
    head.extend_from_slice(ERROR_TYPE_TRAILER.as_bytes());
    head.extend_from_slice(b", ");
    head.extend_from_slice(ERROR_BODY_TRAILER.as_bytes());
    head.extend_from_slice(b"\r\n\r\n");
    head
}

/// A header value keeps only visible ASCII, spaces and tabs: nothing can end the line early.
fn header_value(value: &str) -> String {
    value
        .chars()
        .map(|c| {
            if c == '\t' || (' '..='~').contains(&c) {
                c
            } else {
                '?'
            }
        })
        .collect()
}

/// The worker thread's whole job: connect, send every queued chunk, end, read the answer.
fn upload<C: AsRef<[u8]>>(
    authority: &str,
    connection: Option<TcpStream>,
    preamble: Vec<u8>,
    rx: &Receiver<Command<C>>,
    shared: &Shared,
    spent: &SpentChunks<C>,
) -> Result<StreamAnswer, RuntimeApiError> {
    // A connection handed over by the caller's first write already carries part of the request:
    // the rest of it goes out now, whatever comes next.
    let handed_over = connection.is_some();
    let connected = match connection {
        Some(stream) => stream.set_nonblocking(false).map(|_| stream),
        None => connect(authority),
    };
    let stream = match connected {
        Ok(s) => s,
        Err(e) => {
            let err = RuntimeApiError::new(
                ErrorCode::Unreachable,
                format!("the Runtime API is unreachable (streaming response to {authority}): {e}"),
            );
            return Err(broken(shared, rx, spent, err));
        }
    };
    let mut out = ChunkedWriter::new(&stream, preamble);
    let sent = if handed_over {
        out.flush().and_then(|_| send_body(&mut out, rx, shared, spent))
    } else {
        send_body(&mut out, rx, shared, spent)
    };
    if let Ok(false) = sent {
        // Abandoned: never wait for an answer to a request the server is still reading.
        let _ = stream.shutdown(std::net::Shutdown::Both);
        return Err(broken(shared, rx, spent, aborted_error()));
    }
    // After a failed write the Runtime API may still have answered (a refusal before the end of
    // the stream); its answer says why, and is worth more than the broken pipe it caused.
    let mut reader = BufReader::new(&stream);
    let answer = read_answer(&mut reader);
    let nothing_more = reader.buffer().is_empty();
    drop(reader);
    let err = match (sent, answer) {
        (Ok(_), Ok((answer, keep_alive))) if (200..300).contains(&answer.status) => {
            if keep_alive && nothing_more {
                keep_idle(authority, stream);
            }
            return Ok(answer);
        }
        (Err(e), Ok((answer, _))) if (200..300).contains(&answer.status) => RuntimeApiError::new(
            ErrorCode::Unreachable,
            format!("the Runtime API answered before the streamed response was sent whole: {e}"),
        ),
        (_, Ok((answer, _))) => RuntimeApiError::status(
            answer.status,
            "POST response (streaming)",
            String::from_utf8_lossy(&answer.body).into_owned(),
        ),
        (Err(e), Err(_)) => RuntimeApiError::new(
            ErrorCode::Unreachable,
            format!("the Runtime API connection broke while streaming the response: {e}"),
        ),
        (Ok(_), Err(e)) => e,
    };
    Err(broken(shared, rx, spent, err))
}

/// Connections of finished streamed responses, kept open as an HTTP client's pool would: the
/// next stream to the same Runtime API (usually the next invocation's) skips the TCP handshake
/// and the server's per-connection setup. A few, for concurrent invocations.
static IDLE: Mutex<Vec<(String, TcpStream, Instant)>> = Mutex::new(Vec::new());
const MAX_IDLE: usize = 4;
/// A connection idle for longer is not reused: a body already streamed cannot be sent again if
/// the server closes the connection just as we reuse it, and servers close idle connections
/// after a few seconds (Node's default is 5 s). Back-to-back invocations are what reuse is for.
const MAX_IDLE_AGE: Duration = Duration::from_secs(2);

fn connect(authority: &str) -> io::Result<TcpStream> {
    if let Some(stream) = take_idle(authority) {
        stream.set_nonblocking(false)?;
        return Ok(stream);
    }
    let stream = TcpStream::connect(authority)?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

/// A kept-alive connection to `authority` that is still open, left in non-blocking mode.
fn take_idle(authority: &str) -> Option<TcpStream> {
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

fn keep_idle(authority: &str, stream: TcpStream) {
    let mut idle = lock(&IDLE);
    if idle.len() >= MAX_IDLE {
        idle.remove(0);
    }
    idle.push((authority.to_string(), stream, Instant::now()));
}

fn aborted_error() -> RuntimeApiError {
    RuntimeApiError::new(
        ErrorCode::Protocol,
        "the response stream was abandoned before it ended",
    )
}

/// Records why the upload stopped, then drains what the caller still queues (releasing its
/// bytes, so that nobody waits for room forever) until the caller ends or drops the stream.
fn broken<C>(
    shared: &Shared,
    rx: &Receiver<Command<C>>,
    spent: &SpentChunks<C>,
    err: RuntimeApiError,
) -> RuntimeApiError {
    *lock(&shared.broken) = Some(err.clone());
    shared.wake_drain_waiter();
    while let Ok(cmd) = rx.recv() {
        match cmd {
            Command::Chunks(chunks, n) => {
                spent.put(chunks);
                shared.release(n);
            }
            Command::End(_) => break,
        }
    }
    err
}

/// Sends commands until the end. `Ok(true)`: ended and flushed; `Ok(false)`: the caller dropped
/// the stream without ending it (the request is left incomplete on purpose).
fn send_body<W: Write, C: AsRef<[u8]>>(
    out: &mut ChunkedWriter<W>,
    rx: &Receiver<Command<C>>,
    shared: &Shared,
    spent: &SpentChunks<C>,
) -> io::Result<bool> {
    let mut next = rx.recv().ok();
    while let Some(cmd) = next {
        match cmd {
            Command::Chunks(chunks, n) => {
                let written = out.chunk(&chunks);
                spent.put(chunks);
                shared.release(n);
                written?;
            }
            Command::End(how) => {
                match how {
                    StreamEnd::Complete => out.finish(&[])?,
                    StreamEnd::Failed {
                        error_type,
                        error_json,
                    } => out.finish(&[
                        (ERROR_TYPE_TRAILER, &header_value(&error_type)),
                        (ERROR_BODY_TRAILER, &base64::encode(&error_json)),
                    ])?,
                }
                return Ok(true);
            }
        }
        // Coalesce what is already queued; flush only when the caller is not ahead of us, so
        // that a lone small write reaches the Runtime API at once.
        next = match rx.try_recv() {
            Ok(cmd) => Some(cmd),
            Err(mpsc::TryRecvError::Empty) => {
                out.flush()?;
                rx.recv().ok()
            }
            Err(mpsc::TryRecvError::Disconnected) => {
                out.flush()?;
                None
            }
        };
    }
    Ok(false)
}

/// Chunked transfer coding with few system calls: framing and small data are copied into
/// `pending`; large data is written from the caller's memory with a vectored write.
struct ChunkedWriter<W: Write> {
    out: W,
    pending: Vec<u8>,
}

impl<W: Write> ChunkedWriter<W> {
    fn new(out: W, head: Vec<u8>) -> Self {
        let mut pending = head;
        pending.reserve(PENDING_FLUSH_AT);
        ChunkedWriter { out, pending }
    }

    /// One HTTP chunk holding all `parts`; nothing at all if they are empty (a zero-size chunk
    /// would end the body).
    fn chunk<C: AsRef<[u8]>>(&mut self, parts: &[C]) -> io::Result<()> {
        let total: usize = parts.iter().map(|p| p.as_ref().len()).sum();
        if total == 0 {
            return Ok(());
        }
        // `write!` into a Vec cannot fail.
        let _ = write!(self.pending, "{total:x}\r\n");
        for part in parts {
            let part = part.as_ref();
            if part.len() <= COALESCE_MAX {
                self.pending.extend_from_slice(part);
            } else {
                write_all_vectored(&mut self.out, &self.pending, part)?;
                self.pending.clear();
            }
        }
        self.pending.extend_from_slice(b"\r\n");
        if self.pending.len() >= PENDING_FLUSH_AT {
            self.flush()?;
        }
        Ok(())
    }

    fn finish(&mut self, trailers: &[(&str, &str)]) -> io::Result<()> {
        self.pending.extend_from_slice(b"0\r\n");
        for (name, value) in trailers {
            self.pending.extend_from_slice(name.as_bytes());
            self.pending.extend_from_slice(b": ");
            self.pending.extend_from_slice(value.as_bytes());
            self.pending.extend_from_slice(b"\r\n");
        }
        self.pending.extend_from_slice(b"\r\n");
        self.flush()
    }

    fn flush(&mut self) -> io::Result<()> {
        if !self.pending.is_empty() {
            self.out.write_all(&self.pending)?;
            self.pending.clear();
        }
        self.out.flush()
    }
}

fn write_all_vectored<W: Write>(out: &mut W, first: &[u8], second: &[u8]) -> io::Result<()> {
    let mut slices = [IoSlice::new(first), IoSlice::new(second)];
    let mut bufs = &mut slices[..];
    IoSlice::advance_slices(&mut bufs, 0);
    while !bufs.is_empty() {
        match out.write_vectored(bufs) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => IoSlice::advance_slices(&mut bufs, n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Reads one HTTP/1.1 response (skipping interim 1xx ones): status and body, whether the body is
/// sized, chunked or delimited by the connection closing.
/// `true` with the answer when the connection may carry another request (HTTP/1.1, no
/// `Connection: close`, a body delimited by its framing).
fn read_answer<R: BufRead>(r: &mut R) -> Result<(StreamAnswer, bool), RuntimeApiError> {
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
    use std::net::TcpListener;
    use std::sync::mpsc::RecvTimeoutError;

    const ANSWER_202: &[u8] =
        b"HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\nContent-Length: 15\r\n\r\n{\"status\":\"OK\"}";

    /// Reads one chunked request off the socket exactly as sent: head, chunks, trailers.
    fn read_raw_request(r: &mut impl BufRead) -> Vec<u8> {
        let mut raw = Vec::new();
        loop {
            let n = r.read_until(b'\n', &mut raw).unwrap();
            assert!(
                n > 0,
                "connection closed inside the head: {:?}",
                String::from_utf8_lossy(&raw)
            );
            if raw.ends_with(b"\r\n\r\n") {
                break;
            }
        }
        loop {
            let start = raw.len();
            r.read_until(b'\n', &mut raw).unwrap();
            let line = String::from_utf8(raw[start..].to_vec()).unwrap();
            let size = usize::from_str_radix(line.trim_end(), 16).expect("chunk size line");
            if size == 0 {
                loop {
                    let start = raw.len();
                    r.read_until(b'\n', &mut raw).unwrap();
                    if &raw[start..] == b"\r\n" {
                        return raw;
                    }
                }
            }
            let start = raw.len();
            raw.resize(start + size + 2, 0);
            r.read_exact(&mut raw[start..]).unwrap();
            assert_eq!(&raw[raw.len() - 2..], b"\r\n");
        }
    }

    /// A Runtime API on 127.0.0.1 that records one raw request and answers it with `answer`.
    fn serve_one(answer: &'static [u8]) -> (String, thread::JoinHandle<Vec<u8>>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let endpoint = listener.local_addr().unwrap().to_string();
        let handle = thread::spawn(move || {
            let (sock, _) = listener.accept().unwrap();
            let mut reader = BufReader::new(&sock);
            let raw = read_raw_request(&mut reader);
            (&sock).write_all(answer).unwrap();
            raw
        });
        (endpoint, handle)
    }

    fn head(endpoint: &str, path: &str, content_type: &str) -> String {
        format!(
            "POST {path} HTTP/1.1\r\nHost: {endpoint}\r\nUser-Agent: lambda-rapid/0.1\r\n\
             Lambda-Runtime-Function-Response-Mode: streaming\r\nContent-Type: {content_type}\r\n\
             Transfer-Encoding: chunked\r\n\
             Trailer: Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body\r\n\r\n"
        )
    }

    fn open(endpoint: &str, id: &str, content_type: &str, high_water: usize) -> ResponseStream<Vec<u8>> {
        let target = StreamTarget::for_response(endpoint, id).unwrap();
        ResponseStream::start(target, content_type, high_water).unwrap()
    }

    fn end_and_wait(
        s: &mut ResponseStream<Vec<u8>>,
        how: StreamEnd,
    ) -> Result<StreamAnswer, RuntimeApiError> {
        let (tx, rx) = mpsc::channel();
        s.end(how, move |r| tx.send(r).unwrap());
        rx.recv_timeout(Duration::from_secs(10)).unwrap()
    }

    #[test]
    fn streaming_target_keeps_prefix_and_encodes_the_request_id() {
        let t = StreamTarget::for_response("http://127.0.0.1:9001/.rt/", "a/b c").unwrap();
        assert_eq!(t.authority, "127.0.0.1:9001");
        assert_eq!(t.path, "/.rt/2018-06-01/runtime/invocation/a%2Fb%20c/response");
        let err = StreamTarget::for_response("nope", "id").unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidEndpoint);
    }

    #[test]
    fn streaming_chunks_are_sent_byte_for_byte() {
        let (endpoint, server) = serve_one(ANSWER_202);
        let mut s = open(&endpoint, "req-1", DEFAULT_CONTENT_TYPE, 1 << 20);
        assert!(s.write(vec![b"chunk-1;".to_vec()]).unwrap());
        assert!(
            s.write(vec![Vec::new()]).unwrap(),
            "an empty write is not an error"
        );
        assert!(s.write(vec![b"chunk-".to_vec(), b"2;".to_vec()]).unwrap());
        let answer = end_and_wait(&mut s, StreamEnd::Complete).unwrap();
        assert_eq!(answer.status, 202);
        assert_eq!(answer.body, b"{\"status\":\"OK\"}");
        let raw = String::from_utf8(server.join().unwrap()).unwrap();
        let path = "/2018-06-01/runtime/invocation/req-1/response";
        // Chunks may be coalesced into one write, but each write stays one HTTP chunk.
        let expected = format!(
            "{}8\r\nchunk-1;\r\n8\r\nchunk-2;\r\n0\r\n\r\n",
            head(&endpoint, path, "application/octet-stream")
        );
        assert_eq!(raw, expected);
    }

    #[test]
    fn streaming_large_chunks_pass_through_intact() {
        let (endpoint, server) = serve_one(ANSWER_202);
        let mut s = open(&endpoint, "big", "text/plain", 1 << 20);
        let big: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        s.write(vec![b"small".to_vec(), big.clone()]).unwrap();
        end_and_wait(&mut s, StreamEnd::Complete).unwrap();
        let raw = server.join().unwrap();
        let mut expected = head(
            &endpoint,
            "/2018-06-01/runtime/invocation/big/response",
            "text/plain",
        )
        .into_bytes();
        expected.extend_from_slice(format!("{:x}\r\nsmall", 200_005).as_bytes());
        expected.extend_from_slice(&big);
        expected.extend_from_slice(b"\r\n0\r\n\r\n");
        assert_eq!(raw.len(), expected.len());
        assert!(raw == expected);
    }

    #[test]
    fn streaming_failure_ends_with_error_trailers() {
        let (endpoint, server) = serve_one(ANSWER_202);
        let mut s = open(&endpoint, "req-2", "application/octet-stream", 1 << 20);
        s.write(vec![b"partial;".to_vec()]).unwrap();
        let json = br#"{"errorType":"Error","errorMessage":"failed mid-stream","trace":[]}"#;
        let how = StreamEnd::Failed {
            error_type: "Error".into(),
            error_json: json.to_vec(),
        };
        end_and_wait(&mut s, how).unwrap();
        let raw = String::from_utf8(server.join().unwrap()).unwrap();
        let expected = format!(
            "{}8\r\npartial;\r\n0\r\nLambda-Runtime-Function-Error-Type: Error\r\n\
             Lambda-Runtime-Function-Error-Body: {}\r\n\r\n",
            head(
                &endpoint,
                "/2018-06-01/runtime/invocation/req-2/response",
                "application/octet-stream"
            ),
            base64::encode(json)
        );
        assert_eq!(raw, expected);
    }

    #[test]
    fn streaming_failure_before_any_write_sends_only_trailers() {
        let (endpoint, server) = serve_one(ANSWER_202);
        let mut s = open(&endpoint, "req-3", "text/plain\r\nX-Evil: 1", 1 << 20);
        let how = StreamEnd::Failed {
            error_type: "Runtime.Bad\nType".into(),
            error_json: b"{}".to_vec(),
        };
        end_and_wait(&mut s, how).unwrap();
        let raw = String::from_utf8(server.join().unwrap()).unwrap();
        let expected = format!(
            "{}0\r\nLambda-Runtime-Function-Error-Type: Runtime.Bad?Type\r\n\
             Lambda-Runtime-Function-Error-Body: e30=\r\n\r\n",
            head(
                &endpoint,
                "/2018-06-01/runtime/invocation/req-3/response",
                "text/plain??X-Evil: 1"
            ),
        );
        assert_eq!(raw, expected);
    }

    #[test]
    fn streaming_refusal_is_a_status_error_with_the_body() {
        let answer: &'static [u8] = b"HTTP/1.1 413 Payload Too Large\r\nTransfer-Encoding: chunked\r\n\r\n\
              5\r\n{\"err\r\n6\r\nor\":1}\r\n0\r\n\r\n";
        let (endpoint, server) = serve_one(answer);
        let mut s = open(&endpoint, "req-4", DEFAULT_CONTENT_TYPE, 1 << 20);
        s.write(vec![b"x".to_vec()]).unwrap();
        let err = end_and_wait(&mut s, StreamEnd::Complete).unwrap_err();
        assert_eq!(err.code, ErrorCode::Status);
        assert_eq!(err.status, Some(413));
        assert_eq!(err.body.as_deref(), Some("{\"error\":1}"));
        server.join().unwrap();
        assert!(
            s.write(vec![b"late".to_vec()]).is_err(),
            "a finished stream refuses writes"
        );
    }

    #[test]
    fn streaming_unreachable_api_is_reported_and_never_blocks_writers() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let endpoint = listener.local_addr().unwrap().to_string();
        drop(listener);
        let mut s = open(&endpoint, "req-5", DEFAULT_CONTENT_TYPE, 4);
        let _ = s.write(vec![b"more than four".to_vec()]);
        let (tx, rx) = mpsc::channel();
        s.when_drained(move || tx.send(()).unwrap());
        rx.recv_timeout(Duration::from_secs(10))
            .expect("a broken stream wakes its writer");
        let err = end_and_wait(&mut s, StreamEnd::Complete).unwrap_err();
        assert_eq!(err.code, ErrorCode::Unreachable);
        assert!(s.write(vec![b"x".to_vec()]).is_err());
    }

    #[test]
    fn streaming_connection_closed_mid_body_is_an_error() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let endpoint = listener.local_addr().unwrap().to_string();
        let server = thread::spawn(move || {
            let (sock, _) = listener.accept().unwrap();
            let mut r = BufReader::new(&sock);
            let mut line = String::new();
            r.read_line(&mut line).unwrap();
            // close without answering
        });
        let mut s = open(&endpoint, "req-6", DEFAULT_CONTENT_TYPE, 1 << 20);
        s.write(vec![b"hello".to_vec()]).unwrap();
        server.join().unwrap();
        let err = end_and_wait(&mut s, StreamEnd::Complete).unwrap_err();
        assert!(
            matches!(err.code, ErrorCode::Unreachable | ErrorCode::Protocol),
            "{err}"
        );
    }

    #[test]
    fn streaming_slow_server_causes_backpressure_then_drains() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let endpoint = listener.local_addr().unwrap().to_string();
        let (go_tx, go_rx) = mpsc::channel::<()>();
        let server = thread::spawn(move || {
            let (sock, _) = listener.accept().unwrap();
            go_rx.recv().unwrap(); // the server does not read until told to
            let raw = read_raw_request(&mut BufReader::new(&sock));
            (&sock).write_all(ANSWER_202).unwrap();
            raw
        });
        const CHUNK: usize = 256 * 1024;
        const TOTAL_CHUNKS: usize = 128; // 32 MiB: more than loopback socket buffers hold
        let mut s = open(&endpoint, "slow", DEFAULT_CONTENT_TYPE, 1 << 20);
        let mut go = Some(go_tx);
        let mut saw_full = false;
        let mut stalled = false;
        for i in 0..TOTAL_CHUNKS {
            let room = s.write(vec![vec![(i % 256) as u8; CHUNK]]).unwrap();
            if room {
                continue;
            }
            saw_full = true;
            let (tx, rx) = mpsc::channel();
            s.when_drained(move || {
                let _ = tx.send(());
            });
            match rx.recv_timeout(Duration::from_millis(200)) {
                Ok(()) => continue,
                Err(RecvTimeoutError::Timeout) => {
                    // The socket is full and the server is not reading: the queue must stay
                    // bounded while we wait.
                    stalled = true;
                    assert!(
                        s.queued_bytes() <= (1 << 20) + CHUNK,
                        "queue grew to {}",
                        s.queued_bytes()
                    );
                    if let Some(go) = go.take() {
                        go.send(()).unwrap();
                    }
                    rx.recv_timeout(Duration::from_secs(10))
                        .expect("drained once the server reads");
                }
                Err(e) => panic!("{e}"),
            }
        }
        if let Some(go) = go.take() {
            go.send(()).unwrap();
        }
        end_and_wait(&mut s, StreamEnd::Complete).unwrap();
        assert!(saw_full && stalled, "full={saw_full} stalled={stalled}");
        let raw = server.join().unwrap();
        let body_start = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
        let mut pos = body_start;
        for i in 0..TOTAL_CHUNKS {
            let size_line = format!("{CHUNK:x}\r\n");
            assert_eq!(
                &raw[pos..pos + size_line.len()],
                size_line.as_bytes(),
                "chunk {i}"
            );
            pos += size_line.len();
            assert!(
                raw[pos..pos + CHUNK].iter().all(|&b| b == (i % 256) as u8),
                "chunk {i} data"
            );
            pos += CHUNK + 2;
        }
        assert_eq!(&raw[pos..], b"0\r\n\r\n");
    }

    /// A chunk that records the thread it is dropped on.
    struct Tracked(Vec<u8>, Arc<Mutex<Vec<thread::ThreadId>>>);
    impl AsRef<[u8]> for Tracked {
        fn as_ref(&self) -> &[u8] {
            &self.0
        }
    }
    impl Drop for Tracked {
        fn drop(&mut self) {
            lock(&self.1).push(thread::current().id());
        }
    }

    #[test]
    fn streaming_spent_chunks_are_dropped_on_the_writing_thread() {
        let (endpoint, server) = serve_one(ANSWER_202);
        let target = StreamTarget::for_response(&endpoint, "spent").unwrap();
        let mut s: ResponseStream<Tracked> =
            ResponseStream::start(target, DEFAULT_CONTENT_TYPE, 1 << 20).unwrap();
        let drops = Arc::new(Mutex::new(Vec::new()));
        s.write(vec![Tracked(b"one".to_vec(), drops.clone())]).unwrap();
        let (tx, rx) = mpsc::channel();
        s.end(StreamEnd::Complete, move |r| tx.send(r).unwrap());
        rx.recv_timeout(Duration::from_secs(10)).unwrap().unwrap();
        assert!(lock(&drops).is_empty(), "dropped by the worker");
        s.spent_chunks().reclaim();
        assert_eq!(*lock(&drops), vec![thread::current().id()]);
        assert_eq!(
            String::from_utf8(server.join().unwrap())
                .unwrap()
                .split("\r\n\r\n")
                .nth(1),
            Some("3\r\none\r\n0")
        );
    }

    #[test]
    fn streaming_connection_is_kept_for_the_next_stream() {
        // Each stream after the first starts on the kept connection, where a small first write
        // goes out from the caller's thread: every shape of stream must still be byte-exact.
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let endpoint = listener.local_addr().unwrap().to_string();
        let server = thread::spawn(move || {
            let (sock, _) = listener.accept().unwrap();
            let mut reader = BufReader::new(&sock);
            let mut raws = Vec::new();
            for _ in 0..4 {
                raws.push(read_raw_request(&mut reader));
                (&sock).write_all(ANSWER_202).unwrap();
            }
            // A second connection would wait here forever: none is accepted.
            raws
        });
        let big = vec![b'z'; 3 * COALESCE_MAX];
        let path = |id: &str| format!("/2018-06-01/runtime/invocation/{id}/response");
        // The request as it must arrive: head, one HTTP chunk per write, the last chunk.
        let request = |id: &str, content_type: &str, writes: &[&[u8]]| {
            let mut out = head(&endpoint, &path(id), content_type).into_bytes();
            for data in writes {
                out.extend_from_slice(format!("{:x}\r\n", data.len()).as_bytes());
                out.extend_from_slice(data);
                out.extend_from_slice(b"\r\n");
            }
            out.extend_from_slice(b"0\r\n\r\n");
            out
        };
        let mut expected = Vec::new();

        let mut s = open(&endpoint, "first", DEFAULT_CONTENT_TYPE, 1 << 20);
        s.write(vec![b"first".to_vec()]).unwrap();
        assert_eq!(end_and_wait(&mut s, StreamEnd::Complete).unwrap().status, 202);
        expected.push(request("first", DEFAULT_CONTENT_TYPE, &[b"first"]));

        // small first write (sent from here), then a large one (through the queue)
        let mut s = open(&endpoint, "second", "text/plain", 1 << 20);
        s.write(vec![b"ab".to_vec(), b"c".to_vec()]).unwrap();
        s.write(vec![big.clone()]).unwrap();
        assert_eq!(end_and_wait(&mut s, StreamEnd::Complete).unwrap().status, 202);
        expected.push(request("second", "text/plain", &[b"abc", &big]));

        // a large first write: left to the upload thread
        let mut s = open(&endpoint, "third", DEFAULT_CONTENT_TYPE, 1 << 20);
        s.write(vec![big.clone()]).unwrap();
        assert_eq!(end_and_wait(&mut s, StreamEnd::Complete).unwrap().status, 202);
        expected.push(request("third", DEFAULT_CONTENT_TYPE, &[&big]));

        // no write at all, then a failure
        let mut s = open(&endpoint, "fourth", DEFAULT_CONTENT_TYPE, 1 << 20);
        let how = StreamEnd::Failed {
            error_type: "E".into(),
            error_json: b"{}".to_vec(),
        };
        assert_eq!(end_and_wait(&mut s, how).unwrap().status, 202);
        expected.push(
            format!(
                "{}0\r\nLambda-Runtime-Function-Error-Type: E\r\nLambda-Runtime-Function-Error-Body: e30=\r\n\r\n",
                head(&endpoint, &path("fourth"), DEFAULT_CONTENT_TYPE)
            )
            .into_bytes(),
        );

        let raws = server.join().unwrap();
        for (raw, want) in raws.iter().zip(&expected) {
            assert_eq!(String::from_utf8_lossy(raw), String::from_utf8_lossy(want));
        }
    }

    #[test]
    fn streaming_a_connection_closed_while_idle_is_replaced() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let endpoint = listener.local_addr().unwrap().to_string();
        let server = thread::spawn(move || {
            let mut raws = Vec::new();
            for _ in 0..2 {
                let (sock, _) = listener.accept().unwrap();
                raws.push(read_raw_request(&mut BufReader::new(&sock)));
                (&sock).write_all(ANSWER_202).unwrap();
                // closes the connection after one answer, as a server with a short keep-alive does
            }
            raws
        });
        for id in ["one", "two"] {
            let mut s = open(&endpoint, id, DEFAULT_CONTENT_TYPE, 1 << 20);
            s.write(vec![id.as_bytes().to_vec()]).unwrap();
            assert_eq!(end_and_wait(&mut s, StreamEnd::Complete).unwrap().status, 202);
            thread::sleep(Duration::from_millis(50)); // the server's FIN arrives
        }
        assert_eq!(server.join().unwrap().len(), 2);
    }

    #[test]
    fn streaming_dropped_stream_aborts_the_request() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let endpoint = listener.local_addr().unwrap().to_string();
        let server = thread::spawn(move || {
            let (sock, _) = listener.accept().unwrap();
            let mut all = Vec::new();
            let _ = (&sock).read_to_end(&mut all);
            all
        });
        let mut s = open(&endpoint, "gone", DEFAULT_CONTENT_TYPE, 1 << 20);
        s.write(vec![b"abc".to_vec()]).unwrap();
        drop(s);
        let raw = String::from_utf8(server.join().unwrap()).unwrap();
        assert!(raw.ends_with("3\r\nabc\r\n"), "{raw:?}");
    }

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
