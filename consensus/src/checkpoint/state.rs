//! The certified state: the ledger, account tree and transaction trees as of
//! the latest certified checkpoint, and the derivation of the next
//! checkpoint's header from an anchor (a few accepted vertex ids).
//!
//! Why the derivation is the same on every honest relay: checkpoint `n`
//! covers `S(n) = S(n-1) ∪ closure(anchor)`, a set of accepted vertices
//! closed under parents. The ledger state after a closed set depends only on
//! the set (see `ancestry.rs`: validity comes from ancestry alone), so
//! applying the new vertices in (height, id) order, each transaction once,
//! gives every relay the same ledger, the same account tree and the same
//! transaction tree.

use super::CheckpointError;
use crate::vertex::{Vertex, VertexId};
use ruv_protocol::api::AccountHistory;
use ruv_protocol::checkpoint::{
    account_leaf_value, anchor_hash, transaction_leaf_value, CheckpointHeader, Hash32,
    ValidatorSet, CHECKPOINT_VERSION,
};
use ruv_protocol::light::{AccountProof, TransactionProof};
use ruv_protocol::smt::{SparseMerkleTree, TreeKind, EMPTY_ROOT};
use ruv_protocol::snapshot::{SnapshotError, StateSnapshot};
use ruv_protocol::{Account, Address, Genesis, Ledger, SignedTransfer, TxId};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;

/// A checkpoint computed from an anchor, not yet adopted.
#[derive(Debug, Clone)]
pub struct Derived {
    /// The header it yields (with the proposer's time).
    pub header: CheckpointHeader,
    /// The anchor it was derived from.
    pub anchor: Vec<VertexId>,
    /// The newly covered vertices, in application order.
    covered: Vec<VertexId>,
    /// Accounts that changed, with their new state.
    updates: Vec<(Address, Account)>,
    /// The ledger after the checkpoint (None: unchanged, a heartbeat).
    ledger: Option<Ledger>,
    /// Transactions first included, in application order, with the index
    /// of the covered vertex that applied each and its position there.
    txs: Vec<(TxId, Arc<SignedTransfer>, u32, u16)>,
    /// The tree over them.
    tx_tree: SparseMerkleTree,
}

/// An included transaction: the checkpoint that first included it and its
/// sender and nonce (its leaf in that checkpoint's transaction tree). Not
/// its body: at about 5.3 KB a transfer, bodies were most of what a relay
/// held per included transaction; history pages read them from the
/// relay's database ([`CertifiedState::history`]).
#[derive(Debug)]
struct Included {
    checkpoint: u64,
    from: Address,
    nonce: u64,
    /// The covered vertex that applied it: its index among the vertices
    /// the checkpoint added (application order), and its position there.
    vertex: u32,
    position: u16,
}

/// Where the body of an included transaction is, for the relay's log: in
/// accepted vertex `vertex`, at `position` among its transactions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TxLocation {
    /// The transaction.
    pub id: TxId,
    /// The accepted vertex that applied it.
    pub vertex: VertexId,
    /// Its position among that vertex's transactions.
    pub position: u16,
}

impl TxPlace {
    /// Where it is, given the vertices each checkpoint added (application
    /// order); None if that checkpoint's list is not held.
    fn locate(&self, covered_by: &BTreeMap<u64, Vec<VertexId>>) -> Option<TxLocation> {
        let vertex = *covered_by
            .get(&self.checkpoint)?
            .get(self.vertex as usize)?;
        Some(TxLocation {
            id: self.id,
            vertex,
            position: self.position,
        })
    }
}

/// Where the body of an included transaction is: in the `vertex`-th of the
/// vertices checkpoint `checkpoint` added (application order), at
/// `position` among its transactions. A relay reads it from its log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct TxPlace {
    id: TxId,
    checkpoint: u64,
    vertex: u32,
    position: u16,
}

