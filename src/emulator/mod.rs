//! The local Lambda: a Runtime API for the function's runtime, an invoke API compatible with AWS's
//! Runtime Interface Emulator (RIE) for the caller, and a supervisor that runs the runtime as a
//! child process the way Lambda runs it (environment, init, timeout, crash, restart).
//!
//! Everything runs on plain std threads: one accept thread per listener, one thread per
//! connection, one supervisor thread. They share one `State` behind a mutex and a condvar; the
//! hot path (an invoke handed to a waiting `GET next`, the response handed back) is two condvar
//! wake-ups and two small socket writes, so the emulator's cost per request stays far below the
//! runtime's. Nothing here touches the JS thread.
//!
//! Layers, each calling only the ones below it (no module imports one above it):
//!
//! 1. `config` (how to run the function, Lambda's limits), `http` (the small HTTP/1.1 server
//!    side), `http_event` (HTTP requests as Function URL or API Gateway events, pure),
//!    `platform_log` (START/END/REPORT lines), `errors` (Lambda's error bodies), `answer` (what
//!    an invoke's caller receives); `environment` (the Lambda environment variables) and
//!    `options` (the caller's options checked) on top of `config`.
//! 2. `http_reply` (an answer mapped back to an HTTP response, `serve --http`), then `reply`
//!    (where an answer goes: the caller's socket, an HTTP client, nowhere).
//! 3. `snapstart_state` (SnapStart's connections and restore timing), then `state`: the queue,
//!    the invocations in flight, the current runtime, shared by every thread behind one mutex.
//! 4. `listen` (the accept loop), `snapstart` (the restore endpoints), then `runtime_api` (what
//!    the runtime talks to; queueing an invocation hands it to a waiting `GET next`).
//! 5. `supervisor` (the child process: start, timeout, crash, restart) and `instances` (which
//!    runtime gets an invocation).
//! 6. The fronts: `invoke_api` (what the caller talks to, as AWS's RIE) and `http_front`.
//! 7. This file: `Emulator`, which starts and stops all of it.

pub mod answer;
pub mod config;
pub mod environment;
pub mod errors;
pub mod http;
pub mod http_event;
pub mod http_front;
pub mod http_reply;
pub mod instances;
pub mod invoke_api;
pub mod listen;
pub mod options;
pub mod platform_log;
pub mod reply;
pub mod runtime_api;
pub mod snapstart;
pub mod snapstart_state;
pub mod state;
pub mod supervisor;

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::Duration;

pub use config::{EmulatorConfig, Front, StartError, MAX_INVOKE_PAYLOAD, MAX_RUNTIME_RESPONSE};
pub use http_event::EventFormat;
use instances::Instances;
use listen::accept_loop;
pub use platform_log::LogFormat;
use state::Shared;

/// A running emulator. Dropping it stops it.
pub struct Emulator {
    instances: Arc<Instances>,
    invoke_addr: SocketAddr,
    invoke_stop: Arc<AtomicBool>,
    threads: Mutex<Vec<JoinHandle<()>>>,
}

