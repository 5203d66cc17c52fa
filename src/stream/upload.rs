//! The upload thread: it connects (or takes a kept connection), sends every queued chunk,
//! ends the request and reads the answer. Threads are parked between streams, so the next
//! invocation does not pay for creating one.

use std::io::{self, BufReader, Write};
use std::net::TcpStream;
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::Mutex;
use std::thread;

use super::answer::read_answer;
use super::pool::{connect, keep_idle};
use super::queue::{lock, Command, Shared, SpentChunks};
use super::writer::{header_value, ChunkedWriter};
use super::{StreamAnswer, StreamEnd, ERROR_BODY_TRAILER, ERROR_TYPE_TRAILER};
use crate::base64;
use crate::error::{ErrorCode, RuntimeApiError};

pub(super) type Job = Box<dyn FnOnce() + Send>;

/// Upload threads waiting for their next stream: a thread outlives its stream, so the next
/// invocation does not pay for creating one. A few, for concurrent invocations.
static PARKED: Mutex<Vec<Sender<Job>>> = Mutex::new(Vec::new());
const MAX_PARKED: usize = 2;

pub(super) fn run_on_upload_thread(job: Job) -> io::Result<()> {
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

/// The worker thread's whole job: connect, send every queued chunk, end, read the answer.
pub(super) fn upload<C: AsRef<[u8]>>(
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
