//! Runs the function's runtime as a child process the way Lambda runs it, and does what Lambda
//! does when things go wrong: an init error is given to the waiting caller, an invocation past
//! its timeout gets `Task timed out after N.NN seconds` and the runtime is killed and restarted,
//! a runtime that dies mid-invocation fails that invocation and is restarted.
//!
//! One thread owns the child. It sleeps on the shared condvar until the nearest deadline (or
//! 20 ms while a child runs, to notice its exit: std offers no exit notification that does not
//! take the `Child` away from us).

use std::io;
use std::net::TcpListener;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::answer::Reply;
use super::environment::lambda_environment;
use super::errors;
use super::listen::accept_loop;
use super::runtime_api;
use super::state::{InFlight, ListenerHandle, RuntimeState, Shared, State};

const EXIT_POLL: Duration = Duration::from_millis(20);
const IDLE_WAIT: Duration = Duration::from_secs(1);
/// Lambda's init phase limit for on-demand functions.
const INIT_TIMEOUT: Duration = Duration::from_secs(10);
/// After `init/error`, the runtime gets this long to print and exit by itself before it is killed.
const INIT_ERROR_GRACE: Duration = Duration::from_millis(500);

/// Opens the Runtime API for an externally started runtime (no command).
pub fn open_runtime_api(shared: &Arc<Shared>) -> io::Result<()> {
    let mut st = shared.lock();
    bind_runtime_api(shared, &mut st)?;
    Ok(())
}

/// A fresh listener on 127.0.0.1 and a free port, for a new generation.
fn bind_runtime_api(shared: &Arc<Shared>, st: &mut State) -> io::Result<String> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    let generation = st.runtime.generation + 1;
    let stop = Arc::new(AtomicBool::new(false));
    {
        let shared = shared.clone();
        let stop = stop.clone();
        std::thread::Builder::new()
            .name("lambda-rapid-runtime-api".into())
            .spawn(move || {
                accept_loop(listener, &stop, &shared, move |shared, stream| {
                    runtime_api::serve_connection(shared, stream, generation)
                })
            })?;
    }
    let endpoint = format!("127.0.0.1:{}", addr.port());
    if let Some(old) = st.listener.take() {
        old.retire();
    }
    st.listener = Some(ListenerHandle { stop, addr });
    shared.snapstart.reset();
    st.runtime = RuntimeState {
        generation,
        endpoint: Some(endpoint.clone()),
        ..RuntimeState::default()
    };
    Ok(endpoint)
}

/// Ends the current generation: its listener stops, its parked `GET next` requests are dropped.
fn retire(st: &mut State) {
    if let Some(old) = st.listener.take() {
        old.retire();
    }
    st.runtime = RuntimeState {
        generation: st.runtime.generation + 1,
        ..RuntimeState::default()
    };
    st.parked.clear();
}

fn spawn_runtime(shared: &Arc<Shared>, st: &mut State, command: &[String]) -> io::Result<Child> {
    let endpoint = bind_runtime_api(shared, st)?;
    let config = &shared.config;
    let mut cmd = Command::new(&command[0]);
    cmd.args(&command[1..])
        .current_dir(&config.task_root)
        .envs(lambda_environment(config, &endpoint))
        .stdin(Stdio::null())
        .stdout(passed_through(config.logs_to_stderr, config.quiet_runtime))
        .stderr(passed_through(true, config.quiet_runtime));
    die_with_parent(&mut cmd);
    // Its own process group: a Ctrl-C in the terminal reaches the emulator, which stops the
    // runtime itself, instead of killing the runtime first (a crash to report, a restart to undo).
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        cmd.process_group(0);
    }
    let child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            retire(st);
            return Err(e);
        }
    };
    st.runtime.spawned_at = Some(Instant::now());
    st.runtime.pid = Some(child.id());
    st.child_running = true;
    st.stats.runtimes_started += 1;
    Ok(child)
}

