//! The relay as a child process for tests that kill it with SIGKILL (the
//! `ruv-relay run` command, built inside this package so integration tests
//! can find it through `CARGO_BIN_EXE_ruv-test-relay`).

use clap::Parser;

#[derive(Parser)]
struct Args {
    #[command(flatten)]
    run: ruv_relay::config::RunArgs,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .init();
    ruv_relay::run_until_signal(Args::parse().run.resolve()?).await?;
    Ok(())
}
