//! Fake upstream.
