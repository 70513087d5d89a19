//! Upstream providers, one module each, and the one shared HTTP client.

pub mod http;