impl Emulator {
    /// Binds the invoke API, starts the supervisor (which starts the runtime right away, so the
    /// first invoke finds it initialised, as a provisioned environment would) and returns.
    pub fn start(config: EmulatorConfig) -> Result<Emulator, StartError> {
        if config.max_concurrency == 0 {
            return Err(StartError {
                message: "max concurrency must be at least 1".into(),
            });
        }
        if config.instances == 0 || (config.instances > 1 && config.command.is_none()) {
            return Err(StartError {
                message: "instances must be at least 1, and 1 for a runtime started by the caller".into(),
            });
        }
        if config.command.as_ref().is_some_and(|c| c.is_empty()) {
            return Err(StartError {
                message: "the runtime command is empty".into(),
            });
        }
        let listener =
            TcpListener::bind((config.invoke_host.as_str(), config.invoke_port)).map_err(|e| StartError {
                message: format!(
                    "cannot listen on {}:{} for the invoke API: {e}",
                    config.invoke_host, config.invoke_port
                ),
            })?;
        let invoke_addr = listener.local_addr().map_err(|e| StartError {
            message: format!("invoke API address: {e}"),
        })?;
        let instances = Arc::new(Instances::new(
            (0..config.instances)
                .map(|_| Arc::new(Shared::new(config.clone())))
                .collect(),
        ));
        let primary = instances.0[0].clone();
        let mut threads = Vec::new();

        let invoke_stop = Arc::new(AtomicBool::new(false));
        {
            let stop = invoke_stop.clone();
            let front = config.front;
            let instances = instances.clone();
            threads.push(spawn_named("lambda-rapid-invoke-accept", move || {
                // Connections are registered with the first instance (so `stop` closes them);
                // each request picks its instance.
                accept_loop(listener, &stop, &primary, move |_, stream| match front {
                    Front::InvokeApi => invoke_api::serve_connection(&instances, stream),
                    Front::Http(format) => http_front::serve_connection(&instances, stream, format),
                })
            })?);
        }
        for shared in &instances.0 {
            let shared = shared.clone();
            threads.push(spawn_named("lambda-rapid-supervisor", move || {
                supervisor::run(&shared)
            })?);
        }
        // In external mode the Runtime API exists before anyone runs; the supervisor never
        // replaces it. With a command, the supervisor binds one per runtime process it starts.
        if config.command.is_none() {
            supervisor::open_runtime_api(&instances.0[0]).map_err(|e| StartError {
                message: format!("cannot listen for the Runtime API: {e}"),
            })?;
        }
        Ok(Emulator {
            instances,
            invoke_addr,
            invoke_stop,
            threads: Mutex::new(threads),
        })
    }

    pub fn invoke_port(&self) -> u16 {
        self.invoke_addr.port()
    }

    /// `host:port` of the Runtime API the current runtime talks to (`None` before one exists).
    pub fn runtime_api_endpoint(&self) -> Option<String> {
        self.instances.0[0].runtime_api_endpoint()
    }

    /// Counters for tests and the demo: runtimes started, invocations completed.
    pub fn stats(&self) -> state::Stats {
        self.instances
            .0
            .iter()
            .fold(state::Stats::default(), |mut sum, s| {
                let one = s.stats();
                sum.runtimes_started += one.runtimes_started;
                sum.invocations += one.invocations;
                sum.timeouts += one.timeouts;
                sum.crashes += one.crashes;
                sum.init_errors += one.init_errors;
                sum
            })
    }

    /// The function's code changed (`serve --watch`): the next invocation runs on a fresh runtime,
    /// once the current one has finished what it holds.
    pub fn recycle(&self) {
        for s in &self.instances.0 {
            s.recycle();
        }
    }

    /// Stops serving: the runtime is killed (and waited for), queued and running invocations get
    /// an error, every listener and connection is closed. Idempotent.
    pub fn stop(&self) {
        for s in &self.instances.0 {
            s.begin_stop();
        }
        self.invoke_stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect_timeout(&self.invoke_addr, Duration::from_millis(200));
        let threads: Vec<_> = match self.threads.lock() {
            Ok(mut t) => t.drain(..).collect(),
            Err(_) => Vec::new(),
        };
        for t in threads {
            let _ = t.join();
        }
        for s in &self.instances.0 {
            s.close_connections();
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.stop();
    }
}

pub(crate) fn spawn_named<F: FnOnce() + Send + 'static>(
    name: &str,
    f: F,
) -> Result<JoinHandle<()>, StartError> {
    thread::Builder::new()
        .name(name.into())
        .spawn(f)
        .map_err(|e| StartError {
            message: format!("cannot start thread {name}: {e}"),
        })
}

#[cfg(test)]
mod tests;
