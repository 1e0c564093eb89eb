//! The sans-IO protocol core of one relay connection.
//!
//! [`ClientCore`] owns everything about the WebSocket protocol except the
//! socket and the clock: it allocates request ids, keeps the table of pending
//! requests with their deadlines, paces outgoing frames under the relay's rate
//! limit, parses every frame the relay sends (untrusted input) into typed
//! answers and events, checks each answer against what was asked, and keeps
//! the subscription table. The browser driver feeds it frames and the time;
//! native tests feed it strings.

use crate::error::{codes, ClientError};
use ruv_protocol::api::{
    self, limits, ws_methods, AccountInfo, AddressParams, ApiError, NetworkStatus, SubmitParams,
    SubscriptionParams, TxIdParams, TxState, TxStatus, WsEvent, WsRequest, WsServerMessage,
};
use ruv_protocol::api::{AccountHistory, CheckpointParams, HistoryParams, NonceParams};
use ruv_protocol::checkpoint::CertifiedCheckpoint;
use ruv_protocol::light::{AccountProof, TransactionProof};
use ruv_protocol::{Address, SignedTransfer, TxId};
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// Largest frame accepted from a relay. The largest legitimate message is a
/// certified checkpoint: about 4.5 KB of JSON per signature, so a network of
/// the most validators a certificate can name (256, of which 171 sign) needs
/// about 760 KB; anything larger is a broken or hostile relay.
pub const MAX_SERVER_FRAME_BYTES: usize = 1024 * 1024;

/// Default time a request may wait for its answer, in milliseconds.
pub const DEFAULT_REQUEST_TIMEOUT_MS: u64 = 15_000;

/// Largest integer JavaScript represents exactly; subscription ids cross into
/// JS as numbers, so larger ones are refused.
pub const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// Requests sent back to back at most. Half the relay's burst allowance, so
/// network batching can never make the relay see us over its limit.
pub const CLIENT_BURST: u64 = limits::WS_REQUEST_BURST as u64 / 2;

/// Sustained requests per second: 80% of the relay's limit, for the same reason.
pub const CLIENT_RATE_PER_SECOND: u64 = limits::WS_REQUESTS_PER_SECOND as u64 * 4 / 5;

/// Longest relay error message passed on (longer ones are cut).
const MAX_ERROR_MESSAGE_CHARS: usize = 512;

/// What a subscription watches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// Balance and nonce of an account.
    Account(Address),
    /// Status of a transaction until it is final.
    Transaction(TxId),
    /// New certified checkpoints.
    Checkpoints,
}

/// A request to the relay.
#[derive(Debug, Clone)]
pub enum Request {
    /// `network_status`.
    NetworkStatus,
    /// `get_account`.
    GetAccount(Address),
    /// `submit_transaction`; the answer must name this transaction's id.
    Submit(Box<SignedTransfer>),
    /// `get_transaction`.
    GetTransaction(TxId),
    /// `subscribe_account` or `subscribe_transaction`.
    Subscribe(Target),
    /// `unsubscribe`.
    Unsubscribe(u64),
    /// `get_checkpoint`: a number, or the latest.
    GetCheckpoint(Option<u64>),
    /// `get_account_proof`.
    GetAccountProof(Address),
    /// `get_transaction_proof`.
    GetTransactionProof(TxId),
    /// `get_nonce_proof`.
    GetNonceProof(Address, u64),
    /// `get_history`.
    GetHistory(HistoryParams),
}

/// A checked answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    /// Answer to [`Request::NetworkStatus`].
    NetworkStatus(NetworkStatus),
    /// Answer to [`Request::GetAccount`]; the address is the one asked for.
    Account(AccountInfo),
    /// Answer to [`Request::Submit`] or [`Request::GetTransaction`]; the id is
    /// the one asked for (for a submission: the locally computed id).
    Transaction(TxStatus),
    /// Answer to [`Request::Subscribe`]: the new subscription id.
    Subscribed(u64),
    /// Answer to [`Request::Unsubscribe`].
    Unsubscribed,
    /// Answer to [`Request::GetCheckpoint`] (shape checked, not yet verified).
    Checkpoint(Box<CertifiedCheckpoint>),
    /// Answer to [`Request::GetAccountProof`] (shape checked, not yet verified).
    AccountProof(AccountProof),
    /// Answer to [`Request::GetTransactionProof`] or [`Request::GetNonceProof`]
    /// (shape checked, not yet verified).
    TransactionProof(TransactionProof),
    /// Answer to [`Request::GetHistory`]: the account asked about, at most
    /// the entries asked for (shape checked, proofs not yet verified).
    History(Box<AccountHistory>),
}

/// What a frame from the relay amounts to.
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// The answer to request `id`: a checked reply or the relay's error.
    Reply {
        /// The request.
        id: u64,
        /// Its outcome.
        result: Result<Reply, ClientError>,
    },
    /// An event on a live subscription, already checked against its target.
    Event {
        /// The subscription.
        subscription: u64,
        /// What happened.
        event: WsEvent,
        /// The relay ends the subscription with this event (a final
        /// transaction status); the core has forgotten it.
        last: bool,
    },
    /// An error the relay could not attach to any request (`"id": null`).
    Unrouted(ClientError),
}

/// What the pending table remembers about a request: enough to check its answer.
#[derive(Debug, Clone, Copy)]
enum Expect {
    NetworkStatus,
    Account(Address),
    Transaction(TxId),
    Subscribed(Target),
    Unsubscribed,
    Checkpoint(Option<u64>),
    AccountProof(Address),
    TransactionProof(TxId),
    NonceProof(Address, u64),
    /// The account and the most entries the page may hold.
    History(Address, usize),
}

