//! The embedded, crash-safe database (redb: pure Rust, ACID, copy-on-write
//! B-trees; a commit is durable when it returns).
//!
//! Tables:
//! - `meta`: `genesis_hash` -> 32 bytes (a database belongs to one network).
//! - `accepted_vertices`: acceptance sequence number (u64) -> signed vertex
//!   bytes. Replaying it in order rebuilds the ledger.
//! - `processing_vertices`: vertex id -> signed vertex bytes, for vertices
//!   known but not decided yet (restored as undecided).
//!
//! The consensus driver writes one batch of [`Persist`] operations per
//! transaction, in the order the engine produced them, before it sends any
//! message that depends on them.

use redb::{Database, ReadableDatabase, ReadableTable, ReadableTableMetadata, TableDefinition};
use ruv_consensus::{Persist, PersistedState};
use std::path::Path;
use std::sync::Arc;

const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");
const ACCEPTED: TableDefinition<u64, &[u8]> = TableDefinition::new("accepted_vertices");
const PROCESSING: TableDefinition<&[u8], &[u8]> = TableDefinition::new("processing_vertices");
const GENESIS_HASH_KEY: &str = "genesis_hash";

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

    /// Durably applies a batch of the engine's persistence requests, in order,
    /// in one database transaction.
    pub fn apply<'a>(
        &self,
        batch: impl IntoIterator<Item = &'a Persist>,
    ) -> Result<(), StorageError> {
        let txn = self.db.begin_write()?;
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
