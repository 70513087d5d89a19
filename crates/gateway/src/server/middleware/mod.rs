//! HTTP-wide concerns only: request ids, client authentication and the proxy's
//! stopped state. The proxy pipeline itself is plain async code, not middleware.

pub mod auth;
pub mod request_id;
pub mod stopped;
