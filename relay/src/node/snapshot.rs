//! The read model the consensus driver publishes after every batch: what
//! HTTP and WebSocket handlers answer from without asking the driver.
//!
//! The driver keeps one master [`Snapshot`] and changes only what a batch
//! touched; publishing clones it, which costs O(1) because the maps are
//! persistent (imbl's HAMT shares every unchanged node between versions).
//! A reader holds an `Arc<Snapshot>` for as long as it likes: it never
//! blocks the driver and never sees a half-applied batch.

use crate::admission::{PendingIds, SenderPending};
use ruv_protocol::api::AccountInfo;
use ruv_protocol::checkpoint::CertifiedCheckpoint;
use ruv_protocol::ledger::Account;
use ruv_protocol::{Address, TxId};
use std::sync::Arc;

/// An immutable view of the relay's accepted state after one batch.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// False once storage failed: the relay stopped deciding.
    pub healthy: bool,
    /// Every account with a balance or a nonce, in the accepted state.
    pub accounts: imbl::HashMap<Address, Account>,
    /// Transactions accepted (final) since genesis, as the engine counts them.
    pub accepted_transactions: u64,
    /// Transactions known to the engine but not decided.
    pub pending_transactions: u64,
    /// Undecided transactions held before new submissions are shed
    /// (`crate::backpressure`); 0 until the driver published one.
    pub pending_limit: u64,
    /// The latest certified checkpoint.
    pub latest_checkpoint: Option<Arc<CertifiedCheckpoint>>,
    /// What each sender has pending at this relay (admission control).
    pub pending_by_sender: imbl::HashMap<Address, SenderPending>,
    /// The transfers pending at this relay, by id.
    pub pending_ids: PendingIds,
    /// Peer messages the engine dropped (unknown senders, malformed, over limits).
    pub engine_messages_dropped: u64,
}

impl Snapshot {
    /// Whether new submissions are shed (`mempool_full`) as of this batch:
    /// the engine held at least `pending_limit` undecided transactions.
    pub fn sheds_submissions(&self) -> bool {
        self.pending_limit > 0 && self.pending_transactions >= self.pending_limit
    }

    /// Whether a submission is shed on this snapshot, before its signature
    /// is checked: new submissions are while [`Self::sheds_submissions`],
    /// except a resubmission of a transfer pending here (the driver answers
    /// it with its status). `id` is computed only for a sender with
    /// transfers pending, the only one that can be resubmitting.
    pub fn sheds_submission(
        &self,
        sender_pending: SenderPending,
        id: impl FnOnce() -> TxId,
    ) -> bool {
        self.sheds_submissions()
            && (sender_pending.count == 0 || !self.pending_ids.contains_key(&id()))
    }

    /// An account in the accepted state (zero balance and nonce if unknown).
    pub fn account(&self, address: Address) -> AccountInfo {
        AccountInfo::new(address, self.account_state(&address))
    }

    /// An account's balance and nonce in the accepted state.
    pub fn account_state(&self, address: &Address) -> Account {
        self.accounts.get(address).copied().unwrap_or_default()
    }

    /// What `sender` has pending at this relay.
    pub fn sender_pending(&self, sender: &Address) -> SenderPending {
        self.pending_by_sender
            .get(sender)
            .copied()
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::admission::PendingTransfer;

    #[test]
    fn while_shedding_only_resubmissions_of_pending_transfers_pass() {
        let sender = Address::from_bytes([1; 32]);
        let (pending, new) = (TxId([2; 32]), TxId([3; 32]));
        let mut snapshot = Snapshot {
            pending_limit: 10,
            pending_transactions: 10,
            ..Snapshot::default()
        };
        snapshot
            .pending_ids
            .insert(pending, PendingTransfer { sender, cost: 5 });
        let has_one = SenderPending { count: 1, cost: 5 };
        assert!(!snapshot.sheds_submission(has_one, || pending));
        assert!(snapshot.sheds_submission(has_one, || new));
        // A sender with nothing pending cannot be resubmitting: no id needed.
        assert!(snapshot.sheds_submission(SenderPending::default(), || unreachable!()));
        // Under the limit nothing is shed.
        snapshot.pending_transactions = 9;
        assert!(!snapshot.sheds_submission(SenderPending::default(), || new));
        assert!(!snapshot.sheds_submission(has_one, || new));
    }
}
