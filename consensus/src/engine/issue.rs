//! Transactions in (client submissions, gossip) and vertices out: batching
//! orphaned transactions into new vertices on the virtuous frontier.

use super::vertices::Trust;
use super::{Engine, Output, TxDropReason};
use crate::ancestry::ancestry_view;
use crate::message::Message;
use crate::metrics::DropReason;
use crate::vertex::{VertexContent, VertexId};
use ruv_protocol::{SignedTransfer, TxId, TxRejection};
use std::sync::Arc;

/// Conflicting transactions issued per tick at most (each in its own vertex).
const MAX_ROGUE_VERTICES_PER_TICK: usize = 4;

impl Engine {
    pub(super) fn on_submit(&mut self, tx: Arc<SignedTransfer>, out: &mut Vec<Output>) {
        let id = tx.id();
        self.metrics.transactions_submitted += 1;
        if let Some(vertex) = self.accepted_txs.get(&id).and_then(|v| v.first()) {
            out.push(Output::TxAccepted {
                id,
                vertex: *vertex,
            });
            return;
        }
        if let Some(record) = self.txs.get_mut(&id) {
            record.owned = true;
            // An orphan waiting out the standby delay becomes ours to issue now.
            if let Some(after) = record.issue_after_ms.as_mut() {
                *after = (*after).min(self.now_ms);
            }
            return;
        }
        if let Err(reason) = self.ledger.rules().check_stateless(&tx, false) {
            self.metrics.transactions_rejected += 1;
            out.push(Output::TxRejected { id, reason });
            return;
        }
        let accepted_nonce = self.ledger.account(&tx.transfer.from).nonce;
        if tx.transfer.nonce <= accepted_nonce {
            self.metrics.transactions_rejected += 1;
            let expected = accepted_nonce.saturating_add(1);
            out.push(Output::TxRejected {
                id,
                reason: TxRejection::StaleNonce {
                    expected,
                    got: tx.transfer.nonce,
                },
            });
            return;
        }
        if self.txs.len() >= self.tuning.max_pending_txs {
            self.metrics.transactions_dropped += 1;
            out.push(Output::TxDropped {
                id,
                reason: TxDropReason::PoolFull,
            });
            return;
        }
        self.register_tx(id, tx.clone(), true);
        out.push(Output::Broadcast {
            message: Message::Transaction(tx),
        });
    }

    pub(super) fn on_gossip_transaction(&mut self, tx: Arc<SignedTransfer>) {
        let id = tx.id();
        if self.accepted_txs.contains_key(&id) || self.txs.contains_key(&id) {
            self.metrics.drop(DropReason::Duplicate);
            return;
        }
        if self.ledger.rules().check_stateless(&tx, false).is_err()
            || tx.transfer.nonce <= self.ledger.account(&tx.transfer.from).nonce
        {
            self.metrics.drop(DropReason::InvalidGossipTransaction);
            return;
        }
        if self.txs.len() >= self.tuning.max_pending_txs {
            self.metrics.drop(DropReason::PoolFull);
            return;
        }
        self.register_tx(id, tx, false);
    }

    /// Issues what is due: one batch of conflict-free transactions, and each
    /// conflicting transaction in a vertex of its own (so a conflict never
    /// holds honest transactions back). Then rejects transactions that could
    /// not be issued for too long.
    pub(super) fn issue_ready(&mut self, out: &mut Vec<Output>) {
        self.settle(out);
        let now = self.now_ms;
        let mut due: Vec<(TxId, bool, u64)> = self
            .txs
            .iter()
            .filter_map(|(id, r)| {
                let after = r.issue_after_ms?;
                (after <= now).then(|| {
                    let conflict_free = self
                        .conflicts
                        .get(&r.key)
                        .is_some_and(|s| s.choices.len() == 1);
                    (*id, conflict_free, after)
                })
            })
            .collect();
        if due.is_empty() {
            self.last_issue_attempt = None;
            return;
        }
        let oldest = due.iter().map(|(_, _, after)| *after).min().unwrap_or(now);
        let batch_size = self.params.batch_size as usize;
        if due.len() < batch_size && oldest.saturating_add(self.tuning.batch_delay_ms) > now {
            return;
        }
        // Nothing changed since the last attempt left these behind: wait.
        let due_ids: Vec<TxId> = due.iter().map(|(id, _, _)| *id).collect();
        if self
            .last_issue_attempt
            .as_ref()
            .is_some_and(|(version, ids)| *version == self.dag.version && *ids == due_ids)
        {
            self.expire_failing(out);
            return;
        }
        // Senders' nonce chains in order.
        due.sort_by_key(|(id, _, _)| self.txs.get(id).map(|r| r.key));
        let parents: Vec<VertexId> = self
            .virtuous_frontier
            .iter()
            .take(self.params.parents as usize)
            .copied()
            .collect();

        let conflict_free: Vec<TxId> = due
            .iter()
            .filter(|(_, free, _)| *free)
            .map(|(id, _, _)| *id)
            .collect();
        if !conflict_free.is_empty() {
            let batch = self.select_batch(&parents, &conflict_free, batch_size);
            if !batch.is_empty() {
                self.issue_vertex(parents.clone(), batch, out);
            }
        }
        let rogue: Vec<TxId> = due
            .iter()
            .filter(|(_, free, _)| !*free)
            .map(|(id, _, _)| *id)
            .collect();
        for id in rogue.into_iter().take(MAX_ROGUE_VERTICES_PER_TICK) {
            let batch = self.select_batch(&parents, &[id], 1);
            if !batch.is_empty() {
                self.issue_vertex(parents.clone(), batch, out);
            }
        }
        self.settle(out);
        let left: Vec<TxId> = self
            .txs
            .iter()
            .filter(|(_, r)| r.issue_after_ms.is_some_and(|after| after <= now))
            .map(|(id, _)| *id)
            .collect();
        self.last_issue_attempt = Some((self.dag.version, left));
        self.expire_failing(out);
    }

