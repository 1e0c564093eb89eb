//! The follower's state machine: which checkpoint comes next, and whether a
//! certified checkpoint with the vertices it adds may be adopted. No I/O.
//!
//! # Calling convention
//!
//! ```text
//! let mut core = FollowerCore::restore(&genesis, stored_checkpoints, stored_vertices)?;
//! // or, with an empty database, from an upstream's state (checked here):
//! let mut core = FollowerCore::from_synced(&genesis, checkpoint_m, &state_at_m)?;
//! loop {
//!     let n = core.next_number();                 // fetch checkpoint n from an upstream
//!     match core.offer(checkpoint, &vertex_bytes) {
//!         Ok(adopted) => persist(adopted), then publish,   // durable before anyone hears of it
//!         Err(refusal) => try another upstream,           // state unchanged
//!     }
//! }
//! ```
//!
//! [`FollowerCore::offer`] adopts checkpoint `n` only if all of this holds:
//! it is the next number; its certificate carries signatures of more than
//! 2/3 of the genesis stake over the header (ML-DSA-65, checked against the
//! genesis validator set, never against anything the upstream sent); the
//! anchor hashes to the header's anchor; every vertex decodes, belongs to
//! this chain, is signed by the genesis validator it names, appears once
//! and is not covered yet; the anchor's closure is exactly the vertices
//! given plus what earlier checkpoints covered (every parent present,
//! nothing extra); and deriving the state from them
//! ([`CertifiedState::derive`]) gives the certified header, byte for byte
//! (state root, transaction root, counts, supply). Only then does the state
//! move on; a refused offer changes nothing.
//!
//! Queries ([`FollowerCore::prove_account`] and friends) answer from the
//! same [`CertifiedState`] a validator's checkpointer keeps, so a follower
//! serves the same proofs.

use ruv_consensus::checkpoint::{
    closure_added, CertifiedState, CheckpointError, DeriveError, StateDelta, TxLocation,
};
use ruv_consensus::{StoredCheckpoint, Vertex, VertexId, CERTIFIED_IN_MEMORY};
use ruv_protocol::checkpoint::{anchor_hash, ValidatorSet};
use ruv_protocol::crypto::PublicKey;
use ruv_protocol::light::{AccountProof, TransactionProof};
use ruv_protocol::snapshot::StateSnapshot;
use ruv_protocol::{Address, Genesis, Ledger, SignedTransfer, TxId};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

/// Why an offered checkpoint was not adopted (the upstream lied, or is broken).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// Not the number this follower needs next.
    #[error("checkpoint {got} offered, {expected} expected")]
    WrongNumber {
        /// Needed.
        expected: u64,
        /// Offered.
        got: u64,
    },
    /// The certificate does not verify against the genesis validators.
    #[error("certificate: {0}")]
    Certificate(String),
    /// The anchor does not hash to the header's anchor.
    #[error("the anchor does not match the certified header")]
    Anchor,
    /// A vertex is malformed, foreign, unsigned by its issuer or repeated.
    #[error("vertex {index}: {reason}")]
    Vertex {
        /// Its position in the offer.
        index: usize,
        /// Why.
        reason: String,
    },
    /// The anchor's closure needs a vertex the offer lacks.
    #[error("vertex {0} of the anchor's closure is missing")]
    Missing(VertexId),
    /// The offer holds vertices outside the anchor's closure.
    #[error("{0} vertices offered outside the anchor's closure")]
    Extra(usize),
    /// The vertices do not apply.
    #[error("the vertices do not apply: {0}")]
    Invalid(String),
    /// The derived header differs from the certified one.
    #[error("the derived header differs from the certified one")]
    Header,
    /// A synced state does not match its certified header.
    #[error("state: {0}")]
    State(String),
}

/// What adopting a checkpoint changed (to persist, publish and announce).
#[derive(Debug, Clone)]
pub struct Adopted {
    /// The checkpoint, now the latest.
    pub checkpoint: StoredCheckpoint,
    /// The vertices it added, in application order.
    pub vertices: Vec<Arc<Vertex>>,
    /// Accounts that changed.
    pub changed: Vec<Address>,
    /// Transactions it included first.
    pub transactions: Vec<TxId>,
}

