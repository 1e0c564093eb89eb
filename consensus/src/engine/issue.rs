//! Transactions in (client submissions, gossip) and vertices out: batching
//! orphaned transactions into new vertices on the virtuous frontier. The
//! [`Issuer`] remembers the last attempt so an unchanged DAG is not retried;
//! the transactions themselves live in the conflict sets.

use super::conflicts::{fee_rate, Due};
use super::peers::random_choice;
use super::vertices::Trust;
use super::{Engine, Output, TxDropReason};
use crate::ancestry::ancestry_view;
use crate::dag::VertexStatus;
use crate::message::{Message, MAX_CHITS};
use crate::metrics::DropReason;
use crate::vertex::{ValidatorIndex, VertexContent, VertexId};
use ruv_protocol::{SignedTransfer, TxId, TxRejection};
use std::sync::Arc;

/// Conflicting transactions issued per tick at most (each in its own vertex).
const MAX_ROGUE_VERTICES_PER_TICK: usize = 4;

/// Above this many undecided vertices on its virtuous frontier a relay
/// merges tips: half of what one Chits answer may name, so that after the
/// merges every answer names every undecided tip.
pub(super) const MERGE_ABOVE: usize = MAX_CHITS / 2;

/// An accepted vertex holding a sender's previous nonce is chosen as a
/// parent only within this many heights of the highest accepted tip.
const PREVIOUS_NONCE_WINDOW: u64 = 1_000;

/// A vertex without transactions (a merge) names at least this many parents.
pub(crate) const MIN_MERGE_PARENTS: usize = 2;

/// The issuer's memory between attempts.
#[derive(Debug, Default)]
pub(crate) struct Issuer {
    /// (DAG version, due transactions) after the last issuing attempt: the
    /// next attempt waits until one of them changes.
    last_attempt: Option<(u64, Vec<TxId>)>,
    /// When this relay last issued a merge vertex.
    last_merge_ms: Option<u64>,
}

impl Issuer {
    /// Nothing changed since the last attempt left `due` behind.
    pub(super) fn unchanged(&self, dag_version: u64, due: &[TxId]) -> bool {
        self.last_attempt
            .as_ref()
            .is_some_and(|(version, ids)| *version == dag_version && ids == due)
    }

    fn record(&mut self, attempt: Option<(u64, Vec<TxId>)>) {
        self.last_attempt = attempt;
    }

    /// The earliest time the next merge may be issued.
    fn next_merge_allowed_ms(&self, interval_ms: u64) -> u64 {
        self.last_merge_ms
            .map_or(0, |at| at.saturating_add(interval_ms))
    }
}

