//! The blocking client against a Runtime API on 127.0.0.1 (src/client/wire_server.rs).

use std::net::TcpListener;
use std::sync::Arc;
use std::thread;

use super::wire_server::*;
use super::RuntimeApiClient;
use crate::error::ErrorCode;

#[test]
fn next_reads_every_header_and_the_body() {
    let server = Server::start(|_, _| {
        Answer::Raw(sized(
            "200 OK",
            &[
                ("Content-Type", "application/json"),
                (
                    "Lambda-Runtime-Aws-Request-Id",
                    "8476a536-e9f4-11e8-9739-2dfe598c3fcd",
                ),
                ("Lambda-Runtime-Deadline-Ms", "1542409706888"),
                ("Lambda-Runtime-Invoked-Function-Arn", ARN),
                (
                    "Lambda-Runtime-Trace-Id",
                    "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Sampled=1",
                ),
                ("Lambda-Runtime-Client-Context", "{\"custom\":{\"k\":\"v\"}}"),
                ("Lambda-Runtime-Cognito-Identity", "{\"cognitoIdentityId\":\"x\"}"),
                ("Lambda-Runtime-Aws-Tenant-Id", "tenant-1"),
            ],
            b"{\"hello\":\"world\"}",
        ))
    });
    let inv = server.client().next_invocation().expect("an invocation");
    assert_eq!(inv.request_id, "8476a536-e9f4-11e8-9739-2dfe598c3fcd");
    assert_eq!(inv.deadline_ms, 1_542_409_706_888);
    assert_eq!(inv.invoked_function_arn, ARN);
    assert_eq!(
        inv.trace_id.as_deref(),
        Some("Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Sampled=1")
    );
    assert_eq!(inv.client_context.as_deref(), Some("{\"custom\":{\"k\":\"v\"}}"));
    assert_eq!(
        inv.cognito_identity.as_deref(),
        Some("{\"cognitoIdentityId\":\"x\"}")
    );
    assert_eq!(inv.tenant_id.as_deref(), Some("tenant-1"));
    assert_eq!(inv.body, "{\"hello\":\"world\"}");
    let seen = server.seen();
    assert_eq!(seen[0].method, "GET");
    assert_eq!(seen[0].path, "/2018-06-01/runtime/invocation/next");
}

#[test]
fn header_names_are_matched_in_any_case() {
    for spelling in [str::to_ascii_lowercase, str::to_ascii_uppercase] {
        let server = Server::start(move |_, _| {
            let names = [
                "Lambda-Runtime-Aws-Request-Id",
                "Lambda-Runtime-Deadline-Ms",
                "Lambda-Runtime-Invoked-Function-Arn",
                "Lambda-Runtime-Trace-Id",
            ]
            .map(spelling);
            Answer::Raw(sized(
                "200 OK",
                &[
                    (names[0].as_str(), "id-case"),
                    (names[1].as_str(), DEADLINE),
                    (names[2].as_str(), ARN),
                    (names[3].as_str(), "Root=1-abc"),
                ],
                b"{}",
            ))
        });
        let inv = server.client().next_invocation().expect("an invocation");
        assert_eq!(inv.request_id, "id-case");
        assert_eq!(inv.deadline_ms, 1_700_000_000_000);
        assert_eq!(inv.invoked_function_arn, ARN);
        assert_eq!(inv.trace_id.as_deref(), Some("Root=1-abc"));
    }
}

#[test]
fn an_event_without_content_type_is_read() {
    let server = Server::start(|_, _| {
        Answer::Raw(sized(
            "200 OK",
            &[
                ("Lambda-Runtime-Aws-Request-Id", "no-ct"),
                ("Lambda-Runtime-Deadline-Ms", DEADLINE),
                ("Lambda-Runtime-Invoked-Function-Arn", ARN),
            ],
            b"[1,2,3]",
        ))
    });
    let inv = server.client().next_invocation().expect("an invocation");
    assert_eq!(inv.request_id, "no-ct");
    assert_eq!(inv.body, "[1,2,3]");
}