/// The follower's verified state. See the module docs.
#[derive(Debug)]
pub struct FollowerCore {
    chain_id: String,
    validators: ValidatorSet,
    keys: Vec<PublicKey>,
    state: CertifiedState,
    /// The latest [`CERTIFIED_IN_MEMORY`] adopted checkpoints (older ones
    /// are in the database).
    certified: BTreeMap<u64, StoredCheckpoint>,
    /// Transactions the adopted checkpoints included, summed as adopted.
    included_total: u64,
    /// The vertices each checkpoint added, in application order.
    covered_by: BTreeMap<u64, Vec<VertexId>>,
    /// Transactions of the vertices covered up to the state this follower
    /// restarted from: their proofs are not served (`pruned`).
    pruned_txs: HashSet<TxId>,
    /// The first checkpoint whose vertices this follower holds: 1, or the
    /// one after the upstream state it synced from. Above 1, a vertex that
    /// a later checkpoint's closure names but this follower never held is
    /// taken as covered at or before that state ([`Self::assume_boundary`]).
    history_from: u64,
}

impl FollowerCore {
    /// A follower at genesis.
    pub fn new(genesis: &Genesis) -> Result<Self, CheckpointError> {
        let validators = ValidatorSet::from_genesis(genesis)?;
        let state = CertifiedState::genesis(genesis, &validators)?;
        let keys = genesis
            .validator_keys()
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        Ok(Self {
            chain_id: genesis.chain_id.clone(),
            validators,
            keys,
            state,
            certified: BTreeMap::new(),
            included_total: 0,
            covered_by: BTreeMap::new(),
            pruned_txs: HashSet::new(),
            history_from: 1,
        })
    }

    /// A follower at certified checkpoint `checkpoint` with the state
    /// `snapshot` an upstream sent: adopted only if the certificate
    /// verifies against the genesis validators, the anchor hashes to the
    /// certified one, and [`StateSnapshot::verify`] matches the snapshot
    /// with the certified header (state root, supply, number and id).
    /// Proofs and history start after it; it follows from the next number.
    pub fn from_synced(
        genesis: &Genesis,
        checkpoint: StoredCheckpoint,
        snapshot: &StateSnapshot,
    ) -> Result<Self, Refusal> {
        let mut this = Self::new(genesis).map_err(|e| Refusal::State(e.to_string()))?;
        let header = &checkpoint.certificate.header;
        if header.number == 0 || snapshot.checkpoint != header.number {
            return Err(Refusal::WrongNumber {
                expected: snapshot.checkpoint,
                got: header.number,
            });
        }
        checkpoint
            .certificate
            .verify(&this.validators)
            .map_err(|e| Refusal::Certificate(e.to_string()))?;
        if anchor_hash(&checkpoint.anchor.iter().map(|v| v.0).collect::<Vec<_>>()) != header.anchor
        {
            return Err(Refusal::Anchor);
        }
        this.state = CertifiedState::from_snapshot(
            genesis,
            &this.validators,
            header,
            snapshot,
            HashSet::new(),
        )
        .map_err(|e| Refusal::State(e.to_string()))?;
        this.history_from = header.number + 1;
        this.remember(checkpoint);
        Ok(this)
    }

    /// The first checkpoint whose vertices and proofs this follower holds
    /// (1 unless it synced from an upstream's state).
    pub fn history_from(&self) -> u64 {
        self.history_from
    }

    /// For a follower that synced from a state: takes the vertices the
    /// closure of `anchor` reaches through `pool` but this follower never
    /// held as covered at or before that state, and returns them (to
    /// forget if the derivation is refused). A lying upstream that leaves a
    /// vertex out this way gets a derivation without its transactions,
    /// which matches the certified header only if it had none that apply
    /// (state and transaction roots): the state stays exact; at worst this
    /// follower lacks a transaction-free vertex it would serve on.
    fn assume_boundary(
        &mut self,
        anchor: &[VertexId],
        pool: &HashMap<VertexId, Arc<Vertex>>,
    ) -> Vec<VertexId> {
        if self.history_from <= 1 {
            return Vec::new();
        }
        let mut boundary = Vec::new();
        let mut seen: HashSet<VertexId> = HashSet::new();
        let mut stack: Vec<VertexId> = anchor.to_vec();
        while let Some(id) = stack.pop() {
            if self.state.is_covered(&id) || !seen.insert(id) {
                continue;
            }
            match pool.get(&id) {
                Some(vertex) => stack.extend(vertex.parents().iter().copied()),
                None => boundary.push(id),
            }
        }
        self.state.assume_covered(boundary.iter().copied());
        boundary
    }

