//! What an invoke's caller receives: the parts of the function's answer (`Reply`), from the
//! Runtime API (runtime_api.rs) or the supervisor to wherever the caller waits (reply.rs).

/// What the caller of an invoke receives, in order. A buffered answer is one `Complete`; a
/// streamed one is `StreamStart`, any number of `StreamChunk`s, and `StreamEnd`.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    Complete {
        body: Vec<u8>,
        content_type: String,
        /// `Some("Unhandled")` for an invocation error (Lambda's `X-Amz-Function-Error`).
        function_error: Option<String>,
    },
    StreamStart {
        content_type: String,
    },
    StreamChunk(Vec<u8>),
    StreamEnd {
        /// Set when the function failed mid-stream: (error type, error body JSON).
        error: Option<(String, String)>,
    },
}
