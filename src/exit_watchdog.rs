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

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::{Command, Stdio};

    const CHILD: &str = "LAMBDA_RAPID_EXIT_WATCHDOG_CHILD";

    // Run as a child process of the test binary: arms the watchdog, then blocks for good (as a
    // thread-pool join on a held GET would).
    #[test]
    fn child_blocked_forever() {
        if std::env::var_os(CHILD).is_none() {
            return;
        }
        arm(7, Duration::from_millis(50));
        loop {
            std::thread::sleep(Duration::from_secs(60));
        }
    }

    #[test]
    fn a_blocked_process_ends_with_the_armed_code() {
        let exe = std::env::current_exe().expect("test binary path");
        let status = Command::new(exe)
            .args([
                "--exact",
                "exit_watchdog::tests::child_blocked_forever",
                "--test-threads=1",
            ])
            .env(CHILD, "1")
            .stdout(Stdio::null())
            .status()
            .expect("run the child");
        assert_eq!(status.code(), Some(7));
    }
}
