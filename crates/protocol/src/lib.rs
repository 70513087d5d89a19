//! Pure protocol types and translations for the Uplink gateway.
//!
//! Everything here is synchronous and free of I/O: wire types for each protocol,
//! the neutral intermediate representation ([`ir`]) that every protocol decodes into
//! and encodes from, the translators between them, and an incremental SSE codec.

pub mod anthropic;
pub mod cloudcode;
pub mod error;
pub mod gemini;
pub mod ir;
pub mod json;
pub mod openai;
pub mod sse;
pub mod translate;
mod wire;

pub use wire::OneOrMany;
