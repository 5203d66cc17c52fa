//! GET next over a non-blocking socket (src/next/polled.rs), driven here by poll(2) as libuv
//! drives it in Node, against the same Runtime API as the blocking client
//! (src/client/wire_server.rs).

use std::net::TcpListener;
use std::thread;

use super::polled::{PolledNextChannel, Step, Want};
use crate::client::wire_server::*;
use crate::error::ErrorCode;
use crate::error::RuntimeApiError;
use crate::invocation::Invocation;

fn channel(server: &Server) -> PolledNextChannel {
    PolledNextChannel::new(server.client().next_url()).expect("valid URL")
}

/// One GET next, waiting on its socket with poll(2) whenever it would block.
fn polled_next(channel: &mut PolledNextChannel) -> Result<Invocation, RuntimeApiError> {
    let mut next = channel.begin();
    let result = loop {
        match next.resume() {
            Step::Done(result) => break result,
            Step::Wait(want) => {
                let events = match want {
                    Want::Readable => libc::POLLIN,
                    Want::Writable => libc::POLLOUT,
                };
                let mut fd = libc::pollfd {
                    fd: next.fd().expect("a socket to wait on"),
                    events,
                    revents: 0,
                };
                // SAFETY: one valid pollfd.
                let ready = unsafe { libc::poll(&mut fd, 1, 10_000) };
                assert_eq!(ready, 1, "the socket became ready within 10 s");
            }
        }
    };
    channel.finish(next);
    result
}

#[test]
fn reads_every_header_and_the_body_and_sends_a_plain_get() {
    let server = Server::start_with_prefix("/.rt", |_, _| {
        Answer::Raw(sized(
            "200 OK",
            &[
                ("content-type", "application/json"),
                ("lambda-runtime-aws-request-id", "polled-1"),
                ("LAMBDA-RUNTIME-DEADLINE-MS", DEADLINE),
                ("Lambda-Runtime-Invoked-Function-Arn", ARN),
                ("Lambda-Runtime-Trace-Id", "Root=1-abc"),
                ("Lambda-Runtime-Client-Context", "{\"c\":1}"),
                ("Lambda-Runtime-Cognito-Identity", "{\"i\":2}"),
                ("Lambda-Runtime-Aws-Tenant-Id", "tenant-1"),
            ],
            "{\"h\u{e9}llo\":1}".as_bytes(),
        ))
    });
    let inv = polled_next(&mut channel(&server)).expect("an invocation");
    assert_eq!(inv.request_id, "polled-1");
    assert_eq!(inv.deadline_ms, 1_700_000_000_000);
    assert_eq!(inv.invoked_function_arn, ARN);
    assert_eq!(inv.trace_id.as_deref(), Some("Root=1-abc"));
    assert_eq!(inv.client_context.as_deref(), Some("{\"c\":1}"));
    assert_eq!(inv.cognito_identity.as_deref(), Some("{\"i\":2}"));
    assert_eq!(inv.tenant_id.as_deref(), Some("tenant-1"));
    assert_eq!(inv.body, "{\"h\u{e9}llo\":1}");
    let seen = &server.seen()[0];
    assert_eq!(seen.method, "GET");
    assert_eq!(seen.path, "/.rt/2018-06-01/runtime/invocation/next");
    assert_eq!(
        seen.header("host"),
        Some(server.endpoint.trim_end_matches("/.rt"))
    );
    assert_eq!(seen.header("user-agent"), Some("lambda-rapid/0.1"));
    assert_eq!(seen.header("content-length"), None);
    assert!(seen.body.is_empty());
}

