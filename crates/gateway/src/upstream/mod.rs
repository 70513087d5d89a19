//! Upstream providers, one module each, the shared HTTP client, and the
//! classification of upstream failures.

pub mod cloudcode;
pub mod error;
pub mod http;
pub mod oauth;
pub mod provider;
pub mod stream;

pub use error::{AccountChange, Next, Scope, UpstreamError};

/// Room for a request body before its buffer has to grow (bodies are written
/// by `uplink_protocol::json`, whose string escaping is faster than
/// serde_json's).
pub const BODY_CAPACITY: usize = 16 * 1024;

/// IR events from an upstream answer, in order. Ends with `Finish` or `Error`.
pub type EventStream =
    std::pin::Pin<Box<dyn futures_util::Stream<Item = uplink_protocol::ir::StreamEvent> + Send>>;
