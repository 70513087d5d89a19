//! Thin HTTP handlers, one module per client protocol, plus what they share:
//! protocol-shaped errors, dialect detection and the JSON body extractor.

pub mod body;
pub mod dialect;
mod error;
pub mod health;
pub mod not_found;

pub use body::JsonBody;
pub use error::ApiError;
