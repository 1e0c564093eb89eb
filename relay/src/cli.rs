//! The `ruv-relay` command line: parses the subcommands and prints their
//! results. It lives in the library so that test packages can build the very
//! same command line into a binary of their own.

use crate::config::RunArgs;
use crate::operator::genesis::{self, GenesisArgs};
use crate::operator::init::{self, InitArgs};
use crate::operator::keygen::{self, KeygenArgs};
use crate::operator::status::{self, StatusArgs};
use anyhow::Context;
use clap::{Parser, Subcommand};
use std::path::PathBuf;

/// `ruv-relay`.
#[derive(Debug, Parser)]
#[command(
    name = "ruv-relay",
    version,
    about = "rUv relay: serves wallets and runs QR-Avalanche with other relays"
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a relay.
    Run(RunArgs),
    /// Make a validator key: a seed file (mode 0600) and its public key file.
    Keygen(KeygenArgs),
    /// Build a network's genesis from the validators' public keys.
    Genesis(GenesisArgs),
    /// Write a relay folder: a commented relay.toml and a validator key.
    Init(InitArgs),
    /// Show a running relay's view: peers, latest checkpoint, pool, version.
    Status(StatusArgs),
    /// Generate every key and a genesis for a local devnet (one machine only).
    DevnetInit {
        /// Folder to write into.
        #[arg(long)]
        dir: PathBuf,
        /// Number of relays.
        #[arg(long, default_value_t = 1)]
        relays: usize,
    },
}

/// Logs to stderr with `RUST_LOG`, or `default` (an `EnvFilter` directive).
pub fn init_logging(default: &str) {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| default.into()),
        )
        .init();
}

/// Runs one command.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Run(args) => {
            let config = args.resolve().context("reading the configuration")?;
            crate::run_until_signal(config)
                .await
                .context("running the relay")?;
        }
        Command::Keygen(args) => {
            let key = keygen::keygen(&args).context("making a validator key")?;
            println!("{key}");
        }
        Command::Genesis(args) => {
            let made = genesis::build(&args).context("building the genesis")?;
            genesis::write(&made, &args.out).context("writing the genesis")?;
            println!("chain id: {}", made.chain_id);
            println!("genesis hash: {}", hex::encode(made.hash()));
            println!(
                "validators: {}, supply: {} micro-rUv",
                made.validators.len(),
                made.total_supply()?
            );
            println!(
                "wrote {}; every operator checks this genesis hash before starting",
                args.out.display()
            );
        }
        Command::Init(args) => {
            let done = init::init(&args).context("writing the relay folder")?;
            println!("{done}");
        }
        Command::Status(args) => {
            let view = status::fetch(&args.url).await?;
            if args.json {
                println!("{}", serde_json::to_string_pretty(&view)?);
            } else {
                println!("{view}");
            }
        }
        Command::DevnetInit { dir, relays } => {
            let files = crate::devnet::init(&dir, relays).context("generating the devnet")?;
            println!("{}", files.genesis.display());
        }
    }
    Ok(())
}
