//! The N-API boundary, and nothing else: each export converts its arguments, calls one pure-Rust
//! function (on a libuv worker thread when it can block), and converts the result. Errors cross
//! as JS `Error`s with a stable `code` (see `error.rs`).
#![deny(clippy::all)]

pub mod base64;
pub mod client;
pub mod emulator;
pub mod endpoint;
pub mod error;
pub mod invocation;
pub mod next;
pub mod stream;

use std::sync::Arc;

use napi::bindgen_prelude::*;
use napi_derive::napi;

use client::RuntimeApiClient;
use error::RuntimeApiError;
use invocation::Invocation;

// ===== RuntimeClient (issue 2, the Runtime API client): src/client/, src/next/, src/invocation.rs =====

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
fn invocation_to_js(
    env: &Env,
    result: std::result::Result<Invocation, RuntimeApiError>,
) -> Result<sys::napi_value> {
    match result {
        // SAFETY: called on the JS thread with its env (src/next/).
        Ok(inv) => unsafe { BindingInvocation::to_napi_value(env.raw(), inv.into()) },
        Err(e) => Err(to_js_error(env, e)),
    }
}

/// The only place a core error becomes a JS error: `code`, `status`, `body` (the bench addon
/// uses it too, benchmark/native).
pub fn to_js_error(env: &Env, e: RuntimeApiError) -> Error {
    let build = || -> Result<Error> {
        let mut obj = env.create_error(Error::new(Status::GenericFailure, e.message.clone()))?;
        obj.set("code", e.code.as_str())?;
        if let Some(status) = e.status {
            obj.set("status", status as u32)?;
        }
        if let Some(body) = &e.body {
            obj.set("body", body.as_str())?;
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

enum Call {
    Respond {
        request_id: String,
        body: BindingBody,
    },
    Fail {
        request_id: String,
        body: BindingBody,
        error_type: String,
        xray_cause: Option<String>,
    },
    InitError {
        body: BindingBody,
        error_type: String,
    },
}

impl Call {
    fn run(&self, client: &RuntimeApiClient) -> std::result::Result<(), RuntimeApiError> {
        match self {
            Call::Respond { request_id, body } => client.post_response(request_id, body.as_ref()),
            Call::Fail {
                request_id,
                body,
                error_type,
                xray_cause,
            } => client.post_error(request_id, body.as_ref(), error_type, xray_cause.as_deref()),
            Call::InitError { body, error_type } => client.post_init_error(body.as_ref(), error_type),
        }
    }
}

/// One blocking Runtime API call run on the libuv thread pool.
pub struct RuntimeApiTask {
    client: Arc<RuntimeApiClient>,
    call: Call,
}

impl Task for RuntimeApiTask {
    type Output = std::result::Result<(), RuntimeApiError>;
    type JsValue = ();

    fn compute(&mut self) -> Result<Self::Output> {
        Ok(self.call.run(&self.client))
    }

    fn resolve(&mut self, env: Env, output: Self::Output) -> Result<Self::JsValue> {
        output.map_err(|e| to_js_error(&env, e))
    }
}

/// A client of the Lambda Runtime API.
#[napi]
pub struct RuntimeClient {
    inner: Arc<RuntimeApiClient>,
    /// GET next, on whichever path serves it (src/next/).
    next: next::NextInvocations,
    endpoint: String,
}

#[napi]
impl RuntimeClient {
    /// `endpoint` is `host:port[/prefix]`; it defaults to `AWS_LAMBDA_RUNTIME_API`.
    #[napi(constructor)]
    pub fn new(env: Env, endpoint: Option<String>) -> Result<Self> {
        let endpoint = match endpoint.or_else(|| std::env::var("AWS_LAMBDA_RUNTIME_API").ok()) {
            Some(e) => e,
            None => {
                return Err(to_js_error(
                    &env,
                    RuntimeApiError::new(
                        error::ErrorCode::InvalidEndpoint,
                        "AWS_LAMBDA_RUNTIME_API is not set and no Runtime API endpoint was given",
                    ),
                ))
            }
        };
        let inner = Arc::new(RuntimeApiClient::new(&endpoint).map_err(|e| to_js_error(&env, e))?);
        Ok(RuntimeClient {
            next: next::NextInvocations::new(&env, inner.clone(), invocation_to_js)?,
            inner,
            endpoint,
        })
    }

    /// The endpoint this client talks to, as given (or as read from `AWS_LAMBDA_RUNTIME_API`).
    #[napi(getter)]
    pub fn endpoint(&self) -> String {
        self.endpoint.clone()
    }

    fn task(&self, call: Call) -> AsyncTask<RuntimeApiTask> {
        AsyncTask::new(RuntimeApiTask {
            client: self.inner.clone(),
            call,
        })
    }

    /// GET the next invocation.
    #[napi(ts_return_type = "Promise<Invocation>")]
    pub fn next<'env>(&self, env: &'env Env) -> Result<Object<'env>> {
        self.next.next(env)
    }

    /// POST an invocation's response.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn respond(
        &self,
        request_id: String,
        #[napi(ts_arg_type = "string | Buffer")] body: BindingBody,
    ) -> AsyncTask<RuntimeApiTask> {
        self.task(Call::Respond { request_id, body })
    }

    /// POST an invocation's response, then GET the next invocation, in one hop to the long-poll thread.
    #[napi(ts_return_type = "Promise<Invocation>")]
    pub fn respond_then_next<'env>(
        &self,
        env: &'env Env,
        request_id: String,
        #[napi(ts_arg_type = "string | Buffer")] body: BindingBody,
    ) -> Result<Object<'env>> {
        self.next.respond_then_next(env, request_id, body)
    }

    /// POST an invocation's error.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn fail(
        &self,
        request_id: String,
        #[napi(ts_arg_type = "string | Buffer")] error_body: BindingBody,
        error_type: String,
        xray_cause: Option<String>,
    ) -> AsyncTask<RuntimeApiTask> {
        self.task(Call::Fail {
            request_id,
            body: error_body,
            error_type,
            xray_cause,
        })
    }

    /// POST an initialisation error.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn init_error(
        &self,
        #[napi(ts_arg_type = "string | Buffer")] error_body: BindingBody,
        error_type: String,
    ) -> AsyncTask<RuntimeApiTask> {
        self.task(Call::InitError {
            body: error_body,
            error_type,
        })
    }

    /// `fail`, on the JS thread: for a process about to exit, where no later turn will come.
    #[napi]
    pub fn fail_sync(
        &self,
        env: Env,
        request_id: String,
        #[napi(ts_arg_type = "string | Buffer")] error_body: BindingBody,
        error_type: String,
        xray_cause: Option<String>,
    ) -> Result<()> {
        let call = Call::Fail {
            request_id,
            body: error_body,
            error_type,
            xray_cause,
        };
        call.run(&self.inner)
            .map(|_| ())
            .map_err(|e| to_js_error(&env, e))
    }

    /// `initError`, on the JS thread.
    #[napi]
    pub fn init_error_sync(
        &self,
        env: Env,
        #[napi(ts_arg_type = "string | Buffer")] error_body: BindingBody,
        error_type: String,
    ) -> Result<()> {
        let call = Call::InitError {
            body: error_body,
            error_type,
        };
        call.run(&self.inner)
            .map(|_| ())
            .map_err(|e| to_js_error(&env, e))
    }
}

