//! The ledger state a vertex's transactions are checked against: the state
//! after applying every transaction in the vertex's ancestry (each
//! transaction once), computed from the relay's accepted ledger.
//!
//! Why this is order independent: a transfer only debits its sender, a
//! sender's debits form one nonce chain, and a transaction with nonce `n` is
//! valid in a vertex only if its sender's nonce `n - 1` transaction is in the
//! vertex's ancestry (or the same vertex, earlier). Credits only ever add.
//! So in any topological order of an accepted set, when a transaction is
//! applied for the first time its sender has exactly the same debits behind it
//! as in its ancestry and at least the same credits: it applies. Balance
//! changes add up commutatively and nonces are the chain's tip, so every
//! topological order (every order a relay may accept in) gives the same state.
//!
//! Computing it: let `A` be the accepted set and `L` the accepted ledger. The
//! ancestry `anc(V)` differs from `A` by the processing vertices in `anc(V)`
//! (added) and the accepted vertices outside `anc(V)` (removed; they form an
//! upward-closed part of `A` near its tips). One walk down from `V`'s parents
//! and from the accepted tips, in decreasing height, finds both: a vertex is
//! final when popped (only higher vertices can reach it), and the walk stops
//! as soon as nothing left can still be removed or added. It only visits the
//! region between the parents and the accepted tips, and is capped.

use crate::body::TxEffect;
use crate::dag::{Dag, VertexStatus};
use crate::vertex::VertexId;
use ruv_protocol::ledger::Account;
use ruv_protocol::{Address, Ledger, SignedTransfer, TxId, TxRejection};
use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, BinaryHeap, HashMap, HashSet};

/// Why an ancestry cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AncestryError {
    /// An ancestor is rejected: the vertex can never be accepted.
    RejectedAncestor,
    /// The ancestry holds two conflicting transactions, or one that
    /// conflicts with an accepted transaction: it can never be accepted.
    Conflict,
    /// The walk would visit more vertices than allowed.
    TooDeep,
    /// An ancestor is not in the DAG (a caller bug: parents come first).
    MissingVertex,
}

/// The state of one ancestry, as an overlay on the accepted ledger.
#[derive(Debug)]
pub(crate) struct AncestryView<'l> {
    ledger: &'l Ledger,
    balance_delta: BTreeMap<Address, i128>,
    /// Lowest nonce per sender among accepted transactions outside the ancestry.
    removed_min_nonce: BTreeMap<Address, u64>,
    /// Highest nonce per sender among transactions added on top of the ledger.
    added_max_nonce: BTreeMap<Address, u64>,
}

impl<'l> AncestryView<'l> {
    fn new(ledger: &'l Ledger) -> Self {
        Self {
            ledger,
            balance_delta: BTreeMap::new(),
            removed_min_nonce: BTreeMap::new(),
            added_max_nonce: BTreeMap::new(),
        }
    }

    /// An account as this ancestry sees it.
    pub(crate) fn account(&self, address: &Address) -> Account {
        let base = self.ledger.account(address);
        let base_nonce = match self.removed_min_nonce.get(address) {
            Some(min) => min.saturating_sub(1),
            None => base.nonce,
        };
        let nonce = base_nonce.max(self.added_max_nonce.get(address).copied().unwrap_or(0));
        let delta = self.balance_delta.get(address).copied().unwrap_or(0);
        let balance = base.balance as i128 + delta;
        // Out of range means a broken invariant; clamp and say so rather than panic.
        let balance = u64::try_from(balance).unwrap_or_else(|_| {
            tracing::error!(%address, balance, "ancestry balance out of range");
            if balance < 0 {
                0
            } else {
                u64::MAX
            }
        });
        Account { balance, nonce }
    }

    fn add_effects(&mut self, t: &TxEffect, sign: i128) {
        *self.balance_delta.entry(t.from).or_insert(0) -= sign * (t.amount as i128 + t.fee as i128);
        *self.balance_delta.entry(t.to).or_insert(0) += sign * t.amount as i128;
        for (address, reward) in self.ledger.rules().fee_rewards(t.fee) {
            if reward > 0 {
                *self.balance_delta.entry(address).or_insert(0) += sign * reward as i128;
            }
        }
    }

    fn remove_accepted(&mut self, tx: &TxEffect) {
        self.add_effects(tx, -1);
        let min = self.removed_min_nonce.entry(tx.from).or_insert(u64::MAX);
        *min = (*min).min(tx.nonce);
    }

    fn add(&mut self, tx: &TxEffect) {
        self.add_effects(tx, 1);
        let max = self.added_max_nonce.entry(tx.from).or_insert(0);
        *max = (*max).max(tx.nonce);
    }

    /// Checks a transaction (whose stateless checks passed) against this
    /// state, with the same rules as the ledger, and applies it on success.
    pub(crate) fn try_apply(&mut self, tx: &SignedTransfer) -> Result<(), TxRejection> {
        let t = &tx.transfer;
        let (sender, recipient) = (self.account(&t.from), self.account(&t.to).balance);
        ruv_protocol::ledger::check_against_accounts(tx, sender, recipient)?;
        self.add(&TxEffect::of(tx));
        Ok(())
    }
}

const IN_ANCESTRY: u8 = 1;
const FROM_ACCEPTED_TIP: u8 = 2;
const POPPED: u8 = 4;