#[test]
fn the_connection_is_kept_for_the_next_get_after_a_sized_or_chunked_answer() {
    let server = Server::start(|_, index| {
        if index % 2 == 0 {
            return Answer::Raw(event(&format!("sized-{index}"), b"{}"));
        }
        let head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\
                    Lambda-Runtime-Aws-Request-Id: chunky\r\n\
                    Lambda-Runtime-Deadline-Ms: 1700000000000\r\n\
                    Lambda-Runtime-Invoked-Function-Arn: arn\r\n\r\n";
        Answer::Raw(format!("{head}3\r\n{{\"a\r\n4\r\n\":1}}\r\n0\r\n\r\n").into_bytes())
    });
    let mut channel = channel(&server);
    for round in 0..3 {
        let sized = polled_next(&mut channel).expect("a sized invocation");
        assert_eq!(sized.request_id, format!("sized-{}", round * 2));
        let chunked = polled_next(&mut channel).expect("a chunked invocation");
        assert_eq!(
            (chunked.request_id.as_str(), chunked.body.as_str()),
            ("chunky", "{\"a\":1}")
        );
    }
    assert_eq!(server.accepted(), 1, "one connection served all six");
}

#[test]
fn an_answer_arriving_in_pieces_is_put_together() {
    let body = vec![b'7'; 300_000];
    let whole = event("pieces", &body);
    let server = Server::start(move |_, _| {
        let (head, rest) = whole.split_at(40);
        let (middle, tail) = rest.split_at(150_000);
        Answer::Slowly(vec![head.to_vec(), middle.to_vec(), tail.to_vec()])
    });
    let inv = polled_next(&mut channel(&server)).expect("an invocation");
    assert_eq!(inv.request_id, "pieces");
    assert_eq!(inv.body.len(), body.len());
    assert!(inv.body.bytes().all(|b| b == b'7'));
}

#[test]
fn a_body_delimited_by_the_close_is_read_and_the_next_get_reconnects() {
    let server = Server::start(|_, index| {
        Answer::RawThenClose(
            format!(
                "HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: eof-{index}\r\n\
                 Lambda-Runtime-Deadline-Ms: 1700000000000\r\n\
                 Lambda-Runtime-Invoked-Function-Arn: arn\r\n\r\n{{\"until\":\"close\"}}"
            )
            .into_bytes(),
        )
    });
    let mut channel = channel(&server);
    assert_eq!(
        polled_next(&mut channel).expect("first").body,
        "{\"until\":\"close\"}"
    );
    assert_eq!(polled_next(&mut channel).expect("second").request_id, "eof-1");
    assert_eq!(server.accepted(), 2);
}

#[test]
fn a_get_whose_connection_closes_unanswered_is_sent_once_more() {
    // The second GET meets a connection the server closes without answering.
    let server = Server::start(|seen, index| {
        if index == 1 {
            Answer::Close
        } else {
            lambda_like(seen, index)
        }
    });
    let mut channel = channel(&server);
    assert_eq!(polled_next(&mut channel).expect("first").request_id, "id-0");
    assert_eq!(polled_next(&mut channel).expect("retried").request_id, "id-2");
    let seen = server.seen();
    assert_eq!(seen.iter().map(|s| s.connection).collect::<Vec<_>>(), [0, 0, 1]);
    // One retry only: a server that never answers fails the GET.
    let closing = Server::start(|_, _| Answer::Close);
    let err = polled_next(&mut self::channel(&closing)).unwrap_err();
    assert_eq!(err.code, ErrorCode::Unreachable, "{err}");
    assert_eq!(closing.seen().len(), 2, "one attempt and one retry");
}

#[test]
fn refused_answers_and_broken_answers_carry_their_codes() {
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("addr").port()
    };
    let mut refused = PolledNextChannel::new(&format!(
        "http://127.0.0.1:{port}/2018-06-01/runtime/invocation/next"
    ))
    .expect("valid URL");
    let err = polled_next(&mut refused).unwrap_err();
    assert_eq!(err.code, ErrorCode::Unreachable, "{err}");
    assert!(err.message.contains("unreachable"), "{}", err.message);

    let server = Server::start(|_, index| match index {
        0 => Answer::Raw(sized("500 Internal Server Error", &[], b"{\"errorType\":\"X\"}")),
        1 => Answer::Raw(sized(
            "200 OK",
            &[("Lambda-Runtime-Deadline-Ms", DEADLINE)],
            b"{}",
        )),
        2 => Answer::Raw(event("after-errors", b"{}")),
        3 => Answer::RawThenClose(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"short".to_vec()),
        _ => Answer::RawThenClose(b"NOT HTTP AT ALL\r\n\r\n".to_vec()),
    });
    let mut channel = channel(&server);
    let err = polled_next(&mut channel).unwrap_err();
    assert_eq!((err.code, err.status), (ErrorCode::Status, Some(500)), "{err}");
    assert_eq!(err.body.as_deref(), Some("{\"errorType\":\"X\"}"));
    let err = polled_next(&mut channel).unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidInvocation, "{err}");
    assert_eq!(
        polled_next(&mut channel)
            .expect("the connection survives")
            .request_id,
        "after-errors"
    );
    assert_eq!(server.accepted(), 1);
    let err = polled_next(&mut channel).unwrap_err();
    assert_eq!(err.code, ErrorCode::Protocol, "{err}");
    assert!(err.message.contains("middle of the body"), "{}", err.message);
    let err = polled_next(&mut channel).unwrap_err();
    assert_eq!(err.code, ErrorCode::Protocol, "{err}");
    assert!(err.message.contains("not valid HTTP"), "{}", err.message);
}

