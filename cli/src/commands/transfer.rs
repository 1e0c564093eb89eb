//! `ruv transfer`: check, confirm, sign, submit, and wait for proof.

use super::{fate_json, wait_final, Context};
use crate::amount::{format_fixed, format_short, parse_ruv};
use crate::args::WaitArgs;
use crate::error::{codes, CliError, CliResult};
use crate::history::{self, Entry, EntryKind};
use crate::light::{now_ms, Fate, LightClient};
use crate::secrets::confirm;
use crate::vault::CliVault;
use ruv_client::relay::fees::minimum_transfer_fee;
use ruv_client::transfer::{parse_address, TransferParams, U64Input};
use ruv_protocol::api::TxState;
use ruv_protocol::tx::MAX_MEMO_LEN;
use std::time::Duration;

/// What was asked for.
pub struct Request {
    pub from: String,
    pub to: String,
    pub amount: String,
    pub memo: String,
    pub yes: bool,
}

pub fn run(ctx: &Context, request: Request, wait: &WaitArgs) -> CliResult<()> {
    // Everything that can be checked offline first, before any password.
    let to_error = |e: CliError| CliError {
        message: format!("--to {:?}: {}", request.to, e.message),
        ..e
    };
    // An address is checked now; a name once the vault is open (the
    // vault, not the public address book, says which address it is).
    let to_address = if request.to.starts_with("ruv1") {
        Some(parse_address(&request.to).map_err(|e| to_error(e.into()))?)
    } else {
        None
    };
    let amount = parse_ruv(&request.amount).map_err(|e| {
        CliError::usage(
            codes::INVALID_AMOUNT,
            format!("--amount {:?}: {e}", request.amount),
        )
    })?;
    if amount == 0 {
        return Err(CliError::usage(
            codes::INVALID_AMOUNT,
            "--amount must be more than 0",
        ));
    }
    if request.memo.len() > MAX_MEMO_LEN {
        return Err(CliError::usage(
            codes::USAGE,
            format!(
                "--memo is {} bytes, the limit is {MAX_MEMO_LEN}",
                request.memo.len()
            ),
        ));
    }
    let network = ctx.network()?;
    let genesis = network.anchor.genesis();
    // Chain id and fee schedule from the genesis, never from a relay.
    let chain_id = genesis.chain_id.clone();
    let fee = minimum_transfer_fee(&genesis.fees, &chain_id, &request.memo)
        .map_err(|e| CliError::usage(&e.code, e.message))?;
    let total = amount.checked_add(fee).ok_or_else(|| {
        CliError::usage(
            codes::INVALID_AMOUNT,
            "amount + fee exceeds the 64-bit range",
        )
    })?;

    let vault = CliVault::open(&ctx.home)?;
    vault.unlock(&ctx.passwords)?;
    let sender = vault.account(&request.from)?;
    let from = parse_address(&sender.address)?;
    let to = match to_address {
        Some(address) => address,
        None => parse_address(&vault.account(&request.to).map_err(to_error)?.address)?,
    };

    let mut light = LightClient::new(&network, &ctx.home);
    light.sync()?;
    let account = light.account(from)?;
    if account.balance < total {
        return Err(CliError::failure(
            codes::INSUFFICIENT_FUNDS,
            format!(
                "insufficient funds: balance {} rUv, needed {} rUv",
                format_short(account.balance),
                format_short(total),
            ),
        ));
    }
    let nonce = account
        .nonce
        .checked_add(1)
        .ok_or_else(|| CliError::failure(codes::USAGE, "the account's nonce is exhausted"))?;

    let width = format_fixed(total).len();
    let mut summary = format!(
        "From      {} ({})\nTo        {to}\nAmount    {:>width$} rUv\nFee       {:>width$} rUv\nTotal     {:>width$} rUv\nNetwork   {chain_id} (genesis {})\n",
        sender.name,
        sender.address,
        format_fixed(amount),
        format_fixed(fee),
        format_fixed(total),
        network.anchor.genesis_hash(),
    );
    if !request.memo.is_empty() {
        summary.push_str(&format!("Memo      {}\n", request.memo));
    }
    summary.push_str(&format!(
        "Balance   {} rUv (verified at checkpoint {})",
        format_fixed(account.balance),
        account.checkpoint
    ));
    eprintln!("{summary}");
    if !request.yes && !confirm("Sign and send this transfer?")? {
        return Err(CliError::failure(
            codes::CANCELLED,
            "cancelled: nothing was signed",
        ));
    }

    let signed = vault.driver().sign_transfer(
        sender.index,
        TransferParams {
            chain_id,
            to: to.to_string(),
            amount: U64Input(amount),
            fee: U64Input(fee),
            nonce: U64Input(nonce),
            memo: Some(request.memo.clone()),
        },
        now_ms(),
    )?;
    vault.driver().lock();
    let id = signed.id();
    // Recorded before sending: if the command dies after the relay took it,
    // `ruv history` and `ruv tx` still know it (and can prove its fate).
    history::append(
        &ctx.home,
        Entry {
            id: id.to_string(),
            kind: EntryKind::Transfer,
            from: Some(from.to_string()),
            to: to.to_string(),
            amount: Some(amount),
            fee: Some(fee),
            nonce: Some(nonce),
            memo: request.memo.clone(),
            submitted_ms: now_ms(),
        },
    )?;
    let first = light.submit(&signed)?;
    if first.status == TxState::Rejected {
        let reason = first
            .reason
            .map(|r| format!("{}: {}", r.code, r.message))
            .unwrap_or_default();
        return Err(CliError::failure(
            codes::RELAY_REJECTED,
            format!("the relay rejected transaction {id} ({reason})"),
        ));
    }
    if first.status == TxState::Expired {
        return Err(super::relay_verdict(id, &first));
    }
    let fate = if wait.no_wait {
        Fate::Pending
    } else {
        wait_final(
            &mut light,
            id,
            Some((from, nonce)),
            Duration::from_secs(wait.timeout),
        )?
    };
    light.save();
    if let Fate::Rejected { by, checkpoint } = &fate {
        return Err(CliError::failure(
            "nonce_used",
            format!(
                "transaction {id} was rejected: transaction {by} used its nonce (proven at checkpoint {checkpoint})"
            ),
        ));
    }
    ctx.out.result(fate_json(id, &fate), || match &fate {
        Fate::Final(inclusion) => format!(
            "Sent {} rUv to {to}: transaction {id} is final (verified at checkpoint {})",
            format_short(amount),
            inclusion.checkpoint
        ),
        _ => format!("Submitted transaction {id} (not proven final yet: `ruv tx {id}`)"),
    });
    Ok(())
}
