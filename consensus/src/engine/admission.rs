//! What this relay admits into its DAG from other issuers: doomed vertices
//! are not kept, and each issuer has a budget of vertices and bytes.
//!
//! # Which rule is deterministic and which is local policy
//!
//! Honest relays must agree on which vertices are accepted and on every
//! transaction's outcome. Whether a vertex is *valid* (signature, height,
//! parents, its transactions in its ancestry) is decided from the vertex and
//! its ancestry alone, so every honest relay decides it the same way. Nothing
//! in this file changes validity or decisions: both rules below are **local
//! policy**. They depend on arrival order and this relay's clock, so they
//! only decide what this relay keeps, votes for and builds on *now*; a vertex
//! they turn away is never marked invalid and is admitted as an ordinary
//! vertex whenever this relay needs it (see "needed" below).
//!
//! - **Doomed vertices** (local policy). A vertex arriving by gossip that can
//!   add nothing undecided — every transaction in it is already accepted
//!   here, or it can never be accepted (a rejected parent, a transaction
//!   whose nonce an accepted transfer used, conflicting ancestry), or it
//!   holds no transaction and none of its parents is undecided (a merge
//!   that merges nothing) — is *doomed*: this relay does not store it, does
//!   not add it to the DAG (so never votes for it or picks it as a parent)
//!   and only remembers its id in a bounded set, so the same bytes gossiped
//!   again cost no signature check. Why it is safe: a relay that received
//!   the same vertex earlier, before those transfers were decided there,
//!   holds it as an ordinary vertex and accepts it as soon as its parents
//!   are accepted (its transactions are all decided) — a copy decides
//!   nothing: the ledger is the same with or without it. Rejection-doomed
//!   vertices are rejected by every honest relay anyway. And this relay is
//!   never stuck: a vertex is *needed* when this relay asked for it (a
//!   missing parent of a vertex it parked, or a vertex a peer's chits named)
//!   or a parked vertex waits for it; a needed vertex is admitted as an
//!   ordinary one, so a child another relay accepted fetches its doomed
//!   parent again, which is then accepted at once (copies) or rejected
//!   (rejection-doomed) exactly as everywhere else.
//! - **Issuer budgets** (local policy). Every other issuer has a token bucket
//!   of [`Tuning::issuer_budget_vertices`] vertices and
//!   [`Tuning::issuer_budget_bytes`] bytes that refills in full over
//!   [`Tuning::issuer_budget_window_ms`]. Each of its vertices that arrives
//!   by gossip and passes its checks is charged, whether stored or turned
//!   away as doomed (after its signature verified, so nobody can spend
//!   another issuer's budget); one that is accepted holding a transfer it
//!   applied first is refunded. Vertices this relay asked for are not
//!   charged: it needs them, and an issuer must not run into debt because
//!   a partition made this relay fetch its backlog. So honest issuers pay
//!   only for merges and the rare vertex that loses a conflict or repeats a
//!   transfer, while rejected and doomed vertices are paid for until the
//!   window refills them. Over budget, the issuer's gossiped
//!   vertices are refused before any signature check (metric
//!   `issuer_budget`) and not remembered as invalid: a needed one is
//!   admitted regardless, so a refusal delays at most what this relay votes
//!   for, never what it can decide.
//!
//! [`Tuning::issuer_budget_vertices`]: super::Tuning::issuer_budget_vertices
//! [`Tuning::issuer_budget_bytes`]: super::Tuning::issuer_budget_bytes
//! [`Tuning::issuer_budget_window_ms`]: super::Tuning::issuer_budget_window_ms

use crate::vertex::{ValidatorIndex, VertexId};
use std::collections::BTreeSet;

/// Doomed vertex ids remembered at most (32 bytes each, about 3 MiB); then
/// the memory starts over (a forgotten one costs a signature check again).
pub(crate) const MAX_REMEMBERED_DOOMED: usize = 100_000;

/// The ids of doomed vertices this relay turned away.
#[derive(Debug, Default)]
pub(crate) struct DoomedIds {
    ids: BTreeSet<VertexId>,
}

impl DoomedIds {
    pub(crate) fn contains(&self, id: &VertexId) -> bool {
        self.ids.contains(id)
    }

    pub(crate) fn remember(&mut self, id: VertexId) {
        if self.ids.len() >= MAX_REMEMBERED_DOOMED {
            self.ids.clear();
        }
        self.ids.insert(id);
    }

    /// A doomed vertex became needed and is admitted after all.
    pub(crate) fn forget(&mut self, id: &VertexId) {
        self.ids.remove(id);
    }

    pub(crate) fn len(&self) -> usize {
        self.ids.len()
    }
}

/// Capacity and refill of every issuer's bucket.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BudgetLimits {
    pub(crate) vertices: u64,
    pub(crate) bytes: u64,
    pub(crate) window_ms: u64,
}

