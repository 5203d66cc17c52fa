//! GET next on the JS thread's own event loop, with no thread in between: the request goes out
//! from the JS thread, libuv's loop watches the socket (a `uv_poll_t`) alongside everything
//! else the process waits on, and the answer is read and parsed (src/next/polled.rs)
//! on the JS thread when it arrives. The promise settles in the poll phase, as an `AsyncTask`'s
//! or a threadsafe function's does, so the event-loop contract is unchanged; what goes away
//! is waking a second thread to send the GET and that thread waking the JS thread back
//! (docs/wire-protocol.md has the measurements).
//!
//! libuv is reached through the symbols Node exports for addons (`uv_poll_init`, ...), looked
//! up at run time: a host without them (or with a libuv whose handle types differ) makes
//! [`LoopNext::new`] return `None`, and the client keeps its long-poll thread.
//!
//! Everything here runs on the JS thread. One GET at a time: a second `next()` while one is
//! pending goes to the long-poll thread (src/next/mod.rs chooses).

use std::cell::RefCell;
use std::ffi::{c_char, c_int, c_void, CStr};
use std::mem::transmute;
use std::os::fd::RawFd;
use std::ptr;
use std::rc::Rc;
use std::sync::OnceLock;

use napi::bindgen_prelude::*;
use napi::sys;

use super::polled::{PolledNext, PolledNextChannel, Step, Want};
use super::Convert;
use crate::error::{ErrorCode, RuntimeApiError};
use crate::invocation::Invocation;

/// The GET-next machinery of one client.
pub struct LoopNext {
    state: Rc<RefCell<State>>,
}

struct State {
    env: sys::napi_env,
    uv_loop: *mut c_void,
    /// The handle watching the connection's socket; dropped (closed) before the socket is.
    watch: Option<Watch>,
    channel: PolledNextChannel,
    pending: Option<Pending>,
    convert: Convert,
    /// The async resource the promise settles under (a callback scope needs one).
    resource: sys::napi_ref,
    async_context: sys::napi_async_context,
}

struct Pending {
    next: PolledNext,
    deferred: sys::napi_deferred,
    /// A pending GET keeps the client's state alive, even if JS drops the client meanwhile.
    keep_alive: Rc<RefCell<State>>,
}

/// What a finished GET leaves to do once the state is no longer borrowed.
struct Finished {
    deferred: sys::napi_deferred,
    result: std::result::Result<Invocation, RuntimeApiError>,
    /// Dropped last: the state (its async context) must outlive the settling.
    keep_alive: Rc<RefCell<State>>,
}

impl LoopNext {
    /// `None` when libuv cannot be reached from this addon (the caller uses its thread instead).
    pub fn new(env: &Env, next_url: &str, convert: Convert) -> Result<Option<Self>> {
        let Some(uv) = uv() else {
            return Ok(None);
        };
        let raw = env.raw();
        let mut uv_loop = ptr::null_mut();
        // SAFETY: JS thread, its env.
        check(
            unsafe { sys::napi_get_uv_event_loop(raw, &mut uv_loop) },
            "napi_get_uv_event_loop",
        )?;
        if uv_loop.is_null() || uv.poll_size == 0 {
            return Ok(None);
        }
        let channel = PolledNextChannel::new(next_url).map_err(|e| Error::from_reason(e.message))?;
        let mut resource_value = ptr::null_mut();
        let mut resource = ptr::null_mut();
        let mut name = ptr::null_mut();
        let mut async_context = ptr::null_mut();
        // SAFETY: JS thread, its env; the reference keeps the resource for the client's life.
        unsafe {
            check(
                sys::napi_create_object(raw, &mut resource_value),
                "napi_create_object",
            )?;
            check(
                sys::napi_create_reference(raw, resource_value, 1, &mut resource),
                "napi_create_reference",
            )?;
            check(
                sys::napi_create_string_utf8(raw, c"lambda-rapid:next".as_ptr(), 17, &mut name),
                "napi_create_string_utf8",
            )?;
            check(
                sys::napi_async_init(raw, resource_value, name, &mut async_context),
                "napi_async_init",
            )?;
        }
        Ok(Some(LoopNext {
            state: Rc::new(RefCell::new(State {
                env: raw,
                uv_loop: uv_loop.cast(),
                watch: None,
                channel,
                pending: None,
                convert,
                resource,
                async_context,
            })),
        }))
    }

    /// Whether a GET is in flight (a second one must go elsewhere).
    pub fn busy(&self) -> bool {
        self.state.try_borrow().map_or(true, |s| s.pending.is_some())
    }

