//! JSON shapes of the client API (REST under `/api/v1/` and the WebSocket
//! `/api/v1/ws`), shared by the relay that produces them and the client that
//! parses them. The relay's `docs/api.md` documents each endpoint.

use crate::address::Address;
use crate::checkpoint::{CertifiedCheckpoint, Hash32};
use crate::genesis::FeeSchedule;
use crate::ledger::{Account, TxRejection};
use crate::light::AccountProof;
use crate::serde_bytes::u64_string;
use crate::tx::TxId;
use serde::{Deserialize, Serialize};

/// Stable error codes: every 4xx/5xx body and every WebSocket error carries one.
pub mod codes {
    /// The body or message is not JSON of the expected shape.
    pub const MALFORMED_JSON: &str = "malformed_json";
    /// An address failed bech32m / hrp / length checks.
    pub const INVALID_ADDRESS: &str = "invalid_address";
    /// A transaction id is not 64 hex digits.
    pub const INVALID_TRANSACTION_ID: &str = "invalid_transaction_id";
    /// A transaction is well-formed JSON but not a valid signed transfer
    /// (missing field, wrong key or signature length, bad chain id, long memo).
    pub const INVALID_TRANSACTION: &str = "invalid_transaction";
    /// The request body exceeds the documented limit.
    pub const PAYLOAD_TOO_LARGE: &str = "payload_too_large";
    /// A WebSocket frame exceeds the documented limit.
    pub const FRAME_TOO_LARGE: &str = "frame_too_large";
    /// Unknown resource.
    pub const NOT_FOUND: &str = "not_found";
    /// Unknown WebSocket method.
    pub const UNKNOWN_METHOD: &str = "unknown_method";
    /// Subscription limit reached on this connection.
    pub const TOO_MANY_SUBSCRIPTIONS: &str = "too_many_subscriptions";
    /// Request rate limit exceeded.
    pub const RATE_LIMITED: &str = "rate_limited";
    /// The faucet is off (only a devnet relay runs one).
    pub const FAUCET_DISABLED: &str = "faucet_disabled";
    /// The faucet has paid this address recently.
    pub const FAUCET_COOLDOWN: &str = "faucet_cooldown";
    /// The faucet asks for a proof of work (`GET /api/v1/faucet/challenge`)
    /// and the request carried none.
    pub const FAUCET_POW_REQUIRED: &str = "faucet_pow_required";
    /// The faucet proof of work is wrong: a challenge this relay did not
    /// issue, or a nonce without enough leading zero bits for this address.
    pub const FAUCET_POW_INVALID: &str = "faucet_pow_invalid";
    /// The faucet challenge has expired; fetch a new one.
    pub const FAUCET_POW_EXPIRED: &str = "faucet_pow_expired";
    /// The faucet challenge was used already; each pays once.
    pub const FAUCET_POW_REUSED: &str = "faucet_pow_reused";
    /// Client side: the solver gave up (the relay asks more than
    /// [`crate::faucet_pow::MAX_DIFFICULTY_BITS`], or the bounded search
    /// found no nonce).
    pub const FAUCET_POW_UNSOLVED: &str = "faucet_pow_unsolved";
    /// The relay's pending pool is full; retry later.
    pub const MEMPOOL_FULL: &str = "mempool_full";
    /// A transaction with this id is already known.
    pub const DUPLICATE_TRANSACTION: &str = "duplicate_transaction";
    /// A bug or storage failure in the relay.
    pub const INTERNAL: &str = "internal";
    /// No certified checkpoint holds what was asked (yet): no checkpoint is
    /// certified, or a transaction is not in one.
    pub const NOT_CERTIFIED: &str = "not_certified";
    /// The relay no longer holds this proof: the transaction is in a
    /// certified checkpoint at or before the stored state the relay
    /// restarted from (`docs/checkpoints.md`, "Snapshots and restarts").
    /// The checkpoint's header and certificate are still served; ask
    /// another relay, or keep the proof fetched earlier.
    pub const PRUNED: &str = "pruned";
    /// The relay does not hold the stored state of the checkpoint asked
    /// for (it moved on, or never had it): ask `GET /api/v1/state/snapshot`
    /// for the one it holds now (`docs/checkpoints.md`, "State sync").
    pub const STATE_UNAVAILABLE: &str = "state_unavailable";
    /// Client side: a relay's answer failed verification (a lying or broken
    /// relay). Never sent by a relay.
    pub const VERIFICATION_FAILED: &str = "verification_failed";
}

