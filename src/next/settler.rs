//! Settles `next()` promises from the long-poll thread through ONE threadsafe function per
//! client. napi-rs's `JsDeferred` creates a threadsafe function for every promise and tears it
//! down again (a libuv handle opened, then closed a loop turn later); GET next is called once
//! per invocation, so the client keeps one and only refs it (keeping the event loop alive)
//! while a promise is pending, as a pending `next()` must.
//!
//! N-API is touched on the JS thread only, except `napi_call_threadsafe_function` and
//! `napi_release_threadsafe_function`, which N-API allows from any thread.

use std::ffi::c_void;
use std::ptr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use napi::bindgen_prelude::*;
use napi::sys;

/// Runs on the JS thread and makes the promise's value (or its rejection).
pub type Outcome = Box<dyn FnOnce(Env) -> Result<sys::napi_value> + Send>;

/// Shared by the client, each pending settlement and the threadsafe function (its context).
/// Node finalizes the function once every use is given back, or at the environment's teardown
/// whatever the uses; after that the handle must not be touched, hence `finalized`.
struct Shared {
    tsfn: sys::napi_threadsafe_function,
    finalized: Mutex<bool>,
    /// Promises made and not yet settled; the function is ref'd while this is above zero.
    pending: AtomicUsize,
}

// SAFETY: the handle goes only to N-API's thread-safe calls (call, release) under the
// `finalized` lock, or to JS-thread calls on the JS thread.
unsafe impl Send for Shared {}
unsafe impl Sync for Shared {}

impl Shared {
    /// Held while the handle is used; true once the function has been finalized.
    fn finalized(&self) -> MutexGuard<'_, bool> {
        self.finalized
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

pub struct PromiseSettler {
    shared: Arc<Shared>,
}

/// Settles one promise, from any thread. Holds a use of the threadsafe function (acquired when
/// the promise was made), so the function outlives a client collected meanwhile.
pub struct Settlement {
    shared: Option<Arc<Shared>>,
    deferred: sys::napi_deferred,
}

// SAFETY: the deferred is only settled in `call_js`, on the JS thread.
unsafe impl Send for Settlement {}

struct Item {
    deferred: sys::napi_deferred,
    outcome: Outcome,
}

fn check(status: sys::napi_status, what: &str) -> Result<()> {
    if status == sys::Status::napi_ok {
        Ok(())
    } else {
        Err(Error::new(Status::from(status), format!("{what} failed")))
    }
}

impl PromiseSettler {
    pub fn new(env: &Env) -> Result<Self> {
        let raw_env = env.raw();
        let mut name = ptr::null_mut();
        let mut tsfn = ptr::null_mut();
        // The function's context: the `Shared` pointer, filled in once the function exists
        // (nothing reads it before a later turn of the loop).
        let context: *mut *const Shared = Box::into_raw(Box::new(ptr::null()));
        // SAFETY: on the JS thread with its env.
        let created = unsafe {
            check(
                sys::napi_create_string_utf8(raw_env, c"lambda-rapid-next".as_ptr(), 17, &mut name),
                "naming the next() settler",
            )
            .and_then(|_| {
                check(
                    sys::napi_create_threadsafe_function(
                        raw_env,
                        ptr::null_mut(),
                        ptr::null_mut(),
                        name,
                        0,
                        1,
                        context.cast(),
                        Some(finalize),
                        context.cast(),
                        Some(call_js),
                        &mut tsfn,
                    ),
                    "creating the next() settler",
                )
            })
        };
        if let Err(e) = created {
            // SAFETY: no function was created, so nothing else owns the context.
            drop(unsafe { Box::from_raw(context) });
            return Err(e);
        }
        let shared = Arc::new(Shared {
            tsfn,
            finalized: Mutex::new(false),
            pending: AtomicUsize::new(0),
        });
        // SAFETY: the context owns one count of `shared` until `finalize`. An idle client must
        // not keep the process alive: unref until a promise is pending.
        unsafe {
            *context = Arc::into_raw(shared.clone());
            check(
                sys::napi_unref_threadsafe_function(raw_env, tsfn),
                "unref of the next() settler",
            )?;
        }
        Ok(PromiseSettler { shared })
    }

