//! The running polls: whom each sampled (with multiplicity), who answered
//! what, and when it started; the latest accepted tips each validator
//! claimed in its chits; whether this relay abstains from voting after a
//! restart; and the vote count of a finished poll.
//!
//! Invariants kept here: a poll holds answers only from validators it
//! sampled, at most one each; a finished poll is gone (its request id no
//! longer matches an answer).

use super::conflicts::{ConflictKey, Conflicts, Thresholds};
use super::fetcher::Fetcher;
use crate::dag::Dag;
use crate::metrics::{DropReason, Metrics};
use crate::vertex::{ValidatorIndex, VertexId};
use ruv_protocol::TxId;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// One poll: who was sampled (with multiplicity) and who answered what.
#[derive(Debug)]
pub(crate) struct Poll {
    started_ms: u64,
    /// Queries were sent again to the validators that had not answered.
    requeried: bool,
    slots: BTreeMap<ValidatorIndex, u32>,
    answers: BTreeMap<ValidatorIndex, Vec<VertexId>>,
    /// Validators whose query came back undeliverable.
    unreachable: BTreeSet<ValidatorIndex>,
    /// How many answers the last early-finish check saw (none yet: 0).
    checked_answers: usize,
}

impl Poll {
    /// A poll of the sampled `slots`, started now.
    pub(crate) fn new(started_ms: u64, slots: BTreeMap<ValidatorIndex, u32>) -> Self {
        Self {
            started_ms,
            requeried: false,
            slots,
            answers: BTreeMap::new(),
            unreachable: BTreeSet::new(),
            checked_answers: 0,
        }
    }

    /// Slots of the sampled validators that have not answered.
    pub(crate) fn missing_weight(&self) -> u32 {
        self.slots
            .iter()
            .filter(|(validator, _)| !self.answers.contains_key(validator))
            .map(|(_, slots)| *slots)
            .sum()
    }

    /// Worth an early-finish check: answers arrived since the last one, and
    /// the missing slots are few enough that a poll could be decided
    /// without them (`max_missing`).
    fn early_check_pending(&self, max_missing: u32) -> bool {
        self.answers.len() > self.checked_answers && self.missing_weight() <= max_missing
    }

    /// Other validators were sampled and every one was unreachable.
    pub(crate) fn reached_nobody(&self, me: ValidatorIndex) -> bool {
        let mut others = self
            .slots
            .keys()
            .filter(|validator| **validator != me)
            .peekable();
        others.peek().is_some() && others.all(|validator| self.unreachable.contains(validator))
    }

    /// The validators sampled, in index order.
    pub(crate) fn sampled(&self) -> impl Iterator<Item = ValidatorIndex> + '_ {
        self.slots.keys().copied()
    }

    /// Records a sampled validator's answer (this relay's own, at the start).
    pub(crate) fn answer(&mut self, from: ValidatorIndex, chits: Vec<VertexId>) {
        debug_assert!(self.slots.contains_key(&from));
        self.answers.insert(from, chits);
    }

    fn complete(&self) -> bool {
        self.answers.len() == self.slots.len()
    }
}

/// A voter's position on one conflict set in one poll.
enum Vote {
    For(TxId),
    /// The voter's chits support two conflicting transactions: counted for neither.
    Both,
}

#[derive(Debug)]
pub(crate) struct Polls {
    running: BTreeMap<u32, Poll>,
    last_idle_poll_ms: u64,
    /// Each validator's latest accepted tips, from its chits.
    accepted_claims: Vec<Vec<VertexId>>,
    /// Restarted: answer queries with no preference until an own poll
    /// caught up with the network ([`Polls::caught_up`]).
    abstaining: bool,
    /// No new poll before this time (a poll reached nobody).
    backoff_until_ms: u64,
}

impl Polls {
    pub(crate) fn new(validator_count: usize) -> Self {
        Self {
            running: BTreeMap::new(),
            last_idle_poll_ms: 0,
            accepted_claims: vec![Vec::new(); validator_count],
            abstaining: false,
            backoff_until_ms: 0,
        }
    }

    /// Starts no poll before `until_ms`.
    pub(crate) fn back_off(&mut self, until_ms: u64) {
        self.backoff_until_ms = self.backoff_until_ms.max(until_ms);
    }

    /// Ends a back-off: a validator became reachable again.
    pub(crate) fn end_back_off(&mut self) {
        self.backoff_until_ms = 0;
    }

