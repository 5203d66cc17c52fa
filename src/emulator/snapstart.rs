//! SnapStart in the emulator (`serve --snapstart`, docs/snapstart.md). The runtime is started
//! with `AWS_LAMBDA_INITIALIZATION_TYPE=snap-start` and the Runtime API serves two more
//! endpoints, as Lambda's (and AWS's RIE with `--enable-init-caching`) do:
//!
//! - `GET /runtime/restore/next` ends the init. The emulator then plays the snapshot: it waits
//!   `pause`, shuts down every other Runtime API connection the runtime holds (a restore into
//!   another microVM leaves them dead, and a runtime that reuses one must show it here), and
//!   answers 200 on a connection that it closes after the answer.
//! - `POST /runtime/restore/error` (an after-restore hook failed): 202, `RESTORE_REPORT ...
//!   Status: error`, the invocation waiting for this environment gets the error, and the runtime
//!   counts as failed at init (the next invocation starts a fresh one).
//!
//! The first REPORT after the restore carries `Restore Duration`: from the restore/next answer
//! to the runtime's first `GET next` (its after-restore hooks).

use std::time::{Duration, Instant};

use super::answer::Reply;
use super::config::MAX_INVOKE_PAYLOAD;
use super::errors;
use super::http::{self, Connection, RequestHead};
use super::state::Shared;

const JSON: (&str, &str) = ("Content-Type", "application/json");
const ACCEPTED: &str = r#"{"status":"OK"}"#;

/// `GET restore/next`. Writes its own answer; the connection ends with it.
pub fn restore_next(
    shared: &Shared,
    conn: &mut Connection,
    head: &RequestHead,
    generation: u64,
    pause: Duration,
) {
    let refused = {
        let mut st = shared.lock();
        if st.stopping || st.runtime.generation != generation {
            return;
        }
        if st.runtime.init_done || st.runtime.init_failed_at.is_some() {
            true
        } else {
            st.runtime.init_done = true;
            let init = st.runtime.spawned_at.map(|t| t.elapsed());
            st.runtime.init_duration = init;
            st.runtime.report_init = init;
            false
        }
    };
    if refused {
        let body = errors::runtime_api_error(
            "InvalidStateTransition",
            "State transition from Ready to RestoreReady failed for runtime. Error: State transition is not allowed",
        );
        let _ = http::write_response(&mut conn.writer, 403, &[JSON], body.as_bytes(), head.keep_alive());
        return;
    }
    // The snapshot: the runtime waits, as it would while Lambda stores and later restores it.
    let until = Instant::now() + pause;
    while Instant::now() < until {
        if shared.lock().stopping {
            return;
        }
        std::thread::sleep((until - Instant::now()).min(Duration::from_millis(20)));
    }
    let keep = conn.writer.0.peer_addr().ok();
    shared.snapstart.drop_connections_except(keep);
    shared.snapstart.restored();
    let _ = http::write_response(&mut conn.writer, 200, &[JSON], b"{}", false);
    http::close_stream(&conn.writer.0);
}

/// `POST restore/error`: the status and body of the answer.
pub fn restore_error(
    shared: &Shared,
    conn: &mut Connection,
    head: &RequestHead,
    generation: u64,
) -> Option<(u16, String)> {
    let error_type = head
        .header("lambda-runtime-function-error-type")
        .unwrap_or("Runtime.Unknown")
        .to_string();
    let body = conn.read_body(head, MAX_INVOKE_PAYLOAD).ok()?.data;
    fail_restore(shared, generation, body, &error_type)
}

/// Whether the runtime is between its restore and its first `GET next` (its after-restore hooks).
pub fn restoring(shared: &Shared) -> bool {
    shared.config.snapstart_pause.is_some() && shared.snapstart.restored_for().is_some()
}