/// What a derivation needs that is not there yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pending {
    /// An anchor ancestor is not accepted here (yet).
    Missing(VertexId),
}

/// The state as of the latest certified checkpoint. Validators hold one
/// inside their [`super::Checkpointer`]; follower relays drive one directly
/// (derive from a certified anchor, compare, adopt).
#[derive(Debug)]
pub struct CertifiedState {
    chain_id: String,
    genesis_hash: Hash32,
    validator_set_hash: Hash32,
    supply: u64,
    ledger: Ledger,
    state_tree: SparseMerkleTree,
    /// Latest header (the genesis header before the first certificate).
    latest: CheckpointHeader,
    latest_id: Hash32,
    /// Vertices inside some certified checkpoint.
    covered: HashSet<VertexId>,
    /// Transactions applied in some certified checkpoint: the number, the
    /// sender and the nonce (its sender and nonce are the
    /// transaction tree's leaf). One entry per included transaction.
    included: HashMap<TxId, Included>,
    /// The transaction trees of the latest [`TX_TREES_IN_MEMORY`]
    /// checkpoints (inclusion proofs are mostly asked right after
    /// finality); an older one is rebuilt from `tx_ids` when a proof needs
    /// it (about 250 bytes a transaction built, 32 as an id).
    tx_trees: BTreeMap<u64, SparseMerkleTree>,
    /// Per checkpoint that included any, its transaction ids (the leaves
    /// of its tree, with the sender and nonce in `included`).
    tx_ids: BTreeMap<u64, Vec<TxId>>,
    /// The last tree rebuilt for an older checkpoint, and its number.
    rebuilt: Option<(u64, SparseMerkleTree)>,
    /// The included transaction that used each (sender, nonce).
    by_nonce: HashMap<(Address, u64), TxId>,
    /// Accounts that changed in the latest checkpoint.
    latest_changes: Vec<Address>,
    /// Per account, the included transactions it sent or received, oldest
    /// first (checkpoint order, then application order): positions never
    /// change, so a position is a stable history cursor. Not capped per
    /// account: a cap would let anyone push a victim's real payments out of
    /// its history with dust. It grows with the chain like `included`
    /// (one or two ids per transaction), and is rebuilt by `adopt` on restore.
    history: HashMap<Address, Vec<TxId>>,
    /// The first checkpoint whose transactions have proofs and history here
    /// (1, or the one after the snapshot this state was restored from).
    proofs_from: u64,
    /// Per certified checkpoint not yet handed out in a [`StateDelta`], the
    /// accounts it changed with their new state.
    unpersisted: BTreeMap<u64, Vec<(Address, Account)>>,
}

/// The accounts that changed since the previous delta, with their state as
/// of checkpoint `checkpoint` (an empty account is one to delete). A driver
/// that applies every delta in order to a copy of the state it persisted at
/// genesis (or at a [`StateSnapshot`]) holds the state of `checkpoint`.
/// Deltas lag the latest checkpoint on purpose (see
/// [`CertifiedState::take_delta`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateDelta {
    /// The checkpoint the accounts are as of.
    pub checkpoint: u64,
    /// The changed accounts, in address order.
    pub accounts: Vec<(Address, Account)>,
}

/// The vertices the closure of `anchor` adds to `covered`, among `accepted`
/// (the vertices this relay holds), in application order ((height, id)).
/// Ids it does not hold are taken as covered: a restart only asks this of
/// checkpoints whose certificate and state it already trusts.
pub fn closure_added(
    anchor: &[VertexId],
    accepted: &HashMap<VertexId, Arc<Vertex>>,
    covered: &HashSet<VertexId>,
) -> Vec<VertexId> {
    let mut new: BTreeSet<(u64, VertexId)> = BTreeSet::new();
    let mut seen: HashSet<VertexId> = HashSet::new();
    let mut stack: Vec<VertexId> = anchor.to_vec();
    while let Some(id) = stack.pop() {
        if covered.contains(&id) || !seen.insert(id) {
            continue;
        }
        let Some(vertex) = accepted.get(&id) else {
            continue;
        };
        new.insert((vertex.height(), id));
        stack.extend(vertex.parents().iter().copied());
    }
    new.into_iter().map(|(_, id)| id).collect()
}

