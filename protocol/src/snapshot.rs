//! The ledger state at a certified checkpoint, as bytes: what a relay stores
//! so it can restart without replaying history, and what it can hand to
//! another relay. It is trusted only after [`StateSnapshot::verify`] has
//! checked it against a certified header (state root, supply split, number
//! and id), so a snapshot from disk or from a peer is as good as the
//! certificate it matches.
//!
//! Encoding (version 1, little-endian): version `u8`, checkpoint number
//! `u64`, header id `[u8; 32]`, burned `u64`, account count `u32`, then per
//! account in strictly increasing address order: address `[u8; 32]`,
//! balance `u64`, nonce `u64` (48 bytes). Empty accounts (balance 0,
//! nonce 0) are absent, as in the state tree, so one state has one encoding.

use crate::checkpoint::{account_leaf_value, CheckpointHeader, Hash32};
use crate::codec::{DecodeError, Reader, Writer};
use crate::smt::{SparseMerkleTree, TreeKind};
use crate::{Account, Address};

/// The snapshot encoding's version byte.
pub const SNAPSHOT_VERSION: u8 = 1;

/// Bytes of one account record in the encoding.
pub const SNAPSHOT_ACCOUNT_LEN: usize = 32 + 8 + 8;

/// Bytes before the first account record.
pub const SNAPSHOT_HEADER_LEN: usize = 1 + 8 + 32 + 8 + 4;

/// Most accounts one snapshot may hold (48 MiB of records at 10^6; this
/// bound is 16x that). A decoder also never allocates past the input's
/// length.
pub const MAX_SNAPSHOT_ACCOUNTS: usize = 1 << 24;

/// The ledger state a certified checkpoint commits to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateSnapshot {
    /// The checkpoint number.
    pub checkpoint: u64,
    /// The id of that checkpoint's header.
    pub header_id: Hash32,
    /// Micro-rUv burned up to that checkpoint.
    pub burned: u64,
    /// Every non-empty account, in increasing address order.
    pub accounts: Vec<(Address, Account)>,
}

/// Why a snapshot does not match the header it claims.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SnapshotError {
    /// The bytes are not a snapshot.
    #[error("snapshot does not decode: {0}")]
    Decode(#[from] DecodeError),
    /// It is for another checkpoint number.
    #[error("snapshot is for checkpoint {snapshot}, the header is {header}")]
    WrongNumber {
        /// The snapshot's number.
        snapshot: u64,
        /// The header's number.
        header: u64,
    },
    /// It names another header.
    #[error("snapshot names another header id")]
    WrongHeader,
    /// Its burned total differs from the header's.
    #[error("snapshot burned total differs from the header's")]
    WrongBurned,
    /// Its balances do not add up to the header's circulating supply.
    #[error("snapshot balances do not add up to the header's circulating supply")]
    WrongCirculating,
    /// Its accounts hash to another state root.
    #[error("snapshot state root differs from the header's")]
    WrongStateRoot,
}

impl StateSnapshot {
    /// The canonical encoding.
    pub fn encode(&self) -> Vec<u8> {
        let mut w =
            Writer::with_capacity(SNAPSHOT_HEADER_LEN + self.accounts.len() * SNAPSHOT_ACCOUNT_LEN);
        w.u8(SNAPSHOT_VERSION)
            .u64(self.checkpoint)
            .fixed(&self.header_id.0)
            .u64(self.burned)
            .u32(self.accounts.len() as u32);
        write_accounts(&mut w, &self.accounts);
        w.finish()
    }