/// The restore failed with `body` (the error JSON): what `restore/error` does, and `init/error`
/// while restoring (Lambda's Runtime API takes one there as the restore's error: RIE's source,
/// `rapi/handler/initerror.go`). The status and body of the answer; `None`: another runtime's.
pub fn fail_restore(
    shared: &Shared,
    generation: u64,
    body: Vec<u8>,
    error_type: &str,
) -> Option<(u16, String)> {
    let restored_for = shared.snapstart.restored_for();
    let mut st = shared.lock();
    if st.runtime.generation != generation {
        return None;
    }
    let Some(duration) = restored_for.filter(|_| st.runtime.init_failed_at.is_none()) else {
        return Some((
            403,
            errors::runtime_api_error(
                "InvalidStateTransition",
                "State transition to RestoreError failed for runtime. Error: State transition is not allowed",
            ),
        ));
    };
    shared.snapstart.restore_failed();
    st.runtime.init_failed_at = Some(Instant::now());
    st.stats.init_errors += 1;
    // As for an init error, the invocation that was waiting for this environment gets the error.
    let waiting = st.queue.pop_front();
    drop(st);
    shared.wake_supervisor();
    shared.log.restore_report(duration, error_type);
    if let Some(inv) = waiting {
        inv.reply.send(Reply::Complete {
            body,
            content_type: "application/json".into(),
            function_error: Some("Unhandled".into()),
        });
    }
    Some((202, ACCEPTED.into()))
}

#[cfg(test)]
mod tests {
    //! Over real sockets, the test thread playing the runtime (external mode: no command).
    use super::super::{Emulator, EmulatorConfig};
    use std::io::{Read, Write};
    use std::net::TcpStream;
    use std::time::Duration;

    const BASE: &str = "/2018-06-01/runtime";

    fn start(pause: Option<Duration>) -> (Emulator, u16) {
        let emu = Emulator::start(EmulatorConfig {
            invoke_port: 0,
            platform_logs: false,
            snapstart_pause: pause,
            ..EmulatorConfig::default()
        })
        .unwrap();
        let endpoint = emu.runtime_api_endpoint().unwrap();
        let port = endpoint.rsplit(':').next().unwrap().parse().unwrap();
        (emu, port)
    }

    /// Sends one request on `s` and returns the status of its answer (the rest is left unread,
    /// the answers here being small enough to arrive in the first read).
    fn status_on(s: &mut TcpStream, method: &str, path: &str, body: &str) -> u16 {
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let req = format!(
            "{method} {BASE}/{path} HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        s.write_all(req.as_bytes()).unwrap();
        let mut buf = [0u8; 4096];
        let n = s.read(&mut buf).unwrap();
        let head = String::from_utf8_lossy(&buf[..n]);
        head.split_whitespace().nth(1).unwrap().parse().unwrap()
    }

    fn status(port: u16, method: &str, path: &str, body: &str) -> u16 {
        status_on(
            &mut TcpStream::connect(("127.0.0.1", port)).unwrap(),
            method,
            path,
            body,
        )
    }

    #[test]
    fn restore_next_shuts_down_the_runtimes_other_connections_then_answers() {
        let (_emu, port) = start(Some(Duration::from_millis(20)));
        // A kept-alive connection from before the snapshot (answered once, so it is tracked).
        let mut idle = TcpStream::connect(("127.0.0.1", port)).unwrap();
        assert_eq!(status_on(&mut idle, "GET", "nothing", ""), 404);
        assert_eq!(status(port, "GET", "restore/next", ""), 200);
        // The idle connection reads EOF (or a reset), never times out.
        let mut buf = [0u8; 64];
        loop {
            match idle.read(&mut buf) {
                Ok(0) => break,
                Ok(_) => continue,
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => break,
                Err(e) => panic!("the pre-restore connection is still open: {e}"),
            }
        }
        // One restore per runtime; then restore/error is accepted once.
        assert_eq!(status(port, "GET", "restore/next", ""), 403);
        assert_eq!(status(port, "POST", "restore/error", "{}"), 202);
        assert_eq!(status(port, "POST", "restore/error", "{}"), 403);
    }

    #[test]
    fn init_error_while_restoring_is_the_restores_error() {
        let (emu, port) = start(Some(Duration::from_millis(1)));
        assert_eq!(status(port, "GET", "restore/next", ""), 200);
        assert_eq!(status(port, "POST", "init/error", "{}"), 202);
        assert_eq!(emu.stats().init_errors, 1);
        // The restore has failed: no second error for it.
        assert_eq!(status(port, "POST", "restore/error", "{}"), 403);
    }

    #[test]
    fn restore_error_before_the_restore_is_refused() {
        let (_emu, port) = start(Some(Duration::from_millis(1)));
        assert_eq!(status(port, "POST", "restore/error", "{}"), 403);
    }

    #[test]
    fn without_snapstart_the_restore_endpoints_do_not_exist() {
        let (_emu, port) = start(None);
        assert_eq!(status(port, "GET", "restore/next", ""), 404);
        assert_eq!(status(port, "POST", "restore/error", "{}"), 404);
    }
}
