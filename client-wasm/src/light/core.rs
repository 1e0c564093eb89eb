//! The sans-IO core of the light client: what it has verified, and what a
//! new answer from a relay means given that.
//!
//! # Calling convention
//!
//! Pure methods, no I/O, no clock: the driver ([`super::LightClient`]) asks
//! relays and hands every answer to a `check_*` or `on_*` method, which
//! verifies it against the trust anchor and the checkpoints verified so far.
//! An `Err(Verdict::Lie(..))` means the relay sent what no honest relay
//! sends: the driver drops that relay and asks another.
//! `Err(Verdict::NeedCheckpoint(n))` means the answer may be fine but is
//! proven against checkpoint `n`, which the core has not verified yet: the
//! driver fetches it, hands it to [`LightCore::on_checkpoint`] and asks again.
//! Time enters as arguments (`now_unix_ms`) where freshness matters.
//!
//! # What it keeps
//!
//! The newest verified checkpoint, a bounded window of recent ones (proofs
//! may lag the newest by a little), evidence of equivocation (two validly
//! certified headers with one number: only a coalition holding more than a
//! third of the stake can make one, and the pair proves it), and the
//! (sender, nonce) of transactions submitted through this client, so a
//! rejection can be proven too (another transaction used that nonce).
//!
//! # History
//!
//! An account's history names checkpoints of any age: an inclusion, unlike a
//! balance, stays true forever, so [`MAX_PROOF_LAG`] does not apply. The
//! checkpoints history proofs name are verified on their own against the
//! trust anchor (the validator set is the genesis one, so a certificate of
//! any number verifies directly, without chaining) and kept apart from the
//! window (`historic`, at most [`MAX_HISTORIC_CHECKPOINTS`]) so they never
//! count as the newest state. A header conflicting with one verified earlier
//! is equivocation evidence, as for new checkpoints.

use ruv_protocol::api::AccountHistory;
use ruv_protocol::checkpoint::{CertifiedCheckpoint, Hash32};
use ruv_protocol::light::{
    verify_account_proof, verify_checkpoint, verify_transaction_proof, AccountProof,
    TransactionProof, TrustAnchor, VerifiedAccount, VerifiedCheckpoint, VerifiedInclusion,
    VerifyError,
};
use ruv_protocol::{Address, TxId};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet};

/// Verified checkpoints kept besides the newest (proofs may name an older one).
pub const MAX_KNOWN_CHECKPOINTS: usize = 64;
/// Checkpoints verified for history proofs, kept besides the window.
pub const MAX_HISTORIC_CHECKPOINTS: usize = 256;
/// Equivocation pairs kept (the first ones are the evidence that matters).
pub const MAX_EVIDENCE: usize = 16;
/// Submitted transactions remembered for proving their fate.
pub const MAX_SUBMISSIONS: usize = 1_024;
/// A proof may be this many checkpoints behind the newest verified one
/// (relays prove against their latest; a little lag is normal). Older proofs
/// are refused: a relay replaying an old, genuinely certified state would
/// otherwise show a balance from before a payment.
pub const MAX_PROOF_LAG: u64 = 1;
/// A newest checkpoint older than this is shown as stale: relays certify a
/// heartbeat at least every 30 s, so twice that means the client is not
/// hearing the network (or relays withhold).
pub const DEFAULT_STALE_AFTER_MS: u64 = 60_000;

/// A verified checkpoint and who sent it.
#[derive(Debug, Clone)]
pub struct Known {
    /// The verified header.
    pub checkpoint: VerifiedCheckpoint,
    /// The certificate as received (to store, or to hand over as evidence).
    pub certified: CertifiedCheckpoint,
    /// The relay it came from.
    pub relay: String,
}

/// Two validly certified headers with the same number.
#[derive(Debug, Clone, Serialize)]
pub struct Equivocation {
    /// The checkpoint number.
    pub number: String,
    /// The first certificate seen, and its relay.
    pub first: CertifiedCheckpoint,
    /// Relay of the first.
    pub first_relay: String,
    /// The conflicting one.
    pub second: CertifiedCheckpoint,
    /// Relay of the second.
    pub second_relay: String,
}