#[test]
fn a_chunked_event_is_reassembled_and_the_connection_reused() {
    let server = Server::start(|seen, _| {
        if seen.method == "POST" {
            return Answer::Raw(accepted_202());
        }
        let head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\
                    Lambda-Runtime-Aws-Request-Id: chunky\r\n\
                    Lambda-Runtime-Deadline-Ms: 1700000000000\r\n\
                    Lambda-Runtime-Invoked-Function-Arn: arn:aws:lambda:us-east-1:1:function:f\r\n\r\n";
        let chunks = "3\r\n{\"a\r\n5\r\n\":\"b\"\r\nC\r\n,\"c\":\"\u{e9}\u{e9}\"}\r\n0\r\n\r\n";
        Answer::Raw(format!("{head}{chunks}").into_bytes())
    });
    let client = server.client();
    for _ in 0..2 {
        let inv = client.next_invocation().expect("an invocation");
        assert_eq!(inv.request_id, "chunky");
        assert_eq!(inv.body, "{\"a\":\"b\",\"c\":\"\u{e9}\u{e9}\"}");
        client.post_response(&inv.request_id, b"null").expect("posted");
    }
    assert_eq!(server.accepted(), 1, "the chunked body was drained to its end");
}

#[test]
fn an_empty_event_body_is_an_empty_string() {
    let server = Server::start(|seen, _| {
        if seen.method == "POST" {
            Answer::Raw(accepted_202())
        } else {
            Answer::Raw(event("empty", b""))
        }
    });
    let client = server.client();
    let inv = client.next_invocation().expect("an invocation");
    assert_eq!(inv.body, "");
    client
        .post_response("empty", b"")
        .expect("an empty response is posted");
    let post = &server.seen()[1];
    assert_eq!(post.header("content-length"), Some("0"));
    assert_eq!(post.body, b"");
    assert_eq!(server.accepted(), 1);
}

#[test]
fn an_event_delimited_by_the_server_closing_is_read_to_the_end() {
    let server = Server::start(|seen, _| {
        if seen.method == "POST" {
            return Answer::Raw(accepted_202());
        }
        Answer::RawThenClose(
            b"HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: eof\r\n\
              Lambda-Runtime-Deadline-Ms: 1700000000000\r\n\
              Lambda-Runtime-Invoked-Function-Arn: arn\r\n\r\n{\"until\":\"close\"}"
                .to_vec(),
        )
    });
    let client = server.client();
    let inv = client.next_invocation().expect("an invocation");
    assert_eq!(inv.body, "{\"until\":\"close\"}");
    client
        .post_response("eof", b"1")
        .expect("posted on a new connection");
    assert_eq!(server.accepted(), 2);
}

#[test]
fn every_call_uses_the_endpoint_path_prefix() {
    let server = Server::start_with_prefix("/.rt", lambda_like);
    let client = server.client();
    let inv = client.next_invocation().expect("an invocation");
    client.post_response(&inv.request_id, b"{}").expect("response");
    client
        .post_error("id-x", b"{}", "Runtime.Error", None)
        .expect("error");
    client
        .post_init_error(b"{}", "Runtime.Error")
        .expect("init error");
    let paths: Vec<String> = server.seen().into_iter().map(|s| s.path).collect();
    assert_eq!(
        paths,
        [
            "/.rt/2018-06-01/runtime/invocation/next",
            "/.rt/2018-06-01/runtime/invocation/id-0/response",
            "/.rt/2018-06-01/runtime/invocation/id-x/error",
            "/.rt/2018-06-01/runtime/init/error",
        ]
    );
}

#[test]
fn request_ids_are_percent_encoded_in_paths() {
    let server = Server::start(lambda_like);
    let client = server.client();
    client.post_response("a/b c?d#e%f", b"{}").expect("response");
    client
        .post_error("\u{e9}t\u{e9}", b"{}", "E", None)
        .expect("error");
    let seen = server.seen();
    assert_eq!(
        seen[0].path,
        "/2018-06-01/runtime/invocation/a%2Fb%20c%3Fd%23e%25f/response"
    );
    assert_eq!(seen[1].path, "/2018-06-01/runtime/invocation/%C3%A9t%C3%A9/error");
}

#[test]
fn post_response_sends_the_body_as_json() {
    let server = Server::start(lambda_like);
    let body: Vec<u8> = (0..=255u8).cycle().take(6 * 1024 * 1024).collect();
    server
        .client()
        .post_response("big", &body)
        .expect("a 6 MiB response is posted");
    let post = &server.seen()[0];
    assert_eq!(post.method, "POST");
    assert_eq!(post.header("content-type"), Some("application/json"));
    assert_eq!(post.header("content-length"), Some("6291456"));
    assert!(post.body == body, "the body arrives byte for byte");
}

