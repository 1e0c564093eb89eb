//! Decisions, across owners: accepting vertices whose ancestors are accepted
//! and whose transactions reached their beta (into the accepted state, out of
//! the conflict sets), rejecting what lost (conflict sets, then the DAG), and
//! then refreshing the DAG's flags and frontiers and the orphan marks.

use super::accepted::Recorded;
use super::{Engine, Output, Persist};
use crate::dag::{TxFlags, VertexStatus};
use crate::vertex::VertexId;
use ruv_protocol::{TxId, TxRejection};
use std::collections::{BTreeMap, BTreeSet};

/// The processing vertices that validators holding more than half of the
/// stake claim accepted ([`Engine::attested_accepted`]), kept between
/// settles: it changes only when a claim changes, a claimed vertex arrives
/// or a processing vertex is rejected (stale: recomputed at the next
/// settle), or one of them is accepted (it leaves).
#[derive(Debug)]
pub(super) struct Attested {
    pub(super) ids: BTreeSet<VertexId>,
    pub(super) stale: bool,
}

impl Default for Attested {
    fn default() -> Self {
        Self {
            ids: BTreeSet::new(),
            stale: true,
        }
    }
}

impl Engine {
    /// Brings decisions, flags and frontiers up to date after any change.
    pub(super) fn settle(&mut self, out: &mut Vec<Output>) {
        if !self.dirty {
            return;
        }
        self.accept_ready(out);
        self.refresh_flags();
        self.update_orphans();
        self.dirty = false;
        #[cfg(debug_assertions)]
        self.assert_consistent();
    }

    /// One pass over the acceptance candidates in (height, id) order:
    /// parents are decided before children, so a chain of ready vertices is
    /// accepted in one pass. Every processing vertex that may have become
    /// acceptable since it was last examined is a candidate (on arrival, a
    /// parent accepted, a transaction of it decided or accepted, attested),
    /// so this accepts exactly what a scan of every processing vertex in the
    /// same order would, at a cost that follows what changed. A candidate
    /// added behind the cursor (a copy of a transaction a later vertex
    /// applied) waits for the next pass, as it would in that scan.
    fn accept_ready(&mut self, out: &mut Vec<Output>) {
        if self.full_rescan {
            self.accept_ready_full(out);
            return;
        }
        self.refresh_attested();
        #[cfg(debug_assertions)]
        self.assert_candidates_complete();
        let mut cursor = None;
        while let Some(next) = self.dag.next_candidate_after(cursor) {
            cursor = Some(next);
            let id = next.1;
            if self.dag.status(&id) == Some(VertexStatus::Processing)
                && self.acceptable(&id, self.attested.ids.contains(&id))
            {
                self.accept_vertex(&id, out);
            }
        }
    }

    /// The pass before issue 9, kept for [`Engine::set_full_rescan`] (the
    /// benchmark's baseline): every processing vertex, with the attested set
    /// recomputed from every claim.
    fn accept_ready_full(&mut self, out: &mut Vec<Output>) {
        let attested = self.attested_accepted();
        for id in self.dag.processing_ids() {
            if self.dag.status(&id) == Some(VertexStatus::Processing)
                && self.acceptable(&id, attested.contains(&id))
            {
                self.accept_vertex(&id, out);
            }
        }
        self.dag.clear_candidates();
        self.attested.stale = true;
    }

    /// Recomputes the attested set if a claim or the processing vertices a
    /// claim reaches changed; newly attested vertices become candidates.
    fn refresh_attested(&mut self) {
        if !self.attested.stale {
            return;
        }
        self.attested.ids = self.attested_accepted();
        self.attested.stale = false;
        for id in &self.attested.ids {
            self.dag.mark_candidate(id);
        }
    }

    /// Debug builds: the kept attested set is the full recomputation, and
    /// every acceptable processing vertex is a candidate (what the full scan
    /// would accept, the candidate pass accepts).
    #[cfg(debug_assertions)]
    fn assert_candidates_complete(&self) {
        debug_assert_eq!(self.attested.ids, self.attested_accepted());
        for id in self.dag.processing_ids() {
            debug_assert!(
                !self.acceptable(&id, self.attested.ids.contains(&id))
                    || self.dag.is_candidate(&id),
                "acceptable vertex {id} is not an acceptance candidate"
            );
        }
    }