    /// A new pending promise, and what settles it. Keeps the event loop alive until settled.
    pub fn promise<'env>(&self, env: &'env Env) -> Result<(Object<'env>, Settlement)> {
        let raw_env = env.raw();
        let shared = &self.shared;
        if *shared.finalized() {
            return Err(Error::from_reason("the environment is shutting down"));
        }
        // SAFETY: JS thread; the function is not finalized (that also happens on this thread).
        unsafe {
            let mut deferred = ptr::null_mut();
            let mut promise = ptr::null_mut();
            check(
                sys::napi_create_promise(raw_env, &mut deferred, &mut promise),
                "creating a promise",
            )?;
            check(
                sys::napi_acquire_threadsafe_function(shared.tsfn),
                "acquiring the next() settler",
            )?;
            if shared.pending.fetch_add(1, Ordering::Relaxed) == 0 {
                check(
                    sys::napi_ref_threadsafe_function(raw_env, shared.tsfn),
                    "ref of the next() settler",
                )?;
            }
            Ok((
                Object::from_raw(raw_env, promise),
                Settlement {
                    shared: Some(shared.clone()),
                    deferred,
                },
            ))
        }
    }
}

impl Drop for PromiseSettler {
    fn drop(&mut self) {
        let finalized = self.shared.finalized();
        if !*finalized {
            // SAFETY: not finalized while the lock is held. Gives back the client's use; the
            // function is finalized once every settlement has given back its own.
            unsafe {
                sys::napi_release_threadsafe_function(
                    self.shared.tsfn,
                    sys::ThreadsafeFunctionReleaseMode::release,
                );
            }
        }
    }
}

impl Settlement {
    /// Queues `outcome` to run on the JS thread and settle the promise with it.
    pub fn settle(mut self, outcome: Outcome) {
        self.queue(outcome);
    }

    fn queue(&mut self, outcome: Outcome) {
        let Some(shared) = self.shared.take() else {
            return; // already settled
        };
        let finalized = shared.finalized();
        if *finalized {
            return; // the environment went away: nothing is left to settle
        }
        let item = Box::into_raw(Box::new(Item {
            deferred: self.deferred,
            outcome,
        }));
        // SAFETY: not finalized while the lock is held; this settlement's use of the function
        // is given back right after the call.
        unsafe {
            let status = sys::napi_call_threadsafe_function(
                shared.tsfn,
                item.cast(),
                sys::ThreadsafeFunctionCallMode::blocking,
            );
            if status != sys::Status::napi_ok {
                drop(Box::from_raw(item));
            }
            sys::napi_release_threadsafe_function(shared.tsfn, sys::ThreadsafeFunctionReleaseMode::release);
        }
    }
}

/// A settlement dropped unused (its job never ran, or panicked) still settles its promise: a
/// `next()` must never stay pending, holding the event loop, with nothing left to answer it.
impl Drop for Settlement {
    fn drop(&mut self) {
        self.queue(Box::new(|_| {
            Err(Error::from_reason(
                "the Runtime API thread ended before answering",
            ))
        }));
    }
}

unsafe extern "C" fn call_js(
    env: sys::napi_env,
    _js_callback: sys::napi_value,
    context: *mut c_void,
    data: *mut c_void,
) {
    // SAFETY: `data` is the `Item` boxed in `queue`; `context` holds the `Shared` pointer and
    // one count of it until `finalize`, which runs after the last call.
    let item = unsafe { Box::from_raw(data.cast::<Item>()) };
    if env.is_null() {
        return; // the environment is tearing down
    }
    let shared = unsafe { &**context.cast::<*const Shared>() };
    let pending = shared.pending.fetch_sub(1, Ordering::Relaxed).saturating_sub(1);
    unsafe {
        if pending == 0 {
            sys::napi_unref_threadsafe_function(env, shared.tsfn);
        }
        match (item.outcome)(Env::from_raw(env)) {
            Ok(value) => {
                sys::napi_resolve_deferred(env, item.deferred, value);
            }
            Err(e) => {
                let reason = JsError::from(e).into_value(env);
                sys::napi_reject_deferred(env, item.deferred, reason);
            }
        }
    }
}

unsafe extern "C" fn finalize(_env: sys::napi_env, data: *mut c_void, _hint: *mut c_void) {
    // SAFETY: `data` is the context boxed in `new`, holding one count of `Shared`.
    let context = unsafe { Box::from_raw(data.cast::<*const Shared>()) };
    if context.is_null() {
        return;
    }
    let shared = unsafe { Arc::from_raw(*context) };
    *shared.finalized() = true;
}
