//! Admission control at ingress: which transfers a relay lets into its
//! engine at all, decided before the signature is verified and before any
//! engine work. Pure state, no I/O; the consensus driver owns the one
//! [`PendingTransfers`] and applies the same [`check`] to client submissions
//! and to transfers gossiped by peers; HTTP and WebSocket handlers apply
//! [`check`] early to the published snapshot (which may be one batch old,
//! so the driver checks again, exactly).
//!
//! A transfer is admitted only if
//! - its nonce is within [`NONCE_WINDOW`] above the sender's accepted nonce,
//! - the sender has fewer than [`MAX_PENDING_PER_SENDER`] transfers pending
//!   at this relay, and
//! - the sender's accepted balance covers its amount + fee on top of the
//!   amount + fee of every transfer it already has pending here.
//!
//! So an unfunded key costs a relay one map lookup per transfer, and a
//! funded one can hold at most a bounded, paid-for share of the pool.
//! Gossiped transfers are also limited per peer ([`GOSSIP_TX_PER_PEER_PER_SECOND`]).

use crate::rate::TokenBucket;
use ruv_protocol::api::{codes, ApiError};
use ruv_protocol::ledger::Account;
use ruv_protocol::tx::Transfer;
use ruv_protocol::{Address, TxId};
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// How far above the accepted nonce a transfer's nonce may be: nonces
/// `accepted + 1 ..= accepted + NONCE_WINDOW` are admitted.
pub const NONCE_WINDOW: u64 = 16;
/// Transfers one sender may have pending (admitted, not decided) at a relay.
pub const MAX_PENDING_PER_SENDER: u32 = 16;
/// Transfers gossiped by one peer admitted per second, sustained.
pub const GOSSIP_TX_PER_PEER_PER_SECOND: u32 = 2_000;
/// Burst allowance above [`GOSSIP_TX_PER_PEER_PER_SECOND`].
pub const GOSSIP_TX_PER_PEER_BURST: u32 = 4_000;
/// How often the driver forgets tracked transfers the engine no longer
/// holds (gossip it dropped without a verdict).
pub const SWEEP_INTERVAL: Duration = Duration::from_secs(1);

/// Whether a peer frame is a gossiped transfer.
pub fn is_transaction_gossip(frame: &[u8]) -> bool {
    frame.starts_with(&ruv_consensus::message::TRANSACTION_PREFIX)
}

/// What one sender has pending at this relay.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SenderPending {
    /// Transfers admitted and not decided.
    pub count: u32,
    /// Their amount + fee, summed.
    pub cost: u128,
}

/// Why a transfer is not admitted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The accepted balance does not cover this transfer on top of the pending ones.
    #[error(
        "balance {balance} does not cover amount + fee = {needed} on top of {pending} \
         already pending at this relay"
    )]
    InsufficientFunds {
        /// Accepted balance.
        balance: u64,
        /// This transfer's amount + fee.
        needed: u128,
        /// Amount + fee of the sender's pending transfers.
        pending: u128,
    },
    /// The nonce is too far above the accepted nonce.
    #[error("nonce {got} is more than {NONCE_WINDOW} above the accepted nonce {accepted}")]
    NonceTooFar {
        /// The sender's accepted nonce.
        accepted: u64,
        /// The transfer's.
        got: u64,
    },
    /// The sender already has [`MAX_PENDING_PER_SENDER`] transfers pending.
    #[error(
        "this sender has {MAX_PENDING_PER_SENDER} transfers pending at this relay; \
         resubmit once one is final"
    )]
    TooManyPending,
}

impl Refusal {
    /// The API error (existing codes: a client treats these as it already does).
    pub fn to_api_error(&self) -> ApiError {
        let code = match self {
            Self::InsufficientFunds { .. } => "insufficient_funds",
            Self::NonceTooFar { .. } => "nonce_gap",
            Self::TooManyPending => codes::MEMPOOL_FULL,
        };
        ApiError::new(code, self.to_string())
    }
}