    /// Decodes the canonical encoding (total: every failure is a typed
    /// error). Rejects unsorted or repeated addresses and empty accounts, so
    /// a state has exactly one encoding.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes);
        r.version("snapshot version", SNAPSHOT_VERSION)?;
        let checkpoint = r.u64()?;
        let header_id = Hash32(r.array()?);
        let burned = r.u64()?;
        let count = r.u32()? as usize;
        if count > MAX_SNAPSHOT_ACCOUNTS {
            return Err(DecodeError::TooLong {
                field: "snapshot accounts",
                len: count,
                max: MAX_SNAPSHOT_ACCOUNTS,
            });
        }
        let needed = count.saturating_mul(SNAPSHOT_ACCOUNT_LEN);
        if needed > r.remaining() {
            return Err(DecodeError::UnexpectedEnd {
                offset: bytes.len() - r.remaining(),
                needed: needed - r.remaining(),
            });
        }
        let accounts = read_accounts(&mut r, count, None)?;
        r.finish()?;
        Ok(Self {
            checkpoint,
            header_id,
            burned,
            accounts,
        })
    }

    /// Checks the snapshot against the certified `header` it claims to be
    /// the state of, and returns the state tree it rebuilt (its root is the
    /// header's). The caller has verified the header's certificate.
    pub fn verify(&self, header: &CheckpointHeader) -> Result<SparseMerkleTree, SnapshotError> {
        if self.checkpoint != header.number {
            return Err(SnapshotError::WrongNumber {
                snapshot: self.checkpoint,
                header: header.number,
            });
        }
        if self.header_id != header.id() {
            return Err(SnapshotError::WrongHeader);
        }
        if self.burned != header.burned {
            return Err(SnapshotError::WrongBurned);
        }
        let circulating: u128 = self.accounts.iter().map(|(_, a)| a.balance as u128).sum();
        if circulating != header.circulating as u128 {
            return Err(SnapshotError::WrongCirculating);
        }
        let mut tree = self.state_tree()?;
        if Hash32(tree.root()) != header.state_root {
            return Err(SnapshotError::WrongStateRoot);
        }
        Ok(tree)
    }

    /// The state tree over the snapshot's accounts.
    fn state_tree(&self) -> Result<SparseMerkleTree, SnapshotError> {
        let mut tree = SparseMerkleTree::new(TreeKind::State);
        for (address, account) in &self.accounts {
            if *account == Account::default() {
                // Absent from the tree by definition: listing one is a
                // different encoding of some state, so no header matches.
                return Err(SnapshotError::WrongStateRoot);
            }
            tree.insert(*address.as_bytes(), &account_leaf_value(account))
                .map_err(|_| SnapshotError::WrongStateRoot)?;
        }
        Ok(tree)
    }
}

/// Reads `count` account records in strictly increasing address order,
/// each above `after` when given; refuses empty accounts. The caller has
/// checked that `count` records fit in what is left.
/// The 48-byte account records shared by snapshots and pages (the
/// counterpart of [`read_accounts`]).
fn write_accounts(w: &mut Writer, accounts: &[(Address, Account)]) {
    for (address, account) in accounts {
        w.fixed(address.as_bytes())
            .u64(account.balance)
            .u64(account.nonce);
    }
}

fn read_accounts(
    r: &mut Reader<'_>,
    count: usize,
    after: Option<&Address>,
) -> Result<Vec<(Address, Account)>, DecodeError> {
    let mut accounts: Vec<(Address, Account)> = Vec::with_capacity(count);
    for _ in 0..count {
        let address = Address::from_bytes(r.array()?);
        let account = Account {
            balance: r.u64()?,
            nonce: r.u64()?,
        };
        let previous = accounts.last().map(|(last, _)| last).or(after);
        if previous.is_some_and(|last| *last >= address) {
            return Err(DecodeError::Invalid {
                field: "snapshot accounts",
                reason: "addresses not strictly increasing",
            });
        }
        if account == Account::default() {
            return Err(DecodeError::Invalid {
                field: "snapshot accounts",
                reason: "empty account listed",
            });
        }
        accounts.push((address, account));
    }
    Ok(accounts)
}

/// Accounts on one state sync page, at most (`GET
/// /api/v1/state/snapshot/{number}/accounts`).
pub const MAX_STATE_PAGE_ACCOUNTS: usize = 4096;

/// Bytes before a state page's first account record.
pub const STATE_PAGE_HEADER_LEN: usize = 1 + 8 + 32 + 4 + 4;

/// A state page's encoding is never longer than this (196,653 bytes): what
/// a syncing relay accepts.
pub const MAX_STATE_PAGE_LEN: usize =
    STATE_PAGE_HEADER_LEN + MAX_STATE_PAGE_ACCOUNTS * SNAPSHOT_ACCOUNT_LEN;