/// What a verified checkpoint changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckpointNews {
    /// It is the newest now.
    Newer,
    /// Already known, or older than the newest.
    NotNewer,
    /// It conflicts with a verified checkpoint of the same number (kept as evidence).
    Equivocation,
}

/// Why an answer was not accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The relay lied (or is broken): drop it.
    Lie(VerifyError),
    /// Validators equivocated (two certified headers with one number): the
    /// network's safety assumption is broken, so nothing is verified any
    /// more, whoever answers. Not the current relay's fault alone.
    Halted(String),
    /// Proven against checkpoint `n`, not verified here yet: fetch it first.
    NeedCheckpoint(u64),
}

/// Whether the account sent or received a history entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Received.
    In,
    /// Sent.
    Out,
    /// Sent to itself.
    #[serde(rename = "self")]
    SelfTransfer,
}

/// A history entry whose inclusion proof verified (amounts as decimal strings).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VerifiedHistoryEntry {
    /// Transaction id.
    pub id: String,
    /// Sender.
    pub from: String,
    /// Recipient.
    pub to: String,
    /// Amount (micro-rUv).
    pub amount: String,
    /// Fee (micro-rUv).
    pub fee: String,
    /// The sender's nonce.
    pub nonce: String,
    /// Memo.
    pub memo: String,
    /// Sent or received by the account asked about.
    pub direction: Direction,
    /// The certified checkpoint that includes it.
    pub checkpoint: String,
    /// That checkpoint's time (ms since the Unix epoch).
    pub checkpoint_time_ms: u64,
}

/// How fresh the newest verified checkpoint is.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Freshness {
    /// Its number.
    pub number: String,
    /// Its header id.
    pub header_id: Hash32,
    /// When it was proposed (ms since the Unix epoch).
    pub time_ms: u64,
    /// Milliseconds since then (0 if the clock is behind).
    pub age_ms: u64,
    /// Older than the stale limit.
    pub stale: bool,
    /// The relay it came from.
    pub relay: String,
}

/// The light client's verified knowledge.
#[derive(Debug)]
pub struct LightCore {
    anchor: TrustAnchor,
    known: BTreeMap<u64, Known>,
    historic: BTreeMap<u64, Known>,
    evidence: Vec<Equivocation>,
    submissions: HashMap<TxId, (Address, u64)>,
    submission_order: Vec<TxId>,
    stale_after_ms: u64,
}

impl LightCore {
    /// A core trusting `anchor` and nothing else yet.
    pub fn new(anchor: TrustAnchor, stale_after_ms: u64) -> Self {
        Self {
            anchor,
            known: BTreeMap::new(),
            historic: BTreeMap::new(),
            evidence: Vec::new(),
            submissions: HashMap::new(),
            submission_order: Vec::new(),
            stale_after_ms,
        }
    }

    /// The trust anchor.
    pub fn anchor(&self) -> &TrustAnchor {
        &self.anchor
    }

    /// Verifies a certified checkpoint from `relay` and remembers it.
    pub fn on_checkpoint(
        &mut self,
        relay: &str,
        certified: &CertifiedCheckpoint,
    ) -> Result<CheckpointNews, VerifyError> {
        let checkpoint = verify_checkpoint(&self.anchor, certified)?;
        let number = checkpoint.number();
        if let Some(news) = self.compare_seen(relay, certified, &checkpoint) {
            return Ok(news);
        }
        let newer = self.latest().is_none_or(|l| number > l.checkpoint.number());
        self.known.insert(
            number,
            Known {
                checkpoint,
                certified: certified.clone(),
                relay: relay.to_owned(),
            },
        );
        while self.known.len() > MAX_KNOWN_CHECKPOINTS {
            self.known.pop_first();
        }
        Ok(if newer {
            CheckpointNews::Newer
        } else {
            CheckpointNews::NotNewer
        })
    }

