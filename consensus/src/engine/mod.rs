//! The QR-Avalanche engine: a pure state machine. See the crate docs for how
//! a driver feeds it and executes what it returns.
//!
//! # Owners
//!
//! Each piece of state has one owner, a type with private fields whose
//! methods keep its invariants (layered as avalanchego layers snowball,
//! snowstorm and avalanche, and composed as quinn-proto composes its
//! sub-states):
//!
//! - [`validators::Validators`]: the genesis validator set, this relay's
//!   index, stake-weighted sampling and random peer choice;
//! - [`accepted::Accepted`]: the accepted ledger and which accepted vertices
//!   hold each accepted transaction;
//! - [`crate::dag::Dag`]: every vertex with its status and children, the
//!   processing set, accepted tips, preferred / virtuous flags and frontiers,
//!   per-issuer processing counts;
//! - [`conflicts::Conflicts`]: undecided transactions and their conflict
//!   sets, each with its [`crate::snowball::Snowball`];
//! - [`polls::Polls`]: running polls, the accepted tips validators claim,
//!   and whether a restarted relay still abstains;
//! - [`fetcher::Fetcher`]: vertices parked until their parents arrive,
//!   outstanding requests for missing vertices, ids found invalid;
//! - [`admission::DoomedIds`] and [`admission::IssuerBudgets`]: which
//!   gossiped vertices this relay turned away as doomed, and each other
//!   issuer's budget of vertices and bytes (local policy, not validity);
//! - [`issue::Issuer`]: the last issuing attempt; [`peers::RequestLimits`]:
//!   per-peer request rates.
//!
//! [`Engine`] holds the owners and the context they share (parameters,
//! clock, the one RNG, request ids, metrics). `Engine::handle` only routes
//! an input to the files that coordinate owners — `peers.rs` (messages in),
//! `vertices.rs` (arrival), `voting.rs` (polls), `decide.rs` (acceptance and
//! rejection), `issue.rs` (transactions in, vertices out), `restore.rs` —
//! and those call owners' methods; no file touches another owner's fields.
//!
//! # Method convention
//!
//! - Inputs: [`Engine::handle`] takes one [`Input`] and appends [`Output`]s
//!   to `out`, in the order the driver must execute them. It is the only
//!   method that changes state (besides the constructors [`Engine::new`] and
//!   [`Engine::restore`]). Internally, `on_*` methods handle one kind of
//!   input; every change sets `dirty` and `settle` brings decisions, flags
//!   and frontiers up to date before `handle` returns.
//! - Outputs: only through `out`; the engine never calls out.
//! - Queries: `&self` getters ([`Engine::ledger`], [`Engine::tx_status`],
//!   [`Engine::metrics`], frontiers, counts) that never change state, and
//!   [`Engine::next_deadline`]: when the driver must deliver the next
//!   [`Input::Tick`] if nothing else arrives.

mod accepted;
mod admission;
mod conflicts;
mod decide;
mod expired;
mod fetcher;
mod issue;
mod peers;
mod polls;
mod restore;
mod validators;
mod vertices;
mod voting;

use crate::dag::{Dag, VertexStatus};
use crate::message::Message;
use crate::metrics::Metrics;
use crate::vertex::{ValidatorIndex, Vertex, VertexId, MAX_VERTEX_PARENTS, MAX_VERTEX_TXS};
use accepted::Accepted;
use admission::{BudgetLimits, DoomedIds, IssuerBudgets};
use conflicts::{Conflicts, Thresholds};
use expired::ExpiredTxs;
pub use expired::REMEMBERED_EXPIRED_TXS;
use fetcher::Fetcher;
use issue::Issuer;
use peers::RequestLimits;
use polls::Polls;
use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;
use ruv_protocol::genesis::ConsensusParams;
use ruv_protocol::{
    CheckedTransfer, Genesis, GenesisError, Ledger, SignedTransfer, SigningKey, TxId, TxRejection,
};
use serde::Serialize;
use std::sync::Arc;
use validators::Validators;

pub use restore::{PersistedState, RestoreBase, RestoreError};