/// An error as the API reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    /// Stable machine-readable code (see [`codes`] and [`TxRejection::code`]).
    pub code: String,
    /// Human-readable explanation.
    pub message: String,
}

impl ApiError {
    /// An error with a code and message.
    pub fn new(code: &str, message: impl Into<String>) -> Self {
        Self {
            code: code.to_owned(),
            message: message.into(),
        }
    }
}

impl From<&TxRejection> for ApiError {
    fn from(r: &TxRejection) -> Self {
        Self::new(r.code(), r.to_string())
    }
}

/// Body of every 4xx/5xx response: `{"error": {"code", "message"}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// The error.
    pub error: ApiError,
}

/// `GET /api/v1/state/snapshot`: the stored state a relay serves in pages
/// (`GET /api/v1/state/snapshot/{checkpoint}/accounts`, binary
/// [`crate::snapshot::StatePage`]s) for state sync.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateSnapshotInfo {
    /// The certified checkpoint the state is at (0: genesis).
    #[serde(with = "u64_string")]
    pub checkpoint: u64,
    /// Its header id (zero at genesis).
    pub header_id: crate::checkpoint::Hash32,
    /// Non-empty accounts in the state.
    pub accounts: u32,
}

/// `GET /api/v1/network/status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkStatus {
    /// Network id.
    pub chain_id: String,
    /// This relay's name.
    pub relay: String,
    /// Relay software version.
    pub version: String,
    /// Validators in genesis.
    pub validators: u32,
    /// Relay peers currently connected.
    pub peers_connected: u32,
    /// Transactions accepted so far.
    #[serde(with = "u64_string")]
    pub accepted_transactions: u64,
    /// Transactions waiting for a decision.
    #[serde(with = "u64_string")]
    pub pending_transactions: u64,
    /// Whether this relay runs a devnet faucet.
    pub faucet: bool,
    /// The genesis fee schedule.
    pub fees: FeeSchedule,
    /// [`Genesis::hash`](crate::Genesis::hash) of this relay's network
    /// (lower-case hex): a client compares it with its own anchor.
    pub genesis_hash: Hash32,
    /// Number of the latest certified checkpoint (0: none yet).
    #[serde(with = "u64_string")]
    pub latest_checkpoint: u64,
    /// `validator`, or `follower`: a relay without a validator key that
    /// verifies certified checkpoints from `upstreams` and never votes.
    #[serde(default)]
    pub role: RelayRole,
    /// A follower's upstream validators (REST base URLs); empty at a validator.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub upstreams: Vec<String>,
}

/// What a relay does in its network.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RelayRole {
    /// Holds a genesis validator key: votes and signs checkpoints.
    #[default]
    Validator,
    /// Follows validators' certified checkpoints; never votes or signs.
    Follower,
}

/// `GET /api/v1/accounts/{address}`, and the payload of account events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountInfo {
    /// The account.
    pub address: Address,
    /// Balance, micro-rUv.
    #[serde(with = "u64_string")]
    pub balance: u64,
    /// Nonce of the last accepted transaction (the next one uses nonce + 1).
    #[serde(with = "u64_string")]
    pub nonce: u64,
}

impl AccountInfo {
    /// From ledger state.
    pub fn new(address: Address, account: Account) -> Self {
        Self {
            address,
            balance: account.balance,
            nonce: account.nonce,
        }
    }
}