    /// Against a checkpoint verified earlier with the same number (in the
    /// window or historic): `NotNewer` if it is the same header, evidence
    /// kept if not; None if the number is new here.
    fn compare_seen(
        &mut self,
        relay: &str,
        certified: &CertifiedCheckpoint,
        checkpoint: &VerifiedCheckpoint,
    ) -> Option<CheckpointNews> {
        let number = checkpoint.number();
        let seen = self
            .known
            .get(&number)
            .or_else(|| self.historic.get(&number))?;
        if seen.checkpoint.id() == checkpoint.id() {
            return Some(CheckpointNews::NotNewer);
        }
        if self.evidence.len() < MAX_EVIDENCE {
            let evidence = Equivocation {
                number: number.to_string(),
                first: seen.certified.clone(),
                first_relay: seen.relay.clone(),
                second: certified.clone(),
                second_relay: relay.to_owned(),
            };
            self.evidence.push(evidence);
        }
        Some(CheckpointNews::Equivocation)
    }

    /// Verifies a certified checkpoint a history proof names, of any age,
    /// and keeps it apart from the window (it never becomes the newest).
    pub fn on_historic_checkpoint(
        &mut self,
        relay: &str,
        certified: &CertifiedCheckpoint,
    ) -> Result<CheckpointNews, VerifyError> {
        let checkpoint = verify_checkpoint(&self.anchor, certified)?;
        if let Some(news) = self.compare_seen(relay, certified, &checkpoint) {
            return Ok(news);
        }
        self.historic.insert(
            checkpoint.number(),
            Known {
                checkpoint,
                certified: certified.clone(),
                relay: relay.to_owned(),
            },
        );
        while self.historic.len() > MAX_HISTORIC_CHECKPOINTS {
            self.historic.pop_first();
        }
        Ok(CheckpointNews::NotNewer)
    }

    /// Checks a page of `address`'s history asked for with cursor `before`:
    /// every entry's proof names its transfer, the address sends or receives
    /// it, entries are newest first and distinct, the cursor moves back, and
    /// each proof verifies against its certified checkpoint (fetched through
    /// [`LightCore::on_historic_checkpoint`] when `NeedCheckpoint`).
    pub fn check_history(
        &self,
        address: &Address,
        before: Option<u64>,
        page: &AccountHistory,
    ) -> Result<Vec<VerifiedHistoryEntry>, Verdict> {
        self.halted()?;
        let lie = |why: String| Verdict::Lie(VerifyError::Proof(why));
        if page.address != *address {
            return Err(lie(format!(
                "history of {} instead of {address}",
                page.address
            )));
        }
        if let Some(next) = page.next {
            if page.entries.is_empty() || before.is_some_and(|b| next >= b) {
                return Err(lie(format!("history cursor {next} does not move back")));
            }
        }
        let mut seen = HashSet::new();
        let mut previous = u64::MAX;
        let mut entries = Vec::with_capacity(page.entries.len());
        for entry in &page.entries {
            let (transfer, proof) = (&entry.transaction.transfer, &entry.proof);
            let id = entry.transaction.id();
            if proof.id != id {
                return Err(lie(format!(
                    "history entry {id} carries a proof about {}",
                    proof.id
                )));
            }
            if (proof.from, proof.nonce) != (transfer.from, transfer.nonce) {
                return Err(lie(format!(
                    "history entry {id}: the proof names another sender or nonce"
                )));
            }
            if transfer.from != *address && transfer.to != *address {
                return Err(lie(format!(
                    "history entry {id} neither pays nor is paid by {address}"
                )));
            }
            if proof.checkpoint > previous || !seen.insert(id) {
                return Err(lie(
                    "history entries are not distinct and newest first".into()
                ));
            }
            previous = proof.checkpoint;
            let checkpoint = self.permanent(proof.checkpoint)?;
            verify_transaction_proof(checkpoint, proof).map_err(Verdict::Lie)?;
            let direction = match (transfer.from == *address, transfer.to == *address) {
                (true, true) => Direction::SelfTransfer,
                (true, false) => Direction::Out,
                _ => Direction::In,
            };
            entries.push(VerifiedHistoryEntry {
                id: id.to_string(),
                from: transfer.from.to_string(),
                to: transfer.to.to_string(),
                amount: transfer.amount.to_string(),
                fee: transfer.fee.to_string(),
                nonce: transfer.nonce.to_string(),
                memo: transfer.memo.clone(),
                direction,
                checkpoint: proof.checkpoint.to_string(),
                checkpoint_time_ms: checkpoint.header().time_ms,
            });
        }
        Ok(entries)
    }

