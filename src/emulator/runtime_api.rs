//! The Runtime API the function's runtime talks to (`/2018-06-01/runtime/...`): `GET
//! invocation/next` (held open until an event exists), `POST invocation/{id}/response` (buffered,
//! or streamed with `Lambda-Runtime-Function-Response-Mode: streaming` and error trailers),
//! `POST invocation/{id}/error`, `POST init/error`. Status codes and error bodies follow Lambda's.
//!
//! Each runtime process gets its own listener, tagged with a generation: a connection of a
//! runtime that was killed can never receive the next runtime's events.

use std::net::TcpStream;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::answer::Reply;
use super::config::{MAX_INVOKE_PAYLOAD, MAX_RUNTIME_RESPONSE};
use super::errors;
use super::http::{self, percent_decode, BodyReader, Connection, HttpError, RequestHead, SharedStream};
use super::platform_log::Report;
use super::state::{InFlight, Invocation, ParkedNext, Shared, State};

const PREFIX: &str = "/2018-06-01/runtime/";
const JSON: (&str, &str) = ("Content-Type", "application/json");
const ACCEPTED: &[u8] = br#"{"status":"OK"}"#;
/// How much of an oversized body we read and discard so the runtime can read our 413 rather than
/// a connection reset.
const DRAIN_LIMIT: u64 = 64 * 1024 * 1024;

pub fn serve_connection(shared: &Arc<Shared>, stream: TcpStream, generation: u64) {
    // SnapStart: known while open, so that the restore can shut it down (src/emulator/snapstart.rs).
    let _tracked = shared
        .config
        .snapstart_pause
        .is_some()
        .then(|| shared.snapstart.track(&stream));
    let Ok(mut conn) = Connection::new(stream) else {
        return;
    };
    loop {
        let head = match conn.read_head() {
            Ok(h) => h,
            Err(HttpError::Closed) | Err(HttpError::Io(_)) => return,
            Err(e) => {
                let body = errors::runtime_api_error(
                    "InvalidRequest",
                    &format!("malformed HTTP request: {}", e.why()),
                );
                let _ = http::write_response(&mut conn.writer, 400, &[JSON], body.as_bytes(), false);
                conn.close_after_answer();
                return;
            }
        };
        let keep_alive = head.keep_alive();
        if head.expects_continue() && conn.send_continue().is_err() {
            return;
        }
        match route(shared, &mut conn, &head, generation) {
            Outcome::Respond(status, body) => {
                if http::write_response(&mut conn.writer, status, &[JSON], body.as_bytes(), keep_alive)
                    .is_err()
                {
                    return;
                }
            }
            Outcome::Written => {}
            Outcome::Close => return,
        }
        if !keep_alive {
            return;
        }
    }
}

enum Outcome {
    Respond(u16, String),
    /// The handler wrote its own response.
    Written,
    /// The connection cannot continue (broken body, runtime gone).
    Close,
}

fn ok() -> Outcome {
    Outcome::Respond(202, String::from_utf8_lossy(ACCEPTED).into_owned())
}

fn route(shared: &Arc<Shared>, conn: &mut Connection, head: &RequestHead, generation: u64) -> Outcome {
    let path = head.path.split('?').next().unwrap_or("");
    let Some(rest) = path.strip_prefix(PREFIX) else {
        return not_found(conn, head);
    };
    match (head.method.as_str(), rest) {
        ("GET", "invocation/next") => next_invocation(shared, conn, generation),
        ("POST", "init/error") => init_error(shared, conn, head, generation),
        // SnapStart only, as in Lambda and RIE: otherwise these are 404 like any unknown path.
        ("GET", "restore/next") if shared.config.snapstart_pause.is_some() => {
            let pause = shared.config.snapstart_pause.unwrap_or_default();
            super::snapstart::restore_next(shared, conn, head, generation, pause);
            Outcome::Close
        }
        ("POST", "restore/error") if shared.config.snapstart_pause.is_some() => {
            match super::snapstart::restore_error(shared, conn, head, generation) {
                Some((status, body)) => Outcome::Respond(status, body),
                None => Outcome::Close,
            }
        }
        ("POST", r) if r.starts_with("invocation/") => {
            let r = &r["invocation/".len()..];
            if let Some(id) = r.strip_suffix("/response") {
                post_response(shared, conn, head, &percent_decode(id), generation)
            } else if let Some(id) = r.strip_suffix("/error") {
                post_error(shared, conn, head, &percent_decode(id), generation)
            } else {
                not_found(conn, head)
            }
        }
        _ => not_found(conn, head),
    }
}

