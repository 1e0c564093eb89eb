//! Counters the engine keeps and the driver exports (e.g. on `/metrics`).

use serde::Serialize;
use std::collections::BTreeMap;

/// Why the engine dropped an incoming message or a vertex in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DropReason {
    /// The bytes are not a valid message or vertex encoding.
    Decode,
    /// The sender index is not a genesis validator.
    UnknownSender,
    /// A vertex for another network.
    WrongChain,
    /// A vertex whose issuer is not a genesis validator.
    UnknownIssuer,
    /// More parents than genesis allows.
    TooManyParents,
    /// More transactions than genesis allows, or none.
    BadTransactionCount,
    /// The same transaction twice in one vertex.
    DuplicateTransactionInVertex,
    /// The vertex signature does not verify.
    BadSignature,
    /// The declared height does not match the parents.
    BadHeight,
    /// A transaction in the vertex is invalid given the vertex's ancestry.
    InvalidTransaction,
    /// A parent (or further ancestor) was invalid.
    InvalidAncestor,
    /// Checking the ancestry would walk more vertices than the engine allows.
    AncestryTooDeep,
    /// Already known.
    Duplicate,
    /// An answer nobody asked for (unknown request id or wrong sender).
    Unsolicited,
    /// The sender exceeded its query rate.
    RateLimited,
    /// The buffer of vertices waiting for their parents is full.
    WaitingFull,
    /// The issuer already has too many undecided vertices here.
    IssuerQuota,
    /// A gossiped transaction failed its checks.
    InvalidGossipTransaction,
    /// The transaction pool is full.
    PoolFull,
    /// A vertex waited too long for its missing parents.
    WaitingExpired,
    /// A gossiped vertex that could add nothing undecided (its transfers
    /// all decided, or a merge of decided parents), not stored; fetched
    /// again if a vertex ever needs it (local policy, `admission.rs`).
    Doomed,
    /// The issuer's budget of vertices and bytes is used up: its gossiped
    /// vertex was refused before the signature check (local policy).
    IssuerBudget,
}

impl DropReason {
    /// A stable snake_case label.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Decode => "decode",
            Self::UnknownSender => "unknown_sender",
            Self::WrongChain => "wrong_chain",
            Self::UnknownIssuer => "unknown_issuer",
            Self::TooManyParents => "too_many_parents",
            Self::BadTransactionCount => "bad_transaction_count",
            Self::DuplicateTransactionInVertex => "duplicate_transaction_in_vertex",
            Self::BadSignature => "bad_signature",
            Self::BadHeight => "bad_height",
            Self::InvalidTransaction => "invalid_transaction",
            Self::InvalidAncestor => "invalid_ancestor",
            Self::AncestryTooDeep => "ancestry_too_deep",
            Self::Duplicate => "duplicate",
            Self::Unsolicited => "unsolicited",
            Self::RateLimited => "rate_limited",
            Self::WaitingFull => "waiting_full",
            Self::IssuerQuota => "issuer_quota",
            Self::InvalidGossipTransaction => "invalid_gossip_transaction",
            Self::PoolFull => "pool_full",
            Self::WaitingExpired => "waiting_expired",
            Self::Doomed => "doomed",
            Self::IssuerBudget => "issuer_budget",
        }
    }
}

/// Monotonic counters (totals since the engine started).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Metrics {
    /// Queries sent to other validators.
    pub queries_sent: u64,
    /// Queries this engine answered with chits.
    pub queries_answered: u64,
    /// Chits received that matched an open poll.
    pub chits_received: u64,
    /// Polls started.
    pub polls_started: u64,
    /// Polls finished (all answers in, or timed out).
    pub polls_completed: u64,
    /// Polls that finished by timeout with answers missing.
    pub polls_timed_out: u64,
    /// Polls finished before all answers arrived because the missing ones
    /// could no longer change what they record (`Tuning::poll_patience_ms`).
    pub polls_finished_early: u64,
    /// Votes discarded because one voter's chits supported two conflicting
    /// transactions.
    pub conflicting_votes: u64,
    /// Vertices this engine issued.
    pub vertices_issued: u64,
    /// Own undecided vertices sent again to a peer whose link came up.
    pub vertices_resent: u64,
    /// Vertices received and added to the DAG.
    pub vertices_added: u64,
    /// Vertices accepted.
    pub vertices_accepted: u64,
    /// Vertices rejected.
    pub vertices_rejected: u64,
    /// Accepted vertices settled: their transfers left memory
    /// (`Input::Covered`).
    pub vertices_settled: u64,
    /// Transactions accepted.
    pub transactions_accepted: u64,
    /// Transactions rejected (conflict lost, or invalid).
    pub transactions_rejected: u64,
    /// Transactions dropped without a decision (pool full).
    pub transactions_dropped: u64,
    /// Transactions let go after failing to issue for the retry TTL.
    pub transactions_expired: u64,
    /// Unissued transactions a full pool gave up for better-paying ones.
    pub transactions_evicted: u64,
    /// Transactions submitted by clients of this relay.
    pub transactions_submitted: u64,
    /// Ancestor requests sent.
    pub ancestors_requested: u64,
    /// Ancestor requests answered.
    pub ancestors_served: u64,
    /// Ancestor requests that timed out and were retried or given up.
    pub ancestor_timeouts: u64,
    /// Accepted transactions the ledger refused: must stay 0 (a bug otherwise).
    pub apply_failures: u64,
    /// Dropped messages and vertices, by reason.
    pub dropped: BTreeMap<DropReason, u64>,
    /// Gossiped vertices refused for [`DropReason::IssuerBudget`], by issuer
    /// (its validator index): an operator sees who is over budget.
    pub issuer_budget_refusals: BTreeMap<u16, u64>,
}

impl Metrics {
    pub(crate) fn drop(&mut self, reason: DropReason) {
        *self.dropped.entry(reason).or_insert(0) += 1;
    }

    /// Dropped messages and vertices for one reason.
    pub fn dropped(&self, reason: DropReason) -> u64 {
        self.dropped.get(&reason).copied().unwrap_or(0)
    }

    /// All dropped messages and vertices.
    pub fn dropped_total(&self) -> u64 {
        self.dropped.values().sum()
    }
}
