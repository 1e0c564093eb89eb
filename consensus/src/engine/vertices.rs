//! Receiving vertices, across owners: checks against genesis and the
//! accepted state, parking in the [`super::fetcher::Fetcher`] until parents
//! arrive and fetching them, and adding a vertex to the DAG (and its
//! transactions to the conflict sets) once its ancestry is known.

use super::issue::MIN_MERGE_PARENTS;
use super::{Engine, Output, Persist, MAX_RESENT_ON_CONNECT};
use crate::ancestry::{ancestry_view, AncestryError};
use crate::dag::VertexStatus;
use crate::message::{Message, MAX_REQUESTED_IDS};
use crate::metrics::DropReason;
use crate::vertex::{ValidatorIndex, Vertex, VertexId};
use ruv_protocol::{SignedTransfer, TxId};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// How much of a vertex to check (vertices from this relay's own store skip
/// the signature checks they passed before).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Trust {
    /// From a peer: check everything. `gossip` when this relay did not ask
    /// for it: then the issuer's quota and budget apply, and it is turned
    /// away if doomed (unless a parked vertex waits for it).
    Peer { gossip: bool },
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
        self.fetcher.arrived(&id);
        // A doomed vertex gossiped again costs nothing; one this relay asked
        // for, or a parked vertex waits for, is admitted as ordinary.
        let doomed_again = !solicited && self.doomed.contains(&id) && !self.fetcher.waited_for(&id);
        if self.dag.contains(&id)
            || self.fetcher.is_waiting(&id)
            || self.fetcher.is_invalid(&id)
            || doomed_again
        {
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
            Trust::Peer { gossip: !solicited },
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
            match reason {
                // Local policy: the vertex stays fetchable.
                DropReason::IssuerQuota => {}
                DropReason::IssuerBudget => {
                    *self
                        .metrics
                        .issuer_budget_refusals
                        .entry(vertex.issuer().0)
                        .or_insert(0) += 1;
                }
                _ => self.fetcher.remember_invalid(vertex.id()),
            }
            return;
        }
        let gossip = matches!(trust, Trust::Peer { gossip: true });
        self.add_vertex(vertex, from, gossip, out);
    }

    /// Checks that depend on the vertex alone (and genesis).
    fn check_vertex(&self, vertex: &Vertex, trust: Trust) -> Result<(), DropReason> {
        if vertex.chain_id() != self.chain_id {
            return Err(DropReason::WrongChain);
        }
        let Some(issuer_key) = self.validators.key(vertex.issuer()) else {
            return Err(DropReason::UnknownIssuer);
        };
        if vertex.parents().len() > self.params.parents as usize {
            return Err(DropReason::TooManyParents);
        }
        // A vertex without transactions only merges tips (`Engine::merge_tips`):
        // it must name at least two parents.
        let merges = vertex.txs().is_empty() && vertex.parents().len() >= MIN_MERGE_PARENTS;
        if (vertex.txs().is_empty() && !merges)
            || vertex.txs().len() > self.params.batch_size as usize
        {
            return Err(DropReason::BadTransactionCount);
        }
        let unique: BTreeSet<&TxId> = vertex.tx_ids().iter().collect();
        if unique.len() != vertex.tx_ids().len() {
            return Err(DropReason::DuplicateTransactionInVertex);
        }
        let Trust::Peer { gossip } = trust else {
            return Ok(());
        };
        if gossip
            && self.dag.processing_by(vertex.issuer()) >= self.tuning.max_processing_per_issuer
        {
            return Err(DropReason::IssuerQuota);
        }
        if gossip
            && self
                .budgets
                .exhausted(vertex.issuer(), vertex.bytes().len(), self.now_ms)
        {
            return Err(DropReason::IssuerBudget);
        }
        // Nonces start at 1: a vertex holding nonce 0 is refused before
        // any signature is checked.
        if vertex.txs().iter().any(|tx| tx.transfer.nonce == 0) {
            return Err(DropReason::InvalidTransaction);
        }
        if vertex.verify_signature(issuer_key).is_err() {
            return Err(DropReason::BadSignature);
        }
        for (id, tx) in vertex.tx_ids().iter().zip(vertex.txs()) {
            // Known transactions passed these checks (signature included) before.
            if self.accepted.contains(id) || self.conflicts.contains(id) {
                continue;
            }
            if self
                .accepted
                .ledger()
                .rules()
                .check_stateless(tx, false)
                .is_err()
            {
                return Err(DropReason::InvalidTransaction);
            }
        }
        Ok(())
    }

    /// Adds a checked vertex, or parks it until its parents are here; then
    /// adds every parked vertex this completes.
    /// `gossip`: nobody asked for it (see [`Trust::Peer`]).
    fn add_vertex(
        &mut self,
        vertex: Arc<Vertex>,
        from: ValidatorIndex,
        gossip: bool,
        out: &mut Vec<Output>,
    ) {
        if vertex.parents().iter().any(|p| self.fetcher.is_invalid(p)) {
            self.metrics.drop(DropReason::InvalidAncestor);
            self.fetcher.remember_invalid(vertex.id());
            return;
        }
        let missing: BTreeSet<VertexId> = vertex
            .parents()
            .iter()
            .filter(|p| !self.dag.contains(p))
            .copied()
            .collect();
        if !missing.is_empty() {
            let parked =
                self.fetcher
                    .park(vertex, missing, self.now_ms, self.tuning.max_waiting_bytes);
            match parked {
                Some(to_fetch) => self.request_vertices(to_fetch, from, out),
                None => self.metrics.drop(DropReason::WaitingFull),
            }
            return;
        }
        // Parked vertices it completes count as gossip: admitted only if
        // they can add something undecided or another vertex waits for them.
        let mut ready = vec![(vertex, gossip)];
        while let Some((vertex, gossip)) = ready.pop() {
            let id = vertex.id();
            let added = self.insert_ready(vertex, gossip, out);
            let completed = self.fetcher.resolved(&id, added, &mut self.metrics);
            ready.extend(completed.into_iter().map(|v| (v, true)));
        }
    }

    /// `peer`'s link just came up (see [`super::Input::PeerConnected`]):
    /// asks it again in the running polls it has not answered (its answers
    /// may have been lost with the old link; waiting for the requery at half
    /// the timeout fell in step with an attacker cutting the link every
    /// second), ends the pause a poll that reached nobody started (and tops
    /// the polls up), and sends it the newest of this relay's own undecided
    /// vertices.
    pub(super) fn on_peer_connected(&mut self, peer: ValidatorIndex, out: &mut Vec<Output>) {
        let me = self.validators.me();
        if peer == me || !self.validators.contains(peer) {
            return;
        }
        for request_id in self.polls.unanswered_by(peer) {
            self.metrics.queries_sent += 1;
            out.push(Output::Send {
                to: peer,
                message: Message::Query { request_id },
            });
        }
        // A poll that reached nobody paused polling; somebody is back.
        self.polls.end_back_off();
        self.start_polls(out);
        let own: Vec<Arc<[u8]>> = self
            .dag
            .processing_ids()
            .iter()
            .rev()
            .filter_map(|id| self.dag.get(id))
            .filter(|node| node.vertex().issuer() == me)
            .take(MAX_RESENT_ON_CONNECT)
            .filter_map(|node| node.vertex().whole().map(|v| v.bytes()))
            .collect();
        self.metrics.vertices_resent += own.len() as u64;
        for bytes in own {
            out.push(Output::Send {
                to: peer,
                message: Message::Vertex(bytes),
            });
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
                    && !self.fetcher.is_waiting(id)
                    && !self.fetcher.is_fetching(id)
            })
            .collect();
        if ids.is_empty() {
            return;
        }
        let to = if from == self.validators.me() {
            self.validators.random_peer(&mut self.rng, None)
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
            let request_id = self.request_ids.next();
            self.fetcher
                .requested(request_id, to, chunk, attempts, self.now_ms);
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
        let timed_out = self
            .fetcher
            .take_timed_out(self.now_ms, self.tuning.fetch_timeout_ms);
        let mut retries: BTreeMap<(ValidatorIndex, u32), Vec<VertexId>> = BTreeMap::new();
        for (id, fetch) in timed_out {
            if self.dag.contains(&id) || self.fetcher.is_waiting(&id) {
                continue;
            }
            self.metrics.ancestor_timeouts += 1;
            if fetch.attempts >= self.tuning.max_fetch_attempts {
                continue;
            }
            if let Some(peer) = self
                .validators
                .random_peer(&mut self.rng, Some(fetch.asked))
            {
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

    /// Adds a vertex whose parents are all in the DAG, or turns it away as
    /// doomed (`gossip` and nothing waits for it; see `admission.rs`).
    /// Returns false if it was found invalid (then vertices parked on it
    /// are invalid too).
    pub(super) fn insert_ready(
        &mut self,
        vertex: Arc<Vertex>,
        gossip: bool,
        out: &mut Vec<Output>,
    ) -> bool {
        let id = vertex.id();
        let expected_height = vertex
            .parents()
            .iter()
            .filter_map(|p| self.dag.height(p))
            .max()
            .map_or(0, |h| h.saturating_add(1));
        if vertex.height() != expected_height {
            self.metrics.drop(DropReason::BadHeight);
            self.fetcher.remember_invalid(id);
            return false;
        }
        // Local policy (admission.rs): gossip is charged to its issuer, and
        // turned away if doomed unless something waits for it.
        let may_turn_away = gossip && !self.fetcher.waited_for(&id);
        if gossip && vertex.issuer() != self.validators.me() {
            self.budgets
                .charge(vertex.issuer(), vertex.bytes().len(), self.now_ms);
        }
        if may_turn_away && self.adds_nothing_undecided(&vertex) {
            return self.turn_away_doomed(id);
        }
        self.doomed.forget(&id);
        if vertex
            .parents()
            .iter()
            .any(|p| self.dag.status(p) == Some(VertexStatus::Rejected))
        {
            if may_turn_away {
                self.keep_undecided_txs(&vertex);
                return self.turn_away_doomed(id);
            }
            self.insert_doomed(vertex, out);
            return true;
        }
        let conflicts_with_accepted = vertex
            .tx_ids()
            .iter()
            .zip(vertex.txs())
            .any(|(tx_id, tx)| !self.accepted.contains(tx_id) && self.accepted.nonce_used(tx));
        if conflicts_with_accepted {
            if may_turn_away {
                self.keep_undecided_txs(&vertex);
                return self.turn_away_doomed(id);
            }
            self.insert_doomed(vertex, out);
            return true;
        }
        let view = ancestry_view(
            &self.dag,
            self.accepted.ledger(),
            self.accepted.txs(),
            vertex.parents(),
            self.tuning.max_ancestry_walk,
        );
        let mut view = match view {
            Ok(view) => view,
            Err(AncestryError::RejectedAncestor | AncestryError::Conflict) => {
                if may_turn_away {
                    self.keep_undecided_txs(&vertex);
                    return self.turn_away_doomed(id);
                }
                self.insert_doomed(vertex, out);
                return true;
            }
            Err(AncestryError::TooDeep) => {
                self.metrics.drop(DropReason::AncestryTooDeep);
                self.fetcher.remember_invalid(id);
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
                self.fetcher.remember_invalid(id);
                return false;
            }
        }
        for (tx_id, tx) in vertex.tx_ids().iter().zip(vertex.txs()) {
            if self.accepted.contains(tx_id) {
                continue;
            }
            if !self.conflicts.contains(tx_id) {
                self.register_tx(*tx_id, tx.clone(), false);
            }
            self.conflicts.add_live_vertex(tx_id, id);
        }
        if !self.restoring {
            out.push(Output::Persist(Persist::Processing {
                id,
                bytes: vertex.bytes().clone(),
            }));
        }
        self.dag
            .insert_at(vertex, VertexStatus::Processing, self.now_ms);
        // A vertex some validator claims accepted extends what is attested.
        if self.polls.claimed(&id) {
            self.attested.stale = true;
        }
        self.metrics.vertices_added += 1;
        self.dirty = true;
        true
    }

    /// Whether the vertex can add nothing undecided here: every transaction
    /// in it is accepted, or it holds none and none of its parents is
    /// undecided (a merge of decided vertices).
    fn adds_nothing_undecided(&self, vertex: &Vertex) -> bool {
        if vertex.txs().is_empty() {
            vertex
                .parents()
                .iter()
                .all(|p| self.dag.status(p) != Some(VertexStatus::Processing))
        } else {
            vertex.tx_ids().iter().all(|id| self.accepted.contains(id))
        }
    }

    /// Turns a doomed gossiped vertex away: not stored, not in the DAG, its
    /// id remembered so the same bytes are dropped as duplicates. It is
    /// fetched again as an ordinary vertex if this relay ever needs it.
    fn turn_away_doomed(&mut self, id: VertexId) -> bool {
        tracing::debug!(%id, "doomed vertex turned away");
        self.doomed.remember(id);
        self.metrics.drop(DropReason::Doomed);
        true
    }

    /// Adds a vertex that can never be accepted (a rejected ancestor, or a
    /// transaction conflicting with an accepted one) as rejected, so its
    /// descendants are rejected too; its other transactions stay known so
    /// they can be issued elsewhere.
    fn insert_doomed(&mut self, vertex: Arc<Vertex>, out: &mut Vec<Output>) {
        let id = vertex.id();
        self.keep_undecided_txs(&vertex);
        self.dag
            .insert_at(vertex, VertexStatus::Rejected, self.now_ms);
        self.metrics.vertices_rejected += 1;
        out.push(Output::VertexRejected { id });
        self.dirty = true;
    }

    /// Keeps the undecided transactions of a vertex that will not be
    /// accepted, so they can be issued in another.
    fn keep_undecided_txs(&mut self, vertex: &Vertex) {
        for (tx_id, tx) in vertex.tx_ids().iter().zip(vertex.txs()) {
            let decided = self.accepted.contains(tx_id) || self.accepted.nonce_used(tx);
            if !decided
                && !self.conflicts.contains(tx_id)
                && self.conflicts.len() < self.tuning.max_pending_txs
            {
                self.register_tx(*tx_id, tx.clone(), false);
            }
        }
    }

    /// Starts tracking an undecided transaction (its checks passed).
    pub(super) fn register_tx(&mut self, id: TxId, tx: Arc<SignedTransfer>, owned: bool) {
        self.conflicts.register(id, tx, owned);
        self.expired.remove(&id);
        self.dirty = true;
    }
}