    /// When polling may resume, if it is backing off at `now_ms`.
    pub(crate) fn backoff_until(&self, now_ms: u64) -> Option<u64> {
        (now_ms < self.backoff_until_ms).then_some(self.backoff_until_ms)
    }

    /// After a restart the preferences were rebuilt from stored vertices in
    /// an order an attacker may have chosen, and the Snowball counters are
    /// gone: vote for nothing until [`Polls::caught_up`].
    pub(crate) fn abstain(&mut self) {
        self.abstaining = true;
    }

    pub(crate) fn abstaining(&self) -> bool {
        self.abstaining
    }

    /// An own poll finished: stop abstaining if other validators holding at
    /// least `alpha` of its slots answered with a preference this relay
    /// knows in full (every vertex named is in its DAG; an empty one, from a
    /// relay that abstains too or has nothing undecided, counts), so that
    /// poll's round counted the network's preference. Empty answers must
    /// count: when more than `1 - alpha/k` of the stake restarts at once
    /// (the simulator's `crash-conflict` adversary crashes 4 of 6 honest
    /// relays during a live conflict), waiting for `alpha` non-empty answers
    /// deadlocks every restarted relay for ever. Conflict sets that had two
    /// choices at the restart still stay out of its votes until a poll
    /// succeeds for one of them (`Conflicts::flags`).
    pub(crate) fn caught_up(&mut self, poll: &Poll, me: ValidatorIndex, alpha: u32, dag: &Dag) {
        if !self.abstaining {
            return;
        }
        let informed: u32 = poll
            .answers
            .iter()
            .filter(|(voter, chits)| **voter != me && chits.iter().all(|id| dag.contains(id)))
            .map(|(voter, _)| poll.slots.get(voter).copied().unwrap_or(0))
            .sum();
        if informed >= alpha {
            self.abstaining = false;
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.running.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.running.is_empty()
    }

    /// Starts tracking a poll; true if it is already complete (every slot
    /// is this relay's own).
    pub(crate) fn insert(&mut self, request_id: u32, poll: Poll) -> bool {
        let complete = poll.complete();
        self.running.insert(request_id, poll);
        complete
    }

    /// Each validator's latest accepted tips (by index).
    pub(crate) fn accepted_claims(&self) -> &[Vec<VertexId>] {
        &self.accepted_claims
    }

    /// Whether some validator claims this vertex as an accepted tip.
    pub(crate) fn claimed(&self, id: &VertexId) -> bool {
        self.accepted_claims
            .iter()
            .any(|claims| claims.contains(id))
    }

    /// Records `from`'s claimed accepted tips; true if they changed.
    pub(crate) fn claim_accepted(&mut self, from: ValidatorIndex, accepted: Vec<VertexId>) -> bool {
        match self.accepted_claims.get_mut(from.0 as usize) {
            Some(claims) if *claims != accepted => {
                *claims = accepted;
                true
            }
            _ => false,
        }
    }

    /// Whether an idle poll is due now (and if so, counts it as started).
    pub(crate) fn idle_poll_due(&mut self, now_ms: u64, interval_ms: u64) -> bool {
        if self.running.is_empty() && now_ms >= self.last_idle_poll_ms.saturating_add(interval_ms) {
            self.last_idle_poll_ms = now_ms;
            return true;
        }
        false
    }

    /// A query to `to` could not be delivered: an empty answer. True if that
    /// completed the poll.
    pub(crate) fn undeliverable(&mut self, request_id: u32, to: ValidatorIndex) -> bool {
        let Some(poll) = self.running.get_mut(&request_id) else {
            return false;
        };
        if poll.slots.contains_key(&to) && !poll.answers.contains_key(&to) {
            poll.answers.insert(to, Vec::new());
            poll.unreachable.insert(to);
            return poll.complete();
        }
        false
    }

    /// `from` answered poll `request_id`. Ok(true) if that completed it; an
    /// error for an answer nobody asked for or a second answer.
    pub(crate) fn answer(
        &mut self,
        request_id: u32,
        from: ValidatorIndex,
        preferred: Vec<VertexId>,
    ) -> Result<bool, DropReason> {
        let Some(poll) = self.running.get_mut(&request_id) else {
            return Err(DropReason::Unsolicited);
        };
        if !poll.slots.contains_key(&from) {
            return Err(DropReason::Unsolicited);
        }
        if poll.answers.contains_key(&from) {
            // The answer to a repeated query.
            return Err(DropReason::Duplicate);
        }
        poll.answers.insert(from, preferred);
        Ok(poll.complete())
    }

    /// Running polls that sampled `validator` and have no answer from it,
    /// in request id order.
    pub(crate) fn unanswered_by(&self, validator: ValidatorIndex) -> Vec<u32> {
        self.running
            .iter()
            .filter(|(_, poll)| {
                poll.slots.contains_key(&validator) && !poll.answers.contains_key(&validator)
            })
            .map(|(request_id, _)| *request_id)
            .collect()
    }

    /// Polls past half their timeout that were not asked again yet: marks
    /// them asked and returns whom to ask again (those that have not
    /// answered), per request id.
    pub(crate) fn requery_due(
        &mut self,
        now_ms: u64,
        timeout_ms: u64,
    ) -> Vec<(u32, Vec<ValidatorIndex>)> {
        let halfway = now_ms.saturating_sub(timeout_ms / 2);
        let mut due = Vec::new();
        for (request_id, poll) in self.running.iter_mut() {
            if poll.requeried || poll.started_ms > halfway {
                continue;
            }
            poll.requeried = true;
            let silent = poll
                .slots
                .keys()
                .filter(|v| !poll.answers.contains_key(v))
                .copied()
                .collect();
            due.push((*request_id, silent));
        }
        due
    }

    /// Polls that ran out of time.
    pub(crate) fn expired(&self, now_ms: u64, timeout_ms: u64) -> Vec<u32> {
        let deadline = now_ms.saturating_sub(timeout_ms);
        self.running
            .iter()
            .filter(|(_, poll)| poll.started_ms <= deadline)
            .map(|(id, _)| *id)
            .collect()
    }

    /// Polls running for at least `patience_ms` with an early-finish check
    /// pending (see [`Poll::missing_weight`]): marks them checked at their
    /// current answers and returns them, so each is checked again only
    /// after another answer.
    pub(crate) fn early_check_due(
        &mut self,
        now_ms: u64,
        patience_ms: u64,
        max_missing: u32,
    ) -> Vec<u32> {
        let mut due = Vec::new();
        for (request_id, poll) in self.running.iter_mut() {
            if poll.started_ms.saturating_add(patience_ms) <= now_ms
                && poll.early_check_pending(max_missing)
            {
                poll.checked_answers = poll.answers.len();
                due.push(*request_id);
            }
        }
        due
    }

    /// A running poll.
    pub(crate) fn get(&self, request_id: u32) -> Option<&Poll> {
        self.running.get(&request_id)
    }

    /// Ends a poll; the caller counts its votes.
    pub(crate) fn take(&mut self, request_id: u32) -> Option<Poll> {
        self.running.remove(&request_id)
    }

    /// When the next poll is due to be asked again, checked for an early
    /// finish, or timed out.
    pub(crate) fn next_deadline(
        &self,
        timeout_ms: u64,
        patience_ms: u64,
        max_missing: u32,
    ) -> Option<u64> {
        self.running
            .values()
            .map(|poll| {
                let next = if poll.requeried {
                    poll.started_ms.saturating_add(timeout_ms)
                } else {
                    poll.started_ms.saturating_add(timeout_ms / 2)
                };
                if poll.early_check_pending(max_missing) {
                    next.min(poll.started_ms.saturating_add(patience_ms))
                } else {
                    next
                }
            })
            .min()
    }

    /// When an idle poll is due (if none is running).
    pub(crate) fn next_idle_poll_ms(&self, interval_ms: u64) -> u64 {
        self.last_idle_poll_ms.saturating_add(interval_ms)
    }
}

/// What a finished poll says about the conflict sets.
#[derive(Debug, Default)]
pub(crate) struct Tally {
    /// Votes per conflict set and transaction.
    pub(crate) counts: BTreeMap<ConflictKey, BTreeMap<TxId, u32>>,
    /// Conflict sets some answer's chits reached (counted or not): only
    /// these record a round; the poll says nothing about the others.
    pub(crate) reached: BTreeSet<ConflictKey>,
}

impl Tally {
    /// Whether `missing` more votes could change what this poll records:
    /// a choice still below a threshold it could reach. A conflict set no
    /// answer reached yet gets at most `missing` votes, so it could only
    /// cross a threshold if `missing` reaches the lower alpha. When nothing
    /// can change, the poll may finish now: it records what it would
    /// record if the missing voters never answered (as a timeout does),
    /// which is also what their answers could at most confirm.
    pub(crate) fn settled(&self, missing: u32, thresholds: &Thresholds) -> bool {
        let alphas = [thresholds.alpha_preference, thresholds.alpha_confidence];
        if alphas.iter().any(|alpha| missing >= *alpha) {
            return false;
        }
        self.counts
            .values()
            .flat_map(|by_tx| by_tx.values())
            .all(|votes| {
                alphas
                    .iter()
                    .all(|alpha| *votes >= *alpha || votes.saturating_add(missing) < *alpha)
            })
    }
}

/// Votes per conflict set and transaction. A chit for a vertex is a vote
/// for every undecided transaction in it and in its undecided ancestry; a
/// chit for a vertex parked here (its parents not all known yet) counts
/// for its known ancestors, as avalanchego's voter does; a chit for a
/// vertex not known at all counts for nothing. Each sampled slot of a
/// voter is one vote.
pub(crate) fn count_votes(
    poll: &Poll,
    dag: &Dag,
    fetcher: &Fetcher,
    conflicts: &Conflicts,
    metrics: &mut Metrics,
) -> Tally {
    let mut tally = Tally::default();
    // Voters mostly answer with the same preferred frontier: walk each
    // distinct answer's closure once, with the weight of all who gave it.
    let mut distinct: BTreeMap<Vec<VertexId>, (u32, u64)> = BTreeMap::new();
    for (voter, chits) in &poll.answers {
        let weight = poll.slots.get(voter).copied().unwrap_or(0);
        let mut answer = chits.clone();
        answer.sort_unstable();
        answer.dedup();
        let (total, voters) = distinct.entry(answer).or_default();
        *total += weight;
        *voters += 1;
    }
    for (chits, (weight, voters)) in &distinct {
        let roots = known_roots(chits, dag, fetcher);
        let closure = dag.processing_closure(&roots);
        let mut votes: HashMap<ConflictKey, Vote> = HashMap::new();
        for id in &closure {
            let Some(node) = dag.get(id) else {
                continue;
            };
            for tx_id in node.vertex().tx_ids() {
                let Some(key) = conflicts.key_of(tx_id) else {
                    continue;
                };
                votes
                    .entry(key)
                    .and_modify(|vote| {
                        if matches!(vote, Vote::For(other) if other != tx_id) {
                            *vote = Vote::Both;
                        }
                    })
                    .or_insert(Vote::For(*tx_id));
            }
        }
        for (key, vote) in votes {
            tally.reached.insert(key);
            match vote {
                Vote::For(tx_id) => {
                    *tally
                        .counts
                        .entry(key)
                        .or_default()
                        .entry(tx_id)
                        .or_insert(0) += weight
                }
                Vote::Both => metrics.conflicting_votes += voters,
            }
        }
    }
    tally
}

/// The chits with each parked vertex replaced by its parents (through
/// parked ancestors), keeping those in the DAG.
fn known_roots(chits: &[VertexId], dag: &Dag, fetcher: &Fetcher) -> Vec<VertexId> {
    let mut roots = Vec::new();
    let mut seen = BTreeSet::new();
    let mut stack: Vec<VertexId> = chits.to_vec();
    while let Some(id) = stack.pop() {
        if !seen.insert(id) {
            continue;
        }
        if dag.contains(&id) {
            roots.push(id);
        } else if let Some(parents) = fetcher.parked_parents(&id) {
            stack.extend(parents.iter().copied());
        }
    }
    roots
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dag::VertexStatus;
    use ruv_protocol::{Address, SignedTransfer};
    use std::sync::Arc;

    fn thresholds(alpha_preference: u32, alpha_confidence: u32) -> Thresholds {
        Thresholds {
            alpha_preference,
            alpha_confidence,
            beta_virtuous: 15,
            beta_rogue: 20,
        }
    }

    /// A tally of one conflict set per entry, each with its choices' votes.
    fn tally(sets: &[&[u32]]) -> Tally {
        let mut tally = Tally::default();
        for (set, votes) in sets.iter().enumerate() {
            let key = (Address::from_bytes([set as u8; 32]), 1);
            tally.reached.insert(key);
            for (choice, count) in votes.iter().enumerate() {
                tally
                    .counts
                    .entry(key)
                    .or_default()
                    .insert(TxId([choice as u8 + 1; 32]), *count);
            }
        }
        tally
    }

    /// A processing vertex of validator 0 holding `txs`, in `dag`.
    fn processing_vertex(dag: &mut Dag, txs: Vec<Arc<SignedTransfer>>) -> VertexId {
        let key = ruv_protocol::SigningKey::from_seed(&[9; 32]);
        let vertex = crate::vertex::VertexContent {
            chain_id: "ruv-polls".into(),
            issuer: ValidatorIndex(0),
            height: 0,
            parents: Vec::new(),
            txs,
        }
        .sign(&key, [0; 32])
        .expect("signs");
        let id = vertex.id();
        dag.insert(Arc::new(vertex), VertexStatus::Processing);
        id
    }

    #[test]
    fn voters_giving_the_same_answer_are_counted_once_with_their_summed_weight() {
        let sender = ruv_protocol::SigningKey::from_seed(&[1; 32]);
        let transfer = |amount: u64| {
            let t = ruv_protocol::tx::Transfer {
                chain_id: "ruv-polls".into(),
                from: Address::from_public_key(sender.public_key()),
                to: Address::from_bytes([2; 32]),
                amount,
                fee: 1_000,
                nonce: 1,
                memo: String::new(),
                public_key: sender.public_key().clone(),
            };
            Arc::new(t.sign(&sender, [amount as u8; 32]).expect("signs"))
        };
        // Two transfers with one (sender, nonce): a conflict set of two.
        let (a, b) = (transfer(1), transfer(2));
        let mut conflicts = Conflicts::default();
        conflicts.register(a.id(), a.clone(), false);
        conflicts.register(b.id(), b.clone(), false);
        let mut dag = Dag::default();
        let holds_a = processing_vertex(&mut dag, vec![a.clone()]);
        let holds_b = processing_vertex(&mut dag, vec![b.clone()]);
        let slots = BTreeMap::from([
            (ValidatorIndex(0), 2),
            (ValidatorIndex(1), 3),
            (ValidatorIndex(2), 4),
            (ValidatorIndex(3), 1),
        ]);
        let mut poll = Poll::new(0, slots);
        poll.answer(ValidatorIndex(0), vec![holds_a]);
        // The same answer in another form: repeated chits.
        poll.answer(ValidatorIndex(1), vec![holds_a, holds_a]);
        // Both sides: a vote for neither, in either order.
        poll.answer(ValidatorIndex(2), vec![holds_b, holds_a]);
        poll.answer(ValidatorIndex(3), vec![holds_a, holds_b]);
        let mut metrics = Metrics::default();
        let tally = count_votes(&poll, &dag, &Fetcher::default(), &conflicts, &mut metrics);

        let key = (a.transfer.from, 1);
        assert_eq!(tally.reached, BTreeSet::from([key]));
        assert_eq!(
            tally.counts,
            BTreeMap::from([(key, BTreeMap::from([(a.id(), 5)]))])
        );
        // One conflicting vote per voter, not per distinct answer.
        assert_eq!(metrics.conflicting_votes, 2);
    }

    #[test]
    fn a_poll_is_settled_when_no_missing_vote_can_cross_a_threshold() {
        let t = thresholds(15, 15);
        // k = 20, one silent validator holding 1 slot: 19 unanimous votes.
        assert!(tally(&[&[19]]).settled(1, &t));
        // Already over: stays over; far under: cannot get there.
        assert!(tally(&[&[16], &[9, 10]]).settled(4, &t));
        // Nothing reached at all, few missing: nothing can cross.
        assert!(tally(&[]).settled(14, &t));
        // Nothing missing: a complete poll is settled by definition.
        assert!(tally(&[&[14, 6]]).settled(0, &t));
    }

    #[test]
    fn a_poll_is_not_settled_while_a_missing_vote_could_change_it() {
        let t = thresholds(15, 15);
        // 14 + 1 missing reaches alpha.
        assert!(!tally(&[&[19], &[14]]).settled(1, &t));
        // An unreached set could get every missing vote.
        assert!(!tally(&[]).settled(15, &t));
        // Between the two alphas: preference reached, confidence reachable.
        let t = thresholds(12, 15);
        assert!(!tally(&[&[13]]).settled(2, &t));
        assert!(tally(&[&[13]]).settled(1, &t));
    }
}
