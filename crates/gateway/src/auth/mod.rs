//! Credentials: the client API key that callers present to the gateway, and
//! signing in to add upstream accounts (upstream credentials join here with the
//! account pool).

mod client_key;
pub mod login;

pub use client_key::{ClientAuth, KeySource, PresentedKey, generate_api_key, resolve_api_key};
