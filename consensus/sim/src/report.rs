//! What a run reports: the [`RunReport`] of a passing run, the
//! [`SimFailure`] of a failing one (with the command that replays it and its
//! display), and the trace digest every engine and checkpointer output is
//! folded into.

use crate::{Simulation, TRACE_CONTEXT};
use ruv_consensus::DropReason;
use ruv_protocol::crypto::hash;
use std::fmt;

/// What a successful run did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunReport {
    /// The scenario.
    pub scenario: &'static str,
    /// The seed.
    pub seed: u64,
    /// Simulated time at the end.
    pub sim_time_ms: u64,
    /// Simulated time from the end of the workload until every honest
    /// transfer was accepted everywhere.
    pub liveness_ms: u64,
    /// Honest transfers (all accepted by every honest relay).
    pub honest_txs: usize,
    /// Conflict pairs (double spends and equivocations).
    pub conflict_pairs: usize,
    /// Conflict pairs decided (one side accepted) by the end.
    pub conflicts_decided: usize,
    /// Vertices accepted by the first honest relay.
    pub vertices_accepted: u64,
    /// Messages delivered.
    pub messages_delivered: u64,
    /// Messages lost to drops, partitions and crashed recipients.
    pub messages_lost: u64,
    /// Crashes that happened.
    pub crashes: u32,
    /// Transfers resubmitted by clients whose relay crashed.
    pub resubmissions: u32,
    /// Messages and vertices honest relays dropped as bad (sum of counters).
    pub dropped_by_honest: u64,
    /// Of those, gossiped vertices honest relays turned away as doomed
    /// (not stored) and refused for their issuer's budget.
    pub doomed_by_honest: u64,
    /// See `doomed_by_honest`.
    pub budget_refusals_by_honest: u64,
    /// Accepted vertices honest relays settled (covered by a certified
    /// checkpoint: their transfers left memory), current incarnations.
    pub settled_by_honest: u64,
    /// Answers to a peer's GetAncestors that read settled vertices from the
    /// answering relay's store.
    pub stored_ancestor_answers: u64,
    /// Certified checkpoints sent to a lagging peer from a relay's store
    /// (older than `CERTIFIED_IN_MEMORY`).
    pub stored_checkpoint_answers: u64,
    /// Checkpoints certified: the lowest latest number over honest relays.
    pub checkpoints_certified: u64,
    /// Simulated time from liveness until the honest relays had accepted
    /// the same vertices (the last time they became equal; 0 where
    /// checkpoints are exempt).
    pub settle_ms: u64,
    /// Simulated time from then until every honest relay had certified a
    /// checkpoint holding every accepted transfer (0 where exempt).
    pub checkpoint_ms: u64,
    /// Checkpoint rounds that ended without a certificate (sum over honest
    /// relays' current incarnations).
    pub checkpoint_round_timeouts: u64,
    /// Highest resource use seen at any honest relay.
    pub peak: ResourcePeak,
    /// Free vertices (holding only accepted transfers, or none) Byzantine
    /// relays sent.
    pub free_vertices_sent: u64,
    /// Batches lost whole to a crash before their commit
    /// ([`crate::Scenario::crash_in_batch`]).
    pub torn_batches: u32,
    /// Messages to crashed or cut-off relays fed back to their sender's
    /// engine as undeliverable.
    pub undeliverable: u64,
    /// Lock-splitting attacks Byzantine checkpointers carried out (both
    /// rounds sent; [`crate::CheckpointMode::SplitLocks`]).
    pub checkpoint_splits: u32,
    /// Times honest relays moved a checkpoint lock to a header with a
    /// newer proof of lock (sum of their counters).
    pub checkpoint_locks_moved: u64,
    /// Equivocations Byzantine checkpointers' prevotes and signatures
    /// caused honest relays to notice (sum of their counters).
    pub checkpoint_equivocations_seen: u64,
    /// Conflicting checkpoint prevotes and signatures Byzantine
    /// checkpointers sent ([`crate::CheckpointMode::Equivocate`]).
    pub checkpoint_twins_sent: u64,
    /// Bait-and-poison double spends carried out (poison sent).
    pub poisoned_baits: u32,
    /// Of those, poisoned after an honest vertex built on the bait.
    pub baits_built_on: u32,
    /// Digest of everything the engines output, in order: equal for equal seeds.
    pub trace_digest: [u8; 32],
}

/// Highest resource use seen at any honest relay during a run (checked
/// against the scenario's [`crate::ResourceLimits`] after every step).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ResourcePeak {
    /// Undecided vertices ([`ruv_consensus::Engine::processing_count`]).
    pub processing: usize,
    /// Undecided transactions held ([`ruv_consensus::Engine::pending_tx_count`]).
    pub pending_txs: usize,
    /// Vertices waiting for parents ([`ruv_consensus::Engine::waiting_count`]).
    pub waiting: usize,
    /// Accepted vertices holding one transfer, at one relay.
    pub accepted_copies: u32,
    /// Byzantine-issued vertices one honest relay stored or kept.
    pub byzantine_stored: usize,
}

impl ResourcePeak {
    /// The larger of each figure.
    pub fn max(self, other: ResourcePeak) -> ResourcePeak {
        ResourcePeak {
            processing: self.processing.max(other.processing),
            pending_txs: self.pending_txs.max(other.pending_txs),
            waiting: self.waiting.max(other.waiting),
            accepted_copies: self.accepted_copies.max(other.accepted_copies),
            byzantine_stored: self.byzantine_stored.max(other.byzantine_stored),
        }
    }
}