    /// Sends GET next and returns its promise; the loop settles it when the answer is in.
    pub fn next<'env>(&self, env: &'env Env) -> Result<Object<'env>> {
        let raw = env.raw();
        let mut deferred = ptr::null_mut();
        let mut promise = ptr::null_mut();
        // SAFETY: JS thread, its env.
        check(
            unsafe { sys::napi_create_promise(raw, &mut deferred, &mut promise) },
            "napi_create_promise",
        )?;
        let finished = {
            let mut state = self
                .state
                .try_borrow_mut()
                .map_err(|_| Error::from_reason("GET next is already being sent"))?;
            let next = state.channel.begin();
            state.pending = Some(Pending {
                next,
                deferred,
                keep_alive: self.state.clone(),
            });
            state.advance(0)
        };
        if let Some(Finished {
            deferred,
            result,
            keep_alive,
        }) = finished
        {
            // Over before it needed the loop (the connection was refused at once): rejected
            // right here, inside this call. An answer never is: see PolledNext::resume.
            let convert = keep_alive.borrow().convert;
            // SAFETY: JS thread, its env, a deferred not settled yet.
            unsafe { resolve_or_reject(raw, deferred, result, convert) };
        }
        // SAFETY: a promise value made above, for this env.
        Ok(Object::from_raw(raw, promise))
    }
}

impl State {
    /// Moves the pending GET on (`status` is libuv's for the watch; 0 at the start) and, when
    /// it has to wait, arms the watch; returns what to settle once it is over.
    fn advance(&mut self, status: c_int) -> Option<Finished> {
        if self.pending.is_none() {
            if status < 0 {
                self.watch = None; // the idle connection broke; its socket goes with the next GET
            }
            self.idle_event();
            return None;
        }
        // libuv reports a socket error (a reset connection: POLLERR) as a failed poll; the next
        // read or write says which error it is, and the state machine handles it (a reset
        // before any answer is retried, on a new socket). Only a socket that still has nothing
        // to say fails here.
        if status < 0 {
            // libuv stopped the handle when it reported the error.
            if let Some(watch) = &mut self.watch {
                watch.armed = None;
            }
        }
        let pending = self.pending.as_mut()?;
        let errored_fd = pending.next.fd();
        let step = match pending.next.resume() {
            Step::Wait(_) if status < 0 && pending.next.fd() == errored_fd => {
                Step::Done(Err(RuntimeApiError::new(
                    ErrorCode::Unreachable,
                    format!(
                        "watching the Runtime API's connection failed: {}",
                        uv_error(status)
                    ),
                )))
            }
            step => step,
        };
        let step = match step {
            Step::Wait(want) => match self.watch_for(want) {
                Ok(()) => return None,
                Err(e) => Step::Done(Err(e)),
            },
            done => done,
        };
        let Step::Done(result) = step else {
            return None;
        };
        let pending = self.pending.take()?;
        // The watch goes before any socket it may be watching is closed (libuv's rule). On a
        // kept connection it stays armed, unref'd: re-arming it for each GET would cost the
        // loop two or three system calls per invocation, and a server closing the idle
        // connection is noticed at once (`idle_event`).
        if !pending.next.keeps_connection() || pending.next.fd() != self.watch.as_ref().map(|w| w.fd) {
            self.watch = None;
        } else if let Some(watch) = &mut self.watch {
            if watch.park().is_err() {
                self.watch = None;
            }
        }
        self.channel.finish(pending.next);
        Some(Finished {
            deferred: pending.deferred,
            result,
            keep_alive: pending.keep_alive,
        })
    }

    /// The kept connection's socket became readable with no GET pending: the server closed it
    /// (or broke it). It is dropped, after its watch; a spurious wake-up changes nothing.
    fn idle_event(&mut self) {
        if let Some(closed) = self.channel.take_idle_if_closed() {
            self.watch = None;
            drop(closed);
        }
    }

    /// Arms the watch on the pending GET's socket, for `want`.
    fn watch_for(&mut self, want: Want) -> std::result::Result<(), RuntimeApiError> {
        let broken = |what: &str, status: c_int| {
            RuntimeApiError::new(
                ErrorCode::Unreachable,
                format!(
                    "cannot watch the Runtime API's connection: {what}: {}",
                    uv_error(status)
                ),
            )
        };
        let pending = self.pending.as_mut().ok_or_else(|| broken("no GET", 0))?;
        let fd = pending.next.fd().ok_or_else(|| broken("no socket", 0))?;
        if self.watch.as_ref().map(|w| w.fd) != Some(fd) {
            self.watch = None; // closes the old handle...
            pending.next.drop_retired(); // ...before its socket is closed
            let data: *const RefCell<State> = Rc::as_ptr(&pending.keep_alive);
            self.watch = Some(
                Watch::new(self.env, self.uv_loop, fd, data.cast()).map_err(|s| broken("uv_poll_init", s))?,
            );
        }
        let watch = self.watch.as_mut().ok_or_else(|| broken("no handle", 0))?;
        watch.start(want).map_err(|s| broken("uv_poll_start", s))
    }
}

