//! The undecided transactions and their conflict sets, each with its
//! Snowball instance (avalanchego's "snowstorm" layer), plus what the issuer
//! needs to know per transaction (owned here, orphaned since when, failing
//! since when), and, for a full pool, which of them a better-paying
//! transaction may evict.
//!
//! Finality is sticky (as avalanchego's snowball finalizes): once a choice
//! reaches its beta it is the set's decision, and later polls (an
//! unsuccessful one while its vertex waits for its parents, say) neither
//! reset it nor move the preference.
//!
//! Invariants kept here: every record's conflict set exists and lists it;
//! every conflict set lists only known records and is never empty; a set
//! with two choices or more is rogue (and stays rogue); a decided set's
//! decision is one of its choices and is its preference.

use super::polls::Tally;
use crate::snowball::Snowball;
use crate::vertex::VertexId;
use ruv_protocol::{Address, SignedTransfer, TxId, TxRejection};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// A conflict set: the undecided transactions spending one (sender, nonce).
pub(crate) type ConflictKey = (Address, u64);

#[derive(Debug)]
struct ConflictSet {
    choices: BTreeSet<TxId>,
    /// Ever had two choices: acceptance needs `beta_rogue`.
    rogue: bool,
    snowball: Snowball,
    /// The choice that reached its beta: final, whatever later polls say.
    decided: Option<TxId>,
    /// Rebuilt at a restart and no successful poll since: its preference
    /// is only the order the stored vertices came back in, so this relay
    /// votes for none of its choices yet.
    restored: bool,
}

impl ConflictSet {
    fn preference(&self) -> TxId {
        self.decided.unwrap_or_else(|| self.snowball.preference())
    }
}

/// An undecided transaction this relay knows.
#[derive(Debug)]
struct TxRecord {
    tx: Arc<SignedTransfer>,
    key: ConflictKey,
    /// Processing vertices that hold it.
    live_vertices: BTreeSet<VertexId>,
    /// A client submitted it here, or this relay issued it before: re-issue
    /// it without the standby delay.
    owned: bool,
    /// Set while it is in no live (virtuous, if it has no conflict) vertex:
    /// from then on this relay may issue it.
    issue_after_ms: Option<u64>,
    /// First failed attempt to issue it, and why it failed last.
    failing: Option<(u64, TxRejection)>,
}

/// Conflict-set parameters: poll thresholds and decision thresholds.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Thresholds {
    pub(crate) alpha_preference: u32,
    pub(crate) alpha_confidence: u32,
    pub(crate) beta_virtuous: u32,
    pub(crate) beta_rogue: u32,
}

/// A transaction due for issuing.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Due {
    pub(crate) id: TxId,
    /// Its conflict set has no other choice.
    pub(crate) conflict_free: bool,
    /// Since when it may be issued.
    pub(crate) after_ms: u64,
}

/// What a transaction pays per KiB of its encoding, the order in which a
/// full pool gives up transactions (lowest first). Transfers differ in size
/// only by their memo, and the minimum fee grows with size, so the rate and
/// not the fee is what a sender bids.
pub(crate) fn fee_rate(tx: &SignedTransfer) -> u64 {
    let size = tx.encoded_len().max(1) as u128;
    u64::try_from(u128::from(tx.transfer.fee) * 1024 / size).unwrap_or(u64::MAX)
}

/// The undecided transactions and their conflict sets.
#[derive(Debug, Default)]
pub(crate) struct Conflicts {
    txs: BTreeMap<TxId, TxRecord>,
    sets: BTreeMap<ConflictKey, ConflictSet>,
    /// (fee rate, id) of every transaction in no processing vertex: the
    /// ones a full pool may let go (a transaction in a vertex is the DAG's,
    /// not the pool's).
    unissued: BTreeSet<(u64, TxId)>,
    /// Processing vertices holding a transaction whose flags (preferred,
    /// alone in its set, accepted) may have changed since the engine last
    /// took them ([`Conflicts::take_flag_changes`]): only these get their
    /// DAG flags recomputed.
    flag_changes: Vec<VertexId>,
    /// Transactions whose orphan mark may be out of date: registered, their
    /// live vertices or conflict set changed, an issuing attempt failed, or
    /// (marked by the engine) a live vertex's virtuous flag changed. Every
    /// other record is as [`Conflicts::update_orphans`] would leave it.
    orphan_dirty: BTreeSet<TxId>,
}