impl Derived {
    /// The newly covered vertices, in application order.
    pub fn covered(&self) -> &[VertexId] {
        &self.covered
    }
}

impl CertifiedState {
    /// The state at genesis: checkpoint 0, never certified, computable by anyone.
    pub fn genesis(genesis: &Genesis, validators: &ValidatorSet) -> Result<Self, CheckpointError> {
        let supply = genesis
            .total_supply()
            .map_err(|_| CheckpointError::Genesis)?;
        let ledger = Ledger::from_genesis(genesis);
        let mut state_tree = SparseMerkleTree::new(TreeKind::State);
        for (address, account) in ledger.accounts() {
            if account.balance == 0 && account.nonce == 0 {
                continue; // empty accounts are absent (see `set_leaf`)
            }
            state_tree
                .insert(*address.as_bytes(), &account_leaf_value(account))
                .map_err(|_| CheckpointError::Genesis)?;
        }
        let latest = CheckpointHeader {
            version: CHECKPOINT_VERSION,
            chain_id: genesis.chain_id.clone(),
            genesis_hash: Hash32(genesis.hash()),
            epoch: 0,
            number: 0,
            previous: Hash32::ZERO,
            anchor: Hash32::ZERO,
            state_root: Hash32(state_tree.root()),
            transaction_root: Hash32(EMPTY_ROOT),
            transaction_count: 0,
            circulating: supply,
            burned: 0,
            time_ms: 0,
            validator_set_hash: validators.hash(),
            next_validator_set_hash: Hash32::ZERO,
        };
        Ok(Self {
            chain_id: genesis.chain_id.clone(),
            genesis_hash: latest.genesis_hash,
            validator_set_hash: validators.hash(),
            supply,
            ledger,
            state_tree,
            latest_id: latest.id(),
            latest,
            covered: HashSet::new(),
            included: HashMap::new(),
            tx_trees: BTreeMap::new(),
            tx_ids: BTreeMap::new(),
            rebuilt: None,
            by_nonce: HashMap::new(),
            latest_changes: Vec::new(),
            history: HashMap::new(),
            proofs_from: 1,
            unpersisted: BTreeMap::new(),
        })
    }

    /// The state at certified checkpoint `header`'s number from a snapshot
    /// of it, checked against the header (whose certificate the caller
    /// verified). `covered` are the vertices checkpoints up to it covered
    /// that this relay still holds. Inclusion proofs and history start
    /// after the snapshot: transactions included before it have none here.
    pub fn from_snapshot(
        genesis: &Genesis,
        validators: &ValidatorSet,
        header: &CheckpointHeader,
        snapshot: &StateSnapshot,
        covered: HashSet<VertexId>,
    ) -> Result<Self, SnapshotError> {
        let mut state_tree = snapshot.verify(header)?;
        let mut this =
            Self::genesis(genesis, validators).map_err(|_| SnapshotError::WrongHeader)?;
        if header.genesis_hash != this.genesis_hash
            || header.chain_id != this.chain_id
            || header.validator_set_hash != this.validator_set_hash
        {
            return Err(SnapshotError::WrongHeader);
        }
        debug_assert_eq!(Hash32(state_tree.root()), header.state_root);
        this.ledger = Ledger::from_snapshot(genesis, snapshot);
        this.state_tree = state_tree;
        this.latest_id = header.id();
        this.latest = header.clone();
        this.covered = covered;
        this.proofs_from = header.number + 1;
        Ok(this)
    }