/// The admission rules for `transfer`, given its sender's accepted account
/// and what the sender has pending here. A nonce at or below the accepted
/// one passes (it is stale: refused elsewhere with its own code).
pub fn check(account: Account, pending: SenderPending, transfer: &Transfer) -> Result<(), Refusal> {
    if transfer.nonce > account.nonce.saturating_add(NONCE_WINDOW) {
        return Err(Refusal::NonceTooFar {
            accepted: account.nonce,
            got: transfer.nonce,
        });
    }
    if pending.count >= MAX_PENDING_PER_SENDER {
        return Err(Refusal::TooManyPending);
    }
    let needed = transfer.amount as u128 + transfer.fee as u128;
    if pending.cost + needed > account.balance as u128 {
        return Err(Refusal::InsufficientFunds {
            balance: account.balance,
            needed,
            pending: pending.cost,
        });
    }
    Ok(())
}

/// A transfer admitted at this relay and not decided yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PendingTransfer {
    /// Its sender.
    pub sender: Address,
    /// Its amount + fee.
    pub cost: u128,
}

/// The transfers pending at a relay by id: a persistent map, so the driver
/// publishes it in its snapshot for the price of a clone (handlers tell a
/// resubmission from a new transfer with it, without asking the driver).
pub type PendingIds = imbl::HashMap<TxId, PendingTransfer>;

/// Transfers admitted at this relay and not decided yet, by id and by sender.
#[derive(Debug, Default)]
pub struct PendingTransfers {
    by_id: PendingIds,
    by_sender: HashMap<Address, SenderPending>,
}

impl PendingTransfers {
    /// What `sender` has pending.
    pub fn sender(&self, sender: &Address) -> SenderPending {
        self.by_sender.get(sender).copied().unwrap_or_default()
    }

    /// Every tracked transfer by id (a cheap clone of the persistent map).
    pub fn ids(&self) -> PendingIds {
        self.by_id.clone()
    }

    /// Whether `id` is tracked.
    pub fn contains(&self, id: &TxId) -> bool {
        self.by_id.contains_key(id)
    }

    /// Transfers tracked.
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    /// Whether nothing is tracked.
    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    /// Checks `transfer` (id `id`) against `account` and, if admitted,
    /// tracks it. A transfer already tracked is admitted again without
    /// counting twice (an idempotent resubmission).
    pub fn admit(
        &mut self,
        id: TxId,
        account: Account,
        transfer: &Transfer,
    ) -> Result<(), Refusal> {
        if self.contains(&id) {
            return Ok(());
        }
        check(account, self.sender(&transfer.from), transfer)?;
        let cost = transfer.amount as u128 + transfer.fee as u128;
        self.by_id.insert(
            id,
            PendingTransfer {
                sender: transfer.from,
                cost,
            },
        );
        let entry = self.by_sender.entry(transfer.from).or_default();
        entry.count += 1;
        entry.cost += cost;
        Ok(())
    }

    /// Forgets a decided transfer; returns its sender if it was tracked.
    pub fn remove(&mut self, id: &TxId) -> Option<Address> {
        let PendingTransfer { sender, cost } = self.by_id.remove(id)?;
        if let Some(entry) = self.by_sender.get_mut(&sender) {
            entry.count -= 1;
            entry.cost -= cost;
            if entry.count == 0 {
                self.by_sender.remove(&sender);
            }
        }
        Some(sender)
    }

    /// Forgets every transfer for which `still_pending` is false; returns
    /// the senders whose entries changed.
    pub fn retain(&mut self, mut still_pending: impl FnMut(&TxId) -> bool) -> Vec<Address> {
        let gone: Vec<TxId> = self
            .by_id
            .keys()
            .filter(|id| !still_pending(id))
            .copied()
            .collect();
        gone.iter().filter_map(|id| self.remove(id)).collect()
    }
}

/// Per-peer limits on gossiped transfers.
#[derive(Debug, Default)]
pub struct GossipLimits {
    buckets: HashMap<u16, TokenBucket>,
}