fn not_found(conn: &mut Connection, head: &RequestHead) -> Outcome {
    if skip_body(conn, head).is_err() {
        return Outcome::Close;
    }
    Outcome::Respond(
        404,
        errors::runtime_api_error(
            "NotFound",
            &format!("{} {} is not a Runtime API endpoint", head.method, head.path),
        ),
    )
}

fn skip_body(conn: &mut Connection, head: &RequestHead) -> Result<(), HttpError> {
    let mut reader = BodyReader::new(head)?;
    let mut seen = 0u64;
    while let Some(c) = reader.next_chunk(&mut conn.reader)? {
        seen += c.len() as u64;
        if seen > DRAIN_LIMIT {
            return Err(HttpError::TooLarge);
        }
    }
    Ok(())
}

fn epoch_ms(deadline: Instant) -> u128 {
    let now_sys = SystemTime::now();
    let now = Instant::now();
    let wall = now_sys + deadline.saturating_duration_since(now);
    wall.duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0)
}

/// `GET next`: answered now if an invocation waits, else parked (see `ParkedNext`): the
/// connection thread goes back to reading, and `dispatch` writes the event when one arrives.
/// The first call of a runtime ends its init.
fn next_invocation(shared: &Arc<Shared>, conn: &mut Connection, generation: u64) -> Outcome {
    let writer = conn.writer.clone();
    if shared.config.snapstart_pause.is_some() {
        shared.snapstart.next_requested();
    }
    let mut st = shared.lock();
    if st.stopping || st.runtime.generation != generation {
        return Outcome::Close;
    }
    if !st.runtime.init_done && st.runtime.init_failed_at.is_none() {
        st.runtime.init_done = true;
        let init = st.runtime.spawned_at.map(|t| t.elapsed());
        st.runtime.init_duration = init;
        st.runtime.report_init = init;
    }
    st.parked.push(ParkedNext { writer, generation });
    dispatch(shared, &mut st);
    Outcome::Written
}

/// Queues an invocation (in arrival order) and wakes the runtime's `GET next`; `false` when
/// the emulator is stopping.
pub fn enqueue(shared: &Shared, inv: Invocation) -> bool {
    let mut st = shared.lock();
    if st.stopping {
        return false;
    }
    st.queue.push_back(inv);
    dispatch(shared, &mut st);
    let start_runtime = !st.child_running;
    drop(st);
    if start_runtime {
        shared.wake_supervisor();
    }
    true
}

/// Hands queued invocations, in order, to parked `GET next` requests of the current runtime,
/// while it has a free slot. Called with the state locked by whoever changed something: an
/// invocation queued, a `GET next` parked, a slot freed.
pub fn dispatch(shared: &Shared, st: &mut State) {
    let generation = st.runtime.generation;
    st.parked.retain(|p| p.generation == generation);
    while !st.stopping
        && !st.recycle
        && st.runtime.init_failed_at.is_none()
        && st.in_flight.len() < shared.config.max_concurrency
        && !st.queue.is_empty()
    {
        let Some(mut parked) = st.parked.pop() else { return };
        let Some(inv) = st.queue.pop_front() else { return };
        let now = Instant::now();
        let deadline = now + shared.config.timeout;
        if write_event(shared, &mut parked.writer, &inv, deadline).is_err() {
            // That connection is gone (the runtime closed it): the event waits for the next one.
            st.queue.push_front(inv);
            continue;
        }
        shared.log.start(&inv.request_id, &shared.config.function_version);
        st.in_flight.insert(
            inv.request_id,
            InFlight {
                reply: inv.reply,
                started: now,
                deadline,
                streaming: false,
                generation,
            },
        );
    }
}

/// The answer to `GET next`: the event and Lambda's invocation headers.
fn write_event(
    shared: &Shared,
    w: &mut SharedStream,
    inv: &Invocation,
    deadline: Instant,
) -> std::io::Result<()> {
    let deadline_ms = epoch_ms(deadline).to_string();
    let arn = format!(
        "arn:aws:lambda:{}:012345678912:function:{}",
        shared.config.region, shared.config.function_name
    );
    let mut headers: Vec<(&str, &str)> = vec![
        JSON,
        ("Lambda-Runtime-Aws-Request-Id", &inv.request_id),
        ("Lambda-Runtime-Deadline-Ms", &deadline_ms),
        ("Lambda-Runtime-Invoked-Function-Arn", &arn),
    ];
    if let Some(t) = &inv.trace_id {
        headers.push(("Lambda-Runtime-Trace-Id", t));
    }
    if let Some(c) = &inv.client_context {
        headers.push(("Lambda-Runtime-Client-Context", c));
    }
    if let Some(c) = &inv.cognito_identity {
        headers.push(("Lambda-Runtime-Cognito-Identity", c));
    }
    if let Some(t) = &inv.tenant_id {
        headers.push(("Lambda-Runtime-Aws-Tenant-Id", t));
    }
    http::write_response(w, 200, &headers, &inv.body, true)
}