    /// The full state as of the latest checkpoint.
    pub fn snapshot(&self) -> StateSnapshot {
        StateSnapshot {
            checkpoint: self.latest.number,
            header_id: self.latest_id,
            burned: self.ledger.burned(),
            accounts: self
                .ledger
                .accounts()
                .filter(|(_, account)| **account != Account::default())
                .map(|(address, account)| (*address, *account))
                .collect(),
        }
    }

    /// The accounts changed by the checkpoints adopted since the last call,
    /// up to `lag` checkpoints before the latest one, with their state as of
    /// the last of those (None when no checkpoint is that old yet). The lag
    /// is what a restart re-derives from the accepted vertices, so the last
    /// `lag` checkpoints keep their inclusion proofs across restarts.
    pub fn take_delta(&mut self, lag: u64) -> Option<StateDelta> {
        let upto = self.latest.number.checked_sub(lag)?;
        let newer = self.unpersisted.split_off(&(upto + 1));
        let taken = std::mem::replace(&mut self.unpersisted, newer);
        let checkpoint = *taken.keys().next_back()?;
        let mut accounts: BTreeMap<Address, Account> = BTreeMap::new();
        for (address, account) in taken.into_values().flatten() {
            accounts.insert(address, account);
        }
        Some(StateDelta {
            checkpoint,
            accounts: accounts.into_iter().collect(),
        })
    }

    /// The latest header (number 0 = genesis).
    pub fn latest(&self) -> &CheckpointHeader {
        &self.latest
    }

    /// Its id.
    pub fn latest_id(&self) -> Hash32 {
        self.latest_id
    }

    /// Accounts that changed in the latest checkpoint.
    pub fn latest_changes(&self) -> &[Address] {
        &self.latest_changes
    }

    /// For a relay whose history starts at a synced snapshot: takes `ids`
    /// (vertices it never held, named by the anchor or parents of a later
    /// checkpoint) as covered at or before the snapshot, so a derivation
    /// stops there. Whoever calls this checks the derived header against a
    /// certified one and calls [`Self::forget_assumed`] if it differs.
    pub fn assume_covered(&mut self, ids: impl IntoIterator<Item = VertexId>) {
        self.covered.extend(ids);
    }

    /// Undoes [`Self::assume_covered`] for `ids` after a refused derivation.
    pub fn forget_assumed(&mut self, ids: &[VertexId]) {
        for id in ids {
            self.covered.remove(id);
        }
    }

    /// Whether a vertex is inside a certified checkpoint.
    pub fn is_covered(&self, id: &VertexId) -> bool {
        self.covered.contains(id)
    }

    /// The first checkpoint whose transactions have inclusion proofs and
    /// history here: 1, or the one after the snapshot this state was
    /// restored from.
    pub fn proofs_from(&self) -> u64 {
        self.proofs_from
    }

    /// Whether the transactions of accepted vertex `vertex` were included
    /// before [`Self::proofs_from`] (no proof here, ever).
    pub fn proof_pruned(&self, vertex: &VertexId) -> bool {
        self.proofs_from > 1 && self.covered.contains(vertex)
    }

    /// Whether the transaction that used `(from, nonce)` was included before
    /// [`Self::proofs_from`] (no proof here, ever).
    pub fn nonce_proof_pruned(&self, from: &Address, nonce: u64) -> bool {
        self.proofs_from > 1
            && nonce >= 1
            && self.ledger.account(from).nonce >= nonce
            && !self.by_nonce.contains_key(&(*from, nonce))
    }

    /// The ledger as of the latest certified checkpoint.
    pub fn ledger(&self) -> &Ledger {
        &self.ledger
    }

    /// The checkpoint a transaction was first included in.
    pub fn included_in(&self, id: &TxId) -> Option<u64> {
        self.included.get(id).map(|included| included.checkpoint)
    }

