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

mod answer;
mod chunk;
mod pool;
mod queue;
mod upload;
mod writer;

use std::io::{self, Write};
use std::net::TcpStream;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};

use crate::client::percent_encode_into;
use crate::endpoint::base_url;
use crate::error::{ErrorCode, RuntimeApiError};
pub use chunk::{share_or_copy, Chunk};
pub use queue::SpentChunks;
use queue::{lock, Command, Shared, Slot};
use writer::{request_head, ChunkedWriter, COALESCE_MAX};

pub const RESPONSE_MODE_HEADER: &str = "Lambda-Runtime-Function-Response-Mode";
pub const ERROR_TYPE_TRAILER: &str = "Lambda-Runtime-Function-Error-Type";
pub const ERROR_BODY_TRAILER: &str = "Lambda-Runtime-Function-Error-Body";
pub const DEFAULT_CONTENT_TYPE: &str = "application/octet-stream";
/// Queued bytes at which `write` starts reporting that there is no room, unless told otherwise.
pub const DEFAULT_HIGH_WATER: usize = 64 * 1024;
const API_VERSION: &str = "2018-06-01";

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
    /// The streamed response of invocation `request_id`, with the defaults of what is not given:
    /// the endpoint from `AWS_LAMBDA_RUNTIME_API`, [`DEFAULT_CONTENT_TYPE`], [`DEFAULT_HIGH_WATER`].
    pub fn for_invocation(
        endpoint: Option<String>,
        request_id: &str,
        content_type: Option<String>,
        high_water: Option<usize>,
    ) -> Result<Self, RuntimeApiError> {
        let endpoint = endpoint
            .or_else(|| std::env::var("AWS_LAMBDA_RUNTIME_API").ok())
            .unwrap_or_default();
        let target = StreamTarget::for_response(&endpoint, request_id)?;
        let content_type = content_type.as_deref().unwrap_or(DEFAULT_CONTENT_TYPE);
        ResponseStream::start(target, content_type, high_water.unwrap_or(DEFAULT_HIGH_WATER))
    }

    /// Starts the worker thread, which connects right away and sends the request head with the
    /// first chunk (or with the end, for an empty stream). `high_water` is the number of queued
    /// bytes at which `write` starts reporting that there is no room.
    pub fn start(
        target: StreamTarget,
        content_type: &str,
        high_water: usize,
    ) -> Result<Self, RuntimeApiError> {
        let shared = Arc::new(Shared {
            queued: std::sync::atomic::AtomicUsize::new(0),
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
        match pool::take_idle(&target.authority) {
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
        upload::run_on_upload_thread(Box::new(move || {
            let result = upload::upload(
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

fn ended_error() -> RuntimeApiError {
    RuntimeApiError::new(
        ErrorCode::Protocol,
        "the response stream has already ended; nothing more can be written to it",
    )
}

#[cfg(test)]
mod tests;