impl GossipLimits {
    /// Whether one more gossiped transfer from `peer` may be looked at now.
    pub fn allow(&mut self, peer: u16, now: Instant) -> bool {
        self.buckets
            .entry(peer)
            .or_insert_with(|| {
                TokenBucket::new(GOSSIP_TX_PER_PEER_PER_SECOND, GOSSIP_TX_PER_PEER_BURST, now)
            })
            .take(now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ruv_protocol::crypto::SigningKey;

    fn transfer(nonce: u64, amount: u64) -> (TxId, Transfer) {
        let key = SigningKey::from_seed(&[7; 32]);
        let transfer = Transfer {
            chain_id: "test".into(),
            from: Address::from_public_key(key.public_key()),
            to: Address::from_bytes([1; 32]),
            amount,
            fee: 10,
            nonce,
            memo: String::new(),
            public_key: key.public_key().clone(),
        };
        let mut id = [0u8; 32];
        id[..8].copy_from_slice(&nonce.to_le_bytes());
        id[8..16].copy_from_slice(&amount.to_le_bytes());
        (TxId(id), transfer)
    }

    #[test]
    fn unfunded_senders_and_far_nonces_are_refused() {
        let (_, t) = transfer(1, 5);
        let empty = Account::default();
        assert!(matches!(
            check(empty, SenderPending::default(), &t),
            Err(Refusal::InsufficientFunds {
                balance: 0,
                needed: 15,
                ..
            })
        ));
        let funded = Account {
            balance: 1_000,
            nonce: 3,
        };
        let (_, far) = transfer(3 + NONCE_WINDOW + 1, 5);
        assert_eq!(
            check(funded, SenderPending::default(), &far)
                .unwrap_err()
                .to_api_error()
                .code,
            "nonce_gap"
        );
        let (_, edge) = transfer(3 + NONCE_WINDOW, 5);
        assert_eq!(check(funded, SenderPending::default(), &edge), Ok(()));
    }

    #[test]
    fn pending_transfers_count_against_balance_and_cap() {
        let mut pending = PendingTransfers::default();
        let account = Account {
            balance: 40,
            nonce: 0,
        };
        let (a, t1) = transfer(1, 10); // costs 20
        let (b, t2) = transfer(2, 10); // 20 more: exactly the balance
        let (c, t3) = transfer(3, 1); // 11 more: too much
        pending.admit(a, account, &t1).unwrap();
        pending.admit(a, account, &t1).unwrap(); // resubmission: not counted twice
        pending.admit(b, account, &t2).unwrap();
        assert_eq!(
            pending.sender(&t1.from),
            SenderPending { count: 2, cost: 40 }
        );
        assert!(matches!(
            pending.admit(c, account, &t3),
            Err(Refusal::InsufficientFunds { pending: 40, .. })
        ));
        assert_eq!(pending.remove(&a), Some(t1.from));
        pending.admit(c, account, &t3).unwrap();
        assert_eq!(pending.retain(|id| *id != b), vec![t1.from]);
        assert_eq!(pending.sender(&t1.from).count, 1);

        let rich = Account {
            balance: u64::MAX,
            nonce: 0,
        };
        let mut pending = PendingTransfers::default();
        for n in 1..=u64::from(MAX_PENDING_PER_SENDER) {
            let (id, t) = transfer(n, 1);
            pending.admit(id, rich, &t).unwrap();
        }
        let (id, t) = transfer(1, 2);
        assert_eq!(pending.admit(id, rich, &t), Err(Refusal::TooManyPending));
        assert_eq!(
            Refusal::TooManyPending.to_api_error().code,
            codes::MEMPOOL_FULL
        );
    }

    #[test]
    fn gossiped_transfers_are_recognised_by_their_prefix() {
        let key = SigningKey::from_seed(&[7; 32]);
        let (_, t) = transfer(1, 5);
        let tx = std::sync::Arc::new(t.sign(&key, [0; 32]).unwrap());
        let frame = ruv_consensus::Message::Transaction(tx).encode();
        assert!(is_transaction_gossip(&frame));
        let query = ruv_consensus::Message::Query { request_id: 0 }.encode();
        assert!(!is_transaction_gossip(&query));
        assert!(!is_transaction_gossip(&[]));
    }

    #[test]
    fn gossip_is_limited_per_peer() {
        let now = Instant::now();
        let mut limits = GossipLimits::default();
        let allowed = (0..GOSSIP_TX_PER_PEER_BURST + 10)
            .filter(|_| limits.allow(1, now))
            .count();
        assert_eq!(allowed, GOSSIP_TX_PER_PEER_BURST as usize);
        assert!(limits.allow(2, now), "another peer has its own budget");
        assert!(limits.allow(1, now + Duration::from_millis(10)));
    }
}