    /// Computes the next checkpoint from an anchor over the accepted,
    /// not yet covered vertices `accepted`.
    pub fn derive(
        &mut self,
        anchor: &[VertexId],
        time_ms: u64,
        accepted: &HashMap<VertexId, Arc<Vertex>>,
    ) -> Result<Derived, DeriveError> {
        let mut anchor: Vec<VertexId> = anchor.to_vec();
        anchor.sort();
        anchor.dedup();
        // The closure of the anchor minus what is already covered.
        let mut new: BTreeSet<(u64, VertexId)> = BTreeSet::new();
        let mut seen: HashSet<VertexId> = HashSet::new();
        let mut stack: Vec<VertexId> = anchor.clone();
        while let Some(id) = stack.pop() {
            if self.covered.contains(&id) || !seen.insert(id) {
                continue;
            }
            let Some(vertex) = accepted.get(&id) else {
                return Err(DeriveError::Pending(Pending::Missing(id)));
            };
            new.insert((vertex.height(), id));
            stack.extend(vertex.parents().iter().copied());
        }
        // A heartbeat adds nothing: no need to copy the ledger.
        let mut ledger = if new.is_empty() {
            None
        } else {
            Some(self.ledger.clone())
        };
        let mut touched: BTreeSet<Address> = BTreeSet::new();
        let mut txs = Vec::new();
        let mut in_this: HashSet<TxId> = HashSet::new();
        let mut tx_tree = SparseMerkleTree::new(TreeKind::Transactions);
        for (vertex_index, (_, id)) in new.iter().enumerate() {
            let Some(vertex) = accepted.get(id) else {
                return Err(DeriveError::Pending(Pending::Missing(*id)));
            };
            for (position, (tx_id, tx)) in vertex.tx_ids().iter().zip(vertex.txs()).enumerate() {
                // Included earlier: by id, or (after a restart from a
                // snapshot, which keeps no ids) by its (sender, nonce), which
                // the included copy used: accepted transactions never
                // conflict, so the transaction that used it is this one.
                if self.included.contains_key(tx_id)
                    || self.ledger.account(&tx.transfer.from).nonce >= tx.transfer.nonce
                    || !in_this.insert(*tx_id)
                {
                    continue;
                }
                let Some(ledger) = ledger.as_mut() else {
                    break;
                };
                let applied = ledger.apply_checked_signature(tx).map_err(|reason| {
                    DeriveError::Invalid(format!("{tx_id} does not apply: {reason}"))
                })?;
                touched.extend(applied.touched);
                let (from, nonce) = (tx.transfer.from, tx.transfer.nonce);
                tx_tree
                    .insert(tx_id.0, &transaction_leaf_value(&from, nonce))
                    .map_err(|e| DeriveError::Invalid(e.to_string()))?;
                // A vertex holds at most MAX_VERTEX_TXS (u16) transfers.
                txs.push((*tx_id, tx.clone(), vertex_index as u32, position as u16));
            }
        }
        let updates: Vec<(Address, Account)> = touched
            .into_iter()
            .map(|a| (a, ledger.as_ref().unwrap_or(&self.ledger).account(&a)))
            .collect();
        let state_root = self.root_with(&updates)?;
        let burned = ledger.as_ref().unwrap_or(&self.ledger).burned();
        let header = CheckpointHeader {
            version: CHECKPOINT_VERSION,
            chain_id: self.chain_id.clone(),
            genesis_hash: self.genesis_hash,
            epoch: 0,
            number: self.latest.number + 1,
            previous: self.latest_id,
            anchor: anchor_hash(&anchor.iter().map(|v| v.0).collect::<Vec<_>>()),
            state_root: Hash32(state_root),
            transaction_root: Hash32(tx_tree.root()),
            transaction_count: txs.len() as u64,
            circulating: self.supply.saturating_sub(burned),
            burned,
            time_ms,
            validator_set_hash: self.validator_set_hash,
            next_validator_set_hash: Hash32::ZERO,
        };
        Ok(Derived {
            header,
            anchor,
            covered: new.into_iter().map(|(_, id)| id).collect(),
            updates,
            ledger,
            txs,
            tx_tree,
        })
    }

