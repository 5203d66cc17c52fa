//! The benchmark's own addon (`npm run bench` builds it; the product addon has none of it): the
//! bindings of a Runtime API server that times invocations on its own side (event written ->
//! response read; benchmark/server), the raw Rust echo loops (the transport's physical limit)
//! and the lean client. Used by benchmark/ only. `enqueue` is sync so that a cold start can
//! queue its event before the runtime is spawned. It links the product crate (the raw loop runs
//! its client), so the addon also exports the product's classes.
#![deny(clippy::all)]

mod raw_loop;

use std::sync::Arc;

use lambda_rapid::to_js_error;
use lambda_rapid_bench_server as server;
use napi::bindgen_prelude::*;
use napi_derive::napi;

/// One run's samples, in nanoseconds on the bench server's clock (`nowNs`).
#[napi(object, js_name = "BenchRun")]
pub struct BindingBenchRun {
    pub queued_ns: Vec<f64>,
    pub written_ns: Vec<f64>,
    pub first_byte_ns: Vec<f64>,
    pub done_ns: Vec<f64>,
    /// Responses that were not the expected bytes (a description of the first few).
    pub mismatches: Vec<String>,
}

pub struct BenchWaitTask {
    server: Arc<server::BenchServer>,
    count: usize,
    timeout: std::time::Duration,
}

impl Task for BenchWaitTask {
    type Output = std::result::Result<server::RunReport, String>;
    type JsValue = BindingBenchRun;

    fn compute(&mut self) -> Result<Self::Output> {
        Ok(self.server.wait(self.count, self.timeout))
    }

    fn resolve(&mut self, _env: Env, output: Self::Output) -> Result<Self::JsValue> {
        let report = output.map_err(|e| Error::new(Status::GenericFailure, e))?;
        let ns = |f: fn(&server::Sample) -> u64| -> Vec<f64> {
            report.samples.iter().map(|s| f(s) as f64).collect()
        };
        Ok(BindingBenchRun {
            queued_ns: ns(|s| s.queued_ns),
            written_ns: ns(|s| s.written_ns),
            first_byte_ns: ns(|s| s.first_byte_ns),
            done_ns: ns(|s| s.done_ns),
            mismatches: report.mismatches,
        })
    }
}

#[napi(js_name = "BenchServer")]
pub struct BindingBenchServer {
    inner: Arc<server::BenchServer>,
}

#[napi]
impl BindingBenchServer {
    /// Listens on 127.0.0.1 and a free port.
    #[napi(constructor)]
    pub fn new() -> Result<Self> {
        let inner = server::BenchServer::start()
            .map_err(|e| Error::new(Status::GenericFailure, format!("bench server: {e}")))?;
        Ok(BindingBenchServer { inner })
    }

    #[napi(getter)]
    pub fn port(&self) -> u32 {
        u32::from(self.inner.port())
    }

    /// Nanoseconds since the server started (the clock of every sample).
    #[napi]
    pub fn now_ns(&self) -> f64 {
        self.inner.now_ns() as f64
    }

    /// Forgets the previous runtime (queue, first GET, failure): call before each spawn.
    #[napi]
    pub fn reset(&self) {
        self.inner.reset();
    }

    /// When the first `GET next` since `reset` arrived.
    #[napi]
    pub fn first_get_ns(&self) -> Option<f64> {
        self.inner.first_get_ns().map(|n| n as f64)
    }

    /// Queues `count` invocations of `event`; each response must equal `expected` (the event
    /// itself when omitted).
    #[napi]
    pub fn enqueue(&self, event: Buffer, expected: Option<Buffer>, count: u32) {
        let expect = match expected {
            Some(b) => server::Expect::Bytes(Arc::new(b.to_vec())),
            None => server::Expect::Echo,
        };
        self.inner
            .enqueue(Arc::new(event.to_vec()), expect, count as usize);
    }

    /// Managed Instances: keeps `concurrency` invocations outstanding until `total` were
    /// issued, each its own event, each answer checked against its own request id.
    #[napi]
    pub fn closed_loop(&self, concurrency: u32, total: u32) {
        self.inner.closed_loop(concurrency as usize, total as usize);
    }

