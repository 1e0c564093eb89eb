//! The vertex DAG as one relay knows it (avalanchego's "avalanche" layer
//! without the voting): every vertex with its status and children, the
//! processing set in height order, the accepted tips, the preferred and
//! virtuous flags with the two frontiers they give, and how many processing
//! vertices each issuer has.
//!
//! Invariants kept here: a vertex's parents are in the DAG before it;
//! `processing` holds exactly the processing vertices; `accepted_tips` are
//! the accepted vertices without accepted children; the per-issuer counts
//! match `processing`. Flags and frontiers are only as fresh as the last
//! [`Dag::refresh_flags`] (the engine calls it after every change).

use crate::body::VertexBody;
use crate::vertex::{ValidatorIndex, Vertex, VertexId};
use ruv_protocol::{Address, TxId};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

/// Where a vertex stands in consensus.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum VertexStatus {
    /// Undecided.
    Processing,
    /// Final: its transactions are applied.
    Accepted,
    /// Final: it holds (or descends from) a transaction that lost a conflict.
    Rejected,
}

/// One vertex in the DAG.
#[derive(Debug)]
pub(crate) struct Node {
    vertex: VertexBody,
    status: VertexStatus,
    /// Vertices that name this one as a parent (any status).
    children: Vec<VertexId>,
    /// All transactions preferred and all parents preferred (or accepted).
    preferred: bool,
    /// All transactions without conflicts and all parents virtuous (or accepted).
    virtuous: bool,
    /// When this relay added it (engine clock; 0 for vertices restored or
    /// replayed at start).
    arrived_ms: u64,
}

impl Node {
    pub(crate) fn vertex(&self) -> &VertexBody {
        &self.vertex
    }

    pub(crate) fn status(&self) -> VertexStatus {
        self.status
    }

    pub(crate) fn children(&self) -> &[VertexId] {
        &self.children
    }

    pub(crate) fn preferred(&self) -> bool {
        self.preferred
    }

    pub(crate) fn virtuous(&self) -> bool {
        self.virtuous
    }

    pub(crate) fn arrived_ms(&self) -> u64 {
        self.arrived_ms
    }
}

/// How an undecided transaction stands in its conflict set, for the flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TxFlags {
    /// Accepted, or its conflict set prefers it.
    pub(crate) preferred: bool,
    /// Accepted, or its conflict set has no other choice.
    pub(crate) virtuous: bool,
}

/// The DAG store.
#[derive(Debug, Default)]
pub(crate) struct Dag {
    /// Every vertex by id. Only looked up by key, never iterated, so a hash
    /// map (keyed SipHash: ids are chosen by issuers, who could grind
    /// collisions in an unkeyed hash) keeps behavior deterministic and saves
    /// the 32-byte comparisons of a tree search on the hottest lookup.
    nodes: HashMap<VertexId, Node>,
    /// Processing vertices ordered by (height, id): parents before children.
    processing: BTreeSet<(u64, VertexId)>,
    /// Processing vertices per issuer.
    processing_by_issuer: BTreeMap<ValidatorIndex, usize>,
    /// Accepted vertices without accepted children.
    accepted_tips: BTreeSet<VertexId>,
    /// Preferred frontier, chits order (undecided first, then higher first).
    preferred_frontier: Vec<VertexId>,
    /// Virtuous frontier, parent-choice order (lower first).
    virtuous_frontier: Vec<VertexId>,
    /// Per sender, the highest nonce of its transfers in a vertex inserted
    /// as processing or accepted, and that vertex: the parent a transfer
    /// with the next nonce needs in its ancestry. One entry per sender.
    last_nonce: BTreeMap<Address, (u64, VertexId)>,
    /// Processing vertices whose acceptability may have changed since they
    /// were last examined, in (height, id) order: added on arrival and when
    /// a parent is accepted (the engine adds those whose transactions were
    /// decided or that became attested). Acceptance only examines these, so
    /// its cost follows what changed, not the processing backlog.
    accept_candidates: BTreeSet<(u64, VertexId)>,
    /// Processing vertices whose flags must be recomputed at the next
    /// [`Dag::refresh_flags`]: arrived, a parent accepted, or a transaction
    /// of theirs changed how it stands (the engine marks those).
    flags_dirty: BTreeSet<(u64, VertexId)>,
    /// Vertices whose place on the frontiers must be recomputed (their
    /// flags, status or tip-ness changed, or a child's did).
    frontier_dirty: Vec<VertexId>,
    /// The frontiers as ordered sets, kept up to date vertex by vertex; the
    /// slices above are rebuilt from them only when one changed.
    preferred_processing: BTreeSet<(u64, VertexId)>,
    preferred_tips: BTreeSet<(u64, VertexId)>,
    virtuous_members: BTreeSet<(u64, VertexId)>,
    /// Processing vertices whose virtuous flag changed in an incremental
    /// refresh (their transactions' orphan marks may change).
    virtuous_changes: Vec<VertexId>,
    /// Settle recomputes flags and frontiers in full, as before issue 9
    /// (the reference the benchmark compares against).
    full_refresh: bool,
    /// Bumped on every change, so callers can skip work when nothing moved.
    version: u64,
}

