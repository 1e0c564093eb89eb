//! Polls: sample k validators by stake, query them, and count their chits
//! as votes for the transactions of every undecided conflict set.

use super::{ConflictKey, Engine, Output};
use crate::dag::VertexStatus;
use crate::message::Message;
use crate::metrics::DropReason;
use crate::vertex::{ValidatorIndex, VertexId};
use rand_chacha::rand_core::RngCore;
use ruv_protocol::TxId;
use std::collections::{BTreeMap, BTreeSet};

/// One poll: who was sampled (with multiplicity) and who answered what.
#[derive(Debug)]
pub(crate) struct Poll {
    started_ms: u64,
    /// Queries were sent again to the validators that had not answered.
    requeried: bool,
    slots: BTreeMap<ValidatorIndex, u32>,
    answers: BTreeMap<ValidatorIndex, Vec<VertexId>>,
}

/// A voter's position on one conflict set in one poll.
enum Vote {
    For(TxId),
    /// The voter's chits support two conflicting transactions: counted for neither.
    Both,
}

impl Engine {
    /// Draws `k` validators with replacement, each with probability
    /// proportional to stake; returns each drawn validator with its count.
    fn sample(&mut self) -> BTreeMap<ValidatorIndex, u32> {
        let total = self.cumulative_stake.last().copied().unwrap_or(0);
        let mut slots = BTreeMap::new();
        if total == 0 {
            return slots;
        }
        for _ in 0..self.params.k {
            // Multiply-shift maps a uniform u64 onto [0, total) (bias < 2^-40 for real stakes).
            let point = ((self.rng.next_u64() as u128 * total as u128) >> 64) as u64;
            let index = self.cumulative_stake.partition_point(|&c| c <= point);
            *slots.entry(ValidatorIndex(index as u16)).or_insert(0) += 1;
        }
        slots
    }

    /// A query could not be delivered: count it as an empty answer.
    pub(super) fn on_undeliverable(
        &mut self,
        to: ValidatorIndex,
        message: Message,
        out: &mut Vec<Output>,
    ) {
        let Message::Query { request_id } = message else {
            return;
        };
        if let Some(poll) = self.polls.get_mut(&request_id) {
            if poll.slots.contains_key(&to) && !poll.answers.contains_key(&to) {
                poll.answers.insert(to, Vec::new());
                if poll.answers.len() == poll.slots.len() {
                    self.finish_poll(request_id);
                    if self.has_undecided() && self.polls.len() < self.tuning.max_concurrent_polls {
                        self.start_poll(out);
                    }
                }
            }
        }
    }

    fn has_undecided(&self) -> bool {
        !self.dag.processing.is_empty()
    }

    /// Tops up the running polls (on a tick).
    pub(super) fn start_polls(&mut self, out: &mut Vec<Output>) {
        if self.has_undecided() {
            let missing = self
                .tuning
                .max_concurrent_polls
                .saturating_sub(self.polls.len());
            for _ in 0..missing {
                self.start_poll(out);
            }
        } else if self.polls.is_empty()
            && self.now_ms
                >= self
                    .last_idle_poll_ms
                    .saturating_add(self.tuning.idle_poll_interval_ms)
        {
            self.last_idle_poll_ms = self.now_ms;
            self.start_poll(out);
        }
    }

    fn start_poll(&mut self, out: &mut Vec<Output>) {
        self.settle(out);
        let slots = self.sample();
        if slots.is_empty() {
            return;
        }
        let request_id = self.next_request_id();
        let mut answers = BTreeMap::new();
        for validator in slots.keys() {
            if *validator == self.me {
                answers.insert(self.me, self.chits());
            } else {
                self.metrics.queries_sent += 1;
                out.push(Output::Send {
                    to: *validator,
                    message: Message::Query { request_id },
                });
            }
        }
        self.metrics.polls_started += 1;
        let complete = answers.len() == slots.len();
        self.polls.insert(
            request_id,
            Poll {
                started_ms: self.now_ms,
                requeried: false,
                slots,
                answers,
            },
        );
        if complete {
            self.finish_poll(request_id);
        }
    }