/// Timeouts and resource limits. [`Tuning::default`] suits a relay on the
/// internet; the simulator uses shorter timeouts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Tuning {
    /// A poll finishes with the answers it has after this long.
    pub poll_timeout_ms: u64,
    /// After this long, a poll whose missing answers can no longer change
    /// what it records finishes without them (checked again after each
    /// later answer, not on every answer: a check counts the votes). Below
    /// `poll_timeout_ms` to matter; honest answers normally arrive sooner.
    pub poll_patience_ms: u64,
    /// Polls running at once while vertices are undecided.
    pub max_concurrent_polls: usize,
    /// With nothing undecided, poll this often anyway: the answers reveal
    /// vertices this relay missed (after a partition or a restart).
    pub idle_poll_interval_ms: u64,
    /// Wait this long for more transactions before issuing a partial batch,
    /// while one of this relay's own vertices is undecided (with none, a
    /// partial batch goes at once). Each vertex costs every relay a
    /// signature check, polls and an ancestry walk whatever it holds, so
    /// fuller vertices pay for the wait: at 539 tx/s on the bench devnet
    /// 50 ms gave finality p50 81–92 ms against 206–288 ms with 20 ms
    /// (`docs/benchmarks.md`).
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
    /// While more undecided vertices sit on the virtuous frontier than half
    /// of what one answer may name, issue at most one vertex without
    /// transactions this often, on tips that have waited at least this long
    /// (merging tips, so every answer can name every undecided tip).
    pub merge_interval_ms: u64,
    /// A tip another validator issued becomes a candidate parent only this
    /// long after it arrived (about one gossip delay), so a double spend of
    /// it that its issuer sent at the same time is seen first and no honest
    /// vertex is baited onto the losing side. A local policy, not a
    /// consensus rule: relays need not agree on it.
    pub parent_min_age_ms: u64,
    /// After a poll in which no other validator could be reached (every
    /// query came back undeliverable), start no new poll for this long:
    /// a relay whose peers are all down must not poll as fast as its CPU
    /// allows (the simulator's `crash-conflict` found that loop).
    pub unreachable_backoff_ms: u64,
    /// Vertices of one other issuer this relay admits from gossip per
    /// [`Tuning::issuer_budget_window_ms`] that are not accepted with a
    /// transfer applied first (doomed, rejected, copies, merges, or not
    /// decided yet). Over it, that issuer's gossip is refused until the
    /// bucket refills: local policy, see `admission.rs`.
    pub issuer_budget_vertices: u64,
    /// Bytes of such vertices per window, likewise.
    pub issuer_budget_bytes: u64,
    /// An issuer's budget refills in full over this long.
    pub issuer_budget_window_ms: u64,
}