#[derive(Debug)]
struct Pending {
    expect: Expect,
    deadline: u64,
    sent: bool,
}

/// Token bucket in thousandths of a request, so refill is integer arithmetic.
#[derive(Debug)]
struct Bucket {
    milli: u64,
    last: u64,
}

impl Bucket {
    const COST: u64 = 1000;
    const CAPACITY: u64 = CLIENT_BURST * Self::COST;
    /// Thousandths of a request regained per millisecond.
    const RATE: u64 = CLIENT_RATE_PER_SECOND;

    fn new(now: u64) -> Self {
        Self {
            milli: Self::CAPACITY,
            last: now,
        }
    }

    fn refill(&mut self, now: u64) {
        let elapsed = now.saturating_sub(self.last);
        self.milli = self
            .milli
            .saturating_add(elapsed.saturating_mul(Self::RATE))
            .min(Self::CAPACITY);
        self.last = self.last.max(now);
    }

    fn try_take(&mut self, now: u64) -> bool {
        self.refill(now);
        if self.milli >= Self::COST {
            self.milli -= Self::COST;
            true
        } else {
            false
        }
    }

    /// When one whole request's worth will be available.
    fn ready_at(&self) -> u64 {
        let missing = Self::COST.saturating_sub(self.milli);
        self.last + missing.div_ceil(Self::RATE)
    }
}

/// The protocol state of one relay connection (no I/O, no clock).
#[derive(Debug)]
pub struct ClientCore {
    next_id: u64,
    pending: BTreeMap<u64, Pending>,
    queue: VecDeque<(u64, String)>,
    bucket: Bucket,
    subscriptions: BTreeMap<u64, Target>,
    /// Subscribe requests that timed out after being sent: if the relay still
    /// answers, the subscription is cancelled so it does not hold a slot.
    abandoned_subscribes: BTreeSet<u64>,
    closed: Option<ClientError>,
}

/// A `bad_relay_response` error.
pub fn bad_response(message: impl Into<String>) -> ClientError {
    ClientError::new(codes::BAD_RELAY_RESPONSE, message)
}

impl ClientCore {
    /// A fresh connection state; `now` is the current time in milliseconds.
    pub fn new(now: u64) -> Self {
        Self {
            next_id: 1,
            pending: BTreeMap::new(),
            queue: VecDeque::new(),
            bucket: Bucket::new(now),
            subscriptions: BTreeMap::new(),
            abandoned_subscribes: BTreeSet::new(),
            closed: None,
        }
    }

    /// Queues a request and returns its id. Its answer (or a timeout) is due
    /// by `now + timeout_ms`. Frames leave through [`Self::poll_transmit`].
    pub fn start(
        &mut self,
        request: Request,
        now: u64,
        timeout_ms: u64,
    ) -> Result<u64, ClientError> {
        if let Some(e) = &self.closed {
            return Err(e.clone());
        }
        let (method, params, expect) = match request {
            Request::NetworkStatus => (
                ws_methods::NETWORK_STATUS,
                serde_json::json!({}),
                Expect::NetworkStatus,
            ),
            Request::GetAccount(address) => (
                ws_methods::GET_ACCOUNT,
                to_value(&AddressParams { address })?,
                Expect::Account(address),
            ),
            Request::Submit(tx) => {
                let id = tx.id();
                (
                    ws_methods::SUBMIT_TRANSACTION,
                    to_value(&SubmitParams { transaction: *tx })?,
                    Expect::Transaction(id),
                )
            }
            Request::GetTransaction(id) => (
                ws_methods::GET_TRANSACTION,
                to_value(&TxIdParams { id })?,
                Expect::Transaction(id),
            ),
            Request::Subscribe(target) => {
                if self.subscription_slots_used() >= limits::MAX_SUBSCRIPTIONS_PER_CONNECTION {
                    return Err(ClientError::new(
                        api::codes::TOO_MANY_SUBSCRIPTIONS,
                        format!(
                            "a relay connection holds at most {} subscriptions",
                            limits::MAX_SUBSCRIPTIONS_PER_CONNECTION
                        ),
                    ));
                }
                let (method, params) = match target {
                    Target::Account(address) => (
                        ws_methods::SUBSCRIBE_ACCOUNT,
                        to_value(&AddressParams { address })?,
                    ),
                    Target::Transaction(id) => (
                        ws_methods::SUBSCRIBE_TRANSACTION,
                        to_value(&TxIdParams { id })?,
                    ),
                    Target::Checkpoints => {
                        (ws_methods::SUBSCRIBE_CHECKPOINTS, serde_json::json!({}))
                    }
                };
                (method, params, Expect::Subscribed(target))
            }
            Request::Unsubscribe(subscription) => {
                // Forget it now: no event may reach the caller after it asked to stop.
                if self.subscriptions.remove(&subscription).is_none() {
                    return Err(ClientError::new(
                        codes::INVALID_PARAMS,
                        format!("no subscription {subscription} on this connection"),
                    ));
                }
                (
                    ws_methods::UNSUBSCRIBE,
                    to_value(&SubscriptionParams { subscription })?,
                    Expect::Unsubscribed,
                )
            }
            Request::GetCheckpoint(number) => (
                ws_methods::GET_CHECKPOINT,
                to_value(&CheckpointParams { number })?,
                Expect::Checkpoint(number),
            ),
            Request::GetAccountProof(address) => (
                ws_methods::GET_ACCOUNT_PROOF,
                to_value(&AddressParams { address })?,
                Expect::AccountProof(address),
            ),
            Request::GetTransactionProof(id) => (
                ws_methods::GET_TRANSACTION_PROOF,
                to_value(&TxIdParams { id })?,
                Expect::TransactionProof(id),
            ),
            Request::GetNonceProof(address, nonce) => (
                ws_methods::GET_NONCE_PROOF,
                to_value(&NonceParams { address, nonce })?,
                Expect::NonceProof(address, nonce),
            ),
            Request::GetHistory(params) => (
                ws_methods::GET_HISTORY,
                to_value(&params)?,
                Expect::History(
                    params.address,
                    params.limit.unwrap_or(limits::DEFAULT_HISTORY_PAGE),
                ),
            ),
        };
        self.enqueue(method, params, expect, now, timeout_ms)
    }

