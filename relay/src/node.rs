//! The consensus driver: owns the QR-Avalanche [`Engine`] (a pure state
//! machine) and connects it to the world. One task feeds it ticks, peer frames
//! and client submissions in batches; for each batch it persists what the
//! engine asks (one database transaction, in order) *before* sending any
//! message or telling any client, then sends, then publishes events.
//!
//! The same task owns the [`Checkpointer`]: every vertex the engine accepts
//! and every checkpoint message the engine passes through goes to it in the
//! same batch, and its persistence requests (the "signed n" lock, certified
//! checkpoints) share the batch's database commit.

use crate::metrics::Metrics;
use crate::peer::PeerNetwork;
use crate::storage::Storage;
use ruv_consensus::checkpoint::{CheckpointInput, CheckpointOutput, CheckpointPersist};
use ruv_consensus::{
    Checkpointer, Engine, Input, Message, Output, Persist, TxDropReason, ValidatorIndex,
};
use ruv_protocol::api::{codes, AccountInfo, ApiError, TxState, TxStatus};
use ruv_protocol::checkpoint::CertifiedCheckpoint;
use ruv_protocol::ledger::TxRejection;
use ruv_protocol::light::{AccountProof, TransactionProof};
use ruv_protocol::{Address, SignedTransfer, TxId};
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tokio::sync::{broadcast, mpsc, oneshot};

/// The engine is ticked at its `next_deadline()`, and at least this often:
/// the checkpointer has no deadline of its own.
pub const MAX_WAIT: Duration = Duration::from_millis(50);
/// Inputs handled per batch at most (one database commit per batch).
pub const MAX_BATCH: usize = 512;
/// Client submissions waiting for the driver, at most.
pub const SUBMISSION_QUEUE: usize = 4096;
/// How many recent rejections are remembered for status queries.
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

/// A client submission on its way to the engine.
pub struct Submission {
    tx: Arc<SignedTransfer>,
    reply: oneshot::Sender<Result<TxStatus, ApiError>>,
}

enum Work {
    Peer(u16, Vec<u8>),
    Submit(Submission),
}

#[derive(Default)]
struct Rejections {
    reasons: HashMap<TxId, ApiError>,
    order: VecDeque<TxId>,
}

impl Rejections {
    fn insert(&mut self, id: TxId, reason: ApiError) {
        if self.reasons.insert(id, reason).is_none() {
            self.order.push_back(id);
            if self.order.len() > REMEMBERED_REJECTIONS {
                if let Some(old) = self.order.pop_front() {
                    self.reasons.remove(&old);
                }
            }
        }
    }
}

/// The running consensus node.
pub struct ConsensusNode {
    engine: Mutex<Engine>,
    checkpoints: Mutex<Checkpointer>,
    /// Taken (and so closed) when the driver stops.
    storage: Mutex<Option<Storage>>,
    peers: Arc<PeerNetwork>,
    events: broadcast::Sender<NodeEvent>,
    metrics: Arc<Metrics>,
    rejections: Mutex<Rejections>,
    submitted_at: Mutex<HashMap<TxId, Instant>>,
    submissions: mpsc::Sender<Submission>,
    healthy: AtomicBool,
    epoch: Instant,
    /// Queries no link could take, handed back to the engine next batch.
    undeliverable: Mutex<Vec<(ValidatorIndex, Message)>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Every mutation under these locks completes or is not started, so a
    // poisoned lock still guards consistent data.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn dropped_reason(reason: TxDropReason) -> ApiError {
    match reason {
        TxDropReason::PoolFull => ApiError::new(
            codes::MEMPOOL_FULL,
            "the relay's pool of undecided transactions is full; resubmit later",
        ),
    }
}

impl ConsensusNode {
    /// Wraps a (restored) engine; call [`ConsensusNode::run`] to drive it.
    pub fn new(
        engine: Engine,
        checkpoints: Checkpointer,
        storage: Storage,
        peers: Arc<PeerNetwork>,
        events: broadcast::Sender<NodeEvent>,
        metrics: Arc<Metrics>,
    ) -> (Arc<Self>, mpsc::Receiver<Submission>) {
        let (submissions, receiver) = mpsc::channel(SUBMISSION_QUEUE);
        let node = Arc::new(Self {
            engine: Mutex::new(engine),
            checkpoints: Mutex::new(checkpoints),
            storage: Mutex::new(Some(storage)),
            peers,
            events,
            metrics,
            rejections: Mutex::default(),
            submitted_at: Mutex::default(),
            submissions,
            healthy: AtomicBool::new(true),
            epoch: Instant::now(),
            undeliverable: Mutex::default(),
        });
        (node, receiver)
    }

