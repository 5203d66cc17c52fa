//! One invocation as GET `/runtime/invocation/next` delivers it, built from the response headers
//! (matched in any case: not every Runtime API in the wild spells them as AWS does).
//!
//! Tolerance is the official clients' (both read the headers through aws-lambda-cpp; measured
//! against 3.3.0 and 4.0.2, docs/reliability.md): a header's value is its bytes decoded as
//! UTF-8, each invalid sequence becoming U+FFFD; a header sent twice counts with its first
//! value; a missing function ARN is an empty string; the deadline is read as C's `strtoul`
//! reads it (the leading digits; none, or no header, is 0), so what the function's
//! `getRemainingTimeInMillis()` says is computed from what was sent. Only an invocation without
//! a request id cannot be served: no POST could name it.

use crate::error::RuntimeApiError;

pub const REQUEST_ID: &str = "lambda-runtime-aws-request-id";
pub const DEADLINE_MS: &str = "lambda-runtime-deadline-ms";
pub const FUNCTION_ARN: &str = "lambda-runtime-invoked-function-arn";
pub const TRACE_ID: &str = "lambda-runtime-trace-id";
pub const CLIENT_CONTEXT: &str = "lambda-runtime-client-context";
pub const COGNITO_IDENTITY: &str = "lambda-runtime-cognito-identity";
pub const TENANT_ID: &str = "lambda-runtime-aws-tenant-id";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    pub request_id: String,
    /// Milliseconds since the epoch, as sent: not necessarily plausible (see the module doc).
    pub deadline_ms: i64,
    pub invoked_function_arn: String,
    pub trace_id: Option<String>,
    pub client_context: Option<String>,
    pub cognito_identity: Option<String>,
    pub tenant_id: Option<String>,
    /// The event, as the UTF-8 text the JS side hands to `JSON.parse`.
    pub body: String,
}

impl Invocation {
    /// Builds an invocation from header pairs (names in any case, values as received) and the
    /// body bytes.
    pub fn from_parts<'a>(
        headers: impl IntoIterator<Item = (&'a str, &'a [u8])>,
        body: Vec<u8>,
    ) -> Result<Invocation, RuntimeApiError> {
        let mut request_id = None;
        let mut deadline = None;
        let mut arn = None;
        let mut trace_id = None;
        let mut client_context = None;
        let mut cognito_identity = None;
        let mut tenant_id = None;
        for (name, value) in headers {
            let slot = if name.eq_ignore_ascii_case(REQUEST_ID) {
                &mut request_id
            } else if name.eq_ignore_ascii_case(DEADLINE_MS) {
                // A number: read from the bytes, no text kept.
                deadline = deadline.or_else(|| Some(deadline_from(value)));
                continue;
            } else if name.eq_ignore_ascii_case(FUNCTION_ARN) {
                &mut arn
            } else if name.eq_ignore_ascii_case(TRACE_ID) {
                &mut trace_id
            } else if name.eq_ignore_ascii_case(CLIENT_CONTEXT) {
                &mut client_context
            } else if name.eq_ignore_ascii_case(COGNITO_IDENTITY) {
                &mut cognito_identity
            } else if name.eq_ignore_ascii_case(TENANT_ID) {
                &mut tenant_id
            } else {
                continue;
            };
            // The first of a repeated header counts, as in the official clients.
            if slot.is_none() {
                *slot = Some(header_text(value));
            }
        }

        let Some(request_id) = request_id.filter(|id: &String| !id.is_empty()) else {
            return Err(RuntimeApiError::invalid_invocation(
                "the Runtime API answered GET next without a Lambda-Runtime-Aws-Request-Id header \
                 (or with an empty one): no response or error can be posted for this event",
            ));
        };
        let body = match String::from_utf8(body) {
            Ok(text) => text,
            // Not UTF-8: keep what can be kept; JSON.parse will report the event as malformed.
            Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
        };
        Ok(Invocation {
            request_id,
            deadline_ms: deadline.unwrap_or(0),
            invoked_function_arn: arn.unwrap_or_default(),
            trace_id,
            client_context,
            cognito_identity,
            tenant_id,
            body,
        })
    }
}

/// A header value's bytes as text: UTF-8, each invalid sequence replaced by U+FFFD (as V8 decodes
/// what the official clients hand it). ASCII and valid UTF-8, nearly every value, cost one copy.
fn header_text(value: &[u8]) -> String {
    match std::str::from_utf8(value) {
        Ok(text) => text.to_owned(),
        Err(_) => String::from_utf8_lossy(value).into_owned(),
    }
}