impl Drop for State {
    fn drop(&mut self) {
        self.watch = None; // before the channel closes the kept socket
                           // SAFETY: dropped on the JS thread (with the client, or the last pending GET), while
                           // its env is alive; failures only leak.
        unsafe {
            sys::napi_async_destroy(self.env, self.async_context);
            sys::napi_delete_reference(self.env, self.resource);
        }
    }
}

/// # Safety
/// On the JS thread, with its env, and a deferred not settled yet.
unsafe fn resolve_or_reject(
    env: sys::napi_env,
    deferred: sys::napi_deferred,
    result: std::result::Result<Invocation, RuntimeApiError>,
    convert: Convert,
) {
    let js_env = Env::from_raw(env);
    // SAFETY: as the caller promises.
    unsafe {
        match convert(&js_env, result) {
            Ok(value) => {
                sys::napi_resolve_deferred(env, deferred, value);
            }
            Err(e) => {
                let reason = JsError::from(e).into_value(env);
                sys::napi_reject_deferred(env, deferred, reason);
            }
        }
    }
}

/// libuv's callback: the socket is ready (or watching it failed).
unsafe extern "C" fn on_ready(handle: *mut c_void, status: c_int, _events: c_int) {
    // SAFETY: the header's state is the one the watch was made for, kept alive by the pending
    // GET (a stopped watch does not call back; a state dropped closes its watch first).
    let state = unsafe { &*(*header_of(handle)).state.cast::<RefCell<State>>() };
    let Ok(mut borrowed) = state.try_borrow_mut() else {
        return;
    };
    let finished = borrowed.advance(status);
    let (env, resource, async_context, convert) = (
        borrowed.env,
        borrowed.resource,
        borrowed.async_context,
        borrowed.convert,
    );
    drop(borrowed); // JS may call next() again while the promise settles
    let Some(Finished {
        deferred,
        result,
        keep_alive,
    }) = finished
    else {
        return;
    };
    // A callback scope, as Node's own callbacks have: closing it runs the microtasks (the
    // handler is called in one of them) and the nextTick queue.
    // SAFETY: JS thread, outside any JS frame, its env; scopes are closed in reverse order.
    unsafe {
        let mut handles = ptr::null_mut();
        if sys::napi_open_handle_scope(env, &mut handles) != sys::Status::napi_ok {
            return;
        }
        let mut resource_value = ptr::null_mut();
        let mut scope = ptr::null_mut();
        sys::napi_get_reference_value(env, resource, &mut resource_value);
        let opened = sys::napi_open_callback_scope(env, resource_value, async_context, &mut scope)
            == sys::Status::napi_ok;
        resolve_or_reject(env, deferred, result, convert);
        if opened {
            sys::napi_close_callback_scope(env, scope);
        }
        sys::napi_close_handle_scope(env, handles);
    }
    drop(keep_alive);
}

// ---- libuv, as Node exports it ----------------------------------------------------------------

/// A `uv_poll_t` on one socket, allocated behind a [`Header`] of ours. Dropping the `Watch`
/// closes the handle; the memory goes when both the `Watch` and libuv are done with it.
///
/// At the environment's teardown (a worker thread ending, Managed Instances) Node refuses to
/// close a loop that still has handles, and aborts the process. So each handle registers an
/// async cleanup hook (`napi_add_async_cleanup_hook`): at teardown it closes the handle, and
/// Node keeps the loop running until the close has completed and the hook is removed.
struct Watch {
    base: *mut Header,
    fd: RawFd,
    /// What the handle is started for. libuv's `uv_poll_start` always stops the handle first
    /// (an `epoll_ctl` to remove the socket and another to add it back), so an armed watch is
    /// left as it is.
    armed: Option<Want>,
}

#[repr(C)]
struct Header {
    /// The state the watch serves (`on_ready` reads it).
    state: *const c_void,
    /// The teardown hook, removed once the handle is closed (null if it could not be added).
    teardown: sys::napi_async_cleanup_hook_handle,
    closing: bool,
    /// The `Watch` and libuv: the memory is freed by the last one done with it.
    owners: u8,
}

