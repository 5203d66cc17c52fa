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
//! Module map: `http` (the small HTTP/1.1 server side), `state` (the queue, the invocations in
//! flight, the replies), `runtime_api` (what the runtime talks to), `invoke_api` (what the caller
//! talks to), `http_front`, `http_event` and `http_reply` (`serve --http`: HTTP requests as
//! Function URL or API Gateway events, answers mapped back), `supervisor` (the child process), `platform_log`
//! (START/END/REPORT lines), `environment` (the Lambda environment variables).

pub mod environment;
pub mod errors;
pub mod http;
pub mod http_event;
pub mod http_front;
pub mod http_reply;
pub mod invoke_api;
pub mod options;
pub mod platform_log;
pub mod reply;
pub mod runtime_api;
pub mod state;
pub mod supervisor;

use std::io;
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::Duration;

pub use http_event::EventFormat;
pub use platform_log::LogFormat;
use state::{Instances, Shared};

/// Lambda's limit on a buffered request or response payload (6 MiB).
pub const MAX_INVOKE_PAYLOAD: usize = 6 * 1024 * 1024;
/// The Runtime API accepts a response up to 6 MiB plus 100 bytes (what Lambda's rapid allows).
pub const MAX_RUNTIME_RESPONSE: usize = 6 * 1024 * 1024 + 100;

/// How to run the function.
#[derive(Debug, Clone)]
pub struct EmulatorConfig {
    /// The runtime's command line (e.g. `node index.mjs app.handler`); `None` means the runtime is
    /// started by someone else against `runtime_api_endpoint()` and is never restarted.
    pub command: Option<Vec<String>>,
    /// The function's code directory (`LAMBDA_TASK_ROOT`, and the child's working directory).
    pub task_root: PathBuf,
    pub handler: String,
    /// What the caller's listener speaks: Lambda's invoke API, or plain HTTP turned into events.
    pub front: Front,
    /// Address of the invoke API (`127.0.0.1`, port 0 for a free port).
    pub invoke_host: String,
    pub invoke_port: u16,
    pub timeout: Duration,
    pub function_name: String,
    pub function_version: String,
    pub memory_mb: u32,
    pub region: String,
    /// `AWS_EXECUTION_ENV`, e.g. `AWS_Lambda_nodejs22.x` (the caller knows which Node runs).
    pub execution_env: Option<String>,
    /// `LAMBDA_RUNTIME_DIR`: where the runtime lives.
    pub runtime_dir: Option<PathBuf>,
    pub log_format: LogFormat,
    pub log_level: Option<String>,
    /// Invocations one runtime handles at once: 1 unless multi-concurrency is on
    /// (`AWS_LAMBDA_MAX_CONCURRENCY`, Lambda Managed Instances).
    pub max_concurrency: usize,
    /// Runtimes serving in parallel (each its own process, queue and Runtime API), as Lambda
    /// scales a function out to several execution environments.
    pub instances: usize,
    /// Print Lambda's platform lines (START, END, REPORT, INIT_REPORT) to stdout.
    pub platform_logs: bool,
    /// Extra environment for the function, applied over the Lambda variables.
    pub env: Vec<(String, String)>,
    /// Send the runtime's stdout and the platform lines to stderr, keeping stdout for the
    /// answer (the one-shot `invoke` command).
    pub logs_to_stderr: bool,
    /// Discard the runtime's own output (the demo prints a table instead).
    pub quiet_runtime: bool,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        EmulatorConfig {
            command: None,
            task_root: PathBuf::from("."),
            handler: "index.handler".into(),
            front: Front::InvokeApi,
            invoke_host: "127.0.0.1".into(),
            invoke_port: 9000,
            timeout: Duration::from_secs(3),
            function_name: "function".into(),
            function_version: "$LATEST".into(),
            memory_mb: 128,
            region: "us-east-1".into(),
            execution_env: None,
            runtime_dir: None,
            log_format: LogFormat::Text,
            log_level: None,
            max_concurrency: 1,
            instances: 1,
            platform_logs: true,
            env: Vec::new(),
            logs_to_stderr: false,
            quiet_runtime: false,
        }
    }
}

/// What the listener on `invoke_host:invoke_port` serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Front {
    /// The Lambda invoke API (`POST /2015-03-31/functions/<name>/invocations`), as AWS's RIE.
    InvokeApi,
    /// Any HTTP request, as the event of a Function URL or an API Gateway REST API.
    Http(EventFormat),
}

/// A running emulator. Dropping it stops it.
pub struct Emulator {
    instances: Arc<Instances>,
    invoke_addr: SocketAddr,
    invoke_stop: Arc<AtomicBool>,
    threads: Mutex<Vec<JoinHandle<()>>>,
}

#[derive(Debug)]
pub struct StartError {
    pub message: String,
}

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
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

/// Accepts connections until `stop` is set (the stopper then connects once to wake `accept`),
/// serving each on its own thread. Every connection is registered so `stop` can close it.
pub(crate) fn accept_loop<F>(listener: TcpListener, stop: &AtomicBool, shared: &Arc<Shared>, serve: F)
where
    F: Fn(&Arc<Shared>, TcpStream) + Send + Sync + Clone + 'static,
{
    for stream in listener.incoming() {
        if stop.load(Ordering::SeqCst) {
            break;
        }
        let stream = match stream {
            Ok(s) => s,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            // EMFILE and friends: back off instead of spinning.
            Err(_) => {
                thread::sleep(Duration::from_millis(10));
                continue;
            }
        };
        let conn_id = shared.register_connection(&stream);
        let shared = shared.clone();
        let serve = serve.clone();
        let spawned = thread::Builder::new()
            .name("lambda-rapid-conn".into())
            .stack_size(256 * 1024)
            .spawn(move || {
                serve(&shared, stream);
                shared.unregister_connection(conn_id);
            });
        if spawned.is_err() {
            thread::sleep(Duration::from_millis(10));
        }
    }
}

pub(crate) fn close_stream(s: &TcpStream) {
    let _ = s.shutdown(Shutdown::Both);
}

#[cfg(test)]
mod tests;