    fn enqueue(
        &mut self,
        method: &str,
        params: serde_json::Value,
        expect: Expect,
        now: u64,
        timeout_ms: u64,
    ) -> Result<u64, ClientError> {
        let id = self.next_id;
        let text = serde_json::to_string(&WsRequest {
            id,
            method: method.to_owned(),
            params,
        })
        .map_err(|e| ClientError::new(codes::INVALID_PARAMS, e.to_string()))?;
        if text.len() > limits::MAX_WS_FRAME_BYTES {
            return Err(ClientError::new(
                api::codes::FRAME_TOO_LARGE,
                format!(
                    "request is {} bytes, the relay accepts at most {}",
                    text.len(),
                    limits::MAX_WS_FRAME_BYTES
                ),
            ));
        }
        self.next_id += 1;
        self.pending.insert(
            id,
            Pending {
                expect,
                deadline: now.saturating_add(timeout_ms),
                sent: false,
            },
        );
        self.queue.push_back((id, text));
        Ok(id)
    }

    /// The next frame to send now, if the rate limit allows one.
    pub fn poll_transmit(&mut self, now: u64) -> Option<String> {
        if self.queue.is_empty() || !self.bucket.try_take(now) {
            return None;
        }
        let (id, text) = self.queue.pop_front()?;
        if let Some(p) = self.pending.get_mut(&id) {
            p.sent = true;
        }
        Some(text)
    }

    /// Requests whose deadline has passed, each with a `timeout` error. They
    /// are forgotten; a late answer is ignored.
    pub fn poll_timeouts(&mut self, now: u64) -> Vec<(u64, ClientError)> {
        let expired: Vec<u64> = self
            .pending
            .iter()
            .filter(|(_, p)| p.deadline <= now)
            .map(|(id, _)| *id)
            .collect();
        let mut out = Vec::with_capacity(expired.len());
        for id in expired {
            let Some(p) = self.pending.remove(&id) else {
                continue;
            };
            if p.sent {
                if let Expect::Subscribed(_) = p.expect {
                    self.abandoned_subscribes.insert(id);
                }
            } else {
                self.queue.retain(|(queued, _)| *queued != id);
            }
            out.push((
                id,
                ClientError::new(
                    codes::TIMEOUT,
                    format!("the relay did not answer request {id} in time"),
                ),
            ));
        }
        out
    }

    /// When the driver should next call [`Self::poll_transmit`] and
    /// [`Self::poll_timeouts`]: the earliest deadline, or when the rate limit
    /// lets the next queued frame go.
    pub fn next_wakeup(&self) -> Option<u64> {
        let deadline = self.pending.values().map(|p| p.deadline).min();
        let transmit = (!self.queue.is_empty()).then(|| self.bucket.ready_at());
        match (deadline, transmit) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Parses one text frame from the relay.
    ///
    /// `Ok(None)` means nothing to do (an event for a subscription already
    /// ended, a late answer to a request that timed out). `Err` means the relay
    /// broke the protocol in a way that cannot be attributed to one request:
    /// the driver must close the connection and call [`Self::fail_all`].
    pub fn handle_frame(&mut self, text: &str, now: u64) -> Result<Option<Output>, ClientError> {
        if self.closed.is_some() {
            return Ok(None);
        }
        if text.len() > MAX_SERVER_FRAME_BYTES {
            return Err(bad_response(format!(
                "relay sent a {}-byte frame; the limit is {MAX_SERVER_FRAME_BYTES}",
                text.len()
            )));
        }
        let message: WsServerMessage = serde_json::from_str(text).map_err(|e| {
            bad_response(format!(
                "relay sent a frame that is not a protocol message: {e}"
            ))
        })?;
        match message {
            WsServerMessage::Response { id, result } => self.on_answer(id, Ok(result), now),
            WsServerMessage::Error {
                id: Some(id),
                error,
            } => self.on_answer(id, Err(error), now),
            WsServerMessage::Error { id: None, error } => {
                Ok(Some(Output::Unrouted(relay_error(error))))
            }
            WsServerMessage::Event {
                subscription,
                event,
            } => self.on_event(subscription, event),
        }
    }

    /// Ends the connection state: every pending request fails with `error`
    /// (returned with its id), queued frames and subscriptions are dropped,
    /// and later calls to [`Self::start`] fail with `error`.
    pub fn fail_all(&mut self, error: ClientError) -> Vec<(u64, ClientError)> {
        let failed = std::mem::take(&mut self.pending)
            .into_keys()
            .map(|id| (id, error.clone()))
            .collect();
        self.queue.clear();
        self.subscriptions.clear();
        self.abandoned_subscribes.clear();
        self.closed.get_or_insert(error);
        failed
    }

    /// Why the connection ended, if it has.
    pub fn closed(&self) -> Option<&ClientError> {
        self.closed.as_ref()
    }

    /// Whether `subscription` is live.
    pub fn is_subscribed(&self, subscription: u64) -> bool {
        self.subscriptions.contains_key(&subscription)
    }

    /// Live subscriptions and what they watch.
    pub fn subscriptions(&self) -> impl Iterator<Item = (u64, Target)> + '_ {
        self.subscriptions.iter().map(|(id, t)| (*id, *t))
    }

