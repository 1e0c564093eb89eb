//! The `ruv-relay` binary (the command line is [`ruv_relay::cli`]).

use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    ruv_relay::cli::init_logging("info,tower_http=warn");
    ruv_relay::cli::run(ruv_relay::cli::Cli::parse()).await
}
