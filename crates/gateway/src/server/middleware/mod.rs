//! HTTP-wide concerns only: request ids and client authentication. The proxy
//! pipeline itself is plain async code, not middleware.

pub mod auth;
pub mod request_id;