struct Walk<'d> {
    dag: &'d Dag,
    marks: HashMap<VertexId, u8>,
    heap: BinaryHeap<(u64, VertexId)>,
    /// Unpopped vertices that may still be removed or added.
    needed: usize,
}

impl Walk<'_> {
    fn needs_visit(marks: u8, status: VertexStatus) -> bool {
        let marks = marks & (IN_ANCESTRY | FROM_ACCEPTED_TIP);
        marks == FROM_ACCEPTED_TIP
            || (marks & IN_ANCESTRY != 0 && status == VertexStatus::Processing)
    }

    fn mark(&mut self, id: &VertexId, mark: u8) -> Result<(), AncestryError> {
        let node = self.dag.get(id).ok_or(AncestryError::MissingVertex)?;
        if mark == IN_ANCESTRY && node.status() == VertexStatus::Rejected {
            return Err(AncestryError::RejectedAncestor);
        }
        match self.marks.entry(*id) {
            Entry::Vacant(slot) => {
                slot.insert(mark);
                self.heap.push((node.vertex().height(), *id));
                if Self::needs_visit(mark, node.status()) {
                    self.needed += 1;
                }
            }
            Entry::Occupied(mut slot) => {
                let old = *slot.get();
                let new = old | mark;
                // A popped vertex cannot gain marks: only higher vertices reach it.
                if old & POPPED == 0 && new != old {
                    if Self::needs_visit(old, node.status()) {
                        self.needed = self.needed.saturating_sub(1);
                    }
                    if Self::needs_visit(new, node.status()) {
                        self.needed += 1;
                    }
                    slot.insert(new);
                }
            }
        }
        Ok(())
    }
}

/// The state of the ancestry of a vertex with `parents` (the parents
/// included). `accepted_txs` maps each accepted transaction to the accepted
/// vertices holding it.
pub(crate) fn ancestry_view<'l>(
    dag: &Dag,
    ledger: &'l Ledger,
    accepted_txs: &HashMap<TxId, Vec<VertexId>>,
    parents: &[VertexId],
    max_walk: usize,
) -> Result<AncestryView<'l>, AncestryError> {
    let mut walk = Walk {
        dag,
        marks: HashMap::new(),
        heap: BinaryHeap::new(),
        needed: 0,
    };
    for parent in parents {
        walk.mark(parent, IN_ANCESTRY)?;
    }
    for tip in dag.accepted_tips() {
        walk.mark(tip, FROM_ACCEPTED_TIP)?;
    }
    let mut processing_ancestors = Vec::new();
    // Popped order (deterministic) for the pass below; the set for lookups.
    let mut outside_in_order = Vec::new();
    let mut outside = HashSet::new();
    let mut visited = 0usize;
    while walk.needed > 0 {
        let Some((_, id)) = walk.heap.pop() else {
            break;
        };
        let node = dag.get(&id).ok_or(AncestryError::MissingVertex)?;
        let marks = walk.marks.get(&id).copied().unwrap_or(0);
        walk.marks.insert(id, marks | POPPED);
        if Walk::needs_visit(marks, node.status()) {
            walk.needed = walk.needed.saturating_sub(1);
        }
        visited += 1;
        if visited > max_walk {
            return Err(AncestryError::TooDeep);
        }
        let next = if marks & IN_ANCESTRY != 0 {
            if node.status() == VertexStatus::Processing {
                processing_ancestors.push(id);
            }
            IN_ANCESTRY
        } else {
            outside.insert(id);
            outside_in_order.push(id);
            FROM_ACCEPTED_TIP
        };
        for parent in node.vertex().parents() {
            walk.mark(parent, next)?;
        }
    }

    let mut view = AncestryView::new(ledger);
    let mut removed = HashSet::new();
    for id in &outside_in_order {
        let Some(node) = dag.get(id) else { continue };
        let body = node.vertex();
        for (index, tx_id) in body.tx_ids().iter().enumerate() {
            if removed.contains(tx_id) {
                continue;
            }
            let Some(tx) = body.effect(index) else {
                continue;
            };
            let copies = accepted_txs.get(tx_id).map(Vec::as_slice).unwrap_or(&[]);
            // A transaction stays if any accepted copy of it is in the ancestry.
            if copies.iter().all(|copy| outside.contains(copy)) {
                removed.insert(*tx_id);
                view.remove_accepted(&tx);
            }
        }
    }
    let mut added = HashSet::new();
    let mut added_keys: HashMap<(Address, u64), TxId> = HashMap::new();
    // Oldest first, so a sender's nonce chain is met in order (effects commute anyway).
    processing_ancestors.sort_by_key(|id| dag.height(id).unwrap_or(0));
    for id in &processing_ancestors {
        let Some(node) = dag.get(id) else { continue };
        let body = node.vertex();
        for (index, tx_id) in body.tx_ids().iter().enumerate() {
            let accepted = accepted_txs.contains_key(tx_id);
            if added.contains(tx_id) || (accepted && !removed.contains(tx_id)) {
                continue;
            }
            let Some(tx) = body.effect(index) else {
                continue;
            };
            let key = (tx.from, tx.nonce);
            if added_keys.get(&key).is_some_and(|other| other != tx_id) {
                return Err(AncestryError::Conflict);
            }
            if !accepted && ledger.account(&tx.from).nonce >= tx.nonce {
                return Err(AncestryError::Conflict);
            }
            added.insert(*tx_id);
            added_keys.insert(key, *tx_id);
            view.add(&tx);
        }
    }
    Ok(view)
}
