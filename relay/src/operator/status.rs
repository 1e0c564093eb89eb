//! `ruv-relay status`: a running relay's own view of itself, from its client
//! API (`/api/v1/network/status` and the latest certified checkpoint). It is
//! an operator's diagnostic and is not verified: a wallet verifies
//! checkpoints itself against genesis.

use ruv_protocol::api::{codes, ErrorBody, NetworkStatus, RelayRole};
use ruv_protocol::checkpoint::CertifiedCheckpoint;
use serde::Serialize;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Where `status` asks when no `--url` is given (the default listen address).
pub const DEFAULT_URL: &str = "http://127.0.0.1:7100";
/// How long `status` waits for each answer.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// Arguments of `ruv-relay status`.
#[derive(Debug, Clone, clap::Args)]
pub struct StatusArgs {
    /// The relay's client API, `http://host:port` (plain HTTP: ask the relay
    /// on its own listen address, not through the TLS terminator).
    #[arg(long, default_value = DEFAULT_URL)]
    pub url: String,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// The relay's view.
#[derive(Debug, Clone, Serialize)]
pub struct RelayView {
    /// Where it was asked.
    pub url: String,
    /// Version of this `ruv-relay` command (the relay's own is in `network`).
    pub client_version: String,
    /// The relay's network status.
    pub network: NetworkStatus,
    /// Its latest certified checkpoint, if any.
    pub latest_checkpoint: Option<CheckpointView>,
}

/// The latest certified checkpoint as the relay reports it.
#[derive(Debug, Clone, Serialize)]
pub struct CheckpointView {
    /// Its number.
    pub number: u64,
    /// When it was proposed, milliseconds since the Unix epoch.
    pub time_ms: u64,
    /// Its age now, whole seconds (0 if the clocks disagree the other way).
    pub age_seconds: u64,
    /// Validators that signed it, of `validator_count`.
    pub signers: usize,
    /// Size of the validator set.
    pub validator_count: u16,
}

/// Why the relay could not be asked.
#[derive(Debug, thiserror::Error)]
pub enum StatusError {
    /// No answer (refused, timed out, not HTTP).
    #[error("cannot reach {url}: {source}")]
    Unreachable {
        /// What was asked.
        url: String,
        /// The cause.
        source: reqwest::Error,
    },
    /// An answer that is not the expected JSON.
    #[error("{url} answered HTTP {status}: {detail}")]
    Answer {
        /// What was asked.
        url: String,
        /// The HTTP status.
        status: u16,
        /// The error body or decoding failure.
        detail: String,
    },
}

/// Asks the relay at `base` for its view.
pub async fn fetch(base: &str) -> Result<RelayView, StatusError> {
    let base = base.trim_end_matches('/');
    let http = reqwest::Client::builder()
        .timeout(REQUEST_TIMEOUT)
        .build()
        .map_err(|source| StatusError::Unreachable {
            url: base.to_owned(),
            source,
        })?;
    let network: NetworkStatus = get(&http, &format!("{base}/api/v1/network/status"))
        .await?
        .ok_or_else(|| StatusError::Answer {
            url: format!("{base}/api/v1/network/status"),
            status: 404,
            detail: "no network status: is this an rUv relay?".into(),
        })?;
    let checkpoint: Option<CertifiedCheckpoint> =
        get(&http, &format!("{base}/api/v1/checkpoints/latest")).await?;
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    Ok(RelayView {
        url: base.to_owned(),
        client_version: env!("CARGO_PKG_VERSION").to_owned(),
        network,
        latest_checkpoint: checkpoint.map(|c| CheckpointView {
            number: c.header.number,
            time_ms: c.header.time_ms,
            age_seconds: now_ms.saturating_sub(c.header.time_ms) / 1000,
            signers: c.signers.len(),
            validator_count: c.validator_count,
        }),
    })
}

/// `GET url` as JSON; `None` for a `not_certified` answer.
async fn get<T: serde::de::DeserializeOwned>(
    http: &reqwest::Client,
    url: &str,
) -> Result<Option<T>, StatusError> {
    let answer = |status: u16, detail: String| StatusError::Answer {
        url: url.to_owned(),
        status,
        detail,
    };
    let response = http
        .get(url)
        .send()
        .await
        .map_err(|source| StatusError::Unreachable {
            url: url.to_owned(),
            source,
        })?;
    let status = response.status().as_u16();
    let body = response
        .bytes()
        .await
        .map_err(|source| StatusError::Unreachable {
            url: url.to_owned(),
            source,
        })?;
    if status != 200 {
        return match serde_json::from_slice::<ErrorBody>(&body) {
            Ok(e) if e.error.code == codes::NOT_CERTIFIED => Ok(None),
            Ok(e) => Err(answer(
                status,
                format!("{}: {}", e.error.code, e.error.message),
            )),
            Err(_) => Err(answer(status, String::from_utf8_lossy(&body).into_owned())),
        };
    }
    serde_json::from_slice(&body)
        .map(Some)
        .map_err(|e| answer(status, format!("unexpected answer: {e}")))
}

impl std::fmt::Display for RelayView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = &self.network;
        writeln!(f, "relay        {} at {}", n.relay, self.url)?;
        writeln!(
            f,
            "version      relay {}, this command {}",
            n.version, self.client_version
        )?;
        writeln!(f, "chain id     {}", n.chain_id)?;
        writeln!(f, "genesis hash {}", n.genesis_hash)?;
        match n.role {
            RelayRole::Validator => {
                writeln!(f, "role         validator")?;
                writeln!(
                    f,
                    "peers        {} connected of {} other validators",
                    n.peers_connected,
                    n.validators.saturating_sub(1)
                )?;
            }
            RelayRole::Follower => {
                writeln!(
                    f,
                    "role         follower (verifies certificates of {} validators; never votes)",
                    n.validators
                )?;
                writeln!(f, "upstreams    {}", n.upstreams.join(", "))?;
            }
        }
        match &self.latest_checkpoint {
            Some(c) => writeln!(
                f,
                "checkpoint   #{} certified by {} of {} validators, proposed {} s ago",
                c.number, c.signers, c.validator_count, c.age_seconds
            )?,
            None => writeln!(f, "checkpoint   none certified yet")?,
        }
        writeln!(
            f,
            "pool         {} pending, {} accepted so far",
            n.pending_transactions, n.accepted_transactions
        )?;
        write!(
            f,
            "faucet       {}",
            if n.faucet { "on (devnet)" } else { "off" }
        )
    }
}
