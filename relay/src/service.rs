//! The client API's operations, shared by the REST and WebSocket drivers.
//! Each returns the API's JSON types or an [`ApiError`] with a stable code.

use crate::admission;
use crate::faucet::{Faucet, FAUCET_AMOUNT};
use crate::http::limits::{ClientLimits, IpLimiter};
use crate::metrics::Metrics;
use crate::node::{NodeEvent, NodeHandle};
use ruv_protocol::api::{
    codes, limits, AccountHistory, AccountInfo, ApiError, FaucetChallenge, FaucetProof,
    FeeEstimate, HistoryParams, NetworkStatus, RelayRole, TxState, TxStatus,
};
use ruv_protocol::checkpoint::{CertifiedCheckpoint, Hash32};
use ruv_protocol::ledger::{LedgerRules, TxRejection};
use ruv_protocol::light::{AccountProof, TransactionProof};
use ruv_protocol::tx::{SignedTransfer, Transfer, MAX_MEMO_LEN, SIGNED_TRANSFER_FIXED_LEN};
use ruv_protocol::{Address, Genesis, TxId};
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::broadcast;

/// Capacity of the event fan-out; a subscriber that falls this far behind is disconnected.
pub const EVENT_BUFFER: usize = 4096;

/// Shared state of a running relay.
pub struct RelayState {
    /// Relay name.
    pub name: String,
    /// The network's genesis.
    pub genesis: Genesis,
    rules: LedgerRules,
    node: NodeHandle,
    events: broadcast::Sender<NodeEvent>,
    faucet: Option<tokio::sync::Mutex<Faucet>>,
    /// Prometheus series.
    pub metrics: Arc<Metrics>,
    /// Cancelled when the relay shuts down.
    pub shutdown: tokio_util::sync::CancellationToken,
    /// WebSocket requests per client IP, over all its connections.
    pub ws_budget: IpLimiter,
    /// Faucet requests per client IP.
    pub faucet_budget: IpLimiter,
    /// A follower's upstream validators (empty: this relay is a validator).
    upstreams: Vec<String>,
}

/// The WebSocket and faucet budgets per IP.
fn budgets(limits: &ClientLimits) -> (IpLimiter, IpLimiter) {
    (
        IpLimiter::per_second(limits.ws_per_second, limits.ws_burst),
        IpLimiter::every_seconds(limits.faucet_seconds_per_request, limits.faucet_burst),
    )
}

fn internal(e: impl std::fmt::Display) -> ApiError {
    tracing::error!(error = %e, "internal error");
    ApiError::new(codes::INTERNAL, "internal error; see the relay's log")
}

impl RelayState {
    /// Assembles the state around a running consensus node.
    pub fn new(
        name: String,
        genesis: Genesis,
        node: NodeHandle,
        events: broadcast::Sender<NodeEvent>,
        faucet: Option<Faucet>,
        metrics: Arc<Metrics>,
        shutdown: tokio_util::sync::CancellationToken,
    ) -> Self {
        let (ws_budget, faucet_budget) = budgets(&ClientLimits::default());
        Self {
            name,
            rules: LedgerRules::from_genesis(&genesis),
            genesis,
            node,
            events,
            faucet: faucet.map(tokio::sync::Mutex::new),
            metrics,
            shutdown,
            ws_budget,
            faucet_budget,
            upstreams: Vec::new(),
        }
    }

    /// The same state for a follower of `upstreams`.
    pub fn following(self, upstreams: Vec<String>) -> Self {
        Self { upstreams, ..self }
    }

    /// The same state with other per-IP budgets than the defaults.
    pub fn with_limits(self, limits: &ClientLimits) -> Self {
        let (ws_budget, faucet_budget) = budgets(limits);
        Self {
            ws_budget,
            faucet_budget,
            ..self
        }
    }

    /// The handle to the consensus driver.
    pub fn node(&self) -> &NodeHandle {
        &self.node
    }

    /// Subscribes to every node event.
    pub fn subscribe(&self) -> broadcast::Receiver<NodeEvent> {
        self.events.subscribe()
    }

