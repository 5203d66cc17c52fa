//! SnapStart's bookkeeping for one runtime slot, kept in `Shared` (state.rs): the runtime's open
//! Runtime API connections (a restore shuts them down) and the restore's timing. Below the
//! state; the endpoints that use it are in snapstart.rs.

use std::net::{SocketAddr, TcpStream};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::http::close_stream;

/// The emulator's SnapStart bookkeeping for one runtime slot (`Shared`).
#[derive(Default)]
pub struct SnapStartState(Mutex<Inner>);

#[derive(Default)]
struct Inner {
    /// The runtime's open Runtime API connections (clones, to shut them down), by id.
    connections: Vec<(u64, TcpStream)>,
    last_id: u64,
    /// When restore/next was answered, until the first `GET next` after it.
    restored_at: Option<Instant>,
    /// The restore's duration, until the REPORT line that prints it.
    to_report: Option<Duration>,
}

impl SnapStartState {
    fn inner(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A Runtime API connection was accepted: known (so that a restore can shut it down) until
    /// the returned guard drops, when its connection's thread ends. The clone is released then,
    /// so it never keeps a socket open that its thread has closed.
    pub fn track(&self, stream: &TcpStream) -> Tracked<'_> {
        let mut inner = self.inner();
        inner.last_id += 1;
        let id = inner.last_id;
        if let Ok(clone) = stream.try_clone() {
            inner.connections.push((id, clone));
        }
        Tracked { state: self, id }
    }

    /// The runtime sent `GET next`: the first one after the restore ends the restore phase.
    pub fn next_requested(&self) {
        let mut inner = self.inner();
        if let Some(at) = inner.restored_at.take() {
            inner.to_report = Some(at.elapsed());
        }
    }

    /// The restore duration for the REPORT line, once.
    pub fn take_report(&self) -> Option<Duration> {
        self.inner().to_report.take()
    }

    /// `restore/next` was answered: the restore phase (the after-restore hooks) begins.
    pub fn restored(&self) {
        self.inner().restored_at = Some(Instant::now());
    }

    /// How long ago the restore was, while its phase lasts (until the first `GET next`).
    pub fn restored_for(&self) -> Option<Duration> {
        self.inner().restored_at.map(|t| t.elapsed())
    }

    /// The restore failed: its phase is over, with no duration to report.
    pub fn restore_failed(&self) {
        self.inner().restored_at = None;
    }

    /// A new runtime process starts: its restore is its own. Connections are not touched: they
    /// belong to threads that forget them as they end.
    pub fn reset(&self) {
        let mut inner = self.inner();
        inner.restored_at = None;
        inner.to_report = None;
    }

    /// Shuts down every tracked connection except `keep`'s; the count shut down.
    pub fn drop_connections_except(&self, keep: Option<SocketAddr>) -> usize {
        let inner = self.inner();
        let mut n = 0;
        for (_, s) in &inner.connections {
            if s.peer_addr().ok() == keep {
                continue;
            }
            close_stream(s);
            n += 1;
        }
        n
    }
}

/// A tracked connection; dropping it forgets the connection (and releases its clone).
pub struct Tracked<'a> {
    state: &'a SnapStartState,
    id: u64,
}

impl Drop for Tracked<'_> {
    fn drop(&mut self) {
        self.state.inner().connections.retain(|(id, _)| *id != self.id);
    }
}
