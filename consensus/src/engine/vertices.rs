//! Receiving vertices: checks, waiting for missing parents, fetching them,
//! and adding a vertex to the DAG once its ancestry is known.

use super::{ConflictSet, Engine, Output, Persist, TxRecord};
use crate::ancestry::{ancestry_view, AncestryError};
use crate::dag::VertexStatus;
use crate::message::{Message, MAX_REQUESTED_IDS};
use crate::metrics::DropReason;
use crate::snowball::Snowball;
use crate::vertex::{ValidatorIndex, Vertex, VertexId};
use ruv_protocol::{SignedTransfer, TxId};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// Invalid vertex ids remembered at most (then the memory starts over).
const MAX_REMEMBERED_INVALID: usize = 100_000;

/// A checked vertex whose parents are not all in the DAG yet.
#[derive(Debug)]
pub(crate) struct WaitingVertex {
    vertex: Arc<Vertex>,
    missing: BTreeSet<VertexId>,
    since_ms: u64,
}

/// An outstanding request for a missing vertex.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Fetch {
    asked: ValidatorIndex,
    sent_ms: u64,
    attempts: u32,
}

/// How much of a vertex to check (vertices from this relay's own store skip
/// the signature checks they passed before).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Trust {
    /// From a peer: check everything.
    Peer { enforce_quota: bool },
    /// From this relay's own store or its own signing.
    Own,
}

impl Engine {
    /// A vertex arrived in a message (gossip, or an answer we asked for).
    pub(super) fn on_vertex_bytes(
        &mut self,
        from: ValidatorIndex,
        bytes: &[u8],
        solicited: bool,
        out: &mut Vec<Output>,
    ) {
        let id = Vertex::id_of(bytes);
        // The id is the hash of these bytes: whatever they are, they are that vertex.
        self.fetching.remove(&id);
        if self.dag.contains(&id) || self.waiting.contains_key(&id) || self.invalid.contains(&id) {
            self.metrics.drop(DropReason::Duplicate);
            return;
        }
        let vertex = match Vertex::decode(bytes) {
            Ok(vertex) => vertex,
            Err(error) => {
                tracing::debug!(%from, %error, "undecodable vertex");
                self.metrics.drop(DropReason::Decode);
                return;
            }
        };
        self.receive_vertex(
            Arc::new(vertex),
            from,
            Trust::Peer {
                enforce_quota: !solicited,
            },
            out,
        );
    }

    /// Checks a decoded vertex and adds it (or parks it until its parents arrive).
    pub(super) fn receive_vertex(
        &mut self,
        vertex: Arc<Vertex>,
        from: ValidatorIndex,
        trust: Trust,
        out: &mut Vec<Output>,
    ) {
        if let Err(reason) = self.check_vertex(&vertex, trust) {
            tracing::debug!(id = %vertex.id(), %from, reason = reason.as_str(), "vertex dropped");
            self.metrics.drop(reason);
            if !matches!(reason, DropReason::IssuerQuota) {
                self.remember_invalid(vertex.id());
            }
            return;
        }
        self.add_vertex(vertex, from, out);
    }

    /// Checks that depend on the vertex alone (and genesis).
    fn check_vertex(&self, vertex: &Vertex, trust: Trust) -> Result<(), DropReason> {
        if vertex.chain_id() != self.chain_id {
            return Err(DropReason::WrongChain);
        }
        let Some(issuer) = self.validators.get(vertex.issuer().0 as usize) else {
            return Err(DropReason::UnknownIssuer);
        };
        if vertex.parents().len() > self.params.parents as usize {
            return Err(DropReason::TooManyParents);
        }
        if vertex.txs().is_empty() || vertex.txs().len() > self.params.batch_size as usize {
            return Err(DropReason::BadTransactionCount);
        }
        let unique: BTreeSet<&TxId> = vertex.tx_ids().iter().collect();
        if unique.len() != vertex.tx_ids().len() {
            return Err(DropReason::DuplicateTransactionInVertex);
        }
        let Trust::Peer { enforce_quota } = trust else {
            return Ok(());
        };
        if enforce_quota
            && self
                .processing_by_issuer
                .get(vertex.issuer().0 as usize)
                .copied()
                .unwrap_or(0)
                >= self.tuning.max_processing_per_issuer
        {
            return Err(DropReason::IssuerQuota);
        }
        if vertex.verify_signature(&issuer.key).is_err() {
            return Err(DropReason::BadSignature);
        }
        for (id, tx) in vertex.tx_ids().iter().zip(vertex.txs()) {
            // Known transactions passed these checks (signature included) before.
            if self.accepted_txs.contains_key(id) || self.txs.contains_key(id) {
                continue;
            }
            if self.ledger.rules().check_stateless(tx, false).is_err() {
                return Err(DropReason::InvalidTransaction);
            }
        }
        Ok(())
    }