/// One page of a relay's stored state, for state sync: the accounts after
/// a cursor address, in increasing address order.
///
/// Encoding (version [`SNAPSHOT_VERSION`], little-endian): version `u8`,
/// checkpoint number `u64`, header id `[u8; 32]`, accounts in the whole
/// state `u32`, accounts on this page `u32` (at most
/// [`MAX_STATE_PAGE_ACCOUNTS`]), then the 48-byte records of
/// [`StateSnapshot`]. A page is as trustworthy as the upstream that sent
/// it: only the assembled [`StateSnapshot`], checked with
/// [`StateSnapshot::verify`] against a certified header, is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatePage {
    /// The checkpoint the state is at.
    pub checkpoint: u64,
    /// The id of that checkpoint's header.
    pub header_id: Hash32,
    /// Accounts in the whole state.
    pub total: u32,
    /// This page's accounts, in increasing address order.
    pub accounts: Vec<(Address, Account)>,
}

impl StatePage {
    /// The encoding.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::with_capacity(
            STATE_PAGE_HEADER_LEN + self.accounts.len() * SNAPSHOT_ACCOUNT_LEN,
        );
        w.u8(SNAPSHOT_VERSION)
            .u64(self.checkpoint)
            .fixed(&self.header_id.0)
            .u32(self.total)
            .u32(self.accounts.len() as u32);
        write_accounts(&mut w, &self.accounts);
        w.finish()
    }

    /// Decodes a page that answers a request for the accounts after
    /// `after` (None: from the first). Total: refuses pages over the
    /// limits, more accounts than the state holds, addresses not above
    /// `after` or not strictly increasing, and empty accounts.
    pub fn decode(bytes: &[u8], after: Option<&Address>) -> Result<Self, DecodeError> {
        if bytes.len() > MAX_STATE_PAGE_LEN {
            return Err(DecodeError::TooLong {
                field: "state page",
                len: bytes.len(),
                max: MAX_STATE_PAGE_LEN,
            });
        }
        let mut r = Reader::new(bytes);
        r.version("state page version", SNAPSHOT_VERSION)?;
        let checkpoint = r.u64()?;
        let header_id = Hash32(r.array()?);
        let total = r.u32()?;
        if total as usize > MAX_SNAPSHOT_ACCOUNTS {
            return Err(DecodeError::TooLong {
                field: "snapshot accounts",
                len: total as usize,
                max: MAX_SNAPSHOT_ACCOUNTS,
            });
        }
        let count = r.u32()? as usize;
        if count > MAX_STATE_PAGE_ACCOUNTS || count > total as usize {
            return Err(DecodeError::Invalid {
                field: "state page",
                reason: "more accounts than a page or the state holds",
            });
        }
        if count * SNAPSHOT_ACCOUNT_LEN != r.remaining() {
            return Err(DecodeError::Invalid {
                field: "state page",
                reason: "length differs from the account count",
            });
        }
        let accounts = read_accounts(&mut r, count, after)?;
        r.finish()?;
        Ok(Self {
            checkpoint,
            header_id,
            total,
            accounts,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    fn snapshot_strategy() -> impl Strategy<Value = StateSnapshot> {
        (
            any::<u64>(),
            any::<[u8; 32]>(),
            any::<u64>(),
            proptest::collection::btree_map(any::<[u8; 32]>(), (1..u64::MAX, any::<u64>()), 0..40),
        )
            .prop_map(|(checkpoint, id, burned, accounts)| StateSnapshot {
                checkpoint,
                header_id: Hash32(id),
                burned,
                accounts: accounts
                    .into_iter()
                    .map(|(a, (balance, nonce))| {
                        (Address::from_bytes(a), Account { balance, nonce })
                    })
                    .collect::<BTreeMap<_, _>>()
                    .into_iter()
                    .collect(),
            })
    }

    proptest! {
        #[test]
        fn round_trips(snapshot in snapshot_strategy()) {
            let bytes = snapshot.encode();
            prop_assert_eq!(StateSnapshot::decode(&bytes), Ok(snapshot));
        }

        #[test]
        fn every_truncation_is_a_typed_error(snapshot in snapshot_strategy(), cut in any::<prop::sample::Index>()) {
            let bytes = snapshot.encode();
            let cut = cut.index(bytes.len());
            prop_assert!(StateSnapshot::decode(&bytes[..cut]).is_err());
        }

        #[test]
        fn garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            let _ = StateSnapshot::decode(&bytes);
        }

        #[test]
        fn flipped_bytes_never_panic(snapshot in snapshot_strategy(), at in any::<prop::sample::Index>(), bit in 0u8..8) {
            let mut bytes = snapshot.encode();
            let at = at.index(bytes.len());
            bytes[at] ^= 1 << bit;
            if let Ok(decoded) = StateSnapshot::decode(&bytes) {
                // Whatever decodes re-encodes to the same bytes (canonical).
                prop_assert_eq!(decoded.encode(), bytes);
            }
        }
    }

    fn header_for(snapshot: &StateSnapshot, state_root: Hash32) -> CheckpointHeader {
        let circulating: u64 = snapshot.accounts.iter().map(|(_, a)| a.balance).sum();
        CheckpointHeader {
            version: crate::checkpoint::CHECKPOINT_VERSION,
            chain_id: "snapshot-test".into(),
            genesis_hash: Hash32([7; 32]),
            epoch: 0,
            number: snapshot.checkpoint,
            previous: Hash32([8; 32]),
            anchor: Hash32([9; 32]),
            state_root,
            transaction_root: Hash32::ZERO,
            transaction_count: 0,
            circulating,
            burned: snapshot.burned,
            time_ms: 1,
            validator_set_hash: Hash32([10; 32]),
            next_validator_set_hash: Hash32::ZERO,
        }
    }

    #[test]
    fn verify_accepts_the_committed_state_and_nothing_else() {
        let accounts: Vec<(Address, Account)> = (1..=20u8)
            .map(|i| {
                let account = Account {
                    balance: 1000 * i as u64,
                    nonce: i as u64 % 3,
                };
                (Address::from_bytes([i; 32]), account)
            })
            .collect();
        let mut snapshot = StateSnapshot {
            checkpoint: 4,
            header_id: Hash32::ZERO,
            burned: 77,
            accounts,
        };
        let root = Hash32(snapshot.state_tree().expect("builds").root());
        let header = header_for(&snapshot, root);
        snapshot.header_id = header.id();
        let mut tree = snapshot.verify(&header).expect("the true state verifies");
        assert_eq!(Hash32(tree.root()), header.state_root);

        // Moving value between accounts keeps the supply but not the root.
        let mut moved = snapshot.clone();
        moved.accounts[0].1.balance += 1;
        moved.accounts[1].1.balance -= 1;
        assert_eq!(
            moved.verify(&header).err(),
            Some(SnapshotError::WrongStateRoot)
        );
        let mut nonce = snapshot.clone();
        nonce.accounts[3].1.nonce += 1;
        assert_eq!(
            nonce.verify(&header).err(),
            Some(SnapshotError::WrongStateRoot)
        );
        let mut minted = snapshot.clone();
        minted.accounts[0].1.balance += 1;
        assert_eq!(
            minted.verify(&header).err(),
            Some(SnapshotError::WrongCirculating)
        );
        let mut burned = snapshot.clone();
        burned.burned += 1;
        assert_eq!(
            burned.verify(&header).err(),
            Some(SnapshotError::WrongBurned)
        );
        let mut other = snapshot.clone();
        other.header_id = Hash32([1; 32]);
        assert_eq!(
            other.verify(&header).err(),
            Some(SnapshotError::WrongHeader)
        );
        let mut number = snapshot;
        number.checkpoint += 1;
        assert!(matches!(
            number.verify(&header),
            Err(SnapshotError::WrongNumber { .. })
        ));
    }

    #[test]
    fn a_huge_count_is_refused_before_allocating() {
        let mut bytes = StateSnapshot {
            checkpoint: 1,
            header_id: Hash32::ZERO,
            burned: 0,
            accounts: Vec::new(),
        }
        .encode();
        bytes[SNAPSHOT_HEADER_LEN - 4..].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(matches!(
            StateSnapshot::decode(&bytes),
            Err(DecodeError::TooLong { .. })
        ));
        bytes[SNAPSHOT_HEADER_LEN - 4..].copy_from_slice(&1000u32.to_le_bytes());
        assert!(matches!(
            StateSnapshot::decode(&bytes),
            Err(DecodeError::UnexpectedEnd { .. })
        ));
    }

    #[test]
    fn unsorted_and_empty_accounts_are_refused() {
        let account = Account {
            balance: 5,
            nonce: 1,
        };
        let mut snapshot = StateSnapshot {
            checkpoint: 3,
            header_id: Hash32::ZERO,
            burned: 0,
            accounts: vec![
                (Address::from_bytes([2; 32]), account),
                (Address::from_bytes([1; 32]), account),
            ],
        };
        assert!(matches!(
            StateSnapshot::decode(&snapshot.encode()),
            Err(DecodeError::Invalid { .. })
        ));
        snapshot.accounts = vec![(Address::from_bytes([1; 32]), Account::default())];
        assert!(matches!(
            StateSnapshot::decode(&snapshot.encode()),
            Err(DecodeError::Invalid { .. })
        ));
    }

    fn page_strategy() -> impl Strategy<Value = StatePage> {
        (snapshot_strategy(), 0u32..100).prop_map(|(snapshot, extra)| StatePage {
            checkpoint: snapshot.checkpoint,
            header_id: snapshot.header_id,
            total: snapshot.accounts.len() as u32 + extra,
            accounts: snapshot.accounts,
        })
    }

    proptest! {
        #[test]
        fn state_pages_round_trip(page in page_strategy()) {
            let bytes = page.encode();
            prop_assert!(bytes.len() <= MAX_STATE_PAGE_LEN);
            prop_assert_eq!(StatePage::decode(&bytes, None), Ok(page.clone()));
            // The cursor just below the first address still admits the page.
            if let Some((first, _)) = page.accounts.first() {
                let mut below = *first.as_bytes();
                if below != [0; 32] {
                    let last = below.iter().rposition(|b| *b != 0).unwrap();
                    below[last] -= 1;
                    for b in &mut below[last + 1..] {
                        *b = 0xff;
                    }
                    let below = Address::from_bytes(below);
                    prop_assert_eq!(StatePage::decode(&bytes, Some(&below)), Ok(page.clone()));
                }
                // A cursor at or past the first address refuses it.
                prop_assert!(StatePage::decode(&bytes, Some(first)).is_err());
            }
        }

        #[test]
        fn every_state_page_truncation_is_a_typed_error(page in page_strategy(), cut in any::<prop::sample::Index>()) {
            let bytes = page.encode();
            let cut = cut.index(bytes.len());
            prop_assert!(StatePage::decode(&bytes[..cut], None).is_err());
        }

        #[test]
        fn state_page_garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            let _ = StatePage::decode(&bytes, None);
        }
    }

    #[test]
    fn state_pages_over_the_limits_are_refused() {
        let account = Account {
            balance: 1,
            nonce: 0,
        };
        let full = StatePage {
            checkpoint: 9,
            header_id: Hash32([3; 32]),
            total: MAX_STATE_PAGE_ACCOUNTS as u32 + 1,
            accounts: (0..MAX_STATE_PAGE_ACCOUNTS as u32)
                .map(|i| {
                    let mut a = [0u8; 32];
                    a[..4].copy_from_slice(&i.to_be_bytes());
                    (Address::from_bytes(a), account)
                })
                .collect(),
        };
        let bytes = full.encode();
        assert_eq!(bytes.len(), MAX_STATE_PAGE_LEN);
        assert_eq!(StatePage::decode(&bytes, None), Ok(full.clone()));
        // One record more than a page holds.
        let mut over = full.clone();
        over.accounts
            .push((Address::from_bytes([0xff; 32]), account));
        assert!(matches!(
            StatePage::decode(&over.encode(), None),
            Err(DecodeError::TooLong { .. })
        ));
        // A count above the page limit, or above the state's total.
        let mut count = bytes.clone();
        count[STATE_PAGE_HEADER_LEN - 4..STATE_PAGE_HEADER_LEN]
            .copy_from_slice(&(MAX_STATE_PAGE_ACCOUNTS as u32 + 1).to_le_bytes());
        assert!(StatePage::decode(&count, None).is_err());
        let mut small = full;
        small.total = 10;
        assert!(matches!(
            StatePage::decode(&small.encode(), None),
            Err(DecodeError::Invalid { .. })
        ));
        // A total above what a snapshot may hold.
        let mut huge = StatePage {
            checkpoint: 1,
            header_id: Hash32::ZERO,
            total: 0,
            accounts: Vec::new(),
        }
        .encode();
        huge[STATE_PAGE_HEADER_LEN - 8..STATE_PAGE_HEADER_LEN - 4]
            .copy_from_slice(&(MAX_SNAPSHOT_ACCOUNTS as u32 + 1).to_le_bytes());
        assert!(matches!(
            StatePage::decode(&huge, None),
            Err(DecodeError::TooLong { .. })
        ));
    }
}