    /// The account root after `updates`, leaving the tree as it was.
    fn root_with(&mut self, updates: &[(Address, Account)]) -> Result<[u8; 32], DeriveError> {
        let mut previous = Vec::with_capacity(updates.len());
        for (address, account) in updates {
            previous.push((
                *address,
                self.state_tree.get(address.as_bytes()).map(<[u8]>::to_vec),
            ));
            self.set_leaf(address, account)?;
        }
        let root = self.state_tree.root();
        for (address, old) in previous.into_iter().rev() {
            match old {
                Some(value) => self
                    .state_tree
                    .insert(*address.as_bytes(), &value)
                    .map_err(|e| DeriveError::Invalid(e.to_string()))?,
                None => {
                    self.state_tree.remove(address.as_bytes());
                }
            }
        }
        Ok(root)
    }

    fn set_leaf(&mut self, address: &Address, account: &Account) -> Result<(), DeriveError> {
        if account.balance == 0 && account.nonce == 0 {
            // An empty account is absent: one state, one root.
            self.state_tree.remove(address.as_bytes());
            Ok(())
        } else {
            self.state_tree
                .insert(*address.as_bytes(), &account_leaf_value(account))
                .map_err(|e| DeriveError::Invalid(e.to_string()))
        }
    }

    /// Makes a derived checkpoint the latest (its certificate is checked by
    /// the caller).
    pub fn adopt(&mut self, derived: Derived) -> Result<Vec<VertexId>, DeriveError> {
        for (address, account) in &derived.updates {
            self.set_leaf(address, account)?;
        }
        debug_assert_eq!(Hash32(self.state_tree.root()), derived.header.state_root);
        let number = derived.header.number;
        if let Some(ledger) = derived.ledger {
            self.ledger = ledger;
        }
        self.covered.extend(derived.covered.iter().copied());
        if !derived.txs.is_empty() {
            let ids = derived.txs.iter().map(|(id, ..)| *id).collect();
            self.tx_ids.insert(number, ids);
        }
        for (id, tx, vertex, position) in derived.txs {
            let (from, to, nonce) = (tx.transfer.from, tx.transfer.to, tx.transfer.nonce);
            self.by_nonce.insert((from, nonce), id);
            self.history.entry(from).or_default().push(id);
            if to != from {
                self.history.entry(to).or_default().push(id);
            }
            self.included.insert(
                id,
                Included {
                    checkpoint: number,
                    from,
                    nonce,
                    vertex,
                    position,
                },
            );
        }
        self.tx_trees.insert(number, derived.tx_tree);
        while self.tx_trees.len() > TX_TREES_IN_MEMORY {
            self.tx_trees.pop_first();
        }
        self.unpersisted.insert(number, derived.updates.clone());
        self.latest_changes = derived.updates.iter().map(|(a, _)| *a).collect();
        self.latest_id = derived.header.id();
        self.latest = derived.header;
        Ok(derived.covered)
    }

    /// An account's state with its proof against the latest checkpoint.
    pub fn prove_account(&mut self, address: &Address) -> AccountProof {
        let account = self.ledger.account(address);
        let proof = self.state_tree.prove(address.as_bytes());
        AccountProof {
            address: *address,
            balance: account.balance,
            nonce: account.nonce,
            checkpoint: self.latest.number,
            proof: proof.encode(),
        }
    }

    /// The inclusion proof of the transaction that used `(from, nonce)`.
    pub fn prove_nonce(&mut self, from: &Address, nonce: u64) -> Option<TransactionProof> {
        let id = *self.by_nonce.get(&(*from, nonce))?;
        self.prove_transaction(&id)
    }