/// Life cycle of a transaction as one relay sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TxState {
    /// Known, not decided yet.
    Pending,
    /// Final: applied to the ledger.
    Accepted,
    /// Final: will never be applied (see `reason`): it lost a conflict or
    /// the ledger refused it.
    Rejected,
    /// Dropped before it was issued or decided (see `reason` for the last
    /// refusal, e.g. `nonce_gap`): its nonce was not used by it. The wallet
    /// may send a new transfer with that nonce, after a verified nonce proof
    /// (or the account's verified nonce) shows the nonce unused. A relay's
    /// word only, like every status here.
    Expired,
}

impl TxState {
    /// Whether this state carries a `reason` (`rejected` and `expired`).
    pub fn has_reason(self) -> bool {
        matches!(self, Self::Rejected | Self::Expired)
    }
}

/// `GET /api/v1/transactions/{id}`, the answer to a submission, and the
/// payload of transaction events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TxStatus {
    /// Transaction id.
    pub id: TxId,
    /// Where it stands.
    pub status: TxState,
    /// Why it was rejected or expired (only when `status` is `rejected` or
    /// `expired`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<ApiError>,
}

/// `GET /api/v1/fees/estimate?memo_bytes=N`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeeEstimate {
    /// Size in bytes of the signed transaction the estimate is for.
    pub size_bytes: u32,
    /// Minimum fee for it, micro-rUv.
    #[serde(with = "u64_string")]
    pub minimum_fee: u64,
}

/// `POST /api/v1/faucet` (devnet only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaucetRequest {
    /// Who gets the funds.
    pub address: Address,
    /// The solved challenge; required when the relay's
    /// [`FaucetChallenge::difficulty_bits`] is above zero.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proof: Option<FaucetProof>,
}

/// A solved faucet challenge ([`crate::faucet_pow`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaucetProof {
    /// The challenge, as the relay handed it out.
    pub challenge: Hash32,
    /// The nonce that solves it for the request's address.
    #[serde(with = "u64_string")]
    pub nonce: u64,
}

/// `GET /api/v1/faucet/challenge` (devnet only): work to do before asking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaucetChallenge {
    /// 32 bytes (lower-case hex) the relay can check it issued.
    pub challenge: Hash32,
    /// Leading zero bits the proof hash needs (0: no work asked).
    pub difficulty_bits: u8,
    /// Unix milliseconds after which the relay refuses the challenge.
    #[serde(with = "u64_string")]
    pub expires_ms: u64,
}

/// A WebSocket request: `{"id": 1, "method": "...", "params": {...}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WsRequest {
    /// Chosen by the client; echoed in the response.
    pub id: u64,
    /// One of [`ws_methods`].
    pub method: String,
    /// Method parameters (an object; may be omitted when there are none).
    #[serde(default)]
    pub params: serde_json::Value,
}

/// WebSocket method names.
pub mod ws_methods {
    /// No params; result [`NetworkStatus`](super::NetworkStatus).
    pub const NETWORK_STATUS: &str = "network_status";
    /// `{address}`; result [`AccountInfo`](super::AccountInfo).
    pub const GET_ACCOUNT: &str = "get_account";
    /// `{transaction}` (JSON signed transfer); result [`TxStatus`](super::TxStatus).
    pub const SUBMIT_TRANSACTION: &str = "submit_transaction";
    /// `{id}`; result [`TxStatus`](super::TxStatus).
    pub const GET_TRANSACTION: &str = "get_transaction";
    /// `{address, proofs?}`; result `{subscription}`; then `account` events
    /// (the relay's accepted state, unverified), and with `proofs: true` also
    /// `account_proof` events whenever a certified checkpoint changes the account.
    pub const SUBSCRIBE_ACCOUNT: &str = "subscribe_account";
    /// `{id}`; result `{subscription}`; then `transaction` events until final.
    pub const SUBSCRIBE_TRANSACTION: &str = "subscribe_transaction";
    /// `{subscription}`; result `{}`.
    pub const UNSUBSCRIBE: &str = "unsubscribe";
    /// `{number?}` (decimal string; latest when omitted); result
    /// [`CertifiedCheckpoint`](crate::checkpoint::CertifiedCheckpoint).
    pub const GET_CHECKPOINT: &str = "get_checkpoint";
    /// `{address}`; result [`AccountProof`](crate::light::AccountProof)
    /// against the latest certified checkpoint.
    pub const GET_ACCOUNT_PROOF: &str = "get_account_proof";
    /// `{id}`; result [`TransactionProof`](crate::light::TransactionProof).
    pub const GET_TRANSACTION_PROOF: &str = "get_transaction_proof";
    /// `{address, nonce}` (nonce as a decimal string); result
    /// [`TransactionProof`](crate::light::TransactionProof) of the transaction
    /// that used this nonce of this account.
    pub const GET_NONCE_PROOF: &str = "get_nonce_proof";
    /// No params; result `{subscription}`; then a `checkpoint` event for the
    /// latest certified checkpoint at once and for every new one.
    pub const SUBSCRIBE_CHECKPOINTS: &str = "subscribe_checkpoints";
    /// [`HistoryParams`](super::HistoryParams); result
    /// [`AccountHistory`](super::AccountHistory), as
    /// `GET /api/v1/accounts/{address}/history`.
    pub const GET_HISTORY: &str = "get_history";
}