    /// Requests waiting for an answer (sent or queued).
    pub fn pending_count(&self) -> usize {
        self.pending.len()
    }

    fn subscription_slots_used(&self) -> usize {
        let in_flight = self
            .pending
            .values()
            .filter(|p| matches!(p.expect, Expect::Subscribed(_)))
            .count();
        self.subscriptions.len() + in_flight + self.abandoned_subscribes.len()
    }

    fn on_answer(
        &mut self,
        id: u64,
        answer: Result<serde_json::Value, ApiError>,
        now: u64,
    ) -> Result<Option<Output>, ClientError> {
        if self.abandoned_subscribes.remove(&id) {
            // The caller gave up on this subscription; release the relay's slot.
            if let Ok(value) = answer {
                if let Ok(params @ SubscriptionParams { .. }) = serde_json::from_value(value) {
                    let params = to_value(&params)?;
                    // The answer to this internal request is ignored (no one waits for it).
                    self.enqueue(
                        ws_methods::UNSUBSCRIBE,
                        params,
                        Expect::Unsubscribed,
                        now,
                        DEFAULT_REQUEST_TIMEOUT_MS,
                    )?;
                }
            }
            return Ok(None);
        }
        let pending = match self.pending.get(&id) {
            Some(p) if p.sent => self.pending.remove(&id).expect("present"),
            Some(_) => {
                return Err(bad_response(format!(
                    "relay answered request {id} before it was sent"
                )))
            }
            None if id >= self.next_id => {
                return Err(bad_response(format!(
                    "relay answered request {id}, which was never sent"
                )))
            }
            // A late answer to a request that timed out.
            None => return Ok(None),
        };
        let result = match answer {
            Err(error) => Err(relay_error(error)),
            Ok(value) => self.check_result(pending.expect, value),
        };
        Ok(Some(Output::Reply { id, result }))
    }

    fn check_result(
        &mut self,
        expect: Expect,
        value: serde_json::Value,
    ) -> Result<Reply, ClientError> {
        match expect {
            Expect::NetworkStatus => {
                let status: NetworkStatus = parse(value, "network status")?;
                ruv_protocol::tx::validate_chain_id(&status.chain_id).map_err(|_| {
                    bad_response(format!(
                        "relay reported an invalid chain id {:?}",
                        status.chain_id
                    ))
                })?;
                Ok(Reply::NetworkStatus(status))
            }
            Expect::Account(address) => {
                let info: AccountInfo = parse(value, "account")?;
                if info.address != address {
                    return Err(bad_response(format!(
                        "asked for account {address}, relay answered for {}",
                        info.address
                    )));
                }
                Ok(Reply::Account(info))
            }
            Expect::Transaction(id) => {
                let status: TxStatus = parse(value, "transaction status")?;
                if status.id != id {
                    return Err(bad_response(format!(
                        "asked about transaction {id}, relay answered about {}",
                        status.id
                    )));
                }
                check_status(&status)?;
                Ok(Reply::Transaction(status))
            }
            Expect::Subscribed(target) => {
                let SubscriptionParams { subscription } = parse(value, "subscription")?;
                if subscription > MAX_SAFE_INTEGER {
                    return Err(bad_response(format!(
                        "subscription id {subscription} is too large"
                    )));
                }
                if self.subscriptions.contains_key(&subscription) {
                    return Err(bad_response(format!(
                        "relay reused live subscription id {subscription}"
                    )));
                }
                self.subscriptions.insert(subscription, target);
                Ok(Reply::Subscribed(subscription))
            }
            Expect::Unsubscribed => {
                if value.is_object() {
                    Ok(Reply::Unsubscribed)
                } else {
                    Err(bad_response("unsubscribe result is not an object"))
                }
            }
            Expect::Checkpoint(number) => {
                let checkpoint: CertifiedCheckpoint = parse(value, "checkpoint")?;
                if let Some(number) = number {
                    if checkpoint.header.number != number {
                        return Err(bad_response(format!(
                            "asked for checkpoint {number}, relay sent {}",
                            checkpoint.header.number
                        )));
                    }
                }
                Ok(Reply::Checkpoint(Box::new(checkpoint)))
            }
            Expect::AccountProof(address) => {
                let proof: AccountProof = parse(value, "account proof")?;
                if proof.address != address {
                    return Err(bad_response(format!(
                        "asked to prove account {address}, relay proved {}",
                        proof.address
                    )));
                }
                Ok(Reply::AccountProof(proof))
            }
            Expect::TransactionProof(id) => {
                let proof: TransactionProof = parse(value, "transaction proof")?;
                if proof.id != id {
                    return Err(bad_response(format!(
                        "asked to prove transaction {id}, relay proved {}",
                        proof.id
                    )));
                }
                Ok(Reply::TransactionProof(proof))
            }
            Expect::NonceProof(address, nonce) => {
                let proof: TransactionProof = parse(value, "nonce proof")?;
                if proof.from != address || proof.nonce != nonce {
                    return Err(bad_response(format!(
                        "asked who used nonce {nonce} of {address}, relay answered for nonce {} of {}",
                        proof.nonce, proof.from
                    )));
                }
                Ok(Reply::TransactionProof(proof))
            }
            Expect::History(address, limit) => {
                let page: AccountHistory = parse(value, "history")?;
                if page.address != address {
                    return Err(bad_response(format!(
                        "asked for the history of {address}, relay answered for {}",
                        page.address
                    )));
                }
                if page.entries.len() > limit {
                    return Err(bad_response(format!(
                        "asked for at most {limit} history entries, relay sent {}",
                        page.entries.len()
                    )));
                }
                Ok(Reply::History(Box::new(page)))
            }
        }
    }