    /// A page of `address`'s history, newest first: at most `limit` included
    /// transactions it sent or received at positions below `before` (all
    /// when None), each with its inclusion proof. `next` is the position to
    /// pass as `before` for the older page. The bodies come from `bodies`
    /// (the relay's log; this state keeps none), asked once per page with
    /// where each is (found with `covered_by`, the vertices each checkpoint
    /// added, which the caller keeps); one it has no body for is left out.
    pub fn history<E>(
        &mut self,
        address: &Address,
        before: Option<u64>,
        limit: usize,
        covered_by: &BTreeMap<u64, Vec<VertexId>>,
        bodies: impl FnOnce(&[Option<TxLocation>]) -> Result<Vec<Option<SignedTransfer>>, E>,
    ) -> Result<AccountHistory, E> {
        let ids = self.history.get(address).map_or(&[][..], Vec::as_slice);
        let end = before.map_or(ids.len(), |b| {
            usize::try_from(b).map_or(ids.len(), |b| b.min(ids.len()))
        });
        let start = end.saturating_sub(limit);
        let page: Vec<TxId> = ids[start..end].iter().rev().copied().collect();
        let places: Vec<TxPlace> = page
            .iter()
            .filter_map(|id| {
                let included = self.included.get(id)?;
                Some(TxPlace {
                    id: *id,
                    checkpoint: included.checkpoint,
                    vertex: included.vertex,
                    position: included.position,
                })
            })
            .collect();
        let page: Vec<TxId> = places.iter().map(|p| p.id).collect();
        let located: Vec<Option<TxLocation>> =
            places.iter().map(|p| p.locate(covered_by)).collect();
        let found = bodies(&located)?;
        let mut entries = Vec::with_capacity(page.len());
        for (id, body) in page.iter().zip(found) {
            let (Some(transaction), Some(proof)) = (body, self.prove_transaction(id)) else {
                tracing::warn!(tx = %id, "an included transaction has no stored body or proof");
                continue;
            };
            entries.push(ruv_protocol::api::HistoryEntry { transaction, proof });
        }
        Ok(AccountHistory {
            address: *address,
            entries,
            next: (start > 0).then_some(start as u64),
            pruned_through: (self.proofs_from > 1).then_some(self.proofs_from - 1),
        })
    }

    /// A transaction's inclusion proof, if it is in a certified checkpoint.
    pub fn prove_transaction(&mut self, id: &TxId) -> Option<TransactionProof> {
        let included = self.included.get(id)?;
        let (number, from, nonce) = (included.checkpoint, included.from, included.nonce);
        let tree = if self.tx_trees.contains_key(&number) {
            self.tx_trees.get_mut(&number)?
        } else {
            if self.rebuilt.as_ref().map(|(n, _)| *n) != Some(number) {
                self.rebuilt = Some((number, self.rebuild_tx_tree(number)?));
            }
            &mut self.rebuilt.as_mut()?.1
        };
        Some(TransactionProof {
            id: *id,
            from,
            nonce,
            checkpoint: number,
            proof: tree.prove(&id.0).encode(),
        })
    }

    /// Checkpoint `number`'s transaction tree, rebuilt from its ids: the
    /// same leaves give the same root as the one certified.
    fn rebuild_tx_tree(&self, number: u64) -> Option<SparseMerkleTree> {
        let mut tree = SparseMerkleTree::new(TreeKind::Transactions);
        for id in self.tx_ids.get(&number)? {
            let included = self.included.get(id)?;
            let value = transaction_leaf_value(&included.from, included.nonce);
            tree.insert(id.0, &value).ok()?;
        }
        Some(tree)
    }
}

/// Checkpoints whose transaction trees stay built (see
/// `CertifiedState::prove_transaction`).
pub const TX_TREES_IN_MEMORY: usize = 16;

/// Why a checkpoint cannot be derived from an anchor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeriveError {
    /// Not yet: an anchor ancestor is not accepted here.
    Pending(Pending),
    /// Never: the anchor's vertices do not apply (a Byzantine proposal, or a
    /// broken invariant).
    Invalid(String),
}