    /// False once storage failed: the node stopped deciding.
    pub fn is_healthy(&self) -> bool {
        self.healthy.load(Ordering::Relaxed)
    }

    /// Authenticated peer links right now.
    pub fn peer_count(&self) -> usize {
        self.peers.connected().len()
    }

    /// Reads the engine (accepted ledger, statuses, counters).
    pub fn with_engine<T>(&self, f: impl FnOnce(&Engine) -> T) -> T {
        f(&lock(&self.engine))
    }

    /// An account in the accepted state.
    pub fn account(&self, address: Address) -> AccountInfo {
        AccountInfo::new(address, lock(&self.engine).ledger().account(&address))
    }

    /// The latest certified checkpoint (None before the first).
    pub fn latest_checkpoint(&self) -> Option<CertifiedCheckpoint> {
        lock(&self.checkpoints)
            .latest()
            .map(|c| c.certificate.to_json())
    }

    /// A certified checkpoint by number.
    pub fn checkpoint(&self, number: u64) -> Option<CertifiedCheckpoint> {
        lock(&self.checkpoints)
            .certified(number)
            .map(|c| c.certificate.to_json())
    }

    /// An account with its proof against the latest certified checkpoint.
    pub fn account_proof(&self, address: &Address) -> Option<AccountProof> {
        lock(&self.checkpoints).prove_account(address)
    }

    /// A transaction's inclusion proof, once a certified checkpoint holds it.
    pub fn transaction_proof(&self, id: &TxId) -> Option<TransactionProof> {
        lock(&self.checkpoints).prove_transaction(id)
    }

    /// The inclusion proof of the transaction that used `nonce` of `from`.
    pub fn nonce_proof(&self, from: &Address, nonce: u64) -> Option<TransactionProof> {
        lock(&self.checkpoints).prove_nonce(from, nonce)
    }

    /// A transaction's status as this relay knows it.
    pub fn tx_status(&self, id: TxId) -> Option<TxStatus> {
        let status = lock(&self.engine).tx_status(&id);
        match status {
            ruv_consensus::TxStatus::Accepted { .. } => Some(TxStatus {
                id,
                status: TxState::Accepted,
                reason: None,
            }),
            ruv_consensus::TxStatus::Pending => Some(TxStatus {
                id,
                status: TxState::Pending,
                reason: None,
            }),
            ruv_consensus::TxStatus::Unknown => {
                lock(&self.rejections)
                    .reasons
                    .get(&id)
                    .map(|reason| TxStatus {
                        id,
                        status: TxState::Rejected,
                        reason: Some(reason.clone()),
                    })
            }
        }
    }

    /// Hands a verified transaction to the engine and waits for its first
    /// verdict: pending, accepted, or a typed rejection.
    pub async fn submit(&self, tx: SignedTransfer) -> Result<TxStatus, ApiError> {
        if !self.is_healthy() {
            return Err(ApiError::new(
                codes::INTERNAL,
                "this relay's storage failed; it no longer decides",
            ));
        }
        let (reply, answer) = oneshot::channel();
        self.submissions
            .try_send(Submission {
                tx: Arc::new(tx),
                reply,
            })
            .map_err(|_| ApiError::new(codes::MEMPOOL_FULL, "the relay is busy; resubmit later"))?;
        answer.await.unwrap_or_else(|_| {
            Err(ApiError::new(
                codes::INTERNAL,
                "the consensus driver stopped",
            ))
        })
    }

    /// Drives the engine until the inputs close or storage fails.
    pub async fn run(
        self: Arc<Self>,
        mut inbound: mpsc::Receiver<(u16, Vec<u8>)>,
        mut submissions: mpsc::Receiver<Submission>,
        shutdown: tokio_util::sync::CancellationToken,
    ) {
        self.drive(&mut inbound, &mut submissions, shutdown.clone())
            .await;
        // Close the database now, whoever still holds the node, and stop the
        // rest of the relay if consensus stopped on its own.
        lock(&self.storage).take();
        shutdown.cancel();
    }