/// Params of `get_history` (and the query of the REST route, without `address`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HistoryParams {
    /// The account whose transactions (as sender or recipient) are listed.
    pub address: Address,
    /// A cursor from an earlier page's `next`: only older entries. Newest
    /// entries when omitted.
    #[serde(
        default,
        with = "u64_string_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub before: Option<u64>,
    /// Entries wanted, 1 to [`limits::MAX_HISTORY_PAGE`]; default
    /// [`limits::DEFAULT_HISTORY_PAGE`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<usize>,
}

/// One transaction of an account's history: the signed transfer and its
/// inclusion proof against the certified checkpoint that first included it.
/// The proof binds the transfer through its id (a hash of the signed bytes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HistoryEntry {
    /// The transaction.
    pub transaction: crate::tx::SignedTransfer,
    /// Its inclusion proof (as `GET /api/v1/transactions/{id}/proof`).
    pub proof: crate::light::TransactionProof,
}

/// A page of an account's history, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountHistory {
    /// The account.
    pub address: Address,
    /// Entries, newest first (by checkpoint, then the order the checkpoint
    /// applied them).
    pub entries: Vec<HistoryEntry>,
    /// Pass as `before` for the next, older page; absent on the last page.
    #[serde(
        default,
        with = "u64_string_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub next: Option<u64>,
    /// Set when this relay keeps no history for checkpoints up to this
    /// number (it restarted from its stored state at that checkpoint, see
    /// `docs/checkpoints.md`): the pages end there, and older entries, if
    /// the account has any, are served only by relays that kept them.
    #[serde(
        default,
        with = "u64_string_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub pruned_through: Option<u64>,
}

/// Params of `subscribe_account`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubscribeAccountParams {
    /// The account.
    pub address: Address,
    /// Also send `account_proof` events.
    #[serde(default)]
    pub proofs: bool,
}

/// Params of `get_nonce_proof`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NonceParams {
    /// The sender.
    pub address: Address,
    /// The nonce.
    #[serde(with = "u64_string")]
    pub nonce: u64,
}

/// Params of `get_checkpoint`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckpointParams {
    /// The checkpoint number; the latest when omitted.
    #[serde(
        default,
        with = "u64_string_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub number: Option<u64>,
}

mod u64_string_opt {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(value: &Option<u64>, s: S) -> Result<S::Ok, S::Error> {
        match value {
            Some(v) => s.serialize_str(&v.to_string()),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
        use serde::de::Error as _;
        let text = Option::<String>::deserialize(d)?;
        text.map(|t| crate::serde_bytes::u64_string::parse(&t).map_err(D::Error::custom))
            .transpose()
    }
}

/// Params of `get_account` and `subscribe_account`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddressParams {
    /// The account.
    pub address: Address,
}

/// Params of `get_transaction` and `subscribe_transaction`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TxIdParams {
    /// The transaction.
    pub id: TxId,
}

/// Params of `submit_transaction`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubmitParams {
    /// The signed transfer.
    pub transaction: crate::tx::SignedTransfer,
}