/// Removes an invocation the runtime finished, and prints END/REPORT for it.
fn finish(shared: &Shared, st: &mut State, request_id: &str, status: &str) -> Option<InFlight> {
    let f = st.in_flight.remove(request_id)?;
    st.stats.invocations += 1;
    let init = st.runtime.report_init.take();
    let pid = st.runtime.pid;
    // With multi-concurrency a parked `GET next` may be waiting for this slot.
    if shared.config.max_concurrency > 1 {
        dispatch(shared, st);
    }
    report(shared, request_id, &f, init, pid, status);
    Some(f)
}

pub fn report(
    shared: &Shared,
    request_id: &str,
    f: &InFlight,
    init: Option<Duration>,
    pid: Option<u32>,
    status: &str,
) {
    if !shared.log.enabled() {
        return;
    }
    shared.log.end_and_report(&Report {
        request_id,
        duration: f.started.elapsed(),
        memory_mb: shared.config.memory_mb,
        max_memory_mb: pid.and_then(max_memory_mb),
        init_duration: init,
        restore_duration: shared.snapstart.take_report(),
        status,
    });
}

/// The child's peak resident memory (Linux `VmHWM`), for the REPORT line.
fn max_memory_mb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb.div_ceil(1024))
}

fn unknown_request(id: &str) -> Outcome {
    Outcome::Respond(
        400,
        errors::runtime_api_error("InvalidRequestID", &format!("Invalid request ID: {id}")),
    )
}

/// A post for an invocation this runtime does not hold: its body is read (to keep the
/// connection) and the Runtime API's InvalidRequestID is answered.
fn refuse_unknown(conn: &mut Connection, head: &RequestHead, id: &str) -> Outcome {
    match skip_body(conn, head) {
        Ok(()) => unknown_request(id),
        Err(_) => Outcome::Close,
    }
}

/// The invocation `id` if this runtime holds it; a runtime that was replaced holds nothing.
fn held_by(st: &State, id: &str, generation: u64) -> bool {
    st.in_flight.get(id).is_some_and(|f| f.generation == generation)
}

fn post_response(
    shared: &Arc<Shared>,
    conn: &mut Connection,
    head: &RequestHead,
    id: &str,
    generation: u64,
) -> Outcome {
    let streaming = head
        .header("lambda-runtime-function-response-mode")
        .is_some_and(|m| m.eq_ignore_ascii_case("streaming"));
    if streaming {
        return stream_response(shared, conn, head, id, generation);
    }
    if !held_by(&shared.lock(), id, generation) {
        return refuse_unknown(conn, head, id);
    }
    let content_type = head
        .header("content-type")
        .unwrap_or("application/json")
        .to_string();
    let body = match conn.read_body(head, MAX_RUNTIME_RESPONSE) {
        Ok(b) => b,
        Err(HttpError::TooLarge) => {
            // Lambda answers the runtime 413 and the caller Function.ResponseSizeTooLarge.
            let mut st = shared.lock();
            if let Some(f) = finish(shared, &mut st, id, "error") {
                drop(st);
                f.reply.send(Reply::Complete {
                    body: errors::response_too_large(MAX_RUNTIME_RESPONSE).into_bytes(),
                    content_type: "application/json".into(),
                    function_error: Some("Unhandled".into()),
                });
            }
            return refuse_too_large(conn, head);
        }
        Err(_) => return Outcome::Close,
    };
    let mut st = shared.lock();
    match finish(shared, &mut st, id, "success") {
        Some(f) => {
            drop(st);
            f.reply.send(Reply::Complete {
                body: body.data,
                content_type,
                function_error: None,
            });
            ok()
        }
        // Timed out (or the runtime was replaced) while the body was being read.
        None => unknown_request(id),
    }
}

/// Reads the rest of an oversized body (bounded) so the client sees the answer, then answers and
/// closes.
/// A response or error body over Lambda's limit: 413, as Lambda answers the runtime.
fn refuse_too_large(conn: &mut Connection, head: &RequestHead) -> Outcome {
    let body = errors::runtime_api_error(
        "RequestEntityTooLarge",
        &format!("Exceeded maximum allowed payload size ({MAX_RUNTIME_RESPONSE} bytes)."),
    );
    drain_then(conn, head, 413, body)
}

fn drain_then(conn: &mut Connection, head: &RequestHead, status: u16, body: String) -> Outcome {
    let _ = skip_body(conn, head);
    let _ = http::write_response(&mut conn.writer, status, &[JSON], body.as_bytes(), false);
    Outcome::Close
}