    async fn drive(
        self: &Arc<Self>,
        inbound: &mut mpsc::Receiver<(u16, Vec<u8>)>,
        submissions: &mut mpsc::Receiver<Submission>,
        shutdown: tokio_util::sync::CancellationToken,
    ) {
        loop {
            let mut batch = Vec::new();
            let wake = self.next_wake();
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep_until(wake) => {}
                frame = inbound.recv() => match frame {
                    Some((from, bytes)) => batch.push(Work::Peer(from, bytes)),
                    None => return,
                },
                submission = submissions.recv() => match submission {
                    Some(s) => batch.push(Work::Submit(s)),
                    None => return,
                },
            }
            while batch.len() < MAX_BATCH {
                if let Ok(s) = submissions.try_recv() {
                    batch.push(Work::Submit(s));
                } else if let Ok((from, bytes)) = inbound.try_recv() {
                    batch.push(Work::Peer(from, bytes));
                } else {
                    break;
                }
            }
            self.metrics.peer_inbound_queue.set(inbound.len() as i64);
            self.metrics.engine_queue.set(submissions.len() as i64);
            let node = self.clone();
            // Signature checks and the durable commit are blocking work.
            if !tokio::task::block_in_place(|| node.process(batch)) {
                return;
            }
        }
    }

    /// When to tick the engine if nothing arrives: its deadline, between
    /// 1 ms (never a busy loop) and [`MAX_WAIT`] away; at once if queries
    /// wait to be handed back.
    fn next_wake(&self) -> tokio::time::Instant {
        let now = Instant::now();
        if !lock(&self.undeliverable).is_empty() {
            return tokio::time::Instant::from_std(now);
        }
        let latest = now + MAX_WAIT;
        let deadline = Duration::from_millis(lock(&self.engine).next_deadline());
        let wake = self
            .epoch
            .checked_add(deadline)
            .map_or(latest, |at| at.min(latest))
            .max(now + Duration::from_millis(1));
        tokio::time::Instant::from_std(wake)
    }

    /// Handles one batch. Returns false if the node must stop.
    fn process(&self, batch: Vec<Work>) -> bool {
        let now_ms = self.epoch.elapsed().as_millis() as u64;
        let mut outputs = Vec::new();
        let mut replies = Vec::new();
        let mut engine = lock(&self.engine);
        engine.handle(Input::Tick { now_ms }, &mut outputs);
        for (to, message) in std::mem::take(&mut *lock(&self.undeliverable)) {
            engine.handle(Input::Undeliverable { to, message }, &mut outputs);
        }
        for work in batch {
            match work {
                Work::Peer(from, bytes) => engine.handle(
                    Input::PeerMessage {
                        from: ValidatorIndex(from),
                        bytes,
                    },
                    &mut outputs,
                ),
                Work::Submit(submission) => {
                    let id = submission.tx.id();
                    lock(&self.submitted_at)
                        .entry(id)
                        .or_insert_with(Instant::now);
                    let start = outputs.len();
                    engine.handle(Input::SubmitTransaction(submission.tx), &mut outputs);
                    replies.push((id, submission.reply, start..outputs.len()));
                }
            }
        }

        // The checkpointer sees what the engine decided in this batch.
        let mut checkpoint_outputs = Vec::new();
        {
            let mut checkpoints = lock(&self.checkpoints);
            let unix_ms = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as u64);
            checkpoints.handle(
                CheckpointInput::Tick { now_ms, unix_ms },
                &mut checkpoint_outputs,
            );
            for output in &outputs {
                let input = match output {
                    Output::VertexAccepted { id, .. } => match engine.vertex(id) {
                        Some(vertex) => CheckpointInput::VertexAccepted(vertex.clone()),
                        None => continue,
                    },
                    Output::Checkpoint { from, message } => CheckpointInput::Peer {
                        from: *from,
                        message: message.clone(),
                    },
                    _ => continue,
                };
                checkpoints.handle(input, &mut checkpoint_outputs);
            }
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
        if !persist.is_empty() || !checkpoint_persist.is_empty() {
            let stored = match lock(&self.storage).as_ref() {
                Some(storage) => storage
                    .apply_all(persist, checkpoint_persist)
                    .map_err(|e| e.to_string()),
                None => Err("the database is closed".to_owned()),
            };
            if let Err(e) = stored {
                tracing::error!(error = %e, "storage failed; this relay stops deciding");
                self.healthy.store(false, Ordering::Relaxed);
                return false;
            }
        }

        // 2. Work out client-visible events while the engine is at hand.
        let mut events = Vec::new();
        for output in &outputs {
            match output {
                Output::TxAccepted { id, vertex } => {
                    self.metrics.transactions_accepted.inc();
                    if let Some(at) = lock(&self.submitted_at).remove(id) {
                        self.metrics
                            .finality_seconds
                            .observe(at.elapsed().as_secs_f64());
                    }
                    events.push(NodeEvent::Transaction(TxStatus {
                        id: *id,
                        status: TxState::Accepted,
                        reason: None,
                    }));
                    if let Some(tx) = engine
                        .vertex(vertex)
                        // Vertices carry their transaction ids: no re-hashing.
                        .and_then(|v| {
                            let position = v.tx_ids().iter().position(|t| t == id)?;
                            v.txs().get(position).cloned()
                        })
                    {
                        for address in [tx.transfer.from, tx.transfer.to] {
                            events.push(NodeEvent::Account(AccountInfo::new(
                                address,
                                engine.ledger().account(&address),
                            )));
                        }
                    }
                }
                Output::TxRejected { id, reason } => {
                    self.reject(*id, ApiError::from(reason), &mut events)
                }
                Output::TxDropped { id, reason } => {
                    self.reject(*id, dropped_reason(*reason), &mut events)
                }
                Output::VertexAccepted { .. } => {
                    self.metrics.vertices_accepted.inc();
                }
                Output::VertexRejected { .. } => {
                    self.metrics.vertices_rejected.inc();
                }
                Output::Send { .. }
                | Output::Broadcast { .. }
                | Output::Persist(_)
                | Output::Checkpoint { .. } => {}
            }
        }
        for output in &checkpoint_outputs {
            if let CheckpointOutput::Certified { number } = output {
                let checkpoints = lock(&self.checkpoints);
                if let Some(stored) = checkpoints.certified(*number) {
                    self.metrics.checkpoints_certified.inc();
                    events.push(NodeEvent::Checkpoint(
                        Arc::new(stored.certificate.to_json()),
                        checkpoints.latest_changes().into(),
                    ));
                }
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
                        Some(Err(dropped_reason(*reason)))
                    }
                    _ => None,
                });
                let verdict = verdict.unwrap_or_else(|| {
                    let status = match engine.tx_status(&id) {
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
        self.update_gauges(&engine);
        drop(engine);

        // 3. Send, answer clients, publish.
        for output in outputs {
            match output {
                Output::Send { to, message } if !self.peers.send(to.0, message.encode()) => {
                    lock(&self.undeliverable).push((to, message));
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

    fn reject(&self, id: TxId, reason: ApiError, events: &mut Vec<NodeEvent>) {
        self.metrics.transactions_rejected.inc();
        lock(&self.submitted_at).remove(&id);
        lock(&self.rejections).insert(id, reason.clone());
        events.push(NodeEvent::Transaction(TxStatus {
            id,
            status: TxState::Rejected,
            reason: Some(reason),
        }));
    }

    /// Brings the gauges up to date (called when `/metrics` is scraped, so a
    /// scrape never shows values from before the last batch).
    pub fn refresh_gauges(&self) {
        self.update_gauges(&lock(&self.engine));
    }

    fn update_gauges(&self, engine: &Engine) {
        let m = engine.metrics();
        let counters = &self.peers.counters;
        self.metrics.queries_sent.set(m.queries_sent as i64);
        self.metrics.queries_answered.set(m.queries_answered as i64);
        self.metrics.polls.set(m.polls_completed as i64);
        let peer_drops = counters.handshakes_failed.load(Ordering::Relaxed)
            + counters.frames_dropped_unsendable.load(Ordering::Relaxed)
            + counters.frames_dropped_malformed.load(Ordering::Relaxed)
            + m.dropped_total();
        self.metrics.peer_messages_dropped.set(peer_drops as i64);
        self.metrics
            .pending_transactions
            .set(engine.pending_tx_count() as i64);
        self.metrics
            .peers_connected
            .set(self.peers.connected().len() as i64);
    }

    /// Whether a transaction can never be accepted given the accepted state
    /// (its nonce is already used). Other rules may still be met later.
    pub fn stale_nonce(&self, tx: &SignedTransfer) -> Option<TxRejection> {
        let account = lock(&self.engine).ledger().account(&tx.transfer.from);
        (tx.transfer.nonce <= account.nonce).then(|| TxRejection::StaleNonce {
            expected: account.nonce.saturating_add(1),
            got: tx.transfer.nonce,
        })
    }
}