    fn on_event(
        &mut self,
        subscription: u64,
        event: WsEvent,
    ) -> Result<Option<Output>, ClientError> {
        // Ended or cancelled subscriptions may still have events in flight.
        let Some(target) = self.subscriptions.get(&subscription).copied() else {
            return Ok(None);
        };
        let last = match (&target, &event) {
            (Target::Account(address), WsEvent::Account(info)) if info.address == *address => false,
            (Target::Account(address), WsEvent::AccountProof(proof))
                if proof.address == *address =>
            {
                false
            }
            (Target::Checkpoints, WsEvent::Checkpoint(_)) => false,
            (Target::Transaction(id), WsEvent::Transaction(status)) if status.id == *id => {
                check_status(status)?;
                status.status != TxState::Pending
            }
            _ => {
                return Err(bad_response(format!(
                    "event on subscription {subscription} does not match what it watches"
                )))
            }
        };
        if last {
            self.subscriptions.remove(&subscription);
        }
        Ok(Some(Output::Event {
            subscription,
            event,
            last,
        }))
    }
}

fn to_value<T: serde::Serialize>(params: &T) -> Result<serde_json::Value, ClientError> {
    serde_json::to_value(params).map_err(|e| ClientError::new(codes::INVALID_PARAMS, e.to_string()))
}

fn parse<T: serde::de::DeserializeOwned>(
    value: serde_json::Value,
    what: &str,
) -> Result<T, ClientError> {
    serde_json::from_value(value)
        .map_err(|e| bad_response(format!("relay sent a malformed {what}: {e}")))
}

/// A relay's error, passed on with its code if the code looks like one.
fn relay_error(error: ApiError) -> ClientError {
    let code_ok = !error.code.is_empty()
        && error.code.len() <= 64
        && error
            .code
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if !code_ok {
        return bad_response("relay sent an error with a malformed code");
    }
    let message = match error.message.char_indices().nth(MAX_ERROR_MESSAGE_CHARS) {
        Some((cut, _)) => format!("{}…", &error.message[..cut]),
        None => error.message,
    };
    ClientError::new(&error.code, message)
}