/// Params of `unsubscribe`, and the result of the subscribe methods.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubscriptionParams {
    /// Subscription id, unique per connection.
    pub subscription: u64,
}

/// A message from the relay on the WebSocket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum WsServerMessage {
    /// A pushed event: `{"subscription": n, "event": {...}}`.
    Event {
        /// The subscription it belongs to.
        subscription: u64,
        /// What happened.
        event: WsEvent,
    },
    /// A successful answer: `{"id": n, "result": ...}`.
    Response {
        /// The request's id.
        id: u64,
        /// The method's result.
        result: serde_json::Value,
    },
    /// A failed answer: `{"id": n | null, "error": {...}}` (`null` when the
    /// request was too malformed to read its id).
    Error {
        /// The request's id, if it could be read.
        id: Option<u64>,
        /// What went wrong.
        error: ApiError,
    },
}

/// A subscription event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum WsEvent {
    /// An account's balance or nonce changed.
    Account(AccountInfo),
    /// A transaction's status changed.
    Transaction(TxStatus),
    /// A new certified checkpoint (`subscribe_checkpoints`).
    Checkpoint(Box<CertifiedCheckpoint>),
    /// A subscribed account, proven against a new certified checkpoint in
    /// which it changed (sent after that checkpoint's `checkpoint` event).
    AccountProof(AccountProof),
}

/// Documented limits of the client API (the relay enforces them; the client
/// respects them).
pub mod limits {
    /// Largest REST request body.
    pub const MAX_BODY_BYTES: usize = 64 * 1024;
    /// Largest WebSocket frame or message from a client.
    pub const MAX_WS_FRAME_BYTES: usize = 128 * 1024;
    /// Subscriptions one WebSocket connection may hold.
    pub const MAX_SUBSCRIPTIONS_PER_CONNECTION: usize = 64;
    /// Sustained WebSocket requests per second per connection.
    pub const WS_REQUESTS_PER_SECOND: u32 = 50;
    /// Burst allowance above the sustained rate.
    pub const WS_REQUEST_BURST: u32 = 100;
    /// Messages queued to a client before it is disconnected as too slow.
    pub const WS_SEND_QUEUE: usize = 256;
    /// Most history entries in one page. An entry is about 7 KiB of JSON
    /// (the ML-DSA-65 key and signature in base64url, plus the proof), so a
    /// full page stays well under a client's 1 MiB frame limit.
    pub const MAX_HISTORY_PAGE: usize = 50;
    /// History entries in a page when the request names no limit.
    pub const DEFAULT_HISTORY_PAGE: usize = 20;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_messages_parse_unambiguously() {
        let id = TxId([1; 32]);
        let msgs = vec![
            WsServerMessage::Response {
                id: 4,
                result: serde_json::json!({"x": 1}),
            },
            WsServerMessage::Error {
                id: None,
                error: ApiError::new(codes::MALFORMED_JSON, "bad"),
            },
            WsServerMessage::Error {
                id: Some(3),
                error: ApiError::new(codes::UNKNOWN_METHOD, "?"),
            },
            WsServerMessage::Event {
                subscription: 2,
                event: WsEvent::Transaction(TxStatus {
                    id,
                    status: TxState::Rejected,
                    reason: Some(ApiError::from(&TxRejection::Conflict)),
                }),
            },
            WsServerMessage::Event {
                subscription: 1,
                event: WsEvent::Transaction(TxStatus {
                    id,
                    status: TxState::Expired,
                    reason: Some(ApiError::from(&TxRejection::NonceGap {
                        expected: 1,
                        got: 2,
                    })),
                }),
            },
            WsServerMessage::Event {
                subscription: 1,
                event: WsEvent::Account(AccountInfo::new(
                    Address::from_bytes([2; 32]),
                    Account {
                        balance: 5,
                        nonce: 1,
                    },
                )),
            },
        ];
        for m in msgs {
            let text = serde_json::to_string(&m).unwrap();
            assert_eq!(
                serde_json::from_str::<WsServerMessage>(&text).unwrap(),
                m,
                "{text}"
            );
        }
    }
}
