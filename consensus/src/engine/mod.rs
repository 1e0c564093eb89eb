//! The QR-Avalanche engine: a pure state machine. See the crate docs for how
//! a driver feeds it and executes what it returns.

mod decide;
mod issue;
mod peers;
mod polls;
mod restore;
mod vertices;

use crate::dag::{Dag, VertexStatus};
use crate::message::Message;
use crate::metrics::Metrics;
use crate::snowball::Snowball;
use crate::vertex::{ValidatorIndex, Vertex, VertexId, MAX_VERTEX_PARENTS, MAX_VERTEX_TXS};
use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;
use ruv_protocol::genesis::ConsensusParams;
use ruv_protocol::{
    Address, Genesis, GenesisError, Ledger, PublicKey, SignedTransfer, SigningKey, TxId,
    TxRejection,
};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

pub use restore::{PersistedState, RestoreError};

/// Timeouts and resource limits. [`Tuning::default`] suits a relay on the
/// internet; the simulator uses shorter timeouts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Tuning {
    /// A poll finishes with the answers it has after this long.
    pub poll_timeout_ms: u64,
    /// Polls running at once while vertices are undecided.
    pub max_concurrent_polls: usize,
    /// With nothing undecided, poll this often anyway: the answers reveal
    /// vertices this relay missed (after a partition or a restart).
    pub idle_poll_interval_ms: u64,
    /// Wait this long for more transactions before issuing a partial batch.
    pub batch_delay_ms: u64,
    /// A transaction this relay did not receive from a client (gossip, or a
    /// vertex another relay issued) is issued here only if it is still in no
    /// live vertex this long after it became so: a backstop when its own
    /// relay crashed or withholds, without every relay duplicating it.
    pub standby_delay_ms: u64,
    /// Ask another validator for a missing vertex after this long.
    pub fetch_timeout_ms: u64,
    /// Give up fetching a vertex after this many requests.
    pub max_fetch_attempts: u32,
    /// Drop a vertex whose parents did not arrive within this long.
    pub waiting_ttl_ms: u64,
    /// Bytes of vertices waiting for their parents, at most.
    pub max_waiting_bytes: usize,
    /// A transaction that cannot be issued (nonce gap, insufficient funds in
    /// its ancestry) is rejected after trying this long.
    pub tx_retry_ttl_ms: u64,
    /// Undecided transactions held, at most.
    pub max_pending_txs: usize,
    /// Undecided vertices of one issuer accepted from gossip, at most.
    pub max_processing_per_issuer: usize,
    /// Queries and ancestor requests answered per peer per second, at most.
    pub max_requests_per_peer_per_second: u32,
    /// Vertices one ancestry check may walk, at most.
    pub max_ancestry_walk: usize,
}

impl Default for Tuning {
    fn default() -> Self {
        Self {
            poll_timeout_ms: 2_000,
            max_concurrent_polls: 4,
            idle_poll_interval_ms: 1_000,
            batch_delay_ms: 20,
            standby_delay_ms: 3_000,
            fetch_timeout_ms: 1_500,
            max_fetch_attempts: 8,
            waiting_ttl_ms: 60_000,
            max_waiting_bytes: 64 * 1024 * 1024,
            tx_retry_ttl_ms: 120_000,
            max_pending_txs: 100_000,
            max_processing_per_issuer: 1_024,
            max_requests_per_peer_per_second: 2_000,
            max_ancestry_walk: 100_000,
        }
    }
}

/// Everything an engine starts from.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// The network's genesis (validators, stakes, consensus parameters).
    pub genesis: Genesis,
    /// This relay's validator key; it must be one of the genesis validators.
    pub signing_key: Arc<SigningKey>,
    /// Seed of all randomness inside the engine (poll sampling, signing
    /// randomness). The driver takes it from the OS; the simulator from its
    /// seed. Same seed and same inputs give the same outputs.
    pub rng_seed: [u8; 32],
    /// Timeouts and limits.
    pub tuning: Tuning,
}

