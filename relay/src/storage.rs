//! The embedded, crash-safe database (redb: pure Rust, ACID, copy-on-write
//! B-trees; a commit is durable when it returns).
//!
//! Tables:
//! - `meta`: `genesis_hash` -> 32 bytes (a database belongs to one network).
//! - `accepted_vertices`: acceptance sequence number (u64) -> signed vertex
//!   bytes. Replaying it in order rebuilds the ledger.
//! - `accepted_vertex_ids`: vertex id -> its sequence number in
//!   `accepted_vertices`, written in the commit that appends the vertex
//!   (built from the log when a database from before it is opened). Sync
//!   pages, peers' requests for settled vertices and history pages read the
//!   log through it; history finds a transfer inside its vertex by the
//!   position the certified state recorded
//!   ([`ruv_consensus::checkpoint::TxLocation`]), so no per-transaction
//!   index is written (one random-key insert per transfer cost about 5% of
//!   a saturated relay's throughput: `docs/benchmarks.md`).
//! - `processing_vertices`: vertex id -> signed vertex bytes, for vertices
//!   known but not decided yet (restored as undecided).
//! - `checkpoints`: checkpoint number (u64) -> certificate and anchor
//!   ([`StoredCheckpoint`] encoding), in order.
//! - `meta` `checkpoint_lock` -> `SignedLock` (number, precommit round,
//!   proof-of-lock round, header id, header and anchor;
//!   `consensus/src/checkpoint/store.rs`): this validator's checkpoint lock.
//!   Written in the same commit as everything the batch produced, before
//!   the precommit leaves the relay, so a restart never precommits another
//!   header in that round nor moves the lock without a newer proof of lock.
//! - `meta` `checkpoint_format` -> one byte, [`CHECKPOINT_FORMAT`]: the
//!   certificate and lock encodings stored here. A database from before
//!   rounds joined certificates (no marker, but stored checkpoints or an old
//!   `signed_checkpoint` lock) is refused with
//!   [`StorageError::PreRoundCheckpoints`]: its certificates and lock do not
//!   decode as today's, and devnet databases are disposable (delete the
//!   folder and let the relay catch up from its peers).
//!
//! - `state_accounts`: address (32 bytes) -> balance u64 LE || nonce u64 LE,
//!   every non-empty account of the ledger as of certified checkpoint
//!   `meta` `state_checkpoint` (u64 LE). Written at the first start (the
//!   genesis state, number 0), then moved forward by the checkpointer's
//!   [`StateDelta`]s in the same commit as the batch's certificates, so it
//!   always holds the state of a certified checkpoint that is stored. A
//!   restart reads it as a [`StateSnapshot`] and checks it against that
//!   checkpoint's state root before using it ([`Storage::load_snapshot`]).
//!
//! A follower relay uses `checkpoints`, `accepted_vertices` and the stored
//! state: each checkpoint it adopts, the vertices that checkpoint added (in
//! application order) and the state delta go in one commit
//! ([`Storage::adopt_followed`]). A follower that synced from an upstream's
//! state starts with that checkpoint and its state
//! ([`Storage::adopt_synced`]); its `checkpoints` begin there. Every relay
//! serves its stored state in pages ([`Storage::state_page`], one read
//! transaction per page).
//!
//! The consensus driver writes one batch of [`Persist`] operations per
//! transaction, in the order the engine produced them, before it sends any
//! message that depends on them.

use redb::{
    AccessGuard, Database, ReadableDatabase, ReadableTable, ReadableTableMetadata, TableDefinition,
    WriteTransaction,
};
use ruv_consensus::checkpoint::{CheckpointPersist, SignedLock, StateDelta, TxLocation};
use ruv_consensus::{
    transaction_bytes_at, Persist, PersistedState, StoredCheckpoint, Vertex, VertexId,
};
use ruv_protocol::checkpoint::Hash32;
use ruv_protocol::snapshot::{StatePage, StateSnapshot};
use ruv_protocol::{Account, Address, SignedTransfer};
use std::path::Path;
use std::sync::Arc;

const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");
const ACCEPTED: TableDefinition<u64, &[u8]> = TableDefinition::new("accepted_vertices");
const ACCEPTED_IDS: TableDefinition<&[u8], u64> = TableDefinition::new("accepted_vertex_ids");
const PROCESSING: TableDefinition<&[u8], &[u8]> = TableDefinition::new("processing_vertices");
const CHECKPOINTS: TableDefinition<u64, &[u8]> = TableDefinition::new("checkpoints");
const STATE_ACCOUNTS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("state_accounts");
const GENESIS_HASH_KEY: &str = "genesis_hash";
/// Bytes of database pages redb keeps in memory, at most. With redb's
/// default (1 GiB) the cache alone could grow a relay's RSS by a gigabyte as
/// the log grows; the relay reads the log once at start and then mostly
/// appends, and pages beyond the cache are read through the OS.
pub const DATABASE_CACHE_BYTES: usize = 32 * 1024 * 1024;
const CHECKPOINT_LOCK_KEY: &str = "checkpoint_lock";
/// Where locks were kept before rounds joined certificates (detected only).
const LEGACY_SIGNED_CHECKPOINT_KEY: &str = "signed_checkpoint";
const CHECKPOINT_FORMAT_KEY: &str = "checkpoint_format";
/// The stored certificate and lock format: 2 = round-bound precommits.
pub const CHECKPOINT_FORMAT: u8 = 2;
const STATE_CHECKPOINT_KEY: &str = "state_checkpoint";