#[test]
fn waits_as_long_as_the_api_holds_the_get() {
    let server = Server::start(|seen, index| {
        thread::sleep(std::time::Duration::from_millis(300));
        lambda_like(seen, index)
    });
    let started = std::time::Instant::now();
    let inv = polled_next(&mut channel(&server)).expect("an invocation, late");
    assert_eq!(inv.request_id, "id-0");
    assert!(started.elapsed() >= std::time::Duration::from_millis(300));
}

#[test]
fn a_kept_connection_the_server_closes_is_noticed_while_idle() {
    // What the event loop's watch on an idle connection relies on (src/next/on_loop.rs).
    let server = Server::start(|seen, index| {
        if index == 0 {
            // Answered, then closed: as a server dropping an idle keep-alive connection.
            Answer::RawThenClose(event(&format!("id-{index}"), b"{}"))
        } else {
            lambda_like(seen, index)
        }
    });
    let mut open = channel(&server);
    assert_eq!(polled_next(&mut open).expect("first").request_id, "id-0");
    // The sized answer leaves the connection kept; the server's close arrives right after.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    let closed = loop {
        if let Some(stream) = open.take_idle_if_closed() {
            break stream;
        }
        assert!(std::time::Instant::now() < deadline, "the close was noticed");
        thread::sleep(std::time::Duration::from_millis(5));
    };
    drop(closed);
    assert!(open.take_idle_if_closed().is_none(), "nothing kept any more");
    assert_eq!(
        polled_next(&mut open).expect("on a new connection").request_id,
        "id-1"
    );
    assert_eq!(server.accepted(), 2);

    // A kept connection the server leaves open is not taken.
    let quiet = Server::start(lambda_like);
    let mut kept = channel(&quiet);
    polled_next(&mut kept).expect("an invocation");
    thread::sleep(std::time::Duration::from_millis(20));
    assert!(kept.take_idle_if_closed().is_none());
}

#[test]
fn what_the_official_clients_serve_is_served() {
    let answers = tolerated_answers();
    let count = answers.len();
    let server = Server::start(move |_, index| Answer::Raw(answers[index % count].answer.clone()));
    let mut channel = channel(&server);
    for want in tolerated_answers() {
        let inv = polled_next(&mut channel).expect("served");
        assert_tolerated(&inv, &want);
    }
}

#[test]
fn a_break_inside_the_answer_head_is_reported_as_such() {
    let part = b"HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: cut\r\n".to_vec();
    for (answer, how) in [
        (Answer::RawThenReset(part.clone()), "reset"),
        (Answer::RawThenClose(part.clone()), "closed"),
    ] {
        let server = Server::first_then_lambda_like(answer);
        let err = polled_next(&mut channel(&server)).unwrap_err();
        assert_eq!(err.code, ErrorCode::Protocol, "{err}");
        assert!(
            err.message.contains(how) && err.message.contains(&format!("after {} bytes", part.len())),
            "{}",
            err.message
        );
        assert!(!err.message.contains("unreachable"), "{}", err.message);
        assert_eq!(
            server.seen().len(),
            1,
            "not sent again: the API may have handed the event out"
        );
    }
}
