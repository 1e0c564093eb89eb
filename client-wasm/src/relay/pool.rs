//! The sans-IO core of a relay pool: which relay to try next and how long to
//! wait first, and the pool's own subscriptions, which outlive any one
//! connection (each new connection subscribes again; the relay's snapshot of
//! the current state arrives first, so a change during the gap is not missed).

use super::backoff::Backoff;
use super::core::Target;
use super::url::websocket_url;
use crate::error::{codes, ClientError};
use ruv_protocol::api::{TxState, WsEvent};
use std::collections::BTreeMap;

/// Most relays one pool rotates over.
pub const MAX_POOL_RELAYS: usize = 16;

/// A subscription of the pool (not of one connection).
#[derive(Debug, Clone, PartialEq)]
pub struct PoolSubscription {
    /// What it watches.
    pub target: Target,
    /// The last event delivered, to drop the repeat a resubscription's
    /// snapshot gives when nothing changed.
    pub last: Option<WsEvent>,
}

/// Relay rotation, backoff and the pool's subscriptions.
#[derive(Debug)]
pub struct PoolCore {
    urls: Vec<String>,
    next: usize,
    failures_in_round: usize,
    round: u32,
    backoff: Backoff,
    subscriptions: BTreeMap<u64, PoolSubscription>,
    next_subscription: u64,
}

impl PoolCore {
    /// A pool over `urls` (each a relay URL as [`websocket_url`] takes;
    /// duplicates are dropped, order is kept: the first is tried first).
    pub fn new(urls: &[String], backoff: Backoff) -> Result<Self, ClientError> {
        let mut unique: Vec<String> = Vec::new();
        for url in urls {
            let url = websocket_url(url)?;
            if !unique.contains(&url) {
                unique.push(url);
            }
        }
        if unique.is_empty() || unique.len() > MAX_POOL_RELAYS {
            return Err(ClientError::new(
                codes::INVALID_PARAMS,
                format!("a relay pool needs 1 to {MAX_POOL_RELAYS} relay URLs"),
            ));
        }
        Ok(Self {
            urls: unique,
            next: 0,
            failures_in_round: 0,
            round: 0,
            backoff,
            subscriptions: BTreeMap::new(),
            next_subscription: 1,
        })
    }

    /// The relays, in rotation order.
    pub fn urls(&self) -> &[String] {
        &self.urls
    }

    /// The relay to try now.
    pub fn candidate(&self) -> &str {
        &self.urls[self.next]
    }

    /// A connection to the candidate is up: the next failure starts a fresh round.
    pub fn connected(&mut self) {
        self.failures_in_round = 0;
        self.round = 0;
    }

    /// The candidate failed or an open connection to it was lost: move on to
    /// the next relay, and return how long to wait before trying it. Relays
    /// are tried back to back; once all have failed in a row, the wait grows
    /// with each full round (capped exponential, jittered by `random`).
    pub fn failed(&mut self, random: u32) -> u64 {
        self.next = (self.next + 1) % self.urls.len();
        self.failures_in_round += 1;
        if self.failures_in_round < self.urls.len() {
            return 0;
        }
        self.failures_in_round = 0;
        let delay = self.backoff.delay_ms(self.round, random);
        self.round = self.round.saturating_add(1);
        delay
    }

    /// Adds a subscription; returns its pool-wide id.
    pub fn subscribe(&mut self, target: Target) -> u64 {
        let id = self.next_subscription;
        self.next_subscription += 1;
        self.subscriptions
            .insert(id, PoolSubscription { target, last: None });
        id
    }

    /// Removes a subscription; false if there was none with this id.
    pub fn unsubscribe(&mut self, id: u64) -> bool {
        self.subscriptions.remove(&id).is_some()
    }

    /// The live subscriptions (to subscribe again on a new connection).
    pub fn subscriptions(&self) -> impl Iterator<Item = (u64, &PoolSubscription)> {
        self.subscriptions.iter().map(|(id, s)| (*id, s))
    }

    /// Whether subscription `id` is live.
    pub fn is_subscribed(&self, id: u64) -> bool {
        self.subscriptions.contains_key(&id)
    }