    fn remember_invalid(&mut self, id: VertexId) {
        if self.invalid.len() >= MAX_REMEMBERED_INVALID {
            self.invalid.clear();
        }
        self.invalid.insert(id);
    }

    /// Adds a checked vertex, or parks it until its parents are here; then
    /// adds every parked vertex this completes.
    fn add_vertex(&mut self, vertex: Arc<Vertex>, from: ValidatorIndex, out: &mut Vec<Output>) {
        if vertex.parents().iter().any(|p| self.invalid.contains(p)) {
            self.metrics.drop(DropReason::InvalidAncestor);
            self.remember_invalid(vertex.id());
            return;
        }
        let missing: BTreeSet<VertexId> = vertex
            .parents()
            .iter()
            .filter(|p| !self.dag.contains(p))
            .copied()
            .collect();
        if !missing.is_empty() {
            self.park(vertex, missing, from, out);
            return;
        }
        let mut ready = vec![vertex];
        while let Some(vertex) = ready.pop() {
            let id = vertex.id();
            let added = self.insert_ready(vertex, out);
            let Some(children) = self.waiting_on.remove(&id) else {
                continue;
            };
            for child in children {
                if !added {
                    self.drop_waiting(&child, DropReason::InvalidAncestor, true);
                    continue;
                }
                let Some(entry) = self.waiting.get_mut(&child) else {
                    continue;
                };
                entry.missing.remove(&id);
                if entry.missing.is_empty() {
                    if let Some(entry) = self.waiting.remove(&child) {
                        self.waiting_bytes = self
                            .waiting_bytes
                            .saturating_sub(entry.vertex.bytes().len());
                        ready.push(entry.vertex);
                    }
                }
            }
        }
    }

    fn park(
        &mut self,
        vertex: Arc<Vertex>,
        missing: BTreeSet<VertexId>,
        from: ValidatorIndex,
        out: &mut Vec<Output>,
    ) {
        let size = vertex.bytes().len();
        if self.waiting_bytes + size > self.tuning.max_waiting_bytes {
            self.metrics.drop(DropReason::WaitingFull);
            return;
        }
        let id = vertex.id();
        for parent in &missing {
            self.waiting_on.entry(*parent).or_default().insert(id);
        }
        let to_fetch: Vec<VertexId> = missing
            .iter()
            .filter(|p| !self.waiting.contains_key(p) && !self.fetching.contains_key(p))
            .copied()
            .collect();
        self.waiting_bytes += size;
        self.waiting.insert(
            id,
            WaitingVertex {
                vertex,
                missing,
                since_ms: self.now_ms,
            },
        );
        self.request_vertices(to_fetch, from, out);
    }

    /// Removes a parked vertex (and, if `invalid`, everything parked on it).
    fn drop_waiting(&mut self, id: &VertexId, reason: DropReason, invalid: bool) {
        let mut stack = vec![*id];
        while let Some(id) = stack.pop() {
            let Some(entry) = self.waiting.remove(&id) else {
                continue;
            };
            self.waiting_bytes = self
                .waiting_bytes
                .saturating_sub(entry.vertex.bytes().len());
            self.metrics.drop(reason);
            for parent in &entry.missing {
                if let Some(children) = self.waiting_on.get_mut(parent) {
                    children.remove(&id);
                    if children.is_empty() {
                        self.waiting_on.remove(parent);
                    }
                }
            }
            if invalid {
                self.remember_invalid(id);
                if let Some(children) = self.waiting_on.remove(&id) {
                    stack.extend(children);
                }
            }
        }
    }

