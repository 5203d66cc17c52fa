//! What src/lib.rs's exports take and give: the plain objects that cross (`Binding*`, each a
//! JS shape of native.d.ts), the hand-written value conversions (the event's text out, a
//! response body in), the one conversion of a core error into a JS error, the task that runs a
//! POST on libuv's pool, and the emulator's options turned into its configuration. Nothing here
//! decides anything about Lambda.

use std::sync::Arc;

use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::client::queued_post::QueuedPoster;
use crate::client::RuntimeApiClient;
use crate::emulator::{self, options, EmulatorConfig};
use crate::error::RuntimeApiError;
use crate::invocation::Invocation;
use crate::stream::{Chunk, ResponseStream, StreamEnd};

/// An invocation as JS sees it. `body` is the event's text, ready for `JSON.parse`.
#[napi(object, object_from_js = false, js_name = "Invocation")]
pub struct BindingInvocation {
    pub request_id: String,
    pub deadline_ms: f64,
    pub invoked_function_arn: String,
    pub trace_id: Option<String>,
    pub client_context: Option<String>,
    pub cognito_identity: Option<String>,
    pub tenant_id: Option<String>,
    #[napi(ts_type = "string")]
    pub body: BindingEventText,
}

/// The event's text. Pure-ASCII text (nearly every JSON event: JSON escapes the rest only when
/// the producer chose to) crosses as a one-byte string, which V8 copies without decoding UTF-8:
/// measured on Node 22 for 1 MiB, ~0.15-0.25 ms instead of ~0.75-0.85 ms.
pub struct BindingEventText(String);

impl TypeName for BindingEventText {
    fn type_name() -> &'static str {
        "String"
    }

    fn value_type() -> ValueType {
        ValueType::String
    }
}

impl ToNapiValue for BindingEventText {
    unsafe fn to_napi_value(env: sys::napi_env, val: Self) -> Result<sys::napi_value> {
        let text = val.0;
        let mut out = std::ptr::null_mut();
        let len = text.len() as isize;
        // SAFETY: `text` outlives the call, and `len` is its length in bytes; Latin-1 is used
        // only for ASCII, whose bytes are the same code points in Latin-1 and UTF-8.
        let status = unsafe {
            if text.is_ascii() {
                sys::napi_create_string_latin1(env, text.as_ptr().cast(), len, &mut out)
            } else {
                sys::napi_create_string_utf8(env, text.as_ptr().cast(), len, &mut out)
            }
        };
        if status != sys::Status::napi_ok {
            return Err(Error::new(
                Status::from(status),
                "cannot create the event's string",
            ));
        }
        Ok(out)
    }
}

impl From<Invocation> for BindingInvocation {
    fn from(i: Invocation) -> Self {
        BindingInvocation {
            request_id: i.request_id,
            deadline_ms: i.deadline_ms as f64,
            invoked_function_arn: i.invoked_function_arn,
            trace_id: i.trace_id,
            client_context: i.client_context,
            cognito_identity: i.cognito_identity,
            tenant_id: i.tenant_id,
            body: BindingEventText(i.body),
        }
    }
}

/// GET next's outcome as the promise's value or rejection (either path, src/next/).
pub fn invocation_to_js(
    env: &Env,
    result: std::result::Result<Invocation, RuntimeApiError>,
) -> Result<sys::napi_value> {
    match result {
        // SAFETY: called on the JS thread with its env (src/next/).
        Ok(inv) => unsafe { BindingInvocation::to_napi_value(env.raw(), inv.into()) },
        Err(e) => Err(to_js_error(env, e)),
    }
}

/// A core error as a JS error: `code`, and `status` and `body` when the Runtime API refused.
/// The only place this happens (the bench addon, benchmark/native, uses it too).
pub fn to_js_error(env: &Env, e: RuntimeApiError) -> Error {
    js_error(
        env,
        Status::GenericFailure,
        e.code.as_str(),
        e.message,
        e.status,
        e.body.as_deref(),
    )
}