    /// The newest verified checkpoint.
    pub fn latest(&self) -> Option<&Known> {
        self.known.values().next_back()
    }

    /// A verified checkpoint by number (within the kept window).
    pub fn checkpoint(&self, number: u64) -> Option<&VerifiedCheckpoint> {
        self.known.get(&number).map(|k| &k.checkpoint)
    }

    /// How fresh the newest verified checkpoint is at `now_unix_ms`.
    pub fn freshness(&self, now_unix_ms: u64) -> Option<Freshness> {
        let latest = self.latest()?;
        let header = latest.checkpoint.header();
        let age_ms = now_unix_ms.saturating_sub(header.time_ms);
        Some(Freshness {
            number: header.number.to_string(),
            header_id: latest.checkpoint.id(),
            time_ms: header.time_ms,
            age_ms,
            stale: age_ms > self.stale_after_ms,
            relay: latest.relay.clone(),
        })
    }

    /// Equivocation evidence collected so far.
    pub fn evidence(&self) -> &[Equivocation] {
        &self.evidence
    }

    /// Err once validators are proven to have equivocated.
    fn halted(&self) -> Result<(), Verdict> {
        match self.evidence.first() {
            Some(e) => Err(Verdict::Halted(format!(
                "validators signed two different checkpoints with number {} (relays {} and {}): \
                 more than a third of the stake is faulty, nothing can be verified on this network",
                e.number, e.first_relay, e.second_relay
            ))),
            None => Ok(()),
        }
    }

    fn against(&self, number: u64) -> Result<&VerifiedCheckpoint, Verdict> {
        self.halted()?;
        if let Some(latest) = self.latest() {
            let newest = latest.checkpoint.number();
            if number.saturating_add(MAX_PROOF_LAG) < newest {
                return Err(Verdict::Lie(VerifyError::Proof(format!(
                    "proof against checkpoint {number} while {newest} is certified"
                ))));
            }
        }
        if let Some(checkpoint) = self.checkpoint(number) {
            return Ok(checkpoint);
        }
        match self.known.keys().next() {
            // Older than the kept window: cannot be checked here.
            Some(oldest) if number < *oldest => Err(Verdict::Lie(VerifyError::Proof(format!(
                "proof against checkpoint {number}, older than every checkpoint kept"
            )))),
            _ => Err(Verdict::NeedCheckpoint(number)),
        }
    }

    /// Checks an account proof.
    pub fn check_account(&self, proof: &AccountProof) -> Result<VerifiedAccount, Verdict> {
        let checkpoint = self.against(proof.checkpoint)?;
        verify_account_proof(checkpoint, proof).map_err(Verdict::Lie)
    }

    /// A verified checkpoint for a proof of a permanent fact (an
    /// inclusion): any age, from the window or the historic store.
    fn permanent(&self, number: u64) -> Result<&VerifiedCheckpoint, Verdict> {
        self.halted()?;
        self.known
            .get(&number)
            .or_else(|| self.historic.get(&number))
            .map(|k| &k.checkpoint)
            .ok_or(Verdict::NeedCheckpoint(number))
    }

