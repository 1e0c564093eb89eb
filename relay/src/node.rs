//! The consensus driver: the sole owner of the QR-Avalanche [`Engine`] (a
//! pure state machine), the [`Checkpointer`] and the database. One task
//! feeds the engine ticks, peer frames and client submissions in batches;
//! for each batch it persists what the engine asks (one database
//! transaction, in order) *before* sending any message or telling any
//! client, then publishes a new [`Snapshot`], sends, answers and publishes
//! events.
//!
//! A transfer's signature is checked once, before the engine sees it and
//! off the engine's thread: a client's by its handler on the blocking pool,
//! gossiped ones batch by batch on every core ([`verify`]). The engine is
//! told so by the type ([`CheckedTransfer`]). Transfers inside peers'
//! vertices that the engine has not seen as gossip are still checked by
//! the engine itself.
//!
//! Every vertex the engine accepts and every checkpoint message the engine
//! passes through goes to the checkpointer in the same batch, and its
//! persistence requests (the "signed n" lock, certified checkpoints) share
//! the batch's database commit.
//!
//! Nothing else touches this state: handlers hold a [`NodeHandle`] (smoldot's
//! handle + background task), read the published snapshot, and send the
//! driver messages for what needs the engine (see [`handle`]).

pub mod handle;
pub mod restart;
pub mod snapshot;
mod verify;

pub use handle::{NodeHandle, NodeInputs, Submission};
pub use snapshot::Snapshot;

use crate::admission::{self, GossipLimits, PendingTransfers};
use crate::backpressure::Backpressure;
use crate::metrics::Metrics;
use crate::peer::{PeerEvent, PeerNetwork};
use crate::storage::Storage;
use handle::Query;
use ruv_consensus::checkpoint::{CheckpointInput, CheckpointOutput, CheckpointPersist};
use ruv_consensus::{
    AncestorVertex, Checkpointer, DropReason, Engine, Input, Message, Output, Persist,
    TxDropReason, ValidatorIndex,
};
use ruv_protocol::api::{codes, AccountInfo, ApiError, TxState, TxStatus};
use ruv_protocol::checkpoint::CertifiedCheckpoint;
use ruv_protocol::{Address, CheckedTransfer, TxId};
use std::borrow::Cow;
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{broadcast, mpsc, watch};

/// The engine is ticked at its `next_deadline()`, and at least this often:
/// the checkpointer has no deadline of its own.
pub const MAX_WAIT: Duration = Duration::from_millis(50);
/// Inputs handled per batch at most (one database commit per batch).
pub const MAX_BATCH: usize = 512;
/// Client submissions waiting for the driver, at most.
pub const SUBMISSION_QUEUE: usize = 4096;
/// Queries (statuses, proofs) waiting for the driver, at most; askers wait
/// for room rather than fail.
pub const QUERY_QUEUE: usize = 1024;
/// How many recent rejections and expiries are remembered for status queries.
pub const REMEMBERED_REJECTIONS: usize = 100_000;

/// Something a subscriber may want to hear about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeEvent {
    /// An account changed.
    Account(AccountInfo),
    /// A transaction's status changed.
    Transaction(TxStatus),
    /// A new certified checkpoint, and the accounts that changed in it.
    Checkpoint(Arc<CertifiedCheckpoint>, Arc<[Address]>),
}

enum Work {
    Peer(u16, Vec<u8>),
    /// A gossiped transfer past the per-peer rate limit, its signature
    /// checked ([`ConsensusNode::check_gossip`]).
    Gossip(u16, TxId, CheckedTransfer),
    LinkUp(u16),
    Submit(Submission),
}

impl From<PeerEvent> for Work {
    fn from(event: PeerEvent) -> Self {
        match event {
            // The frame's inbound budget is released here.
            PeerEvent::Frame(frame) => Work::Peer(frame.from, frame.bytes),
            PeerEvent::LinkUp(peer) => Work::LinkUp(peer),
        }
    }
}

#[derive(Default)]
struct Rejections {
    /// `Rejected` or `Expired`, and why.
    reasons: HashMap<TxId, (TxState, ApiError)>,
    order: VecDeque<TxId>,
}

impl Rejections {
    fn insert(&mut self, id: TxId, state: TxState, reason: ApiError) {
        if self.reasons.insert(id, (state, reason)).is_none() {
            self.order.push_back(id);
            if self.order.len() > REMEMBERED_REJECTIONS {
                if let Some(old) = self.order.pop_front() {
                    self.reasons.remove(&old);
                }
            }
        }
    }
}