/// Why an engine cannot start.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// The genesis file is invalid.
    #[error(transparent)]
    Genesis(#[from] GenesisError),
    /// The signing key is not a genesis validator's.
    #[error("the signing key is not one of the genesis validators")]
    NotAValidator,
    /// More validators than a u16 index can name.
    #[error("at most 65535 validators are supported")]
    TooManyValidators,
    /// Genesis `parents` or `batch_size` exceed what a vertex encoding allows.
    #[error("genesis parents {parents} / batch_size {batch_size} exceed the vertex limits {MAX_VERTEX_PARENTS} / {MAX_VERTEX_TXS}")]
    ParamsBeyondLimits {
        /// Genesis `parents`.
        parents: u32,
        /// Genesis `batch_size`.
        batch_size: u32,
    },
    /// A tuning value that would stop the engine (zero polls, zero walk).
    #[error("invalid tuning: {0}")]
    Tuning(&'static str),
}

/// What the driver hands the engine.
#[derive(Debug, Clone)]
pub enum Input {
    /// Time passed. Drive this every 10-50 ms; `now_ms` is monotonic
    /// milliseconds (any epoch). Polls time out, batches are issued, fetches
    /// are retried on ticks.
    Tick {
        /// Current time.
        now_ms: u64,
    },
    /// A client submitted a transaction to this relay.
    SubmitTransaction(Arc<SignedTransfer>),
    /// A peer message arrived on the authenticated link of validator `from`.
    PeerMessage {
        /// The authenticated sender.
        from: ValidatorIndex,
        /// The message bytes as received (decoded here, so bad bytes are
        /// counted in the engine's metrics).
        bytes: Vec<u8>,
    },
    /// The driver could not hand a [`Output::Send`] message to validator
    /// `to` (no live link, or its queue is full). A query counts as an empty
    /// answer at once, so a poll that sampled an unreachable validator ends
    /// without waiting for its timeout (avalanchego fails such requests
    /// immediately too). Other messages are retried by their own timeouts.
    Undeliverable {
        /// The validator the message was for.
        to: ValidatorIndex,
        /// The message.
        message: Message,
    },
}

/// Why a transaction was dropped without a decision (the client may resubmit).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TxDropReason {
    /// The engine holds [`Tuning::max_pending_txs`] undecided transactions.
    PoolFull,
}

/// What the driver must persist so a restart loses nothing accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Persist {
    /// Store an undecided vertex (restored as processing).
    Processing {
        /// Its id.
        id: VertexId,
        /// Its signed encoding.
        bytes: Arc<[u8]>,
    },
    /// Append to the accepted log, in this order (and drop it from the
    /// processing store). Restoring replays the log in order.
    Accepted {
        /// Its id.
        id: VertexId,
        /// Its signed encoding.
        bytes: Arc<[u8]>,
    },
    /// Delete a rejected vertex from the processing store.
    Forget {
        /// Its id.
        id: VertexId,
    },
}

/// What the engine asks the driver to do, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// Send a message to one validator.
    Send {
        /// The recipient.
        to: ValidatorIndex,
        /// Encode with [`Message::encode`].
        message: Message,
    },
    /// Send a message to every other validator.
    Broadcast {
        /// Encode once with [`Message::encode`].
        message: Message,
    },
    /// A transaction is final: it is in an accepted vertex and applied.
    TxAccepted {
        /// The transaction.
        id: TxId,
        /// The accepted vertex that applied it.
        vertex: VertexId,
    },
    /// A transaction will not be accepted: a conflicting transaction was
    /// (`Conflict`), or it is invalid.
    TxRejected {
        /// The transaction.
        id: TxId,
        /// Why.
        reason: TxRejection,
    },
    /// The engine let go of a transaction without deciding it.
    TxDropped {
        /// The transaction.
        id: TxId,
        /// Why.
        reason: TxDropReason,
    },
    /// A vertex is accepted (its ancestors were accepted before it).
    VertexAccepted {
        /// The vertex.
        id: VertexId,
        /// Its height.
        height: u64,
    },
    /// A vertex is rejected.
    VertexRejected {
        /// The vertex.
        id: VertexId,
    },
    /// Persist this before acting on later outputs that depend on it.
    Persist(Persist),
    /// A checkpoint message from validator `from`, passed through unread for
    /// the driver's [`crate::checkpoint::Checkpointer`].
    Checkpoint {
        /// The authenticated sender.
        from: ValidatorIndex,
        /// A [`Message::CheckpointVote`], [`Message::CheckpointCertified`]
        /// or [`Message::GetCheckpoint`].
        message: Message,
    },
}

