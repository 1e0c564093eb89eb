//! `ruv init`: the trust anchor and the relays.

use super::Context;
use crate::error::{codes, CliError, CliResult};
use crate::files;
use crate::home::{check_relays, Config, CONFIG_VERSION};
use ruv_protocol::light::TrustAnchor;
use serde_json::json;
use std::path::Path;

pub fn run(ctx: &Context, genesis: &Path) -> CliResult<()> {
    let relays = check_relays(&ctx.relays)?;
    if relays.is_empty() {
        return Err(CliError::usage(
            codes::USAGE,
            "pass at least one relay: ruv init --genesis FILE --relay URL",
        ));
    }
    let text = files::read_text(genesis)?.ok_or_else(|| {
        CliError::usage(
            codes::USAGE,
            format!("genesis file {} does not exist", genesis.display()),
        )
    })?;
    let anchor = TrustAnchor::from_genesis_json(&text).map_err(|e| {
        CliError::usage(
            codes::BAD_FILE,
            format!("{} is not a usable genesis: {e}", genesis.display()),
        )
    })?;
    ctx.home.create()?;
    files::write_private(&ctx.home.genesis_path(), text.as_bytes())?;
    let config = Config {
        version: CONFIG_VERSION,
        relays: relays.clone(),
    };
    let config_text = serde_json::to_string_pretty(&config)
        .map_err(|e| CliError::failure(codes::IO, e.to_string()))?;
    files::write_private(&ctx.home.config_path(), config_text.as_bytes())?;
    // A checkpoint kept for another genesis would never verify again.
    let _ = std::fs::remove_file(ctx.home.file("checkpoint.json"));
    let chain_id = anchor.genesis().chain_id.clone();
    let genesis_hash = anchor.genesis_hash().to_string();
    ctx.out.result(
        json!({
            "home": ctx.home.dir().display().to_string(),
            "chain_id": chain_id,
            "genesis_hash": genesis_hash,
            "relays": relays,
        }),
        || {
            format!(
                "Configured network {chain_id} (genesis {genesis_hash}) in {}\nRelays: {}",
                ctx.home.dir().display(),
                relays.join(", ")
            )
        },
    );
    Ok(())
}