#[test]
fn post_error_sends_the_error_type_and_the_xray_cause() {
    let server = Server::start(lambda_like);
    let client = server.client();
    let body = br#"{"errorType":"TypeError","errorMessage":"x"}"#;
    client
        .post_error(
            "id-1",
            body,
            "TypeError",
            Some("{\"exceptions\":[{\"message\":\"\u{e9}\"}]}"),
        )
        .expect("error posted");
    client
        .post_error("id-2", body, "Runtime.Bad\nType", None)
        .expect("error posted");
    let seen = server.seen();
    assert_eq!(seen[0].path, "/2018-06-01/runtime/invocation/id-1/error");
    assert_eq!(seen[0].body, body);
    assert_eq!(seen[0].header("content-type"), Some("application/json"));
    assert_eq!(
        seen[0].header("lambda-runtime-function-error-type"),
        Some("TypeError")
    );
    assert_eq!(
        seen[0].header("lambda-runtime-function-xray-error-cause"),
        Some("{\"exceptions\":[{\"message\":\"\\u00e9\"}]}")
    );
    assert_eq!(
        seen[1].header("lambda-runtime-function-error-type"),
        Some("Runtime.Bad?Type")
    );
    assert_eq!(seen[1].header("lambda-runtime-function-xray-error-cause"), None);
}

#[test]
fn post_init_error_sends_the_error_type() {
    let server = Server::start(lambda_like);
    let body = br#"{"errorType":"Runtime.ImportModuleError","errorMessage":"x"}"#;
    server
        .client()
        .post_init_error(body, "Runtime.ImportModuleError")
        .expect("posted");
    let post = &server.seen()[0];
    assert_eq!(post.method, "POST");
    assert_eq!(post.path, "/2018-06-01/runtime/init/error");
    assert_eq!(post.body, body);
    assert_eq!(post.header("content-type"), Some("application/json"));
    assert_eq!(
        post.header("lambda-runtime-function-error-type"),
        Some("Runtime.ImportModuleError")
    );
}

#[test]
fn one_connection_serves_every_call() {
    let server = Server::start(lambda_like);
    let client = server.client();
    for _ in 0..3 {
        let inv = client.next_invocation().expect("an invocation");
        client.post_response(&inv.request_id, b"{}").expect("response");
    }
    let inv = client.next_invocation().expect("an invocation");
    client
        .post_error(&inv.request_id, b"{}", "E", Some("{}"))
        .expect("error");
    client.post_init_error(b"{}", "E").expect("init error");
    assert_eq!(server.seen().len(), 9);
    assert_eq!(
        server.accepted(),
        1,
        "keep-alive: one TCP connection for all calls"
    );
    let seen = server.seen();
    assert!(seen.iter().all(|s| s.connection == 0));
    assert!(seen.iter().all(|s| s.header("connection") != Some("close")));
}

#[test]
fn a_connection_closed_after_an_answer_is_replaced() {
    // The server answers, then closes without saying `Connection: close`.
    let server = Server::start(|seen, index| {
        let answer = lambda_like(seen, index);
        match answer {
            Answer::Raw(bytes) => Answer::RawThenClose(bytes),
            other => other,
        }
    });
    let client = server.client();
    let inv = client.next_invocation().expect("an invocation");
    // Let the FIN arrive, as it would during a handler's run.
    thread::sleep(std::time::Duration::from_millis(50));
    client
        .post_response(&inv.request_id, b"{}")
        .expect("response on a new connection");
    // No pause here: the request may go out before the FIN arrives (the retry covers that).
    client.next_invocation().expect("next on a new connection");
    assert_eq!(server.accepted(), 3);
}

/// The idle-close race: the server drops the kept-alive connection as our request arrives,
/// without reading or answering it. The request must be sent again on a new connection.
fn dropped_once_on_the_second_request() -> Server {
    Server::start(|seen, index| {
        if index == 1 {
            Answer::Close
        } else {
            lambda_like(seen, index)
        }
    })
}