/// What the engine knows about a transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "status")]
pub enum TxStatus {
    /// Accepted in a vertex.
    Accepted {
        /// The accepted vertex that applied it.
        vertex: VertexId,
    },
    /// Known and undecided.
    Pending,
    /// Not known (never seen, rejected, or dropped).
    Unknown,
}

/// A conflict set: the undecided transactions spending one (sender, nonce).
pub(crate) type ConflictKey = (Address, u64);

#[derive(Debug)]
pub(crate) struct ConflictSet {
    pub(crate) choices: BTreeSet<TxId>,
    /// Ever had two choices: acceptance needs `beta_rogue`.
    pub(crate) rogue: bool,
    pub(crate) snowball: Snowball,
}

/// An undecided transaction this relay knows.
#[derive(Debug)]
pub(crate) struct TxRecord {
    pub(crate) tx: Arc<SignedTransfer>,
    pub(crate) key: ConflictKey,
    /// Processing vertices that hold it.
    pub(crate) live_vertices: BTreeSet<VertexId>,
    /// A client submitted it here, or this relay issued it before: re-issue
    /// it without the standby delay.
    pub(crate) owned: bool,
    /// Set while it is in no live (virtuous, if it has no conflict) vertex:
    /// from then on this relay may issue it.
    pub(crate) issue_after_ms: Option<u64>,
    /// First failed attempt to issue it, and why it failed last.
    pub(crate) failing: Option<(u64, TxRejection)>,
}

/// A validator as the engine sees it.
#[derive(Debug, Clone)]
pub(crate) struct Validator {
    pub(crate) key: PublicKey,
    pub(crate) stake: u64,
}

/// Per-peer request counter over one-second windows.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct RateWindow {
    start_ms: u64,
    count: u32,
}

impl RateWindow {
    pub(crate) fn allow(&mut self, now_ms: u64, limit: u32) -> bool {
        if now_ms >= self.start_ms.saturating_add(1_000) {
            self.start_ms = now_ms;
            self.count = 0;
        }
        self.count = self.count.saturating_add(1);
        self.count <= limit
    }
}

/// The consensus engine of one relay. See the crate documentation.
#[derive(Debug)]
pub struct Engine {
    me: ValidatorIndex,
    key: Arc<SigningKey>,
    chain_id: String,
    validators: Vec<Validator>,
    /// Prefix sums of stake, for sampling.
    cumulative_stake: Vec<u64>,
    params: ConsensusParams,
    tuning: Tuning,
    rng: ChaCha20Rng,
    now_ms: u64,

    dag: Dag,
    ledger: Ledger,
    /// Accepted transactions and the accepted vertices holding them.
    accepted_txs: BTreeMap<TxId, Vec<VertexId>>,
    txs: BTreeMap<TxId, TxRecord>,
    conflicts: BTreeMap<ConflictKey, ConflictSet>,
    processing_by_issuer: Vec<usize>,
    /// Vertices found invalid (bounded; forgetting one only costs a re-check).
    invalid: BTreeSet<VertexId>,

    waiting: BTreeMap<VertexId, vertices::WaitingVertex>,
    waiting_on: BTreeMap<VertexId, BTreeSet<VertexId>>,
    waiting_bytes: usize,
    fetching: BTreeMap<VertexId, vertices::Fetch>,
    fetch_requests: BTreeMap<u32, (ValidatorIndex, u64)>,

    polls: BTreeMap<u32, polls::Poll>,
    /// Each validator's latest accepted tips, from its chits.
    accepted_claims: Vec<Vec<VertexId>>,
    next_request_id: u32,
    last_idle_poll_ms: u64,
    request_limits: Vec<RateWindow>,

    /// Preferred frontier, chits order (undecided first, then higher first).
    preferred_frontier: Vec<VertexId>,
    /// Virtuous frontier, parent-choice order (lower first).
    virtuous_frontier: Vec<VertexId>,
    /// Flags and frontiers need recomputing.
    dirty: bool,
    /// (DAG version, due transactions) after the last issuing attempt: the
    /// next attempt waits until one of them changes.
    last_issue_attempt: Option<(u64, Vec<TxId>)>,
    restoring: bool,

    metrics: Metrics,
}

