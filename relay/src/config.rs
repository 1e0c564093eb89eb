//! Relay configuration (command-line flags; see `docs/relay.md`).

use std::net::SocketAddr;
use std::path::PathBuf;

/// Everything a relay needs to start.
#[derive(Debug, Clone, clap::Args)]
pub struct RelayConfig {
    /// Address for the client API (HTTP + WebSocket). Port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:7100")]
    pub listen: SocketAddr,
    /// The network's genesis file (JSON).
    #[arg(long)]
    pub genesis: PathBuf,
    /// Folder for the database; created if missing.
    #[arg(long)]
    pub data_dir: PathBuf,
    /// File holding this relay's validator seed (64 hex digits).
    #[arg(long)]
    pub key_file: PathBuf,
    /// Name shown in network status and logs.
    #[arg(long, default_value = "relay")]
    pub name: String,
    /// Devnet only: seed file of the genesis faucet account; enables `POST /api/v1/faucet`.
    #[arg(long)]
    pub faucet_key_file: Option<PathBuf>,
    /// Peer relays to dial: `ws://host:port/peer/v1` (repeat the flag). Links
    /// are authenticated both ways against genesis; dialing in one direction
    /// per pair is enough.
    #[arg(long = "peer")]
    pub peers: Vec<String>,
    /// A transaction that cannot be issued yet (nonce gap, funds still
    /// arriving) is rejected after this many milliseconds.
    #[arg(long, default_value_t = 120_000)]
    pub tx_retry_ttl_ms: u64,
}