#[test]
fn next_is_retried_when_the_kept_alive_connection_was_dropped() {
    let server = dropped_once_on_the_second_request();
    let client = server.client();
    client.post_response("warm-up", b"{}").expect("response");
    let inv = client
        .next_invocation()
        .expect("next succeeds on a new connection");
    assert_eq!(inv.request_id, "id-2");
    let seen = server.seen();
    assert_eq!(seen.len(), 3);
    assert_eq!((seen[1].connection, seen[2].connection), (0, 1));
    assert_eq!(server.accepted(), 2);
}

#[test]
fn a_post_is_retried_when_the_kept_alive_connection_was_dropped() {
    let server = dropped_once_on_the_second_request();
    let client = server.client();
    let inv = client.next_invocation().expect("an invocation");
    client
        .post_error(&inv.request_id, b"{\"errorType\":\"E\"}", "E", Some("{}"))
        .expect("error posted on a new connection");
    let seen = server.seen();
    assert_eq!(seen.len(), 3);
    assert_eq!(seen[2].connection, 1);
    assert_eq!(seen[2].path, seen[1].path);
    assert_eq!(seen[2].body, b"{\"errorType\":\"E\"}");
    assert_eq!(seen[2].header("lambda-runtime-function-error-type"), Some("E"));
    assert_eq!(
        seen[2].header("lambda-runtime-function-xray-error-cause"),
        Some("{}")
    );
}

/// Both pooled connections were closed by the server while idle: the first request takes one,
/// meets the close, and its one retry must go out on a new connection, not on the other stale one.
#[test]
fn the_retry_opens_a_new_connection_when_every_pooled_one_is_stale() {
    let server = Server::start(|seen, index| {
        if seen.method == "GET" {
            // Held long enough for the init error to need a second connection.
            thread::sleep(std::time::Duration::from_millis(200));
        }
        match lambda_like(seen, index) {
            Answer::Raw(bytes) if index < 2 => Answer::RawThenClose(bytes),
            other => other,
        }
    });
    let client = Arc::new(server.client());
    let next = {
        let client = client.clone();
        thread::spawn(move || client.next_invocation())
    };
    thread::sleep(std::time::Duration::from_millis(50));
    client.post_init_error(b"{}", "E").expect("init error");
    next.join().expect("join").expect("an invocation");
    assert_eq!(
        server.accepted(),
        2,
        "two connections, both now closed by the server"
    );
    // Let both FINs arrive, as they would while a handler runs.
    thread::sleep(std::time::Duration::from_millis(50));
    client
        .post_response("id-0", b"{}")
        .expect("response on a new connection after one retry");
    assert_eq!(server.accepted(), 3);
    let seen = server.seen();
    assert_eq!(seen.len(), 3);
    assert_eq!(seen[2].connection, 2);
}

#[test]
fn a_server_that_never_answers_fails_after_one_retry() {
    let server = Server::start(|_, _| Answer::Close);
    let err = server.client().post_response("id", b"{}").unwrap_err();
    assert_eq!(err.code, ErrorCode::Unreachable, "{err}");
    assert_eq!(server.seen().len(), 2, "one attempt and one retry, no more");
    let err = server.client().next_invocation().unwrap_err();
    assert_eq!(err.code, ErrorCode::Unreachable, "{err}");
}

#[test]
fn non_2xx_answers_carry_status_and_body_and_keep_the_connection() {
    let answers: [(&str, &str); 4] = [
        (
            "413 Request Entity Too Large",
            r#"{"errorMessage":"Exceeded maximum allowed payload size (6291556 bytes).","errorType":"RequestEntityTooLarge"}"#,
        ),
        (
            "400 Bad Request",
            r#"{"errorMessage":"Invalid request ID","errorType":"InvalidRequestID"}"#,
        ),
        (
            "403 Forbidden",
            r#"{"errorMessage":"Invalid state transition","errorType":"InvalidStateTransition"}"#,
        ),
        (
            "500 Internal Server Error",
            r#"{"errorMessage":"Container error","errorType":"ContainerError"}"#,
        ),
    ];
    let server = Server::start(move |_, index| {
        let (status, body) = answers[index % 4];
        Answer::Raw(sized(
            status,
            &[("Content-Type", "application/json")],
            body.as_bytes(),
        ))
    });
    let client = server.client();
    let results = [
        client.post_response("id", b"{}").unwrap_err(),
        client.post_error("id", b"{}", "E", None).unwrap_err(),
        client.post_init_error(b"{}", "E").unwrap_err(),
        client.next_invocation().unwrap_err(),
    ];
    for (err, (status, body)) in results.iter().zip(answers) {
        assert_eq!(err.code, ErrorCode::Status);
        assert_eq!(err.status.map(|s| s.to_string()), Some(status[..3].to_string()));
        assert_eq!(err.body.as_deref(), Some(body));
        assert!(err.message.contains(&status[..3]), "{}", err.message);
        assert!(err.message.contains(body), "{}", err.message);
    }
    assert_eq!(
        server.accepted(),
        1,
        "error bodies are drained, the connection reused"
    );
}