    /// Resolves when `count` responses arrived; rejects on a posted error, `abort`, or
    /// `timeoutMs` without progress.
    #[napi(ts_return_type = "Promise<BenchRun>")]
    pub fn wait(&self, count: u32, timeout_ms: u32) -> AsyncTask<BenchWaitTask> {
        AsyncTask::new(BenchWaitTask {
            server: self.inner.clone(),
            count: count as usize,
            timeout: std::time::Duration::from_millis(u64::from(timeout_ms)),
        })
    }

    /// Ends the current wait with this reason (e.g. the runtime exited).
    #[napi]
    pub fn abort(&self, reason: String) {
        self.inner.abort(&reason);
    }

    #[napi]
    pub fn stop(&self) {
        self.inner.stop();
    }
}

/// Diagnostics: our JS loop over a transport without an HTTP library. `next()` runs on the
/// libuv pool (an AsyncTask), `respondSync()` on the JS thread, as index.mjs does with the
/// real client; the gap to the real client is what its HTTP layer costs.
#[napi(js_name = "BenchLeanClient")]
pub struct BindingBenchLeanClient {
    conn: Arc<std::sync::Mutex<server::LeanConnection>>,
}

pub struct BenchLeanNextTask {
    conn: Arc<std::sync::Mutex<server::LeanConnection>>,
}

#[napi(object, js_name = "BenchLeanInvocation")]
pub struct BindingBenchLeanInvocation {
    pub request_id: String,
    pub body: String,
}

impl Task for BenchLeanNextTask {
    type Output = std::io::Result<(String, Vec<u8>)>;
    type JsValue = BindingBenchLeanInvocation;

    fn compute(&mut self) -> Result<Self::Output> {
        let mut conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        Ok(conn.next_invocation())
    }

    fn resolve(&mut self, _env: Env, output: Self::Output) -> Result<Self::JsValue> {
        lean_invocation(output)
    }
}

/// A lean GET next's answer as JS sees it (both the async and the blocking diagnostic).
fn lean_invocation<E: std::fmt::Display>(
    output: std::result::Result<(String, Vec<u8>), E>,
) -> Result<BindingBenchLeanInvocation> {
    let (request_id, body) =
        output.map_err(|e| Error::new(Status::GenericFailure, format!("lean next: {e}")))?;
    let body =
        String::from_utf8(body).map_err(|_| Error::new(Status::InvalidArg, "the event is not UTF-8"))?;
    Ok(BindingBenchLeanInvocation { request_id, body })
}

#[napi]
impl BindingBenchLeanClient {
    #[napi(constructor)]
    pub fn new(endpoint: String) -> Result<Self> {
        let conn = server::LeanConnection::connect(&endpoint)
            .map_err(|e| Error::new(Status::GenericFailure, format!("lean connect: {e}")))?;
        Ok(BindingBenchLeanClient {
            conn: Arc::new(std::sync::Mutex::new(conn)),
        })
    }

    #[napi(ts_return_type = "Promise<BenchLeanInvocation>")]
    pub fn next(&self) -> AsyncTask<BenchLeanNextTask> {
        AsyncTask::new(BenchLeanNextTask {
            conn: self.conn.clone(),
        })
    }

    /// GET next on the JS thread, blocking: a lower bound for any design in which the event's
    /// arrival wakes the JS thread itself (no thread hop).
    #[napi]
    pub fn next_sync(&self) -> Result<BindingBenchLeanInvocation> {
        let output = self
            .conn
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .next_invocation();
        lean_invocation(output)
    }

    #[napi]
    pub fn respond_sync(&self, request_id: String, body: String) -> Result<()> {
        let mut conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        conn.respond(&request_id, body.as_bytes())
            .map_err(|e| Error::new(Status::GenericFailure, format!("lean respond: {e}")))
    }
}

/// The raw Rust loop: GET next -> POST the event back -> ..., forever, on the calling thread.
/// `lean`: without an HTTP library (see `raw_echo_loop_lean`).
#[napi]
pub fn bench_raw_echo_loop(env: Env, endpoint: String, lean: Option<bool>) -> Result<()> {
    if lean == Some(true) {
        return server::raw_echo_loop_lean(&endpoint)
            .map_err(|e| Error::new(Status::GenericFailure, format!("raw lean loop: {e}")));
    }
    raw_loop::raw_echo_loop(&endpoint).map_err(|e| to_js_error(&env, e))
}
