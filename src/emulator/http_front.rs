//! The HTTP front (`serve --http`): every HTTP request becomes a Function URL (or REST API proxy)
//! event queued like any invoke, and the function's answer is written back as the HTTP response
//! by whichever thread has it, as the invoke API's answers are (`reply.rs`, `http_reply.rs`).

use std::net::TcpStream;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use super::config::MAX_INVOKE_PAYLOAD;
use super::environment::new_request_id;
use super::http::{self, Connection, HttpError};
use super::http_event::{self, EventFormat, HttpRequest};
use super::http_reply::HttpClientReply;
use super::instances::Instances;
use super::reply::{next_request_head, ReplySink};
use super::state::Invocation;

/// The shortest time a client may go without reading before it is dropped.
const MIN_WRITE_STALL: Duration = Duration::from_secs(5);

pub fn serve_connection(instances: &Instances, stream: TcpStream, format: EventFormat) {
    let source_ip = stream
        .peer_addr()
        .map_or_else(|_| "127.0.0.1".to_string(), |a| a.ip().to_string());
    let local_port = stream.local_addr().map_or(0, |a| a.port());
    // A client that reads nothing for as long as the function may run is dropped: a stalled
    // write to it holds its answer's sink, which the supervisor needs to end the invocation.
    let _ = stream.set_write_timeout(Some(instances.0[0].config.timeout.max(MIN_WRITE_STALL)));
    let Ok(mut conn) = Connection::new(stream) else {
        return;
    };
    let mut previous: Option<Arc<ReplySink>> = None;
    loop {
        let head = match next_request_head(&mut conn, &mut previous) {
            Ok(h) => h,
            Err(HttpError::Closed) | Err(HttpError::Io(_)) => return,
            Err(HttpError::TooLarge) => return plain(&mut conn, 431, "Request header fields too large"),
            Err(_) => return plain(&mut conn, 400, "Malformed HTTP request"),
        };
        // HEAD answers carry no body: closing after each keeps a streamed one framed.
        let keep_alive = head.keep_alive() && head.method != "HEAD";
        if head.expects_continue() {
            if head
                .content_length()
                .ok()
                .flatten()
                .is_some_and(|n| n > MAX_INVOKE_PAYLOAD as u64)
            {
                return plain(&mut conn, 413, "Request Entity Too Large");
            }
            if conn.send_continue().is_err() {
                return;
            }
        }
        let body = match conn.read_body(&head, MAX_INVOKE_PAYLOAD) {
            Ok(b) => b.data,
            Err(HttpError::TooLarge) => return plain(&mut conn, 413, "Request Entity Too Large"),
            Err(_) => return plain(&mut conn, 400, "Malformed request body"),
        };
        let request_id = new_request_id();
        let event = http_event::event(
            format,
            &HttpRequest {
                method: &head.method,
                target: &head.path,
                headers: &head.headers,
                body: &body,
                source_ip: &source_ip,
                local_port,
                request_id: &request_id,
                time: SystemTime::now(),
            },
        );
        let reply = Arc::new(ReplySink::http_client(HttpClientReply::new(
            conn.writer.clone(),
            keep_alive,
            format,
            &head,
            &request_id,
        )));
        let inv = Invocation {
            request_id,
            body: event,
            trace_id: None,
            client_context: None,
            cognito_identity: None,
            tenant_id: None,
            reply: reply.clone(),
        };
        if !instances.enqueue(inv) {
            return plain(&mut conn, 503, "The local emulator is shutting down");
        }
        if !keep_alive {
            return;
        }
        previous = Some(reply);
    }
}

/// A plain-text answer that ends the connection.
fn plain(conn: &mut Connection, status: u16, message: &str) {
    let _ = http::write_response(
        &mut conn.writer,
        status,
        &[("Content-Type", "text/plain; charset=utf-8")],
        message.as_bytes(),
        false,
    );
}