// ===== runtime (issue 3, the invoke loop): a response posted on the JS thread =====

// Both official clients post a buffered response with a blocking call on the JS thread, and
// functions can observe it: 3.x posts inside the microtask in which the handler's promise
// settles (so `process.nextTick` callbacks run after the POST), 4.x posts before any timer the
// handler left behind can fire. Posted from a worker thread, those callbacks would race the
// request. See docs/event-loop.md.
#[napi]
impl RuntimeClient {
    /// `respond`, on the JS thread: the POST has been answered when this returns.
    #[napi]
    pub fn respond_sync(
        &self,
        env: Env,
        request_id: String,
        #[napi(ts_arg_type = "string | Buffer")] body: BindingBody,
    ) -> Result<()> {
        Call::Respond { request_id, body }
            .run(&self.inner)
            .map(|_| ())
            .map_err(|e| to_js_error(&env, e))
    }
}

// ===== streaming (issue 5, response streaming): src/stream/ =====
// A streamed response is uploaded by a thread of its own (src/stream/). JS hands it Buffers
// without copying them (small ones excepted: copying a few KiB costs less than a reference
// kept across threads); the upload thread hands them back and they are released here, on the
// JS thread, at the next call. JS learns that the upload is behind from `write`'s result, then
// waits on `drained()`. Used by lib/streaming.mjs.

/// Chunks smaller than this are copied on the JS thread instead of being shared.
const STREAM_COPY_MAX: usize = 16 * 1024;
const STREAM_DEFAULT_HIGH_WATER: usize = 64 * 1024;

/// The bytes of one JS write as the upload thread sees them.
pub enum BindingChunk {
    Shared(Buffer),
    Copied(Vec<u8>),
}