    /// Checks a transaction inclusion proof for transaction `id`. An
    /// inclusion stays true, so the proof may name a checkpoint of any age
    /// (`NeedCheckpoint`: verify it with [`LightCore::on_historic_checkpoint`]).
    pub fn check_inclusion(
        &self,
        id: &TxId,
        proof: &TransactionProof,
    ) -> Result<VerifiedInclusion, Verdict> {
        if proof.id != *id {
            return Err(Verdict::Lie(VerifyError::Proof(format!(
                "asked about {id}, got a proof about {}",
                proof.id
            ))));
        }
        let checkpoint = self.permanent(proof.checkpoint)?;
        verify_transaction_proof(checkpoint, proof).map_err(Verdict::Lie)
    }

    /// Checks a proof that another transaction used the nonce of submitted
    /// transaction `id`: its rejection, proven. `Ok(None)` if `id` was not
    /// submitted through this client (its sender and nonce are unknown).
    pub fn check_nonce_taken(
        &self,
        id: &TxId,
        proof: &TransactionProof,
    ) -> Result<Option<VerifiedInclusion>, Verdict> {
        let Some((from, nonce)) = self.submissions.get(id).copied() else {
            return Ok(None);
        };
        if proof.from != from || proof.nonce != nonce {
            return Err(Verdict::Lie(VerifyError::Proof(
                "the proof is about another sender or nonce".into(),
            )));
        }
        let checkpoint = self.against(proof.checkpoint)?;
        verify_transaction_proof(checkpoint, proof)
            .map(Some)
            .map_err(Verdict::Lie)
    }

    /// Remembers a submitted transaction's sender and nonce.
    pub fn remember_submission(&mut self, id: TxId, from: Address, nonce: u64) {
        if self.submissions.insert(id, (from, nonce)).is_none() {
            self.submission_order.push(id);
            if self.submission_order.len() > MAX_SUBMISSIONS {
                let oldest = self.submission_order.remove(0);
                self.submissions.remove(&oldest);
            }
        }
    }

