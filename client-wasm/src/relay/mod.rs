//! Talking to relays: a sans-IO protocol core ([`core::ClientCore`], natively
//! tested) and a thin browser driver on `WebSocket` ([`RelayClient`]); a
//! pool over several relays with failover ([`pool::PoolCore`] and its driver
//! [`RelayPool`]).
//!
//! Everything a relay sends is untrusted input: frames are size-limited and
//! parsed into typed values, and every answer is checked against what was
//! asked (the account address, the locally computed transaction id, the
//! subscription's target). Anything else fails with `bad_relay_response`.

pub mod backoff;
mod client;
pub mod core;
pub mod fees;
mod oneshot;
pub mod pool;
mod pool_client;
pub mod url;

pub(crate) use client::{
    now_ms, reply_to_js as reply_to_js_value, submit_request as submit_request_of, Timeouts, Timer,
    DEFAULT_CONNECT_TIMEOUT_MS,
};
pub use client::{ConnectOptionsJs, RelayClient};
pub(crate) use oneshot::{channel as oneshot_channel, Sender as OneshotSender};
pub use pool_client::RelayPool;
pub(crate) use pool_client::{connect_pool, PoolHandle};
