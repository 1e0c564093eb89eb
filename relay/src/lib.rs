//! `ruv-relay`: a slim, self-hostable rUv relay.
//!
//! Layout (drivers around pure cores):
//! - [`node`]: the consensus driver, sole owner of the engine, checkpointer
//!   and database; handlers hold a [`node::NodeHandle`] (snapshot reads, messages).
//! - [`follower`]: the driver of a follower relay (no validator key): syncs
//!   and verifies certified checkpoints from validators; same handle protocol.
//! - [`storage`]: the embedded crash-safe database (redb).
//! - [`http`]: the client API driver: REST under `/api/v1/`, WebSocket `/api/v1/ws`.
//! - [`admission`]: which transfers may enter the engine at all (ingress limits).
//! - [`rate`]: the token bucket every rate limit uses.
//! - [`faucet`]: the devnet faucet (off unless configured).
//! - [`faucet_pow`]: the faucet's proof-of-work challenges.
//! - [`devnet`]: generates a local devnet (keys and genesis).
//! - [`config`]: the options of `run`, from flags and a TOML file.
//! - [`operator`]: `keygen`, `genesis`, `init` and `status`; [`cli`] parses them.
//! - [`chain_id`]: chain ids bound to their genesis.
#![forbid(unsafe_code)]

pub mod admission;
pub mod backpressure;
pub mod chain_id;
pub mod cli;
pub mod config;
pub mod devnet;
pub mod faucet;
pub mod faucet_pow;
pub mod follower;
pub mod http;
pub mod keys;
pub mod metrics;
pub mod node;
pub mod operator;
pub mod peer;
pub mod rate;
pub mod service;
pub mod storage;

pub use config::RelayConfig;
pub use http::{start, RunningRelay};

/// Runs a relay until SIGINT or SIGTERM (or until consensus stops after a
/// storage failure), then shuts it down cleanly.
pub async fn run_until_signal(config: RelayConfig) -> Result<(), RunError> {
    let relay = start(config).await?;
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .map_err(RunError::Signal)?;
    let stopped = relay.shutdown_token();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate.recv() => {}
        _ = stopped.cancelled() => {}
    }
    tracing::info!("shutting down");
    relay.shutdown().await;
    Ok(())
}

/// Why [`run_until_signal`] failed.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The relay could not start.
    #[error(transparent)]
    Start(#[from] http::StartError),
    /// Signal handlers could not be installed.
    #[error("installing signal handlers: {0}")]
    Signal(std::io::Error),
}