    /// `network_status`, from the published snapshot.
    pub fn network_status(&self) -> NetworkStatus {
        let snapshot = self.node.snapshot();
        NetworkStatus {
            chain_id: self.genesis.chain_id.clone(),
            relay: self.name.clone(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            validators: self.genesis.validators.len() as u32,
            peers_connected: self.metrics.peers_connected.get() as u32,
            accepted_transactions: snapshot.accepted_transactions,
            pending_transactions: snapshot.pending_transactions,
            faucet: self.faucet.is_some(),
            fees: self.genesis.fees.clone(),
            genesis_hash: Hash32(self.genesis.hash()),
            latest_checkpoint: snapshot
                .latest_checkpoint
                .as_ref()
                .map_or(0, |c| c.header.number),
            role: if self.upstreams.is_empty() {
                RelayRole::Validator
            } else {
                RelayRole::Follower
            },
            upstreams: self.upstreams.clone(),
        }
    }

    /// `GET /checkpoints/latest`, `get_checkpoint` without a number.
    pub fn latest_checkpoint(&self) -> Result<CertifiedCheckpoint, ApiError> {
        self.node
            .snapshot()
            .latest_checkpoint
            .as_deref()
            .cloned()
            .ok_or_else(|| ApiError::new(codes::NOT_CERTIFIED, "no checkpoint is certified yet"))
    }

    /// `GET /checkpoints/{number}`, `get_checkpoint`.
    pub async fn checkpoint(&self, number: u64) -> Result<CertifiedCheckpoint, ApiError> {
        self.node.checkpoint(number).await?.ok_or_else(|| {
            ApiError::new(
                codes::NOT_FOUND,
                format!("this relay holds no certified checkpoint {number}"),
            )
        })
    }

    /// `GET /accounts/{address}/proof`, `get_account_proof`.
    pub async fn account_proof(&self, address: Address) -> Result<AccountProof, ApiError> {
        self.node
            .account_proof(address)
            .await?
            .ok_or_else(|| ApiError::new(codes::NOT_CERTIFIED, "no checkpoint is certified yet"))
    }

    /// `GET /accounts/{address}/nonces/{nonce}/proof`, `get_nonce_proof`.
    pub async fn nonce_proof(
        &self,
        address: Address,
        nonce: u64,
    ) -> Result<TransactionProof, ApiError> {
        self.node.nonce_proof(address, nonce).await?.ok_or_else(|| {
            ApiError::new(
                codes::NOT_CERTIFIED,
                format!(
                    "no certified checkpoint holds a transaction of {address} with nonce {nonce}"
                ),
            )
        })
    }

    /// `GET /transactions/{id}/proof`, `get_transaction_proof`.
    pub async fn transaction_proof(&self, id: TxId) -> Result<TransactionProof, ApiError> {
        self.node.transaction_proof(id).await?.ok_or_else(|| {
            ApiError::new(
                codes::NOT_CERTIFIED,
                format!("transaction {id} is in no certified checkpoint (yet)"),
            )
        })
    }

    /// `GET /accounts/{address}/history`, `get_history`: a page of the
    /// account's included transactions, newest first, each with its proof.
    pub async fn history(&self, params: HistoryParams) -> Result<AccountHistory, ApiError> {
        let limit = params.limit.unwrap_or(limits::DEFAULT_HISTORY_PAGE);
        if !(1..=limits::MAX_HISTORY_PAGE).contains(&limit) {
            return Err(ApiError::new(
                codes::MALFORMED_JSON,
                format!(
                    "limit must be 1 to {} (got {limit})",
                    limits::MAX_HISTORY_PAGE
                ),
            ));
        }
        self.node.history(params, limit).await
    }

    /// `get_account`, from the published snapshot.
    pub fn account(&self, address: Address) -> AccountInfo {
        self.node.snapshot().account(address)
    }

    /// `get_transaction`.
    pub async fn tx_status(&self, id: TxId) -> Result<TxStatus, ApiError> {
        self.node
            .tx_status(id)
            .await?
            .ok_or_else(|| ApiError::new(codes::NOT_FOUND, format!("no transaction {id}")))
    }

    /// The minimum fee for a transfer with `memo_bytes` of memo.
    pub fn fee_estimate(&self, memo_bytes: usize) -> Result<FeeEstimate, ApiError> {
        if memo_bytes > MAX_MEMO_LEN {
            return Err(ApiError::new(
                codes::MALFORMED_JSON,
                format!("memo_bytes must be at most {MAX_MEMO_LEN}"),
            ));
        }
        let size = SIGNED_TRANSFER_FIXED_LEN + self.genesis.chain_id.len() + memo_bytes;
        let minimum_fee = self
            .genesis
            .fees
            .minimum_fee(size)
            .ok_or_else(|| internal("fee overflow"))?;
        Ok(FeeEstimate {
            size_bytes: size as u32,
            minimum_fee,
        })
    }

    /// `submit_transaction`: checks what needs no consensus (chain, fee, a
    /// nonce already used, then the signature), then hands it to consensus.
    /// Answers `pending` (or `accepted` if it already was: resubmission is
    /// idempotent); the final verdict arrives as a transaction event.
    pub async fn submit(self: &Arc<Self>, tx: SignedTransfer) -> Result<TxStatus, ApiError> {
        self.metrics.transactions_submitted.inc();
        let result = self.check_and_submit(tx).await;
        if result.is_err() {
            self.metrics.transactions_rejected.inc();
        }
        result
    }

    async fn check_and_submit(self: &Arc<Self>, tx: SignedTransfer) -> Result<TxStatus, ApiError> {
        // Cheap checks first; the signature (the expensive one) last.
        let rejected = |rejection: TxRejection| ApiError::from(&rejection);
        self.rules.check_stateless(&tx, true).map_err(rejected)?;
        let snapshot = self.node.snapshot();
        let account = snapshot.account_state(&tx.transfer.from);
        let accepted_nonce = account.nonce;
        if tx.transfer.nonce <= accepted_nonce {
            // Already accepted (an idempotent resubmission), or a nonce used by another.
            if let Some(status) = self.node.tx_status(tx.id()).await? {
                if status.status == TxState::Accepted {
                    return Ok(status);
                }
            }
            return Err(rejected(TxRejection::StaleNonce {
                expected: accepted_nonce.saturating_add(1),
                got: tx.transfer.nonce,
            }));
        }
        // Admission control on the snapshot (the driver checks again, exactly).
        let pending = snapshot.sender_pending(&tx.transfer.from);
        if let Err(refusal) = admission::check(account, pending, &tx.transfer) {
            // A resubmission of one of the sender's pending transfers is
            // counted in `pending` already: let the driver answer it.
            let resubmitted = pending.count > 0
                && matches!(
                    self.node.tx_status(tx.id()).await?,
                    Some(TxStatus {
                        status: TxState::Pending,
                        ..
                    })
                );
            if !resubmitted {
                self.metrics.admission_refused.inc();
                return Err(refusal.to_api_error());
            }
        }
        // Latency-bounded admission on the snapshot, before the signature:
        // shedding must cost next to nothing (a check of the signature
        // for every shed transfer cost the overload a tenth of its
        // throughput). A resubmission of a transfer pending here goes on:
        // the driver answers it.
        if snapshot.sheds_submission(pending, || tx.id()) {
            self.metrics.admission_refused.inc();
            self.metrics.admission_shed.inc();
            return Err(crate::backpressure::shed_error());
        }
        drop(snapshot);
        let tx = tokio::task::spawn_blocking(move || {
            Arc::new(tx)
                .check_signature()
                .map_err(|_| TxRejection::BadSignature)
        })
        .await
        .map_err(internal)?
        .map_err(rejected)?;
        self.node.submit(tx).await
    }

    fn faucet_or_disabled(&self) -> Result<&tokio::sync::Mutex<Faucet>, ApiError> {
        self.faucet
            .as_ref()
            .ok_or_else(|| ApiError::new(codes::FAUCET_DISABLED, "this relay runs no faucet"))
    }

    /// A proof-of-work challenge for one faucet request.
    pub async fn faucet_challenge(&self) -> Result<FaucetChallenge, ApiError> {
        let faucet = self.faucet_or_disabled()?.lock().await;
        Ok(faucet.challenges.issue(unix_ms()))
    }

    /// Devnet faucet: pays [`FAUCET_AMOUNT`] to `to` with a real signed
    /// transfer, once `proof` solves a challenge of this relay for `to`.
    pub async fn faucet(
        self: &Arc<Self>,
        to: Address,
        proof: Option<FaucetProof>,
    ) -> Result<TxStatus, ApiError> {
        // One faucet payment at a time: each takes the next nonce.
        let mut faucet = self.faucet_or_disabled()?.lock().await;
        faucet.challenges.check(proof.as_ref(), &to, unix_ms())?;
        faucet.claim(to, Instant::now()).map_err(|wait| {
            ApiError::new(
                codes::FAUCET_COOLDOWN,
                format!(
                    "this address was paid recently; try again in {} ms",
                    wait.as_millis()
                ),
            )
        })?;
        faucet.challenges.spend(proof.as_ref());
        let from = faucet.address();
        let nonce = faucet.next_nonce(self.account(from).nonce);
        let transfer = Transfer {
            chain_id: self.genesis.chain_id.clone(),
            from,
            to,
            amount: FAUCET_AMOUNT,
            fee: self.fee_estimate(0)?.minimum_fee,
            nonce,
            memo: String::new(),
            public_key: faucet.key().public_key().clone(),
        };
        let tx = transfer
            .sign(faucet.key(), *crate::keys::random_seed())
            .map_err(internal)?;
        let tx = Arc::new(tx).check_signature().map_err(internal)?;
        let result = self.node.submit(tx).await;
        match &result {
            Ok(_) => faucet.used_nonce(nonce),
            Err(_) => faucet.forget_nonces(),
        }
        result
    }
}

/// Milliseconds since the Unix epoch (challenges carry wall-clock expiry).
fn unix_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}