    /// An event for subscription `id` from whichever connection carries it
    /// (already checked against its target by that connection's core).
    /// Returns whether to deliver it: not after unsubscribing, not twice in a
    /// row, and never a transaction status after a final one. A final
    /// transaction status ends the subscription.
    pub fn on_event(&mut self, id: u64, event: &WsEvent) -> bool {
        let Some(sub) = self.subscriptions.get_mut(&id) else {
            return false;
        };
        if sub.last.as_ref() == Some(event) {
            return false;
        }
        let finished = matches!(event, WsEvent::Transaction(s) if s.status != TxState::Pending);
        sub.last = Some(event.clone());
        if finished {
            self.subscriptions.remove(&id);
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ruv_protocol::api::{AccountInfo, TxStatus};
    use ruv_protocol::{Address, TxId};

    fn pool(urls: &[&str]) -> PoolCore {
        let urls: Vec<String> = urls.iter().map(|u| u.to_string()).collect();
        PoolCore::new(
            &urls,
            Backoff {
                base_ms: 100,
                max_ms: 10_000,
            },
        )
        .unwrap()
    }

    #[test]
    fn urls_are_normalized_and_deduplicated() {
        let p = pool(&["http://a:1", "ws://a:1/api/v1/ws", "ws://b:2"]);
        assert_eq!(p.urls(), ["ws://a:1/api/v1/ws", "ws://b:2/api/v1/ws"]);
        assert!(PoolCore::new(&[], Backoff::default()).is_err());
        assert!(PoolCore::new(&["ftp://x".into()], Backoff::default()).is_err());
        let many: Vec<String> = (0..=MAX_POOL_RELAYS)
            .map(|i| format!("ws://h:{}", 1000 + i))
            .collect();
        assert_eq!(
            PoolCore::new(&many, Backoff::default()).unwrap_err().code,
            codes::INVALID_PARAMS
        );
    }

    #[test]
    fn rotates_back_to_back_then_backs_off_per_round() {
        let mut p = pool(&["ws://a:1", "ws://b:2", "ws://c:3"]);
        assert_eq!(p.candidate(), "ws://a:1/api/v1/ws");
        assert_eq!(p.failed(0), 0);
        assert_eq!(p.candidate(), "ws://b:2/api/v1/ws");
        assert_eq!(p.failed(0), 0);
        assert_eq!(p.candidate(), "ws://c:3/api/v1/ws");
        // All three failed: wait before the next round, longer each round.
        assert_eq!(p.failed(0), 50);
        assert_eq!(p.candidate(), "ws://a:1/api/v1/ws");
        assert_eq!((p.failed(0), p.failed(0), p.failed(0)), (0, 0, 100));
        assert_eq!((p.failed(0), p.failed(0), p.failed(0)), (0, 0, 200));
        // A success resets the schedule, and rotation continues from where it is.
        p.connected();
        assert_eq!(p.candidate(), "ws://a:1/api/v1/ws");
        assert_eq!((p.failed(0), p.failed(0), p.failed(0)), (0, 0, 50));
    }

    #[test]
    fn a_single_relay_always_waits() {
        let mut p = pool(&["ws://a:1"]);
        let delays: Vec<u64> = (0..4).map(|_| p.failed(0)).collect();
        assert_eq!(delays, [50, 100, 200, 400]);
        assert!(delays.iter().all(|d| *d > 0));
    }

    #[test]
    fn subscriptions_survive_and_repeat_snapshots_are_dropped() {
        let mut p = pool(&["ws://a:1"]);
        let address = Address::from_bytes([1; 32]);
        let id = p.subscribe(Target::Account(address));
        let ev = |balance| {
            WsEvent::Account(AccountInfo {
                address,
                balance,
                nonce: 0,
            })
        };
        assert!(p.on_event(id, &ev(5)));
        // The snapshot after a reconnect repeats the same state: not delivered.
        assert!(!p.on_event(id, &ev(5)));
        assert!(p.on_event(id, &ev(7)));
        assert_eq!(p.subscriptions().count(), 1);
        assert!(p.unsubscribe(id));
        assert!(!p.on_event(id, &ev(9)));
        assert!(!p.unsubscribe(id));
    }

    #[test]
    fn a_transaction_subscription_ends_at_its_final_status() {
        let mut p = pool(&["ws://a:1"]);
        let txid = TxId([3; 32]);
        let id = p.subscribe(Target::Transaction(txid));
        let ev = |status| {
            WsEvent::Transaction(TxStatus {
                id: txid,
                status,
                reason: None,
            })
        };
        assert!(p.on_event(id, &ev(TxState::Pending)));
        assert!(p.on_event(id, &ev(TxState::Accepted)));
        assert!(!p.is_subscribed(id));
        // Another relay that is behind cannot take it back to pending.
        assert!(!p.on_event(id, &ev(TxState::Pending)));
        let other = p.subscribe(Target::Transaction(txid));
        assert_ne!(other, id, "ids are never reused");
    }
}
