//! One invocation as GET `/runtime/invocation/next` delivers it, built from the response headers
//! (matched in any case: not every Runtime API in the wild spells them as AWS does).

use crate::error::RuntimeApiError;

pub const REQUEST_ID: &str = "lambda-runtime-aws-request-id";
pub const DEADLINE_MS: &str = "lambda-runtime-deadline-ms";
pub const FUNCTION_ARN: &str = "lambda-runtime-invoked-function-arn";
pub const TRACE_ID: &str = "lambda-runtime-trace-id";
pub const CLIENT_CONTEXT: &str = "lambda-runtime-client-context";
pub const COGNITO_IDENTITY: &str = "lambda-runtime-cognito-identity";
pub const TENANT_ID: &str = "lambda-runtime-aws-tenant-id";

/// Deadlines outside this window (2001-09-09 .. 2286-11-20, in epoch milliseconds) are not
/// plausible epoch times: most likely seconds, or a relative duration, sent by a broken emulator.
const PLAUSIBLE_DEADLINE_MS: std::ops::RangeInclusive<u64> = 1_000_000_000_000..=9_999_999_999_999;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    pub request_id: String,
    pub deadline_ms: u64,
    pub invoked_function_arn: String,
    pub trace_id: Option<String>,
    pub client_context: Option<String>,
    pub cognito_identity: Option<String>,
    pub tenant_id: Option<String>,
    /// The event, as the UTF-8 text the JS side hands to `JSON.parse`.
    pub body: String,
}

impl Invocation {
    /// Builds an invocation from header pairs (names in any case) and the body bytes.
    pub fn from_parts<'a>(
        headers: impl IntoIterator<Item = (&'a str, &'a str)>,
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
            let slot = match name.to_ascii_lowercase().as_str() {
                REQUEST_ID => &mut request_id,
                DEADLINE_MS => &mut deadline,
                FUNCTION_ARN => &mut arn,
                TRACE_ID => &mut trace_id,
                CLIENT_CONTEXT => &mut client_context,
                COGNITO_IDENTITY => &mut cognito_identity,
                TENANT_ID => &mut tenant_id,
                _ => continue,
            };
            *slot = Some(value.to_string());
        }

        let request_id = match request_id.filter(|id: &String| !id.is_empty()) {
            Some(id) => id,
            None => {
                return Err(RuntimeApiError::invalid_invocation(
                    None,
                    "the next invocation has no Lambda-Runtime-Aws-Request-Id header",
                ))
            }
        };
        let bad = |message: String| RuntimeApiError::invalid_invocation(Some(request_id.clone()), message);
        let deadline_ms = match deadline {
            None => return Err(bad(format!("invocation {request_id} has no Lambda-Runtime-Deadline-Ms header"))),
            Some(raw) => match raw.trim().parse::<u64>() {
                Ok(ms) if PLAUSIBLE_DEADLINE_MS.contains(&ms) => ms,
                _ => {
                    return Err(bad(format!(
                        "invocation {request_id} has Lambda-Runtime-Deadline-Ms '{raw}', which is not an epoch time in milliseconds"
                    )))
                }
            },
        };
        let invoked_function_arn = match arn.filter(|a| !a.is_empty()) {
            Some(a) => a,
            None => {
                return Err(bad(format!(
                    "invocation {request_id} has no Lambda-Runtime-Invoked-Function-Arn header"
                )))
            }
        };
        let body = match String::from_utf8(body) {
            Ok(text) => text,
            // Not UTF-8: keep what can be kept; JSON.parse will report the event as malformed.
            Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
        };
        Ok(Invocation {
            request_id,
            deadline_ms,
            invoked_function_arn,
            trace_id,
            client_context,
            cognito_identity,
            tenant_id,
            body,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    const ARN: &str = "arn:aws:lambda:us-east-1:123456789012:function:f";

    #[test]
    fn reads_every_header_in_any_case() {
        let inv = Invocation::from_parts(
            [
                ("LAMBDA-RUNTIME-AWS-REQUEST-ID", "id-1"),
                ("lambda-runtime-deadline-ms", "1700000000000"),
                ("Lambda-Runtime-Invoked-Function-Arn", ARN),
                ("Lambda-Runtime-Trace-Id", "Root=1-abc"),
                ("Lambda-Runtime-Client-Context", "{\"a\":1}"),
                ("Lambda-Runtime-Cognito-Identity", "{\"b\":2}"),
                ("Lambda-Runtime-Aws-Tenant-Id", "tenant-7"),
                ("X-Other", "ignored"),
            ],
            b"{\"k\":\"v\"}".to_vec(),
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
        let inv = Invocation::from_parts(
            [
                (REQUEST_ID, "id"),
                (DEADLINE_MS, "1700000000000"),
                (FUNCTION_ARN, ARN),
            ],
            Vec::new(),
        )
        .unwrap();
        assert_eq!(inv.trace_id, None);
        assert_eq!(inv.tenant_id, None);
        assert_eq!(inv.body, "");
    }

    #[test]
    fn missing_request_id_is_an_error_without_id() {
        let err = Invocation::from_parts([(DEADLINE_MS, "1700000000000"), (FUNCTION_ARN, ARN)], Vec::new())
            .unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidInvocation);
        assert_eq!(err.request_id, None);
        assert!(err.message.contains("Request-Id"));
    }

    #[test]
    fn missing_deadline_or_arn_is_an_error_naming_the_invocation() {
        let err = Invocation::from_parts([(REQUEST_ID, "id"), (FUNCTION_ARN, ARN)], Vec::new()).unwrap_err();
        assert_eq!(err.request_id.as_deref(), Some("id"));
        assert!(err.message.contains("Deadline"));
        let err = Invocation::from_parts([(REQUEST_ID, "id"), (DEADLINE_MS, "1700000000000")], Vec::new())
            .unwrap_err();
        assert!(err.message.contains("Function-Arn"));
    }

    #[test]
    fn implausible_deadlines_are_reported() {
        for raw in ["1700000000", "-5", "soon", "3000", "99999999999999"] {
            let err = Invocation::from_parts(
                [(REQUEST_ID, "id"), (DEADLINE_MS, raw), (FUNCTION_ARN, ARN)],
                Vec::new(),
            )
            .unwrap_err();
            assert_eq!(err.code, ErrorCode::InvalidInvocation, "{raw}");
            assert!(err.message.contains(raw));
        }
    }

    #[test]
    fn a_body_that_is_not_utf8_is_kept_lossily() {
        let inv = Invocation::from_parts(
            [
                (REQUEST_ID, "id"),
                (DEADLINE_MS, "1700000000000"),
                (FUNCTION_ARN, ARN),
            ],
            vec![b'"', 0xff, b'"'],
        )
        .unwrap();
        assert_eq!(inv.body, "\"\u{fffd}\"");
    }
}