    /// The candidates (in order) that are valid on the ancestry of `parents`,
    /// each checked after the ones chosen before it. Records why the others
    /// are not.
    fn select_batch(
        &mut self,
        parents: &[VertexId],
        candidates: &[TxId],
        limit: usize,
    ) -> Vec<Arc<SignedTransfer>> {
        let view = ancestry_view(
            &self.dag,
            &self.ledger,
            &self.accepted_txs,
            parents,
            self.tuning.max_ancestry_walk,
        );
        let mut view = match view {
            Ok(view) => view,
            Err(error) => {
                tracing::warn!(?error, "cannot issue on the virtuous frontier");
                return Vec::new();
            }
        };
        let now = self.now_ms;
        let mut batch = Vec::new();
        let mut failures = Vec::new();
        for id in candidates {
            if batch.len() >= limit {
                break;
            }
            let Some(record) = self.txs.get(id) else {
                continue;
            };
            match view.try_apply(&record.tx) {
                Ok(()) => batch.push(record.tx.clone()),
                Err(reason) => failures.push((*id, reason)),
            }
        }
        for (id, reason) in failures {
            if let Some(record) = self.txs.get_mut(&id) {
                let since = record.failing.as_ref().map_or(now, |(since, _)| *since);
                record.failing = Some((since, reason));
            }
        }
        batch
    }

    /// Rejects transactions that failed to issue for longer than the retry
    /// TTL and are in no live vertex.
    fn expire_failing(&mut self, out: &mut Vec<Output>) {
        let now = self.now_ms;
        let ttl = self.tuning.tx_retry_ttl_ms;
        let expired: Vec<(TxId, TxRejection)> = self
            .txs
            .iter()
            .filter(|(_, r)| r.live_vertices.is_empty())
            .filter_map(|(id, r)| {
                let (since, reason) = r.failing.as_ref()?;
                (since.saturating_add(ttl) <= now).then(|| (*id, reason.clone()))
            })
            .collect();
        for (id, reason) in expired {
            self.reject_tx(&id, reason, out);
        }
    }

    fn issue_vertex(
        &mut self,
        parents: Vec<VertexId>,
        txs: Vec<Arc<SignedTransfer>>,
        out: &mut Vec<Output>,
    ) {
        let height = parents
            .iter()
            .filter_map(|p| self.dag.height(p))
            .max()
            .map_or(0, |h| h.saturating_add(1));
        let content = VertexContent {
            chain_id: self.chain_id.clone(),
            issuer: self.me,
            height,
            parents,
            txs,
        };
        let randomness = self.random_bytes();
        let vertex = match content.sign(&self.key, randomness) {
            Ok(vertex) => Arc::new(vertex),
            Err(error) => {
                tracing::error!(%error, "cannot sign a vertex");
                return;
            }
        };
        let id = vertex.id();
        let bytes = vertex.bytes().clone();
        for tx_id in vertex.tx_ids() {
            if let Some(record) = self.txs.get_mut(tx_id) {
                record.owned = true;
            }
        }
        self.receive_vertex(vertex, self.me, Trust::Own, out);
        if self.dag.contains(&id) {
            self.metrics.vertices_issued += 1;
            tracing::debug!(%id, height, "issued vertex");
            out.push(Output::Broadcast {
                message: Message::Vertex(bytes),
            });
        } else {
            tracing::error!(%id, "own vertex failed its own checks");
        }
    }
}
