//! A byte budget shared by the two ends of a queue: the producer reserves a
//! frame's bytes before queueing it (and drops the frame if they do not
//! fit); the consumer releases them when it takes the frame out. Bounds a
//! queue by what it holds, not by how many frames (frames range from a few
//! bytes to `MAX_PEER_FRAME`).

use std::sync::atomic::{AtomicUsize, Ordering};

/// Bytes in a queue, at most `limit`.
#[derive(Debug)]
pub struct ByteBudget {
    used: AtomicUsize,
    limit: usize,
}

impl ByteBudget {
    /// An empty budget of `limit` bytes.
    pub fn new(limit: usize) -> Self {
        Self {
            used: AtomicUsize::new(0),
            limit,
        }
    }

    /// Reserves `bytes` if they fit; false (nothing reserved) if not.
    pub fn try_reserve(&self, bytes: usize) -> bool {
        self.used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| {
                used.checked_add(bytes).filter(|total| *total <= self.limit)
            })
            .is_ok()
    }

    /// Gives back `bytes` reserved earlier.
    pub fn release(&self, bytes: usize) {
        // Saturating: a release never exceeds what was reserved, but a
        // wrap-around here would disable the bound, so never let it.
        let _ = self
            .used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| {
                Some(used.saturating_sub(bytes))
            });
    }

    /// Bytes reserved now.
    pub fn used(&self) -> usize {
        self.used.load(Ordering::Acquire)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holds_at_most_its_limit() {
        let budget = ByteBudget::new(100);
        assert!(budget.try_reserve(60));
        assert!(!budget.try_reserve(41), "over the limit");
        assert!(budget.try_reserve(40));
        assert_eq!(budget.used(), 100);
        assert!(!budget.try_reserve(1));
        budget.release(60);
        assert!(budget.try_reserve(60));
        assert!(!budget.try_reserve(usize::MAX), "no overflow");
        budget.release(1_000);
        assert_eq!(budget.used(), 0);
    }
}