/// The deadline as the official clients read it, with C's `strtoul`: leading white space, an
/// optional sign, then the decimal digits up to the first other character (`"1700000000000.5"`
/// is 1700000000000); no digits is 0. A minus sign negates, as `strtoul`'s result does once
/// the clients store it as signed milliseconds. Out of range saturates.
fn deadline_from(raw: &[u8]) -> i64 {
    let text = raw.trim_ascii_start();
    let (negative, digits) = match text.first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let mut ms: i64 = 0;
    for &b in digits.iter().take_while(|b| b.is_ascii_digit()) {
        ms = ms.saturating_mul(10).saturating_add(i64::from(b - b'0'));
    }
    if negative {
        -ms
    } else {
        ms
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    const ARN: &str = "arn:aws:lambda:us-east-1:123456789012:function:f";

    /// Builds from text pairs (most tests) or raw byte values.
    fn build(headers: &[(&str, &str)], body: &[u8]) -> Result<Invocation, RuntimeApiError> {
        Invocation::from_parts(headers.iter().map(|(n, v)| (*n, v.as_bytes())), body.to_vec())
    }

    fn with_deadline(raw: &str) -> Invocation {
        build(
            &[(REQUEST_ID, "id"), (DEADLINE_MS, raw), (FUNCTION_ARN, ARN)],
            b"",
        )
        .expect("served")
    }

    #[test]
    fn reads_every_header_in_any_case() {
        let inv = build(
            &[
                ("LAMBDA-RUNTIME-AWS-REQUEST-ID", "id-1"),
                ("lambda-runtime-deadline-ms", "1700000000000"),
                ("Lambda-Runtime-Invoked-Function-Arn", ARN),
                ("Lambda-Runtime-Trace-Id", "Root=1-abc"),
                ("Lambda-Runtime-Client-Context", "{\"a\":1}"),
                ("Lambda-Runtime-Cognito-Identity", "{\"b\":2}"),
                ("Lambda-Runtime-Aws-Tenant-Id", "tenant-7"),
                ("X-Other", "ignored"),
            ],
            b"{\"k\":\"v\"}",
        )
        .unwrap();
        assert_eq!(inv.request_id, "id-1");
        assert_eq!(inv.deadline_ms, 1_700_000_000_000);
        assert_eq!(inv.invoked_function_arn, ARN);
        assert_eq!(inv.trace_id.as_deref(), Some("Root=1-abc"));
        assert_eq!(inv.client_context.as_deref(), Some("{\"a\":1}"));
        assert_eq!(inv.cognito_identity.as_deref(), Some("{\"b\":2}"));
        assert_eq!(inv.tenant_id.as_deref(), Some("tenant-7"));
        assert_eq!(inv.body, "{\"k\":\"v\"}");
    }

    #[test]
    fn optional_headers_may_be_absent_and_body_empty() {
        let inv = with_deadline("1700000000000");
        assert_eq!(inv.trace_id, None);
        assert_eq!(inv.tenant_id, None);
        assert_eq!(inv.body, "");
    }

    #[test]
    fn header_values_are_utf8_and_invalid_bytes_become_replacement_characters() {
        let inv = Invocation::from_parts(
            [
                (REQUEST_ID, "id-\u{e9}t\u{e9}".as_bytes()),
                (DEADLINE_MS, b"1700000000000".as_slice()),
                (FUNCTION_ARN, ARN.as_bytes()),
                (CLIENT_CONTEXT, "{\"n\":\"J\u{fc}rgen\"}".as_bytes()),
                (COGNITO_IDENTITY, "{\"id\":\"\u{65e5}\"}".as_bytes()),
                (TRACE_ID, b"Root=\xff\xfe".as_slice()),
            ],
            Vec::new(),
        )
        .expect("served");
        assert_eq!(inv.request_id, "id-\u{e9}t\u{e9}");
        assert_eq!(inv.client_context.as_deref(), Some("{\"n\":\"J\u{fc}rgen\"}"));
        assert_eq!(inv.cognito_identity.as_deref(), Some("{\"id\":\"\u{65e5}\"}"));
        // 3.3.0 and 4.0.2 both answer for `id-\xff\xfe` under `id-\u{fffd}\u{fffd}`.
        assert_eq!(inv.trace_id.as_deref(), Some("Root=\u{fffd}\u{fffd}"));
    }

    #[test]
    fn a_repeated_header_counts_with_its_first_value() {
        let inv = build(
            &[
                (REQUEST_ID, "first"),
                (DEADLINE_MS, "1700000000000"),
                ("Lambda-Runtime-Aws-Request-Id", "second"),
                (DEADLINE_MS, "1800000000000"),
            ],
            b"",
        )
        .unwrap();
        assert_eq!(inv.request_id, "first");
        assert_eq!(inv.deadline_ms, 1_700_000_000_000);
    }

    #[test]
    fn a_missing_or_empty_request_id_is_the_one_refusal() {
        for headers in [
            &[(DEADLINE_MS, "1700000000000"), (FUNCTION_ARN, ARN)][..],
            &[(REQUEST_ID, ""), (DEADLINE_MS, "1700000000000")][..],
        ] {
            let err = build(headers, b"").unwrap_err();
            assert_eq!(err.code, ErrorCode::InvalidInvocation);
            assert!(
                err.message.contains("Lambda-Runtime-Aws-Request-Id"),
                "{}",
                err.message
            );
        }
    }

    #[test]
    fn a_missing_deadline_or_arn_is_served_as_the_official_clients_serve_it() {
        let inv = build(&[(REQUEST_ID, "id")], b"{}").expect("served");
        assert_eq!(inv.deadline_ms, 0);
        assert_eq!(inv.invoked_function_arn, "");
    }

    #[test]
    fn deadlines_are_read_as_strtoul_reads_them() {
        for (raw, ms) in [
            ("600000", 600_000), // cargo-lambda's emulator
            ("1700000000", 1_700_000_000),
            ("1700000000000.75", 1_700_000_000_000),
            ("  42", 42),
            ("+7", 7),
            ("-5", -5),
            ("soon", 0),
            ("", 0),
            ("99999999999999999999999", i64::MAX),
        ] {
            assert_eq!(with_deadline(raw).deadline_ms, ms, "{raw:?}");
        }
    }

    #[test]
    fn a_body_that_is_not_utf8_is_kept_lossily() {
        let inv = build(
            &[
                (REQUEST_ID, "id"),
                (DEADLINE_MS, "1700000000000"),
                (FUNCTION_ARN, ARN),
            ],
            &[b'"', 0xff, b'"'],
        )
        .unwrap();
        assert_eq!(inv.body, "\"\u{fffd}\"");
    }
}