    /// Drops parked vertices whose parents never came.
    pub(super) fn expire_waiting(&mut self) {
        let now = self.now_ms;
        let ttl = self.tuning.waiting_ttl_ms;
        let expired: Vec<VertexId> = self
            .waiting
            .iter()
            .filter(|(_, w)| w.since_ms.saturating_add(ttl) <= now)
            .map(|(id, _)| *id)
            .collect();
        for id in expired {
            self.drop_waiting(&id, DropReason::WaitingExpired, false);
        }
    }

    /// Asks `from` (or a random peer if that is us) for vertices we miss.
    pub(super) fn request_vertices(
        &mut self,
        ids: Vec<VertexId>,
        from: ValidatorIndex,
        out: &mut Vec<Output>,
    ) {
        let ids: Vec<VertexId> = ids
            .into_iter()
            .filter(|id| {
                !self.dag.contains(id)
                    && !self.waiting.contains_key(id)
                    && !self.fetching.contains_key(id)
            })
            .collect();
        if ids.is_empty() {
            return;
        }
        let to = if from == self.me {
            self.random_peer(None)
        } else {
            Some(from)
        };
        let Some(to) = to else { return };
        self.send_fetch(to, &ids, 1, out);
    }

    fn send_fetch(
        &mut self,
        to: ValidatorIndex,
        ids: &[VertexId],
        attempts: u32,
        out: &mut Vec<Output>,
    ) {
        for chunk in ids.chunks(MAX_REQUESTED_IDS) {
            let request_id = self.next_request_id();
            self.fetch_requests.insert(request_id, (to, self.now_ms));
            for id in chunk {
                self.fetching.insert(
                    *id,
                    Fetch {
                        asked: to,
                        sent_ms: self.now_ms,
                        attempts,
                    },
                );
            }
            self.metrics.ancestors_requested += 1;
            out.push(Output::Send {
                to,
                message: Message::GetAncestors {
                    request_id,
                    ids: chunk.to_vec(),
                },
            });
        }
    }

    /// Asks another validator for vertices whose request timed out.
    pub(super) fn retry_fetches(&mut self, out: &mut Vec<Output>) {
        let now = self.now_ms;
        let timeout = self.tuning.fetch_timeout_ms;
        self.fetch_requests
            .retain(|_, (_, sent)| sent.saturating_add(timeout) > now);
        let due: Vec<(VertexId, Fetch)> = self
            .fetching
            .iter()
            .filter(|(_, f)| f.sent_ms.saturating_add(timeout) <= now)
            .map(|(id, f)| (*id, *f))
            .collect();
        let mut retries: BTreeMap<(ValidatorIndex, u32), Vec<VertexId>> = BTreeMap::new();
        for (id, fetch) in due {
            self.fetching.remove(&id);
            if self.dag.contains(&id) || self.waiting.contains_key(&id) {
                continue;
            }
            self.metrics.ancestor_timeouts += 1;
            if fetch.attempts >= self.tuning.max_fetch_attempts {
                continue;
            }
            if let Some(peer) = self.random_peer(Some(fetch.asked)) {
                retries
                    .entry((peer, fetch.attempts + 1))
                    .or_default()
                    .push(id);
            }
        }
        for ((peer, attempts), ids) in retries {
            self.send_fetch(peer, &ids, attempts, out);
        }
    }

