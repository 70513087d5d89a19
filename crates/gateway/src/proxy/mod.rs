//! The proxy pipeline: the one retry loop that picks accounts and peeks at the
//! first upstream event ([`dispatch`]), and the relay that turns the committed
//! stream into the client's wire format ([`relay`]).

mod count;
mod dispatch;
pub mod media;
pub mod relay;

pub use count::count_tokens;
pub use dispatch::{Answer, Commit, dispatch, session_key};