/// The emulator's refusal (a bad option, a port in use, ...) as a JS error: `code` ERR_EMULATOR.
pub fn emulator_error(env: &Env, e: emulator::StartError) -> Error {
    js_error(env, Status::InvalidArg, "ERR_EMULATOR", e.message, None, None)
}

fn js_error(
    env: &Env,
    kind: Status,
    code: &str,
    message: String,
    status: Option<u16>,
    body: Option<&str>,
) -> Error {
    let build = || -> Result<Error> {
        let mut obj = env.create_error(Error::new(kind, message.clone()))?;
        obj.set("code", code)?;
        if let Some(status) = status {
            obj.set("status", status as u32)?;
        }
        if let Some(body) = body {
            obj.set("body", body)?;
        }
        Ok(Error::from(obj.to_unknown()))
    };
    build().unwrap_or_else(|err| err)
}

/// A response or error body from JS: a Buffer is read in place on the worker thread (no copy);
/// a string is encoded to UTF-8 once, on the JS thread (it cannot be read from another thread).
/// napi's .d.ts generator does not see this type: each use says `string | Buffer`.
pub enum BindingBody {
    Text(Vec<u8>),
    Bytes(Buffer),
}

impl FromNapiValue for BindingBody {
    /// napi's own `String` conversion walks a string twice (once to size it, once to copy it)
    /// and zero-fills its buffer first. Sizing from the UTF-16 length instead (at most 3 UTF-8
    /// bytes per unit; the untouched tail of a large allocation is never paged in) makes it one
    /// pass: see docs/wire-protocol.md for the measurement.
    unsafe fn from_napi_value(env: sys::napi_env, value: sys::napi_value) -> Result<Self> {
        let mut kind = 0;
        check_status!(unsafe { sys::napi_typeof(env, value, &mut kind) })?;
        if kind != sys::ValueType::napi_string {
            return match unsafe { Buffer::from_napi_value(env, value) } {
                Ok(buffer) => Ok(BindingBody::Bytes(buffer)),
                Err(_) => Err(Error::new(
                    Status::InvalidArg,
                    "a response or error body must be a string or a Buffer",
                )),
            };
        }
        let mut units = 0;
        check_status!(unsafe {
            sys::napi_get_value_string_utf16(env, value, std::ptr::null_mut(), 0, &mut units)
        })?;
        let capacity = units * 3 + 1; // + the NUL napi always writes
        let mut bytes: Vec<u8> = Vec::with_capacity(capacity);
        let mut written = 0;
        check_status!(unsafe {
            sys::napi_get_value_string_utf8(env, value, bytes.as_mut_ptr().cast(), capacity, &mut written)
        })?;
        // SAFETY: napi wrote `written` bytes (without the NUL) into the allocation.
        unsafe { bytes.set_len(written) };
        Ok(BindingBody::Text(bytes))
    }
}

impl AsRef<[u8]> for BindingBody {
    fn as_ref(&self) -> &[u8] {
        match self {
            BindingBody::Text(bytes) => bytes,
            BindingBody::Bytes(buffer) => buffer.as_ref(),
        }
    }
}

/// The Runtime API's answer to a completed streamed response.
#[napi(object, js_name = "StreamAnswer")]
pub struct BindingStreamAnswer {
    pub status: u32,
    pub body: String,
}

type StreamResolver = Box<dyn FnOnce(Env) -> Result<BindingStreamAnswer> + Send>;
type DrainResolver = Box<dyn FnOnce(Env) -> Result<()> + Send>;

/// `drained()`'s promise: settled (from the upload thread, through a deferred) once there is
/// room in the queue; the chunks the upload is done with are released then, on the JS thread.
pub fn when_drained<'env>(env: &'env Env, stream: &ResponseStream<Chunk<Buffer>>) -> Result<Object<'env>> {
    let (deferred, promise) = env.create_deferred::<(), DrainResolver>()?;
    let spent = stream.spent_chunks();
    stream.when_drained(move || {
        deferred.resolve(Box::new(move |_| {
            spent.reclaim();
            Ok(())
        }))
    });
    Ok(promise)
}

