//! The simulated packet network: every message gets a random latency (which
//! also reorders), some are lost or duplicated, and a partition drops
//! whatever crosses it. Deliveries wait in the run's event queue, ordered by
//! simulated time and then by scheduling order.

use crate::Simulation;
use std::cmp::Reverse;
use std::sync::Arc;

#[derive(Debug)]
pub(crate) enum Event {
    Deliver {
        from: usize,
        to: usize,
        bytes: Arc<Vec<u8>>,
    },
    Tick {
        node: usize,
    },
    Submit {
        tx: usize,
        node: usize,
    },
    Crash {
        node: usize,
    },
    Restart {
        node: usize,
    },
    Partition {
        side: Vec<bool>,
    },
    Heal,
    Equivocate {
        node: usize,
    },
    Flood {
        node: usize,
    },
    TimedCrash {
        node: usize,
        pair: usize,
    },
    /// A message the relay `node` could not hand to `to` (crashed or cut
    /// off): fed back to its engine, as the relay's driver does.
    Undeliverable {
        node: usize,
        to: usize,
        message: ruv_consensus::message::Message,
    },
    Bait {
        node: usize,
    },
    Poison {
        node: usize,
        bait: usize,
    },
    WorkloadEnd,
    Check,
}

#[derive(Debug)]
pub(crate) struct Queued {
    pub(crate) at: u64,
    pub(crate) seq: u64,
    pub(crate) event: Event,
}

impl PartialEq for Queued {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}
impl Eq for Queued {}
impl PartialOrd for Queued {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Queued {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.at, self.seq).cmp(&(other.at, other.seq))
    }
}

impl Simulation<'_> {
    pub(crate) fn schedule(&mut self, at: u64, event: Event) {
        self.seq += 1;
        self.queue.push(Reverse(Queued {
            at,
            seq: self.seq,
            event,
        }));
    }

    pub(crate) fn partitioned(&self, a: usize, b: usize) -> bool {
        self.partition
            .as_ref()
            .is_some_and(|side| side[a] != side[b] && !self.bridges[a] && !self.bridges[b])
    }

    pub(crate) fn send(&mut self, from: usize, to: usize, bytes: Arc<Vec<u8>>) {
        if from == to || to >= self.nodes.len() {
            return;
        }
        if self.partitioned(from, to) || self.random(100) < self.scenario.drop_percent as u64 {
            self.messages_lost += 1;
            return;
        }
        let copies = if self.random(100) < self.scenario.duplicate_percent as u64 {
            2
        } else {
            1
        };
        for _ in 0..copies {
            let (low, high) = self.scenario.latency_ms;
            let latency = low + self.random(high.saturating_sub(low) + 1);
            self.schedule(
                self.now + latency,
                Event::Deliver {
                    from,
                    to,
                    bytes: bytes.clone(),
                },
            );
        }
    }
}