impl Default for Tuning {
    fn default() -> Self {
        Self {
            poll_timeout_ms: 2_000,
            poll_patience_ms: 250,
            max_concurrent_polls: 4,
            idle_poll_interval_ms: 1_000,
            batch_delay_ms: 50,
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
            merge_interval_ms: 1_000,
            parent_min_age_ms: 500,
            unreachable_backoff_ms: 250,
            // Sized in docs/consensus.md ("Issuer budgets"): at 1,000 tx/s
            // over 4 relays an honest issuer sends at most ~50 vertices/s
            // and ~1.4 MB/s, refunded as they are accepted; even if none
            // were, the refill (68 vertices/s, 2.2 MB/s) covers it.
            issuer_budget_vertices: 4_096,
            issuer_budget_bytes: 128 * 1024 * 1024,
            issuer_budget_window_ms: 60_000,
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
    /// Time passed. Drive this at [`Engine::next_deadline`] (earlier is
    /// harmless); `now_ms` is monotonic milliseconds (any epoch). Polls time
    /// out, batches are issued, fetches are retried on ticks.
    Tick {
        /// Current time.
        now_ms: u64,
    },
    /// A client submitted a transaction to this relay.
    SubmitTransaction(Arc<SignedTransfer>),
    /// The same, its signature already checked by the driver (in parallel,
    /// outside the engine): the engine does not check it again.
    SubmitCheckedTransaction(CheckedTransfer),
    /// A peer message arrived on the authenticated link of validator `from`.
    PeerMessage {
        /// The authenticated sender.
        from: ValidatorIndex,
        /// The message bytes as received (decoded here, so bad bytes are
        /// counted in the engine's metrics).
        bytes: Vec<u8>,
    },
    /// A transaction gossiped by validator `from` (a
    /// [`Message::Transaction`] the driver decoded), its signature already
    /// checked by the driver, in parallel, outside the engine.
    PeerTransaction {
        /// The authenticated sender.
        from: ValidatorIndex,
        /// The transfer.
        tx: CheckedTransfer,
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
    /// A link to validator `peer` came up: its first, or a new one after
    /// the last went down. What was sent on the old link may be lost, and a
    /// query names no vertex, so a peer that missed one of this relay's
    /// undecided vertices would learn of it only from this relay's chits,
    /// when it polls this relay (an on-path attacker cutting links in step
    /// with its polls held a transfer back for a minute): the engine sends
    /// its newest own undecided vertices again ([`MAX_RESENT_ON_CONNECT`]).
    PeerConnected {
        /// The validator whose link came up.
        peer: ValidatorIndex,
    },
    /// These accepted vertices are covered by a certified checkpoint and
    /// durably in the driver's store ([`Persist::Accepted`] committed): the
    /// engine settles them, dropping their transfers and signatures from
    /// memory and keeping each transaction's id and ledger effect (all the
    /// validity walk reads). A peer that asks for one later is answered
    /// through [`Output::SendAncestors`]. Ids not accepted here are ignored.
    /// Nothing else changes: settling is invisible to consensus.
    Covered {
        /// The vertices a certified checkpoint added.
        vertices: Vec<VertexId>,
    },
}

/// Own undecided vertices sent again to a validator whose link came up,
/// at most, newest first: the peer fetches any older ones it lacks as
/// their ancestors.
pub const MAX_RESENT_ON_CONNECT: usize = 16;

/// Why a transaction was dropped without a decision (the client may resubmit).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TxDropReason {
    /// The engine holds [`Tuning::max_pending_txs`] undecided transactions
    /// and none in no vertex pays a lower fee rate.
    PoolFull,
    /// It was in no vertex yet and paid the lowest fee rate in a full pool,
    /// when a transaction paying more arrived: never issued, nonce unused.
    Evicted,
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

/// One vertex of an [`Output::SendAncestors`] answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AncestorVertex {
    /// Its signed encoding, from memory.
    Bytes(Arc<[u8]>),
    /// A settled vertex: its signed encoding is in the driver's store.
    Stored(VertexId),
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
    /// Answer validator `to`'s [`Message::GetAncestors`] with
    /// [`Message::Ancestors`] holding `vertices` in this order, reading each
    /// [`AncestorVertex::Stored`] one from the driver's store (the encoding
    /// it stored for [`Persist::Accepted`]). Used instead of
    /// [`Output::Send`] only when the answer holds a settled vertex
    /// ([`Input::Covered`]); the budget was counted with its full size.
    SendAncestors {
        /// The recipient.
        to: ValidatorIndex,
        /// The request answered.
        request_id: u32,
        /// The answer, parents first.
        vertices: Vec<AncestorVertex>,
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
    /// A transaction failed to issue for [`Tuning::tx_retry_ttl_ms`] (its
    /// previous nonce never arrived, or its funds never did) and was let go
    /// before any vertex of it was decided: its nonce was not used by it.
    /// Not a rejection: the sender may sign a new transfer with that nonce.
    TxExpired {
        /// The transaction.
        id: TxId,
        /// The last reason it could not be issued (e.g. `NonceGap`).
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
        /// A [`Message::CheckpointVote`], [`Message::CheckpointPrevote`],
        /// [`Message::CheckpointPol`], [`Message::CheckpointCertified`] or
        /// [`Message::GetCheckpoint`].
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
    /// Let go undecided after failing to issue for the retry TTL
    /// ([`Output::TxExpired`]); remembered for the last
    /// [`REMEMBERED_EXPIRED_TXS`] such transactions, not across restarts.
    Expired,
    /// Not known (never seen, rejected, dropped, or expired long ago).
    Unknown,
}

/// Request ids of this engine's queries and ancestor requests. They start
/// at a random point, so a restarted relay does not reuse the ids its
/// previous run had outstanding (late answers to those are then dropped as
/// unsolicited instead of counting in a new poll).
#[derive(Debug)]
struct RequestIds {
    last: u32,
}

impl RequestIds {
    fn starting_at_random(rng: &mut ChaCha20Rng) -> Self {
        Self {
            last: rng.next_u32(),
        }
    }

    fn next(&mut self) -> u32 {
        self.last = self.last.wrapping_add(1);
        self.last
    }
}

/// The consensus engine of one relay. See the module documentation for the
/// calling convention and the crate documentation for a driver's loop.
#[derive(Debug)]
pub struct Engine {
    key: Arc<SigningKey>,
    chain_id: String,
    params: ConsensusParams,
    tuning: Tuning,
    /// The one source of randomness (sampling, peer choice, signing), so a
    /// seed and the inputs fix every output.
    rng: ChaCha20Rng,
    now_ms: u64,
    request_ids: RequestIds,

    validators: Validators,
    request_limits: RequestLimits,
    accepted: Accepted,
    dag: Dag,
    conflicts: Conflicts,
    expired: ExpiredTxs,
    fetcher: Fetcher,
    polls: Polls,
    issuer: Issuer,
    doomed: DoomedIds,
    budgets: IssuerBudgets,

    /// Decisions, flags and frontiers need recomputing ([`Engine::settle`]).
    dirty: bool,
    /// The processing vertices validators holding most of the stake claim
    /// accepted, kept between settles ([`decide::Attested`]).
    attested: decide::Attested,
    /// Settle rescans every processing vertex as before issue 9
    /// ([`Engine::set_full_rescan`]).
    full_rescan: bool,
    /// Restoring stored vertices: they are not persisted again.
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
        if tuning.issuer_budget_vertices == 0
            || tuning.issuer_budget_bytes == 0
            || tuning.issuer_budget_window_ms == 0
        {
            return Err(ConfigError::Tuning(
                "issuer_budget_vertices, issuer_budget_bytes and issuer_budget_window_ms must be positive",
            ));
        }
        let validators = Validators::new(genesis.validator_keys(), signing_key.public_key())?;
        let count = validators.count();
        let mut rng = ChaCha20Rng::from_seed(rng_seed);
        let request_ids = RequestIds::starting_at_random(&mut rng);
        Ok(Self {
            key: signing_key,
            chain_id: genesis.chain_id.clone(),
            params,
            rng,
            now_ms: 0,
            request_ids,
            validators,
            request_limits: RequestLimits::new(count, tuning.max_requests_per_peer_per_second),
            accepted: Accepted::new(&genesis),
            dag: Dag::default(),
            conflicts: Conflicts::default(),
            expired: ExpiredTxs::default(),
            fetcher: Fetcher::default(),
            polls: Polls::new(count),
            issuer: Issuer::default(),
            doomed: DoomedIds::default(),
            budgets: IssuerBudgets::new(
                count,
                BudgetLimits {
                    vertices: tuning.issuer_budget_vertices,
                    bytes: tuning.issuer_budget_bytes,
                    window_ms: tuning.issuer_budget_window_ms,
                },
            ),
            tuning,
            dirty: false,
            attested: decide::Attested::default(),
            full_rescan: false,
            restoring: false,
            metrics: Metrics::default(),
        })
    }

    /// Makes every settle rescan all processing vertices and recompute the
    /// flags and frontiers in full, as the engine did before issue 9, instead
    /// of working from what changed. Same outputs either way (debug builds
    /// check the incremental state against the full one); only for
    /// benchmarks that compare the two (`examples/settle_cost.rs`).
    #[doc(hidden)]
    pub fn set_full_rescan(&mut self, full: bool) {
        self.full_rescan = full;
        self.dag.set_full_refresh(full);
    }

    /// Feeds one input; appends what the driver must do to `out`, in order.
    pub fn handle(&mut self, input: Input, out: &mut Vec<Output>) {
        match input {
            Input::Tick { now_ms } => {
                self.now_ms = self.now_ms.max(now_ms);
                self.on_tick(out);
            }
            Input::SubmitTransaction(tx) => self.on_submit(tx, false, out),
            Input::SubmitCheckedTransaction(tx) => self.on_submit(tx.into_shared(), true, out),
            Input::PeerMessage { from, bytes } => self.on_peer_message(from, &bytes, out),
            Input::PeerTransaction { from, tx } => self.on_peer_transaction(from, tx, out),
            Input::Undeliverable { to, message } => self.on_undeliverable(to, message, out),
            Input::PeerConnected { peer } => self.on_peer_connected(peer, out),
            Input::Covered { vertices } => {
                for id in &vertices {
                    if self.dag.settle(id) {
                        self.metrics.vertices_settled += 1;
                    }
                }
            }
        }
        self.settle(out);
    }

    /// This relay's validator index.
    pub fn validator_index(&self) -> ValidatorIndex {
        self.validators.me()
    }

    /// Number of genesis validators.
    pub fn validator_count(&self) -> usize {
        self.validators.count()
    }

    /// The consensus parameters in force (from genesis).
    pub fn params(&self) -> &ConsensusParams {
        &self.params
    }

    /// When the driver must next hand the engine an [`Input::Tick`] if no
    /// other input arrives (monotonic ms, as `Tick::now_ms`; at or before
    /// [`Engine::now_ms`] means at once). A tick earlier than this is
    /// harmless; a later one delays polls, fetch retries and issuing.
    pub fn next_deadline(&self) -> u64 {
        let now = self.now_ms;
        let tuning = &self.tuning;
        let mut deadline = u64::MAX;
        if let Some(until) = self.polls.backoff_until(now) {
            deadline = until;
        } else if self.has_undecided() {
            if self.polls.len() < tuning.max_concurrent_polls {
                return now;
            }
        } else if self.polls.is_empty() {
            deadline = self.polls.next_idle_poll_ms(tuning.idle_poll_interval_ms);
        }
        let candidates = [
            self.polls.next_deadline(
                tuning.poll_timeout_ms,
                tuning.poll_patience_ms,
                self.early_finish_max_missing(),
            ),
            self.fetcher
                .next_deadline(tuning.fetch_timeout_ms, tuning.waiting_ttl_ms),
            self.next_issue_ms(),
            self.next_merge_ms(),
        ];
        for at in candidates.into_iter().flatten() {
            deadline = deadline.min(at);
        }
        deadline
    }

    /// When issuing has something to do: an orphan becomes due, a partial
    /// batch's delay ends, or a failing transaction expires.
    fn next_issue_ms(&self) -> Option<u64> {
        let expiry = self
            .conflicts
            .next_failure_expiry_ms(self.tuning.tx_retry_ttl_ms);
        let due = self.conflicts.due(self.now_ms);
        let issue = if due.is_empty() {
            self.conflicts.next_due_ms()
        } else {
            let ids: Vec<TxId> = due.iter().map(|d| d.id).collect();
            if self.issuer.unchanged(self.dag.version(), &ids) {
                // Waits for the DAG to change, which only an input does.
                None
            } else if due.len() >= self.params.batch_size as usize {
                Some(self.now_ms)
            } else {
                due.iter()
                    .map(|d| d.after_ms)
                    .min()
                    .map(|oldest| self.partial_batch_at(oldest))
            }
        };
        issue.into_iter().chain(expiry).min()
    }

    /// When a partial batch may be issued, its oldest transaction due since
    /// `oldest_due_ms`: at once if none of this relay's own vertices is
    /// undecided (nothing to batch behind: Nagle's rule, so an idle relay
    /// adds no wait), else once that transaction has waited
    /// `batch_delay_ms`, so that under load vertices fill up.
    fn partial_batch_at(&self, oldest_due_ms: u64) -> u64 {
        if self.dag.processing_by(self.validator_index()) == 0 {
            oldest_due_ms
        } else {
            oldest_due_ms.saturating_add(self.tuning.batch_delay_ms)
        }
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
        self.accepted.ledger()
    }

    /// What this engine knows about a transaction.
    pub fn tx_status(&self, id: &TxId) -> TxStatus {
        if let Some(vertex) = self.accepted.vertex_of(id) {
            return TxStatus::Accepted { vertex };
        }
        if self.conflicts.contains(id) {
            TxStatus::Pending
        } else if self.expired.contains(id) {
            TxStatus::Expired
        } else {
            TxStatus::Unknown
        }
    }

    /// Whether an undecided transaction is the current preference of its
    /// conflict set (`None` if it is not undecided here). What a poll of
    /// this relay would vote for; the simulator's adaptive adversaries
    /// observe it.
    pub fn tx_preferred(&self, id: &TxId) -> Option<bool> {
        self.conflicts.flags(id).map(|(preferred, _)| preferred)
    }

    /// A vertex in the DAG (any status) with its transfers: None for one
    /// that is not in the DAG or is settled ([`Input::Covered`]: its body
    /// is in the driver's store).
    pub fn vertex(&self, id: &VertexId) -> Option<&Arc<Vertex>> {
        self.dag.get(id).and_then(|node| node.vertex().whole())
    }

    /// A vertex's height, if it is in the DAG (settled or not).
    pub fn vertex_height(&self, id: &VertexId) -> Option<u64> {
        self.dag.height(id)
    }

    /// A vertex's parents, if it is in the DAG (settled or not).
    pub fn vertex_parents(&self, id: &VertexId) -> Option<&[VertexId]> {
        self.dag.get(id).map(|node| node.vertex().parents())
    }

    /// A vertex's issuer, if it is in the DAG (settled or not).
    pub fn vertex_issuer(&self, id: &VertexId) -> Option<ValidatorIndex> {
        self.dag.get(id).map(|node| node.vertex().issuer())
    }

    /// A vertex's status, if it is in the DAG.
    pub fn vertex_status(&self, id: &VertexId) -> Option<VertexStatus> {
        self.dag.status(id)
    }

    /// Preferred vertices without preferred children: what this relay votes
    /// for when queried (undecided first).
    pub fn preferred_frontier(&self) -> &[VertexId] {
        self.dag.preferred_frontier()
    }

    /// Virtuous vertices without virtuous children: where this relay attaches
    /// new vertices (lowest first).
    pub fn virtuous_frontier(&self) -> &[VertexId] {
        self.dag.virtuous_frontier()
    }

    /// Number of undecided vertices.
    pub fn processing_count(&self) -> usize {
        self.dag.processing_count()
    }

    /// Number of undecided transactions held.
    pub fn pending_tx_count(&self) -> usize {
        self.conflicts.len()
    }

    /// Number of doomed vertex ids remembered (vertices turned away
    /// unstored; see `admission.rs`).
    pub fn doomed_count(&self) -> usize {
        self.doomed.len()
    }

    /// Vertices of `issuer`'s budget in use here now (see
    /// [`Tuning::issuer_budget_vertices`]); its gossip is refused at the
    /// limit.
    pub fn issuer_budget_used(&self, issuer: ValidatorIndex) -> u64 {
        self.budgets.used_vertices(issuer, self.now_ms)
    }

    /// Number of vertices waiting for missing parents.
    pub fn waiting_count(&self) -> usize {
        self.fetcher.waiting_count()
    }

    /// A human-readable account of every undecided transaction and vertex
    /// (for logs and debugging stuck runs).
    pub fn pending_report(&self) -> String {
        use std::fmt::Write;
        let mut report = String::new();
        let dag = &self.dag;
        self.conflicts.report(&mut report, |vertex| {
            dag.get(vertex).map(|n| (n.preferred(), n.virtuous()))
        });
        for (height, id) in self.dag.processing() {
            let Some(node) = self.dag.get(&id) else {
                continue;
            };
            let parents: Vec<String> = node
                .vertex()
                .parents()
                .iter()
                .map(|p| format!("{p:?}={:?}", self.dag.status(p)))
                .collect();
            let _ = write!(
                report,
                "\n  vertex {id:?} h{height} issuer {} preferred {} virtuous {} txs {} parents [{}]",
                node.vertex().issuer(),
                node.preferred(),
                node.virtuous(),
                node.vertex().tx_ids().len(),
                parents.join(", ")
            );
        }
        let _ = write!(
            report,
            "\n  preferred frontier {:?}\n  virtuous frontier {:?}",
            self.dag.preferred_frontier(),
            self.dag.virtuous_frontier()
        );
        report
    }

    fn random_bytes(&mut self) -> [u8; 32] {
        let mut bytes = [0u8; 32];
        self.rng.fill_bytes(&mut bytes);
        bytes
    }

    fn thresholds(&self) -> Thresholds {
        Thresholds {
            alpha_preference: self.params.alpha_preference,
            alpha_confidence: self.params.alpha_confidence,
            beta_virtuous: self.params.beta_virtuous,
            beta_rogue: self.params.beta_rogue,
        }
    }

    fn on_tick(&mut self, out: &mut Vec<Output>) {
        self.expire_polls(out);
        self.retry_fetches(out);
        self.fetcher
            .expire_waiting(self.now_ms, self.tuning.waiting_ttl_ms, &mut self.metrics);
        self.settle(out);
        self.issue_ready(out);
        self.merge_tips(out);
        self.start_polls(out);
    }
}