/// The runtime writes to the emulator's own stdout and stderr. They are passed explicitly (as
/// duplicates) because Node marks fds 0-15 close-on-exec at start-up
/// (`uv_disable_stdio_inheritance`): `Stdio::inherit()` would leave the child with none.
fn passed_through(to_stderr: bool, quiet: bool) -> Stdio {
    if quiet {
        return Stdio::null();
    }
    #[cfg(unix)]
    {
        use std::os::fd::AsFd;
        let fd = if to_stderr {
            std::io::stderr().as_fd().try_clone_to_owned()
        } else {
            std::io::stdout().as_fd().try_clone_to_owned()
        };
        if let Ok(fd) = fd {
            return Stdio::from(fd);
        }
    }
    Stdio::inherit()
}

/// The runtime gets SIGKILL if the thread that started it (this supervisor) dies, so even a
/// `kill -9` of the emulator leaves no orphan runtime behind.
#[cfg(target_os = "linux")]
fn die_with_parent(cmd: &mut Command) {
    use std::os::unix::process::CommandExt;
    // SAFETY: prctl is async-signal-safe and touches no memory of the parent.
    unsafe {
        cmd.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

#[cfg(not(target_os = "linux"))]
fn die_with_parent(_cmd: &mut Command) {}

fn kill_and_wait(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}

/// Sends an error to a caller whose invocation the runtime held, in the form the caller expects
/// at this point (a whole error, or the end of a stream that already started).
fn fail_in_flight(shared: &Shared, st: &State, request_id: &str, f: &InFlight, body: String, status: &str) {
    runtime_api::report(shared, request_id, f, None, st.runtime.pid, status);
    let error_type = serde_json::from_str::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v["errorType"].as_str().map(str::to_string))
        .unwrap_or_else(|| "Unhandled".into());
    let reply = if f.streaming {
        Reply::StreamEnd {
            error: Some((error_type, body)),
        }
    } else {
        Reply::Complete {
            body: body.into_bytes(),
            content_type: "application/json".into(),
            function_error: Some("Unhandled".into()),
        }
    };
    f.reply.send(reply);
}

fn on_exit(shared: &Shared, st: &mut State, status: &ExitStatus) {
    let how = errors::describe_exit(status);
    let held: Vec<(String, InFlight)> = st.in_flight.drain().collect();
    if !held.is_empty() {
        st.stats.crashes += 1;
        for (id, f) in &held {
            fail_in_flight(shared, st, id, f, errors::runtime_exited(id, &how), "failure");
        }
        // It ran before: have a fresh one ready for the next invoke.
        st.want_warm = true;
    } else if !st.runtime.init_done && st.runtime.init_failed_at.is_none() {
        // Exited during init without reporting: Lambda calls that Runtime.ExitError.
        st.stats.init_errors += 1;
        let init = st.runtime.spawned_at.map(|t| t.elapsed()).unwrap_or_default();
        shared.log.init_report(init, "Runtime.ExitError");
        if let Some(inv) = st.queue.pop_front() {
            inv.reply.send(Reply::Complete {
                body: errors::runtime_exited(&inv.request_id, &how).into_bytes(),
                content_type: "application/json".into(),
                function_error: Some("Unhandled".into()),
            });
        }
        st.want_warm = false;
    } else {
        // After an init error, or idle: the next invoke starts a new one.
        st.want_warm = false;
    }
    retire(st);
}

fn time_out(shared: &Shared, st: &mut State, now: Instant) -> bool {
    let expired: Vec<String> = st
        .in_flight
        .iter()
        .filter(|(_, f)| f.deadline <= now)
        .map(|(id, _)| id.clone())
        .collect();
    let secs = shared.config.timeout.as_secs_f64();
    for id in &expired {
        if let Some(f) = st.in_flight.remove(id) {
            st.stats.timeouts += 1;
            shared.log.timed_out(id, secs);
            fail_in_flight(shared, st, id, &f, errors::timed_out(id, secs), "timeout");
        }
    }
    !expired.is_empty()
}

pub fn run(shared: &Arc<Shared>) {
    let command = shared.config.command.clone();
    let mut child: Option<Child> = None;
    let mut st = shared.lock();
    loop {
        if st.stopping {
            break;
        }
        let now = Instant::now();
        if let Some(c) = child.as_mut() {
            if let Ok(Some(status)) = c.try_wait() {
                child = None;
                on_exit(shared, &mut st, &status);
            }
        }
        if time_out(shared, &mut st, now) && command.is_some() {
            // Lambda resets the environment after a timeout: whatever else the runtime held dies
            // with it.
            if let Some(mut c) = child.take() {
                kill_and_wait(&mut c);
                let held: Vec<(String, InFlight)> = st.in_flight.drain().collect();
                for (id, f) in &held {
                    fail_in_flight(
                        shared,
                        &st,
                        id,
                        f,
                        errors::runtime_exited(id, "signal: killed"),
                        "failure",
                    );
                }
            }
            retire(&mut st);
            st.want_warm = true;
        }
        if let Some(c) = child.as_mut() {
            let rt = &st.runtime;
            let grace_over = rt.init_failed_at.is_some_and(|t| t.elapsed() >= INIT_ERROR_GRACE);
            let init_hung = !rt.init_done
                && rt.init_failed_at.is_none()
                && rt
                    .spawned_at
                    .is_some_and(|t| t.elapsed() >= INIT_TIMEOUT.max(shared.config.timeout));
            if grace_over || init_hung {
                kill_and_wait(c);
                child = None;
                if init_hung {
                    st.stats.init_errors += 1;
                    shared.log.init_report(INIT_TIMEOUT, "Runtime.InitTimeout");
                    if let Some(inv) = st.queue.pop_front() {
                        let secs = INIT_TIMEOUT.max(shared.config.timeout).as_secs_f64();
                        inv.reply.send(Reply::Complete {
                            body: errors::timed_out(&inv.request_id, secs).into_bytes(),
                            content_type: "application/json".into(),
                            function_error: Some("Unhandled".into()),
                        });
                    }
                }
                st.want_warm = false;
                retire(&mut st);
            }
        }
        if st.recycle && st.in_flight.is_empty() {
            // The code changed and the old runtime finished what it held: a new one starts now,
            // so its init (or its init error) shows at once, and takes what is queued.
            if let Some(mut c) = child.take() {
                kill_and_wait(&mut c);
            }
            retire(&mut st);
            st.recycle = false;
            st.want_warm = true;
        }
        if let Some(cmd) = &command {
            if child.is_none() && (st.want_warm || !st.queue.is_empty()) {
                match spawn_runtime(shared, &mut st, cmd) {
                    Ok(c) => child = Some(c),
                    Err(e) => {
                        // Nothing will ever serve these: say why, now.
                        st.want_warm = false;
                        let message = format!("Cannot start the runtime ({}): {e}", cmd.join(" "));
                        eprintln!("lambda-rapid: {message}");
                        for inv in st.queue.drain(..) {
                            inv.reply.send(Reply::Complete {
                                body: errors::function_error("Runtime.StartError", &message).into_bytes(),
                                content_type: "application/json".into(),
                                function_error: Some("Unhandled".into()),
                            });
                        }
                    }
                }
            }
        }
        st.child_running = child.is_some();
        // Deadlines are checked by polling (the hot path does not wake this thread), so poll
        // whenever an invocation may be handed out: a runtime of ours runs, or one of the
        // caller's (external mode) may be there. Only a supervised emulator with no runtime
        // sleeps long; an enqueue wakes it to start one.
        let poll = if child.is_some() || command.is_none() || !st.in_flight.is_empty() {
            EXIT_POLL
        } else {
            IDLE_WAIT
        };
        let wait = st
            .in_flight
            .values()
            .map(|f| f.deadline.saturating_duration_since(now))
            .min()
            .map_or(poll, |d| d.min(poll));
        st = shared.supervisor_wait(st, wait);
    }
    if let Some(mut c) = child.take() {
        kill_and_wait(&mut c);
    }
    retire(&mut st);
    let held: Vec<(String, InFlight)> = st.in_flight.drain().collect();
    for (id, f) in &held {
        fail_in_flight(shared, &st, id, f, errors::shutting_down(id), "failure");
    }
    for inv in st.queue.drain(..) {
        inv.reply.send(Reply::Complete {
            body: errors::shutting_down(&inv.request_id).into_bytes(),
            content_type: "application/json".into(),
            function_error: Some("Unhandled".into()),
        });
    }
}