fn stream_response(
    shared: &Arc<Shared>,
    conn: &mut Connection,
    head: &RequestHead,
    id: &str,
    generation: u64,
) -> Outcome {
    let reply = {
        let mut st = shared.lock();
        match st.in_flight.get_mut(id) {
            Some(f) if f.generation == generation && !f.streaming => {
                f.streaming = true;
                f.reply.clone()
            }
            _ => {
                drop(st);
                return refuse_unknown(conn, head, id);
            }
        }
    };
    let content_type = head
        .header("content-type")
        .unwrap_or("application/octet-stream")
        .to_string();
    reply.send(Reply::StreamStart { content_type });
    let mut reader = match BodyReader::new(head) {
        Ok(r) => r,
        Err(_) => return Outcome::Close,
    };
    loop {
        match reader.next_chunk(&mut conn.reader) {
            Ok(Some(chunk)) => {
                // A caller that went away, or an invocation that timed out, no longer listens;
                // the runtime may still finish writing.
                reply.send(Reply::StreamChunk(chunk));
            }
            Ok(None) => break,
            // The runtime died mid-stream: the supervisor ends the stream with the exit error.
            Err(_) => return Outcome::Close,
        }
    }
    let trailer = |name: &str| {
        reader
            .trailers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    };
    let error = trailer("Lambda-Runtime-Function-Error-Type").map(|t| {
        let body = trailer("Lambda-Runtime-Function-Error-Body")
            .and_then(|b| crate::base64::decode(&b))
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default();
        (t, body)
    });
    let mut st = shared.lock();
    let status = if error.is_some() { "error" } else { "success" };
    if finish(shared, &mut st, id, status).is_none() {
        return unknown_request(id);
    }
    drop(st);
    reply.send(Reply::StreamEnd { error });
    ok()
}

fn post_error(
    shared: &Arc<Shared>,
    conn: &mut Connection,
    head: &RequestHead,
    id: &str,
    generation: u64,
) -> Outcome {
    let error_type = head
        .header("lambda-runtime-function-error-type")
        .unwrap_or("Unhandled")
        .to_string();
    let body = match conn.read_body(head, MAX_INVOKE_PAYLOAD) {
        Ok(b) => b.data,
        Err(HttpError::TooLarge) => {
            return refuse_too_large(conn, head);
        }
        Err(_) => return Outcome::Close,
    };
    let mut st = shared.lock();
    if !held_by(&st, id, generation) {
        return unknown_request(id);
    }
    let Some(f) = finish(shared, &mut st, id, "error") else {
        return unknown_request(id);
    };
    drop(st);
    let reply = if f.streaming {
        Reply::StreamEnd {
            error: Some((error_type, String::from_utf8_lossy(&body).into_owned())),
        }
    } else {
        Reply::Complete {
            body,
            content_type: "application/json".into(),
            function_error: Some("Unhandled".into()),
        }
    };
    f.reply.send(reply);
    ok()
}

fn init_error(shared: &Arc<Shared>, conn: &mut Connection, head: &RequestHead, generation: u64) -> Outcome {
    let error_type = head
        .header("lambda-runtime-function-error-type")
        .unwrap_or("Runtime.Unknown")
        .to_string();
    let body = match conn.read_body(head, MAX_INVOKE_PAYLOAD) {
        Ok(b) => b.data,
        Err(_) => return Outcome::Close,
    };
    if super::snapstart::restoring(shared) {
        return match super::snapstart::fail_restore(shared, generation, body, &error_type) {
            Some((status, body)) => Outcome::Respond(status, body),
            None => Outcome::Close,
        };
    }
    let mut st = shared.lock();
    if st.runtime.generation != generation {
        return Outcome::Close;
    }
    if st.runtime.init_done || st.runtime.init_failed_at.is_some() {
        return Outcome::Respond(
            403,
            errors::runtime_api_error(
                "InvalidStateTransition",
                "State transition from Ready to InitError failed for runtime. Error: State transition is not allowed",
            ),
        );
    }
    st.runtime.init_failed_at = Some(Instant::now());
    st.stats.init_errors += 1;
    // Lambda gives the init error to the invocation that was waiting for this init.
    let waiting = st.queue.pop_front();
    let init = st.runtime.spawned_at.map(|t| t.elapsed()).unwrap_or_default();
    drop(st);
    shared.wake_supervisor();
    shared.log.init_report(init, &error_type);
    if let Some(inv) = waiting {
        inv.reply.send(Reply::Complete {
            body,
            content_type: "application/json".into(),
            function_error: Some("Unhandled".into()),
        });
    }
    ok()
}
