//! The N-API boundary, and nothing else: each export converts its arguments, calls one pure-Rust
//! function (on a libuv worker thread when it can block), and converts the result. Errors cross
//! as JS `Error`s with a stable `code` (see `error.rs`). The hand-written conversions are in
//! `boundary.rs`; every decision is in the module that owns the concern.
#![deny(clippy::all)]

pub mod base64;
pub mod boundary;
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

pub use boundary::to_js_error;
use boundary::{
    emulator_error, invocation_to_js, BindingBody, BindingEmulatorOptions, BindingEmulatorStats, PostTask,
    QueuedPostFailure,
};
use client::RuntimeApiClient;

// ===== RuntimeClient (the Runtime API client): src/client/, src/next/, src/invocation.rs =====

/// A client of the Lambda Runtime API.
#[napi]
pub struct RuntimeClient {
    inner: Arc<RuntimeApiClient>,
    /// GET next, on whichever path serves it (src/next/).
    next: next::NextInvocations,
    endpoint: String,
    /// `respondQueued`'s thread, once `startQueuedPosts` started it.
    queued: Option<client::queued_post::QueuedPoster>,
}

#[napi]
impl RuntimeClient {
    /// `endpoint` is `host:port[/prefix]`; it defaults to `AWS_LAMBDA_RUNTIME_API`.
    #[napi(constructor)]
    pub fn new(env: Env, endpoint: Option<String>) -> Result<Self> {
        let endpoint = endpoint::given_or_env(endpoint).map_err(|e| to_js_error(&env, e))?;
        let inner = Arc::new(RuntimeApiClient::new(&endpoint).map_err(|e| to_js_error(&env, e))?);
        Ok(RuntimeClient {
            next: next::NextInvocations::new(&env, inner.clone(), invocation_to_js)?,
            inner,
            endpoint,
            queued: None,
        })
    }

    /// The endpoint this client talks to, as given (or as read from `AWS_LAMBDA_RUNTIME_API`).
    #[napi(getter)]
    pub fn endpoint(&self) -> String {
        self.endpoint.clone()
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
    ) -> AsyncTask<PostTask> {
        PostTask::new(self.inner.clone(), move |c| {
            c.post_response(&request_id, body.as_ref())
        })
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
    ) -> AsyncTask<PostTask> {
        PostTask::new(self.inner.clone(), move |c| {
            c.post_error(
                &request_id,
                error_body.as_ref(),
                &error_type,
                xray_cause.as_deref(),
            )
        })
    }

    /// POST an initialisation error.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn init_error(
        &self,
        #[napi(ts_arg_type = "string | Buffer")] error_body: BindingBody,
        error_type: String,
    ) -> AsyncTask<PostTask> {
        PostTask::new(self.inner.clone(), move |c| {
            c.post_init_error(error_body.as_ref(), &error_type)
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
        (self.inner)
            .post_error(
                &request_id,
                error_body.as_ref(),
                &error_type,
                xray_cause.as_deref(),
            )
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
        (self.inner)
            .post_init_error(error_body.as_ref(), &error_type)
            .map_err(|e| to_js_error(&env, e))
    }

    /// Starts the thread of `respondQueued` (Managed Instances); `onFailure` gets each failed POST.
    #[napi(ts_args_type = "onFailure: QueuedPostFailureCallback")]
    pub fn start_queued_posts(&mut self, on_failure: Function<QueuedPostFailure, ()>) -> Result<()> {
        self.queued = Some(boundary::queued_poster(self.inner.clone(), on_failure)?);
        Ok(())
    }

    /// POST an invocation's response from `startQueuedPosts`' thread; returns at once.
    #[napi]
    pub fn respond_queued(
        &self,
        request_id: String,
        #[napi(ts_arg_type = "string | Buffer")] body: BindingBody,
    ) -> Result<()> {
        boundary::post_queued(self.queued.as_ref(), request_id, body)
    }

    /// `respond`, on the JS thread, as both official clients post a buffered response (the
    /// timing functions can observe: docs/event-loop.md).
    #[napi]
    pub fn respond_sync(
        &self,
        env: Env,
        request_id: String,
        #[napi(ts_arg_type = "string | Buffer")] body: BindingBody,
    ) -> Result<()> {
        (self.inner)
            .post_response(&request_id, body.as_ref())
            .map_err(|e| to_js_error(&env, e))
    }
}

// ===== streaming (response streaming): src/stream/ =====
// Large JS Buffers cross without a copy; the upload thread hands them back and they are released
// here, on the JS thread, at the next call. JS learns that the upload is behind from `write`'s
// result, then waits on `drained()`. Used by lib/streaming.mjs.

/// One streamed invocation response: a chunked POST to `/invocation/{id}/response` sent by a
/// thread of its own. The request starts (and the content type is fixed) when this is created.
#[napi(js_name = "ResponseStreamWriter")]
pub struct BindingResponseStream {
    inner: stream::ResponseStream<stream::Chunk<Buffer>>,
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
        let high_water = high_water_mark.map(|n| n as usize);
        stream::ResponseStream::for_invocation(endpoint, &request_id, content_type, high_water)
            .map(|inner| BindingResponseStream { inner })
            .map_err(|e| to_js_error(&env, e))
    }

    /// Queues the chunks as one HTTP chunk. `false`: the upload is behind, wait for `drained()`.
    #[napi]
    pub fn write(&mut self, env: Env, chunks: Vec<Buffer>) -> Result<bool> {
        let chunks = stream::share_or_copy(chunks);
        self.inner.write(chunks).map_err(|e| to_js_error(&env, e))
    }

    /// Resolves once there is room in the queue again (or the stream is over).
    #[napi(ts_return_type = "Promise<void>")]
    pub fn drained<'env>(&self, env: &'env Env) -> Result<Object<'env>> {
        boundary::when_drained(env, &self.inner)
    }

    /// Bytes queued and not yet handed to the socket.
    #[napi(getter)]
    pub fn queued_bytes(&self) -> f64 {
        self.inner.queued_bytes() as f64
    }

    /// Ends the stream; resolves with the Runtime API's answer once the whole stream was sent.
    #[napi(ts_return_type = "Promise<StreamAnswer>")]
    pub fn end<'env>(&mut self, env: &'env Env) -> Result<Object<'env>> {
        boundary::end(env, &mut self.inner, stream::StreamEnd::Complete)
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
        let error_json = error_body.as_ref().to_vec();
        let how = stream::StreamEnd::Failed {
            error_type,
            error_json,
        };
        boundary::end(env, &mut self.inner, how)
    }
}

// ===== emulator (the local Lambda): src/emulator/ =====
// The emulator runs on threads of its own; starting it binds sockets and spawns the runtime
// (milliseconds), stopping it kills and reaps the runtime, so both are plain sync calls.

/// A running local Lambda.
#[napi]
pub struct Emulator {
    inner: emulator::Emulator,
}

/// Starts the local Lambda: invoke API on `host:port`, Runtime API on a free 127.0.0.1 port.
#[napi]
pub fn start_emulator(env: Env, options: BindingEmulatorOptions) -> Result<Emulator> {
    options
        .into_config()
        .and_then(emulator::Emulator::start)
        .map(|inner| Emulator { inner })
        .map_err(|e| emulator_error(&env, e))
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
        self.inner.stats().into()
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
