//! The raw Rust loop, with no JavaScript per invocation: the transport's physical limit.
//! Here rather than in the server crate because it runs the product's client, and a test
//! binary that links the product crate needs Node's N-API symbols (the server's tests run
//! without Node).

/// The raw Rust loop: the physical limit of the transport. It runs lambda-rapid's own
/// Runtime API client (same connection handling, same parsing) and echoes every event back,
/// with no JavaScript at all.
pub fn raw_echo_loop(endpoint: &str) -> Result<(), lambda_rapid::error::RuntimeApiError> {
    let client = lambda_rapid::client::RuntimeApiClient::new(endpoint)?;
    let mut inv = client.next_invocation()?;
    loop {
        client.post_response(&inv.request_id, inv.body.as_bytes())?;
        inv = client.next_invocation()?;
    }
}
