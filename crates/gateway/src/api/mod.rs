//! Thin HTTP handlers, one module per client protocol, plus what they share:
//! protocol-shaped errors, dialect detection and the JSON body extractor.

pub mod anthropic;
pub mod body;
pub mod dialect;
mod error;
pub mod gemini;
pub mod health;
pub mod metrics;
pub mod models;
pub mod not_found;
pub mod openai;
pub mod respond;
pub mod responses;
pub mod stream;

pub use body::{JsonBody, RawBody};
pub use error::{ApiError, ErrorNote};
