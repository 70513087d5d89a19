//! The Uplink gateway: configuration, HTTP server, client protocols, upstream
//! providers, account pool and storage. The `uplink` binary is a thin shell over
//! [`cli`].

pub mod admin;
pub mod api;
pub mod auth;
pub mod cli;
pub mod config;
pub mod models;
pub mod monitor;
pub mod pool;
pub mod proxy;
pub mod router;
pub mod run;
pub mod server;
pub mod signatures;
pub mod state;
pub mod storage;
pub mod upstream;