impl Dag {
    pub(crate) fn get(&self, id: &VertexId) -> Option<&Node> {
        self.nodes.get(id)
    }

    pub(crate) fn contains(&self, id: &VertexId) -> bool {
        self.nodes.contains_key(id)
    }

    pub(crate) fn status(&self, id: &VertexId) -> Option<VertexStatus> {
        self.nodes.get(id).map(|n| n.status)
    }

    pub(crate) fn height(&self, id: &VertexId) -> Option<u64> {
        self.nodes.get(id).map(|n| n.vertex.height())
    }

    /// Processing vertices in (height, id) order: parents before children.
    pub(crate) fn processing(&self) -> impl Iterator<Item = (u64, VertexId)> + '_ {
        self.processing.iter().copied()
    }

    /// Processing vertices in (height, id) order, collected.
    pub(crate) fn processing_ids(&self) -> Vec<VertexId> {
        self.processing.iter().map(|(_, id)| *id).collect()
    }

    pub(crate) fn processing_count(&self) -> usize {
        self.processing.len()
    }

    /// Processing vertices of one issuer.
    pub(crate) fn processing_by(&self, issuer: ValidatorIndex) -> usize {
        self.processing_by_issuer.get(&issuer).copied().unwrap_or(0)
    }

    pub(crate) fn accepted_tips(&self) -> &BTreeSet<VertexId> {
        &self.accepted_tips
    }

    /// The height of the highest accepted tip (0 with none).
    pub(crate) fn highest_accepted_height(&self) -> u64 {
        self.accepted_tips
            .iter()
            .filter_map(|id| self.height(id))
            .max()
            .unwrap_or(0)
    }

    pub(crate) fn version(&self) -> u64 {
        self.version
    }

    /// Preferred vertices without preferred children (undecided first,
    /// higher first), as of the last [`Dag::refresh_flags`].
    pub(crate) fn preferred_frontier(&self) -> &[VertexId] {
        &self.preferred_frontier
    }

    /// Virtuous vertices without virtuous children (lower first), as of the
    /// last [`Dag::refresh_flags`].
    pub(crate) fn virtuous_frontier(&self) -> &[VertexId] {
        &self.virtuous_frontier
    }

    /// The vertex holding `sender`'s transfer with `nonce`, if it is the
    /// highest nonce of that sender seen in a vertex that was not rejected
    /// on arrival (the vertex may have been decided since).
    pub(crate) fn holder_of(&self, sender: &Address, nonce: u64) -> Option<VertexId> {
        self.last_nonce
            .get(sender)
            .filter(|(last, _)| *last == nonce)
            .map(|(_, id)| *id)
    }

    /// The undecided vertices on the virtuous frontier (lower first).
    pub(crate) fn undecided_virtuous_tips(&self) -> impl Iterator<Item = &Node> + '_ {
        self.virtuous_frontier
            .iter()
            .filter_map(|id| self.nodes.get(id))
            .filter(|node| node.status == VertexStatus::Processing)
    }

    /// The processing vertices in the closure of `roots` (the processing
    /// ones among them and their processing ancestors).
    pub(crate) fn processing_closure<'a>(
        &self,
        roots: impl IntoIterator<Item = &'a VertexId>,
    ) -> BTreeSet<VertexId> {
        let mut stack: Vec<VertexId> = roots
            .into_iter()
            .filter(|id| self.status(id) == Some(VertexStatus::Processing))
            .copied()
            .collect();
        let mut closure: BTreeSet<VertexId> = stack.iter().copied().collect();
        while let Some(id) = stack.pop() {
            let Some(node) = self.get(&id) else {
                continue;
            };
            for parent in node.vertex.parents() {
                if self.status(parent) == Some(VertexStatus::Processing) && closure.insert(*parent)
                {
                    stack.push(*parent);
                }
            }
        }
        closure
    }

    /// Marks a processing vertex for the next acceptance pass (anything else
    /// is ignored).
    pub(crate) fn mark_candidate(&mut self, id: &VertexId) {
        if let Some(node) = self.nodes.get(id) {
            if node.status == VertexStatus::Processing {
                self.accept_candidates.insert((node.vertex.height(), *id));
            }
        }
    }

    /// Takes the first acceptance candidate after `cursor` in (height, id)
    /// order (from the start with `None`). Candidates added behind the
    /// cursor stay for the next pass.
    pub(crate) fn next_candidate_after(
        &mut self,
        cursor: Option<(u64, VertexId)>,
    ) -> Option<(u64, VertexId)> {
        let next = match cursor {
            None => self.accept_candidates.first().copied(),
            Some(c) => self
                .accept_candidates
                .range((std::ops::Bound::Excluded(c), std::ops::Bound::Unbounded))
                .next()
                .copied(),
        }?;
        self.accept_candidates.remove(&next);
        Some(next)
    }

    /// Forgets every acceptance candidate (after a full scan examined all).
    pub(crate) fn clear_candidates(&mut self) {
        self.accept_candidates.clear();
    }

    /// Whether a processing vertex waits in the acceptance candidates.
    #[cfg(debug_assertions)]
    pub(crate) fn is_candidate(&self, id: &VertexId) -> bool {
        self.height(id)
            .is_some_and(|h| self.accept_candidates.contains(&(h, *id)))
    }

    /// Adds a vertex whose parents are all present, as known since the start.
    pub(crate) fn insert(&mut self, vertex: Arc<Vertex>, status: VertexStatus) {
        self.insert_at(vertex, status, 0);
    }

    /// Adds a vertex whose parents are all present, arrived at `arrived_ms`.
    pub(crate) fn insert_at(&mut self, vertex: Arc<Vertex>, status: VertexStatus, arrived_ms: u64) {
        let id = vertex.id();
        debug_assert!(!self.nodes.contains_key(&id), "vertex {id} inserted twice");
        debug_assert!(
            vertex.parents().iter().all(|p| self.nodes.contains_key(p)),
            "vertex {id} inserted before its parents"
        );
        debug_assert!(
            status != VertexStatus::Accepted
                || vertex
                    .parents()
                    .iter()
                    .all(|p| self.status(p) == Some(VertexStatus::Accepted)),
            "vertex {id} accepted before its parents"
        );
        for parent in vertex.parents() {
            if let Some(node) = self.nodes.get_mut(parent) {
                node.children.push(id);
            }
        }
        match status {
            VertexStatus::Processing => {
                self.processing.insert((vertex.height(), id));
                self.accept_candidates.insert((vertex.height(), id));
                self.flags_dirty.insert((vertex.height(), id));
                self.frontier_dirty.push(id);
                self.frontier_dirty.extend(vertex.parents().iter().copied());
                *self
                    .processing_by_issuer
                    .entry(vertex.issuer())
                    .or_insert(0) += 1;
            }
            VertexStatus::Accepted => self.add_accepted_tip(id, vertex.parents()),
            VertexStatus::Rejected => {}
        }
        if status != VertexStatus::Rejected {
            for tx in vertex.txs() {
                let t = &tx.transfer;
                let last = self.last_nonce.entry(t.from).or_insert((t.nonce, id));
                // The newest holder wins: an orphan issued again, or the
                // other side of a double spend (callers check it is virtuous).
                if t.nonce >= last.0 {
                    *last = (t.nonce, id);
                }
            }
        }
        self.nodes.insert(
            id,
            Node {
                vertex: VertexBody::Whole(vertex),
                status,
                children: Vec::new(),
                preferred: false,
                virtuous: false,
                arrived_ms,
            },
        );
        self.version += 1;
    }

    fn add_accepted_tip(&mut self, id: VertexId, parents: &[VertexId]) {
        for parent in parents {
            self.accepted_tips.remove(parent);
            self.frontier_dirty.push(*parent);
        }
        self.frontier_dirty.push(id);
        self.accepted_tips.insert(id);
    }

    fn leave_processing(&mut self, id: &VertexId, height: u64, issuer: ValidatorIndex) {
        self.processing.remove(&(height, *id));
        self.accept_candidates.remove(&(height, *id));
        self.flags_dirty.remove(&(height, *id));
        if let Some(count) = self.processing_by_issuer.get_mut(&issuer) {
            *count = count.saturating_sub(1);
        }
    }

    /// Marks a processing vertex accepted (its parents must be).
    pub(crate) fn set_accepted(&mut self, id: &VertexId) {
        let Some(node) = self.nodes.get(id) else {
            return;
        };
        debug_assert_eq!(node.status, VertexStatus::Processing);
        let (height, issuer) = (node.vertex.height(), node.vertex.issuer());
        let parents = node.vertex.parents().to_vec();
        debug_assert!(
            parents
                .iter()
                .all(|p| self.status(p) == Some(VertexStatus::Accepted)),
            "vertex {id} accepted before its parents"
        );
        if let Some(node) = self.nodes.get_mut(id) {
            node.status = VertexStatus::Accepted;
        }
        self.leave_processing(id, height, issuer);
        self.add_accepted_tip(*id, &parents);
        // Its children may have been waiting only for it.
        if let Some(node) = self.nodes.get(id) {
            for child in &node.children {
                if let Some(c) = self.nodes.get(child) {
                    if c.status == VertexStatus::Processing {
                        self.accept_candidates.insert((c.vertex.height(), *child));
                        self.flags_dirty.insert((c.vertex.height(), *child));
                    }
                }
            }
        }
        self.version += 1;
    }

    /// Marks a processing vertex rejected.
    pub(crate) fn set_rejected(&mut self, id: &VertexId) {
        let Some(node) = self.nodes.get_mut(id) else {
            return;
        };
        debug_assert_eq!(node.status, VertexStatus::Processing);
        node.status = VertexStatus::Rejected;
        let (height, issuer) = (node.vertex.height(), node.vertex.issuer());
        let parents = node.vertex.parents().to_vec();
        self.leave_processing(id, height, issuer);
        self.frontier_dirty.push(*id);
        self.frontier_dirty.extend(parents);
        self.version += 1;
    }

    /// Settles an accepted vertex: its transfers and signature leave memory
    /// (see `body.rs`). False if it is not accepted or already settled.
    pub(crate) fn settle(&mut self, id: &VertexId) -> bool {
        match self.nodes.get_mut(id) {
            Some(node) if node.status == VertexStatus::Accepted => node.vertex.settle(),
            _ => false,
        }
    }

    /// Marks a processing vertex whose transactions changed how they stand
    /// (anything else is ignored).
    pub(crate) fn mark_flags_dirty(&mut self, id: &VertexId) {
        if let Some(node) = self.nodes.get(id) {
            if node.status == VertexStatus::Processing {
                self.flags_dirty.insert((node.vertex.height(), *id));
            }
        }
    }

    /// Takes the processing vertices whose virtuous flag changed since the
    /// last call (incremental refreshes only).
    pub(crate) fn take_virtuous_changes(&mut self) -> Vec<VertexId> {
        std::mem::take(&mut self.virtuous_changes)
    }

    /// Recompute flags and frontiers in full at every refresh (the
    /// algorithm before issue 9), or incrementally (the default).
    pub(crate) fn set_full_refresh(&mut self, full: bool) {
        self.full_refresh = full;
        if !full {
            // The full scans kept no candidates: examine everything once.
            self.accept_candidates = self.processing.clone();
        }
    }

    /// Brings the preferred / virtuous flags of processing vertices and the
    /// two frontiers up to date (`tx_flags` says how each transaction
    /// stands; `None` for one no longer known). Only the marked vertices
    /// are recomputed, in (height, id) order so parents come first; a
    /// vertex whose flags changed marks its processing children. Frontier
    /// places are recomputed for the vertices whose flags, status or
    /// tip-ness changed and their parents, and the frontier slices are
    /// rebuilt only if a place changed. Gives what [`Dag::refresh_flags_full`]
    /// gives, provided every vertex whose transactions changed how they
    /// stand was marked ([`Dag::mark_flags_dirty`]); debug builds check it.
    pub(crate) fn refresh_flags(&mut self, tx_flags: impl Fn(&TxId) -> Option<TxFlags>) {
        if self.full_refresh {
            self.refresh_flags_full(&tx_flags);
            return;
        }
        while let Some((_, id)) = self.flags_dirty.pop_first() {
            let Some(node) = self.nodes.get(&id) else {
                continue;
            };
            if node.status != VertexStatus::Processing {
                continue;
            }
            let flags = self.computed_flags(node, &tx_flags, |p| (p.preferred, p.virtuous));
            if (node.preferred, node.virtuous) == flags {
                continue;
            }
            for child in &node.children {
                if let Some(c) = self.nodes.get(child) {
                    if c.status == VertexStatus::Processing {
                        self.flags_dirty.insert((c.vertex.height(), *child));
                    }
                }
            }
            self.frontier_dirty.push(id);
            self.frontier_dirty
                .extend(node.vertex.parents().iter().copied());
            if node.virtuous != flags.1 {
                self.virtuous_changes.push(id);
            }
            if let Some(node) = self.nodes.get_mut(&id) {
                (node.preferred, node.virtuous) = flags;
            }
        }
        let mut changed = false;
        for id in std::mem::take(&mut self.frontier_dirty) {
            changed |= self.place_on_frontiers(&id);
        }
        if changed {
            self.rebuild_frontiers();
        }
        #[cfg(debug_assertions)]
        self.assert_flags_match_full(&tx_flags);
        #[cfg(debug_assertions)]
        self.assert_consistent();
    }

    /// A processing vertex's flags from its parents' (`parent_flags` of a
    /// processing parent) and its transactions'.
    fn computed_flags(
        &self,
        node: &Node,
        tx_flags: impl Fn(&TxId) -> Option<TxFlags>,
        parent_flags: impl Fn(&Node) -> (bool, bool),
    ) -> (bool, bool) {
        let mut preferred = true;
        let mut virtuous = true;
        for parent in node.vertex.parents() {
            match self.nodes.get(parent) {
                Some(p) if p.status == VertexStatus::Accepted => {}
                Some(p) if p.status == VertexStatus::Processing => {
                    let (pp, pv) = parent_flags(p);
                    preferred &= pp;
                    virtuous &= pv;
                }
                _ => {
                    preferred = false;
                    virtuous = false;
                }
            }
        }
        for tx_id in node.vertex.tx_ids() {
            match tx_flags(tx_id) {
                Some(flags) => {
                    preferred &= flags.preferred;
                    virtuous &= flags.virtuous;
                }
                None => {
                    preferred = false;
                    virtuous = false;
                }
            }
        }
        (preferred, virtuous)
    }

    /// Whether a processing child of `node` has the flag.
    fn has_child(&self, node: &Node, flag: fn(&Node) -> bool) -> bool {
        node.children.iter().any(|c| {
            self.nodes
                .get(c)
                .is_some_and(|child| child.status == VertexStatus::Processing && flag(child))
        })
    }

    /// Puts a vertex on the frontiers it belongs to and off the others;
    /// true if any changed.
    fn place_on_frontiers(&mut self, id: &VertexId) -> bool {
        let Some(node) = self.nodes.get(id) else {
            return false;
        };
        let (preferred_processing, preferred_tip, virtuous) = match node.status {
            VertexStatus::Processing => (
                node.preferred && !self.has_child(node, |n| n.preferred),
                false,
                node.virtuous && !self.has_child(node, |n| n.virtuous),
            ),
            VertexStatus::Accepted if self.accepted_tips.contains(id) => (
                false,
                !self.has_child(node, |n| n.preferred),
                !self.has_child(node, |n| n.virtuous),
            ),
            _ => (false, false, false),
        };
        let key = (node.vertex.height(), *id);
        let place = |set: &mut BTreeSet<(u64, VertexId)>, on: bool| {
            if on {
                set.insert(key)
            } else {
                set.remove(&key)
            }
        };
        let a = place(&mut self.preferred_processing, preferred_processing);
        let b = place(&mut self.preferred_tips, preferred_tip);
        let c = place(&mut self.virtuous_members, virtuous);
        a | b | c
    }

    fn rebuild_frontiers(&mut self) {
        // Chits: undecided vertices first (they need the votes), higher first.
        self.preferred_frontier = self
            .preferred_processing
            .iter()
            .rev()
            .chain(self.preferred_tips.iter().rev())
            .map(|(_, id)| *id)
            .collect();
        // Parents: lowest first, so stale tips are absorbed instead of piling up.
        self.virtuous_frontier = self.virtuous_members.iter().map(|(_, id)| *id).collect();
    }

    /// Debug builds: the kept flags and frontiers are what a full
    /// recomputation gives.
    #[cfg(debug_assertions)]
    fn assert_flags_match_full(&self, tx_flags: impl Fn(&TxId) -> Option<TxFlags>) {
        let mut fresh: BTreeMap<VertexId, (bool, bool)> = BTreeMap::new();
        for (_, id) in &self.processing {
            let node = &self.nodes[id];
            let flags = self.computed_flags(node, &tx_flags, |p| fresh[&p.vertex.id()]);
            debug_assert_eq!(
                (node.preferred, node.virtuous),
                flags,
                "incremental flags of {id} differ from the full recomputation"
            );
            fresh.insert(*id, flags);
        }
        let mut preferred_processing = Vec::new();
        let mut preferred_tips = Vec::new();
        let mut virtuous = Vec::new();
        for (height, id) in &self.processing {
            let node = &self.nodes[id];
            if node.preferred && !self.has_child(node, |n| n.preferred) {
                preferred_processing.push((*height, *id));
            }
            if node.virtuous && !self.has_child(node, |n| n.virtuous) {
                virtuous.push((*height, *id));
            }
        }
        for tip in &self.accepted_tips {
            let node = &self.nodes[tip];
            if !self.has_child(node, |n| n.preferred) {
                preferred_tips.push((node.vertex.height(), *tip));
            }
            if !self.has_child(node, |n| n.virtuous) {
                virtuous.push((node.vertex.height(), *tip));
            }
        }
        preferred_processing.sort_by(|a, b| b.cmp(a));
        preferred_tips.sort_by(|a, b| b.cmp(a));
        virtuous.sort();
        let preferred: Vec<VertexId> = preferred_processing
            .into_iter()
            .chain(preferred_tips)
            .map(|(_, id)| id)
            .collect();
        let virtuous: Vec<VertexId> = virtuous.into_iter().map(|(_, id)| id).collect();
        debug_assert_eq!(self.preferred_frontier, preferred, "preferred frontier");
        debug_assert_eq!(self.virtuous_frontier, virtuous, "virtuous frontier");
    }

    /// Recomputes which processing vertices are preferred and virtuous, and
    /// the two frontiers, from scratch: the algorithm before issue 9, kept
    /// for [`Dag::set_full_refresh`] (the benchmark's baseline). It leaves
    /// the incremental state as the incremental refresh would.
    fn refresh_flags_full(&mut self, tx_flags: impl Fn(&TxId) -> Option<TxFlags>) {
        let order = self.processing_ids();
        for id in &order {
            let Some(node) = self.nodes.get(id) else {
                continue;
            };
            let (preferred, virtuous) =
                self.computed_flags(node, &tx_flags, |p| (p.preferred, p.virtuous));
            if let Some(node) = self.nodes.get_mut(id) {
                node.preferred = preferred;
                node.virtuous = virtuous;
            }
        }

        let has_child = |node: &Node, flag: fn(&Node) -> bool| {
            node.children.iter().any(|c| {
                self.nodes
                    .get(c)
                    .is_some_and(|child| child.status == VertexStatus::Processing && flag(child))
            })
        };
        let mut preferred_processing = Vec::new();
        let mut virtuous_processing = Vec::new();
        for id in &order {
            let Some(node) = self.nodes.get(id) else {
                continue;
            };
            if node.preferred && !has_child(node, |n| n.preferred) {
                preferred_processing.push((node.vertex.height(), *id));
            }
            if node.virtuous && !has_child(node, |n| n.virtuous) {
                virtuous_processing.push((node.vertex.height(), *id));
            }
        }
        let mut preferred_tips = Vec::new();
        let mut virtuous_tips = Vec::new();
        for tip in &self.accepted_tips {
            let Some(node) = self.nodes.get(tip) else {
                continue;
            };
            if !has_child(node, |n| n.preferred) {
                preferred_tips.push((node.vertex.height(), *tip));
            }
            if !has_child(node, |n| n.virtuous) {
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
        // Keep the incremental state in step, should the engine switch back.
        self.flags_dirty.clear();
        self.frontier_dirty.clear();
        self.preferred_processing.clear();
        self.preferred_tips.clear();
        self.virtuous_members.clear();
        for id in &self.preferred_frontier {
            let node = &self.nodes[id];
            let key = (node.vertex.height(), *id);
            if node.status == VertexStatus::Processing {
                self.preferred_processing.insert(key);
            } else {
                self.preferred_tips.insert(key);
            }
        }
        for id in &self.virtuous_frontier {
            self.virtuous_members
                .insert((self.nodes[id].vertex.height(), *id));
        }
        #[cfg(debug_assertions)]
        self.assert_consistent();
    }

    /// The invariants above, checked in full (debug builds, after a refresh).
    #[cfg(debug_assertions)]
    fn assert_consistent(&self) {
        let mut by_issuer: BTreeMap<ValidatorIndex, usize> = BTreeMap::new();
        debug_assert!(
            self.accept_candidates.is_subset(&self.processing),
            "an acceptance candidate is not processing"
        );
        for (height, id) in &self.processing {
            let node = &self.nodes[id];
            debug_assert_eq!(node.status, VertexStatus::Processing);
            debug_assert_eq!(node.vertex.height(), *height);
            *by_issuer.entry(node.vertex.issuer()).or_insert(0) += 1;
        }
        for (issuer, count) in &self.processing_by_issuer {
            debug_assert_eq!(by_issuer.get(issuer).copied().unwrap_or(0), *count);
        }
        for id in self
            .preferred_frontier
            .iter()
            .chain(&self.virtuous_frontier)
        {
            debug_assert!(
                self.status(id) != Some(VertexStatus::Rejected),
                "rejected vertex {id} on a frontier"
            );
        }
    }
}
