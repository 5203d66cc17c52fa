//! Ending the process when Node's own exit cannot finish.
//!
//! At exit Node runs `uv_library_shutdown()`, which joins every libuv thread-pool thread. A GET
//! /invocation/next is a blocking read on one of those threads, held open by the Runtime API
//! until an event exists, so a process that exits between invocations (an uncaught exception
//! from a timer, `process.exit()` in a callback) would hang in that join instead of exiting.
//! The runtime arms this watchdog from its `'exit'` listener when a GET is outstanding: if the
//! process is still alive after the grace period (Node has printed its crash report and run
//! its exit hooks by then), the watchdog ends it with the intended exit code.

use std::time::Duration;

extern "C" {
    // POSIX: ends the process at once, without atexit handlers or static destructors.
    fn _exit(status: i32) -> !;
}

/// Ends the process with `code` after `grace`, unless it has ended by then.
pub fn arm(code: i32, grace: Duration) {
    std::thread::spawn(move || {
        std::thread::sleep(grace);
        // SAFETY: `_exit` takes no pointers and does not return; ending the whole process from
        // this thread is the purpose of the watchdog.
        unsafe { _exit(code) }
    });
}
