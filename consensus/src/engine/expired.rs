//! The transactions the engine let expire: dropped after failing to issue
//! for [`super::Tuning::tx_retry_ttl_ms`], never in a decided vertex. Kept so
//! [`super::Engine::tx_status`] can tell "expired, nonce unused" apart from
//! "never seen"; bounded by count, oldest forgotten first.

use std::collections::{HashSet, VecDeque};

use ruv_protocol::TxId;

/// How many expired transactions [`super::Engine::tx_status`] remembers.
/// Older ones read as [`super::TxStatus::Unknown`] again.
pub const REMEMBERED_EXPIRED_TXS: usize = 4096;

/// Expired transaction ids, in expiry order.
#[derive(Debug, Default)]
pub(crate) struct ExpiredTxs {
    ids: HashSet<TxId>,
    order: VecDeque<TxId>,
}

impl ExpiredTxs {
    /// Remembers `id` as expired, forgetting the oldest beyond the bound.
    pub(crate) fn insert(&mut self, id: TxId) {
        if !self.ids.insert(id) {
            return;
        }
        self.order.push_back(id);
        while self.order.len() > REMEMBERED_EXPIRED_TXS {
            if let Some(old) = self.order.pop_front() {
                self.ids.remove(&old);
            }
        }
    }

    /// Forgets `id` (it came back: resubmitted, gossiped or in a vertex).
    pub(crate) fn remove(&mut self, id: &TxId) {
        if self.ids.remove(id) {
            self.order.retain(|o| o != id);
        }
    }

    pub(crate) fn contains(&self, id: &TxId) -> bool {
        self.ids.contains(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_oldest_is_forgotten_beyond_the_bound() {
        let mut expired = ExpiredTxs::default();
        let id = |i: usize| TxId(id_bytes(i));
        for i in 0..=REMEMBERED_EXPIRED_TXS {
            expired.insert(id(i));
        }
        assert!(!expired.contains(&id(0)));
        assert!(expired.contains(&id(1)));
        assert!(expired.contains(&id(REMEMBERED_EXPIRED_TXS)));
        expired.remove(&id(1));
        assert!(!expired.contains(&id(1)));
        assert_eq!(expired.order.len(), REMEMBERED_EXPIRED_TXS - 1);
    }

    fn id_bytes(i: usize) -> [u8; 32] {
        let mut bytes = [0; 32];
        bytes[..8].copy_from_slice(&(i as u64).to_le_bytes());
        bytes
    }
}