/// Room for the header, keeping the uv_poll_t that follows it 16-byte aligned.
const HEADER: usize = 64;
const _: () = assert!(std::mem::size_of::<Header>() <= HEADER);

impl Watch {
    fn new(
        env: sys::napi_env,
        uv_loop: *mut c_void,
        fd: RawFd,
        state: *const c_void,
    ) -> std::result::Result<Self, c_int> {
        let uv = uv().ok_or(-1)?;
        let layout = watch_layout(uv);
        // SAFETY: a fresh allocation of the header plus the size libuv reports for a uv_poll_t.
        let base = unsafe { std::alloc::alloc_zeroed(layout) }.cast::<Header>();
        if base.is_null() {
            return Err(-12); // ENOMEM
        }
        // SAFETY: the allocation starts with room for a Header; the handle follows it.
        let status = unsafe {
            base.write(Header {
                state,
                teardown: ptr::null_mut(),
                closing: false,
                owners: 2,
            });
            (uv.poll_init)(uv_loop, handle_of(base), fd)
        };
        if status != 0 {
            // SAFETY: allocated above with this layout, never given to libuv.
            unsafe { std::alloc::dealloc(base.cast(), layout) };
            return Err(status);
        }
        // SAFETY: JS thread, its env; `base` outlives the hook (it is removed before the free).
        unsafe {
            let mut teardown = ptr::null_mut();
            if sys::napi_add_async_cleanup_hook(env, Some(on_teardown), base.cast(), &mut teardown)
                == sys::Status::napi_ok
            {
                (*base).teardown = teardown;
            }
        }
        Ok(Watch {
            base,
            fd,
            armed: None,
        })
    }

    /// Watches for `want`, keeping the event loop alive (a pending GET must).
    fn start(&mut self, want: Want) -> std::result::Result<(), c_int> {
        let uv = uv().ok_or(-1)?;
        let events = match want {
            Want::Readable => UV_READABLE,
            Want::Writable => UV_WRITABLE,
        };
        // SAFETY: an initialised handle, not closed while this Watch exists (teardown aside,
        // after which nothing runs).
        unsafe {
            (uv.ref_)(handle_of(self.base));
            if self.armed == Some(want) {
                return Ok(());
            }
            self.armed = None;
            match (uv.poll_start)(handle_of(self.base), events, on_ready) {
                0 => {
                    self.armed = Some(want);
                    Ok(())
                }
                status => Err(status),
            }
        }
    }

    /// Between GETs: still watching for readability (the server closing the connection), but
    /// no longer keeping the event loop alive.
    fn park(&mut self) -> std::result::Result<(), c_int> {
        self.start(Want::Readable)?;
        if let Some(uv) = uv() {
            // SAFETY: as in `start`.
            unsafe { (uv.unref)(handle_of(self.base)) };
        }
        Ok(())
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        // SAFETY: the header is alive while this Watch owns it.
        unsafe {
            close(self.base);
            release(self.base);
        }
    }
}

fn handle_of(base: *mut Header) -> *mut c_void {
    // SAFETY: the handle lives HEADER bytes into the same allocation.
    unsafe { base.cast::<u8>().add(HEADER).cast() }
}

fn header_of(handle: *mut c_void) -> *mut Header {
    // SAFETY: every handle we give libuv sits HEADER bytes after its header.
    unsafe { handle.cast::<u8>().sub(HEADER).cast() }
}

/// Closes the handle once, whoever asks first (the `Watch`, or the teardown hook).
unsafe fn close(base: *mut Header) {
    // SAFETY: the caller holds a live header.
    unsafe {
        if (*base).closing {
            return;
        }
        (*base).closing = true;
        if let Some(uv) = uv() {
            (uv.close)(handle_of(base), Some(on_closed));
        }
    }
}

/// Gives up one owner's share; the last one frees the memory.
unsafe fn release(base: *mut Header) {
    // SAFETY: the caller is one of the `owners`.
    unsafe {
        (*base).owners -= 1;
        if (*base).owners == 0 {
            if let Some(uv) = uv() {
                std::alloc::dealloc(base.cast(), watch_layout(uv));
            }
        }
    }
}

unsafe extern "C" fn on_closed(handle: *mut c_void) {
    let base = header_of(handle);
    // SAFETY: libuv is done with the handle; the header is alive until this share is released.
    unsafe {
        let teardown = std::mem::replace(&mut (*base).teardown, ptr::null_mut());
        if !teardown.is_null() {
            sys::napi_remove_async_cleanup_hook(teardown);
        }
        release(base);
    }
}