impl Conflicts {
    pub(crate) fn contains(&self, id: &TxId) -> bool {
        self.txs.contains_key(id)
    }

    pub(crate) fn len(&self) -> usize {
        self.txs.len()
    }

    pub(crate) fn tx(&self, id: &TxId) -> Option<&Arc<SignedTransfer>> {
        self.txs.get(id).map(|r| &r.tx)
    }

    /// The conflict set a known transaction belongs to.
    pub(crate) fn key_of(&self, id: &TxId) -> Option<ConflictKey> {
        self.txs.get(id).map(|r| r.key)
    }

    /// Starts tracking an undecided transaction (its checks passed).
    pub(crate) fn register(&mut self, id: TxId, tx: Arc<SignedTransfer>, owned: bool) {
        let key = (tx.transfer.from, tx.transfer.nonce);
        let set = self.sets.entry(key).or_insert_with(|| ConflictSet {
            choices: BTreeSet::new(),
            rogue: false,
            snowball: Snowball::new(id),
            decided: None,
            restored: false,
        });
        set.choices.insert(id);
        self.orphan_dirty.extend(set.choices.iter().copied());
        if set.choices.len() > 1 {
            set.rogue = true;
            // The others are no longer alone in their set.
            for choice in &set.choices {
                if let Some(record) = self.txs.get(choice) {
                    self.flag_changes
                        .extend(record.live_vertices.iter().copied());
                }
            }
        }
        self.unissued.insert((fee_rate(&tx), id));
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
    }

    /// A client submitted a known transaction here: this relay issues it
    /// (at once if it waits out the standby delay). False if unknown.
    pub(crate) fn claim(&mut self, id: &TxId, now_ms: u64) -> bool {
        let Some(record) = self.txs.get_mut(id) else {
            return false;
        };
        record.owned = true;
        self.orphan_dirty.insert(*id);
        if let Some(after) = record.issue_after_ms.as_mut() {
            *after = (*after).min(now_ms);
        }
        true
    }

    /// This relay issued the transaction in a vertex of its own.
    pub(crate) fn set_owned(&mut self, id: &TxId) {
        if let Some(record) = self.txs.get_mut(id) {
            record.owned = true;
            self.orphan_dirty.insert(*id);
        }
    }

    /// Takes the vertices whose transactions' flags may have changed.
    pub(crate) fn take_flag_changes(&mut self) -> Vec<VertexId> {
        std::mem::take(&mut self.flag_changes)
    }

