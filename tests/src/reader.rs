//! A native light client's reads: ask one relay (REST or WebSocket) for a
//! checkpoint or a proof, believe it only if it verifies against the trust
//! anchor, and fail over to the next relay when it does not.

use crate::WsClient;
use ruv_protocol::checkpoint::CertifiedCheckpoint;
use ruv_protocol::light::{
    verify_account_proof, verify_checkpoint, verify_transaction_proof, AccountProof,
    TransactionProof, TrustAnchor, VerifiedAccount, VerifiedCheckpoint, VerifiedInclusion,
    VerifyError,
};
use ruv_protocol::{Address, TxId};
use serde::de::DeserializeOwned;
use serde_json::{json, Value};
use std::fmt;
use std::time::Duration;

/// Why a read from one relay gave nothing to believe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadError {
    /// No usable answer: no connection, a timeout, an error status, or a
    /// body that is not the documented shape.
    Unavailable(String),
    /// A well-formed answer that failed verification: the relay lied (or is broken).
    Rejected(VerifyError),
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::Unavailable(why) => write!(f, "unavailable: {why}"),
            ReadError::Rejected(why) => write!(f, "rejected: {why}"),
        }
    }
}

impl From<VerifyError> for ReadError {
    fn from(e: VerifyError) -> Self {
        ReadError::Rejected(e)
    }
}

/// What a client asks a relay.
#[derive(Debug, Clone, Copy)]
pub enum Query {
    /// The latest certified checkpoint.
    Latest,
    /// Certified checkpoint `n`.
    Checkpoint(u64),
    /// An account with its proof against the latest checkpoint.
    AccountProof(Address),
    /// A transaction's inclusion proof.
    TransactionProof(TxId),
}

impl Query {
    fn rest_path(self) -> String {
        match self {
            Query::Latest => "/api/v1/checkpoints/latest".into(),
            Query::Checkpoint(n) => format!("/api/v1/checkpoints/{n}"),
            Query::AccountProof(a) => format!("/api/v1/accounts/{a}/proof"),
            Query::TransactionProof(id) => format!("/api/v1/transactions/{id}/proof"),
        }
    }

    fn ws_request(self) -> (&'static str, Value) {
        match self {
            Query::Latest => ("get_checkpoint", json!({})),
            Query::Checkpoint(n) => ("get_checkpoint", json!({"number": n.to_string()})),
            Query::AccountProof(a) => ("get_account_proof", json!({"address": a.to_string()})),
            Query::TransactionProof(id) => ("get_transaction_proof", json!({"id": id.to_string()})),
        }
    }
}

/// One relay, over REST or WebSocket, with a per-request timeout.
pub enum Source {
    /// `GET` on the REST API of the relay at `url`.
    Rest {
        /// `http://host:port`.
        url: String,
        /// The client (holding the timeout).
        http: reqwest::Client,
    },
    /// Requests on one WebSocket connection.
    Ws {
        /// The connection.
        client: Box<WsClient>,
        /// How long an answer may take.
        timeout: Duration,
    },
}

impl Source {
    /// The REST API of the relay at `url`.
    pub fn rest(url: &str, timeout: Duration) -> Self {
        Source::Rest {
            url: url.to_owned(),
            http: reqwest::Client::builder().timeout(timeout).build().unwrap(),
        }
    }

    /// A WebSocket connection to the relay at `url`.
    pub async fn ws(url: &str, timeout: Duration) -> Self {
        Source::Ws {
            client: Box::new(WsClient::connect(url).await),
            timeout,
        }
    }

    /// The answer's JSON (a success), or why there is none.
    pub async fn ask(&mut self, query: Query) -> Result<Value, ReadError> {
        let unavailable = |why: String| ReadError::Unavailable(format!("{query:?}: {why}"));
        match self {
            Source::Rest { url, http } => {
                let response = http
                    .get(format!("{url}{}", query.rest_path()))
                    .send()
                    .await
                    .map_err(|e| unavailable(e.to_string()))?;
                let status = response.status();
                let body: Value = response
                    .json()
                    .await
                    .map_err(|e| unavailable(e.to_string()))?;
                if !status.is_success() {
                    return Err(unavailable(format!("{status} {body}")));
                }
                Ok(body)
            }
            Source::Ws { client, timeout } => {
                let (method, params) = query.ws_request();
                let reply = tokio::time::timeout(*timeout, client.request(method, params))
                    .await
                    .map_err(|_| unavailable(format!("no answer within {timeout:?}")))?;
                match reply.get("result") {
                    Some(result) => Ok(result.clone()),
                    None => Err(unavailable(reply.to_string())),
                }
            }
        }
    }