    pub(super) fn on_chits(
        &mut self,
        from: ValidatorIndex,
        request_id: u32,
        preferred: Vec<VertexId>,
        accepted: Vec<VertexId>,
        out: &mut Vec<Output>,
    ) {
        let Some(poll) = self.polls.get_mut(&request_id) else {
            self.metrics.drop(DropReason::Unsolicited);
            return;
        };
        if !poll.slots.contains_key(&from) {
            self.metrics.drop(DropReason::Unsolicited);
            return;
        }
        if poll.answers.contains_key(&from) {
            // The answer to a repeated query.
            self.metrics.drop(DropReason::Duplicate);
            return;
        }
        let unknown: Vec<VertexId> = preferred
            .iter()
            .chain(&accepted)
            .filter(|id| !self.dag.contains(id))
            .copied()
            .collect();
        poll.answers.insert(from, preferred);
        let complete = poll.answers.len() == poll.slots.len();
        self.metrics.chits_received += 1;
        if let Some(claims) = self.accepted_claims.get_mut(from.0 as usize) {
            if *claims != accepted {
                *claims = accepted;
                self.dirty = true;
            }
        }
        self.request_vertices(unknown, from, out);
        if complete {
            self.finish_poll(request_id);
            // Keep polling at full speed while work remains.
            if self.has_undecided() && self.polls.len() < self.tuning.max_concurrent_polls {
                self.start_poll(out);
            }
        }
    }

    /// Asks again, once, the validators that have not answered after half
    /// the timeout (a lost query or answer otherwise costs the whole poll),
    /// and finishes polls that ran out of time with the answers they have.
    pub(super) fn expire_polls(&mut self, out: &mut Vec<Output>) {
        let halfway = self.now_ms.saturating_sub(self.tuning.poll_timeout_ms / 2);
        for (request_id, poll) in self.polls.iter_mut() {
            if poll.requeried || poll.started_ms > halfway {
                continue;
            }
            poll.requeried = true;
            for validator in poll.slots.keys() {
                if !poll.answers.contains_key(validator) {
                    self.metrics.queries_sent += 1;
                    out.push(Output::Send {
                        to: *validator,
                        message: Message::Query {
                            request_id: *request_id,
                        },
                    });
                }
            }
        }
        let deadline = self.now_ms.saturating_sub(self.tuning.poll_timeout_ms);
        let expired: Vec<u32> = self
            .polls
            .iter()
            .filter(|(_, poll)| poll.started_ms <= deadline)
            .map(|(id, _)| *id)
            .collect();
        for request_id in expired {
            self.metrics.polls_timed_out += 1;
            self.finish_poll(request_id);
        }
    }

    /// Counts the votes and records one snowball round in every undecided
    /// conflict set.
    fn finish_poll(&mut self, request_id: u32) {
        let Some(poll) = self.polls.remove(&request_id) else {
            return;
        };
        self.metrics.polls_completed += 1;
        let counts = self.count_votes(&poll);
        let alpha_preference = self.params.alpha_preference;
        let alpha_confidence = self.params.alpha_confidence;
        for (key, set) in self.conflicts.iter_mut() {
            let best = counts.get(key).and_then(|votes| {
                // Most votes; ties (only possible below alpha) go to the lower id.
                votes
                    .iter()
                    .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
                    .map(|(id, n)| (*id, *n))
            });
            match best {
                Some((choice, votes)) => {
                    set.snowball
                        .record(choice, votes, alpha_preference, alpha_confidence)
                }
                None => set.snowball.record_unsuccessful(),
            }
        }
        self.dirty = true;
    }

    /// Votes per conflict set and transaction. A chit for a vertex is a vote
    /// for every undecided transaction in it and in its undecided ancestry;
    /// each sampled slot of a voter is one vote.
    fn count_votes(&mut self, poll: &Poll) -> BTreeMap<ConflictKey, BTreeMap<TxId, u32>> {
        let mut counts: BTreeMap<ConflictKey, BTreeMap<TxId, u32>> = BTreeMap::new();
        for (voter, chits) in &poll.answers {
            let weight = poll.slots.get(voter).copied().unwrap_or(0);
            let mut stack: Vec<VertexId> = chits
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
            let mut votes: BTreeMap<ConflictKey, Vote> = BTreeMap::new();
            for id in &closure {
                let Some(node) = self.dag.get(id) else {
                    continue;
                };
                for tx_id in node.vertex.tx_ids() {
                    let Some(record) = self.txs.get(tx_id) else {
                        continue;
                    };
                    votes
                        .entry(record.key)
                        .and_modify(|vote| {
                            if matches!(vote, Vote::For(other) if other != tx_id) {
                                *vote = Vote::Both;
                            }
                        })
                        .or_insert(Vote::For(*tx_id));
                }
            }
            for (key, vote) in votes {
                match vote {
                    Vote::For(tx_id) => {
                        *counts.entry(key).or_default().entry(tx_id).or_insert(0) += weight
                    }
                    Vote::Both => self.metrics.conflicting_votes += 1,
                }
            }
        }
        counts
    }
}