impl Engine {
    /// A fresh engine at genesis.
    pub fn new(config: EngineConfig) -> Result<Self, ConfigError> {
        let EngineConfig {
            genesis,
            signing_key,
            rng_seed,
            tuning,
        } = config;
        genesis.validate()?;
        let params = genesis.consensus_params();
        if params.parents as usize > MAX_VERTEX_PARENTS
            || params.batch_size as usize > MAX_VERTEX_TXS
        {
            return Err(ConfigError::ParamsBeyondLimits {
                parents: params.parents,
                batch_size: params.batch_size,
            });
        }
        if tuning.max_concurrent_polls == 0 || tuning.max_ancestry_walk == 0 {
            return Err(ConfigError::Tuning(
                "max_concurrent_polls and max_ancestry_walk must be positive",
            ));
        }
        let validators: Vec<Validator> = genesis
            .validator_keys()
            .into_iter()
            .map(|(key, stake)| Validator { key, stake })
            .collect();
        if validators.len() > u16::MAX as usize {
            return Err(ConfigError::TooManyValidators);
        }
        let me = validators
            .iter()
            .position(|v| v.key == *signing_key.public_key())
            .ok_or(ConfigError::NotAValidator)?;
        let mut cumulative_stake = Vec::with_capacity(validators.len());
        let mut total = 0u64;
        for v in &validators {
            // Genesis validation rules out overflow.
            total = total.saturating_add(v.stake);
            cumulative_stake.push(total);
        }
        let count = validators.len();
        Ok(Self {
            me: ValidatorIndex(me as u16),
            key: signing_key,
            chain_id: genesis.chain_id.clone(),
            validators,
            cumulative_stake,
            params,
            tuning,
            rng: ChaCha20Rng::from_seed(rng_seed),
            now_ms: 0,
            dag: Dag::default(),
            ledger: Ledger::from_genesis(&genesis),
            accepted_txs: BTreeMap::new(),
            txs: BTreeMap::new(),
            conflicts: BTreeMap::new(),
            processing_by_issuer: vec![0; count],
            invalid: BTreeSet::new(),
            waiting: BTreeMap::new(),
            waiting_on: BTreeMap::new(),
            waiting_bytes: 0,
            fetching: BTreeMap::new(),
            fetch_requests: BTreeMap::new(),
            polls: BTreeMap::new(),
            accepted_claims: vec![Vec::new(); count],
            next_request_id: 0,
            last_idle_poll_ms: 0,
            request_limits: vec![RateWindow::default(); count],
            preferred_frontier: Vec::new(),
            virtuous_frontier: Vec::new(),
            dirty: false,
            last_issue_attempt: None,
            restoring: false,
            metrics: Metrics::default(),
        })
    }

    /// Feeds one input; appends what the driver must do to `out`, in order.
    pub fn handle(&mut self, input: Input, out: &mut Vec<Output>) {
        match input {
            Input::Tick { now_ms } => {
                self.now_ms = self.now_ms.max(now_ms);
                self.on_tick(out);
            }
            Input::SubmitTransaction(tx) => self.on_submit(tx, out),
            Input::PeerMessage { from, bytes } => self.on_peer_message(from, &bytes, out),
            Input::Undeliverable { to, message } => self.on_undeliverable(to, message, out),
        }
        self.settle(out);
    }

    /// This relay's validator index.
    pub fn validator_index(&self) -> ValidatorIndex {
        self.me
    }

    /// Number of genesis validators.
    pub fn validator_count(&self) -> usize {
        self.validators.len()
    }

    /// The consensus parameters in force (from genesis).
    pub fn params(&self) -> &ConsensusParams {
        &self.params
    }

    /// The last time a tick reported.
    pub fn now_ms(&self) -> u64 {
        self.now_ms
    }

    /// Counters since start.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// The ledger after every accepted vertex.
    pub fn ledger(&self) -> &Ledger {
        &self.ledger
    }

    /// What this engine knows about a transaction.
    pub fn tx_status(&self, id: &TxId) -> TxStatus {
        if let Some(vertices) = self.accepted_txs.get(id) {
            if let Some(vertex) = vertices.first() {
                return TxStatus::Accepted { vertex: *vertex };
            }
        }
        if self.txs.contains_key(id) {
            TxStatus::Pending
        } else {
            TxStatus::Unknown
        }
    }