    /// A vertex is accepted once its parents are and either every one of its
    /// transactions reached its beta, or validators holding more than half
    /// of the stake report it accepted.
    fn acceptable(&self, id: &VertexId, attested: bool) -> bool {
        let Some(node) = self.dag.get(id) else {
            return false;
        };
        let parents_accepted = node
            .vertex()
            .parents()
            .iter()
            .all(|p| self.dag.status(p) == Some(VertexStatus::Accepted));
        parents_accepted
            && (attested
                || node
                    .vertex()
                    .tx_ids()
                    .iter()
                    .all(|tx| self.tx_decided_for(tx)))
    }

    /// Processing vertices that other validators holding more than half of
    /// the stake have accepted (by their latest accepted tips, whose
    /// ancestors they accepted too). With Byzantine stake below 1/5, such a
    /// set always includes honest relays that accepted the vertex through
    /// consensus, so it is final: this is how a relay that fell behind (a
    /// restart, a partition, unlucky polls) catches up, like avalanchego's
    /// bootstrapping from the accepted frontier.
    fn attested_accepted(&self) -> BTreeSet<VertexId> {
        let total = self.validators.total_stake();
        let me = self.validators.me();
        let mut stake_for: BTreeMap<VertexId, u128> = BTreeMap::new();
        for (index, claims) in self.polls.accepted_claims().iter().enumerate() {
            let index = crate::vertex::ValidatorIndex(index as u16);
            if index == me || claims.is_empty() {
                continue;
            }
            let stake = self.validators.stake(index) as u128;
            for id in self.dag.processing_closure(claims) {
                *stake_for.entry(id).or_insert(0) += stake;
            }
        }
        stake_for
            .into_iter()
            .filter(|(_, stake)| stake * 2 > total)
            .map(|(id, _)| id)
            .collect()
    }

    /// The transaction is accepted, or its conflict set decided for it
    /// (sticky: it once had beta consecutive successful polls).
    fn tx_decided_for(&self, id: &TxId) -> bool {
        self.accepted.contains(id) || self.conflicts.decided(id)
    }

    fn accept_vertex(&mut self, id: &VertexId, out: &mut Vec<Output>) {
        let Some(node) = self.dag.get(id) else { return };
        // Only accepted vertices settle, so a processing one is whole.
        let Some(vertex) = node.vertex().whole().cloned() else {
            tracing::error!(%id, "a processing vertex without its body");
            return;
        };
        self.dag.set_accepted(id);
        self.attested.ids.remove(id);
        // Persisted first: nothing is announced accepted before it is durable.
        self.metrics.vertices_accepted += 1;
        out.push(Output::Persist(Persist::Accepted {
            id: *id,
            bytes: vertex.bytes().clone(),
        }));
        out.push(Output::VertexAccepted {
            id: *id,
            height: vertex.height(),
        });
        let mut applied_first = false;
        for (tx_id, tx) in vertex.tx_ids().iter().zip(vertex.txs()) {
            match self.accepted.apply(*id, *tx_id, tx) {
                Ok(Recorded::Copy) => {}
                Ok(Recorded::New) => {
                    applied_first = true;
                    // Other vertices holding it may be acceptable now.
                    for holder in self.conflicts.live_vertices(tx_id) {
                        self.dag.mark_candidate(holder);
                    }
                    self.metrics.transactions_accepted += 1;
                    out.push(Output::TxAccepted {
                        id: *tx_id,
                        vertex: *id,
                    });
                    // Every other choice of its conflict set lost.
                    for loser in self.conflicts.resolve(tx_id) {
                        self.reject_tx(&loser, TxRejection::Conflict, out);
                    }
                }
                Err(reason) => {
                    // Unreachable if ancestry checks are right; the simulator asserts it.
                    self.metrics.apply_failures += 1;
                    tracing::error!(vertex = %id, tx = %tx_id, %reason, "accepted transaction does not apply");
                }
            }
        }
        // A vertex that moved the ledger costs its issuer nothing (admission.rs).
        if applied_first && vertex.issuer() != self.validators.me() {
            self.budgets
                .refund(vertex.issuer(), vertex.encoded_len(), self.now_ms);
        }
        self.dirty = true;
    }

    /// Forgets a transaction as rejected, rejecting the vertices holding it.
    pub(super) fn reject_tx(&mut self, id: &TxId, reason: TxRejection, out: &mut Vec<Output>) {
        let Some(live_vertices) = self.conflicts.remove(id) else {
            return;
        };
        for vertex in &live_vertices {
            self.reject_vertex(vertex, out);
        }
        self.metrics.transactions_rejected += 1;
        out.push(Output::TxRejected { id: *id, reason });
        self.dirty = true;
    }