    /// The processing vertices holding a known transaction.
    pub(crate) fn live_vertices(&self, id: &TxId) -> impl Iterator<Item = &VertexId> + '_ {
        self.txs
            .get(id)
            .into_iter()
            .flat_map(|r| r.live_vertices.iter())
    }

    pub(crate) fn add_live_vertex(&mut self, id: &TxId, vertex: VertexId) {
        if let Some(record) = self.txs.get_mut(id) {
            self.orphan_dirty.insert(*id);
            if record.live_vertices.is_empty() {
                self.unissued.remove(&(fee_rate(&record.tx), *id));
            }
            record.live_vertices.insert(vertex);
        }
    }

    pub(crate) fn remove_live_vertex(&mut self, id: &TxId, vertex: &VertexId) {
        if let Some(record) = self.txs.get_mut(id) {
            self.orphan_dirty.insert(*id);
            if record.live_vertices.remove(vertex) && record.live_vertices.is_empty() {
                self.unissued.insert((fee_rate(&record.tx), *id));
            }
        }
    }

    /// The transaction a full pool gives up for one paying `rate`: the
    /// lowest-paying one in no processing vertex, if it pays strictly less
    /// (ties keep what came first).
    pub(crate) fn eviction_candidate(&self, rate: u64) -> Option<TxId> {
        self.unissued
            .first()
            .filter(|(lowest, _)| *lowest < rate)
            .map(|(_, id)| *id)
    }

    /// `winner` was accepted: forgets it and its conflict set; returns the
    /// other choices, which the caller rejects.
    pub(crate) fn resolve(&mut self, winner: &TxId) -> Vec<TxId> {
        let Some(record) = self.txs.remove(winner) else {
            return Vec::new();
        };
        // Accepted now: its other holders read it as preferred and virtuous.
        self.flag_changes
            .extend(record.live_vertices.iter().copied());
        self.unissued.remove(&(fee_rate(&record.tx), *winner));
        let Some(set) = self.sets.remove(&record.key) else {
            return Vec::new();
        };
        set.choices.into_iter().filter(|c| c != winner).collect()
    }

    /// Forgets a rejected transaction; returns the processing vertices that
    /// held it (None if it was not known).
    pub(crate) fn remove(&mut self, id: &TxId) -> Option<BTreeSet<VertexId>> {
        let record = self.txs.remove(id)?;
        self.unissued.remove(&(fee_rate(&record.tx), *id));
        if let Some(set) = self.sets.get_mut(&record.key) {
            set.choices.remove(id);
            if set.decided == Some(*id) {
                set.decided = None;
            }
            if set.choices.is_empty() {
                self.sets.remove(&record.key);
            } else {
                let remaining: Vec<TxId> = set.choices.iter().copied().collect();
                set.snowball.remove_choice(id, remaining.iter().copied());
                // Fewer choices, maybe another preference.
                self.orphan_dirty.extend(remaining.iter().copied());
                for choice in &remaining {
                    if let Some(other) = self.txs.get(choice) {
                        self.flag_changes
                            .extend(other.live_vertices.iter().copied());
                    }
                }
            }
        }
        Some(record.live_vertices)
    }

    /// Preferred in its set, and alone in it (None if unknown). A choice
    /// of a rogue set rebuilt at a restart is not preferred until a poll
    /// succeeded for the set.
    pub(crate) fn flags(&self, id: &TxId) -> Option<(bool, bool)> {
        let set = self.txs.get(id).and_then(|r| self.sets.get(&r.key))?;
        let unsettled = set.restored && set.choices.len() > 1;
        Some((
            !unsettled && set.preference() == *id,
            set.choices.len() == 1,
        ))
    }

    /// Every conflict set now known was rebuilt at a restart.
    pub(crate) fn mark_restored(&mut self) {
        for set in self.sets.values_mut() {
            set.restored = true;
        }
        for record in self.txs.values() {
            self.flag_changes
                .extend(record.live_vertices.iter().copied());
        }
    }

    /// Its conflict set decided for it: it once had `beta` consecutive
    /// successful polls (`beta_rogue` if the set was rogue by then).
    pub(crate) fn decided(&self, id: &TxId) -> bool {
        self.txs
            .get(id)
            .and_then(|r| self.sets.get(&r.key))
            .is_some_and(|set| set.decided == Some(*id))
    }

    /// Records one poll in every undecided conflict set its answers
    /// reached: the votes per transaction it got (a reached set with too few
    /// records an unsuccessful round). A set no answer reached records
    /// nothing: the poll says nothing about it. Returns the choices this
    /// poll decided (their vertices may have become acceptable).
    pub(crate) fn record_poll(&mut self, tally: &Tally, thresholds: &Thresholds) -> Vec<TxId> {
        let mut decided = Vec::new();
        let mut moved: Vec<ConflictKey> = Vec::new();
        for (key, set) in self.sets.iter_mut() {
            if set.decided.is_some() || !tally.reached.contains(key) {
                continue;
            }
            let before = (set.preference(), set.restored);
            let best = tally.counts.get(key).and_then(|votes| {
                // Most votes; ties (only possible below alpha) go to the lower id.
                votes
                    .iter()
                    .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
                    .map(|(id, n)| (*id, *n))
            });
            let Some((choice, votes)) = best else {
                set.snowball.record_unsuccessful();
                continue;
            };
            set.snowball.record(
                choice,
                votes,
                thresholds.alpha_preference,
                thresholds.alpha_confidence,
            );
            if votes >= thresholds.alpha_preference {
                set.restored = false;
            }
            let beta = if set.rogue {
                thresholds.beta_rogue
            } else {
                thresholds.beta_virtuous
            };
            if set.snowball.confidence_in(&choice) >= beta {
                set.decided = Some(choice);
                decided.push(choice);
            }
            if (set.preference(), set.restored) != before {
                moved.push(*key);
            }
        }
        // A set whose preference moved (or that settled after a restart)
        // changes the flags of every vertex holding one of its choices.
        for key in moved {
            for choice in self.sets.get(&key).into_iter().flat_map(|s| &s.choices) {
                if let Some(record) = self.txs.get(choice) {
                    self.flag_changes
                        .extend(record.live_vertices.iter().copied());
                }
            }
        }
        decided
    }

    /// Marks transactions that need a (new) vertex: a conflict-free one in no
    /// virtuous vertex, or a conflicting one in no live vertex at all.
    /// A live vertex of this transaction changed its virtuous flag.
    pub(crate) fn mark_orphan_dirty(&mut self, id: &TxId) {
        if self.txs.contains_key(id) {
            self.orphan_dirty.insert(*id);
        }
    }

    /// [`Conflicts::update_orphans`] for the transactions whose mark may be
    /// out of date only (the others would not change): what it costs
    /// follows what changed, not how many transactions are undecided.
    /// Debug builds check that no other record would change.
    pub(crate) fn update_orphans_changed(
        &mut self,
        now_ms: u64,
        standby_delay_ms: u64,
        is_virtuous: impl Fn(&VertexId) -> bool,
    ) {
        for id in std::mem::take(&mut self.orphan_dirty) {
            let conflict_free = self.conflict_free(&id);
            if let Some(record) = self.txs.get_mut(&id) {
                Self::update_orphan(
                    record,
                    conflict_free,
                    now_ms,
                    standby_delay_ms,
                    &is_virtuous,
                );
            }
        }
        #[cfg(debug_assertions)]
        for (id, record) in &self.txs {
            let conflict_free = self.conflict_free(id);
            let orphan = Self::is_orphan(record, conflict_free, &is_virtuous);
            debug_assert!(
                if orphan {
                    record.issue_after_ms.is_some()
                } else {
                    record.issue_after_ms.is_none() && record.failing.is_none()
                },
                "orphan mark of {id} is out of date"
            );
        }
    }

    fn conflict_free(&self, id: &TxId) -> bool {
        self.txs
            .get(id)
            .and_then(|r| self.sets.get(&r.key))
            .is_some_and(|s| s.choices.len() == 1)
    }

    fn is_orphan(
        record: &TxRecord,
        conflict_free: bool,
        is_virtuous: impl Fn(&VertexId) -> bool,
    ) -> bool {
        if conflict_free {
            !record.live_vertices.iter().any(is_virtuous)
        } else {
            record.live_vertices.is_empty()
        }
    }

    fn update_orphan(
        record: &mut TxRecord,
        conflict_free: bool,
        now_ms: u64,
        standby_delay_ms: u64,
        is_virtuous: impl Fn(&VertexId) -> bool,
    ) {
        if Self::is_orphan(record, conflict_free, is_virtuous) {
            if record.issue_after_ms.is_none() {
                let delay = if record.owned { 0 } else { standby_delay_ms };
                record.issue_after_ms = Some(now_ms.saturating_add(delay));
            }
        } else {
            record.issue_after_ms = None;
            record.failing = None;
        }
    }

    /// Every transaction, as before issue 9 (the benchmark's baseline).
    pub(crate) fn update_orphans(
        &mut self,
        now_ms: u64,
        standby_delay_ms: u64,
        is_virtuous: impl Fn(&VertexId) -> bool,
    ) {
        self.orphan_dirty.clear();
        for record in self.txs.values_mut() {
            let conflict_free = self
                .sets
                .get(&record.key)
                .is_some_and(|s| s.choices.len() == 1);
            Self::update_orphan(
                record,
                conflict_free,
                now_ms,
                standby_delay_ms,
                &is_virtuous,
            );
        }
    }

    /// Transactions this relay may issue now, in id order.
    pub(crate) fn due(&self, now_ms: u64) -> Vec<Due> {
        self.txs
            .iter()
            .filter_map(|(id, r)| {
                let after = r.issue_after_ms?;
                (after <= now_ms).then(|| Due {
                    id: *id,
                    conflict_free: self.sets.get(&r.key).is_some_and(|s| s.choices.len() == 1),
                    after_ms: after,
                })
            })
            .collect()
    }

    /// The earliest time an orphan becomes due (None if there is none).
    pub(crate) fn next_due_ms(&self) -> Option<u64> {
        self.txs.values().filter_map(|r| r.issue_after_ms).min()
    }

    /// An attempt to issue the transaction failed for `reason`.
    pub(crate) fn record_failure(&mut self, id: &TxId, now_ms: u64, reason: TxRejection) {
        if let Some(record) = self.txs.get_mut(id) {
            self.orphan_dirty.insert(*id);
            let since = record.failing.as_ref().map_or(now_ms, |(since, _)| *since);
            record.failing = Some((since, reason));
        }
    }

    /// Transactions in no live vertex that failed to issue for `ttl_ms`.
    pub(crate) fn expired_failures(&self, now_ms: u64, ttl_ms: u64) -> Vec<(TxId, TxRejection)> {
        self.txs
            .iter()
            .filter(|(_, r)| r.live_vertices.is_empty())
            .filter_map(|(id, r)| {
                let (since, reason) = r.failing.as_ref()?;
                (since.saturating_add(ttl_ms) <= now_ms).then(|| (*id, reason.clone()))
            })
            .collect()
    }

    /// The earliest time a failing transaction may expire (None if none).
    pub(crate) fn next_failure_expiry_ms(&self, ttl_ms: u64) -> Option<u64> {
        self.txs
            .values()
            .filter(|r| r.live_vertices.is_empty())
            .filter_map(|r| {
                r.failing
                    .as_ref()
                    .map(|(since, _)| since.saturating_add(ttl_ms))
            })
            .min()
    }

    /// One line per transaction, then one per live vertex holding it
    /// (`vertex_flags` gives its preferred / virtuous flags).
    pub(crate) fn report(
        &self,
        report: &mut String,
        vertex_flags: impl Fn(&VertexId) -> Option<(bool, bool)>,
    ) {
        use std::fmt::Write;
        for (id, record) in &self.txs {
            let set = self.sets.get(&record.key);
            let _ = write!(
                report,
                "\n  tx {id:?} nonce {} owned {} issue_after {:?} failing {:?} choices {} rogue {} preferred {} confidence {} decided {}",
                record.key.1,
                record.owned,
                record.issue_after_ms,
                record.failing,
                set.map_or(0, |s| s.choices.len()),
                set.is_some_and(|s| s.rogue),
                set.is_some_and(|s| s.preference() == *id),
                set.map_or(0, |s| s.snowball.confidence_in(id)),
                set.is_some_and(|s| s.decided == Some(*id)),
            );
            for vertex in &record.live_vertices {
                let flags = vertex_flags(vertex);
                let _ = write!(
                    report,
                    "\n      in {vertex:?} preferred {} virtuous {}",
                    flags.is_some_and(|f| f.0),
                    flags.is_some_and(|f| f.1)
                );
            }
        }
    }

    /// The invariants above, checked in full (debug builds).
    #[cfg(debug_assertions)]
    pub(crate) fn assert_consistent(&self) {
        for (id, record) in &self.txs {
            let set = self.sets.get(&record.key);
            debug_assert!(
                set.is_some_and(|s| s.choices.contains(id)),
                "transaction {id} is missing from its conflict set"
            );
            debug_assert_eq!(
                record.live_vertices.is_empty(),
                self.unissued.contains(&(fee_rate(&record.tx), *id)),
                "transaction {id}: the eviction index disagrees with its vertices"
            );
        }
        debug_assert!(self.unissued.len() <= self.txs.len());
        for set in self.sets.values() {
            debug_assert!(!set.choices.is_empty(), "empty conflict set");
            debug_assert!(set.choices.len() == 1 || set.rogue);
            debug_assert!(set.choices.iter().all(|c| self.txs.contains_key(c)));
            debug_assert!(set.decided.is_none_or(|d| set.choices.contains(&d)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ruv_protocol::tx::Transfer;
    use ruv_protocol::SigningKey;

    const THRESHOLDS: Thresholds = Thresholds {
        alpha_preference: 3,
        alpha_confidence: 4,
        beta_virtuous: 2,
        beta_rogue: 3,
    };

    fn transfer(from: &SigningKey, amount: u64) -> (TxId, Arc<SignedTransfer>) {
        let t = Transfer {
            chain_id: "ruv-conflicts".into(),
            from: Address::from_public_key(from.public_key()),
            to: Address::from_public_key(from.public_key()),
            amount,
            fee: 1_000,
            nonce: 1,
            memo: String::new(),
            public_key: from.public_key().clone(),
        };
        let tx = Arc::new(t.sign(from, [amount as u8; 32]).expect("signs"));
        (tx.id(), tx)
    }

    /// One poll whose answers reached the set `key` with these votes.
    fn poll(conflicts: &mut Conflicts, key: ConflictKey, votes: &[(TxId, u32)]) {
        let tally = Tally {
            counts: BTreeMap::from([(key, votes.iter().copied().collect())]),
            reached: BTreeSet::from([key]),
        };
        conflicts.record_poll(&tally, &THRESHOLDS);
    }

    #[test]
    fn a_choice_that_reached_beta_stays_decided() {
        let key = SigningKey::from_seed(&[7; 32]);
        let (a, tx_a) = transfer(&key, 1);
        let (b, tx_b) = transfer(&key, 2);
        let mut conflicts = Conflicts::default();
        conflicts.register(a, tx_a, false);
        let set = conflicts.key_of(&a).expect("known");
        poll(&mut conflicts, set, &[(a, 4)]);
        assert!(!conflicts.decided(&a));
        poll(&mut conflicts, set, &[(a, 4)]);
        assert!(conflicts.decided(&a), "beta_virtuous successes decide");
        // Its vertex waits for parents; meanwhile polls fail or go elsewhere.
        poll(&mut conflicts, set, &[]);
        assert!(
            conflicts.decided(&a),
            "an unsuccessful poll does not undo it"
        );
        conflicts.register(b, tx_b, false);
        for _ in 0..5 {
            poll(&mut conflicts, set, &[(b, 4)]);
        }
        assert!(conflicts.decided(&a), "a later conflict does not undo it");
        assert!(!conflicts.decided(&b));
        assert_eq!(conflicts.flags(&a), Some((true, false)));
        assert_eq!(conflicts.flags(&b), Some((false, false)));
        // Without stickiness the failed poll would have reset it.
        let mut fresh = Conflicts::default();
        let (c, tx_c) = transfer(&SigningKey::from_seed(&[8; 32]), 3);
        fresh.register(c, tx_c, false);
        let set_c = fresh.key_of(&c).expect("known");
        poll(&mut fresh, set_c, &[(c, 4)]);
        poll(&mut fresh, set_c, &[]);
        poll(&mut fresh, set_c, &[(c, 4)]);
        assert!(!fresh.decided(&c), "successes must be consecutive");
    }

    #[test]
    fn a_poll_that_reached_no_choice_records_no_round() {
        let key = SigningKey::from_seed(&[10; 32]);
        let (a, tx_a) = transfer(&key, 1);
        let mut conflicts = Conflicts::default();
        conflicts.register(a, tx_a, false);
        let set = conflicts.key_of(&a).expect("known");
        poll(&mut conflicts, set, &[(a, 4)]);
        // Every answer's chits missed this set (they named other vertices,
        // or nothing): no failed round, so the next success is consecutive.
        conflicts.record_poll(&Tally::default(), &THRESHOLDS);
        assert!(!conflicts.decided(&a));
        poll(&mut conflicts, set, &[(a, 4)]);
        assert!(conflicts.decided(&a));
    }

    #[test]
    fn a_rogue_set_needs_beta_rogue() {
        let key = SigningKey::from_seed(&[9; 32]);
        let (a, tx_a) = transfer(&key, 1);
        let (b, tx_b) = transfer(&key, 2);
        let mut conflicts = Conflicts::default();
        conflicts.register(a, tx_a, false);
        conflicts.register(b, tx_b, false);
        let set = conflicts.key_of(&a).expect("known");
        poll(&mut conflicts, set, &[(a, 4)]);
        poll(&mut conflicts, set, &[(a, 4)]);
        assert!(!conflicts.decided(&a));
        poll(&mut conflicts, set, &[(a, 4)]);
        assert!(conflicts.decided(&a));
        // The loser leaves; a decided winner that is rejected leaves no decision behind.
        assert!(conflicts.remove(&a).is_some());
        assert!(!conflicts.decided(&b));
        #[cfg(debug_assertions)]
        conflicts.assert_consistent();
    }
}