    /// A vertex in the DAG (any status).
    pub fn vertex(&self, id: &VertexId) -> Option<&Arc<Vertex>> {
        self.dag.get(id).map(|node| &node.vertex)
    }

    /// A vertex's status, if it is in the DAG.
    pub fn vertex_status(&self, id: &VertexId) -> Option<VertexStatus> {
        self.dag.status(id)
    }

    /// Preferred vertices without preferred children: what this relay votes
    /// for when queried (undecided first).
    pub fn preferred_frontier(&self) -> &[VertexId] {
        &self.preferred_frontier
    }

    /// Virtuous vertices without virtuous children: where this relay attaches
    /// new vertices (lowest first).
    pub fn virtuous_frontier(&self) -> &[VertexId] {
        &self.virtuous_frontier
    }

    /// Number of undecided vertices.
    pub fn processing_count(&self) -> usize {
        self.dag.processing.len()
    }

    /// Number of undecided transactions held.
    pub fn pending_tx_count(&self) -> usize {
        self.txs.len()
    }

    /// Number of vertices waiting for missing parents.
    pub fn waiting_count(&self) -> usize {
        self.waiting.len()
    }

    /// A human-readable account of every undecided transaction and vertex
    /// (for logs and debugging stuck runs).
    pub fn pending_report(&self) -> String {
        use std::fmt::Write;
        let mut report = String::new();
        for (id, record) in &self.txs {
            let set = self.conflicts.get(&record.key);
            let _ = write!(
                report,
                "\n  tx {id:?} nonce {} owned {} issue_after {:?} failing {:?} choices {} rogue {} preferred {} confidence {}",
                record.key.1,
                record.owned,
                record.issue_after_ms,
                record.failing,
                set.map_or(0, |s| s.choices.len()),
                set.is_some_and(|s| s.rogue),
                set.is_some_and(|s| s.snowball.preference() == *id),
                set.map_or(0, |s| s.snowball.confidence_in(id)),
            );
            for vertex in &record.live_vertices {
                let node = self.dag.get(vertex);
                let _ = write!(
                    report,
                    "\n      in {vertex:?} preferred {} virtuous {}",
                    node.is_some_and(|n| n.preferred),
                    node.is_some_and(|n| n.virtuous)
                );
            }
        }
        for (height, id) in &self.dag.processing {
            let Some(node) = self.dag.get(id) else {
                continue;
            };
            let parents: Vec<String> = node
                .vertex
                .parents()
                .iter()
                .map(|p| format!("{p:?}={:?}", self.dag.status(p)))
                .collect();
            let _ = write!(
                report,
                "\n  vertex {id:?} h{height} issuer {} preferred {} virtuous {} txs {} parents [{}]",
                node.vertex.issuer(),
                node.preferred,
                node.virtuous,
                node.vertex.txs().len(),
                parents.join(", ")
            );
        }
        let _ = write!(
            report,
            "\n  preferred frontier {:?}\n  virtuous frontier {:?}",
            self.preferred_frontier, self.virtuous_frontier
        );
        report
    }

    fn random_bytes(&mut self) -> [u8; 32] {
        let mut bytes = [0u8; 32];
        self.rng.fill_bytes(&mut bytes);
        bytes
    }

    /// A uniformly random validator other than this one (None if alone).
    fn random_peer(&mut self, except: Option<ValidatorIndex>) -> Option<ValidatorIndex> {
        let candidates: Vec<ValidatorIndex> = (0..self.validators.len() as u16)
            .map(ValidatorIndex)
            .filter(|v| *v != self.me && Some(*v) != except)
            .collect();
        if candidates.is_empty() {
            return None;
        }
        let pick = (self.rng.next_u64() % candidates.len() as u64) as usize;
        Some(candidates[pick])
    }

    fn next_request_id(&mut self) -> u32 {
        self.next_request_id = self.next_request_id.wrapping_add(1);
        self.next_request_id
    }

    fn on_tick(&mut self, out: &mut Vec<Output>) {
        self.expire_polls(out);
        self.retry_fetches(out);
        self.expire_waiting();
        self.settle(out);
        self.issue_ready(out);
        self.start_polls(out);
    }
}
