//! The `ruv-relay` command line itself (`ruv_relay::cli`, the same code as the
//! `ruv-relay` binary), built inside this package so integration tests can
//! run it through `CARGO_BIN_EXE_ruv-relay-cli`.

use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    ruv_relay::cli::init_logging("warn");
    ruv_relay::cli::run(ruv_relay::cli::Cli::parse()).await
}
