//! `ruv balance` and `ruv faucet`.

use super::{fate_json, wait_final, Context};
use crate::amount::format_fixed;
use crate::args::WaitArgs;
use crate::error::CliResult;
use crate::history::{self, Entry, EntryKind};
use crate::home::Network;
use crate::light::{now_ms, Fate, LightClient};
use crate::output::age;
use crate::vault::resolve;
use ruv_client::light::core::DEFAULT_STALE_AFTER_MS;
use serde_json::json;
use std::time::Duration;

pub fn balance(ctx: &Context, account: &str) -> CliResult<()> {
    let (address, name) = resolve(&ctx.home, account)?;
    let (_, mut light) = ctx.light()?;
    let verified = light.account(address)?;
    light.save();
    let age_ms = light
        .checkpoint_time_ms(verified.checkpoint)
        .map(|t| now_ms().saturating_sub(t))
        .unwrap_or(0);
    let stale = age_ms > DEFAULT_STALE_AFTER_MS;
    ctx.out.result(
        json!({
            "address": address.to_string(),
            "balance": verified.balance.to_string(),
            "nonce": verified.nonce.to_string(),
            "checkpoint": verified.checkpoint.to_string(),
            "checkpoint_age_ms": age_ms,
            "stale": stale,
        }),
        || {
            let who = match &name {
                Some(n) => format!("{n} ({address})"),
                None => address.to_string(),
            };
            let state = if stale {
                format!(
                    "STALE: checkpoint {} is {} old (relays may be withholding newer ones)",
                    verified.checkpoint,
                    age(age_ms)
                )
            } else {
                format!("at checkpoint {}, {} ago", verified.checkpoint, age(age_ms))
            };
            format!(
                "Account   {who}\nBalance   {} rUv\nNonce     {}\nVerified  {state}",
                format_fixed(verified.balance),
                verified.nonce
            )
        },
    );
    Ok(())
}

pub fn faucet(ctx: &Context, account: &str, wait: &WaitArgs) -> CliResult<()> {
    let (address, _) = resolve(&ctx.home, account)?;
    let network: Network = ctx.network()?;
    let mut light = LightClient::new(&network, &ctx.home);
    let status = light.faucet(address)?;
    history::append(
        &ctx.home,
        Entry {
            id: status.id.to_string(),
            kind: EntryKind::Faucet,
            from: None,
            to: address.to_string(),
            amount: None,
            fee: None,
            nonce: None,
            memo: String::new(),
            submitted_ms: now_ms(),
        },
    )?;
    let fate = if wait.no_wait {
        Fate::Pending
    } else {
        light.sync()?;
        let fate = wait_final(
            &mut light,
            status.id,
            None,
            Duration::from_secs(wait.timeout),
        )?;
        light.save();
        fate
    };
    let value = fate_json(status.id, &fate);
    ctx.out.result(value, || match &fate {
        Fate::Final(inclusion) => format!(
            "Faucet payment {} to {address} is final (verified at checkpoint {})",
            status.id, inclusion.checkpoint
        ),
        _ => format!(
            "Faucet payment {} to {address} submitted (not final yet: `ruv tx {}`)",
            status.id, status.id
        ),
    });
    Ok(())
}
