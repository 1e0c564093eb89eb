//! Latency-bounded admission: under overload a relay sheds new client
//! submissions (`mempool_full`) instead of queueing them, so the transfers
//! it admits keep their finality time.
//!
//! By Little's law the undecided transfers a relay holds are the decision
//! rate times the time a transfer waits. So with the decision rate `R`
//! measured here (transfers accepted per second, smoothed), holding at most
//! `R × QUEUE_TARGET` bounds the average wait near [`QUEUE_TARGET`] once
//! the network is saturated. Below saturation the limit grows on its own:
//! a transfer then waits less than `QUEUE_TARGET`, so the accepted rate,
//! and with it the limit, rises with the offered load until the relays are
//! the bottleneck. [`MIN_PENDING_LIMIT`] lets an idle network take a burst
//! before any rate is measured.
//!
//! Only new client submissions are shed. Gossiped transfers are not: another
//! relay admitted them, and turning them away would only hide from this
//! relay what it must vote on. Local policy: relays need not agree on it.
//!
//! Pure state: the consensus driver owns the one [`Backpressure`], feeds it
//! the engine's accepted count after each batch and asks it before
//! admitting a submission; it publishes the limit in its snapshot, so
//! handlers shed on the snapshot before parsing further or verifying the
//! signature.

use ruv_protocol::api::{codes, ApiError};
use std::time::{Duration, Instant};

/// The average wait a relay aims to bound under overload. Issue 9's target
/// is a p99 of 2 s for admitted transfers at twice the sustainable load;
/// with 1 s the benchmark measured p99 2.0 s, with 750 ms 1.3–1.8 s, and
/// with 500 ms 1.25–1.32 s at the same throughput as 750 ms (paired runs,
/// `docs/benchmarks.md`).
pub const QUEUE_TARGET: Duration = Duration::from_millis(500);
/// Undecided transfers always admitted, whatever the measured rate.
pub const MIN_PENDING_LIMIT: usize = 256;
/// How often the decision rate is measured.
pub const RATE_INTERVAL: Duration = Duration::from_secs(1);

/// What a shed submission is answered (`503 mempool_full`).
pub fn shed_error() -> ApiError {
    ApiError::new(
        codes::MEMPOOL_FULL,
        "the relays are deciding all they can; resubmit later",
    )
}

/// The smoothed decision rate and the limit it sets.
#[derive(Debug, Clone)]
pub struct Backpressure {
    since: Instant,
    accepted_since: u64,
    /// Transfers accepted per second, smoothed over the last intervals.
    rate: f64,
}

impl Backpressure {
    /// No rate measured yet; `accepted` is the engine's accepted count now.
    pub fn new(now: Instant, accepted: u64) -> Self {
        Self {
            since: now,
            accepted_since: accepted,
            rate: 0.0,
        }
    }

    /// Records the engine's accepted count (monotonic); once per
    /// [`RATE_INTERVAL`] folds the interval's rate into the smoothed one
    /// (half the old, half the new: an overload is met within seconds).
    pub fn observe(&mut self, now: Instant, accepted: u64) {
        let elapsed = now.saturating_duration_since(self.since);
        if elapsed < RATE_INTERVAL {
            return;
        }
        let decided = accepted.saturating_sub(self.accepted_since) as f64;
        self.rate = 0.5 * self.rate + 0.5 * decided / elapsed.as_secs_f64();
        self.since = now;
        self.accepted_since = accepted;
    }

    /// Undecided transfers this relay may hold before it sheds submissions.
    pub fn limit(&self) -> usize {
        let bound = (self.rate * QUEUE_TARGET.as_secs_f64()) as usize;
        bound.max(MIN_PENDING_LIMIT)
    }

    /// Whether a new submission is shed while the engine holds `pending`
    /// undecided transfers.
    pub fn sheds(&self, pending: usize) -> bool {
        pending >= self.limit()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_idle_relay_takes_the_minimum() {
        let start = Instant::now();
        let backpressure = Backpressure::new(start, 0);
        assert_eq!(backpressure.limit(), MIN_PENDING_LIMIT);
        assert!(!backpressure.sheds(MIN_PENDING_LIMIT - 1));
        assert!(backpressure.sheds(MIN_PENDING_LIMIT));
    }

    #[test]
    fn the_limit_follows_the_decision_rate() {
        let start = Instant::now();
        let mut backpressure = Backpressure::new(start, 100);
        // Not a whole interval yet: nothing measured.
        backpressure.observe(start + RATE_INTERVAL / 2, 5_000);
        assert_eq!(backpressure.limit(), MIN_PENDING_LIMIT);
        // 2,000 accepted per second for a few intervals.
        let mut accepted = 100;
        for i in 1..=10 {
            accepted += 2_000;
            backpressure.observe(start + RATE_INTERVAL * i, accepted);
        }
        let limit = backpressure.limit();
        let expected = (2_000.0 * QUEUE_TARGET.as_secs_f64()) as usize;
        assert!((expected - 10..=expected).contains(&limit), "{limit}");
        assert!(backpressure.sheds(limit));
        assert!(!backpressure.sheds(limit - 1));
        // The network stops deciding: the limit falls back to the minimum.
        for i in 11..=30 {
            backpressure.observe(start + RATE_INTERVAL * i, accepted);
        }
        assert_eq!(backpressure.limit(), MIN_PENDING_LIMIT);
    }

    #[test]
    fn a_clock_that_does_not_move_forward_changes_nothing() {
        let start = Instant::now() + Duration::from_secs(10);
        let mut backpressure = Backpressure::new(start, 0);
        backpressure.observe(start - Duration::from_secs(5), 1_000_000);
        assert_eq!(backpressure.limit(), MIN_PENDING_LIMIT);
    }
}