/// The consensus driver; [`ConsensusNode::run`] consumes it.
pub struct ConsensusNode {
    engine: Engine,
    checkpoints: Checkpointer,
    storage: Storage,
    peers: Arc<PeerNetwork>,
    events: broadcast::Sender<NodeEvent>,
    metrics: Arc<Metrics>,
    rejections: Rejections,
    submitted_at: HashMap<TxId, Instant>,
    epoch: Instant,
    /// Queries no link could take, handed back to the engine next batch.
    undeliverable: Vec<(ValidatorIndex, Message)>,
    /// Vertices checkpoints certified in the last batch covered (stored by
    /// its commit): the engine settles them at the next batch.
    covered: Vec<ruv_consensus::VertexId>,
    /// Accounts credited with fee rewards whenever a transaction is accepted.
    reward_addresses: Vec<Address>,
    /// Transfers admitted here and not decided (admission control).
    pending: PendingTransfers,
    /// Sheds new submissions while the engine holds more than it decides
    /// in `backpressure::QUEUE_TARGET`.
    backpressure: Backpressure,
    gossip_limits: GossipLimits,
    /// Threads a batch's gossiped signatures are checked on: the cores.
    verify_threads: usize,
    last_sweep: Instant,
    /// The master copy of what is published; cloning it is O(1).
    view: Snapshot,
    publish: watch::Sender<Arc<Snapshot>>,
    /// Checkpoints the stored state lags the latest one (see `restart`).
    keep_checkpoints: u64,
}

/// A proof query's answer: the proof, else `pruned` when this relay
/// restarted from a state after the transaction's checkpoint, else none yet.
pub(crate) fn answer_proof(
    proof: Option<ruv_protocol::light::TransactionProof>,
    pruned: bool,
) -> handle::ProofAnswer {
    match proof {
        Some(proof) => Ok(Some(proof)),
        None if pruned => Err(ApiError::new(
            codes::PRUNED,
            "the transaction is in a checkpoint before the state this relay restarted from; \
             its proof is no longer served here",
        )),
        None => Ok(None),
    }
}

/// Whether the engine holds `id` (undecided or accepted): a transfer it
/// rejected, let expire or never saw is new to it when it comes again.
fn engine_holds(engine: &Engine, id: &TxId) -> bool {
    matches!(
        engine.tx_status(id),
        ruv_consensus::TxStatus::Accepted { .. } | ruv_consensus::TxStatus::Pending
    )
}

/// What a client hears about a transaction the engine let go undecided:
/// refused for a full pool (`rejected`), or evicted from it before it was
/// ever issued (`expired`: not sent, nonce unused).
fn dropped_reason(reason: TxDropReason) -> (TxState, ApiError) {
    match reason {
        TxDropReason::PoolFull => (
            TxState::Rejected,
            ApiError::new(
                codes::MEMPOOL_FULL,
                "the relay's pool of undecided transactions is full; resubmit later",
            ),
        ),
        TxDropReason::Evicted => (
            TxState::Expired,
            ApiError::new(
                codes::MEMPOOL_FULL,
                "evicted from the relay's full pool by transactions paying a higher fee rate \
                 before it was issued; not sent, its nonce is unused",
            ),
        ),
    }
}

impl ConsensusNode {
    /// How many checkpoints the stored state lags the latest one: a
    /// restart re-derives that many (see [`restart`]).
    pub fn set_keep_checkpoints(&mut self, keep: u64) {
        self.keep_checkpoints = keep;
    }

    /// Wraps a (restored) engine; returns the driver, the handle for
    /// everyone else, and the handle's channels for [`ConsensusNode::run`].
    pub fn new(
        engine: Engine,
        checkpoints: Checkpointer,
        storage: Storage,
        peers: Arc<PeerNetwork>,
        events: broadcast::Sender<NodeEvent>,
        metrics: Arc<Metrics>,
    ) -> (Self, NodeHandle, NodeInputs) {
        let (submissions, submissions_rx) = mpsc::channel(SUBMISSION_QUEUE);
        let (queries, queries_rx) = mpsc::channel(QUERY_QUEUE);
        let view = Snapshot {
            healthy: true,
            accounts: engine
                .ledger()
                .accounts()
                .map(|(address, account)| (*address, *account))
                .collect(),
            accepted_transactions: engine.metrics().transactions_accepted,
            pending_transactions: engine.pending_tx_count() as u64,
            pending_limit: crate::backpressure::MIN_PENDING_LIMIT as u64,
            latest_checkpoint: checkpoints
                .latest()
                .map(|c| Arc::new(c.certificate.to_json())),
            engine_messages_dropped: engine.metrics().dropped_total(),
            pending_by_sender: imbl::HashMap::new(),
            pending_ids: Default::default(),
        };
        let (publish, snapshot) = watch::channel(Arc::new(view.clone()));
        let reward_addresses = engine
            .ledger()
            .rules()
            .validators
            .iter()
            .map(|(address, _)| *address)
            .collect();
        let handle = NodeHandle {
            submissions,
            queries,
            snapshot,
            peers: Some(peers.clone()),
        };
        let engine_accepted = engine.metrics().transactions_accepted;
        let node = Self {
            engine,
            checkpoints,
            storage,
            peers,
            events,
            metrics,
            rejections: Rejections::default(),
            submitted_at: HashMap::new(),
            epoch: Instant::now(),
            undeliverable: Vec::new(),
            covered: Vec::new(),
            reward_addresses,
            pending: PendingTransfers::default(),
            backpressure: Backpressure::new(Instant::now(), engine_accepted),
            gossip_limits: GossipLimits::default(),
            verify_threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            last_sweep: Instant::now(),
            view,
            publish,
            keep_checkpoints: crate::config::DEFAULT_KEEP_CHECKPOINTS,
        };
        node.update_gauges();
        (
            node,
            handle,
            NodeInputs {
                submissions: submissions_rx,
                queries: queries_rx,
            },
        )
    }

