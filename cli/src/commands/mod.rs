//! One module per command group; this file dispatches and holds what they
//! share (the context, waiting for a verified final status).

mod account;
mod balance;
mod init;
mod node;
mod transfer;
mod tx;
mod vault;

use crate::args::{Cli, Command, NodeCommand};
use crate::error::{codes, CliError, CliResult, Kind};
use crate::home::{Home, Network};
use crate::light::{Fate, LightClient};
use crate::output::Output;
use crate::secrets::PasswordSource;
use ruv_protocol::api::{TxState, TxStatus};
use ruv_protocol::{Address, TxId};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// Between two looks at a transaction's status while waiting.
const POLL_INTERVAL: Duration = Duration::from_millis(500);

/// What every command gets.
pub struct Context {
    /// The home folder.
    pub home: Home,
    /// How to print.
    pub out: Output,
    /// `--relay` values (empty: the configured ones).
    pub relays: Vec<String>,
    /// Where the vault password comes from.
    pub passwords: PasswordSource,
}

impl Context {
    /// The configured network (with `--relay` overrides).
    pub fn network(&self) -> CliResult<Network> {
        Network::load(&self.home, &self.relays)
    }

    /// A light client of the configured network, synced to a verified checkpoint.
    pub fn light(&self) -> CliResult<(Network, LightClient)> {
        let network = self.network()?;
        let mut light = LightClient::new(&network, &self.home);
        light.sync()?;
        Ok((network, light))
    }
}

/// Runs the parsed command line.
pub fn run(cli: Cli, out: Output) -> CliResult<()> {
    let ctx = Context {
        home: Home::resolve(cli.home)?,
        out,
        relays: cli.relays,
        passwords: PasswordSource {
            file: cli.password_file,
        },
    };
    match cli.command {
        Command::Init { genesis } => init::run(&ctx, &genesis),
        Command::Account(command) => account::run(&ctx, command),
        Command::Balance { account } => balance::balance(&ctx, &account),
        Command::Faucet { account, wait } => balance::faucet(&ctx, &account, &wait),
        Command::Transfer {
            from,
            to,
            amount,
            memo,
            yes,
            wait,
        } => transfer::run(
            &ctx,
            transfer::Request {
                from,
                to,
                amount,
                memo: memo.unwrap_or_default(),
                yes,
            },
            &wait,
        ),
        Command::Tx { id } => tx::status(&ctx, &id),
        Command::History { account, limit } => tx::history(&ctx, &account, limit as usize),
        Command::Vault(command) => vault::run(&ctx, command),
        Command::Node(NodeCommand::Status) => node::status(&ctx),
    }
}

/// Parses a transaction id (a usage error if malformed).
pub fn parse_tx_id(text: &str) -> CliResult<TxId> {
    text.parse().map_err(|_| {
        CliError::usage(
            ruv_protocol::api::codes::INVALID_TRANSACTION_ID,
            format!("{text:?} is not a transaction id (64 lower-case hex digits)"),
        )
    })
}

/// The JSON of a proven fate: `{"id", "status", ...}`.
pub fn fate_json(id: TxId, fate: &Fate) -> Value {
    match fate {
        Fate::Final(inclusion) => json!({
            "id": id.to_string(),
            "status": "final",
            "checkpoint": inclusion.checkpoint.to_string(),
            "from": inclusion.from.to_string(),
            "nonce": inclusion.nonce.to_string(),
        }),
        Fate::Rejected { by, checkpoint } => json!({
            "id": id.to_string(),
            "status": "rejected",
            "reason": "nonce_used",
            "by": by.to_string(),
            "checkpoint": checkpoint.to_string(),
        }),
        Fate::Pending => json!({"id": id.to_string(), "status": "pending"}),
    }
}

/// The error for a relay's unprovable `rejected` or `expired` claim.
pub fn relay_verdict(id: TxId, claim: &TxStatus) -> CliError {
    let reason = claim
        .reason
        .as_ref()
        .map(|r| format!("{}: {}", r.code, r.message))
        .unwrap_or_else(|| "no reason given".into());
    if claim.status == TxState::Expired {
        return CliError::failure(
            codes::RELAY_EXPIRED,
            format!(
                "the relay says transaction {id} expired before it was issued ({reason}): it did not use \
                 its nonce. This is the relay's word, not proven: `ruv tx {id}` shows what is proven; \
                 a new transfer takes the nonce only once the account's verified nonce is below it"
            ),
        );
    }
    CliError::failure(
        codes::RELAY_REJECTED,
        format!(
            "the relay says transaction {id} was rejected ({reason}); this is the relay's word, \
             not proven: `ruv tx {id}` shows what is proven"
        ),
    )
}

/// Waits until transaction `id` is proven final or rejected. A relay's
/// (unprovable) claim that it was rejected ends the wait with an error
/// that says so; so does the deadline.
pub fn wait_final(
    light: &mut LightClient,
    id: TxId,
    submission: Option<(Address, u64)>,
    timeout: Duration,
) -> CliResult<Fate> {
    let started = Instant::now();
    let progress = crate::output::Progress::new();
    let short = id.to_string()[..12].to_owned();
    loop {
        match light.fate(id, submission) {
            Ok(Fate::Pending) => {}
            Ok(fate) => return Ok(fate),
            // Relays may be restarting: keep asking until the deadline.
            Err(e) if e.kind == Kind::NoRelay && started.elapsed() < timeout => {}
            Err(e) => return Err(e),
        }
        if let Some(claim) = light.relay_claim(id) {
            if claim.status.has_reason() {
                return Err(relay_verdict(id, &claim));
            }
        }
        if started.elapsed() >= timeout {
            return Err(CliError::failure(
                codes::TIMEOUT,
                format!(
                    "transaction {id} was not proven final within {} s; it may still be: check with `ruv tx {id}`",
                    timeout.as_secs()
                ),
            ));
        }
        progress.update(&format!(
            "waiting for a certified checkpoint to include {short}… {} s",
            started.elapsed().as_secs()
        ));
        std::thread::sleep(POLL_INTERVAL);
    }
}
