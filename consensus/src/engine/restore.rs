//! Restart from what the driver persisted: the accepted log in order, then
//! the undecided vertices.

use super::accepted::Accepted;
use super::vertices::Trust;
use super::{ConfigError, Engine, EngineConfig, Output};
use crate::dag::VertexStatus;
use crate::vertex::{Vertex, VertexId};
use ruv_protocol::codec::DecodeError;
use ruv_protocol::{Ledger, TxId, TxRejection};
use std::collections::HashSet;
use std::sync::Arc;

/// Where a restart starts instead of genesis: the ledger of a verified state
/// snapshot at a certified checkpoint, and the accepted vertices that
/// checkpoint and the ones before it covered (their transactions are in the
/// ledger already and are not applied again).
#[derive(Debug, Clone)]
pub struct RestoreBase {
    /// The ledger the snapshot holds.
    pub ledger: Ledger,
    /// The accepted vertices whose effects it holds.
    pub covered: HashSet<VertexId>,
}

/// What a driver persisted (see [`super::Persist`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PersistedState {
    /// Accepted vertices, in the order they were accepted.
    pub accepted: Vec<Arc<[u8]>>,
    /// Undecided vertices, any order.
    pub processing: Vec<Arc<[u8]>>,
}

/// Why persisted state cannot be restored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RestoreError {
    /// The configuration is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A stored accepted vertex does not decode.
    #[error("accepted vertex #{index} does not decode: {error}")]
    Decode {
        /// Position in the accepted log.
        index: usize,
        /// Why.
        error: DecodeError,
    },
    /// A stored accepted vertex is for another network.
    #[error("accepted vertex {0} is for another network")]
    WrongChain(VertexId),
    /// An accepted vertex appears twice in the log.
    #[error("accepted vertex {0} appears twice")]
    Duplicate(VertexId),
    /// An accepted vertex comes before one of its parents.
    #[error("accepted vertex {0} comes before its parent {1}")]
    ParentMissing(VertexId, VertexId),
    /// An accepted vertex's height does not match its parents.
    #[error("accepted vertex {0} has a wrong height")]
    BadHeight(VertexId),
    /// The ledger refuses a transaction of an accepted vertex.
    #[error("accepted vertex {vertex}: transaction {tx} does not apply: {reason}")]
    LedgerRejected {
        /// The vertex.
        vertex: VertexId,
        /// The transaction.
        tx: TxId,
        /// Why.
        reason: TxRejection,
    },
}

impl Engine {
    /// An engine restarted from persisted state. Accepted vertices are
    /// replayed into the ledger in log order (their signatures were checked
    /// before they were stored); undecided ones re-enter consensus with fresh
    /// counters, and requests for vertices they miss go to `out`. Until one
    /// of its own polls has caught up with the network, the engine answers
    /// queries with no preference (it abstains): its preferences were
    /// rebuilt in an order it did not choose and its counters are gone. A
    /// conflict with two choices stays out of its votes until a poll
    /// succeeds for it.
    pub fn restore(
        config: EngineConfig,
        state: &PersistedState,
        out: &mut Vec<Output>,
    ) -> Result<Self, RestoreError> {
        Self::restore_from(config, None, state, out)
    }

    /// [`Engine::restore`] from a state snapshot's ledger (`base`) instead of
    /// genesis: only the accepted vertices `base` does not cover are applied
    /// to it, in log order (a topological order, and the state after a set
    /// closed under parents depends only on the set: see `ancestry.rs`).
    pub fn restore_from(
        config: EngineConfig,
        base: Option<RestoreBase>,
        state: &PersistedState,
        out: &mut Vec<Output>,
    ) -> Result<Self, RestoreError> {
        let mut engine = Engine::new(config)?;
        let accepted: Vec<Arc<Vertex>> = state
            .accepted
            .iter()
            .enumerate()
            .map(|(index, bytes)| {
                Vertex::decode(bytes)
                    .map(Arc::new)
                    .map_err(|error| RestoreError::Decode { index, error })
            })
            .collect::<Result<_, _>>()?;
        let covered = match base {
            Some(base) => {
                engine.accepted = Accepted::from_ledger(base.ledger);
                // Covered copies first: a transaction in a covered vertex is
                // in the ledger whatever the log order of its copies.
                for vertex in accepted.iter().filter(|v| base.covered.contains(&v.id())) {
                    for tx_id in vertex.tx_ids() {
                        engine.accepted.record_covered(vertex.id(), *tx_id);
                    }
                }
                base.covered
            }
            None => HashSet::new(),
        };
        for vertex in accepted {
            let apply = !covered.contains(&vertex.id());
            engine.restore_accepted(vertex, apply)?;
        }
        // Undecided vertices that do not decode or fail checks are dropped
        // like any bad input (and counted): they are not final.
        let mut processing: Vec<Arc<Vertex>> = state
            .processing
            .iter()
            .filter_map(|bytes| Vertex::decode(bytes).ok().map(Arc::new))
            .collect();
        processing.sort_by_key(|v| (v.height(), v.id()));
        engine.restoring = true;
        let me = engine.validators.me();
        for vertex in processing {
            if !engine.dag.contains(&vertex.id()) {
                engine.receive_vertex(vertex, me, Trust::Own, out);
            }
        }
        engine.restoring = false;
        // A relay with nothing persisted (a first start) has no rebuilt
        // preference to distrust.
        if !state.accepted.is_empty() || !state.processing.is_empty() {
            engine.polls.abstain();
        }
        engine.conflicts.mark_restored();
        engine.settle(out);
        Ok(engine)
    }

    fn restore_accepted(&mut self, vertex: Arc<Vertex>, apply: bool) -> Result<(), RestoreError> {
        let id = vertex.id();
        if vertex.chain_id() != self.chain_id {
            return Err(RestoreError::WrongChain(id));
        }
        if self.dag.contains(&id) {
            return Err(RestoreError::Duplicate(id));
        }
        let mut height = None;
        for parent in vertex.parents() {
            match self.dag.get(parent) {
                Some(node) if node.status() == VertexStatus::Accepted => {
                    height = height.max(Some(node.vertex().height() + 1));
                }
                _ => return Err(RestoreError::ParentMissing(id, *parent)),
            }
        }
        if vertex.height() != height.unwrap_or(0) {
            return Err(RestoreError::BadHeight(id));
        }
        // Covered vertices' transactions are in the base ledger already.
        let apply = if apply { vertex.txs() } else { &[] };
        for (tx_id, tx) in vertex.tx_ids().iter().zip(apply) {
            self.accepted
                .apply(id, *tx_id, tx)
                .map_err(|reason| RestoreError::LedgerRejected {
                    vertex: id,
                    tx: *tx_id,
                    reason,
                })?;
        }
        self.dag.insert(vertex, VertexStatus::Accepted);
        self.dirty = true;
        Ok(())
    }
}
