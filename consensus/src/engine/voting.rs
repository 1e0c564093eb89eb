//! Polling, across owners: sample validators ([`super::validators`]), send
//! queries and track them ([`super::polls`]), and when a poll finishes count
//! its chits over the DAG and record one Snowball round in every conflict
//! set ([`super::conflicts`]).

use super::polls::{count_votes, Poll, Tally};
use super::{Engine, Output};
use crate::message::Message;
use crate::metrics::Metrics;
use crate::vertex::{ValidatorIndex, VertexId};

impl Engine {
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
        if self.polls.undeliverable(request_id, to) {
            self.finish_poll(request_id);
            self.keep_polling(out);
        }
    }

    /// Keeps polling at full speed while work remains.
    fn keep_polling(&mut self, out: &mut Vec<Output>) {
        if self.polls.backoff_until(self.now_ms).is_some() {
            return;
        }
        if self.has_undecided() && self.polls.len() < self.tuning.max_concurrent_polls {
            self.start_poll(out);
        }
    }

    pub(super) fn has_undecided(&self) -> bool {
        self.dag.processing_count() > 0
    }

    /// Tops up the running polls (on a tick).
    pub(super) fn start_polls(&mut self, out: &mut Vec<Output>) {
        if self.polls.backoff_until(self.now_ms).is_some() {
            return;
        }
        if self.has_undecided() {
            let missing = self
                .tuning
                .max_concurrent_polls
                .saturating_sub(self.polls.len());
            for _ in 0..missing {
                self.start_poll(out);
            }
        } else if self
            .polls
            .idle_poll_due(self.now_ms, self.tuning.idle_poll_interval_ms)
        {
            self.start_poll(out);
        }
    }

    fn start_poll(&mut self, out: &mut Vec<Output>) {
        self.settle(out);
        let slots = self.validators.sample(&mut self.rng, self.params.k);
        if slots.is_empty() {
            return;
        }
        let request_id = self.request_ids.next();
        let me = self.validators.me();
        let mut poll = Poll::new(self.now_ms, slots);
        let sampled: Vec<ValidatorIndex> = poll.sampled().collect();
        for validator in sampled {
            if validator == me {
                poll.answer(me, self.chits());
            } else {
                self.metrics.queries_sent += 1;
                out.push(Output::Send {
                    to: validator,
                    message: Message::Query { request_id },
                });
            }
        }
        self.metrics.polls_started += 1;
        if self.polls.insert(request_id, poll) {
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
        let unknown: Vec<VertexId> = preferred
            .iter()
            .chain(&accepted)
            .filter(|id| !self.dag.contains(id))
            .copied()
            .collect();
        let complete = match self.polls.answer(request_id, from, preferred) {
            Ok(complete) => complete,
            Err(reason) => {
                self.metrics.drop(reason);
                return;
            }
        };
        self.metrics.chits_received += 1;
        if self.polls.claim_accepted(from, accepted) {
            self.attested.stale = true;
            self.dirty = true;
        }
        self.request_vertices(unknown, from, out);
        if complete {
            self.finish_poll(request_id);
            self.keep_polling(out);
        }
    }

    /// Asks again, once, the validators that have not answered after half
    /// the timeout (a lost query or answer otherwise costs the whole poll),
    /// and finishes polls that ran out of time with the answers they have.
    pub(super) fn expire_polls(&mut self, out: &mut Vec<Output>) {
        let timeout = self.tuning.poll_timeout_ms;
        for (request_id, silent) in self.polls.requery_due(self.now_ms, timeout) {
            for validator in silent {
                self.metrics.queries_sent += 1;
                out.push(Output::Send {
                    to: validator,
                    message: Message::Query { request_id },
                });
            }
        }
        for request_id in self.polls.expired(self.now_ms, timeout) {
            self.metrics.polls_timed_out += 1;
            self.finish_poll(request_id);
        }
        self.finish_polls_early();
    }

    /// Finishes, after `poll_patience_ms`, the polls whose missing answers
    /// can no longer change what they record ([`Tally::settled`]): a
    /// validator that stays connected but never answers otherwise holds
    /// every poll that samples it for the whole timeout.
    fn finish_polls_early(&mut self) {
        let due = self.polls.early_check_due(
            self.now_ms,
            self.tuning.poll_patience_ms,
            self.early_finish_max_missing(),
        );
        for request_id in due {
            let Some(poll) = self.polls.get(request_id) else {
                continue;
            };
            // Counted aside: a check that does not finish the poll leaves no trace.
            let mut scratch = Metrics::default();
            let tally = count_votes(
                poll,
                &self.dag,
                &self.fetcher,
                &self.conflicts,
                &mut scratch,
            );
            if tally.settled(poll.missing_weight(), &self.thresholds()) {
                self.metrics.conflicting_votes += scratch.conflicting_votes;
                self.metrics.polls_finished_early += 1;
                if let Some(poll) = self.polls.take(request_id) {
                    self.finish_poll_with(poll, tally);
                }
            }
        }
    }

    /// Missing slots above which no poll can be settled early: a choice
    /// every answer voted for still needs them to reach `alpha_confidence`.
    pub(super) fn early_finish_max_missing(&self) -> u32 {
        self.params.k.saturating_sub(self.params.alpha_confidence)
    }

    /// Counts the votes and records one snowball round in every undecided
    /// conflict set the answers reached.
    fn finish_poll(&mut self, request_id: u32) {
        let Some(poll) = self.polls.take(request_id) else {
            return;
        };
        let tally = count_votes(
            &poll,
            &self.dag,
            &self.fetcher,
            &self.conflicts,
            &mut self.metrics,
        );
        self.finish_poll_with(poll, tally);
    }

    /// Records a finished poll's tally.
    fn finish_poll_with(&mut self, poll: Poll, tally: Tally) {
        self.metrics.polls_completed += 1;
        let thresholds = self.thresholds();
        for tx_id in self.conflicts.record_poll(&tally, &thresholds) {
            for vertex in self.conflicts.live_vertices(&tx_id) {
                self.dag.mark_candidate(vertex);
            }
        }
        let me = self.validators.me();
        self.polls
            .caught_up(&poll, me, thresholds.alpha_preference, &self.dag);
        if poll.reached_nobody(me) {
            self.polls.back_off(
                self.now_ms
                    .saturating_add(self.tuning.unreachable_backoff_ms),
            );
        }
        self.dirty = true;
    }
}
