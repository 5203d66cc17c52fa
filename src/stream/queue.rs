//! The byte-bounded queue between the caller's writes and the upload thread: what is queued,
//! the room left (`write`'s answer), the one waiter for room (`when_drained`), the stream's
//! outcome, and the chunks handed back to be dropped on the caller's thread.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use super::{StreamAnswer, StreamEnd};
use crate::error::RuntimeApiError;

pub(super) enum Command<C> {
    Chunks(Vec<C>, usize),
    End(StreamEnd),
}

pub(super) type Callback<T> = Box<dyn FnOnce(T) + Send>;

/// Chunks the worker has finished with, handed back so that the caller's thread drops them: a
/// JS Buffer is released where it was created, at once, instead of waiting for an event-loop
/// turn (a producer writing in a tight loop of nextTicks gives none).
pub struct SpentChunks<C>(pub(super) Arc<Mutex<Vec<C>>>);

impl<C> SpentChunks<C> {
    /// Drops, on this thread, every chunk the worker has finished with.
    pub fn reclaim(&self) {
        let spent = std::mem::take(&mut *lock(&self.0));
        drop(spent);
    }

    pub(super) fn put(&self, chunks: Vec<C>) {
        lock(&self.0).extend(chunks);
    }
}

impl<C> Clone for SpentChunks<C> {
    fn clone(&self) -> Self {
        SpentChunks(self.0.clone())
    }
}

/// A one-shot notification that may be awaited before or after it happens.
pub(super) enum Slot<T> {
    Waiting(Option<Callback<T>>),
    Done(T),
}

pub(super) struct Shared {
    /// Bytes accepted from the caller and not yet handed to the socket.
    pub(super) queued: AtomicUsize,
    pub(super) high_water: usize,
    pub(super) drain_waiter: Mutex<Option<Callback<()>>>,
    /// Set when the upload broke; later writes are refused with it.
    pub(super) broken: Mutex<Option<RuntimeApiError>>,
    pub(super) finished: Mutex<Slot<Result<StreamAnswer, RuntimeApiError>>>,
}

impl Shared {
    pub(super) fn has_room(&self) -> bool {
        self.queued.load(Ordering::SeqCst) < self.high_water
    }

    /// Called by the worker after `n` queued bytes left the queue.
    pub(super) fn release(&self, n: usize) {
        self.queued.fetch_sub(n, Ordering::SeqCst);
        if self.has_room() {
            self.wake_drain_waiter();
        }
    }

    pub(super) fn wake_drain_waiter(&self) {
        let waiter = lock(&self.drain_waiter).take();
        if let Some(w) = waiter {
            w(());
        }
    }

    pub(super) fn finish(&self, result: Result<StreamAnswer, RuntimeApiError>) {
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

pub(super) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic while holding one of these locks leaves plain data behind; keep going.
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
