//! The N-API boundary, and nothing else: each export converts its arguments, calls one pure-Rust
//! function (on a libuv worker thread when it can block), and converts the result. Errors cross
//! as JS `Error`s with a stable `code` (see `error.rs`).
#![deny(clippy::all)]

pub mod client;
pub mod emulator;
pub mod endpoint;
pub mod error;
pub mod invocation;

use std::sync::Arc;

use napi::bindgen_prelude::*;
use napi_derive::napi;

use client::RuntimeApiClient;
use error::RuntimeApiError;
use invocation::Invocation;

// ===== RuntimeClient (issue 2, the Runtime API client): src/client.rs, src/invocation.rs =====

/// An invocation as JS sees it. `body` is the event's text, ready for `JSON.parse`.
#[napi(object, js_name = "Invocation")]
pub struct BindingInvocation {
    pub request_id: String,
    pub deadline_ms: f64,
    pub invoked_function_arn: String,
    pub trace_id: Option<String>,
    pub client_context: Option<String>,
    pub cognito_identity: Option<String>,
    pub tenant_id: Option<String>,
    pub body: String,
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
            body: i.body,
        }
    }
}

/// The only place a core error becomes a JS error: `code`, `status`, `body`, `requestId`.
fn to_js_error(env: &Env, e: RuntimeApiError) -> Error {
    let build = || -> Result<Error> {
        let mut obj = env.create_error(Error::new(Status::GenericFailure, e.message.clone()))?;
        obj.set("code", e.code.as_str())?;
        if let Some(status) = e.status {
            obj.set("status", status as u32)?;
        }
        if let Some(body) = &e.body {
            obj.set("body", body.as_str())?;
        }
        if let Some(id) = &e.request_id {
            obj.set("requestId", id.as_str())?;
        }
        Ok(Error::from(obj.to_unknown()))
    };
    build().unwrap_or_else(|err| err)
}

/// A response or error body from JS: a string or a Buffer, read in place on the worker thread.
/// napi's .d.ts generator does not see through type aliases: each use says `string | Buffer`.
pub type BindingBody = Either<String, Buffer>;

fn body_bytes(body: &BindingBody) -> &[u8] {
    match body {
        Either::A(s) => s.as_bytes(),
        Either::B(b) => b.as_ref(),
    }
}

enum Call {
    Next,
    Respond {
        request_id: String,
        body: BindingBody,
    },
    RespondThenNext {
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
    fn run(&self, client: &RuntimeApiClient) -> std::result::Result<Option<Invocation>, RuntimeApiError> {
        match self {
            Call::Next => client.next_invocation().map(Some),
            Call::Respond { request_id, body } => {
                client.post_response(request_id, body_bytes(body)).map(|_| None)
            }
            Call::RespondThenNext { request_id, body } => {
                client.post_response(request_id, body_bytes(body))?;
                client.next_invocation().map(Some)
            }
            Call::Fail {
                request_id,
                body,
                error_type,
                xray_cause,
            } => client
                .post_error(request_id, body_bytes(body), error_type, xray_cause.as_deref())
                .map(|_| None),
            Call::InitError { body, error_type } => {
                client.post_init_error(body_bytes(body), error_type).map(|_| None)
            }
        }
    }
}

/// One blocking Runtime API call run on the libuv thread pool.
pub struct RuntimeApiTask {
    client: Arc<RuntimeApiClient>,
    call: Call,
}

impl Task for RuntimeApiTask {
    type Output = std::result::Result<Option<Invocation>, RuntimeApiError>;
    type JsValue = Option<BindingInvocation>;

    fn compute(&mut self) -> Result<Self::Output> {
        Ok(self.call.run(&self.client))
    }

    fn resolve(&mut self, env: Env, output: Self::Output) -> Result<Self::JsValue> {
        output
            .map(|inv| inv.map(BindingInvocation::from))
            .map_err(|e| to_js_error(&env, e))
    }
}

/// A client of the Lambda Runtime API.
#[napi]
pub struct RuntimeClient {
    inner: Arc<RuntimeApiClient>,
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
        let inner = RuntimeApiClient::new(&endpoint).map_err(|e| to_js_error(&env, e))?;
        Ok(RuntimeClient {
            inner: Arc::new(inner),
        })
    }

    fn task(&self, call: Call) -> AsyncTask<RuntimeApiTask> {
        AsyncTask::new(RuntimeApiTask {
            client: self.inner.clone(),
            call,
        })
    }

    /// GET the next invocation.
    #[napi(ts_return_type = "Promise<Invocation>")]
    pub fn next(&self) -> AsyncTask<RuntimeApiTask> {
        self.task(Call::Next)
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

    /// POST an invocation's response, then GET the next invocation, in one worker-thread hop.
    #[napi(ts_return_type = "Promise<Invocation>")]
    pub fn respond_then_next(
        &self,
        request_id: String,
        #[napi(ts_arg_type = "string | Buffer")] body: BindingBody,
    ) -> AsyncTask<RuntimeApiTask> {
        self.task(Call::RespondThenNext { request_id, body })
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
