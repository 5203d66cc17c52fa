//! The invoke API the caller talks to, compatible with AWS's Runtime Interface Emulator:
//! `POST /2015-03-31/functions/function/invocations` (any function name is accepted), and the
//! response-streaming path `POST /2021-11-15/functions/function/response-streaming-invocations`.
//!
//! A buffered answer comes back whole; when the function streams (`streamifyResponse`), either
//! path passes its chunks through as they arrive (HTTP chunked), and a mid-stream error arrives
//! as trailers. Bad requests get the errors Lambda's Invoke API gives, and the connection (or at
//! least the server) keeps serving.

use std::net::TcpStream;
use std::sync::Arc;

use super::config::MAX_INVOKE_PAYLOAD;
use super::environment::new_request_id;
use super::errors;
use super::http::{self, Connection, HttpError, RequestHead};
use super::instances::Instances;
use super::reply::{next_request_head, ReplySink};
use super::state::Invocation;
use crate::base64;

const JSON: &str = "application/json";
const ERROR_TYPE: &str = "x-amzn-ErrorType";

pub fn serve_connection(instances: &Instances, stream: TcpStream) {
    let Ok(mut conn) = Connection::new(stream) else {
        return;
    };
    // The answer of the previous request on this connection, written by another thread.
    let mut previous: Option<Arc<ReplySink>> = None;
    loop {
        let head = match next_request_head(&mut conn, &mut previous) {
            Ok(h) => h,
            Err(HttpError::Closed) | Err(HttpError::Io(_)) => return,
            Err(e) => {
                let body = errors::service_error(&format!("Malformed HTTP request: {}", e.why()));
                let _ = http::write_response(
                    &mut conn.writer,
                    400,
                    &[
                        ("Content-Type", JSON),
                        (ERROR_TYPE, "InvalidRequestContentException"),
                    ],
                    body.as_bytes(),
                    false,
                );
                conn.close_after_answer();
                return;
            }
        };
        let keep_alive = head.keep_alive();
        match handle(instances, &mut conn, &head, keep_alive) {
            Handled::Continue => {}
            Handled::Pending(sink) => previous = Some(sink),
            Handled::Close => return,
        }
        if !keep_alive {
            return;
        }
    }
}

enum Handled {
    /// Answered; the connection may serve another request.
    Continue,
    /// Queued: the answer will be written to the connection by whoever gets it.
    Pending(Arc<ReplySink>),
    Close,
}

impl From<bool> for Handled {
    fn from(keep: bool) -> Self {
        if keep {
            Handled::Continue
        } else {
            Handled::Close
        }
    }
}

/// Whether `path` names an invoke operation: the classic one or the response-streaming one.
fn is_invoke_path(path: &str) -> bool {
    let path = path.split('?').next().unwrap_or("");
    let parts: Vec<&str> = path.split('/').collect();
    matches!(
        parts.as_slice(),
        ["", "2015-03-31", "functions", name, "invocations"]
            | ["", "2021-11-15", "functions", name, "response-streaming-invocations"]
            if !name.is_empty()
    )
}