    /// Drives the engine until shutdown, until the inputs close or until
    /// storage fails; then closes the database (by dropping it) and stops
    /// the rest of the relay if consensus stopped on its own.
    pub async fn run(
        mut self,
        mut inbound: mpsc::Receiver<PeerEvent>,
        mut inputs: NodeInputs,
        shutdown: tokio_util::sync::CancellationToken,
    ) {
        self.drive(&mut inbound, &mut inputs, shutdown.clone())
            .await;
        drop(self);
        shutdown.cancel();
    }

    async fn drive(
        &mut self,
        inbound: &mut mpsc::Receiver<PeerEvent>,
        inputs: &mut NodeInputs,
        shutdown: tokio_util::sync::CancellationToken,
    ) {
        loop {
            let mut batch = Vec::new();
            let wake = self.next_wake();
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep_until(wake) => {}
                event = inbound.recv() => match event {
                    Some(event) => batch.push(Work::from(event)),
                    None => return,
                },
                submission = inputs.submissions.recv() => match submission {
                    Some(s) => batch.push(Work::Submit(s)),
                    None => return,
                },
                query = inputs.queries.recv() => match query {
                    Some(query) => {
                        // A proof may first build the checkpoint's tree: blocking work.
                        // At most a batch's worth at once, so queries never starve consensus.
                        tokio::task::block_in_place(|| {
                            self.answer(query);
                            for _ in 1..MAX_BATCH {
                                let Ok(query) = inputs.queries.try_recv() else { break };
                                self.answer(query);
                            }
                        });
                        continue;
                    }
                    None => return,
                },
            }
            while batch.len() < MAX_BATCH {
                if let Ok(s) = inputs.submissions.try_recv() {
                    batch.push(Work::Submit(s));
                } else if let Ok(event) = inbound.try_recv() {
                    batch.push(Work::from(event));
                } else {
                    break;
                }
            }
            self.metrics.peer_inbound_queue.set(inbound.len() as i64);
            self.metrics
                .engine_queue
                .set(inputs.submissions.len() as i64);
            // Signature checks and the durable commit are blocking work.
            if !tokio::task::block_in_place(|| self.process(batch)) {
                return;
            }
        }
    }

    /// Takes the batch's gossiped transfers through the per-peer rate limit
    /// (so peers cannot fill the pool with what clients could not) and
    /// checks the signatures of those new to the engine, spread over the
    /// cores ([`verify::check_signatures`]): each comes back in its place as
    /// a [`Work::Gossip`]. One whose signature fails goes on as its frame:
    /// the engine refuses it and counts it.
    fn check_gossip(&mut self, batch: Vec<Work>) -> Vec<Work> {
        enum Slot {
            Ready(Work),
            Checking(usize),
        }
        let mut slots = Vec::with_capacity(batch.len());
        let mut unchecked = Vec::new();
        for work in batch {
            let Work::Peer(from, bytes) = work else {
                slots.push(Slot::Ready(work));
                continue;
            };
            if !admission::is_transaction_gossip(&bytes) {
                slots.push(Slot::Ready(Work::Peer(from, bytes)));
                continue;
            }
            if !self.gossip_limits.allow(from, Instant::now()) {
                self.metrics.admission_refused.inc();
                continue;
            }
            let Ok(Message::Transaction(tx)) = Message::decode(&bytes) else {
                // Malformed: the engine counts it.
                slots.push(Slot::Ready(Work::Peer(from, bytes)));
                continue;
            };
            let id = tx.id();
            if engine_holds(&self.engine, &id) {
                continue; // already known: nothing for the engine to do
            }
            if tx.transfer.nonce <= self.engine.ledger().account(&tx.transfer.from).nonce {
                self.metrics.admission_refused.inc();
                continue;
            }
            slots.push(Slot::Checking(unchecked.len()));
            unchecked.push((from, id, tx, bytes));
        }
        let txs = unchecked.iter().map(|(_, _, tx, _)| tx.clone()).collect();
        let mut checked: Vec<Option<Work>> = verify::check_signatures(txs, self.verify_threads)
            .into_iter()
            .zip(unchecked)
            .map(|(answer, (from, id, _, bytes))| {
                Some(match answer {
                    Ok(tx) => Work::Gossip(from, id, tx),
                    Err(_) => Work::Peer(from, bytes),
                })
            })
            .collect();
        slots
            .into_iter()
            .filter_map(|slot| match slot {
                Slot::Ready(work) => Some(work),
                Slot::Checking(i) => checked[i].take(),
            })
            .collect()
    }

    /// Hands a gossiped transfer with a checked signature to the engine if
    /// it is still new and passes admission control (the same rules as a
    /// client's).
    fn gossip(
        &mut self,
        from: u16,
        id: TxId,
        tx: CheckedTransfer,
        outputs: &mut Vec<Output>,
        senders: &mut Vec<Address>,
    ) {
        if engine_holds(&self.engine, &id) {
            return; // it came earlier in this batch
        }
        let account = self.engine.ledger().account(&tx.transfer.from);
        if tx.transfer.nonce <= account.nonce
            || self.pending.admit(id, account, &tx.transfer).is_err()
        {
            self.metrics.admission_refused.inc();
            return;
        }
        let sender = tx.transfer.from;
        self.engine.handle(
            Input::PeerTransaction {
                from: ValidatorIndex(from),
                tx,
            },
            outputs,
        );
        if engine_holds(&self.engine, &id) {
            senders.push(sender);
        } else {
            // The engine did not keep it (a full pool).
            self.pending.remove(&id);
        }
    }

    /// Answers a query from the state as of the last batch.
    fn answer(&mut self, query: Query) {
        // A dropped receiver means the asker went away: nothing to do.
        match query {
            Query::TxStatus(id, reply) => {
                let _ = reply.send(self.tx_status(id));
            }
            Query::Checkpoint(number, reply) => {
                let kept = self.checkpoints.certified(number);
                let checkpoint = certified(kept, &self.storage, number);
                let _ = reply.send(checkpoint.map(|c| c.certificate.to_json()));
            }
            Query::AccountProof(address, reply) => {
                let _ = reply.send(self.checkpoints.prove_account(&address));
            }
            Query::TransactionProof(id, reply) => {
                let proof = self.checkpoints.prove_transaction(&id);
                let pruned = match self.engine.tx_status(&id) {
                    ruv_consensus::TxStatus::Accepted { vertex } => {
                        self.checkpoints.proof_pruned(&vertex)
                    }
                    _ => false,
                };
                let _ = reply.send(answer_proof(proof, pruned));
            }
            Query::NonceProof(from, nonce, reply) => {
                let proof = self.checkpoints.prove_nonce(&from, nonce);
                let pruned = self.checkpoints.nonce_proof_pruned(&from, nonce);
                let _ = reply.send(answer_proof(proof, pruned));
            }
            Query::History(params, limit, reply) => {
                let page = self
                    .checkpoints
                    .history(&params.address, params.before, limit, |ids| {
                        self.storage.accepted_transactions(ids)
                    });
                // On a storage error the reply is dropped: the client is
                // told the relay is unavailable, never shown a partial page.
                match page {
                    Ok(page) => {
                        let _ = reply.send(page);
                    }
                    Err(error) => tracing::error!(%error, "history: reading bodies failed"),
                }
            }
            Query::CheckpointVertices(number, start, reply) => {
                let page = sync_page(
                    &self.storage,
                    number,
                    self.checkpoints.certified(number),
                    self.checkpoints.covered_vertices(number),
                    start,
                );
                let _ = reply.send(page);
            }
            Query::StatePage(number, after, reply) => {
                let _ = reply.send(state_page(&self.storage, number, after));
            }
        }
    }

    /// A transaction's status as this relay knows it.
    fn tx_status(&self, id: TxId) -> Option<TxStatus> {
        let status = match self.engine.tx_status(&id) {
            ruv_consensus::TxStatus::Accepted { .. } => TxState::Accepted,
            ruv_consensus::TxStatus::Pending => TxState::Pending,
            ruv_consensus::TxStatus::Expired | ruv_consensus::TxStatus::Unknown => {
                return self
                    .rejections
                    .reasons
                    .get(&id)
                    .map(|(state, reason)| TxStatus {
                        id,
                        status: *state,
                        reason: Some(reason.clone()),
                    })
            }
        };
        Some(TxStatus {
            id,
            status,
            reason: None,
        })
    }

    /// When to tick the engine if nothing arrives: its deadline, between
    /// 1 ms (never a busy loop) and [`MAX_WAIT`] away; at once if queries
    /// wait to be handed back.
    fn next_wake(&self) -> tokio::time::Instant {
        let now = Instant::now();
        if !self.undeliverable.is_empty() {
            return tokio::time::Instant::from_std(now);
        }
        let latest = now + MAX_WAIT;
        let deadline = Duration::from_millis(self.engine.next_deadline());
        let wake = self
            .epoch
            .checked_add(deadline)
            .map_or(latest, |at| at.min(latest))
            .max(now + Duration::from_millis(1));
        tokio::time::Instant::from_std(wake)
    }

    /// Handles one batch. Returns false if the node must stop.
    fn process(&mut self, batch: Vec<Work>) -> bool {
        let now_ms = self.epoch.elapsed().as_millis() as u64;
        let mut outputs = Vec::new();
        let mut replies = Vec::new();
        if !self.covered.is_empty() {
            let vertices = std::mem::take(&mut self.covered);
            self.engine
                .handle(Input::Covered { vertices }, &mut outputs);
        }
        self.engine.handle(Input::Tick { now_ms }, &mut outputs);
        for (to, message) in std::mem::take(&mut self.undeliverable) {
            self.engine
                .handle(Input::Undeliverable { to, message }, &mut outputs);
        }
        // Senders whose pending transfers changed in this batch.
        let mut senders: Vec<Address> = Vec::new();
        for work in self.check_gossip(batch) {
            match work {
                Work::Peer(from, bytes) => self.engine.handle(
                    Input::PeerMessage {
                        from: ValidatorIndex(from),
                        bytes,
                    },
                    &mut outputs,
                ),
                Work::Gossip(from, id, tx) => self.gossip(from, id, tx, &mut outputs, &mut senders),
                Work::LinkUp(peer) => self.engine.handle(
                    Input::PeerConnected {
                        peer: ValidatorIndex(peer),
                    },
                    &mut outputs,
                ),
                Work::Submit(submission) => {
                    let id = submission.tx.id();
                    let account = self.engine.ledger().account(&submission.tx.transfer.from);
                    // A resubmission of what the engine already holds or
                    // decided is answered by the engine, not counted again.
                    let known = engine_holds(&self.engine, &id);
                    if !known && submission.tx.transfer.nonce > account.nonce {
                        if self.backpressure.sheds(self.engine.pending_tx_count()) {
                            self.metrics.admission_refused.inc();
                            self.metrics.admission_shed.inc();
                            let _ = submission
                                .reply
                                .send(Err(crate::backpressure::shed_error()));
                            continue;
                        }
                        if let Err(refusal) =
                            self.pending.admit(id, account, &submission.tx.transfer)
                        {
                            self.metrics.admission_refused.inc();
                            let _ = submission.reply.send(Err(refusal.to_api_error()));
                            continue;
                        }
                        senders.push(submission.tx.transfer.from);
                    }
                    self.submitted_at.entry(id).or_insert_with(Instant::now);
                    let start = outputs.len();
                    self.engine
                        .handle(Input::SubmitCheckedTransaction(submission.tx), &mut outputs);
                    replies.push((id, submission.reply, start..outputs.len()));
                }
            }
        }
        // Transfers the engine decided leave the pending set; so do, now
        // and then, those it let go without a verdict (dropped gossip).
        for output in &outputs {
            if let Output::TxAccepted { id, .. }
            | Output::TxRejected { id, .. }
            | Output::TxExpired { id, .. }
            | Output::TxDropped { id, .. } = output
            {
                senders.extend(self.pending.remove(id));
            }
        }
        if self.last_sweep.elapsed() >= admission::SWEEP_INTERVAL {
            self.last_sweep = Instant::now();
            let engine = &self.engine;
            senders.extend(
                self.pending
                    .retain(|id| matches!(engine.tx_status(id), ruv_consensus::TxStatus::Pending)),
            );
        }

        // The checkpointer sees what the engine decided in this batch.
        let mut checkpoint_outputs = Vec::new();
        let unix_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        self.checkpoints.handle(
            CheckpointInput::Tick { now_ms, unix_ms },
            &mut checkpoint_outputs,
        );
        for output in &outputs {
            let input = match output {
                Output::VertexAccepted { id, .. } => match self.engine.vertex(id) {
                    Some(vertex) => CheckpointInput::VertexAccepted(vertex.clone()),
                    None => continue,
                },
                Output::Checkpoint { from, message } => CheckpointInput::Peer {
                    from: *from,
                    message: message.clone(),
                },
                _ => continue,
            };
            self.checkpoints.handle(input, &mut checkpoint_outputs);
        }

        // 1. Persist, in order, before anything leaves this relay.
        let persist: Vec<&Persist> = outputs
            .iter()
            .filter_map(|o| match o {
                Output::Persist(p) => Some(p),
                _ => None,
            })
            .collect();
        let checkpoint_persist: Vec<&CheckpointPersist> = checkpoint_outputs
            .iter()
            .filter_map(|o| match o {
                CheckpointOutput::Persist(p) => Some(p),
                _ => None,
            })
            .collect();
        let state_delta = self.checkpoints.take_state_delta(self.keep_checkpoints);
        if !persist.is_empty() || !checkpoint_persist.is_empty() || state_delta.is_some() {
            if let Err(e) =
                self.storage
                    .apply_all(persist, checkpoint_persist, state_delta.as_ref())
            {
                tracing::error!(error = %e, "storage failed; this relay stops deciding");
                self.view.healthy = false;
                self.publish.send_replace(Arc::new(self.view.clone()));
                return false;
            }
        }

        // 2. Work out client-visible events and the new snapshot.
        let mut events = Vec::new();
        let mut touched: Vec<Address> = Vec::new();
        for output in &outputs {
            match output {
                Output::TxAccepted { id, vertex } => {
                    self.metrics.transactions_accepted.inc();
                    if let Some(at) = self.submitted_at.remove(id) {
                        self.metrics
                            .finality_seconds
                            .observe(at.elapsed().as_secs_f64());
                    }
                    events.push(NodeEvent::Transaction(TxStatus {
                        id: *id,
                        status: TxState::Accepted,
                        reason: None,
                    }));
                    if let Some(tx) = self
                        .engine
                        .vertex(vertex)
                        // Vertices carry their transaction ids: no re-hashing.
                        .and_then(|v| {
                            let position = v.tx_ids().iter().position(|t| t == id)?;
                            v.txs().get(position).cloned()
                        })
                    {
                        for address in [tx.transfer.from, tx.transfer.to] {
                            touched.push(address);
                            events.push(NodeEvent::Account(AccountInfo::new(
                                address,
                                self.engine.ledger().account(&address),
                            )));
                        }
                    }
                }
                Output::TxRejected { id, reason } => {
                    self.metrics.transactions_rejected.inc();
                    self.settle(*id, TxState::Rejected, ApiError::from(reason), &mut events)
                }
                Output::TxExpired { id, reason } => {
                    self.metrics.transactions_expired.inc();
                    self.settle(*id, TxState::Expired, ApiError::from(reason), &mut events)
                }
                Output::TxDropped { id, reason } => {
                    let (state, error) = dropped_reason(*reason);
                    let counter = match state {
                        TxState::Expired => &self.metrics.transactions_expired,
                        _ => &self.metrics.transactions_rejected,
                    };
                    counter.inc();
                    self.settle(*id, state, error, &mut events)
                }
                Output::VertexAccepted { .. } => {
                    self.metrics.vertices_accepted.inc();
                }
                Output::VertexRejected { .. } => {
                    self.metrics.vertices_rejected.inc();
                }
                Output::Send { .. }
                | Output::SendAncestors { .. }
                | Output::Broadcast { .. }
                | Output::Persist(_)
                | Output::Checkpoint { .. } => {}
            }
        }
        // Each `Certified` follows the `Persist` that carries its
        // certificate: announced from there, not looked up, since a batch
        // may adopt more checkpoints than the checkpointer keeps in memory
        // (a relay catching up), and each is announced with its own changes.
        let mut persisted = None;
        for output in &checkpoint_outputs {
            match output {
                CheckpointOutput::Persist(CheckpointPersist::Certified(stored)) => {
                    persisted = Some(stored);
                }
                CheckpointOutput::Certified { number, changed } => {
                    // Committed above: the engine settles them at the next batch.
                    if let Some(covered) = self.checkpoints.covered_vertices(*number) {
                        self.covered.extend_from_slice(covered);
                    }
                    let stored = persisted
                        .take()
                        .filter(|s| s.certificate.header.number == *number);
                    if let Some(stored) = stored {
                        self.metrics.checkpoints_certified.inc();
                        events.push(NodeEvent::Checkpoint(
                            Arc::new(stored.certificate.to_json()),
                            changed.as_slice().into(),
                        ));
                    }
                }
                _ => {}
            }
        }
        let verdicts: Vec<_> = replies
            .into_iter()
            .map(|(id, reply, range)| {
                let verdict = outputs[range].iter().find_map(|o| match o {
                    Output::TxRejected { id: r, reason } if *r == id => {
                        Some(Err(ApiError::from(reason)))
                    }
                    Output::TxDropped { id: r, reason } if *r == id => {
                        Some(Err(dropped_reason(*reason).1))
                    }
                    _ => None,
                });
                let verdict = verdict.unwrap_or_else(|| {
                    let status = match self.engine.tx_status(&id) {
                        ruv_consensus::TxStatus::Accepted { .. } => TxState::Accepted,
                        _ => TxState::Pending,
                    };
                    Ok(TxStatus {
                        id,
                        status,
                        reason: None,
                    })
                });
                (reply, verdict)
            })
            .collect();
        self.publish_snapshot(touched, senders, &checkpoint_outputs);
        self.backpressure
            .observe(Instant::now(), self.engine.metrics().transactions_accepted);
        self.update_gauges();

        // 3. Send, answer clients, publish events.
        for output in outputs {
            match output {
                Output::Send { to, message } if !self.peers.send(to.0, message.encode()) => {
                    self.undeliverable.push((to, message));
                }
                Output::SendAncestors {
                    to,
                    request_id,
                    vertices,
                } => {
                    // Settled vertices are read back from the accepted log.
                    let Some(vertices) = read_ancestors(&self.storage, vertices) else {
                        continue;
                    };
                    let message = Message::Ancestors {
                        request_id,
                        vertices,
                    };
                    if !self.peers.send(to.0, message.encode()) {
                        self.undeliverable.push((to, message));
                    }
                }
                Output::Broadcast { message } => self.peers.broadcast(&message.encode()),
                _ => {}
            }
        }
        for output in checkpoint_outputs {
            match output {
                // Checkpoint messages are retried by the checkpointer's own rounds.
                CheckpointOutput::Send { to, message } => {
                    self.peers.send(to.0, message.encode());
                }
                CheckpointOutput::SendStored { to, number } => {
                    if let Some(stored) = certified(None, &self.storage, number) {
                        self.peers.send(to.0, stored.to_message().encode());
                    }
                }
                CheckpointOutput::Broadcast(message) => self.peers.broadcast(&message.encode()),
                CheckpointOutput::Persist(_) | CheckpointOutput::Certified { .. } => {}
            }
        }
        for (reply, verdict) in verdicts {
            let _ = reply.send(verdict); // the client may have gone away
        }
        for event in events {
            let _ = self.events.send(event); // no subscribers is fine
        }
        true
    }

    /// Brings the master snapshot up to date with what this batch changed
    /// and publishes it (before any client hears of the batch, so a client
    /// told "accepted" reads the new balance).
    fn publish_snapshot(
        &mut self,
        mut touched: Vec<Address>,
        mut senders: Vec<Address>,
        checkpoints: &[CheckpointOutput],
    ) {
        senders.sort_unstable();
        senders.dedup();
        for sender in senders {
            match self.pending.sender(&sender) {
                p if p.count == 0 => self.view.pending_by_sender.remove(&sender),
                p => self.view.pending_by_sender.insert(sender, p),
            };
        }
        self.view.pending_ids = self.pending.ids();
        if !touched.is_empty() {
            // Fee rewards credit the validators whenever anything is accepted.
            touched.extend_from_slice(&self.reward_addresses);
            touched.sort_unstable();
            touched.dedup();
            let ledger = self.engine.ledger();
            for address in touched {
                self.view.accounts.insert(address, ledger.account(&address));
            }
        }
        if checkpoints
            .iter()
            .any(|o| matches!(o, CheckpointOutput::Certified { .. }))
        {
            self.view.latest_checkpoint = self
                .checkpoints
                .latest()
                .map(|c| Arc::new(c.certificate.to_json()));
        }
        self.view.accepted_transactions = self.engine.metrics().transactions_accepted;
        self.view.pending_transactions = self.engine.pending_tx_count() as u64;
        self.view.pending_limit = self.backpressure.limit() as u64;
        self.view.engine_messages_dropped = self.engine.metrics().dropped_total();
        self.publish.send_replace(Arc::new(self.view.clone()));
    }

    /// Records a verdict without acceptance (`Rejected` or `Expired`) and
    /// tells subscribers.
    fn settle(&mut self, id: TxId, state: TxState, reason: ApiError, events: &mut Vec<NodeEvent>) {
        self.submitted_at.remove(&id);
        self.rejections.insert(id, state, reason.clone());
        events.push(NodeEvent::Transaction(TxStatus {
            id,
            status: state,
            reason: Some(reason),
        }));
    }

    /// Brings the gauges up to date after every batch (`/metrics` only
    /// renders them; it never touches the engine).
    fn update_gauges(&self) {
        let m = self.engine.metrics();
        self.metrics.queries_sent.set(m.queries_sent as i64);
        self.metrics.queries_answered.set(m.queries_answered as i64);
        self.metrics.polls.set(m.polls_completed as i64);
        self.metrics
            .admission_pending_limit
            .set(self.backpressure.limit() as i64);
        self.metrics.vertices_resent.set(m.vertices_resent as i64);
        self.metrics.vertices_settled.set(m.vertices_settled as i64);
        self.metrics
            .vertices_doomed
            .set(m.dropped(DropReason::Doomed) as i64);
        self.metrics
            .vertices_over_issuer_budget
            .set(m.dropped(DropReason::IssuerBudget) as i64);
        self.metrics
            .pending_transactions
            .set(self.engine.pending_tx_count() as i64);
        let c = self.checkpoints.metrics();
        self.metrics
            .checkpoint_round_timeouts
            .set(c.round_timeouts as i64);
        self.metrics
            .checkpoint_locks_moved
            .set(c.locks_moved as i64);
        self.metrics
            .checkpoint_pols_forwarded
            .set(c.pols_forwarded as i64);
        self.metrics
            .checkpoint_invalid_messages
            .set(c.invalid_messages as i64);
        self.metrics
            .checkpoint_equivocations
            .set(c.equivocations as i64);
        refresh_peer_gauges(&self.metrics, &self.peers, m.dropped_total());
    }
}