    /// The answer parsed as a `T`.
    async fn ask_for<T: DeserializeOwned>(&mut self, query: Query) -> Result<T, ReadError> {
        let value = self.ask(query).await?;
        serde_json::from_value(value).map_err(|e| {
            ReadError::Unavailable(format!("{query:?}: not the documented shape: {e}"))
        })
    }
}

/// A certified checkpoint, verified.
pub fn check_checkpoint(
    anchor: &TrustAnchor,
    value: Value,
) -> Result<VerifiedCheckpoint, ReadError> {
    let certified: CertifiedCheckpoint = serde_json::from_value(value)
        .map_err(|e| ReadError::Unavailable(format!("not a checkpoint: {e}")))?;
    Ok(verify_checkpoint(anchor, &certified)?)
}

/// The relay's latest checkpoint, verified.
pub async fn latest(
    source: &mut Source,
    anchor: &TrustAnchor,
) -> Result<VerifiedCheckpoint, ReadError> {
    check_checkpoint(anchor, source.ask(Query::Latest).await?)
}

/// Checkpoint `n` from the relay, verified.
pub async fn checkpoint(
    source: &mut Source,
    anchor: &TrustAnchor,
    number: u64,
) -> Result<VerifiedCheckpoint, ReadError> {
    check_checkpoint(anchor, source.ask(Query::Checkpoint(number)).await?)
}

/// An account proof checked against the checkpoint it names, which is
/// fetched from the same relay and verified first.
pub async fn check_account_proof(
    source: &mut Source,
    anchor: &TrustAnchor,
    proof: &AccountProof,
) -> Result<(VerifiedCheckpoint, VerifiedAccount), ReadError> {
    let checkpoint = checkpoint(source, anchor, proof.checkpoint).await?;
    let account = verify_account_proof(&checkpoint, proof)?;
    Ok((checkpoint, account))
}

/// An account, proven.
pub async fn account(
    source: &mut Source,
    anchor: &TrustAnchor,
    address: Address,
) -> Result<(VerifiedCheckpoint, VerifiedAccount), ReadError> {
    let proof: AccountProof = source.ask_for(Query::AccountProof(address)).await?;
    check_account_proof(source, anchor, &proof).await
}

/// A transaction, proven final.
pub async fn transaction(
    source: &mut Source,
    anchor: &TrustAnchor,
    id: TxId,
) -> Result<(VerifiedCheckpoint, VerifiedInclusion), ReadError> {
    let proof: TransactionProof = source.ask_for(Query::TransactionProof(id)).await?;
    let checkpoint = checkpoint(source, anchor, proof.checkpoint).await?;
    let included = verify_transaction_proof(&checkpoint, &proof)?;
    Ok((checkpoint, included))
}

/// What [`read_with_failover`] read, and from whom.
#[derive(Debug)]
pub struct FailoverRead {
    /// The relay whose answers verified.
    pub relay: String,
    /// Its latest checkpoint.
    pub checkpoint: VerifiedCheckpoint,
    /// The account, proven.
    pub account: VerifiedAccount,
    /// Relays tried before it, in order, with why each was dropped.
    pub dropped: Vec<(String, ReadError)>,
}

/// Reads the latest checkpoint and an account from the first of `relays`
/// whose answers all verify (REST, `timeout` per request). Relays that
/// answer something that fails verification, or nothing in time, are
/// dropped and recorded; if every relay is dropped, the records are the error.
pub async fn read_with_failover(
    relays: &[String],
    anchor: &TrustAnchor,
    address: Address,
    timeout: Duration,
) -> Result<FailoverRead, Vec<(String, ReadError)>> {
    let mut dropped = Vec::new();
    for relay in relays {
        let mut source = Source::rest(relay, timeout);
        let read = async {
            let checkpoint = latest(&mut source, anchor).await?;
            let (_, account) = self::account(&mut source, anchor, address).await?;
            Ok::<_, ReadError>((checkpoint, account))
        };
        match read.await {
            Ok((checkpoint, account)) => {
                return Ok(FailoverRead {
                    relay: relay.clone(),
                    checkpoint,
                    account,
                    dropped,
                })
            }
            Err(why) => dropped.push((relay.clone(), why)),
        }
    }
    Err(dropped)
}