/// Answers (or queues) one request.
fn handle(instances: &Instances, conn: &mut Connection, head: &RequestHead, keep_alive: bool) -> Handled {
    // Every instance runs the same function: any one's configuration will do.
    let shared = &instances.0[0];
    if !is_invoke_path(&head.path) {
        let _ = skip(conn, head);
        return service_error(
            conn,
            404,
            "UnknownOperationException",
            &format!("Unknown operation: {} {}", head.method, head.path),
            false,
        );
    }
    if head.method != "POST" {
        let _ = skip(conn, head);
        return service_error(
            conn,
            405,
            "UnknownOperationException",
            &format!("Method {} is not allowed; invoke with POST", head.method),
            keep_alive,
        );
    }
    if head.expects_continue() {
        // An oversized event is refused before the client sends it.
        if head
            .content_length()
            .ok()
            .flatten()
            .is_some_and(|n| n > MAX_INVOKE_PAYLOAD as u64)
        {
            return too_large(conn, head);
        }
        if conn.send_continue().is_err() {
            return Handled::Close;
        }
    }
    let mut body = match conn.read_body(head, MAX_INVOKE_PAYLOAD) {
        Ok(b) => b.data,
        Err(HttpError::TooLarge) => return too_large(conn, head),
        Err(_) => {
            return service_error(
                conn,
                400,
                "InvalidRequestContentException",
                "Malformed request body",
                false,
            )
        }
    };
    // Lambda invokes with `{}` when the caller sends no payload.
    if body.iter().all(u8::is_ascii_whitespace) {
        body = b"{}".to_vec();
    } else if let Err(e) = serde_json::from_slice::<serde_json::Value>(&body) {
        return service_error(
            conn,
            400,
            "InvalidRequestContentException",
            &format!("Could not parse request body into json: Could not parse payload into json: {e}"),
            keep_alive,
        );
    }
    let client_context = match head.header("x-amz-client-context") {
        None | Some("") => None,
        Some(encoded) => match base64::decode(encoded) {
            Some(raw) if serde_json::from_slice::<serde_json::Value>(&raw).is_ok() => {
                Some(String::from_utf8_lossy(&raw).into_owned())
            }
            _ => {
                return service_error(
                    conn,
                    400,
                    "InvalidRequestContentException",
                    "Client context must be a valid Base64-encoded JSON object.",
                    keep_alive,
                )
            }
        },
    };
    let request_id = head
        .header("x-amzn-requestid")
        .filter(|v| !v.is_empty())
        .map(str::to_string)
        .unwrap_or_else(new_request_id);
    let invocation_type = head.header("x-amz-invocation-type").unwrap_or("RequestResponse");
    let reply = match invocation_type {
        "Event" => Arc::new(ReplySink::discard()),
        _ => Arc::new(ReplySink::socket(
            conn.writer.clone(),
            keep_alive,
            &request_id,
            &shared.config.function_version,
        )),
    };
    let inv = Invocation {
        request_id: request_id.clone(),
        body,
        trace_id: head.header("x-amzn-trace-id").map(str::to_string),
        client_context,
        cognito_identity: head.header("x-amz-cognito-identity").map(str::to_string),
        tenant_id: head.header("x-amz-tenant-id").map(str::to_string),
        reply: reply.clone(),
    };
    match invocation_type {
        "DryRun" => {
            return http::write_response(
                &mut conn.writer,
                204,
                &[("X-Amzn-RequestId", &request_id)],
                b"",
                keep_alive,
            )
            .is_ok()
            .into()
        }
        "Event" | "RequestResponse" => {}
        other => {
            return service_error(
                conn,
                400,
                "InvalidParameterValueException",
                &format!("Unsupported invocation type: {other}"),
                keep_alive,
            )
        }
    }
    if !instances.enqueue(inv) {
        return service_error(
            conn,
            503,
            "ServiceException",
            "The local emulator is shutting down",
            false,
        );
    }
    if invocation_type == "Event" {
        // Asynchronous: accepted now, run in order with the others; nobody reads the result.
        return http::write_response(
            &mut conn.writer,
            202,
            &[("X-Amzn-RequestId", &request_id)],
            b"",
            keep_alive,
        )
        .is_ok()
        .into();
    }
    Handled::Pending(reply)
}

fn service_error(
    conn: &mut Connection,
    status: u16,
    error_type: &str,
    message: &str,
    keep_alive: bool,
) -> Handled {
    let body = errors::service_error(message);
    let written = http::write_response(
        &mut conn.writer,
        status,
        &[("Content-Type", JSON), (ERROR_TYPE, error_type)],
        body.as_bytes(),
        keep_alive,
    )
    .is_ok();
    (written && keep_alive).into()
}

/// Lambda's answer to an event over 6 MiB. The rest of the body is read and discarded (bounded)
/// so the client reads the 413 instead of a reset, and the connection is closed.
fn too_large(conn: &mut Connection, head: &RequestHead) -> Handled {
    if !head.expects_continue() {
        let _ = skip(conn, head);
    }
    service_error(
        conn,
        413,
        "RequestEntityTooLargeException",
        &format!("Request must be smaller than {MAX_INVOKE_PAYLOAD} bytes for the InvokeFunction operation"),
        false,
    )
}

/// Discards what is left of a request body, up to 64 MiB.
fn skip(conn: &mut Connection, head: &RequestHead) -> Result<(), HttpError> {
    let mut reader = http::BodyReader::new(head)?;
    let mut seen = 0usize;
    while let Some(c) = reader.next_chunk(&mut conn.reader)? {
        seen += c.len();
        if seen > 64 * 1024 * 1024 {
            return Err(HttpError::TooLarge);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_the_invoke_paths() {
        assert!(is_invoke_path("/2015-03-31/functions/function/invocations"));
        assert!(is_invoke_path(
            "/2015-03-31/functions/my-fn/invocations?Qualifier=1"
        ));
        assert!(is_invoke_path(
            "/2021-11-15/functions/function/response-streaming-invocations"
        ));
        assert!(!is_invoke_path("/2015-03-31/functions//invocations"));
        assert!(!is_invoke_path(
            "/2015-03-31/functions/function/invocations/extra"
        ));
        assert!(!is_invoke_path("/"));
    }
}