/// Sets the gauges that come from the peer links (their atomic counters),
/// with the engine's own drop count as of the last batch. Called by the
/// driver after each batch and by `/metrics` at scrape time (peer links
/// count on their own, between batches).
pub fn refresh_peer_gauges(metrics: &Metrics, peers: &PeerNetwork, engine_dropped: u64) {
    let counters = &peers.counters;
    let peer_drops = counters.handshakes_failed.load(Ordering::Relaxed)
        + counters.frames_dropped_unsendable.load(Ordering::Relaxed)
        + counters.frames_dropped_malformed.load(Ordering::Relaxed)
        + engine_dropped;
    metrics.peer_messages_dropped.set(peer_drops as i64);
    metrics.peers_connected.set(peers.connected().len() as i64);
    metrics
        .peer_links_closed_not_reading
        .set(counters.links_closed_not_reading.load(Ordering::Relaxed) as i64);
    metrics
        .peer_transfer_bytes_elided
        .set(counters.transfer_bytes_elided.load(Ordering::Relaxed) as i64);
    metrics
        .peer_frames_dropped_unexpandable
        .set(counters.frames_dropped_unexpandable.load(Ordering::Relaxed) as i64);
}

/// An ancestors answer with its settled vertices read from the accepted
/// log, in the engine's order. None (logged) if one cannot be read: the
/// peer asks again or elsewhere.
fn read_ancestors(storage: &Storage, vertices: Vec<AncestorVertex>) -> Option<Vec<Arc<[u8]>>> {
    let stored: Vec<ruv_consensus::VertexId> = vertices
        .iter()
        .filter_map(|v| match v {
            AncestorVertex::Stored(id) => Some(*id),
            AncestorVertex::Bytes(_) => None,
        })
        .collect();
    let mut read = read_vertices(storage, &stored)?.into_iter();
    vertices
        .into_iter()
        .map(|v| match v {
            AncestorVertex::Bytes(bytes) => Some(bytes),
            AncestorVertex::Stored(_) => read.next(),
        })
        .collect()
}