impl AsRef<[u8]> for BindingChunk {
    fn as_ref(&self) -> &[u8] {
        match self {
            BindingChunk::Shared(b) => b.as_ref(),
            BindingChunk::Copied(v) => v.as_slice(),
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

/// One streamed invocation response: a chunked POST to `/invocation/{id}/response` sent by a
/// thread of its own. The request starts (and the content type is fixed) when this is created.
#[napi(js_name = "ResponseStreamWriter")]
pub struct BindingResponseStream {
    inner: stream::ResponseStream<BindingChunk>,
}

#[napi]
impl BindingResponseStream {
    /// `endpoint` defaults to `AWS_LAMBDA_RUNTIME_API`; `highWaterMark` is the number of queued
    /// bytes at which `write` starts returning false.
    #[napi(constructor)]
    pub fn new(
        env: Env,
        endpoint: Option<String>,
        request_id: String,
        content_type: Option<String>,
        high_water_mark: Option<u32>,
    ) -> Result<Self> {
        let endpoint = endpoint
            .or_else(|| std::env::var("AWS_LAMBDA_RUNTIME_API").ok())
            .unwrap_or_default();
        let content_type = content_type.unwrap_or_else(|| stream::DEFAULT_CONTENT_TYPE.to_string());
        let high_water = high_water_mark.map_or(STREAM_DEFAULT_HIGH_WATER, |n| n as usize);
        stream::StreamTarget::for_response(&endpoint, &request_id)
            .and_then(|target| stream::ResponseStream::start(target, &content_type, high_water))
            .map(|inner| BindingResponseStream { inner })
            .map_err(|e| to_js_error(&env, e))
    }

    /// Queues the chunks as one HTTP chunk. `false`: the upload is behind, wait for `drained()`.
    #[napi]
    pub fn write(&mut self, env: Env, chunks: Vec<Buffer>) -> Result<bool> {
        let mut out = Vec::with_capacity(chunks.len());
        let mut copied: Vec<u8> = Vec::new();
        for chunk in chunks {
            if chunk.len() <= STREAM_COPY_MAX {
                copied.extend_from_slice(&chunk);
            } else {
                if !copied.is_empty() {
                    out.push(BindingChunk::Copied(std::mem::take(&mut copied)));
                }
                out.push(BindingChunk::Shared(chunk));
            }
        }
        if !copied.is_empty() {
            out.push(BindingChunk::Copied(copied));
        }
        self.inner.write(out).map_err(|e| to_js_error(&env, e))
    }

    /// Resolves once there is room in the queue again (or the stream is over).
    #[napi(ts_return_type = "Promise<void>")]
    pub fn drained<'env>(&self, env: &'env Env) -> Result<Object<'env>> {
        let (deferred, promise) = env.create_deferred::<(), DrainResolver>()?;
        let spent = self.inner.spent_chunks();
        self.inner.when_drained(move || {
            deferred.resolve(Box::new(move |_| {
                spent.reclaim();
                Ok(())
            }))
        });
        Ok(promise)
    }

    /// Bytes queued and not yet handed to the socket.
    #[napi(getter)]
    pub fn queued_bytes(&self) -> f64 {
        self.inner.queued_bytes() as f64
    }

    /// Ends the stream; resolves with the Runtime API's answer once the whole stream was sent.
    #[napi(ts_return_type = "Promise<StreamAnswer>")]
    pub fn end<'env>(&mut self, env: &'env Env) -> Result<Object<'env>> {
        self.finish(env, stream::StreamEnd::Complete)
    }

    /// Ends the stream with the error trailers: `errorType`, and `errorBody` (the error JSON,
    /// sent base64-encoded). Resolves like `end`.
    #[napi(ts_return_type = "Promise<StreamAnswer>")]
    pub fn fail<'env>(
        &mut self,
        env: &'env Env,
        error_type: String,
        #[napi(ts_arg_type = "string | Buffer")] error_body: BindingBody,
    ) -> Result<Object<'env>> {
        let how = stream::StreamEnd::Failed {
            error_type,
            error_json: error_body.as_ref().to_vec(),
        };
        self.finish(env, how)
    }

    fn finish<'env>(&mut self, env: &'env Env, how: stream::StreamEnd) -> Result<Object<'env>> {
        let (deferred, promise) = env.create_deferred::<BindingStreamAnswer, StreamResolver>()?;
        let spent = self.inner.spent_chunks();
        self.inner.end(how, move |result| {
            deferred.resolve(Box::new(move |env| {
                spent.reclaim();
                match result {
                    Ok(answer) => Ok(BindingStreamAnswer {
                        status: u32::from(answer.status),
                        body: String::from_utf8_lossy(&answer.body).into_owned(),
                    }),
                    Err(e) => Err(to_js_error(&env, e)),
                }
            }))
        });
        Ok(promise)
    }
}

// ===== emulator (issue 6, the local Lambda): src/emulator/ =====
// The emulator runs on threads of its own; starting it binds sockets and spawns the runtime
// (milliseconds), stopping it kills and reaps the runtime, so both are plain sync calls.

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
}

