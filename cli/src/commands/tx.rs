//! `ruv tx` and `ruv history`: what is proven about transactions.

use super::{fate_json, parse_tx_id, Context};
use crate::amount::format_fixed;
use crate::error::{CliError, CliResult};
use crate::history::{self, Entry, EntryKind};
use crate::light::{now_ms, Fate};
use crate::output::{age, table};
use crate::vault::resolve;
use ruv_client::light::core::{Direction, VerifiedHistoryEntry};
use ruv_client::transfer::parse_address;
use ruv_protocol::api::{codes as api_codes, limits as api_limits, TxState};
use ruv_protocol::Address;
use serde_json::{json, Value};
use std::collections::HashSet;

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
        TxState::Expired => "expired",
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
                let meaning = match claim.status {
                    TxState::Expired => {
                        ", not sent: dropped before it was issued, its nonce unused by it"
                    }
                    _ => "",
                };
                claim_text = format!(
                    "\nThe relay says: {}{meaning}{claim_text} (not verified)",
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

/// One line of `ruv history`, with the time it sorts by.
struct Line {
    sort_ms: u64,
    row: Vec<String>,
    item: Value,
}

/// `ruv history`: the account's history the relays prove (every entry's
/// inclusion verified against a certified checkpoint), merged with what this
/// home sent or asked for that no certified checkpoint holds yet (pending or
/// proven rejected) or that the relays left out; newest first.
pub fn history(ctx: &Context, account: &str, limit: usize) -> CliResult<()> {
    let (address, name) = resolve(&ctx.home, account)?;
    let me = address.to_string();
    let (_, mut light) = ctx.light()?;
    let mut proven: Vec<VerifiedHistoryEntry> = Vec::new();
    let mut before = None;
    while proven.len() < limit {
        let want = (limit - proven.len()).min(api_limits::MAX_HISTORY_PAGE);
        let (entries, next) = light.history(address, before, want)?;
        proven.extend(entries);
        match next {
            Some(next) => before = Some(next),
            None => break,
        }
    }
    let mine: Vec<Entry> = history::entries(&ctx.home)?
        .into_iter()
        .filter(|e| e.to == me || e.from.as_deref() == Some(me.as_str()))
        .collect();
    let mut lines: Vec<Line> = Vec::new();
    for entry in &proven {
        let mut line = proven_line(entry, &me);
        // A payment asked for here keeps its name (the relays only know transfers).
        if let Some(local) = mine.iter().find(|e| e.id == entry.id) {
            line.item["kind"] = json!(local.kind);
            if local.kind == EntryKind::Faucet && entry.direction == Direction::In {
                line.row[2] = "faucet".to_owned();
            }
        }
        lines.push(line);
    }
    let listed: HashSet<String> = proven.into_iter().map(|e| e.id).collect();
    let mut entries: Vec<Entry> = mine
        .into_iter()
        .filter(|e| !listed.contains(&e.id))
        .collect();
    entries.sort_by_key(|e| std::cmp::Reverse(e.submitted_ms));
    entries.truncate(limit);
    for entry in &entries {
        let id = parse_tx_id(&entry.id)?;
        let fate = light.fate(id, submission(Some(entry)))?;
        lines.push(home_line(entry, &fate, &me));
    }
    light.save();
    lines.sort_by_key(|l| std::cmp::Reverse(l.sort_ms));
    lines.truncate(limit);
    let (rows, items): (Vec<_>, Vec<_>) = lines.into_iter().map(|l| (l.row, l.item)).unzip();
    ctx.out.result(
        json!({"address": me, "transactions": items}),
        || {
            let who = name.clone().unwrap_or_else(|| me.clone());
            if rows.is_empty() {
                return format!("No transactions of {who} proven by the relays or sent from this home.");
            }
            format!(
                "Transactions of {who}, newest first (final: inclusion verified; others sent from this home, status verified now):\n{}",
                table(&["WHEN", "ID", "COUNTERPARTY", "AMOUNT (rUv)", "STATUS"], &rows, &[3])
            )
        },
    );
    Ok(())
}

/// A line for an entry of the relays' history (its proof verified).
fn proven_line(entry: &VerifiedHistoryEntry, me: &str) -> Line {
    let amount: u64 = entry.amount.parse().unwrap_or(0);
    let fee: u64 = entry.fee.parse().unwrap_or(0);
    let (counterparty, shown, direction) = match entry.direction {
        Direction::Out => (
            entry.to.clone(),
            format!("-{}", format_fixed(amount.saturating_add(fee))),
            "out",
        ),
        Direction::In => (
            entry.from.clone(),
            format!("+{}", format_fixed(amount)),
            "in",
        ),
        Direction::SelfTransfer => (me.to_owned(), format!("-{}", format_fixed(fee)), "self"),
    };
    let mut item = json!({
        "id": entry.id,
        "status": "final",
        "checkpoint": entry.checkpoint,
        "kind": "transfer",
        "direction": direction,
        "from": entry.from,
        "to": entry.to,
        "amount": entry.amount,
        "fee": entry.fee,
        "nonce": entry.nonce,
        "checkpoint_time_ms": entry.checkpoint_time_ms,
        "source": "relays",
    });
    if !entry.memo.is_empty() {
        item["memo"] = json!(entry.memo);
    }
    Line {
        sort_ms: entry.checkpoint_time_ms,
        row: vec![
            format!(
                "{} ago",
                age(now_ms().saturating_sub(entry.checkpoint_time_ms))
            ),
            entry.id.get(..16).unwrap_or(&entry.id).to_owned(),
            counterparty,
            shown,
            format!("final @{}", entry.checkpoint),
        ],
        item,
    }
}

/// A line for a transaction this home sent or asked for, with its fate.
fn home_line(entry: &Entry, fate: &Fate, me: &str) -> Line {
    let outgoing = entry.from.as_deref() == Some(me);
    let id = entry.id.as_str();
    let mut item = match parse_tx_id(id) {
        Ok(id) => fate_json(id, fate),
        Err(_) => json!({"id": id}),
    };
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
    item["source"] = json!("home");
    let status = match fate {
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
    Line {
        sort_ms: entry.submitted_ms,
        row: vec![
            format!("{} ago", age(now_ms().saturating_sub(entry.submitted_ms))),
            id.get(..16).unwrap_or(id).to_owned(),
            counterparty,
            amount,
            status,
        ],
        item,
    }
}