    /// Rebuilds the state from what this follower stored (checked when it
    /// was adopted): checkpoints in order and the vertices they added.
    pub fn restore(
        genesis: &Genesis,
        stored: impl IntoIterator<Item = StoredCheckpoint>,
        vertices: impl IntoIterator<Item = Arc<Vertex>>,
    ) -> Result<Self, CheckpointError> {
        let mut this = Self::new(genesis)?;
        let pool: HashMap<VertexId, Arc<Vertex>> =
            vertices.into_iter().map(|v| (v.id(), v)).collect();
        for checkpoint in stored {
            this.restore_next(checkpoint, &pool)?;
        }
        Ok(this)
    }

    /// Like [`FollowerCore::restore`], from the state this follower stored
    /// at checkpoint `snapshot.checkpoint`, checked against that stored
    /// certified header: only the checkpoints after it are re-derived.
    pub fn restore_from_snapshot(
        genesis: &Genesis,
        snapshot: &StateSnapshot,
        stored: impl IntoIterator<Item = StoredCheckpoint>,
        vertices: impl IntoIterator<Item = Arc<Vertex>>,
    ) -> Result<Self, CheckpointError> {
        let base = snapshot.checkpoint;
        let fail = |number: u64, reason: String| CheckpointError::Restore { number, reason };
        let mut this = Self::new(genesis)?;
        let pool: HashMap<VertexId, Arc<Vertex>> =
            vertices.into_iter().map(|v| (v.id(), v)).collect();
        let mut covered: HashSet<VertexId> = HashSet::new();
        let mut later = Vec::new();
        let mut stored = stored.into_iter().peekable();
        // A follower that synced from an upstream's state stored history
        // from that checkpoint on, and its state is at it or later.
        let first = stored
            .peek()
            .map_or(1, |c| c.certificate.header.number.max(1));
        if first > 1 && first > base {
            return Err(fail(first, "history starts after the stored state".into()));
        }
        this.history_from = if first > 1 { first + 1 } else { 1 };
        for (expected, checkpoint) in (first..).zip(stored) {
            let number = checkpoint.certificate.header.number;
            if number != expected {
                return Err(fail(number, "not the next number".into()));
            }
            if number > base {
                later.push(checkpoint);
                continue;
            }
            let added = closure_added(&checkpoint.anchor, &pool, &covered);
            if base > 0 {
                for vertex in added.iter().filter_map(|id| pool.get(id)) {
                    this.pruned_txs.extend(vertex.tx_ids().iter().copied());
                }
            }
            covered.extend(added.iter().copied());
            this.covered_by.insert(number, added);
            this.remember(checkpoint);
        }
        if base > 0 {
            let header = &this
                .certified
                .get(&base)
                .ok_or_else(|| fail(base, "no stored certificate".into()))?
                .certificate
                .header;
            this.state =
                CertifiedState::from_snapshot(genesis, &this.validators, header, snapshot, covered)
                    .map_err(|e| fail(base, e.to_string()))?;
        }
        for checkpoint in later {
            this.restore_next(checkpoint, &pool)?;
        }
        Ok(this)
    }

    /// Re-derives a stored checkpoint from the stored vertices and adopts it.
    fn restore_next(
        &mut self,
        checkpoint: StoredCheckpoint,
        pool: &HashMap<VertexId, Arc<Vertex>>,
    ) -> Result<(), CheckpointError> {
        let number = checkpoint.certificate.header.number;
        let fail = |reason: String| CheckpointError::Restore { number, reason };
        if number != self.next_number() {
            return Err(fail("not the next number".into()));
        }
        self.assume_boundary(&checkpoint.anchor, pool);
        let derived = self
            .state
            .derive(
                &checkpoint.anchor,
                checkpoint.certificate.header.time_ms,
                pool,
            )
            .map_err(|e| fail(format!("{e:?}")))?;
        if derived.header != checkpoint.certificate.header {
            return Err(fail("derives another header".into()));
        }
        let covered = derived.covered().to_vec();
        self.state
            .adopt(derived)
            .map_err(|e| fail(format!("{e:?}")))?;
        self.covered_by.insert(number, covered);
        self.remember(checkpoint);
        Ok(())
    }

    /// The full state as of the latest adopted checkpoint.
    pub fn state_snapshot(&self) -> StateSnapshot {
        self.state.snapshot()
    }

