//! Decisions: accepting vertices whose ancestors are accepted and whose
//! transactions reached their beta, rejecting what lost, and keeping the
//! preferred / virtuous flags, frontiers and orphan list current.

use super::{Engine, Output, Persist};
use crate::dag::VertexStatus;
use crate::vertex::VertexId;
use ruv_protocol::{TxId, TxRejection};
use std::collections::{BTreeMap, BTreeSet};

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
    }

    /// One pass in (height, id) order: parents are decided before children,
    /// so a chain of ready vertices is accepted in one pass.
    fn accept_ready(&mut self, out: &mut Vec<Output>) {
        let attested = self.attested_accepted();
        let candidates: Vec<VertexId> = self.dag.processing.iter().map(|(_, id)| *id).collect();
        for id in candidates {
            if self.dag.status(&id) == Some(VertexStatus::Processing)
                && self.acceptable(&id, attested.contains(&id))
            {
                self.accept_vertex(&id, out);
            }
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
            .vertex
            .parents()
            .iter()
            .all(|p| self.dag.status(p) == Some(VertexStatus::Accepted));
        parents_accepted
            && (attested
                || node
                    .vertex
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
        let total: u128 = self.validators.iter().map(|v| v.stake as u128).sum();
        let mut stake_for: BTreeMap<VertexId, u128> = BTreeMap::new();
        for (index, claims) in self.accepted_claims.iter().enumerate() {
            if index == self.me.0 as usize || claims.is_empty() {
                continue;
            }
            let stake = self.validators.get(index).map_or(0, |v| v.stake as u128);
            let mut stack: Vec<VertexId> = claims
                .iter()
                .filter(|id| self.dag.status(id) == Some(VertexStatus::Processing))
                .copied()
                .collect();
            let mut closure: BTreeSet<VertexId> = stack.iter().copied().collect();
            while let Some(id) = stack.pop() {
                let Some(node) = self.dag.get(&id) else {
                    continue;
                };
                for parent in node.vertex.parents() {
                    if self.dag.status(parent) == Some(VertexStatus::Processing)
                        && closure.insert(*parent)
                    {
                        stack.push(*parent);
                    }
                }
            }
            for id in closure {
                *stake_for.entry(id).or_insert(0) += stake;
            }
        }
        stake_for
            .into_iter()
            .filter(|(_, stake)| stake * 2 > total)
            .map(|(id, _)| id)
            .collect()
    }

    /// The transaction is accepted, or its conflict set has beta consecutive
    /// successful polls for it.
    fn tx_decided_for(&self, id: &TxId) -> bool {
        if self.accepted_txs.contains_key(id) {
            return true;
        }
        let Some(record) = self.txs.get(id) else {
            return false;
        };
        let Some(set) = self.conflicts.get(&record.key) else {
            return false;
        };
        let beta = if set.rogue {
            self.params.beta_rogue
        } else {
            self.params.beta_virtuous
        };
        set.snowball.confidence_in(id) >= beta
    }

    fn accept_vertex(&mut self, id: &VertexId, out: &mut Vec<Output>) {
        let Some(node) = self.dag.get(id) else { return };
        let vertex = node.vertex.clone();
        self.dag.set_accepted(id);
        if let Some(count) = self
            .processing_by_issuer
            .get_mut(vertex.issuer().0 as usize)
        {
            *count = count.saturating_sub(1);
        }
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
        for (tx_id, tx) in vertex.tx_ids().iter().zip(vertex.txs()) {
            if let Some(copies) = self.accepted_txs.get_mut(tx_id) {
                copies.push(*id);
                continue;
            }
            match self.ledger.apply_checked_signature(tx) {
                Ok(_) => {
                    self.accepted_txs.insert(*tx_id, vec![*id]);
                    self.metrics.transactions_accepted += 1;
                    out.push(Output::TxAccepted {
                        id: *tx_id,
                        vertex: *id,
                    });
                    self.resolve_conflict_set(tx_id, out);
                }
                Err(reason) => {
                    // Unreachable if ancestry checks are right; the simulator asserts it.
                    self.metrics.apply_failures += 1;
                    tracing::error!(vertex = %id, tx = %tx_id, %reason, "accepted transaction does not apply");
                }
            }
        }
        self.dirty = true;
    }

    /// `winner` was accepted: every other transaction of its conflict set
    /// is rejected, and so is every vertex holding one.
    fn resolve_conflict_set(&mut self, winner: &TxId, out: &mut Vec<Output>) {
        let Some(record) = self.txs.remove(winner) else {
            return;
        };
        let Some(set) = self.conflicts.remove(&record.key) else {
            return;
        };
        for loser in set.choices.iter().filter(|c| *c != winner) {
            self.reject_tx(loser, TxRejection::Conflict, out);
        }
    }

    /// Forgets a transaction as rejected, rejecting the vertices holding it.
    pub(super) fn reject_tx(&mut self, id: &TxId, reason: TxRejection, out: &mut Vec<Output>) {
        let Some(record) = self.txs.remove(id) else {
            return;
        };
        if let Some(set) = self.conflicts.get_mut(&record.key) {
            set.choices.remove(id);
            if set.choices.is_empty() {
                self.conflicts.remove(&record.key);
            } else {
                let remaining: Vec<TxId> = set.choices.iter().copied().collect();
                set.snowball.remove_choice(id, remaining.into_iter());
            }
        }
        for vertex in &record.live_vertices {
            self.reject_vertex(vertex, out);
        }
        self.metrics.transactions_rejected += 1;
        out.push(Output::TxRejected { id: *id, reason });
        self.dirty = true;
    }

    /// Rejects a processing vertex and every processing descendant.
    fn reject_vertex(&mut self, id: &VertexId, out: &mut Vec<Output>) {
        let mut stack = vec![*id];
        while let Some(id) = stack.pop() {
            let Some(node) = self.dag.get(&id) else {
                continue;
            };
            if node.status != VertexStatus::Processing {
                continue;
            }
            let vertex = node.vertex.clone();
            stack.extend(node.children.iter().copied());
            self.dag.set_rejected(&id);
            if let Some(count) = self
                .processing_by_issuer
                .get_mut(vertex.issuer().0 as usize)
            {
                *count = count.saturating_sub(1);
            }
            for tx_id in vertex.tx_ids() {
                if let Some(record) = self.txs.get_mut(tx_id) {
                    record.live_vertices.remove(&id);
                }
            }
            self.metrics.vertices_rejected += 1;
            out.push(Output::VertexRejected { id });
            out.push(Output::Persist(Persist::Forget { id }));
        }
        self.dirty = true;
    }

    /// Recomputes which processing vertices are preferred and virtuous, and
    /// the two frontiers.
    fn refresh_flags(&mut self) {
        let order: Vec<VertexId> = self.dag.processing.iter().map(|(_, id)| *id).collect();
        for id in &order {
            let Some(node) = self.dag.get(id) else {
                continue;
            };
            let mut preferred = true;
            let mut virtuous = true;
            for parent in node.vertex.parents() {
                match self.dag.get(parent) {
                    Some(p) if p.status == VertexStatus::Accepted => {}
                    Some(p) if p.status == VertexStatus::Processing => {
                        preferred &= p.preferred;
                        virtuous &= p.virtuous;
                    }
                    _ => {
                        preferred = false;
                        virtuous = false;
                    }
                }
            }
            for tx_id in node.vertex.tx_ids() {
                if self.accepted_txs.contains_key(tx_id) {
                    continue;
                }
                let set = self.txs.get(tx_id).and_then(|r| self.conflicts.get(&r.key));
                match set {
                    Some(set) => {
                        preferred &= set.snowball.preference() == *tx_id;
                        virtuous &= set.choices.len() == 1;
                    }
                    None => {
                        preferred = false;
                        virtuous = false;
                    }
                }
            }
            if let Some(node) = self.dag.nodes.get_mut(id) {
                node.preferred = preferred;
                node.virtuous = virtuous;
            }
        }

        let mut preferred_processing = Vec::new();
        let mut virtuous_processing = Vec::new();
        for id in &order {
            let Some(node) = self.dag.get(id) else {
                continue;
            };
            let child_flags = |flag: fn(&crate::dag::Node) -> bool| {
                node.children.iter().any(|c| {
                    self.dag.get(c).is_some_and(|child| {
                        child.status == VertexStatus::Processing && flag(child)
                    })
                })
            };
            if node.preferred && !child_flags(|n| n.preferred) {
                preferred_processing.push((node.vertex.height(), *id));
            }
            if node.virtuous && !child_flags(|n| n.virtuous) {
                virtuous_processing.push((node.vertex.height(), *id));
            }
        }
        let mut preferred_tips = Vec::new();
        let mut virtuous_tips = Vec::new();
        for tip in &self.dag.accepted_tips {
            let Some(node) = self.dag.get(tip) else {
                continue;
            };
            let has_child = |flag: fn(&crate::dag::Node) -> bool| {
                node.children.iter().any(|c| {
                    self.dag.get(c).is_some_and(|child| {
                        child.status == VertexStatus::Processing && flag(child)
                    })
                })
            };
            if !has_child(|n| n.preferred) {
                preferred_tips.push((node.vertex.height(), *tip));
            }
            if !has_child(|n| n.virtuous) {
                virtuous_tips.push((node.vertex.height(), *tip));
            }
        }
        // Chits: undecided vertices first (they need the votes), higher first.
        preferred_processing.sort_by(|a, b| b.cmp(a));
        preferred_tips.sort_by(|a, b| b.cmp(a));
        self.preferred_frontier = preferred_processing
            .into_iter()
            .chain(preferred_tips)
            .map(|(_, id)| id)
            .collect();
        // Parents: lowest first, so stale tips are absorbed instead of piling up.
        virtuous_processing.extend(virtuous_tips);
        virtuous_processing.sort();
        self.virtuous_frontier = virtuous_processing.into_iter().map(|(_, id)| id).collect();
    }

    /// Marks transactions that need a (new) vertex: a conflict-free one in no
    /// virtuous vertex, or a conflicting one in no live vertex at all.
    fn update_orphans(&mut self) {
        let now = self.now_ms;
        let standby = self.tuning.standby_delay_ms;
        let virtuous_vertices: BTreeSet<VertexId> = self
            .dag
            .processing
            .iter()
            .filter(|(_, id)| self.dag.get(id).is_some_and(|n| n.virtuous))
            .map(|(_, id)| *id)
            .collect();
        for record in self.txs.values_mut() {
            let conflict_free = self
                .conflicts
                .get(&record.key)
                .is_some_and(|s| s.choices.len() == 1);
            let orphan = if conflict_free {
                !record
                    .live_vertices
                    .iter()
                    .any(|v| virtuous_vertices.contains(v))
            } else {
                record.live_vertices.is_empty()
            };
            if orphan {
                if record.issue_after_ms.is_none() {
                    let delay = if record.owned { 0 } else { standby };
                    record.issue_after_ms = Some(now.saturating_add(delay));
                }
            } else {
                record.issue_after_ms = None;
                record.failing = None;
            }
        }
    }
}
