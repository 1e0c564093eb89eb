//! Reconnection delays: capped exponential backoff with jitter, so many
//! wallets that lose the same relay do not all come back in the same instant.

/// Backoff parameters, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// Delay scale of the first retry.
    pub base_ms: u64,
    /// Upper bound of any delay.
    pub max_ms: u64,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            base_ms: 250,
            max_ms: 15_000,
        }
    }
}

impl Backoff {
    /// The delay before retry number `attempt` (0-based), given a uniformly
    /// random `random`: half of the capped exponential step, plus a random
    /// share of the other half ("equal jitter": never zero, never above the cap).
    pub fn delay_ms(&self, attempt: u32, random: u32) -> u64 {
        let step = self
            .base_ms
            .saturating_mul(1u64.checked_shl(attempt.min(32)).unwrap_or(u64::MAX));
        let cap = step.min(self.max_ms).max(1);
        let half = cap / 2;
        half + u64::from(random) % (cap - half + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_then_caps_and_stays_in_range() {
        let b = Backoff {
            base_ms: 100,
            max_ms: 1_000,
        };
        for attempt in 0..70 {
            let cap = (100u64 << attempt.min(20)).min(1_000);
            for random in [0, 1, 12345, u32::MAX / 2, u32::MAX] {
                let d = b.delay_ms(attempt, random);
                assert!(
                    d >= cap / 2 && d <= cap,
                    "attempt {attempt} random {random}: {d}"
                );
            }
        }
        assert_eq!(b.delay_ms(0, 0), 50);
        assert_eq!(b.delay_ms(3, 0), 400);
        assert_eq!(b.delay_ms(9, 0), 500);
    }

    #[test]
    fn jitter_spreads_delays() {
        let b = Backoff::default();
        let delays: std::collections::BTreeSet<u64> = (0..100u32)
            .map(|r| b.delay_ms(4, r.wrapping_mul(2_654_435_761)))
            .collect();
        assert!(delays.len() > 50);
    }
}
