//! The state every emulator thread shares: the invocations waiting, the ones the runtime holds,
//! which runtime process (generation) is current, and the channel each caller waits on. The
//! layer under runtime_api, supervisor and the fronts: it calls none of them.

use std::collections::{HashMap, VecDeque};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::config::EmulatorConfig;
use super::http::{close_stream, SharedStream};
use super::platform_log::PlatformLog;
use super::reply::ReplySink;
use super::snapstart_state::SnapStartState;

/// An invocation accepted by the invoke API.
#[derive(Debug)]
pub struct Invocation {
    pub request_id: String,
    pub body: Vec<u8>,
    pub trace_id: Option<String>,
    pub client_context: Option<String>,
    pub cognito_identity: Option<String>,
    pub tenant_id: Option<String>,
    pub reply: Arc<ReplySink>,
}

/// An invocation the runtime has received (`GET next` returned it) and not yet answered.
#[derive(Debug)]
pub struct InFlight {
    pub reply: Arc<ReplySink>,
    pub started: Instant,
    pub deadline: Instant,
    /// The runtime began a streamed response: errors must now end the stream, not replace it.
    pub streaming: bool,
    pub generation: u64,
}

/// The runtime process of one generation.
#[derive(Debug, Default)]
pub struct RuntimeState {
    /// Generation of the current Runtime API listener and runtime process (0: none yet).
    pub generation: u64,
    pub endpoint: Option<String>,
    pub spawned_at: Option<Instant>,
    /// The runtime process's id, for its peak memory on REPORT lines.
    pub pid: Option<u32>,
    /// The first `GET next` of this generation arrived: init is over.
    pub init_done: bool,
    pub init_duration: Option<Duration>,
    /// The runtime posted `init/error` (the error was already given to a caller, if one waited).
    pub init_failed_at: Option<Instant>,
    /// The init duration still to be reported on the first invocation's REPORT line.
    pub report_init: Option<Duration>,
}

/// A runtime's `GET next` with nothing to hand out yet: its connection thread went back to
/// reading, and whoever queues an invocation writes it straight to this socket.
#[derive(Debug)]
pub struct ParkedNext {
    pub writer: SharedStream,
    pub generation: u64,
}

#[derive(Debug, Default)]
pub struct State {
    pub queue: VecDeque<Invocation>,
    pub parked: Vec<ParkedNext>,
    pub in_flight: HashMap<String, InFlight>,
    pub runtime: RuntimeState,
    /// Start a runtime even with nothing queued (at start-up and after a crash or a timeout, so
    /// the next invoke is warm); cleared after an init failure so a broken function is only
    /// retried when someone invokes it.
    pub want_warm: bool,
    /// A runtime process exists (the supervisor must be woken to start one otherwise).
    pub child_running: bool,
    /// The function's code changed: the current runtime gets no new invocation, and the
    /// supervisor replaces it once it holds none.
    pub recycle: bool,
    /// The current generation's Runtime API listener.
    pub listener: Option<ListenerHandle>,
    pub stopping: bool,
    pub stats: Stats,
}

/// Counters exposed to tests and the demo.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct Stats {
    pub runtimes_started: u32,
    pub invocations: u64,
    pub timeouts: u32,
    pub crashes: u32,
    pub init_errors: u32,
}

pub struct Shared {
    pub config: EmulatorConfig,
    pub log: PlatformLog,
    state: Mutex<State>,
    /// Wakes the supervisor, and only it: no thread waits for invocations (a parked `GET next`
    /// is written to by whoever queues one), and the hot path does not wake the supervisor
    /// either: it polls every 20 ms while a runtime runs, which is all deadlines and exits need.
    supervisor: Condvar,
    connections: Mutex<(u64, HashMap<u64, TcpStream>)>,
    /// SnapStart's restore bookkeeping (unused unless `config.snapstart_pause` is set).
    pub snapstart: SnapStartState,
}

impl Shared {
    pub fn new(config: EmulatorConfig) -> Self {
        let log = PlatformLog::new(config.log_format, config.platform_logs, config.logs_to_stderr);
        Shared {
            config,
            log,
            state: Mutex::new(State {
                want_warm: true,
                ..State::default()
            }),
            supervisor: Condvar::new(),
            connections: Mutex::new((0, HashMap::new())),
            snapstart: Default::default(),
        }
    }

    /// The state lock. A panic on another thread must not take the emulator down with it, so a
    /// poisoned lock is simply taken over (the state is plain data, valid between statements).
    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The supervisor's sleep: until woken by `wake_supervisor` or `d` passes.
    pub fn supervisor_wait<'a>(&self, guard: MutexGuard<'a, State>, d: Duration) -> MutexGuard<'a, State> {
        match self.supervisor.wait_timeout(guard, d) {
            Ok((g, _)) => g,
            Err(p) => p.into_inner().0,
        }
    }

    pub fn wake_supervisor(&self) {
        self.supervisor.notify_one();
    }

    pub fn runtime_api_endpoint(&self) -> Option<String> {
        self.lock().runtime.endpoint.clone()
    }

    pub fn stats(&self) -> Stats {
        self.lock().stats
    }

    /// Asks for a fresh runtime (`serve --watch`). A runtime the emulator does not start
    /// (external mode) is not its to replace.
    pub fn recycle(&self) {
        if self.config.command.is_none() {
            return;
        }
        self.lock().recycle = true;
        self.wake_supervisor();
    }

    /// Invocations queued or running here: how busy this runtime is.
    pub fn load(&self) -> usize {
        let st = self.lock();
        st.queue.len() + st.in_flight.len()
    }

    pub fn begin_stop(&self) {
        self.lock().stopping = true;
        self.wake_supervisor();
    }

    pub fn register_connection(&self, s: &TcpStream) -> u64 {
        let mut c = self.connections.lock().unwrap_or_else(|p| p.into_inner());
        c.0 += 1;
        let id = c.0;
        if let Ok(clone) = s.try_clone() {
            c.1.insert(id, clone);
        }
        id
    }

    pub fn unregister_connection(&self, id: u64) {
        let mut c = self.connections.lock().unwrap_or_else(|p| p.into_inner());
        c.1.remove(&id);
    }

    pub fn close_connections(&self) {
        let c = self.connections.lock().unwrap_or_else(|p| p.into_inner());
        for s in c.1.values() {
            close_stream(s);
        }
    }
}

/// The accept thread of one generation's Runtime API, stopped by a flag and a wake-up connect.
#[derive(Debug)]
pub struct ListenerHandle {
    pub stop: Arc<AtomicBool>,
    pub addr: SocketAddr,
}

impl ListenerHandle {
    pub fn retire(self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_millis(200));
    }
}
