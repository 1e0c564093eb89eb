//! The token bucket every rate limit of the relay uses (one home): `rate`
//! tokens per second refill up to `burst`; each admitted event takes one.

use std::time::Instant;

/// A token bucket.
#[derive(Debug, Clone)]
pub struct TokenBucket {
    tokens: f64,
    last: Instant,
    per_second: f64,
    burst: f64,
}

impl TokenBucket {
    /// A full bucket: `per_second` tokens a second, up to `burst`.
    pub fn new(per_second: u32, burst: u32, now: Instant) -> Self {
        Self::with_rate(per_second as f64, burst, now)
    }

    /// A full bucket refilling at a fractional rate.
    pub fn with_rate(per_second: f64, burst: u32, now: Instant) -> Self {
        Self {
            tokens: burst as f64,
            last: now,
            per_second,
            burst: burst as f64,
        }
    }

    /// Takes a token if there is one.
    pub fn take(&mut self, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.per_second).min(self.burst);
        self.last = self.last.max(now);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// Whether the bucket is full again (nothing to remember about its owner).
    pub fn is_full(&self, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.tokens + elapsed * self.per_second >= self.burst
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn refills_at_the_rate_up_to_the_burst() {
        let t0 = Instant::now();
        let mut bucket = TokenBucket::new(10, 3, t0);
        assert_eq!((0..5).filter(|_| bucket.take(t0)).count(), 3);
        assert!(!bucket.is_full(t0));
        let later = t0 + Duration::from_millis(100);
        assert!(bucket.take(later));
        assert!(!bucket.take(later));
        assert!(bucket.is_full(t0 + Duration::from_secs(10)));
        assert_eq!(
            (0..5)
                .filter(|_| bucket.take(t0 + Duration::from_secs(10)))
                .count(),
            3
        );
    }
}