/// Certified checkpoint `number`: the one the checkpointer (or a
/// follower's core) `kept` in memory, else read from the database for an
/// older one. None (logged on a database error) if it is not stored.
pub(crate) fn certified<'a>(
    kept: Option<&'a ruv_consensus::StoredCheckpoint>,
    storage: &Storage,
    number: u64,
) -> Option<Cow<'a, ruv_consensus::StoredCheckpoint>> {
    if let Some(kept) = kept {
        return Some(Cow::Borrowed(kept));
    }
    match storage.certified_checkpoint(number) {
        Ok(found) => found.map(Cow::Owned),
        Err(error) => {
            tracing::error!(%error, number, "reading a certified checkpoint failed");
            None
        }
    }
}

/// A sync page of checkpoint `number` from `start`: its certificate (see
/// [`certified`]) and the vertices it `covered` (ids the checkpointer
/// recorded when it adopted the checkpoint), read from the accepted log.
pub(crate) fn sync_page(
    storage: &Storage,
    number: u64,
    kept: Option<&ruv_consensus::StoredCheckpoint>,
    covered: Option<&[ruv_consensus::VertexId]>,
    start: usize,
) -> Option<Vec<u8>> {
    let covered = read_vertices(storage, covered?)?;
    let checkpoint = certified(kept, storage, number)?;
    Some(crate::follower::wire::encode_page(
        &checkpoint,
        &covered,
        start,
    ))
}