    /// What changed in the state stored `lag` checkpoints behind the latest
    /// (see `CertifiedState::take_delta`), to store with the next adoption.
    pub fn take_state_delta(&mut self, lag: u64) -> Option<StateDelta> {
        self.state.take_delta(lag)
    }

    /// Whether transaction `id` was included before the state this follower
    /// restarted from (its proof is not served).
    pub fn proof_pruned(&self, id: &TxId) -> bool {
        self.pruned_txs.contains(id)
    }

    /// Whether the transaction that used `(from, nonce)` was included before
    /// the state this follower restarted from (its proof is not served).
    pub fn nonce_proof_pruned(&self, from: &Address, nonce: u64) -> bool {
        self.state.nonce_proof_pruned(from, nonce)
    }

    /// The checkpoint number to fetch next.
    pub fn next_number(&self) -> u64 {
        self.state.latest().number + 1
    }

    /// Checks an offered checkpoint with the signed vertices it adds and
    /// adopts it if everything holds (see the module docs).
    pub fn offer(
        &mut self,
        checkpoint: StoredCheckpoint,
        vertex_bytes: &[Arc<[u8]>],
    ) -> Result<Adopted, Refusal> {
        let header = &checkpoint.certificate.header;
        let expected = self.next_number();
        if header.number != expected {
            return Err(Refusal::WrongNumber {
                expected,
                got: header.number,
            });
        }
        checkpoint
            .certificate
            .verify(&self.validators)
            .map_err(|e| Refusal::Certificate(e.to_string()))?;
        if anchor_hash(&checkpoint.anchor.iter().map(|v| v.0).collect::<Vec<_>>()) != header.anchor
        {
            return Err(Refusal::Anchor);
        }
        let mut offered: HashMap<VertexId, Arc<Vertex>> = HashMap::new();
        for (index, bytes) in vertex_bytes.iter().enumerate() {
            let bad = |reason: String| Refusal::Vertex { index, reason };
            let vertex = Vertex::decode(bytes).map_err(|e| bad(e.to_string()))?;
            if vertex.chain_id() != self.chain_id {
                return Err(bad("belongs to another chain".into()));
            }
            let key = self
                .keys
                .get(vertex.issuer().0 as usize)
                .ok_or_else(|| bad("issuer is not a genesis validator".into()))?;
            vertex
                .verify_signature(key)
                .map_err(|_| bad("bad issuer signature".into()))?;
            if self.state.is_covered(&vertex.id()) {
                return Err(bad("already covered by an earlier checkpoint".into()));
            }
            if offered.insert(vertex.id(), Arc::new(vertex)).is_some() {
                return Err(bad("offered twice".into()));
            }
        }
        let boundary = self.assume_boundary(&checkpoint.anchor, &offered);
        let derived = self
            .state
            .derive(&checkpoint.anchor, header.time_ms, &offered)
            .map_err(|e| match e {
                DeriveError::Pending(ruv_consensus::checkpoint::Pending::Missing(id)) => {
                    Refusal::Missing(id)
                }
                DeriveError::Invalid(reason) => Refusal::Invalid(reason),
            })
            .and_then(|derived| {
                if derived.covered().len() != offered.len() {
                    Err(Refusal::Extra(offered.len() - derived.covered().len()))
                } else if derived.header != *header {
                    Err(Refusal::Header)
                } else {
                    Ok(derived)
                }
            });
        let derived = match derived {
            Ok(derived) => derived,
            Err(refusal) => {
                self.state.forget_assumed(&boundary);
                return Err(refusal);
            }
        };
        let number = header.number;
        let covered = derived.covered().to_vec();
        self.state
            .adopt(derived)
            .map_err(|e| Refusal::Invalid(format!("{e:?}")))?;
        let mut vertices = Vec::with_capacity(covered.len());
        let mut transactions = Vec::new();
        for id in &covered {
            if let Some(vertex) = offered.remove(id) {
                transactions.extend(
                    vertex
                        .tx_ids()
                        .iter()
                        .filter(|t| self.state.included_in(t) == Some(number))
                        .copied(),
                );
                vertices.push(vertex);
            }
        }
        transactions.sort_unstable();
        transactions.dedup();
        self.covered_by.insert(number, covered);
        self.remember(checkpoint.clone());
        Ok(Adopted {
            checkpoint,
            vertices,
            changed: self.state.latest_changes().to_vec(),
            transactions,
        })
    }