#[test]
fn what_the_official_clients_serve_is_served() {
    let answers = tolerated_answers();
    let count = answers.len();
    let server = Server::start(move |seen, index| {
        if seen.method == "POST" {
            Answer::Raw(accepted_202())
        } else {
            Answer::Raw(answers[(index / 2) % count].answer.clone())
        }
    });
    let client = server.client();
    for want in tolerated_answers() {
        let inv = client.next_invocation().expect("served");
        assert_tolerated(&inv, &want);
        client.post_response(&inv.request_id, b"{}").expect("posted");
    }
    let paths: Vec<String> = server.seen().into_iter().map(|s| s.path).collect();
    assert_eq!(
        paths[1],
        "/2018-06-01/runtime/invocation/id-%C3%A9t%C3%A9/response"
    );
    assert_eq!(
        paths[3],
        "/2018-06-01/runtime/invocation/id-%EF%BF%BD%EF%BF%BD/response"
    );
    assert_eq!(paths[5], "/2018-06-01/runtime/invocation/first/response");
}

#[test]
fn an_event_without_a_request_id_is_refused_and_the_connection_kept() {
    let server = Server::start(|seen, index| match (seen.method.as_str(), index) {
        ("GET", 0) => Answer::Raw(raw_event(&[b"Lambda-Runtime-Aws-Request-Id: "], b"{}")),
        _ => lambda_like(seen, index),
    });
    let client = server.client();
    let err = client.next_invocation().unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidInvocation);
    assert!(
        err.message.contains("Lambda-Runtime-Aws-Request-Id"),
        "{}",
        err.message
    );
    client.next_invocation().expect("the next invocation is fine");
    assert_eq!(server.accepted(), 1);
}

#[test]
fn an_unreachable_endpoint_fails_fast_with_its_code() {
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("addr").port()
    };
    let client = RuntimeApiClient::new(&format!("127.0.0.1:{port}")).expect("valid endpoint");
    for err in [
        client.next_invocation().unwrap_err(),
        client.post_response("id", b"{}").unwrap_err(),
        client.post_init_error(b"{}", "E").unwrap_err(),
    ] {
        assert_eq!(err.code, ErrorCode::Unreachable, "{err}");
        assert!(err.message.contains("unreachable"), "{}", err.message);
    }
}

#[test]
fn next_waits_as_long_as_the_api_holds_it() {
    // No timeout: the Runtime API answers GET next only when an event exists.
    let server = Server::start(|seen, index| {
        if seen.method == "GET" {
            thread::sleep(std::time::Duration::from_millis(1500));
        }
        lambda_like(seen, index)
    });
    let started = std::time::Instant::now();
    let inv = server.client().next_invocation().expect("an invocation, late");
    assert_eq!(inv.request_id, "id-0");
    assert!(started.elapsed() >= std::time::Duration::from_millis(1500));
}

#[test]
fn a_reset_inside_the_answer_head_is_reported_as_a_broken_answer_and_not_retried() {
    let part = b"HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: cut\r\n".to_vec();
    let server = Server::first_then_lambda_like(Answer::RawThenReset(part.clone()));
    let err = server.client().next_invocation().unwrap_err();
    assert_eq!(err.code, ErrorCode::Protocol, "{err}");
    assert!(
        err.message.contains(&format!("reset after {} bytes", part.len())),
        "{}",
        err.message
    );
    assert_eq!(
        server.seen().len(),
        1,
        "not sent again: the API may have handed the event out"
    );
}