#[napi(object, js_name = "EmulatorStats")]
pub struct BindingEmulatorStats {
    pub runtimes_started: u32,
    pub invocations: f64,
    pub timeouts: u32,
    pub crashes: u32,
    pub init_errors: u32,
}

fn emulator_error(env: &Env, message: String) -> Error {
    let build = || -> Result<Error> {
        let mut obj = env.create_error(Error::new(Status::InvalidArg, message.clone()))?;
        obj.set("code", "ERR_EMULATOR")?;
        Ok(Error::from(obj.to_unknown()))
    };
    build().unwrap_or_else(|err| err)
}

/// A running local Lambda.
#[napi]
pub struct Emulator {
    inner: emulator::Emulator,
}

/// Starts the local Lambda: invoke API on `host:port`, Runtime API on a free 127.0.0.1 port.
#[napi]
pub fn start_emulator(env: Env, options: BindingEmulatorOptions) -> Result<Emulator> {
    let defaults = emulator::EmulatorConfig::default();
    let log_format = match options
        .log_format
        .as_deref()
        .map(str::to_ascii_uppercase)
        .as_deref()
    {
        None | Some("TEXT") => emulator::LogFormat::Text,
        Some("JSON") => emulator::LogFormat::Json,
        Some(other) => {
            return Err(emulator_error(
                &env,
                format!("log format must be TEXT or JSON, not {other}"),
            ))
        }
    };
    let port = match options.port {
        None => defaults.invoke_port,
        Some(p) => u16::try_from(p).map_err(|_| emulator_error(&env, format!("port {p} is out of range")))?,
    };
    let timeout = match options.timeout_seconds {
        None => defaults.timeout,
        Some(s) if s.is_finite() && s > 0.0 => std::time::Duration::from_secs_f64(s),
        Some(s) => {
            return Err(emulator_error(
                &env,
                format!("timeout must be a positive number of seconds, not {s}"),
            ))
        }
    };
    let front = match options.http.as_deref() {
        None => emulator::Front::InvokeApi,
        Some(name) => emulator::EventFormat::from_name(name)
            .map(emulator::Front::Http)
            .ok_or_else(|| {
                emulator_error(
                    &env,
                    format!("http event format must be url or apigw-v1, not {name}"),
                )
            })?,
    };
    let config = emulator::EmulatorConfig {
        command: options.command,
        front,
        task_root: options.task_root.map(Into::into).unwrap_or(defaults.task_root),
        handler: options.handler.unwrap_or(defaults.handler),
        invoke_host: options.host.unwrap_or(defaults.invoke_host),
        invoke_port: port,
        timeout,
        function_name: options.function_name.unwrap_or(defaults.function_name),
        function_version: defaults.function_version,
        memory_mb: options.memory_mb.unwrap_or(defaults.memory_mb),
        region: options.region.unwrap_or(defaults.region),
        execution_env: options.execution_env,
        runtime_dir: options.runtime_dir.map(Into::into),
        log_format,
        log_level: options.log_level,
        max_concurrency: options.max_concurrency.map_or(1, |n| n as usize),
        instances: options.instances.map_or(1, |n| n as usize),
        platform_logs: options.platform_logs.unwrap_or(true),
        env: options.env.map(|m| m.into_iter().collect()).unwrap_or_default(),
        logs_to_stderr: options.logs_to_stderr.unwrap_or(false),
        quiet_runtime: options.quiet_runtime.unwrap_or(false),
    };
    emulator::Emulator::start(config)
        .map(|inner| Emulator { inner })
        .map_err(|e| emulator_error(&env, e.message))
}

#[napi]
impl Emulator {
    /// The invoke API's port.
    #[napi(getter)]
    pub fn port(&self) -> u32 {
        u32::from(self.inner.invoke_port())
    }

    /// `127.0.0.1:port` of the current runtime's Runtime API (changes when the runtime restarts).
    #[napi(getter)]
    pub fn runtime_api(&self) -> Option<String> {
        self.inner.runtime_api_endpoint()
    }

    #[napi]
    pub fn stats(&self) -> BindingEmulatorStats {
        let s = self.inner.stats();
        BindingEmulatorStats {
            runtimes_started: s.runtimes_started,
            invocations: s.invocations as f64,
            timeouts: s.timeouts,
            crashes: s.crashes,
            init_errors: s.init_errors,
        }
    }

    /// The function's code changed: the next invocation runs on a fresh runtime, once the
    /// current one has finished what it holds (`serve --watch`).
    #[napi]
    pub fn recycle(&self) {
        self.inner.recycle();
    }

    /// Kills the runtime, fails what is pending, closes every socket. Idempotent.
    #[napi]
    pub fn stop(&self) {
        self.inner.stop();
    }
}
