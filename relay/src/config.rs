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
    /// Serve the built wallet (a folder with index.html) at `/`.
    #[arg(long)]
    pub wallet_dir: Option<PathBuf>,
}
