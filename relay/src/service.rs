//! The client API's operations, shared by the REST and WebSocket drivers.
//! Each returns the API's JSON types or an [`ApiError`] with a stable code.

use crate::faucet::{Faucet, FAUCET_AMOUNT};
use crate::node::{Admission, Node, NodeEvent};
use crate::storage::Storage;
use ruv_protocol::api::{
    codes, AccountInfo, ApiError, FeeEstimate, NetworkStatus, TxState, TxStatus,
};
use ruv_protocol::ledger::LedgerRules;
use ruv_protocol::tx::{SignedTransfer, Transfer, MAX_MEMO_LEN, SIGNED_TRANSFER_FIXED_LEN};
use ruv_protocol::{Address, Genesis, TxId};
use std::sync::Mutex;
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
    node: Mutex<Node>,
    storage: Storage,
    events: broadcast::Sender<NodeEvent>,
    faucet: Option<Mutex<Faucet>>,
    /// Prometheus series.
    pub metrics: crate::metrics::Metrics,
}

fn internal(e: impl std::fmt::Display) -> ApiError {
    tracing::error!(error = %e, "internal error");
    ApiError::new(codes::INTERNAL, "internal error; see the relay's log")
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic while holding the lock cannot leave the node half-updated (every
    // mutation is a single call after all checks), so the data is still usable.
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl RelayState {
    /// Assembles the state; `node` must have been restored from `storage`.
    pub fn new(
        name: String,
        genesis: Genesis,
        node: Node,
        storage: Storage,
        faucet: Option<Faucet>,
    ) -> Self {
        Self {
            name,
            rules: LedgerRules::from_genesis(&genesis),
            genesis,
            node: Mutex::new(node),
            storage,
            events: broadcast::channel(EVENT_BUFFER).0,
            faucet: faucet.map(Mutex::new),
            metrics: crate::metrics::Metrics::new(),
        }
    }

    /// Subscribes to every node event.
    pub fn subscribe(&self) -> broadcast::Receiver<NodeEvent> {
        self.events.subscribe()
    }

    /// `network_status`.
    pub fn network_status(&self) -> NetworkStatus {
        let node = lock(&self.node);
        NetworkStatus {
            chain_id: self.genesis.chain_id.clone(),
            relay: self.name.clone(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            validators: self.genesis.validators.len() as u32,
            peers_connected: 0,
            accepted_transactions: node.accepted_count(),
            pending_transactions: 0,
            faucet: self.faucet.is_some(),
            fees: self.genesis.fees.clone(),
        }
    }

    /// `get_account`.
    pub fn account(&self, address: Address) -> AccountInfo {
        lock(&self.node).account(address)
    }

    /// `get_transaction`.
    pub fn tx_status(&self, id: TxId) -> Result<TxStatus, ApiError> {
        lock(&self.node)
            .tx_status(&id)
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

    /// `submit_transaction`: verifies, checks, persists, applies, notifies.
    /// Blocking (signature check and a durable commit): call from a blocking thread.
    pub fn submit(&self, tx: SignedTransfer) -> Result<TxStatus, ApiError> {
        self.metrics.transactions_submitted.inc();
        let received = Instant::now();
        // Verify outside the lock: the signature check is the expensive part.
        let result = self
            .rules
            .check_stateless(&tx, false)
            .map_err(|r| ApiError::from(&r))
            .and_then(|()| self.submit_locked(&mut lock(&self.node), tx));
        match &result {
            Ok(status) if status.status == TxState::Accepted => {
                self.metrics
                    .finality_seconds
                    .observe(received.elapsed().as_secs_f64());
            }
            Ok(_) => {}
            Err(_) => {
                self.metrics.transactions_rejected.inc();
            }
        }
        result
    }

    fn submit_locked(&self, node: &mut Node, tx: SignedTransfer) -> Result<TxStatus, ApiError> {
        match node.admit(&tx).map_err(|r| ApiError::from(&r))? {
            Admission::Known(status) => Ok(status),
            Admission::Admit => {
                self.storage
                    .append_accepted(node.accepted_count(), &tx)
                    .map_err(internal)?;
                let events = node.apply_admitted(&tx).map_err(internal)?;
                self.metrics.transactions_accepted.inc();
                let id = tx.id();
                tracing::info!(%id, from = %tx.transfer.from, to = %tx.transfer.to, amount = tx.transfer.amount, "transaction accepted");
                for event in events {
                    // No receivers is fine: nobody is subscribed.
                    let _ = self.events.send(event);
                }
                Ok(TxStatus {
                    id,
                    status: TxState::Accepted,
                    reason: None,
                })
            }
        }
    }

    /// Devnet faucet: pays [`FAUCET_AMOUNT`] to `to` with a real signed transfer.
    pub fn faucet(&self, to: Address) -> Result<TxStatus, ApiError> {
        let faucet = self
            .faucet
            .as_ref()
            .ok_or_else(|| ApiError::new(codes::FAUCET_DISABLED, "this relay runs no faucet"))?;
        let mut faucet = lock(faucet);
        faucet.claim(to, Instant::now()).map_err(|wait| {
            ApiError::new(
                codes::FAUCET_COOLDOWN,
                format!(
                    "this address was paid recently; try again in {} ms",
                    wait.as_millis()
                ),
            )
        })?;
        let mut node = lock(&self.node);
        let from = faucet.address();
        let transfer = Transfer {
            chain_id: self.genesis.chain_id.clone(),
            from,
            to,
            amount: FAUCET_AMOUNT,
            fee: self.fee_estimate(0)?.minimum_fee,
            nonce: node.account(from).nonce + 1,
            memo: String::new(),
            public_key: faucet.key().public_key().clone(),
        };
        let randomness = crate::keys::random_seed();
        let tx = transfer.sign(faucet.key(), *randomness).map_err(internal)?;
        self.submit_locked(&mut node, tx)
    }
}
