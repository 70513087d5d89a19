//! Upstream providers, one module each, the shared HTTP client, and the
//! classification of upstream failures.

pub mod cloudcode;
pub mod error;
pub mod http;
pub mod oauth;
pub mod provider;
pub mod stream;

pub use error::{AccountChange, Next, Scope, UpstreamError};

/// Room to reserve for an upstream body encoded from a client's body of
/// `client_len` bytes (bodies are written by `uplink_protocol::json`, whose
/// string escaping is faster than serde_json's). A buffer that grows copies
/// what it holds: a 100 KB body grown from 16 KB was copied three times over.
pub fn body_capacity(client_len: usize) -> usize {
    (client_len + client_len / 4 + 1024).max(MIN_BODY_CAPACITY)
}

const MIN_BODY_CAPACITY: usize = 16 * 1024;

/// IR events from an upstream answer, in order. Ends with `Finish` or `Error`.
pub type EventStream =
    std::pin::Pin<Box<dyn futures_util::Stream<Item = uplink_protocol::ir::StreamEvent> + Send>>;