/// `end()`'s and `fail()`'s promise: the Runtime API's answer once the whole stream was sent.
pub fn end<'env>(
    env: &'env Env,
    stream: &mut ResponseStream<Chunk<Buffer>>,
    how: StreamEnd,
) -> Result<Object<'env>> {
    let (deferred, promise) = env.create_deferred::<BindingStreamAnswer, StreamResolver>()?;
    let spent = stream.spent_chunks();
    stream.end(how, move |result| {
        deferred.resolve(Box::new(move |env| {
            spent.reclaim();
            let answer = result.map_err(|e| to_js_error(&env, e))?;
            let body = String::from_utf8_lossy(&answer.body).into_owned();
            Ok(BindingStreamAnswer {
                status: u32::from(answer.status),
                body,
            })
        }))
    });
    Ok(promise)
}

/// One POST to the Runtime API, run on the libuv thread pool. The POST holds its body (a JS
/// Buffer, maybe) and is dropped with the task, on the JS thread.
pub struct PostTask {
    client: Arc<RuntimeApiClient>,
    post: Box<Post>,
}

type Post = dyn Fn(&RuntimeApiClient) -> std::result::Result<(), RuntimeApiError> + Send;

impl PostTask {
    pub fn new(
        client: Arc<RuntimeApiClient>,
        post: impl Fn(&RuntimeApiClient) -> std::result::Result<(), RuntimeApiError> + Send + 'static,
    ) -> AsyncTask<PostTask> {
        AsyncTask::new(PostTask {
            client,
            post: Box::new(post),
        })
    }
}

impl Task for PostTask {
    type Output = std::result::Result<(), RuntimeApiError>;
    type JsValue = ();

    fn compute(&mut self) -> Result<Self::Output> {
        Ok((self.post)(&self.client))
    }

    fn resolve(&mut self, env: Env, output: Self::Output) -> Result<Self::JsValue> {
        output.map_err(|e| to_js_error(&env, e))
    }
}

/// Options of `startEmulator`; every field has Lambda's default.
#[napi(object, js_name = "EmulatorOptions")]
pub struct BindingEmulatorOptions {
    /// The runtime's argv (e.g. `[process.execPath, 'index.mjs', 'app.handler']`); omitted: the
    /// runtime is started by the caller against `runtimeApi`.
    pub command: Option<Vec<String>>,
    pub task_root: Option<String>,
    pub handler: Option<String>,
    pub host: Option<String>,
    /// Invoke API port: 9000 by default, 0 for a free one.
    pub port: Option<u32>,
    /// Serve plain HTTP on that port instead of the invoke API, each request becoming the event
    /// of a Function URL (`url`) or an API Gateway REST API proxy (`apigw-v1`).
    pub http: Option<String>,
    pub timeout_seconds: Option<f64>,
    pub function_name: Option<String>,
    pub memory_mb: Option<u32>,
    pub region: Option<String>,
    pub execution_env: Option<String>,
    pub runtime_dir: Option<String>,
    /// `TEXT` or `JSON`.
    pub log_format: Option<String>,
    pub log_level: Option<String>,
    pub max_concurrency: Option<u32>,
    /// Runtimes serving in parallel, each its own process (default 1).
    pub instances: Option<u32>,
    /// Print START/END/REPORT lines (default true).
    pub platform_logs: Option<bool>,
    pub env: Option<std::collections::HashMap<String, String>>,
    /// The runtime's stdout and the platform lines go to stderr (default false).
    pub logs_to_stderr: Option<bool>,
    /// Discard the runtime's output (default false).
    pub quiet_runtime: Option<bool>,
    /// SnapStart: the runtime inits with `AWS_LAMBDA_INITIALIZATION_TYPE=snap-start` and its
    /// `GET restore/next` is answered after this pause, its other connections dropped (unset: on-demand).
    pub snapstart_pause_ms: Option<u32>,
}

#[napi(object, js_name = "EmulatorStats")]
pub struct BindingEmulatorStats {
    pub runtimes_started: u32,
    pub invocations: f64,
    pub timeouts: u32,
    pub crashes: u32,
    pub init_errors: u32,
}