    /// Adds a vertex whose parents are all in the DAG. Returns false if it
    /// was found invalid (then vertices parked on it are invalid too).
    pub(super) fn insert_ready(&mut self, vertex: Arc<Vertex>, out: &mut Vec<Output>) -> bool {
        let id = vertex.id();
        let expected_height = vertex
            .parents()
            .iter()
            .filter_map(|p| self.dag.height(p))
            .max()
            .map_or(0, |h| h.saturating_add(1));
        if vertex.height() != expected_height {
            self.metrics.drop(DropReason::BadHeight);
            self.remember_invalid(id);
            return false;
        }
        if vertex
            .parents()
            .iter()
            .any(|p| self.dag.status(p) == Some(VertexStatus::Rejected))
        {
            self.insert_doomed(vertex, out);
            return true;
        }
        let conflicts_with_accepted =
            vertex.tx_ids().iter().zip(vertex.txs()).any(|(tx_id, tx)| {
                !self.accepted_txs.contains_key(tx_id)
                    && self.ledger.account(&tx.transfer.from).nonce >= tx.transfer.nonce
            });
        if conflicts_with_accepted {
            self.insert_doomed(vertex, out);
            return true;
        }
        let view = ancestry_view(
            &self.dag,
            &self.ledger,
            &self.accepted_txs,
            vertex.parents(),
            self.tuning.max_ancestry_walk,
        );
        let mut view = match view {
            Ok(view) => view,
            Err(AncestryError::RejectedAncestor | AncestryError::Conflict) => {
                self.insert_doomed(vertex, out);
                return true;
            }
            Err(AncestryError::TooDeep) => {
                self.metrics.drop(DropReason::AncestryTooDeep);
                self.remember_invalid(id);
                return false;
            }
            Err(AncestryError::MissingVertex) => {
                tracing::error!(%id, "ancestry walk met a vertex missing from the DAG");
                self.metrics.drop(DropReason::InvalidAncestor);
                return false;
            }
        };
        for (tx_id, tx) in vertex.tx_ids().iter().zip(vertex.txs()) {
            if let Err(reason) = view.try_apply(tx) {
                tracing::debug!(%id, tx = %tx_id, %reason, "vertex holds a transaction invalid in its ancestry");
                self.metrics.drop(DropReason::InvalidTransaction);
                self.remember_invalid(id);
                return false;
            }
        }
        let issuer = vertex.issuer().0 as usize;
        if let Some(count) = self.processing_by_issuer.get_mut(issuer) {
            *count += 1;
        }
        for (tx_id, tx) in vertex.tx_ids().iter().zip(vertex.txs()) {
            if self.accepted_txs.contains_key(tx_id) {
                continue;
            }
            if !self.txs.contains_key(tx_id) {
                self.register_tx(*tx_id, tx.clone(), false);
            }
            if let Some(record) = self.txs.get_mut(tx_id) {
                record.live_vertices.insert(id);
            }
        }
        if !self.restoring {
            out.push(Output::Persist(Persist::Processing {
                id,
                bytes: vertex.bytes().clone(),
            }));
        }
        self.dag.insert(vertex, VertexStatus::Processing);
        self.metrics.vertices_added += 1;
        self.dirty = true;
        true
    }

    /// Adds a vertex that can never be accepted (a rejected ancestor, or a
    /// transaction conflicting with an accepted one) as rejected, so its
    /// descendants are rejected too; its other transactions stay known so
    /// they can be issued elsewhere.
    fn insert_doomed(&mut self, vertex: Arc<Vertex>, out: &mut Vec<Output>) {
        let id = vertex.id();
        for (tx_id, tx) in vertex.tx_ids().iter().zip(vertex.txs()) {
            let decided = self.accepted_txs.contains_key(tx_id)
                || self.ledger.account(&tx.transfer.from).nonce >= tx.transfer.nonce;
            if !decided
                && !self.txs.contains_key(tx_id)
                && self.txs.len() < self.tuning.max_pending_txs
            {
                self.register_tx(*tx_id, tx.clone(), false);
            }
        }
        self.dag.insert(vertex, VertexStatus::Rejected);
        self.metrics.vertices_rejected += 1;
        out.push(Output::VertexRejected { id });
        self.dirty = true;
    }

    /// Starts tracking an undecided transaction (its checks passed).
    pub(super) fn register_tx(&mut self, id: TxId, tx: Arc<SignedTransfer>, owned: bool) {
        let key = (tx.transfer.from, tx.transfer.nonce);
        let set = self.conflicts.entry(key).or_insert_with(|| ConflictSet {
            choices: BTreeSet::new(),
            rogue: false,
            snowball: Snowball::new(id),
        });
        set.choices.insert(id);
        if set.choices.len() > 1 {
            set.rogue = true;
        }
        self.txs.insert(
            id,
            TxRecord {
                tx,
                key,
                live_vertices: BTreeSet::new(),
                owned,
                issue_after_ms: None,
                failing: None,
            },
        );
        self.dirty = true;
    }
}