/// What went wrong in a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// Two conflicting transfers accepted by honest relays.
    Safety,
    /// Honest relays with the same accepted set disagree on state.
    Divergence,
    /// Supply not conserved.
    Supply,
    /// A vertex accepted before one of its parents.
    Order,
    /// An accepted transfer did not apply.
    Apply,
    /// Honest transfers not accepted everywhere after the quiet period.
    Liveness,
    /// Two honest relays certified different headers for one number from
    /// the same previous header, anchor and time: the derivation differs.
    CheckpointDivergence,
    /// Two different certified headers for one checkpoint number.
    CheckpointFork,
    /// An honest relay signed two different headers for one number.
    CheckpointLock,
    /// Checkpoints stopped forming, or accepted transfers stayed uncertified.
    CheckpointLiveness,
    /// An honest relay held more than the scenario's resource limits
    /// (processing vertices, pending transactions, waiting vertices,
    /// accepted copies of one transfer).
    Resource,
    /// A relay could not start or restart, or the run did not end.
    Harness,
}

/// A failed run, with what reproduces it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimFailure {
    /// The scenario.
    pub scenario: &'static str,
    /// The seed.
    pub seed: u64,
    /// Simulated time of the failure.
    pub at_ms: u64,
    /// What failed.
    pub kind: FailureKind,
    /// Details.
    pub detail: String,
}

impl SimFailure {
    /// The command that replays this run.
    pub fn reproduce_command(&self) -> String {
        format!(
            "cargo run --release -p ruv-sim --bin ruv-sim -- --scenario {} --seed {}",
            self.scenario, self.seed
        )
    }
}

impl fmt::Display for SimFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "scenario {} seed {} failed at {} ms ({:?}): {}\n  reproduce: {}",
            self.scenario,
            self.seed,
            self.at_ms,
            self.kind,
            self.detail,
            self.reproduce_command()
        )
    }
}

impl std::error::Error for SimFailure {}

impl Simulation<'_> {
    /// Folds one output into the run's trace digest.
    pub(crate) fn record(&mut self, node: usize, what: &str, data: &[u8]) {
        let header = format!("{} {node} {what}", self.now);
        self.trace = hash(TRACE_CONTEXT, &[&self.trace, header.as_bytes(), data]);
    }

    pub(crate) fn report(&self) -> RunReport {
        let conflicts_decided = self
            .conflict_pairs
            .iter()
            .filter(|pair| {
                pair.iter()
                    .any(|id| self.accepted_by_key.values().any(|a| a == id))
            })
            .count();
        let first = self
            .honest
            .first()
            .and_then(|n| self.nodes[*n].engine.as_ref());
        let dropped_by_honest = self
            .honest
            .iter()
            .filter_map(|n| self.nodes[*n].engine.as_ref())
            .map(|e| e.metrics().dropped_total())
            .sum();
        let honest_drops = |reason: DropReason| -> u64 {
            self.honest
                .iter()
                .filter_map(|n| self.nodes[*n].engine.as_ref())
                .map(|e| e.metrics().dropped(reason))
                .sum()
        };
        let doomed_by_honest = honest_drops(DropReason::Doomed);
        let settled_by_honest = self
            .honest
            .iter()
            .filter_map(|n| self.nodes[*n].engine.as_ref())
            .map(|e| e.metrics().vertices_settled)
            .sum();
        let budget_refusals_by_honest = honest_drops(DropReason::IssuerBudget);
        let checkpointers = || {
            self.honest
                .iter()
                .filter_map(|n| self.nodes[*n].checkpointer.as_ref())
        };
        let checkpoints_certified = checkpointers()
            .map(|c| c.latest().map_or(0, |c| c.certificate.header.number))
            .min()
            .unwrap_or(0);
        let checkpoint_round_timeouts = checkpointers().map(|c| c.metrics().round_timeouts).sum();
        let checkpoint_equivocations_seen =
            checkpointers().map(|c| c.metrics().equivocations).sum();
        let checkpoint_locks_moved = checkpointers().map(|c| c.metrics().locks_moved).sum();
        let byzantine = || self.nodes.iter().filter_map(|n| n.byzantine.as_ref());
        let checkpoint_splits = byzantine().map(|b| b.checkpoint_attack.splits).sum();
        let poisoned_baits = byzantine().map(|b| b.poisoned).sum();
        let baits_built_on = byzantine().map(|b| b.poisoned_built_on).sum();
        let checkpoint_twins_sent = byzantine().map(|b| b.checkpoint_attack.twins_sent).sum();
        RunReport {
            scenario: self.scenario.name,
            seed: self.seed,
            sim_time_ms: self.now,
            liveness_ms: self.liveness_ms,
            honest_txs: self.txs.iter().filter(|t| t.honest).count(),
            conflict_pairs: self.conflict_pairs.len(),
            conflicts_decided,
            vertices_accepted: first.map_or(0, |e| e.metrics().vertices_accepted),
            messages_delivered: self.messages_delivered,
            messages_lost: self.messages_lost,
            crashes: self.crashes,
            resubmissions: self.resubmissions,
            dropped_by_honest,
            doomed_by_honest,
            budget_refusals_by_honest,
            settled_by_honest,
            stored_ancestor_answers: self.stored_ancestor_answers,
            stored_checkpoint_answers: self.stored_checkpoint_answers,
            checkpoints_certified,
            settle_ms: self.settle_ms,
            checkpoint_ms: self.checkpoint_ms,
            checkpoint_round_timeouts,
            peak: self.peak,
            free_vertices_sent: self.free_vertices_sent,
            torn_batches: self.torn_batches,
            undeliverable: self.undeliverable,
            checkpoint_splits,
            checkpoint_locks_moved,
            checkpoint_equivocations_seen,
            checkpoint_twins_sent,
            poisoned_baits,
            baits_built_on,
            trace_digest: self.trace,
        }
    }
}