    /// Lets go of an undecided transaction that is in no live vertex,
    /// remembering it as expired.
    pub(super) fn expire_tx(&mut self, id: &TxId, reason: TxRejection, out: &mut Vec<Output>) {
        let Some(live_vertices) = self.conflicts.remove(id) else {
            return;
        };
        debug_assert!(
            live_vertices.is_empty(),
            "an expiring transaction is in no live vertex"
        );
        for vertex in &live_vertices {
            self.reject_vertex(vertex, out);
        }
        self.expired.insert(*id);
        self.metrics.transactions_expired += 1;
        out.push(Output::TxExpired { id: *id, reason });
        self.dirty = true;
    }

    /// Rejects a processing vertex and every processing descendant.
    fn reject_vertex(&mut self, id: &VertexId, out: &mut Vec<Output>) {
        let mut stack = vec![*id];
        while let Some(id) = stack.pop() {
            let Some(node) = self.dag.get(&id) else {
                continue;
            };
            if node.status() != VertexStatus::Processing {
                continue;
            }
            let tx_ids = node.vertex().tx_ids().to_vec();
            stack.extend(node.children().iter().copied());
            self.dag.set_rejected(&id);
            // Claims reaching vertices through it reach fewer now.
            self.attested.stale = true;
            for tx_id in &tx_ids {
                self.conflicts.remove_live_vertex(tx_id, &id);
            }
            self.metrics.vertices_rejected += 1;
            out.push(Output::VertexRejected { id });
            out.push(Output::Persist(Persist::Forget { id }));
        }
        self.dirty = true;
    }

    /// Brings the DAG's preferred / virtuous flags and frontiers up to date
    /// with the conflict sets: the vertices holding a transaction whose
    /// standing changed, and their processing descendants (`Dag::refresh_flags`).
    fn refresh_flags(&mut self) {
        for vertex in self.conflicts.take_flag_changes() {
            self.dag.mark_flags_dirty(&vertex);
        }
        let accepted = &self.accepted;
        let conflicts = &self.conflicts;
        self.dag.refresh_flags(|tx| {
            if accepted.contains(tx) {
                return Some(TxFlags {
                    preferred: true,
                    virtuous: true,
                });
            }
            conflicts.flags(tx).map(|(preferred, virtuous)| TxFlags {
                preferred,
                virtuous,
            })
        });
    }

    /// Marks transactions that need a (new) vertex: a conflict-free one in no
    /// virtuous vertex, or a conflicting one in no live vertex at all.
    /// Only the transactions whose mark may have changed (`Conflicts`
    /// tracks its own changes; a live vertex whose virtuous flag changed
    /// marks its transactions here), or all with [`Engine::set_full_rescan`].
    fn update_orphans(&mut self) {
        for vertex in self.dag.take_virtuous_changes() {
            if let Some(node) = self.dag.get(&vertex) {
                for tx_id in node.vertex().tx_ids() {
                    self.conflicts.mark_orphan_dirty(tx_id);
                }
            }
        }
        let dag = &self.dag;
        let is_virtuous = |vertex: &VertexId| {
            dag.get(vertex)
                .is_some_and(|n| n.status() == VertexStatus::Processing && n.virtuous())
        };
        if self.full_rescan {
            self.conflicts
                .update_orphans(self.now_ms, self.tuning.standby_delay_ms, is_virtuous);
        } else {
            self.conflicts.update_orphans_changed(
                self.now_ms,
                self.tuning.standby_delay_ms,
                is_virtuous,
            );
        }
    }

    /// Every owner's invariants, and the ones across owners that the
    /// simulator's checker watches (debug builds, after each settle).
    #[cfg(debug_assertions)]
    fn assert_consistent(&self) {
        self.conflicts.assert_consistent();
        self.fetcher
            .assert_consistent(self.tuning.max_waiting_bytes);
        for id in self.dag.preferred_frontier() {
            // A relay never votes for a vertex holding a transaction that
            // lost to an accepted one.
            if let Some(node) = self.dag.get(id) {
                if let (VertexStatus::Processing, Some(vertex)) =
                    (node.status(), node.vertex().whole())
                {
                    debug_assert!(vertex
                        .txs()
                        .iter()
                        .zip(vertex.tx_ids())
                        .all(|(tx, tx_id)| self.accepted.contains(tx_id)
                            || !self.accepted.nonce_used(tx)));
                }
            }
        }
    }
}
