//! Parsing of `AWS_LAMBDA_RUNTIME_API`: `host:port`, optionally with a path prefix
//! (`127.0.0.1:9001/.rt`), optionally with an `http://` scheme as some emulators print it.

use crate::error::{ErrorCode, RuntimeApiError};

/// The Runtime API endpoint a client talks to: the one given, else `AWS_LAMBDA_RUNTIME_API`.
pub fn given_or_env(given: Option<String>) -> Result<String, RuntimeApiError> {
    given
        .or_else(|| std::env::var("AWS_LAMBDA_RUNTIME_API").ok())
        .ok_or_else(|| {
            RuntimeApiError::new(
                ErrorCode::InvalidEndpoint,
                "AWS_LAMBDA_RUNTIME_API is not set and no Runtime API endpoint was given",
            )
        })
}

/// The base URL every Runtime API path is appended to, e.g. `http://127.0.0.1:9001/.rt`.
pub fn base_url(endpoint: &str) -> Result<String, RuntimeApiError> {
    let invalid = |why: &str| {
        RuntimeApiError::new(
            ErrorCode::InvalidEndpoint,
            format!(
                "invalid Runtime API endpoint '{endpoint}': {why} (expected host:port, e.g. 127.0.0.1:9001)"
            ),
        )
    };
    let trimmed = endpoint.trim();
    if trimmed.is_empty() {
        return Err(invalid("it is empty"));
    }
    if trimmed.starts_with("https://") {
        return Err(invalid("https is not supported by the Runtime API"));
    }
    let rest = trimmed.strip_prefix("http://").unwrap_or(trimmed);
    let (authority, prefix) = match rest.find('/') {
        Some(i) => (&rest[..i], rest[i..].trim_end_matches('/')),
        None => (rest, ""),
    };
    let (host, port) = match authority.rsplit_once(':') {
        Some(parts) => parts,
        None => return Err(invalid("the port is missing")),
    };
    if host.is_empty() {
        return Err(invalid("the host is missing"));
    }
    if host.contains(|c: char| c.is_whitespace() || c == '@' || c == '?' || c == '#') {
        return Err(invalid("the host is not valid"));
    }
    match port.parse::<u16>() {
        Ok(p) if p > 0 => {}
        _ => return Err(invalid("the port is not a number between 1 and 65535")),
    }
    Ok(format!("http://{host}:{port}{prefix}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_and_port() {
        assert_eq!(base_url("127.0.0.1:9001").unwrap(), "http://127.0.0.1:9001");
    }

    #[test]
    fn path_prefix_is_kept_without_trailing_slash() {
        assert_eq!(
            base_url("127.0.0.1:9001/.rt/").unwrap(),
            "http://127.0.0.1:9001/.rt"
        );
    }

    #[test]
    fn http_scheme_is_accepted() {
        assert_eq!(base_url("http://localhost:80").unwrap(), "http://localhost:80");
    }

    #[test]
    fn malformed_endpoints_are_refused_with_a_reason() {
        for (bad, why) in [
            ("", "empty"),
            ("localhost", "port is missing"),
            (":9001", "host is missing"),
            ("host:notaport", "port is not a number"),
            ("host:0", "port is not a number"),
            ("host:70000", "port is not a number"),
            ("https://host:443", "https"),
        ] {
            let err = base_url(bad).unwrap_err();
            assert_eq!(err.code, ErrorCode::InvalidEndpoint);
            assert!(err.message.contains(why), "{bad}: {}", err.message);
        }
    }
}
