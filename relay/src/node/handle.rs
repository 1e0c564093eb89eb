//! The cloneable handle HTTP and WebSocket handlers hold: plain reads come
//! from the latest published [`Snapshot`]; what needs the engine or the
//! checkpointer (submissions, transaction statuses, proofs, older
//! checkpoints) goes to the driver as a message with a oneshot reply.

use super::snapshot::Snapshot;
use crate::peer::PeerNetwork;
use ruv_protocol::api::{codes, AccountHistory, ApiError, HistoryParams, TxStatus};
use ruv_protocol::checkpoint::CertifiedCheckpoint;
use ruv_protocol::light::{AccountProof, TransactionProof};
use ruv_protocol::{Address, CheckedTransfer, TxId};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot, watch};

/// A client submission on its way to the engine.
pub struct Submission {
    pub(crate) tx: CheckedTransfer,
    pub(crate) reply: oneshot::Sender<Result<TxStatus, ApiError>>,
}

/// A proof, none yet (`not_certified`), or a typed error such as
/// `pruned` (the relay restarted from a state after it).
pub type ProofAnswer = Result<Option<TransactionProof>, ApiError>;

/// A question only the driver can answer (it owns the engine and the checkpointer).
pub(crate) enum Query {
    TxStatus(TxId, oneshot::Sender<Option<TxStatus>>),
    Checkpoint(u64, oneshot::Sender<Option<CertifiedCheckpoint>>),
    AccountProof(Address, oneshot::Sender<Option<AccountProof>>),
    TransactionProof(TxId, oneshot::Sender<ProofAnswer>),
    NonceProof(Address, u64, oneshot::Sender<ProofAnswer>),
    /// A page of an account's history; the limit is already checked.
    History(HistoryParams, usize, oneshot::Sender<AccountHistory>),
    /// A page of the vertices a checkpoint added (`follower::wire`), from an index.
    CheckpointVertices(u64, usize, oneshot::Sender<Option<Vec<u8>>>),
    /// A page of the stored state at a checkpoint, the accounts after an
    /// address, read from the database in one read transaction (no
    /// number: a description of whichever state it holds, no accounts).
    StatePage(
        Option<u64>,
        Option<Address>,
        oneshot::Sender<StatePageAnswer>,
    ),
}

/// A page of the stored state; None: not at the checkpoint asked for.
pub type StatePageAnswer = Result<Option<ruv_protocol::snapshot::StatePage>, ApiError>;

/// What the driver receives from handles.
pub struct NodeInputs {
    pub(crate) submissions: mpsc::Receiver<Submission>,
    pub(crate) queries: mpsc::Receiver<Query>,
}

/// Talks to the consensus driver; cheap to clone.
#[derive(Clone)]
pub struct NodeHandle {
    pub(crate) submissions: mpsc::Sender<Submission>,
    pub(crate) queries: mpsc::Sender<Query>,
    // `watch` rather than `arc-swap`: tokio already provides it, readers
    // only clone an `Arc` under its lock (nanoseconds; the driver never
    // waits on a reader), and it can wake waiters on a new snapshot.
    pub(crate) snapshot: watch::Receiver<Arc<Snapshot>>,
    /// Peer links (None at a follower: it has none).
    pub(crate) peers: Option<Arc<PeerNetwork>>,
}

fn stopped() -> ApiError {
    ApiError::new(codes::INTERNAL, "the consensus driver stopped")
}

