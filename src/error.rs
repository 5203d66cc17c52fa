//! The one error type of the crate: a stable `code` that JS branches on, a readable message, and
//! the context a caller needs to act (HTTP status and body).

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// `AWS_LAMBDA_RUNTIME_API` (or the endpoint given) is missing or not `host:port[/prefix]`.
    InvalidEndpoint,
    /// No TCP connection could be made, or it broke before an HTTP answer arrived.
    Unreachable,
    /// The Runtime API answered with a status that is not 2xx.
    Status,
    /// The Runtime API answered GET next with an event we cannot serve: one without a request
    /// id, which no POST can name (src/invocation.rs serves every other shape, as the official
    /// clients do).
    InvalidInvocation,
    /// Anything else at the HTTP layer (bad response framing, I/O in the middle of a body).
    Protocol,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidEndpoint => "ERR_RUNTIME_API_ENDPOINT",
            ErrorCode::Unreachable => "ERR_RUNTIME_API_UNREACHABLE",
            ErrorCode::Status => "ERR_RUNTIME_API_STATUS",
            ErrorCode::InvalidInvocation => "ERR_RUNTIME_API_INVALID_INVOCATION",
            ErrorCode::Protocol => "ERR_RUNTIME_API_PROTOCOL",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuntimeApiError {
    pub code: ErrorCode,
    pub message: String,
    /// HTTP status, for `ErrorCode::Status`.
    pub status: Option<u16>,
    /// The Runtime API's error body, for `ErrorCode::Status`.
    pub body: Option<String>,
}

impl RuntimeApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        RuntimeApiError {
            code,
            message: message.into(),
            status: None,
            body: None,
        }
    }

    pub fn status(status: u16, what: &str, body: String) -> Self {
        let mut message = format!("Runtime API answered {what} with HTTP {status}");
        let trimmed = body.trim();
        if !trimmed.is_empty() {
            message.push_str(": ");
            message.push_str(trimmed);
        }
        RuntimeApiError {
            status: Some(status),
            body: Some(body),
            ..RuntimeApiError::new(ErrorCode::Status, message)
        }
    }

    pub fn invalid_invocation(message: impl Into<String>) -> Self {
        RuntimeApiError::new(ErrorCode::InvalidInvocation, message)
    }
}

impl fmt::Display for RuntimeApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.message)
    }
}

impl std::error::Error for RuntimeApiError {}