impl From<emulator::state::Stats> for BindingEmulatorStats {
    fn from(s: emulator::state::Stats) -> Self {
        BindingEmulatorStats {
            runtimes_started: s.runtimes_started,
            invocations: s.invocations as f64,
            timeouts: s.timeouts,
            crashes: s.crashes,
            init_errors: s.init_errors,
        }
    }
}

impl BindingEmulatorOptions {
    /// The emulator's configuration: what is given, checked, and Lambda's default for the rest.
    pub fn into_config(self) -> std::result::Result<EmulatorConfig, emulator::StartError> {
        let defaults = EmulatorConfig::default();
        // Checked in this order, so that the first bad option is the one named.
        let log_format = options::log_format(self.log_format.as_deref())?;
        let invoke_port = options::invoke_port(self.port)?;
        let timeout = options::timeout(self.timeout_seconds)?;
        let front = options::front(self.http.as_deref())?;
        Ok(EmulatorConfig {
            command: self.command,
            front,
            task_root: self.task_root.map(Into::into).unwrap_or(defaults.task_root),
            handler: self.handler.unwrap_or(defaults.handler),
            invoke_host: self.host.unwrap_or(defaults.invoke_host),
            invoke_port,
            timeout,
            function_name: self.function_name.unwrap_or(defaults.function_name),
            function_version: defaults.function_version,
            memory_mb: self.memory_mb.unwrap_or(defaults.memory_mb),
            region: self.region.unwrap_or(defaults.region),
            execution_env: self.execution_env,
            runtime_dir: self.runtime_dir.map(Into::into),
            log_format,
            log_level: self.log_level,
            max_concurrency: self.max_concurrency.map_or(1, |n| n as usize),
            instances: self.instances.map_or(1, |n| n as usize),
            platform_logs: self.platform_logs.unwrap_or(true),
            env: self.env.map(|m| m.into_iter().collect()).unwrap_or_default(),
            logs_to_stderr: self.logs_to_stderr.unwrap_or(false),
            quiet_runtime: self.quiet_runtime.unwrap_or(false),
            snapstart_pause: self
                .snapstart_pause_ms
                .map(|ms| std::time::Duration::from_millis(ms.into())),
        })
    }
}

/// A failed queued POST as `startQueuedPosts`' callback gets it: request id, error code,
/// message, HTTP status and body (the fields of the client's other errors).
pub type QueuedPostFailure = (String, String, String, Option<u32>, Option<String>);

/// `respondQueued`'s thread (src/client/queued_post.rs), whose failures reach `on_failure` on the
/// JS thread through one weak threadsafe function (it never keeps the process alive).
pub fn queued_poster(
    client: Arc<RuntimeApiClient>,
    on_failure: Function<QueuedPostFailure, ()>,
) -> Result<QueuedPoster> {
    let failed = on_failure
        .build_threadsafe_function()
        .weak::<true>()
        .callee_handled::<false>()
        // The tuple as the callback's arguments (`build()` would pass it as one array).
        .build_callback(|ctx| Ok(FnArgs::from(ctx.value)))?;
    QueuedPoster::start(client, move |id, e| {
        let args = (
            id,
            e.code.as_str().to_owned(),
            e.message,
            e.status.map(u32::from),
            e.body,
        );
        failed.call(
            args,
            napi::threadsafe_function::ThreadsafeFunctionCallMode::NonBlocking,
        );
    })
    .map_err(|e| Error::from_reason(format!("cannot start the POST thread: {e}")))
}

/// Queues a response on `poster`'s thread: its bytes are copied, for a thread that outlives the call.
pub fn post_queued(poster: Option<&QueuedPoster>, request_id: String, body: BindingBody) -> Result<()> {
    let poster = poster.ok_or_else(|| Error::from_reason("respondQueued: call startQueuedPosts first"))?;
    let bytes = match body {
        BindingBody::Text(text) => text,
        BindingBody::Bytes(buffer) => buffer.to_vec(),
    };
    if poster.post(request_id, bytes) {
        Ok(())
    } else {
        Err(Error::from_reason("respondQueued: the POST thread has ended"))
    }
}
