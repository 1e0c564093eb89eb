//! `ruv-relay`: a slim, self-hostable rUv relay.
//!
//! Layout (drivers around pure cores):
//! - [`node`]: the relay's state machine (ledger, transaction index); no I/O.
//! - [`storage`]: the embedded crash-safe database (redb).
//! - [`http`]: the client API driver: REST under `/api/v1/`, WebSocket `/api/v1/ws`.
//! - [`faucet`]: the devnet faucet (off unless configured).
//! - [`devnet`]: generates a local devnet (keys and genesis).
#![forbid(unsafe_code)]

pub mod config;
pub mod devnet;
pub mod faucet;
pub mod http;
pub mod keys;
pub mod metrics;
pub mod node;
pub mod peer;
pub mod service;
pub mod storage;

pub use config::RelayConfig;
pub use http::{start, RunningRelay};
