//! GET next, in one place: the paths that serve a `next()`, and the one function that chooses
//! between them ([`choose`]).
//!
//! - **The event loop** (the default): the GET goes out from the JS thread and libuv's loop
//!   watches its socket (`on_loop.rs`, a `uv_poll_t`), which the sans-IO state machine of
//!   `polled.rs` reads and parses when it is ready. No thread to wake and none to wake the JS
//!   thread back: docs/wire-protocol.md has the measurements.
//! - **The long-poll thread** (`long_poll.rs`): the blocking client's GET
//!   ([`RuntimeApiClient::next_invocation`]) on a thread of the client's own, whose promise
//!   settles through one threadsafe function per client (`settler.rs`). It serves what the
//!   event loop cannot: a host whose libuv this addon cannot reach, a second `next()` while the
//!   loop's GET is pending (that path has one connection), `respondThenNext` (POST and GET in
//!   one hop to the thread), and `LAMBDA_RAPID_NEXT_ON_THREAD=1` (the A/B switch the connection
//!   specs and the benchmark's `-thread` candidates use).
//!
//! Gone: GET next as a task on libuv's thread pool. Node joins the pool's threads at exit, so a
//! GET the Runtime API held open kept `process.exit()` from returning; the long-poll thread
//! replaced it, and nothing reached it any more.

mod long_poll;
mod on_loop;
mod polled;
#[cfg(test)]
mod polled_tests;
mod settler;

use std::sync::Arc;

use napi::bindgen_prelude::*;
use napi::sys;

use crate::client::RuntimeApiClient;
use crate::error::RuntimeApiError;
use crate::invocation::Invocation;

/// Makes the promise's value, or the error it is rejected with, on the JS thread (the N-API
/// boundary's conversion of an invocation, src/lib.rs).
pub type Convert = fn(&Env, std::result::Result<Invocation, RuntimeApiError>) -> Result<sys::napi_value>;

/// The path that serves one `next()`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NextPath {
    EventLoop,
    LongPollThread,
}

/// Where the event-loop path stands for this client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventLoop {
    /// libuv cannot be reached from this addon, or `LAMBDA_RAPID_NEXT_ON_THREAD=1`.
    Unavailable,
    Idle,
    /// Its GET is pending: its one connection is taken.
    Busy,
}

/// The one choice between the paths (see the top of this file for why each exists).
pub fn choose(event_loop: EventLoop) -> NextPath {
    match event_loop {
        EventLoop::Idle => NextPath::EventLoop,
        EventLoop::Unavailable | EventLoop::Busy => NextPath::LongPollThread,
    }
}

/// Whether the environment asks for GET next on the long-poll thread.
fn forced_on_thread() -> bool {
    std::env::var_os("LAMBDA_RAPID_NEXT_ON_THREAD").is_some_and(|v| v == "1")
}

/// The GET-next machinery of one client.
pub struct NextInvocations {
    client: Arc<RuntimeApiClient>,
    /// `None` where the event-loop path is unavailable.
    on_loop: Option<on_loop::LoopNext>,
    long_poll: long_poll::LongPollThread,
    settler: settler::PromiseSettler,
    convert: Convert,
}

impl NextInvocations {
    /// On the JS thread, with its env.
    pub fn new(env: &Env, client: Arc<RuntimeApiClient>, convert: Convert) -> Result<Self> {
        let on_loop = if forced_on_thread() {
            None
        } else {
            on_loop::LoopNext::new(env, client.next_url(), convert)?
        };
        Ok(NextInvocations {
            client,
            on_loop,
            long_poll: long_poll::LongPollThread::new(),
            settler: settler::PromiseSettler::new(env)?,
            convert,
        })
    }

    fn event_loop(&self) -> EventLoop {
        match &self.on_loop {
            None => EventLoop::Unavailable,
            Some(on_loop) if on_loop.busy() => EventLoop::Busy,
            Some(_) => EventLoop::Idle,
        }
    }

    /// GET next; the promise settles with the invocation.
    pub fn next<'env>(&self, env: &'env Env) -> Result<Object<'env>> {
        match (choose(self.event_loop()), &self.on_loop) {
            (NextPath::EventLoop, Some(on_loop)) => on_loop.next(env),
            _ => self.on_long_poll_thread(env, &[][..], |client, _| client.next_invocation()),
        }
    }

    /// POST the response, then GET next, in one hop to the long-poll thread. `body` is
    /// dropped on the JS thread (a JS Buffer is released where it was made).
    pub fn respond_then_next<'env, B: AsRef<[u8]> + Send + 'static>(
        &self,
        env: &'env Env,
        request_id: String,
        body: B,
    ) -> Result<Object<'env>> {
        self.on_long_poll_thread(env, body, move |client, body| {
            client.post_response(&request_id, body)?;
            client.next_invocation()
        })
    }

    /// Runs `call` with `held`'s bytes on the long-poll thread; the promise settles with its
    /// invocation, and `held` is dropped, on the JS thread.
    fn on_long_poll_thread<'env, B: AsRef<[u8]> + Send + 'static>(
        &self,
        env: &'env Env,
        held: B,
        call: impl FnOnce(&RuntimeApiClient, &[u8]) -> std::result::Result<Invocation, RuntimeApiError>
            + Send
            + 'static,
    ) -> Result<Object<'env>> {
        let (promise, settlement) = self.settler.promise(env)?;
        let client = self.client.clone();
        let convert = self.convert;
        self.long_poll
            .run(Box::new(move || {
                let result = call(&client, held.as_ref());
                settlement.settle(Box::new(move |env| {
                    drop(held);
                    convert(&env, result)
                }));
            }))
            .map_err(Error::from_reason)?;
        Ok(promise)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_event_loop_serves_next_whenever_it_can_and_the_thread_otherwise() {
        assert_eq!(choose(EventLoop::Idle), NextPath::EventLoop);
        assert_eq!(choose(EventLoop::Busy), NextPath::LongPollThread);
        assert_eq!(choose(EventLoop::Unavailable), NextPath::LongPollThread);
    }
}
