//! The error bodies Lambda itself produces (as opposed to the ones the function's runtime posts),
//! byte for byte where Lambda's format is known. One function per error so callers and tests
//! name the case, not the JSON.

/// A JSON string literal (escaped as serde_json escapes it).
fn quoted(s: &str) -> String {
    serde_json::Value::from(s).to_string()
}

/// A function error body, byte for byte as Lambda (and RIE) write it: `errorType` first.
/// (serde_json's `json!` would sort the keys.)
pub fn function_error(error_type: &str, message: &str) -> String {
    format!(
        r#"{{"errorType":{},"errorMessage":{}}}"#,
        quoted(error_type),
        quoted(message)
    )
}

/// The invocation ran past the function timeout. Lambda's message names the request and the
/// configured timeout with two decimals (`Task timed out after 3.00 seconds`).
pub fn timed_out(request_id: &str, timeout_secs: f64) -> String {
    function_error(
        "Sandbox.Timedout",
        &format!("RequestId: {request_id} Error: Task timed out after {timeout_secs:.2} seconds"),
    )
}

/// The runtime process ended while it held the invocation (or during init).
pub fn runtime_exited(request_id: &str, how: &str) -> String {
    function_error(
        "Runtime.ExitError",
        &format!("RequestId: {request_id} Error: Runtime exited with error: {how}"),
    )
}

/// The runtime's response was over the size limit: what the invoker gets.
pub fn response_too_large(limit: usize) -> String {
    function_error(
        "Function.ResponseSizeTooLarge",
        &format!("Response payload size exceeded maximum allowed payload size ({limit} bytes)."),
    )
}

/// The emulator is shutting down before the invocation finished.
pub fn shutting_down(request_id: &str) -> String {
    function_error(
        "Runtime.Unavailable",
        &format!("RequestId: {request_id} Error: the local emulator is shutting down"),
    )
}

/// Lambda's service-side errors (bad invoke requests) have a different shape from function
/// errors: `{"Type": "User", "message": ...}` with the exception name in `x-amzn-ErrorType`.
pub fn service_error(message: &str) -> String {
    format!(r#"{{"Type":"User","message":{}}}"#, quoted(message))
}

/// Runtime API error bodies (what the runtime receives on a bad call).
pub fn runtime_api_error(error_type: &str, message: &str) -> String {
    format!(
        r#"{{"errorMessage":{},"errorType":{}}}"#,
        quoted(message),
        quoted(error_type)
    )
}

/// How a process ended, in the words Lambda uses (Go's `ProcessState.String()`).
pub fn describe_exit(status: &std::process::ExitStatus) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(sig) = status.signal() {
            return format!("signal: {}", signal_name(sig));
        }
    }
    match status.code() {
        Some(c) => format!("exit status {c}"),
        None => "exit status unknown".into(),
    }
}

#[cfg(unix)]
fn signal_name(sig: i32) -> String {
    match sig {
        1 => "hangup".into(),
        2 => "interrupt".into(),
        6 => "aborted".into(),
        9 => "killed".into(),
        11 => "segmentation fault".into(),
        15 => "terminated".into(),
        n => format!("signal {n}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_bodies_keep_lambdas_key_order_and_escape_their_text() {
        assert_eq!(
            runtime_exited("id-1", "exit status 5"),
            r#"{"errorType":"Runtime.ExitError","errorMessage":"RequestId: id-1 Error: Runtime exited with error: exit status 5"}"#
        );
        assert_eq!(
            service_error("a \"q\"\n"),
            r#"{"Type":"User","message":"a \"q\"\n"}"#
        );
    }

    #[test]
    fn timeout_message_has_two_decimals_and_the_request_id() {
        let v: serde_json::Value = serde_json::from_str(&timed_out("abc", 1.5)).unwrap();
        assert_eq!(v["errorType"], "Sandbox.Timedout");
        assert_eq!(
            v["errorMessage"],
            "RequestId: abc Error: Task timed out after 1.50 seconds"
        );
    }

    #[cfg(unix)]
    #[test]
    fn exit_statuses_read_like_lambda() {
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(
            describe_exit(&std::process::ExitStatus::from_raw(1 << 8)),
            "exit status 1"
        );
        assert_eq!(
            describe_exit(&std::process::ExitStatus::from_raw(9)),
            "signal: killed"
        );
    }
}