/// A status carries a reason exactly when it is a rejection or an expiry.
fn check_status(status: &TxStatus) -> Result<(), ClientError> {
    match (status.status.has_reason(), &status.reason) {
        (true, Some(reason)) => {
            let checked = relay_error(reason.clone());
            if checked.code == codes::BAD_RELAY_RESPONSE {
                return Err(checked);
            }
            Ok(())
        }
        (true, None) => Err(bad_response(
            "relay reported a rejection or expiry without a reason",
        )),
        (false, Some(_)) => Err(bad_response(
            "relay gave a reason for a transaction that is neither rejected nor expired",
        )),
        (false, None) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ruv_protocol::crypto::SigningKey;
    use ruv_protocol::Transfer;
    use serde_json::{json, Value};

    const T0: u64 = 1_000_000;

    fn address(n: u8) -> Address {
        Address::from_public_key(SigningKey::from_seed(&[n; 32]).public_key())
    }

    fn signed(nonce: u64) -> SignedTransfer {
        let key = SigningKey::from_seed(&[7; 32]);
        Transfer {
            chain_id: "ruv-devnet".into(),
            from: Address::from_public_key(key.public_key()),
            to: address(2),
            amount: 5,
            fee: 10_000,
            nonce,
            memo: String::new(),
            public_key: key.public_key().clone(),
        }
        .sign(&key, [0; 32])
        .unwrap()
    }

    /// Starts a request and sends it; returns its id and the parsed frame.
    fn send(core: &mut ClientCore, request: Request) -> (u64, Value) {
        let id = core.start(request, T0, DEFAULT_REQUEST_TIMEOUT_MS).unwrap();
        let frame = core.poll_transmit(T0).expect("a token is available");
        (id, serde_json::from_str(&frame).unwrap())
    }

    fn reply(core: &mut ClientCore, frame: Value) -> Result<Reply, ClientError> {
        match core.handle_frame(&frame.to_string(), T0).unwrap() {
            Some(Output::Reply { result, .. }) => result,
            other => panic!("expected a reply, got {other:?}"),
        }
    }

    fn account_json(address: Address, balance: &str) -> Value {
        json!({"address": address.to_string(), "balance": balance, "nonce": "3"})
    }

    #[test]
    fn ids_increase_and_frames_match_the_protocol() {
        let mut core = ClientCore::new(T0);
        let (a, fa) = send(&mut core, Request::NetworkStatus);
        let (b, fb) = send(&mut core, Request::GetAccount(address(1)));
        let tx = signed(1);
        let (c, fc) = send(&mut core, Request::Submit(Box::new(tx.clone())));
        assert_eq!((a, b, c), (1, 2, 3));
        assert_eq!(
            fa,
            json!({"id": 1, "method": "network_status", "params": {}})
        );
        assert_eq!(
            fb,
            json!({"id": 2, "method": "get_account", "params": {"address": address(1).to_string()}})
        );
        assert_eq!(fc["method"], "submit_transaction");
        // The relay's own parser reads the transaction back unchanged.
        let params: SubmitParams = serde_json::from_value(fc["params"].clone()).unwrap();
        assert_eq!(params.transaction, tx);
        assert_eq!(core.pending_count(), 3);
    }

    #[test]
    fn answers_are_routed_by_id_and_checked() {
        let mut core = ClientCore::new(T0);
        let (a, _) = send(&mut core, Request::GetAccount(address(1)));
        let (b, _) = send(&mut core, Request::GetAccount(address(2)));
        // Out of order answers go to the right request.
        let rb = reply(
            &mut core,
            json!({"id": b, "result": account_json(address(2), "42")}),
        );
        assert_eq!(
            rb,
            Ok(Reply::Account(AccountInfo {
                address: address(2),
                balance: 42,
                nonce: 3
            }))
        );
        // An answer for another address than asked is refused.
        let ra = reply(
            &mut core,
            json!({"id": a, "result": account_json(address(3), "1")}),
        )
        .unwrap_err();
        assert_eq!(ra.code, codes::BAD_RELAY_RESPONSE);
        assert_eq!(core.pending_count(), 0);
    }

    #[test]
    fn submission_answer_must_name_the_local_id() {
        let mut core = ClientCore::new(T0);
        let tx = signed(1);
        let (id, _) = send(&mut core, Request::Submit(Box::new(tx.clone())));
        let other = signed(2).id();
        let r = reply(
            &mut core,
            json!({"id": id, "result": {"id": other.to_string(), "status": "pending"}}),
        );
        assert_eq!(r.unwrap_err().code, codes::BAD_RELAY_RESPONSE);

        let (id, _) = send(&mut core, Request::Submit(Box::new(tx.clone())));
        let r = reply(
            &mut core,
            json!({"id": id, "result": {"id": tx.id().to_string(), "status": "pending"}}),
        );
        assert_eq!(
            r,
            Ok(Reply::Transaction(TxStatus {
                id: tx.id(),
                status: TxState::Pending,
                reason: None
            }))
        );
    }

    #[test]
    fn relay_errors_pass_through_with_their_code() {
        let mut core = ClientCore::new(T0);
        let (id, _) = send(&mut core, Request::Submit(Box::new(signed(1))));
        let r = reply(
            &mut core,
            json!({"id": id, "error": {"code": "mempool_full", "message": "try later"}}),
        );
        assert_eq!(r, Err(ClientError::new("mempool_full", "try later")));
        // A code that is not a code becomes bad_relay_response.
        let (id, _) = send(&mut core, Request::NetworkStatus);
        let r = reply(
            &mut core,
            json!({"id": id, "error": {"code": "<script>", "message": "x"}}),
        );
        assert_eq!(r.unwrap_err().code, codes::BAD_RELAY_RESPONSE);
        // Long messages are cut.
        let (id, _) = send(&mut core, Request::NetworkStatus);
        let r = reply(
            &mut core,
            json!({"id": id, "error": {"code": "internal", "message": "x".repeat(5000)}}),
        );
        assert_eq!(
            r.unwrap_err().message.chars().count(),
            MAX_ERROR_MESSAGE_CHARS + 1
        );
    }

    #[test]
    fn malformed_results_fail_only_their_request() {
        let mut core = ClientCore::new(T0);
        let (a, _) = send(&mut core, Request::NetworkStatus);
        let (b, _) = send(&mut core, Request::GetAccount(address(1)));
        let r = reply(&mut core, json!({"id": a, "result": {"chain_id": "x"}})).unwrap_err();
        assert_eq!(r.code, codes::BAD_RELAY_RESPONSE);
        // Balance as a JSON number (loses precision in JS) is not the protocol.
        let mut bad = account_json(address(1), "0");
        bad["balance"] = json!(12);
        assert_eq!(
            reply(&mut core, json!({"id": b, "result": bad}))
                .unwrap_err()
                .code,
            codes::BAD_RELAY_RESPONSE
        );
        assert!(core.closed().is_none());
    }

    #[test]
    fn network_status_parses_and_chain_id_is_checked() {
        let status = json!({
            "chain_id": "ruv-devnet", "relay": "relay-0", "version": "0.1.0", "validators": 4,
            "peers_connected": 3, "accepted_transactions": "10", "pending_transactions": "0",
            "faucet": true, "fees": {"base": "1000", "per_byte": "1", "burn_percent": 50},
            "genesis_hash": "ab".repeat(32), "latest_checkpoint": "7"
        });
        let mut core = ClientCore::new(T0);
        let (id, _) = send(&mut core, Request::NetworkStatus);
        match reply(&mut core, json!({"id": id, "result": status.clone()})).unwrap() {
            Reply::NetworkStatus(s) => {
                assert_eq!(s.chain_id, "ruv-devnet");
                assert_eq!(s.fees.minimum_fee(10), Some(1010));
            }
            other => panic!("{other:?}"),
        }
        let mut bad = status;
        bad["chain_id"] = json!("Not A Chain");
        let (id, _) = send(&mut core, Request::NetworkStatus);
        assert_eq!(
            reply(&mut core, json!({"id": id, "result": bad}))
                .unwrap_err()
                .code,
            codes::BAD_RELAY_RESPONSE
        );
    }

    #[test]
    fn unparseable_or_unattributable_frames_are_fatal() {
        for frame in [
            "not json".to_string(),
            json!({"hello": 1}).to_string(),
            json!({"id": 99, "result": {}}).to_string(), // never sent
            " ".repeat(MAX_SERVER_FRAME_BYTES + 1),
        ] {
            let mut core = ClientCore::new(T0);
            send(&mut core, Request::NetworkStatus);
            let err = core.handle_frame(&frame, T0).unwrap_err();
            assert_eq!(err.code, codes::BAD_RELAY_RESPONSE, "{frame:.40}");
        }
    }

    #[test]
    fn answer_to_a_queued_unsent_request_is_fatal() {
        let mut core = ClientCore::new(T0);
        let id = core.start(Request::NetworkStatus, T0, 1000).unwrap();
        let err = core
            .handle_frame(&json!({"id": id, "result": {}}).to_string(), T0)
            .unwrap_err();
        assert_eq!(err.code, codes::BAD_RELAY_RESPONSE);
    }

    #[test]
    fn errors_without_id_are_reported_unrouted() {
        let mut core = ClientCore::new(T0);
        let out = core
            .handle_frame(
                r#"{"id":null,"error":{"code":"malformed_json","message":"?"}}"#,
                T0,
            )
            .unwrap();
        assert_eq!(
            out,
            Some(Output::Unrouted(ClientError::new("malformed_json", "?")))
        );
    }

    #[test]
    fn account_subscription_routes_checked_events_until_unsubscribed() {
        let mut core = ClientCore::new(T0);
        let (id, frame) = send(&mut core, Request::Subscribe(Target::Account(address(1))));
        assert_eq!(frame["method"], "subscribe_account");
        assert_eq!(
            reply(&mut core, json!({"id": id, "result": {"subscription": 5}})),
            Ok(Reply::Subscribed(5))
        );
        assert!(core.is_subscribed(5));

        let event = json!({"subscription": 5, "event": {"type": "account", "address": address(1).to_string(), "balance": "7", "nonce": "0"}});
        match core.handle_frame(&event.to_string(), T0).unwrap() {
            Some(Output::Event {
                subscription: 5,
                event: WsEvent::Account(info),
                last: false,
            }) => {
                assert_eq!(info.balance, 7)
            }
            other => panic!("{other:?}"),
        }
        // An event for another account on this subscription is a lie.
        let wrong = json!({"subscription": 5, "event": {"type": "account", "address": address(2).to_string(), "balance": "7", "nonce": "0"}});
        assert_eq!(
            core.handle_frame(&wrong.to_string(), T0).unwrap_err().code,
            codes::BAD_RELAY_RESPONSE
        );

        let (uid, frame) = send(&mut core, Request::Unsubscribe(5));
        assert_eq!(frame["params"], json!({"subscription": 5}));
        assert!(!core.is_subscribed(5));
        // Events still in flight after unsubscribing are dropped, not delivered.
        assert_eq!(core.handle_frame(&event.to_string(), T0).unwrap(), None);
        assert_eq!(
            reply(&mut core, json!({"id": uid, "result": {}})),
            Ok(Reply::Unsubscribed)
        );
        // Unsubscribing twice is a caller error, caught locally.
        assert_eq!(
            core.start(Request::Unsubscribe(5), T0, 10)
                .unwrap_err()
                .code,
            codes::INVALID_PARAMS
        );
    }

    #[test]
    fn transaction_subscription_ends_at_a_final_status() {
        let mut core = ClientCore::new(T0);
        let txid = signed(1).id();
        let (id, frame) = send(&mut core, Request::Subscribe(Target::Transaction(txid)));
        assert_eq!(
            frame,
            json!({"id": id, "method": "subscribe_transaction", "params": {"id": txid.to_string()}})
        );
        reply(&mut core, json!({"id": id, "result": {"subscription": 1}})).unwrap();
        let pending = json!({"subscription": 1, "event": {"type": "transaction", "id": txid.to_string(), "status": "pending"}});
        assert!(matches!(
            core.handle_frame(&pending.to_string(), T0).unwrap(),
            Some(Output::Event { last: false, .. })
        ));
        let accepted = json!({"subscription": 1, "event": {"type": "transaction", "id": txid.to_string(), "status": "accepted"}});
        assert!(matches!(
            core.handle_frame(&accepted.to_string(), T0).unwrap(),
            Some(Output::Event { last: true, .. })
        ));
        assert!(!core.is_subscribed(1));
        assert_eq!(core.handle_frame(&accepted.to_string(), T0).unwrap(), None);
    }

    #[test]
    fn rejection_and_expiry_need_a_reason_and_only_they_have_one() {
        let txid = signed(1).id().to_string();
        let cases = [
            (
                json!({"id": txid, "status": "rejected", "reason": {"code": "nonce_gap", "message": "gap"}}),
                true,
            ),
            (json!({"id": txid, "status": "rejected"}), false),
            (
                json!({"id": txid, "status": "expired", "reason": {"code": "nonce_gap", "message": "gap"}}),
                true,
            ),
            (json!({"id": txid, "status": "expired"}), false),
            (
                json!({"id": txid, "status": "accepted", "reason": {"code": "nonce_gap", "message": "gap"}}),
                false,
            ),
            (
                json!({"id": txid, "status": "rejected", "reason": {"code": "BAD CODE", "message": "gap"}}),
                false,
            ),
            (json!({"id": txid, "status": "maybe"}), false),
        ];
        for (status, ok) in cases {
            let mut core = ClientCore::new(T0);
            let (id, _) = send(&mut core, Request::GetTransaction(signed(1).id()));
            let r = reply(&mut core, json!({"id": id, "result": status.clone()}));
            assert_eq!(r.is_ok(), ok, "{status}");
        }
        // "expired" is its own state, not a rejection.
        let mut core = ClientCore::new(T0);
        let (id, _) = send(&mut core, Request::GetTransaction(signed(1).id()));
        let expired = json!({"id": txid, "status": "expired", "reason": {"code": "nonce_gap", "message": "gap"}});
        match reply(&mut core, json!({"id": id, "result": expired})) {
            Ok(Reply::Transaction(status)) => {
                assert_eq!(status.status, TxState::Expired);
                assert_eq!(status.reason.map(|r| r.code), Some("nonce_gap".to_owned()));
            }
            other => panic!("expected an expired status, got {other:?}"),
        }
    }

    #[test]
    fn subscription_ids_must_be_fresh_and_safe_integers() {
        let mut core = ClientCore::new(T0);
        let (a, _) = send(&mut core, Request::Subscribe(Target::Account(address(1))));
        let (b, _) = send(&mut core, Request::Subscribe(Target::Account(address(2))));
        let (c, _) = send(&mut core, Request::Subscribe(Target::Account(address(3))));
        reply(&mut core, json!({"id": a, "result": {"subscription": 1}})).unwrap();
        assert_eq!(
            reply(&mut core, json!({"id": b, "result": {"subscription": 1}}))
                .unwrap_err()
                .code,
            codes::BAD_RELAY_RESPONSE
        );
        let big = json!({"id": c, "result": {"subscription": MAX_SAFE_INTEGER + 1}});
        assert_eq!(
            reply(&mut core, big).unwrap_err().code,
            codes::BAD_RELAY_RESPONSE
        );
        assert_eq!(
            core.subscriptions().collect::<Vec<_>>(),
            vec![(1, Target::Account(address(1)))]
        );
    }

    #[test]
    fn subscription_limit_counts_live_and_in_flight() {
        let mut core = ClientCore::new(T0);
        for i in 0..limits::MAX_SUBSCRIPTIONS_PER_CONNECTION {
            core.start(
                Request::Subscribe(Target::Account(address(i as u8))),
                T0,
                1000,
            )
            .unwrap();
        }
        let err = core
            .start(Request::Subscribe(Target::Account(address(200))), T0, 1000)
            .unwrap_err();
        assert_eq!(err.code, api::codes::TOO_MANY_SUBSCRIPTIONS);
    }

    #[test]
    fn rate_limit_paces_frames() {
        let mut core = ClientCore::new(T0);
        let total = CLIENT_BURST + 3;
        for _ in 0..total {
            core.start(Request::NetworkStatus, T0, 60_000).unwrap();
        }
        let mut sent = 0;
        while core.poll_transmit(T0).is_some() {
            sent += 1;
        }
        assert_eq!(sent, CLIENT_BURST);
        // The driver is told when the next one may go, and it may go then, not before.
        let at = core.next_wakeup().unwrap();
        assert!(at > T0);
        assert_eq!(at, T0 + 1000 / CLIENT_RATE_PER_SECOND);
        assert!(core.poll_transmit(at - 1).is_none());
        assert!(core.poll_transmit(at).is_some());
    }

    #[test]
    fn timeouts_fire_at_the_deadline_and_late_answers_are_ignored() {
        let mut core = ClientCore::new(T0);
        let id = core.start(Request::NetworkStatus, T0, 500).unwrap();
        core.poll_transmit(T0).unwrap();
        assert_eq!(core.next_wakeup(), Some(T0 + 500));
        assert!(core.poll_timeouts(T0 + 499).is_empty());
        let expired = core.poll_timeouts(T0 + 500);
        assert_eq!(expired.len(), 1);
        assert_eq!(expired[0].0, id);
        assert_eq!(expired[0].1.code, codes::TIMEOUT);
        assert_eq!(
            core.handle_frame(&json!({"id": id, "result": {}}).to_string(), T0)
                .unwrap(),
            None
        );
        assert_eq!(core.next_wakeup(), None);
    }

    #[test]
    fn a_queued_request_that_times_out_is_never_sent() {
        let mut core = ClientCore::new(T0);
        for _ in 0..CLIENT_BURST {
            core.start(Request::NetworkStatus, T0, 60_000).unwrap();
            core.poll_transmit(T0).unwrap();
        }
        core.start(Request::NetworkStatus, T0, 1).unwrap();
        assert_eq!(core.poll_timeouts(T0 + 1).len(), 1);
        assert!(core.poll_transmit(T0 + 10_000).is_none());
    }

    #[test]
    fn late_subscription_after_timeout_is_cancelled() {
        let mut core = ClientCore::new(T0);
        let (id, _) = send(&mut core, Request::Subscribe(Target::Account(address(1))));
        assert_eq!(core.poll_timeouts(T0 + DEFAULT_REQUEST_TIMEOUT_MS).len(), 1);
        assert_eq!(
            core.handle_frame(
                &json!({"id": id, "result": {"subscription": 9}}).to_string(),
                T0
            )
            .unwrap(),
            None
        );
        let frame: Value =
            serde_json::from_str(&core.poll_transmit(T0 + DEFAULT_REQUEST_TIMEOUT_MS).unwrap())
                .unwrap();
        assert_eq!(frame["method"], "unsubscribe");
        assert_eq!(frame["params"], json!({"subscription": 9}));
        assert!(!core.is_subscribed(9));
    }

    #[test]
    fn fail_all_fails_everything_and_closes() {
        let mut core = ClientCore::new(T0);
        send(&mut core, Request::NetworkStatus);
        let (id, _) = send(&mut core, Request::Subscribe(Target::Account(address(1))));
        reply(&mut core, json!({"id": id, "result": {"subscription": 1}})).unwrap();
        core.start(Request::GetAccount(address(1)), T0, 10).unwrap();
        let failed = core.fail_all(ClientError::new(codes::CONNECTION, "gone"));
        // Both the sent request and the queued one fail.
        assert_eq!(
            failed.iter().map(|(id, _)| *id).collect::<Vec<_>>(),
            vec![1, 3]
        );
        assert!(failed.iter().all(|(_, e)| e.code == codes::CONNECTION));
        assert_eq!(core.subscriptions().count(), 0);
        assert!(core.poll_transmit(T0).is_none());
        assert_eq!(
            core.start(Request::NetworkStatus, T0, 10).unwrap_err().code,
            codes::CONNECTION
        );
        assert_eq!(core.handle_frame("garbage", T0).unwrap(), None);
    }
}