/// Storage failures.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The database could not be opened or created.
    #[error("database: {0}")]
    Database(#[from] redb::DatabaseError),
    /// A transaction failed.
    #[error("database transaction: {0}")]
    Transaction(#[from] redb::TransactionError),
    /// Opening a table failed.
    #[error("database table: {0}")]
    Table(#[from] redb::TableError),
    /// Reading or writing failed.
    #[error("database I/O: {0}")]
    Io(#[from] redb::StorageError),
    /// A commit failed.
    #[error("database commit: {0}")]
    Commit(#[from] redb::CommitError),
    /// The folder could not be created.
    #[error("data folder: {0}")]
    Folder(#[from] std::io::Error),
    /// The database belongs to another network.
    #[error("the database in this folder was made for a different genesis")]
    GenesisMismatch,
    /// The database holds checkpoints or a lock from before rounds joined
    /// certificates (see the module docs).
    #[error("the database holds checkpoints from before round-bound certificates; delete the data folder (devnet databases are disposable) and let the relay catch up")]
    PreRoundCheckpoints,
    /// A stored record does not decode (a corrupt or foreign database).
    #[error("stored {0} does not decode")]
    Corrupt(&'static str),
    /// A state delta does not follow the stored state (a driver bug).
    #[error("state delta for checkpoint {delta} does not follow the stored state at {stored:?}")]
    StateGap {
        /// The checkpoint the stored state is at (None: no state stored).
        stored: Option<u64>,
        /// The checkpoint the delta brings it to.
        delta: u64,
    },
    /// A synced state was offered to a database that holds history already.
    #[error("a synced state goes only into an empty database")]
    NotEmpty,
}

/// What the checkpointer restarts from.
#[derive(Debug, Default)]
pub struct PersistedCheckpoints {
    /// Certified checkpoints in order.
    pub certified: Vec<StoredCheckpoint>,
    /// This validator's checkpoint lock (rounds included).
    pub signed: Option<SignedLock>,
}

/// The relay's database.
pub struct Storage {
    db: Database,
}

impl Storage {
    /// Opens (or creates) `dir/relay.redb` for the network `genesis_hash`.
    pub fn open(dir: &Path, genesis_hash: [u8; 32]) -> Result<Self, StorageError> {
        std::fs::create_dir_all(dir)?;
        let db = Database::builder()
            .set_cache_size(DATABASE_CACHE_BYTES)
            .create(dir.join("relay.redb"))?;
        let txn = db.begin_write()?;
        {
            let mut meta = txn.open_table(META)?;
            let stored = meta.get(GENESIS_HASH_KEY)?.map(|v| v.value().to_vec());
            match stored {
                Some(hash) if hash != genesis_hash => return Err(StorageError::GenesisMismatch),
                Some(_) => {}
                None => {
                    meta.insert(GENESIS_HASH_KEY, genesis_hash.as_slice())?;
                }
            }
            let format = meta.get(CHECKPOINT_FORMAT_KEY)?.map(|v| v.value().to_vec());
            match format.as_deref() {
                Some([CHECKPOINT_FORMAT]) => {}
                Some(_) => return Err(StorageError::PreRoundCheckpoints),
                None => {
                    let old_lock = meta.get(LEGACY_SIGNED_CHECKPOINT_KEY)?.is_some();
                    if old_lock || !txn.open_table(CHECKPOINTS)?.is_empty()? {
                        return Err(StorageError::PreRoundCheckpoints);
                    }
                    meta.insert(CHECKPOINT_FORMAT_KEY, [CHECKPOINT_FORMAT].as_slice())?;
                }
            }
            let accepted = txn.open_table(ACCEPTED)?;
            let mut ids = txn.open_table(ACCEPTED_IDS)?;
            if ids.is_empty()? && !accepted.is_empty()? {
                // A database from before the index: build it once.
                for entry in accepted.iter()? {
                    let (sequence, bytes) = entry?;
                    let id = Vertex::id_of(bytes.value());
                    ids.insert(id.0.as_slice(), sequence.value())?;
                }
            }
            txn.open_table(PROCESSING)?;
            txn.open_table(CHECKPOINTS)?;
            txn.open_table(STATE_ACCOUNTS)?;
        }
        txn.commit()?;
        Ok(Self { db })
    }

    /// The checkpoint the stored state is at (None: none stored yet).
    pub fn state_checkpoint(&self) -> Result<Option<u64>, StorageError> {
        let txn = self.db.begin_read()?;
        let meta = txn.open_table(META)?;
        read_state_checkpoint(&meta)
    }

    /// Replaces the stored state with `snapshot` (the genesis state on a
    /// first start, or the state of a database written before states were
    /// stored).
    pub fn write_snapshot(&self, snapshot: &StateSnapshot) -> Result<(), StorageError> {
        let txn = self.db.begin_write()?;
        replace_state(&txn, snapshot)?;
        txn.commit()?;
        Ok(())
    }

    /// The stored state as a snapshot of the checkpoint it is at, NOT yet
    /// checked against that checkpoint's header (the caller does that with
    /// [`StateSnapshot::verify`]; the id and burned total are the stored
    /// header's). None when no state is stored; at checkpoint 0 (genesis) the
    /// header id is zero.
    pub fn load_snapshot(&self) -> Result<Option<StateSnapshot>, StorageError> {
        let txn = self.db.begin_read()?;
        let Some(checkpoint) = read_state_checkpoint(&txn.open_table(META)?)? else {
            return Ok(None);
        };
        let (header_id, burned) = if checkpoint == 0 {
            (Hash32::ZERO, 0)
        } else {
            let table = txn.open_table(CHECKPOINTS)?;
            let bytes = table
                .get(checkpoint)?
                .ok_or(StorageError::Corrupt("state checkpoint"))?;
            let stored = StoredCheckpoint::decode(bytes.value())
                .map_err(|_| StorageError::Corrupt("checkpoint"))?;
            let header = &stored.certificate.header;
            (header.id(), header.burned)
        };
        let accounts = txn
            .open_table(STATE_ACCOUNTS)?
            .iter()?
            .map(state_account)
            .collect::<Result<Vec<_>, StorageError>>()?;
        Ok(Some(StateSnapshot {
            checkpoint,
            header_id,
            burned,
            accounts,
        }))
    }

    /// A page of the stored state for state sync, from one read
    /// transaction: up to `limit` accounts above `after`, in address order,
    /// if the stored state is at checkpoint `number` (None: it is not; the
    /// state moved on, or never was there). `number` None: whatever
    /// checkpoint it is at (a page of 0 accounts describes the state).
    pub fn state_page(
        &self,
        number: Option<u64>,
        after: Option<&Address>,
        limit: usize,
    ) -> Result<Option<StatePage>, StorageError> {
        let txn = self.db.begin_read()?;
        let Some(checkpoint) = read_state_checkpoint(&txn.open_table(META)?)? else {
            return Ok(None);
        };
        if number.is_some_and(|n| n != checkpoint) {
            return Ok(None);
        }
        let header_id = if checkpoint == 0 {
            Hash32::ZERO
        } else {
            let bytes = txn
                .open_table(CHECKPOINTS)?
                .get(checkpoint)?
                .ok_or(StorageError::Corrupt("state checkpoint"))?;
            StoredCheckpoint::decode(bytes.value())
                .map_err(|_| StorageError::Corrupt("checkpoint"))?
                .certificate
                .header
                .id()
        };
        let table = txn.open_table(STATE_ACCOUNTS)?;
        let total = u32::try_from(table.len()?).map_err(|_| StorageError::Corrupt("state size"))?;
        let range = match after {
            Some(after) => table.range::<&[u8]>((
                std::ops::Bound::Excluded(after.as_bytes().as_slice()),
                std::ops::Bound::Unbounded,
            ))?,
            None => table.range::<&[u8]>(..)?,
        };
        let accounts = range
            .take(limit)
            .map(state_account)
            .collect::<Result<Vec<_>, StorageError>>()?;
        Ok(Some(StatePage {
            checkpoint,
            header_id,
            total,
            accounts,
        }))
    }

    /// Stores what a follower synced from an upstream's state, once
    /// verified: the certified checkpoint and its state, in one commit, as
    /// the first things of an empty database (`StorageError::NotEmpty`
    /// otherwise).
    pub fn adopt_synced(
        &self,
        checkpoint: &StoredCheckpoint,
        snapshot: &StateSnapshot,
    ) -> Result<(), StorageError> {
        let txn = self.db.begin_write()?;
        {
            let mut checkpoints = txn.open_table(CHECKPOINTS)?;
            if !checkpoints.is_empty()? || !txn.open_table(ACCEPTED)?.is_empty()? {
                return Err(StorageError::NotEmpty);
            }
            checkpoints.insert(
                checkpoint.certificate.header.number,
                checkpoint.encode().as_slice(),
            )?;
        }
        replace_state(&txn, snapshot)?;
        txn.commit()?;
        Ok(())
    }

    /// The signed encodings of accepted vertices, by id, in the order
    /// asked; None if any of them is not in the log.
    pub fn accepted_vertices(
        &self,
        ids: &[VertexId],
    ) -> Result<Option<Vec<Arc<[u8]>>>, StorageError> {
        let txn = self.db.begin_read()?;
        let index = txn.open_table(ACCEPTED_IDS)?;
        let log = txn.open_table(ACCEPTED)?;
        let mut found = Vec::with_capacity(ids.len());
        for id in ids {
            let Some(sequence) = index.get(id.0.as_slice())? else {
                return Ok(None);
            };
            let Some(bytes) = log.get(sequence.value())? else {
                return Err(StorageError::Corrupt("accepted vertex index"));
            };
            found.push(Arc::from(bytes.value()));
        }
        Ok(Some(found))
    }

    /// The signed transfers at `locations` (as the certified state recorded
    /// them), read from the log in one read transaction: None where a
    /// location is None or its vertex is not in the log. A transfer whose
    /// id is not the one expected is a corrupt database, never a wrong body.
    pub fn accepted_transactions(
        &self,
        locations: &[Option<TxLocation>],
    ) -> Result<Vec<Option<SignedTransfer>>, StorageError> {
        let txn = self.db.begin_read()?;
        let index = txn.open_table(ACCEPTED_IDS)?;
        let log = txn.open_table(ACCEPTED)?;
        let corrupt = || StorageError::Corrupt("accepted transaction");
        let mut found = Vec::with_capacity(locations.len());
        for location in locations {
            let Some(location) = location else {
                found.push(None);
                continue;
            };
            let Some(sequence) = index.get(location.vertex.0.as_slice())? else {
                found.push(None);
                continue;
            };
            let vertex = log
                .get(sequence.value())?
                .ok_or(StorageError::Corrupt("accepted vertex index"))?;
            let bytes = transaction_bytes_at(vertex.value(), location.position as usize)
                .map_err(|_| corrupt())?;
            let tx = SignedTransfer::from_bytes(bytes).map_err(|_| corrupt())?;
            if tx.id() != location.id {
                return Err(corrupt());
            }
            found.push(Some(tx));
        }
        Ok(found)
    }

    /// What the engine restarts from.
    pub fn load(&self) -> Result<PersistedState, StorageError> {
        let txn = self.db.begin_read()?;
        let accepted = txn
            .open_table(ACCEPTED)?
            .iter()?
            .map(|entry| entry.map(|(_, bytes)| Arc::<[u8]>::from(bytes.value())))
            .collect::<Result<_, _>>()?;
        let processing = txn
            .open_table(PROCESSING)?
            .iter()?
            .map(|entry| entry.map(|(_, bytes)| Arc::<[u8]>::from(bytes.value())))
            .collect::<Result<_, _>>()?;
        Ok(PersistedState {
            accepted,
            processing,
        })
    }

    /// One stored certified checkpoint (None if not stored).
    pub fn certified_checkpoint(
        &self,
        number: u64,
    ) -> Result<Option<StoredCheckpoint>, StorageError> {
        let txn = self.db.begin_read()?;
        let table = txn.open_table(CHECKPOINTS)?;
        let Some(bytes) = table.get(number)? else {
            return Ok(None);
        };
        StoredCheckpoint::decode(bytes.value())
            .map(Some)
            .map_err(|_| StorageError::Corrupt("checkpoint"))
    }

    /// What the checkpointer restarts from.
    pub fn load_checkpoints(&self) -> Result<PersistedCheckpoints, StorageError> {
        let txn = self.db.begin_read()?;
        let certified = txn
            .open_table(CHECKPOINTS)?
            .iter()?
            .map(|entry| {
                let (_, bytes) = entry?;
                StoredCheckpoint::decode(bytes.value())
                    .map_err(|_| StorageError::Corrupt("checkpoint"))
            })
            .collect::<Result<_, _>>()?;
        let signed = match txn.open_table(META)?.get(CHECKPOINT_LOCK_KEY)? {
            Some(value) => Some(
                SignedLock::decode(value.value())
                    .map_err(|_| StorageError::Corrupt("checkpoint lock"))?,
            ),
            None => None,
        };
        Ok(PersistedCheckpoints { certified, signed })
    }

    /// Durably stores a checkpoint a follower adopted with the vertices it
    /// added and the state delta it released, in one transaction.
    pub fn adopt_followed(
        &self,
        checkpoint: &StoredCheckpoint,
        vertices: &[Arc<ruv_consensus::Vertex>],
        delta: Option<&StateDelta>,
    ) -> Result<(), StorageError> {
        let txn = self.db.begin_write()?;
        {
            if let Some(delta) = delta {
                apply_delta(
                    &mut txn.open_table(META)?,
                    &mut txn.open_table(STATE_ACCOUNTS)?,
                    delta,
                )?;
            }
            let mut accepted = txn.open_table(ACCEPTED)?;
            let mut ids = txn.open_table(ACCEPTED_IDS)?;
            let first = accepted.len()?;
            for (sequence, vertex) in (first..).zip(vertices) {
                accepted.insert(sequence, &*vertex.bytes())?;
                ids.insert(vertex.id().0.as_slice(), sequence)?;
            }
            txn.open_table(CHECKPOINTS)?.insert(
                checkpoint.certificate.header.number,
                checkpoint.encode().as_slice(),
            )?;
        }
        txn.commit()?;
        Ok(())
    }

    /// Durably applies a batch of the engine's persistence requests, in order,
    /// in one database transaction.
    pub fn apply<'a>(
        &self,
        batch: impl IntoIterator<Item = &'a Persist>,
    ) -> Result<(), StorageError> {
        self.apply_all(batch, [], None)
    }

    /// Durably applies the engine's and the checkpointer's persistence
    /// requests of one batch, in order, and the state delta it produced, in
    /// one database transaction.
    pub fn apply_all<'a, 'b>(
        &self,
        batch: impl IntoIterator<Item = &'a Persist>,
        checkpoints: impl IntoIterator<Item = &'b CheckpointPersist>,
        delta: Option<&StateDelta>,
    ) -> Result<(), StorageError> {
        let txn = self.db.begin_write()?;
        {
            let mut table = txn.open_table(CHECKPOINTS)?;
            let mut meta = txn.open_table(META)?;
            for op in checkpoints {
                match op {
                    CheckpointPersist::Signed(lock) => {
                        meta.insert(CHECKPOINT_LOCK_KEY, lock.encode().as_slice())?;
                    }
                    CheckpointPersist::Certified(stored) => {
                        table
                            .insert(stored.certificate.header.number, stored.encode().as_slice())?;
                    }
                }
            }
            if let Some(delta) = delta {
                apply_delta(&mut meta, &mut txn.open_table(STATE_ACCOUNTS)?, delta)?;
            }
        }
        {
            let mut accepted = txn.open_table(ACCEPTED)?;
            let mut ids = txn.open_table(ACCEPTED_IDS)?;
            let mut processing = txn.open_table(PROCESSING)?;
            let mut next = accepted.len()?;
            for op in batch {
                match op {
                    Persist::Processing { id, bytes } => {
                        processing.insert(id.0.as_slice(), &**bytes)?;
                    }
                    Persist::Accepted { id, bytes } => {
                        accepted.insert(next, &**bytes)?;
                        ids.insert(id.0.as_slice(), next)?;
                        next += 1;
                        processing.remove(id.0.as_slice())?;
                    }
                    Persist::Forget { id } => {
                        processing.remove(id.0.as_slice())?;
                    }
                }
            }
        }
        txn.commit()?;
        Ok(())
    }
}

/// Moves the stored state forward by `delta`.
fn apply_delta(
    meta: &mut redb::Table<&str, &[u8]>,
    accounts: &mut redb::Table<&[u8], &[u8]>,
    delta: &StateDelta,
) -> Result<(), StorageError> {
    let stored = read_state_checkpoint(meta)?;
    if stored.is_none_or(|at| at >= delta.checkpoint) {
        return Err(StorageError::StateGap {
            stored,
            delta: delta.checkpoint,
        });
    }
    for (address, account) in &delta.accounts {
        let key = address.as_bytes().as_slice();
        if *account == Account::default() {
            accounts.remove(key)?;
        } else {
            accounts.insert(key, account_record(account).as_slice())?;
        }
    }
    meta.insert(
        STATE_CHECKPOINT_KEY,
        delta.checkpoint.to_le_bytes().as_slice(),
    )?;
    Ok(())
}

fn read_state_checkpoint(
    meta: &impl ReadableTable<&'static str, &'static [u8]>,
) -> Result<Option<u64>, StorageError> {
    match meta.get(STATE_CHECKPOINT_KEY)? {
        Some(value) => {
            let bytes = <[u8; 8]>::try_from(value.value())
                .map_err(|_| StorageError::Corrupt("state checkpoint"))?;
            Ok(Some(u64::from_le_bytes(bytes)))
        }
        None => Ok(None),
    }
}

/// An account's stored record: the state tree's leaf value.
fn account_record(account: &Account) -> [u8; 16] {
    ruv_protocol::checkpoint::account_leaf_value(account)
}

/// Replaces the stored state (every account and its checkpoint number)
/// with `snapshot`, inside `txn`.
fn replace_state(txn: &WriteTransaction, snapshot: &StateSnapshot) -> Result<(), StorageError> {
    let mut accounts = txn.open_table(STATE_ACCOUNTS)?;
    accounts.retain(|_, _| false)?;
    for (address, account) in &snapshot.accounts {
        accounts.insert(
            address.as_bytes().as_slice(),
            account_record(account).as_slice(),
        )?;
    }
    txn.open_table(META)?.insert(
        STATE_CHECKPOINT_KEY,
        snapshot.checkpoint.to_le_bytes().as_slice(),
    )?;
    Ok(())
}

/// One entry of an iterator over a `&[u8] -> &[u8]` table.
type BytesRow<'a> = Result<
    (
        AccessGuard<'a, &'static [u8]>,
        AccessGuard<'a, &'static [u8]>,
    ),
    redb::StorageError,
>;

/// A row of `state_accounts` (one entry of a table iterator), decoded.
fn state_account(entry: BytesRow<'_>) -> Result<(Address, Account), StorageError> {
    let (key, value) = entry?;
    let address = <[u8; 32]>::try_from(key.value())
        .map_err(|_| StorageError::Corrupt("state account address"))?;
    let record =
        <[u8; 16]>::try_from(value.value()).map_err(|_| StorageError::Corrupt("state account"))?;
    Ok((Address::from_bytes(address), decode_account(&record)))
}

fn decode_account(record: &[u8; 16]) -> Account {
    let mut balance = [0u8; 8];
    let mut nonce = [0u8; 8];
    balance.copy_from_slice(&record[..8]);
    nonce.copy_from_slice(&record[8..]);
    Account {
        balance: u64::from_le_bytes(balance),
        nonce: u64::from_le_bytes(nonce),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(balance: u64, nonce: u64) -> Account {
        Account { balance, nonce }
    }

    #[test]
    fn state_moves_forward_by_deltas_and_refuses_gaps() {
        let dir = tempfile::tempdir().unwrap();
        let storage = Storage::open(dir.path(), [1; 32]).unwrap();
        assert_eq!(storage.load_snapshot().unwrap(), None);
        let delta = StateDelta {
            checkpoint: 1,
            accounts: vec![(Address::from_bytes([2; 32]), account(5, 1))],
        };
        // No state stored yet: a delta has nothing to follow.
        assert!(matches!(
            storage.apply_all([], [], Some(&delta)),
            Err(StorageError::StateGap {
                stored: None,
                delta: 1
            })
        ));
        let (a, b, c) = (
            Address::from_bytes([1; 32]),
            Address::from_bytes([2; 32]),
            Address::from_bytes([3; 32]),
        );
        storage
            .write_snapshot(&StateSnapshot {
                checkpoint: 0,
                header_id: Hash32::ZERO,
                burned: 0,
                accounts: vec![(a, account(100, 0)), (c, account(7, 0))],
            })
            .unwrap();
        // Checkpoint 1 is not stored: the snapshot cannot name its header.
        storage
            .apply_all(
                [],
                [],
                Some(&StateDelta {
                    checkpoint: 1,
                    accounts: vec![
                        (a, account(90, 1)),
                        (b, account(10, 0)),
                        (c, Account::default()),
                    ],
                }),
            )
            .unwrap();
        assert_eq!(storage.state_checkpoint().unwrap(), Some(1));
        assert!(matches!(
            storage.load_snapshot(),
            Err(StorageError::Corrupt("state checkpoint"))
        ));
        // Going back or standing still is a gap too.
        assert!(matches!(
            storage.apply_all(
                [],
                [],
                Some(&StateDelta {
                    checkpoint: 1,
                    accounts: vec![]
                })
            ),
            Err(StorageError::StateGap {
                stored: Some(1),
                delta: 1
            })
        ));
        // The failed commit changed nothing; the stored accounts are the
        // deltas' result (the emptied account is gone).
        let txn = storage.db.begin_read().unwrap();
        let table = txn.open_table(STATE_ACCOUNTS).unwrap();
        let stored: Vec<(Vec<u8>, Vec<u8>)> = table
            .iter()
            .unwrap()
            .map(|e| {
                let (k, v) = e.unwrap();
                (k.value().to_vec(), v.value().to_vec())
            })
            .collect();
        assert_eq!(
            stored,
            vec![
                (
                    a.as_bytes().to_vec(),
                    account_record(&account(90, 1)).to_vec()
                ),
                (
                    b.as_bytes().to_vec(),
                    account_record(&account(10, 0)).to_vec()
                ),
            ]
        );
    }

    fn signed_vertex(height: u64, nonces: std::ops::Range<u64>) -> Arc<Vertex> {
        use ruv_consensus::{ValidatorIndex, VertexContent};
        use ruv_protocol::tx::Transfer;
        use ruv_protocol::SigningKey;
        let user = SigningKey::from_seed(&[4; 32]);
        let txs = nonces
            .map(|nonce| {
                let transfer = Transfer {
                    chain_id: "ruv-test".into(),
                    from: Address::from_public_key(user.public_key()),
                    to: Address::from_bytes([9; 32]),
                    amount: 5,
                    fee: 10_000,
                    nonce,
                    memo: format!("payment {nonce}"),
                    public_key: user.public_key().clone(),
                };
                Arc::new(transfer.sign(&user, [0; 32]).unwrap())
            })
            .collect();
        let content = VertexContent {
            chain_id: "ruv-test".into(),
            issuer: ValidatorIndex(0),
            height,
            parents: vec![],
            txs,
        };
        Arc::new(
            content
                .sign(&SigningKey::from_seed(&[3; 32]), [0; 32])
                .unwrap(),
        )
    }

    fn accepted(vertex: &Vertex) -> Persist {
        Persist::Accepted {
            id: vertex.id(),
            bytes: vertex.bytes(),
        }
    }

    /// Where each of a vertex's transfers is.
    fn locations(vertex: &Vertex) -> Vec<Option<TxLocation>> {
        vertex
            .tx_ids()
            .iter()
            .enumerate()
            .map(|(position, id)| {
                Some(TxLocation {
                    id: *id,
                    vertex: vertex.id(),
                    position: position as u16,
                })
            })
            .collect()
    }

    #[test]
    fn accepted_vertices_and_transactions_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let storage = Storage::open(dir.path(), [1; 32]).unwrap();
        let (first, second) = (signed_vertex(0, 1..4), signed_vertex(1, 3..6));
        storage
            .apply([&accepted(&first), &accepted(&second)])
            .unwrap();
        let both = storage
            .accepted_vertices(&[second.id(), first.id()])
            .unwrap()
            .unwrap();
        assert_eq!(both, vec![second.bytes(), first.bytes()]);
        // One unknown id: no page at all.
        assert_eq!(
            storage
                .accepted_vertices(&[first.id(), VertexId([7; 32])])
                .unwrap(),
            None
        );
        let mut wanted = locations(&first);
        wanted.extend(locations(&second));
        let bodies = storage.accepted_transactions(&wanted).unwrap();
        let expected = first.txs().iter().chain(second.txs());
        for (body, tx) in bodies.iter().zip(expected) {
            assert_eq!(body.as_ref(), Some(&**tx));
        }
        // Not located, or in a vertex the log does not hold: no body.
        let elsewhere = TxLocation {
            vertex: VertexId([8; 32]),
            ..locations(&first)[0].unwrap()
        };
        assert_eq!(
            storage
                .accepted_transactions(&[None, Some(elsewhere)])
                .unwrap(),
            vec![None, None]
        );
    }

    #[test]
    fn the_vertex_index_is_built_for_a_log_written_before_it() {
        let dir = tempfile::tempdir().unwrap();
        let vertex = signed_vertex(0, 1..3);
        {
            let storage = Storage::open(dir.path(), [1; 32]).unwrap();
            // The log as an older relay wrote it: no index entries.
            let txn = storage.db.begin_write().unwrap();
            txn.open_table(ACCEPTED)
                .unwrap()
                .insert(0, &*vertex.bytes())
                .unwrap();
            txn.commit().unwrap();
            assert_eq!(storage.accepted_vertices(&[vertex.id()]).unwrap(), None);
        }
        let storage = Storage::open(dir.path(), [1; 32]).unwrap();
        assert_eq!(
            storage.accepted_vertices(&[vertex.id()]).unwrap(),
            Some(vec![vertex.bytes()])
        );
        let bodies = storage.accepted_transactions(&locations(&vertex)).unwrap();
        assert_eq!(bodies[1].as_ref(), Some(&*vertex.txs()[1]));
    }

    #[test]
    fn a_wrong_location_is_an_error_not_a_wrong_body() {
        let dir = tempfile::tempdir().unwrap();
        let storage = Storage::open(dir.path(), [1; 32]).unwrap();
        let vertex = signed_vertex(0, 1..3);
        storage.apply([&accepted(&vertex)]).unwrap();
        let first = locations(&vertex)[0].unwrap();
        // The second transfer's id at the first one's position, and a
        // position beyond the vertex's transfers.
        for wrong in [
            TxLocation {
                id: vertex.tx_ids()[1],
                ..first
            },
            TxLocation {
                position: 2,
                ..first
            },
        ] {
            assert!(matches!(
                storage.accepted_transactions(&[Some(wrong)]),
                Err(StorageError::Corrupt(_))
            ));
        }
    }

    fn stored_checkpoint(number: u64) -> StoredCheckpoint {
        use ruv_protocol::checkpoint::{Certificate, CheckpointHeader, CHECKPOINT_VERSION};
        let header = CheckpointHeader {
            version: CHECKPOINT_VERSION,
            chain_id: "ruv-test".into(),
            genesis_hash: Hash32([1; 32]),
            epoch: 0,
            number,
            previous: Hash32([2; 32]),
            anchor: Hash32([3; 32]),
            state_root: Hash32([4; 32]),
            transaction_root: Hash32([5; 32]),
            transaction_count: 0,
            circulating: 100,
            burned: 0,
            time_ms: 1_000 * number,
            validator_set_hash: Hash32([6; 32]),
            next_validator_set_hash: Hash32([6; 32]),
        };
        let key = ruv_protocol::SigningKey::from_seed(&[3; 32]);
        let signature = header.sign_precommit(0, &key, [0; 32]).unwrap();
        StoredCheckpoint {
            certificate: Certificate {
                header,
                round: 0,
                validator_count: 1,
                signers: vec![0],
                signatures: vec![signature],
            },
            anchor: vec![VertexId([9; 32])],
        }
    }

    #[test]
    fn certified_checkpoints_read_back_by_number() {
        let dir = tempfile::tempdir().unwrap();
        let storage = Storage::open(dir.path(), [1; 32]).unwrap();
        let (one, two) = (stored_checkpoint(1), stored_checkpoint(2));
        storage
            .apply_all(
                [],
                [
                    &CheckpointPersist::Certified(Box::new(one.clone())),
                    &CheckpointPersist::Certified(Box::new(two.clone())),
                ],
                None,
            )
            .unwrap();
        assert_eq!(storage.certified_checkpoint(1).unwrap(), Some(one));
        assert_eq!(storage.certified_checkpoint(2).unwrap(), Some(two));
        assert_eq!(storage.certified_checkpoint(3).unwrap(), None);
        // A damaged record is an error, never a wrong checkpoint.
        let txn = storage.db.begin_write().unwrap();
        txn.open_table(CHECKPOINTS)
            .unwrap()
            .insert(3, [1u8, 2, 3].as_slice())
            .unwrap();
        txn.commit().unwrap();
        assert!(matches!(
            storage.certified_checkpoint(3),
            Err(StorageError::Corrupt("checkpoint"))
        ));
    }

    #[test]
    fn state_pages_follow_the_cursor_and_only_the_stored_number() {
        let dir = tempfile::tempdir().unwrap();
        let storage = Storage::open(dir.path(), [1; 32]).unwrap();
        assert_eq!(storage.state_page(None, None, 10).unwrap(), None);
        let accounts: Vec<(Address, Account)> = (1..=5u8)
            .map(|i| (Address::from_bytes([i; 32]), account(i as u64 * 10, 0)))
            .collect();
        storage
            .write_snapshot(&StateSnapshot {
                checkpoint: 0,
                header_id: Hash32::ZERO,
                burned: 0,
                accounts: accounts.clone(),
            })
            .unwrap();
        let mut held = Vec::new();
        let mut after = None;
        loop {
            let page = storage
                .state_page(Some(0), after.as_ref(), 2)
                .unwrap()
                .unwrap();
            assert_eq!(
                (page.checkpoint, page.header_id, page.total),
                (0, Hash32::ZERO, 5)
            );
            assert!(page.accounts.len() <= 2);
            if page.accounts.is_empty() {
                break;
            }
            after = page.accounts.last().map(|(a, _)| *a);
            held.extend(page.accounts);
        }
        assert_eq!(held, accounts);
        // Another number than the stored one: not served.
        assert_eq!(storage.state_page(Some(1), None, 2).unwrap(), None);
    }

    #[test]
    fn databases_from_before_round_bound_certificates_are_refused() {
        // A fresh database gets the format marker and opens again.
        let dir = tempfile::tempdir().unwrap();
        drop(Storage::open(dir.path(), [1; 32]).unwrap());
        drop(Storage::open(dir.path(), [1; 32]).unwrap());
        // An old one: a lock under the old key and no marker.
        let dir = tempfile::tempdir().unwrap();
        {
            let db = Database::create(dir.path().join("relay.redb")).unwrap();
            let txn = db.begin_write().unwrap();
            {
                let mut meta = txn.open_table(META).unwrap();
                meta.insert(GENESIS_HASH_KEY, [1u8; 32].as_slice()).unwrap();
                meta.insert(LEGACY_SIGNED_CHECKPOINT_KEY, [0u8; 40].as_slice())
                    .unwrap();
            }
            txn.commit().unwrap();
        }
        assert!(matches!(
            Storage::open(dir.path(), [1; 32]),
            Err(StorageError::PreRoundCheckpoints)
        ));
        // An old one with a certified checkpoint stored and no marker.
        let dir = tempfile::tempdir().unwrap();
        {
            let db = Database::create(dir.path().join("relay.redb")).unwrap();
            let txn = db.begin_write().unwrap();
            txn.open_table(CHECKPOINTS)
                .unwrap()
                .insert(1, [0u8; 8].as_slice())
                .unwrap();
            txn.commit().unwrap();
        }
        assert!(matches!(
            Storage::open(dir.path(), [1; 32]),
            Err(StorageError::PreRoundCheckpoints)
        ));
    }
}
