//! The `ruv-relay` binary.

use anyhow::Context;
use clap::{Parser, Subcommand};
use ruv_relay::RelayConfig;
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "ruv-relay",
    version,
    about = "rUv relay: serves wallets and runs QR-Avalanche with other relays"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a relay.
    Run(RelayConfig),
    /// Generate keys and a genesis file for a local devnet.
    DevnetInit {
        /// Folder to write into.
        #[arg(long)]
        dir: PathBuf,
        /// Number of relays.
        #[arg(long, default_value_t = 1)]
        relays: usize,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,tower_http=warn".into()),
        )
        .init();
    match Cli::parse().command {
        Command::Run(config) => ruv_relay::run_until_signal(config)
            .await
            .context("running the relay")?,
        Command::DevnetInit { dir, relays } => {
            let files = ruv_relay::devnet::init(&dir, relays).context("generating the devnet")?;
            println!("{}", files.genesis.display());
        }
    }
    Ok(())
}