    /// The latest adopted checkpoint.
    pub fn latest(&self) -> Option<&StoredCheckpoint> {
        self.certified.values().next_back()
    }

    /// Transactions included by the adopted checkpoints.
    pub fn included_count(&self) -> u64 {
        self.included_total
    }

    /// An adopted checkpoint by number, if it is one of the latest
    /// [`CERTIFIED_IN_MEMORY`] (older ones are in the database).
    pub fn certified(&self, number: u64) -> Option<&StoredCheckpoint> {
        self.certified.get(&number)
    }

    /// Records an adopted checkpoint, keeping the latest
    /// [`CERTIFIED_IN_MEMORY`] in memory.
    fn remember(&mut self, checkpoint: StoredCheckpoint) {
        self.included_total += checkpoint.certificate.header.transaction_count;
        self.certified
            .insert(checkpoint.certificate.header.number, checkpoint);
        while self.certified.len() > CERTIFIED_IN_MEMORY {
            self.certified.pop_first();
        }
    }

    /// The vertices checkpoint `number` added, in application order (their
    /// bodies are in the database, not here).
    pub fn covered_vertices(&self, number: u64) -> Option<&[VertexId]> {
        self.covered_by.get(&number).map(Vec::as_slice)
    }

    /// The ledger as of the latest adopted checkpoint.
    pub fn ledger(&self) -> &Ledger {
        self.state.ledger()
    }

    /// The checkpoint a transaction was first included in.
    pub fn included_in(&self, id: &TxId) -> Option<u64> {
        self.state.included_in(id)
    }

    /// An account with its proof (None before the first checkpoint).
    pub fn prove_account(&mut self, address: &Address) -> Option<AccountProof> {
        self.latest()?;
        Some(self.state.prove_account(address))
    }

    /// A transaction's inclusion proof.
    pub fn prove_transaction(&mut self, id: &TxId) -> Option<TransactionProof> {
        self.state.prove_transaction(id)
    }

    /// The inclusion proof of the transaction that used `nonce` of `from`.
    pub fn prove_nonce(&mut self, from: &Address, nonce: u64) -> Option<TransactionProof> {
        self.state.prove_nonce(from, nonce)
    }