impl NodeHandle {
    /// The latest published snapshot.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.snapshot.borrow().clone()
    }

    /// False once storage failed (the relay stopped deciding) or the driver stopped.
    pub fn is_healthy(&self) -> bool {
        self.snapshot.borrow().healthy && !self.queries.is_closed()
    }

    /// Brings the peer-link gauges up to date for a scrape, from the peer
    /// links' counters and the snapshot (never the engine).
    pub fn refresh_gauges(&self, metrics: &crate::metrics::Metrics) {
        let engine_dropped = self.snapshot.borrow().engine_messages_dropped;
        if let Some(peers) = &self.peers {
            super::refresh_peer_gauges(metrics, peers, engine_dropped);
        }
    }

    /// Authenticated peer links right now.
    pub fn peer_count(&self) -> usize {
        self.peers.as_ref().map_or(0, |p| p.connected().len())
    }

    async fn ask<T>(&self, query: impl FnOnce(oneshot::Sender<T>) -> Query) -> Result<T, ApiError> {
        let (reply, answer) = oneshot::channel();
        self.queries
            .send(query(reply))
            .await
            .map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())
    }

    /// A transaction's status as this relay knows it.
    pub async fn tx_status(&self, id: TxId) -> Result<Option<TxStatus>, ApiError> {
        self.ask(|reply| Query::TxStatus(id, reply)).await
    }

    /// A certified checkpoint by number.
    pub async fn checkpoint(&self, number: u64) -> Result<Option<CertifiedCheckpoint>, ApiError> {
        self.ask(|reply| Query::Checkpoint(number, reply)).await
    }

    /// An account with its proof against the latest certified checkpoint.
    pub async fn account_proof(&self, address: Address) -> Result<Option<AccountProof>, ApiError> {
        self.ask(|reply| Query::AccountProof(address, reply)).await
    }

    /// A transaction's inclusion proof, once a certified checkpoint holds it.
    pub async fn transaction_proof(&self, id: TxId) -> Result<Option<TransactionProof>, ApiError> {
        self.ask(|reply| Query::TransactionProof(id, reply)).await?
    }

    /// The inclusion proof of the transaction that used `nonce` of `from`.
    pub async fn nonce_proof(
        &self,
        from: Address,
        nonce: u64,
    ) -> Result<Option<TransactionProof>, ApiError> {
        self.ask(|reply| Query::NonceProof(from, nonce, reply))
            .await?
    }

    /// A page of an account's history, newest first, with inclusion proofs
    /// (`limit` checked by the caller).
    pub async fn history(
        &self,
        params: HistoryParams,
        limit: usize,
    ) -> Result<AccountHistory, ApiError> {
        self.ask(|reply| Query::History(params, limit, reply)).await
    }

    /// The sync page of checkpoint `number`'s vertices that begins at
    /// `start` (see `crate::follower::wire`).
    pub async fn checkpoint_vertices(
        &self,
        number: u64,
        start: usize,
    ) -> Result<Option<Vec<u8>>, ApiError> {
        self.ask(|reply| Query::CheckpointVertices(number, start, reply))
            .await
    }

    /// A page of the stored state (see [`crate::storage::Storage::state_page`]):
    /// at checkpoint `number`, the accounts above `after`; None: the
    /// number, header id and count of whichever state it holds, no accounts.
    pub async fn state_page(
        &self,
        number: Option<u64>,
        after: Option<Address>,
    ) -> Result<Option<ruv_protocol::snapshot::StatePage>, ApiError> {
        self.ask(|reply| Query::StatePage(number, after, reply))
            .await?
    }

    /// Hands a checked transaction to the engine and waits for its first
    /// verdict: pending, accepted, or a typed rejection. A full queue
    /// answers `mempool_full` at once.
    pub async fn submit(&self, tx: CheckedTransfer) -> Result<TxStatus, ApiError> {
        if !self.snapshot.borrow().healthy {
            return Err(ApiError::new(
                codes::INTERNAL,
                "this relay's storage failed; it no longer decides",
            ));
        }
        let (reply, answer) = oneshot::channel();
        self.submissions
            .try_send(Submission { tx, reply })
            .map_err(|e| match e {
                mpsc::error::TrySendError::Full(_) => {
                    ApiError::new(codes::MEMPOOL_FULL, "the relay is busy; resubmit later")
                }
                mpsc::error::TrySendError::Closed(_) => stopped(),
            })?;
        answer.await.unwrap_or_else(|_| Err(stopped()))
    }
}
