//! How to run the function (`EmulatorConfig`, Lambda's defaults), Lambda's payload limits, and
//! the error of a start that cannot happen. Near the bottom: it needs only the event and log
//! formats.

use std::path::PathBuf;
use std::time::Duration;

use super::http_event::EventFormat;
use super::platform_log::LogFormat;

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
    /// SnapStart (`serve --snapstart`, src/emulator/snapstart.rs): the pause between the
    /// runtime's `GET restore/next` and its answer, the snapshot's stand-in. `None`: on-demand.
    pub snapstart_pause: Option<Duration>,
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
            snapstart_pause: None,
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

#[derive(Debug)]
pub struct StartError {
    pub message: String,
}

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}
