//! The embedded, crash-safe database (redb: pure Rust, ACID, copy-on-write
//! B-trees; a commit is durable when it returns).
//!
//! Tables:
//! - `meta`: `genesis_hash` -> 32 bytes (a database belongs to one network).
//! - `accepted_vertices`: acceptance sequence number (u64) -> signed vertex
//!   bytes. Replaying it in order rebuilds the ledger.
//! - `processing_vertices`: vertex id -> signed vertex bytes, for vertices
//!   known but not decided yet (restored as undecided).
//! - `checkpoints`: checkpoint number (u64) -> certificate and anchor
//!   ([`StoredCheckpoint`] encoding), in order.
//! - `meta` `signed_checkpoint` -> `SignedLock` (number, header id, header
//!   and anchor; `consensus/src/checkpoint/store.rs`): the header
//!   this relay signed last. Written in the same commit as everything the
//!   batch produced, before the signature leaves the relay, so a restart can
//!   never sign a second header with that number.
//!
//! A follower relay uses `checkpoints` and `accepted_vertices` only: each
//! checkpoint it adopts and the vertices that checkpoint added (in
//! application order) go in one commit ([`Storage::adopt_followed`]).
//!
//! The consensus driver writes one batch of [`Persist`] operations per
//! transaction, in the order the engine produced them, before it sends any
//! message that depends on them.

use redb::{Database, ReadableDatabase, ReadableTable, ReadableTableMetadata, TableDefinition};
use ruv_consensus::checkpoint::{CheckpointPersist, SignedLock};
use ruv_consensus::{Persist, PersistedState, StoredCheckpoint};
use std::path::Path;
use std::sync::Arc;

const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");
const ACCEPTED: TableDefinition<u64, &[u8]> = TableDefinition::new("accepted_vertices");
const PROCESSING: TableDefinition<&[u8], &[u8]> = TableDefinition::new("processing_vertices");
const CHECKPOINTS: TableDefinition<u64, &[u8]> = TableDefinition::new("checkpoints");
const GENESIS_HASH_KEY: &str = "genesis_hash";
const SIGNED_CHECKPOINT_KEY: &str = "signed_checkpoint";

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
    /// A stored record does not decode (a corrupt or foreign database).
    #[error("stored {0} does not decode")]
    Corrupt(&'static str),
}

/// What the checkpointer restarts from.
#[derive(Debug, Default)]
pub struct PersistedCheckpoints {
    /// Certified checkpoints in order.
    pub certified: Vec<StoredCheckpoint>,
    /// The last header this relay signed (its sign-once lock).
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
        let db = Database::create(dir.join("relay.redb"))?;
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
            txn.open_table(ACCEPTED)?;
            txn.open_table(PROCESSING)?;
            txn.open_table(CHECKPOINTS)?;
        }
        txn.commit()?;
        Ok(Self { db })
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
        let signed = match txn.open_table(META)?.get(SIGNED_CHECKPOINT_KEY)? {
            Some(value) => Some(
                SignedLock::decode(value.value())
                    .map_err(|_| StorageError::Corrupt("signed checkpoint"))?,
            ),
            None => None,
        };
        Ok(PersistedCheckpoints { certified, signed })
    }

    /// Durably stores a checkpoint a follower adopted with the vertices it
    /// added, in one transaction.
    pub fn adopt_followed(
        &self,
        checkpoint: &StoredCheckpoint,
        vertices: &[Arc<ruv_consensus::Vertex>],
    ) -> Result<(), StorageError> {
        let txn = self.db.begin_write()?;
        {
            let mut accepted = txn.open_table(ACCEPTED)?;
            let first = accepted.len()?;
            for (sequence, vertex) in (first..).zip(vertices) {
                accepted.insert(sequence, &**vertex.bytes())?;
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
        self.apply_all(batch, [])
    }

    /// Durably applies the engine's and the checkpointer's persistence
    /// requests of one batch, in order, in one database transaction.
    pub fn apply_all<'a, 'b>(
        &self,
        batch: impl IntoIterator<Item = &'a Persist>,
        checkpoints: impl IntoIterator<Item = &'b CheckpointPersist>,
    ) -> Result<(), StorageError> {
        let txn = self.db.begin_write()?;
        {
            let mut table = txn.open_table(CHECKPOINTS)?;
            let mut meta = txn.open_table(META)?;
            for op in checkpoints {
                match op {
                    CheckpointPersist::Signed(lock) => {
                        meta.insert(SIGNED_CHECKPOINT_KEY, lock.encode().as_slice())?;
                    }
                    CheckpointPersist::Certified(stored) => {
                        table
                            .insert(stored.certificate.header.number, stored.encode().as_slice())?;
                    }
                }
            }
        }
        {
            let mut accepted = txn.open_table(ACCEPTED)?;
            let mut processing = txn.open_table(PROCESSING)?;
            let mut next = accepted.len()?;
            for op in batch {
                match op {
                    Persist::Processing { id, bytes } => {
                        processing.insert(id.0.as_slice(), &**bytes)?;
                    }
                    Persist::Accepted { id, bytes } => {
                        accepted.insert(next, &**bytes)?;
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
