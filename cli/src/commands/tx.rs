//! `ruv tx` and `ruv history`: what is proven about transactions.

use super::{fate_json, parse_tx_id, Context};
use crate::amount::format_fixed;
use crate::error::{CliError, CliResult};
use crate::history::{self, Entry, EntryKind};
use crate::light::{now_ms, Fate};
use crate::output::{age, table};
use crate::vault::resolve;
use ruv_client::transfer::parse_address;
use ruv_protocol::api::{codes as api_codes, TxState};
use ruv_protocol::Address;
use serde_json::{json, Value};

/// The sender and nonce of an entry this CLI signed (lets a rejection be proven).
fn submission(entry: Option<&Entry>) -> Option<(Address, u64)> {
    let entry = entry?;
    let from = parse_address(entry.from.as_deref()?).ok()?;
    Some((from, entry.nonce?))
}

fn state_name(state: TxState) -> &'static str {
    match state {
        TxState::Pending => "pending",
        TxState::Accepted => "accepted",
        TxState::Rejected => "rejected",
    }
}

pub fn status(ctx: &Context, id: &str) -> CliResult<()> {
    let id = parse_tx_id(id)?;
    let entry = history::find(&ctx.home, &id.to_string())?;
    let (_, mut light) = ctx.light()?;
    let fate = light.fate(id, submission(entry.as_ref()))?;
    light.save();
    let mut value = fate_json(id, &fate);
    let mut claim_text = String::new();
    if let Fate::Pending = fate {
        match light.relay_claim(id) {
            Some(claim) => {
                value["relay_status"] = json!(state_name(claim.status));
                if let Some(reason) = &claim.reason {
                    value["relay_reason"] = json!({"code": reason.code, "message": reason.message});
                    claim_text = format!(" ({}: {})", reason.code, reason.message);
                }
                claim_text = format!(
                    "\nThe relay says: {}{claim_text} (not verified)",
                    state_name(claim.status)
                );
            }
            None if entry.is_none() => {
                return Err(CliError::failure(
                    api_codes::NOT_FOUND,
                    format!("no relay knows transaction {id}, and nothing proves it"),
                ));
            }
            None => {}
        }
    }
    ctx.out.result(value, || match &fate {
        Fate::Final(inclusion) => format!(
            "Transaction {id}\nStatus    final (verified at checkpoint {})\nFrom      {}\nNonce     {}",
            inclusion.checkpoint, inclusion.from, inclusion.nonce
        ),
        Fate::Rejected { by, checkpoint } => format!(
            "Transaction {id}\nStatus    rejected: transaction {by} used its nonce (verified at checkpoint {checkpoint})"
        ),
        Fate::Pending => format!(
            "Transaction {id}\nStatus    pending (nothing proven yet){claim_text}"
        ),
    });
    Ok(())
}

pub fn history(ctx: &Context, account: &str, limit: usize) -> CliResult<()> {
    let (address, name) = resolve(&ctx.home, account)?;
    let me = address.to_string();
    let mut entries: Vec<Entry> = history::entries(&ctx.home)?
        .into_iter()
        .filter(|e| e.to == me || e.from.as_deref() == Some(me.as_str()))
        .collect();
    entries.sort_by_key(|e| std::cmp::Reverse(e.submitted_ms));
    entries.truncate(limit);
    let (_, mut light) = ctx.light()?;
    let mut rows = Vec::new();
    let mut items: Vec<Value> = Vec::new();
    for entry in &entries {
        let id = parse_tx_id(&entry.id)?;
        let fate = light.fate(id, submission(Some(entry)))?;
        let outgoing = entry.from.as_deref() == Some(me.as_str());
        let mut item = fate_json(id, &fate);
        item["kind"] = json!(entry.kind);
        item["direction"] = json!(if outgoing { "out" } else { "in" });
        item["to"] = json!(entry.to);
        if let Some(from) = &entry.from {
            item["from"] = json!(from);
        }
        if let Some(amount) = entry.amount {
            item["amount"] = json!(amount.to_string());
        }
        if let Some(fee) = entry.fee {
            item["fee"] = json!(fee.to_string());
        }
        if !entry.memo.is_empty() {
            item["memo"] = json!(entry.memo);
        }
        item["submitted_ms"] = json!(entry.submitted_ms);
        let status = match &fate {
            Fate::Final(i) => format!("final @{}", i.checkpoint),
            Fate::Rejected { checkpoint, .. } => format!("rejected @{checkpoint}"),
            Fate::Pending => "pending".to_owned(),
        };
        let counterparty = if outgoing {
            entry.to.clone()
        } else if entry.kind == EntryKind::Faucet {
            "faucet".to_owned()
        } else {
            entry.from.clone().unwrap_or_default()
        };
        let amount = match entry.amount {
            Some(a) if outgoing => format!(
                "-{}",
                format_fixed(a.saturating_add(entry.fee.unwrap_or(0)))
            ),
            Some(a) => format!("+{}", format_fixed(a)),
            None => "+?".to_owned(),
        };
        rows.push(vec![
            format!("{} ago", age(now_ms().saturating_sub(entry.submitted_ms))),
            entry.id.get(..16).unwrap_or(&entry.id).to_owned(),
            counterparty,
            amount,
            status,
        ]);
        items.push(item);
    }
    light.save();
    ctx.out.result(
        json!({"address": me, "transactions": items}),
        || {
            let who = name.clone().unwrap_or_else(|| me.clone());
            if rows.is_empty() {
                return format!("No transactions sent or requested from this home for {who}.");
            }
            format!(
                "Transactions of {who} sent or requested from this home, newest first (status verified now):\n{}",
                table(&["WHEN", "ID", "COUNTERPARTY", "AMOUNT (rUv)", "STATUS"], &rows, &[3])
            )
        },
    );
    Ok(())
}