    /// The sender and nonce of a transaction submitted through this client.
    pub fn submission(&self, id: &TxId) -> Option<(Address, u64)> {
        self.submissions.get(id).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ruv_protocol::checkpoint::{Certificate, CheckpointHeader};
    use ruv_protocol::SigningKey;

    const VECTORS: &str = include_str!("../../../protocol/tests/vectors/light.json");

    struct Fixture {
        core: LightCore,
        checkpoint: CertifiedCheckpoint,
        present: AccountProof,
        absent: AccountProof,
        transaction: TransactionProof,
    }

    fn fixture() -> Fixture {
        let v: serde_json::Value = serde_json::from_str(VECTORS).unwrap();
        let anchor = TrustAnchor::from_genesis_json(v["genesis"].as_str().unwrap()).unwrap();
        let take = |k: &str| v[k].clone();
        Fixture {
            core: LightCore::new(anchor, DEFAULT_STALE_AFTER_MS),
            checkpoint: serde_json::from_value(take("checkpoint")).unwrap(),
            present: serde_json::from_value(take("account_present")).unwrap(),
            absent: serde_json::from_value(take("account_absent")).unwrap(),
            transaction: serde_json::from_value(take("transaction")).unwrap(),
        }
    }

    /// The fixture's header changed by `edit`, certified by validators 0, 1
    /// and 2 (the vectors' keys are public: `from_seed([i + 1; 32])`).
    fn resigned(
        certified: &CertifiedCheckpoint,
        edit: impl Fn(&mut CheckpointHeader),
    ) -> CertifiedCheckpoint {
        let mut header = certified.header.clone();
        edit(&mut header);
        let rounds = [certified.round; 3];
        precommitted(header, rounds)
    }

    /// `header` precommitted by validators 0, 1 and 2 in `rounds` (one
    /// each), named as a certificate of the first one's round.
    fn precommitted(header: CheckpointHeader, rounds: [u32; 3]) -> CertifiedCheckpoint {
        let signatures = (0u8..3)
            .map(|i| {
                header
                    .sign_precommit(
                        rounds[i as usize],
                        &SigningKey::from_seed(&[i + 1; 32]),
                        [9; 32],
                    )
                    .unwrap()
            })
            .collect();
        Certificate {
            header,
            round: rounds[0],
            validator_count: 4,
            signers: vec![0, 1, 2],
            signatures,
        }
        .to_json()
    }

    #[test]
    fn proofs_wait_for_their_checkpoint_then_verify() {
        let mut f = fixture();
        assert_eq!(
            f.core.check_account(&f.present),
            Err(Verdict::NeedCheckpoint(1))
        );
        assert_eq!(
            f.core.on_checkpoint("r1", &f.checkpoint),
            Ok(CheckpointNews::Newer)
        );
        assert_eq!(
            f.core.on_checkpoint("r2", &f.checkpoint),
            Ok(CheckpointNews::NotNewer)
        );
        let account = f.core.check_account(&f.present).unwrap();
        assert_eq!(account.balance, f.present.balance);
        let absent = f.core.check_account(&f.absent).unwrap();
        assert_eq!((absent.balance, absent.nonce), (0, 0));
        let id = f.transaction.id;
        assert_eq!(
            f.core.check_inclusion(&id, &f.transaction).unwrap().nonce,
            f.transaction.nonce
        );
    }

    #[test]
    fn every_lie_is_a_lie_verdict() {
        let mut f = fixture();
        f.core.on_checkpoint("r1", &f.checkpoint).unwrap();
        let mut richer = f.present.clone();
        richer.balance += 1;
        assert!(matches!(
            f.core.check_account(&richer),
            Err(Verdict::Lie(_))
        ));
        let mut claimed = f.absent.clone();
        claimed.balance = 5;
        assert!(matches!(
            f.core.check_account(&claimed),
            Err(Verdict::Lie(_))
        ));
        let other = TxId([7; 32]);
        assert!(matches!(
            f.core.check_inclusion(&other, &f.transaction),
            Err(Verdict::Lie(_))
        ));
        let mut forged = f.checkpoint.clone();
        forged.header.state_root = Hash32([1; 32]);
        assert!(f.core.on_checkpoint("liar", &forged).is_err());
    }

    #[test]
    fn precommits_from_mixed_or_other_rounds_are_no_certificate() {
        let mut f = fixture();
        let round = f.checkpoint.round;
        let header = f.checkpoint.header.clone();
        // Validator 2 precommitted in the next round: 2 of 4 in the named one.
        let mixed = precommitted(header.clone(), [round, round, round + 1]);
        assert!(f.core.on_checkpoint("liar", &mixed).is_err());
        // The genuine precommits, relabeled with another round.
        let mut relabeled = f.checkpoint.clone();
        relabeled.round = round + 1;
        assert!(f.core.on_checkpoint("liar", &relabeled).is_err());
        // None of that was adopted or taken as evidence; one round verifies.
        assert!(f.core.evidence().is_empty());
        let whole = precommitted(header, [round + 1; 3]);
        assert!(f.core.on_checkpoint("r1", &whole).is_ok());
    }

    #[test]
    fn a_second_certified_header_with_the_same_number_is_evidence() {
        let mut f = fixture();
        f.core.on_checkpoint("honest", &f.checkpoint).unwrap();
        let conflicting = resigned(&f.checkpoint, |h| h.state_root = Hash32([3; 32]));
        assert_eq!(
            f.core.on_checkpoint("colluders", &conflicting),
            Ok(CheckpointNews::Equivocation)
        );
        let evidence = f.core.evidence();
        assert_eq!(evidence.len(), 1);
        assert_eq!(
            (
                evidence[0].first_relay.as_str(),
                evidence[0].second_relay.as_str()
            ),
            ("honest", "colluders")
        );
        // The first one stays the newest: evidence never replaces what was verified.
        assert_eq!(f.core.latest().unwrap().relay, "honest");
        // And nothing is verified any more: safety is broken.
        assert!(matches!(
            f.core.check_account(&f.present),
            Err(Verdict::Halted(_))
        ));
    }

    #[test]
    fn proofs_far_behind_the_newest_checkpoint_are_refused() {
        let mut f = fixture();
        f.core.on_checkpoint("r1", &f.checkpoint).unwrap();
        let newer = resigned(&f.checkpoint, |h| h.number = 1 + MAX_PROOF_LAG + 1);
        assert_eq!(
            f.core.on_checkpoint("r1", &newer),
            Ok(CheckpointNews::Newer)
        );
        assert!(matches!(
            f.core.check_account(&f.present),
            Err(Verdict::Lie(_))
        ));
    }

    #[test]
    fn a_taken_nonce_is_proven_only_for_our_own_submissions() {
        let mut f = fixture();
        f.core.on_checkpoint("r1", &f.checkpoint).unwrap();
        let ours = TxId([5; 32]);
        assert_eq!(f.core.check_nonce_taken(&ours, &f.transaction), Ok(None));
        f.core
            .remember_submission(ours, f.transaction.from, f.transaction.nonce);
        let taken = f
            .core
            .check_nonce_taken(&ours, &f.transaction)
            .unwrap()
            .unwrap();
        assert_eq!(taken.id, f.transaction.id);
        f.core
            .remember_submission(TxId([6; 32]), f.transaction.from, f.transaction.nonce + 1);
        assert!(matches!(
            f.core.check_nonce_taken(&TxId([6; 32]), &f.transaction),
            Err(Verdict::Lie(_))
        ));
    }

    #[test]
    fn freshness_turns_stale() {
        let mut f = fixture();
        assert!(f.core.freshness(0).is_none());
        f.core.on_checkpoint("r1", &f.checkpoint).unwrap();
        let time = f.checkpoint.header.time_ms;
        assert!(!f.core.freshness(time + 1_000).unwrap().stale);
        assert!(
            f.core
                .freshness(time + DEFAULT_STALE_AFTER_MS + 1)
                .unwrap()
                .stale
        );
    }

    /// Two transfers between `a` and `b` in checkpoint 5 (a resigned copy of
    /// the fixture's), as history entries of `a`, newest first.
    fn history_fixture(f: &Fixture) -> (Address, CertifiedCheckpoint, AccountHistory) {
        use ruv_protocol::api::HistoryEntry;
        use ruv_protocol::checkpoint::transaction_leaf_value;
        use ruv_protocol::smt::{SparseMerkleTree, TreeKind};
        let (a, b) = (
            SigningKey::from_seed(&[42; 32]),
            SigningKey::from_seed(&[43; 32]),
        );
        let pay = |from: &SigningKey, to: &SigningKey, nonce: u64| {
            ruv_protocol::Transfer {
                chain_id: f.checkpoint.header.chain_id.clone(),
                from: Address::from_public_key(from.public_key()),
                to: Address::from_public_key(to.public_key()),
                amount: 1_000 * nonce,
                fee: 10_000,
                nonce,
                memo: String::new(),
                public_key: from.public_key().clone(),
            }
            .sign(from, [nonce as u8; 32])
            .unwrap()
        };
        let txs = [pay(&a, &b, 1), pay(&b, &a, 1)];
        let mut tree = SparseMerkleTree::new(TreeKind::Transactions);
        for tx in &txs {
            let leaf = transaction_leaf_value(&tx.transfer.from, tx.transfer.nonce);
            tree.insert(tx.id().0, &leaf).unwrap();
        }
        let root = Hash32(tree.root());
        let certified = resigned(&f.checkpoint, |h| {
            h.number = 5;
            h.transaction_root = root;
        });
        let entries = txs
            .iter()
            .rev()
            .map(|tx| HistoryEntry {
                transaction: tx.clone(),
                proof: TransactionProof {
                    id: tx.id(),
                    from: tx.transfer.from,
                    nonce: tx.transfer.nonce,
                    checkpoint: 5,
                    proof: tree.prove(&tx.id().0).encode(),
                },
            })
            .collect();
        let address = Address::from_public_key(a.public_key());
        let page = AccountHistory {
            address,
            entries,
            next: None,
            pruned_through: None,
        };
        (address, certified, page)
    }

    #[test]
    fn history_verifies_against_old_checkpoints_kept_apart() {
        let mut f = fixture();
        let (address, old, page) = history_fixture(&f);
        // The newest checkpoint is 10: checkpoint 5 is far outside the
        // proof lag, yet inclusions in it stay provable.
        let newest = resigned(&f.checkpoint, |h| h.number = 10);
        f.core.on_checkpoint("r1", &newest).unwrap();
        assert_eq!(
            f.core.check_history(&address, None, &page),
            Err(Verdict::NeedCheckpoint(5))
        );
        assert_eq!(
            f.core.on_historic_checkpoint("r1", &old),
            Ok(CheckpointNews::NotNewer)
        );
        assert_eq!(f.core.latest().unwrap().checkpoint.number(), 10);
        let entries = f.core.check_history(&address, None, &page).unwrap();
        let directions: Vec<Direction> = entries.iter().map(|e| e.direction).collect();
        assert_eq!(directions, vec![Direction::In, Direction::Out]);
        assert_eq!(entries[1].amount, "1000");
        assert_eq!(entries[0].checkpoint, "5");

        // A conflicting certified header for 5 is evidence, and halts.
        let other = resigned(&old, |h| h.time_ms += 1);
        assert_eq!(
            f.core.on_historic_checkpoint("r2", &other),
            Ok(CheckpointNews::Equivocation)
        );
        assert!(matches!(
            f.core.check_history(&address, None, &page),
            Err(Verdict::Halted(_))
        ));
    }

    #[test]
    fn an_old_inclusion_stays_provable() {
        let mut f = fixture();
        f.core
            .on_checkpoint("r1", &resigned(&f.checkpoint, |h| h.number = 10))
            .unwrap();
        let id = f.transaction.id;
        assert_eq!(
            f.core.check_inclusion(&id, &f.transaction),
            Err(Verdict::NeedCheckpoint(1))
        );
        f.core.on_historic_checkpoint("r1", &f.checkpoint).unwrap();
        assert_eq!(
            f.core
                .check_inclusion(&id, &f.transaction)
                .unwrap()
                .checkpoint,
            1
        );
        // Balances still are not: an account proof at 1 is refused.
        assert!(matches!(
            f.core.check_account(&f.present),
            Err(Verdict::Lie(_))
        ));
    }

    #[test]
    fn forged_history_entries_are_lies() {
        let mut f = fixture();
        let (address, old, page) = history_fixture(&f);
        f.core.on_historic_checkpoint("r1", &old).unwrap();
        let lies: Vec<(&str, AccountHistory)> = vec![
            ("amount changed", {
                let mut p = page.clone();
                p.entries[0].transaction.transfer.amount += 1;
                p
            }),
            ("proof of the other entry", {
                let mut p = page.clone();
                p.entries[0].proof = page.entries[1].proof.clone();
                p
            }),
            ("proof dropped", {
                let mut p = page.clone();
                p.entries[0].proof.proof.clear();
                p
            }),
            ("duplicate", {
                let mut p = page.clone();
                p.entries[1] = p.entries[0].clone();
                p
            }),
            ("someone else's", {
                let mut p = page.clone();
                p.address = f.transaction.from;
                p
            }),
            ("cursor does not move back", {
                let mut p = page.clone();
                p.next = Some(7);
                p
            }),
        ];
        for (what, lie) in lies {
            let before = (what == "cursor does not move back").then_some(7);
            assert!(
                matches!(
                    f.core.check_history(&address, before, &lie),
                    Err(Verdict::Lie(_))
                ),
                "{what}"
            );
        }
        assert_eq!(
            f.core.check_history(&address, None, &page).unwrap().len(),
            2
        );
    }
}