unsafe extern "C" fn on_teardown(_hook: sys::napi_async_cleanup_hook_handle, arg: *mut c_void) {
    let base = arg.cast::<Header>();
    // SAFETY: the header the hook was added for; libuv still holds its share (the hook is
    // removed in `on_closed`, which Node waits for).
    unsafe { close(base) };
    // A pending GET keeps its state alive (`Pending::keep_alive`), so nothing would ever close
    // its connection: a Managed Instances worker that dies would leave a GET that the Runtime
    // API answers with an invocation nobody reads. Its socket is closed here, after the handle
    // (libuv's rule); the promise is never settled, as nothing runs any more.
    // SAFETY: the state outlives the watch that points at it (it is kept alive by the pending
    // GET, or closes its watch when dropped).
    let state = unsafe { &*(*base).state.cast::<RefCell<State>>() };
    let pending = match state.try_borrow_mut() {
        Ok(mut borrowed) => borrowed.pending.take(),
        Err(_) => None,
    };
    // Dropped once the state is no longer borrowed: this may drop the state itself.
    drop(pending);
}

fn watch_layout(uv: &Uv) -> std::alloc::Layout {
    std::alloc::Layout::from_size_align(HEADER + uv.poll_size, 16)
        .unwrap_or(std::alloc::Layout::new::<[u64; 64]>())
}

const UV_POLL: c_int = 8;
const UV_READABLE: c_int = 1;
const UV_WRITABLE: c_int = 2;

type PollCb = unsafe extern "C" fn(*mut c_void, c_int, c_int);
type CloseCb = unsafe extern "C" fn(*mut c_void);
type HandleTypeName = unsafe extern "C" fn(c_int) -> *const c_char;
type HandleSize = unsafe extern "C" fn(c_int) -> usize;
type PollInit = unsafe extern "C" fn(*mut c_void, *mut c_void, c_int) -> c_int;
type PollStart = unsafe extern "C" fn(*mut c_void, c_int, PollCb) -> c_int;
type HandleFn = unsafe extern "C" fn(*mut c_void);
type Close = unsafe extern "C" fn(*mut c_void, Option<CloseCb>);
type StrError = unsafe extern "C" fn(c_int) -> *const c_char;

struct Uv {
    poll_size: usize,
    poll_init: PollInit,
    poll_start: PollStart,
    ref_: HandleFn,
    unref: HandleFn,
    close: Close,
    strerror: StrError,
}

/// libuv's functions from the running process, checked to be the libuv this code expects.
fn uv() -> Option<&'static Uv> {
    static UV: OnceLock<Option<Uv>> = OnceLock::new();
    UV.get_or_init(|| {
        // SAFETY: dlsym on the process's own symbols; each is given the C signature libuv
        // documents for it.
        unsafe {
            let find = |name: &CStr| {
                let symbol = libc::dlsym(libc::RTLD_DEFAULT, name.as_ptr());
                (!symbol.is_null()).then_some(symbol)
            };
            let type_name = transmute::<*mut c_void, HandleTypeName>(find(c"uv_handle_type_name")?);
            let handle_size = transmute::<*mut c_void, HandleSize>(find(c"uv_handle_size")?);
            let name = type_name(UV_POLL);
            if name.is_null() || CStr::from_ptr(name).to_bytes() != b"poll" {
                return None;
            }
            Some(Uv {
                poll_size: handle_size(UV_POLL),
                poll_init: transmute::<*mut c_void, PollInit>(find(c"uv_poll_init")?),
                poll_start: transmute::<*mut c_void, PollStart>(find(c"uv_poll_start")?),
                ref_: transmute::<*mut c_void, HandleFn>(find(c"uv_ref")?),
                unref: transmute::<*mut c_void, HandleFn>(find(c"uv_unref")?),
                close: transmute::<*mut c_void, Close>(find(c"uv_close")?),
                strerror: transmute::<*mut c_void, StrError>(find(c"uv_strerror")?),
            })
        }
    })
    .as_ref()
}

fn uv_error(status: c_int) -> String {
    match uv() {
        // SAFETY: uv_strerror returns a static string for any code.
        Some(uv) if status < 0 => unsafe { CStr::from_ptr((uv.strerror)(status)) }
            .to_string_lossy()
            .into_owned(),
        _ => format!("status {status}"),
    }
}

fn check(status: sys::napi_status, what: &str) -> Result<()> {
    if status == sys::Status::napi_ok {
        Ok(())
    } else {
        Err(Error::new(Status::from(status), format!("{what} failed")))
    }
}