/// The signed encodings of accepted vertices, read from the accepted log
/// (validators and followers serve sync pages from it, not from memory).
/// None if one is missing or the database fails (logged).
pub(crate) fn read_vertices(
    storage: &Storage,
    ids: &[ruv_consensus::VertexId],
) -> Option<Vec<Arc<[u8]>>> {
    match storage.accepted_vertices(ids) {
        Ok(found) => found,
        Err(error) => {
            tracing::error!(%error, "reading accepted vertices failed");
            None
        }
    }
}

/// A page of the stored state for the state sync endpoints, from one read
/// transaction of the database (not from the engine): the answer is the
/// state of one certified checkpoint even while the driver writes.
pub(crate) fn state_page(
    storage: &Storage,
    number: Option<u64>,
    after: Option<ruv_protocol::Address>,
) -> handle::StatePageAnswer {
    // Without a number it is a description of the state: no accounts.
    let limit = match number {
        Some(_) => ruv_protocol::snapshot::MAX_STATE_PAGE_ACCOUNTS,
        None => 0,
    };
    storage
        .state_page(number, after.as_ref(), limit)
        .map_err(|e| {
            tracing::error!(error = %e, "reading the stored state failed");
            ApiError::new(
                codes::INTERNAL,
                "this relay could not read its stored state",
            )
        })
}
