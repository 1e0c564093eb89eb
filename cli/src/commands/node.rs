//! `ruv node status`: each configured relay, judged against the genesis.

use super::Context;
use crate::error::{CliError, CliResult};
use crate::light::now_ms;
use crate::output::{age, table};
use crate::rest::{RelayError, Rest};
use ruv_protocol::api::NetworkStatus;
use ruv_protocol::checkpoint::CertifiedCheckpoint;
use ruv_protocol::light::verify_checkpoint;
use serde_json::{json, Value};

/// One relay's report.
struct Report {
    url: String,
    /// Answered `/network/status`.
    reachable: bool,
    /// Everything it said that can be checked checks out.
    verified: bool,
    status: Option<NetworkStatus>,
    checkpoint: Option<(u64, u64)>,
    problem: Option<String>,
}

fn judge(rest: &Rest, network: &crate::home::Network, url: &str) -> Report {
    let mut report = Report {
        url: url.to_owned(),
        reachable: false,
        verified: false,
        status: None,
        checkpoint: None,
        problem: None,
    };
    let status = match rest.get::<NetworkStatus>(url, "/network/status") {
        Ok(s) => s,
        Err(e) => {
            report.problem = Some(e.to_string());
            return report;
        }
    };
    report.reachable = true;
    let anchor = &network.anchor;
    if status.genesis_hash != anchor.genesis_hash() || status.chain_id != network.chain_id() {
        report.problem = Some(format!(
            "another network: {} (genesis {})",
            status.chain_id, status.genesis_hash
        ));
        report.status = Some(status);
        return report;
    }
    report.status = Some(status);
    match rest.get::<CertifiedCheckpoint>(url, "/checkpoints/latest") {
        Ok(certified) => match verify_checkpoint(anchor, &certified) {
            Ok(checkpoint) => {
                report.verified = true;
                report.checkpoint = Some((checkpoint.number(), checkpoint.header().time_ms));
            }
            Err(e) => report.problem = Some(format!("checkpoint does not verify: {e}")),
        },
        Err(RelayError::Api(e)) if e.code == ruv_protocol::api::codes::NOT_CERTIFIED => {
            report.verified = true;
        }
        Err(e) => report.problem = Some(format!("latest checkpoint: {e}")),
    }
    report
}

pub fn status(ctx: &Context) -> CliResult<()> {
    let network = ctx.network()?;
    let rest = Rest::new();
    let reports: Vec<Report> = network
        .relays
        .iter()
        .map(|url| judge(&rest, &network, url))
        .collect();
    let now = now_ms();
    let relays: Vec<Value> = reports
        .iter()
        .map(|r| {
            json!({
                "url": r.url,
                "reachable": r.reachable,
                "verified": r.verified,
                "relay": r.status.as_ref().map(|s| s.relay.clone()),
                "peers": r.status.as_ref().map(|s| s.peers_connected),
                "checkpoint": r.checkpoint.map(|(n, _)| n.to_string()),
                "checkpoint_age_ms": r.checkpoint.map(|(_, t)| now.saturating_sub(t)),
                "error": r.problem,
            })
        })
        .collect();
    ctx.out.result(
        json!({
            "chain_id": network.chain_id(),
            "genesis_hash": network.anchor.genesis_hash().to_string(),
            "relays": relays,
        }),
        || {
            let rows: Vec<Vec<String>> = reports
                .iter()
                .map(|r| {
                    let state = match (&r.problem, r.verified) {
                        (None, true) => "ok".to_owned(),
                        (Some(p), _) if r.reachable => format!("FAILED VERIFICATION: {p}"),
                        (Some(p), _) => format!("unreachable: {p}"),
                        (None, false) => "unknown".to_owned(),
                    };
                    vec![
                        r.url.clone(),
                        r.status
                            .as_ref()
                            .map(|s| s.relay.clone())
                            .unwrap_or_default(),
                        r.status
                            .as_ref()
                            .map(|s| s.peers_connected.to_string())
                            .unwrap_or_default(),
                        r.checkpoint
                            .map(|(n, _)| n.to_string())
                            .unwrap_or_else(|| "-".into()),
                        r.checkpoint
                            .map(|(_, t)| age(now.saturating_sub(t)))
                            .unwrap_or_else(|| "-".into()),
                        state,
                    ]
                })
                .collect();
            format!(
                "Network {} (genesis {})\n{}",
                network.chain_id(),
                network.anchor.genesis_hash(),
                table(
                    &["RELAY", "NAME", "PEERS", "CHECKPOINT", "AGE", "STATE"],
                    &rows,
                    &[2, 3]
                )
            )
        },
    );
    // The report is printed; the exit code still tells a script what it means.
    let failed = |e: CliError| {
        Err(CliError {
            reported: true,
            ..e
        })
    };
    if reports.iter().any(|r| r.reachable && !r.verified) {
        return failed(CliError::verification("a relay failed verification"));
    }
    if !reports.iter().any(|r| r.reachable) {
        return failed(CliError::no_relay("no relay reachable"));
    }
    Ok(())
}