/// One issuer's use, scaled by the window: a vertex adds `window_ms`, and
/// every millisecond takes `capacity` away, so the bucket refills in full
/// over one window without rounding a slow refill down to nothing.
#[derive(Debug, Clone, Copy, Default)]
struct Bucket {
    vertices: u128,
    bytes: u128,
    updated_ms: u64,
}

/// Every other issuer's budget.
#[derive(Debug)]
pub(crate) struct IssuerBudgets {
    limits: BudgetLimits,
    buckets: Vec<Bucket>,
}

impl IssuerBudgets {
    pub(crate) fn new(validator_count: usize, limits: BudgetLimits) -> Self {
        Self {
            limits,
            buckets: vec![Bucket::default(); validator_count],
        }
    }

    /// The issuer's bucket brought up to `now_ms` (refilled since its last update).
    fn level(&self, issuer: ValidatorIndex, now_ms: u64) -> Option<Bucket> {
        let limits = self.limits;
        let bucket = *self.buckets.get(issuer.0 as usize)?;
        let elapsed = u128::from(now_ms.saturating_sub(bucket.updated_ms));
        Some(Bucket {
            vertices: bucket
                .vertices
                .saturating_sub(elapsed * u128::from(limits.vertices)),
            bytes: bucket
                .bytes
                .saturating_sub(elapsed * u128::from(limits.bytes)),
            updated_ms: bucket.updated_ms.max(now_ms),
        })
    }

    fn bucket(&mut self, issuer: ValidatorIndex, now_ms: u64) -> Option<&mut Bucket> {
        let level = self.level(issuer, now_ms)?;
        let bucket = self.buckets.get_mut(issuer.0 as usize)?;
        *bucket = level;
        Some(bucket)
    }

    /// Whether one more vertex of `bytes` from `issuer` would exceed its budget.
    pub(crate) fn exhausted(&self, issuer: ValidatorIndex, bytes: usize, now_ms: u64) -> bool {
        let limits = self.limits;
        let window = u128::from(limits.window_ms.max(1));
        let Some(bucket) = self.level(issuer, now_ms) else {
            return false;
        };
        bucket.vertices + window > u128::from(limits.vertices) * window
            || bucket.bytes + bytes as u128 * window > u128::from(limits.bytes) * window
    }

    /// Charges a vertex stored or turned away as doomed.
    pub(crate) fn charge(&mut self, issuer: ValidatorIndex, bytes: usize, now_ms: u64) {
        let window = u128::from(self.limits.window_ms.max(1));
        if let Some(bucket) = self.bucket(issuer, now_ms) {
            bucket.vertices = bucket.vertices.saturating_add(window);
            bucket.bytes = bucket.bytes.saturating_add(bytes as u128 * window);
        }
    }

    /// Refunds a vertex accepted with a transfer it applied first.
    pub(crate) fn refund(&mut self, issuer: ValidatorIndex, bytes: usize, now_ms: u64) {
        let window = u128::from(self.limits.window_ms.max(1));
        if let Some(bucket) = self.bucket(issuer, now_ms) {
            bucket.vertices = bucket.vertices.saturating_sub(window);
            bucket.bytes = bucket.bytes.saturating_sub(bytes as u128 * window);
        }
    }

    /// Vertices of the budget `issuer` has used (rounded up).
    pub(crate) fn used_vertices(&self, issuer: ValidatorIndex, now_ms: u64) -> u64 {
        let window = u128::from(self.limits.window_ms.max(1));
        self.level(issuer, now_ms)
            .map_or(0, |b| b.vertices.div_ceil(window) as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn budgets() -> IssuerBudgets {
        IssuerBudgets::new(
            2,
            BudgetLimits {
                vertices: 10,
                bytes: 1_000,
                window_ms: 1_000,
            },
        )
    }

    #[test]
    fn a_bucket_fills_refills_over_its_window_and_refunds() {
        let mut b = budgets();
        let issuer = ValidatorIndex(1);
        for _ in 0..10 {
            assert!(!b.exhausted(issuer, 10, 0));
            b.charge(issuer, 10, 0);
        }
        assert!(b.exhausted(issuer, 10, 0));
        assert!(
            !b.exhausted(ValidatorIndex(0), 10, 0),
            "buckets are per issuer"
        );
        // A tenth of the window gives one vertex back.
        assert!(!b.exhausted(issuer, 10, 100));
        b.refund(issuer, 10, 100);
        assert_eq!(b.used_vertices(issuer, 100), 8);
        assert_eq!(b.used_vertices(issuer, 5_000), 0);
    }

    #[test]
    fn bytes_count_as_well_as_vertices() {
        let mut b = budgets();
        let issuer = ValidatorIndex(0);
        b.charge(issuer, 900, 0);
        assert!(b.exhausted(issuer, 200, 0));
        assert!(!b.exhausted(issuer, 100, 0));
        assert!(
            !b.exhausted(ValidatorIndex(9), 100_000, 0),
            "unknown issuers are refused elsewhere"
        );
    }
}