impl Engine {
    /// `signature_checked`: the driver checked the signature already.
    pub(super) fn on_submit(
        &mut self,
        tx: Arc<SignedTransfer>,
        signature_checked: bool,
        out: &mut Vec<Output>,
    ) {
        let id = tx.id();
        self.metrics.transactions_submitted += 1;
        if let Some(vertex) = self.accepted.vertex_of(&id) {
            out.push(Output::TxAccepted { id, vertex });
            return;
        }
        // Known already: it becomes ours to issue (at once if orphaned).
        if self.conflicts.claim(&id, self.now_ms) {
            return;
        }
        let ledger = self.accepted.ledger();
        // Nonce 0 and used nonces first: refusing them costs no signature check.
        let accepted_nonce = ledger.account(&tx.transfer.from).nonce;
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
        if let Err(reason) = ledger.rules().check_stateless(&tx, signature_checked) {
            self.metrics.transactions_rejected += 1;
            out.push(Output::TxRejected { id, reason });
            return;
        }
        if !self.make_room(fee_rate(&tx), out) {
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

    /// `signature_checked`: the driver checked the signature already.
    pub(super) fn on_gossip_transaction(
        &mut self,
        tx: Arc<SignedTransfer>,
        signature_checked: bool,
        out: &mut Vec<Output>,
    ) {
        let id = tx.id();
        if self.accepted.contains(&id) || self.conflicts.contains(&id) {
            self.metrics.drop(DropReason::Duplicate);
            return;
        }
        // A used nonce (0 included) is refused before the signature check.
        if self.accepted.nonce_used(&tx)
            || self
                .accepted
                .ledger()
                .rules()
                .check_stateless(&tx, signature_checked)
                .is_err()
        {
            self.metrics.drop(DropReason::InvalidGossipTransaction);
            return;
        }
        if !self.make_room(fee_rate(&tx), out) {
            self.metrics.drop(DropReason::PoolFull);
            return;
        }
        self.register_tx(id, tx, false);
    }

    /// Room in the pool for one more transaction paying `rate` per KiB:
    /// there is, or the lowest-paying transaction in no processing vertex
    /// pays less and leaves (reported as [`Output::TxDropped`] with
    /// [`TxDropReason::Evicted`]; it was never issued, so its nonce is
    /// unused and [`Engine::tx_status`] reads it as expired). Local policy:
    /// what one relay holds in its pool, never what any relay decides.
    fn make_room(&mut self, rate: u64, out: &mut Vec<Output>) -> bool {
        if self.conflicts.len() < self.tuning.max_pending_txs {
            return true;
        }
        let Some(victim) = self.conflicts.eviction_candidate(rate) else {
            return false;
        };
        self.conflicts.remove(&victim);
        self.expired.insert(victim);
        self.metrics.transactions_evicted += 1;
        self.dirty = true;
        out.push(Output::TxDropped {
            id: victim,
            reason: TxDropReason::Evicted,
        });
        true
    }

    /// Issues what is due: one batch of conflict-free transactions, and each
    /// conflicting transaction in a vertex of its own (so a conflict never
    /// holds honest transactions back). Then rejects transactions that could
    /// not be issued for too long.
    pub(super) fn issue_ready(&mut self, out: &mut Vec<Output>) {
        self.settle(out);
        let now = self.now_ms;
        let mut due: Vec<Due> = self.conflicts.due(now);
        if due.is_empty() {
            self.issuer.record(None);
            return;
        }
        let oldest = due.iter().map(|d| d.after_ms).min().unwrap_or(now);
        let batch_size = self.params.batch_size as usize;
        if due.len() < batch_size && self.partial_batch_at(oldest) > now {
            return;
        }
        // Nothing changed since the last attempt left these behind: wait.
        let due_ids: Vec<TxId> = due.iter().map(|d| d.id).collect();
        if self.issuer.unchanged(self.dag.version(), &due_ids) {
            self.expire_failing(out);
            return;
        }
        // Senders' nonce chains in order.
        due.sort_by_key(|d| self.conflicts.key_of(&d.id));
        let parents = self.choose_parents(&due);

        let conflict_free: Vec<TxId> = due
            .iter()
            .filter(|d| d.conflict_free)
            .map(|d| d.id)
            .collect();
        if !conflict_free.is_empty() {
            let batch = self.select_batch(&parents, &conflict_free, batch_size);
            if !batch.is_empty() {
                self.issue_vertex(parents.clone(), batch, out);
            }
        }
        let rogue: Vec<TxId> = due
            .iter()
            .filter(|d| !d.conflict_free)
            .map(|d| d.id)
            .collect();
        for id in rogue.into_iter().take(MAX_ROGUE_VERTICES_PER_TICK) {
            let batch = self.select_batch(&parents, &[id], 1);
            if !batch.is_empty() {
                self.issue_vertex(parents.clone(), batch, out);
            }
        }
        self.settle(out);
        let left: Vec<TxId> = self.conflicts.due(now).into_iter().map(|d| d.id).collect();
        self.issuer.record(Some((self.dag.version(), left)));
        self.expire_failing(out);
    }

    /// Parents for a new vertex: first, for each due transaction, the vertex
    /// holding its sender's previous nonce when that is undecided and
    /// virtuous or recently accepted (the transaction is valid only with it
    /// in its ancestry);
    /// then, up to the genesis `parents`, a random choice of the virtuous
    /// tips that cannot bait this relay: accepted tips, its own tips, and at
    /// most one tip per other issuer, one that arrived at least
    /// `parent_min_age_ms` ago. A fixed choice (the lowest tips) let a
    /// Byzantine relay predict which of its vertices honest ones would
    /// build on, then double spend their transactions.
    fn choose_parents(&mut self, due: &[Due]) -> Vec<VertexId> {
        let limit = self.params.parents as usize;
        let top = self.dag.highest_accepted_height();
        let mut parents: Vec<VertexId> = Vec::new();
        for d in due {
            if parents.len() >= limit {
                break;
            }
            let Some(tx) = self.conflicts.tx(&d.id) else {
                continue;
            };
            let t = &tx.transfer;
            let Some(previous) = t
                .nonce
                .checked_sub(1)
                .and_then(|nonce| self.dag.holder_of(&t.from, nonce))
            else {
                continue;
            };
            // Virtuous and undecided, or accepted within
            // `PREVIOUS_NONCE_WINDOW` heights of the highest accepted tip. An
            // older accepted one is left out: the tips cover it almost
            // always, and a parent far below the frontier would make the
            // ancestry walk long (or exceed `max_ancestry_walk`).
            let usable = self
                .dag
                .get(&previous)
                .is_some_and(|node| match node.status() {
                    VertexStatus::Processing => node.virtuous(),
                    VertexStatus::Accepted => {
                        node.vertex().height().saturating_add(PREVIOUS_NONCE_WINDOW) >= top
                    }
                    VertexStatus::Rejected => false,
                });
            if usable && !parents.contains(&previous) {
                parents.push(previous);
            }
        }
        // Accepted tips next, all but one slot when there are many: they
        // cannot bait, and naming them keeps the accepted vertices outside
        // the new vertex's ancestry few. Every relay's validity walk
        // subtracts those, so with undecided tips of other issuers left
        // out for `parent_min_age_ms` (the tips an accepted one is hidden
        // behind in the virtuous frontier), the walk grew with the load
        // (`docs/benchmarks.md`, "Where the time goes, 2026-12-02").
        let room = limit.saturating_sub(parents.len());
        let accepted_room = if room > 1 { room - 1 } else { room };
        let accepted: Vec<VertexId> = self
            .dag
            .accepted_tips()
            .iter()
            .filter(|id| !parents.contains(id))
            .copied()
            .collect();
        let chosen = random_choice(accepted.clone(), accepted_room, &mut self.rng);
        parents.extend(chosen);
        let me = self.validators.me();
        let min_age = self.tuning.parent_min_age_ms;
        let now = self.now_ms;
        let mut candidates: Vec<VertexId> = Vec::new();
        let mut foreign: Vec<(ValidatorIndex, VertexId)> = Vec::new();
        for id in self.dag.virtuous_frontier() {
            if parents.contains(id) {
                continue;
            }
            let Some(node) = self.dag.get(id) else {
                continue;
            };
            let issuer = node.vertex().issuer();
            if node.status() == VertexStatus::Accepted || issuer == me {
                candidates.push(*id);
            } else if node.arrived_ms().saturating_add(min_age) <= now {
                foreign.push((issuer, *id));
            }
        }
        // One tip per other issuer, chosen at random among its tips.
        foreign.sort();
        let mut start = 0;
        while start < foreign.len() {
            let issuer = foreign[start].0;
            let end = start + foreign[start..].partition_point(|(i, _)| *i == issuer);
            let tips: Vec<VertexId> = foreign[start..end].iter().map(|(_, id)| *id).collect();
            candidates.extend(random_choice(tips, 1, &mut self.rng));
            start = end;
        }
        let room = limit.saturating_sub(parents.len());
        parents.extend(random_choice(candidates, room, &mut self.rng));
        // No undecided tip to take the slot left: another accepted tip.
        let room = limit.saturating_sub(parents.len());
        let rest: Vec<VertexId> = accepted
            .into_iter()
            .filter(|id| !parents.contains(id))
            .collect();
        parents.extend(random_choice(rest, room, &mut self.rng));
        parents
    }

    /// Merges tips: while more than [`MERGE_ABOVE`] undecided vertices sit on
    /// the virtuous frontier, issues (at most once per `merge_interval_ms`) a
    /// vertex without transactions whose parents are a random choice of
    /// those that have waited at least `merge_interval_ms`. Avalanche issues
    /// such vertices to make progress when nothing builds on a tip; here
    /// they also bound the frontier: a Byzantine relay that issues many
    /// vertices on the same parents, or many honest issuers at once, would
    /// otherwise leave more undecided tips than one answer can name, and a
    /// tip named in only some answers rarely gathers `alpha` votes in a
    /// poll (it never would become accepted everywhere). A chit for a merge
    /// votes for every undecided transaction in its ancestry. Random
    /// choices let the relays merge different tips; the interval bounds
    /// what a flood of tips can make this relay issue.
    pub(super) fn merge_tips(&mut self, out: &mut Vec<Output>) {
        let interval = self.tuning.merge_interval_ms;
        let now = self.now_ms;
        if self.issuer.next_merge_allowed_ms(interval) > now
            || self.dag.undecided_virtuous_tips().count() <= MERGE_ABOVE
        {
            return;
        }
        let waited: Vec<VertexId> = self
            .dag
            .undecided_virtuous_tips()
            .filter(|node| node.arrived_ms().saturating_add(interval) <= now)
            .map(|node| node.vertex().id())
            .collect();
        if waited.len() < MIN_MERGE_PARENTS {
            return;
        }
        let take = waited.len().min(self.params.parents as usize);
        if take < MIN_MERGE_PARENTS {
            return;
        }
        let parents = random_choice(waited, take, &mut self.rng);
        self.issuer.last_merge_ms = Some(now);
        tracing::debug!(parents = take, "merging undecided tips");
        self.issue_vertex(parents, Vec::new(), out);
    }

    /// When [`Engine::merge_tips`] has work: the frontier is too wide and two
    /// of its undecided tips have waited long enough (or will have).
    pub(super) fn next_merge_ms(&self) -> Option<u64> {
        let interval = self.tuning.merge_interval_ms;
        let mut arrivals: Vec<u64> = self
            .dag
            .undecided_virtuous_tips()
            .map(|node| node.arrived_ms())
            .collect();
        // A genesis allowing fewer parents than a merge needs never merges.
        if arrivals.len() <= MERGE_ABOVE || (self.params.parents as usize) < MIN_MERGE_PARENTS {
            return None;
        }
        arrivals.sort_unstable();
        let ready = arrivals[MIN_MERGE_PARENTS - 1].saturating_add(interval);
        Some(ready.max(self.issuer.next_merge_allowed_ms(interval)))
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
            self.accepted.ledger(),
            self.accepted.txs(),
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
        let mut batch = Vec::new();
        let mut failures = Vec::new();
        for id in candidates {
            if batch.len() >= limit {
                break;
            }
            let Some(tx) = self.conflicts.tx(id) else {
                continue;
            };
            match view.try_apply(tx) {
                Ok(()) => batch.push(tx.clone()),
                Err(reason) => failures.push((*id, reason)),
            }
        }
        for (id, reason) in failures {
            self.conflicts.record_failure(&id, self.now_ms, reason);
        }
        batch
    }

    /// Lets go of transactions that failed to issue for longer than the
    /// retry TTL and are in no live vertex. One whose nonce another accepted
    /// transfer used can never apply: rejected. Any other (a nonce gap that
    /// never closed, funds that never came) expires: its nonce is unused.
    fn expire_failing(&mut self, out: &mut Vec<Output>) {
        let expired = self
            .conflicts
            .expired_failures(self.now_ms, self.tuning.tx_retry_ttl_ms);
        for (id, reason) in expired {
            if matches!(reason, TxRejection::StaleNonce { .. }) {
                self.reject_tx(&id, reason, out);
            } else {
                self.expire_tx(&id, reason, out);
            }
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
        let me = self.validators.me();
        let content = VertexContent {
            chain_id: self.chain_id.clone(),
            issuer: me,
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
            self.conflicts.set_owned(tx_id);
        }
        self.receive_vertex(vertex, me, Trust::Own, out);
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
