//! A lying relay in front of an honest one, for tests that drive a real
//! client (Playwright): `ruv-liar --upstream http://127.0.0.1:PORT --listen
//! 127.0.0.1:0 --mode MODE [--other-genesis-checkpoint FILE] [--keys DIR]`.
//! Prints `listening on http://ADDR` once it accepts connections.

use anyhow::Context;
use clap::Parser;
use ruv_integration_tests::liar::{self, Colluders, LiarConfig, LieMode};
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Parser)]
#[command(about = "An HTTP + WebSocket proxy that lies about checkpoints and proofs")]
struct Args {
    /// The honest relay, `http://host:port`.
    #[arg(long)]
    upstream: String,
    /// Where to listen (port 0: any free port).
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// honest, forge-checkpoint, truncate-certificate, bad-signature,
    /// replay-other-network, stale, change-balance, change-sibling,
    /// equivocate, withhold or forge-history.
    #[arg(long)]
    mode: LieMode,
    /// replay-other-network: a certified checkpoint (JSON) of another network.
    #[arg(long)]
    other_genesis_checkpoint: Option<PathBuf>,
    /// equivocate: a folder with the genesis and the validators' key files.
    #[arg(long)]
    keys: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let mut config = LiarConfig::new(args.upstream, args.mode);
    if let Some(path) = &args.other_genesis_checkpoint {
        config.other_checkpoint = Some(liar::load_checkpoint(path)?);
    }
    if let Some(dir) = &args.keys {
        config.colluders =
            Some(Colluders::load(dir).with_context(|| format!("keys in {}", dir.display()))?);
    }
    let running = liar::start(args.listen, config).await?;
    let mut stdout = std::io::stdout();
    writeln!(stdout, "listening on {}", running.url())?;
    stdout.flush()?;
    tokio::signal::ctrl_c().await?;
    Ok(())
}