    /// A page of an account's history with inclusion proofs, newest first
    /// (as a validator serves it: `CertifiedState::history`).
    pub fn history<E>(
        &mut self,
        address: &Address,
        before: Option<u64>,
        limit: usize,
        bodies: impl FnOnce(&[Option<TxLocation>]) -> Result<Vec<Option<SignedTransfer>>, E>,
    ) -> Result<ruv_protocol::api::AccountHistory, E> {
        self.state
            .history(address, before, limit, &self.covered_by, bodies)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ruv_protocol::checkpoint::{Certificate, CheckpointHeader, Hash32};
    use ruv_protocol::SigningKey;

    struct Net {
        genesis: Genesis,
        keys: Vec<SigningKey>,
        _dir: tempfile::TempDir,
    }

    fn net() -> Net {
        let dir = tempfile::tempdir().unwrap();
        let files = crate::devnet::init(dir.path(), 4).unwrap();
        let genesis =
            Genesis::from_json(&std::fs::read_to_string(&files.genesis).unwrap()).unwrap();
        let keys = files
            .relay_keys
            .iter()
            .map(|k| crate::keys::load(k).unwrap())
            .collect();
        Net {
            genesis,
            keys,
            _dir: dir,
        }
    }

    /// The heartbeat checkpoint after `core`'s latest, as honest validators derive it.
    fn heartbeat(net: &Net, core: &FollowerCore) -> CheckpointHeader {
        let validators = ValidatorSet::from_genesis(&net.genesis).unwrap();
        let mut state = CertifiedState::genesis(&net.genesis, &validators).unwrap();
        assert_eq!(core.next_number(), 1);
        state.derive(&[], 1_000, &HashMap::new()).unwrap().header
    }

    fn certify(net: &Net, header: CheckpointHeader, signers: &[u16]) -> StoredCheckpoint {
        let signatures = signers
            .iter()
            .map(|i| {
                header
                    .sign_precommit(0, &net.keys[*i as usize], [7; 32])
                    .unwrap()
            })
            .collect();
        StoredCheckpoint {
            certificate: Certificate {
                header,
                round: 0,
                validator_count: net.keys.len() as u16,
                signers: signers.to_vec(),
                signatures,
            },
            anchor: Vec::new(),
        }
    }

    #[test]
    fn adopts_only_what_a_quorum_certified_and_the_follower_derives() {
        let net = net();
        let mut core = FollowerCore::new(&net.genesis).unwrap();
        let header = heartbeat(&net, &core);

        // Two of four validators are not more than 2/3 of the stake.
        let weak = certify(&net, header.clone(), &[0, 1]);
        assert!(matches!(
            core.offer(weak, &[]),
            Err(Refusal::Certificate(_))
        ));
        // A quorum signing a header that does not follow from the vertices.
        let mut lie = header.clone();
        lie.state_root = Hash32([9; 32]);
        let lie = certify(&net, lie, &[0, 1, 2]);
        assert_eq!(core.offer(lie, &[]).unwrap_err(), Refusal::Header);
        // An anchor that is not the certified one.
        let mut moved = certify(&net, header.clone(), &[0, 1, 2]);
        moved.anchor = vec![VertexId([5; 32])];
        assert_eq!(core.offer(moved, &[]).unwrap_err(), Refusal::Anchor);
        // A certified anchor whose vertices are not offered.
        let mut needs = header.clone();
        needs.anchor = anchor_hash(&[[5; 32]]);
        let mut needs = certify(&net, needs, &[1, 2, 3]);
        needs.anchor = vec![VertexId([5; 32])];
        assert_eq!(
            core.offer(needs, &[]).unwrap_err(),
            Refusal::Missing(VertexId([5; 32]))
        );
        // A vertex that does not decode.
        let good = certify(&net, header, &[0, 1, 2]);
        assert!(matches!(
            core.offer(good.clone(), &[Arc::from(&b"junk"[..])]),
            Err(Refusal::Vertex { index: 0, .. })
        ));
        // Nothing moved; the honest checkpoint is adopted, once.
        assert!(core.latest().is_none());
        let adopted = core.offer(good.clone(), &[]).unwrap();
        assert_eq!(adopted.checkpoint, good);
        assert_eq!(core.next_number(), 2);
        assert_eq!(
            core.offer(good, &[]).unwrap_err(),
            Refusal::WrongNumber {
                expected: 2,
                got: 1
            }
        );
        assert!(core
            .prove_account(&Address::from_public_key(net.keys[0].public_key()))
            .is_some());
    }

    #[test]
    fn syncs_only_a_state_its_certified_header_commits_to() {
        let net = net();
        let at_genesis = FollowerCore::new(&net.genesis).unwrap();
        let header = heartbeat(&net, &at_genesis);
        let mut snapshot = at_genesis.state_snapshot();
        snapshot.checkpoint = 1;
        snapshot.header_id = header.id();
        let sync = |checkpoint: StoredCheckpoint, snapshot: &StateSnapshot| {
            FollowerCore::from_synced(&net.genesis, checkpoint, snapshot)
        };

        let weak = certify(&net, header.clone(), &[0, 1]);
        assert!(matches!(
            sync(weak, &snapshot),
            Err(Refusal::Certificate(_))
        ));
        let good = certify(&net, header.clone(), &[0, 1, 2]);
        let mut moved = good.clone();
        moved.anchor = vec![VertexId([5; 32])];
        assert_eq!(sync(moved, &snapshot).unwrap_err(), Refusal::Anchor);
        let mut richer = snapshot.clone();
        richer.accounts[0].1.balance += 1;
        assert!(matches!(
            sync(good.clone(), &richer),
            Err(Refusal::State(_))
        ));
        let mut missing = snapshot.clone();
        missing.accounts.pop();
        assert!(matches!(
            sync(good.clone(), &missing),
            Err(Refusal::State(_))
        ));
        let mut elsewhere = snapshot.clone();
        elsewhere.checkpoint = 2;
        assert!(sync(good.clone(), &elsewhere).is_err());

        let mut core = sync(good.clone(), &snapshot).unwrap();
        assert_eq!((core.next_number(), core.history_from()), (2, 2));
        assert_eq!(core.latest(), Some(&good));
        assert!(core.certified(1).is_some() && core.covered_vertices(1).is_none());
        let payer = snapshot.accounts[0].0;
        let proof = core.prove_account(&payer).unwrap();
        assert_eq!(
            (proof.balance, proof.nonce, proof.checkpoint),
            (
                snapshot.accounts[0].1.balance,
                snapshot.accounts[0].1.nonce,
                1
            )
        );
    }
}
