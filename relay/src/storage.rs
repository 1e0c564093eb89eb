//! The embedded, crash-safe database (redb: pure Rust, ACID, copy-on-write
//! B-trees; a commit is durable when it returns).
//!
//! Tables:
//! - `meta`: `genesis_hash` -> 32 bytes (a database belongs to one network).
//! - `accepted_transactions`: acceptance sequence number (u64) -> canonical
//!   signed transfer bytes. Replaying it in order rebuilds the ledger.

use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use ruv_protocol::codec::DecodeError;
use ruv_protocol::SignedTransfer;
use std::path::Path;

const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");
const ACCEPTED: TableDefinition<u64, &[u8]> = TableDefinition::new("accepted_transactions");
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
    /// A stored record does not decode (disk corruption or a bug).
    #[error("stored transaction #{seq} does not decode: {error}")]
    Corrupt {
        /// Which record.
        seq: u64,
        /// Why.
        error: DecodeError,
    },
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
        }
        txn.commit()?;
        Ok(Self { db })
    }

    /// Every accepted transaction, in acceptance order.
    pub fn accepted_transactions(&self) -> Result<Vec<SignedTransfer>, StorageError> {
        let txn = self.db.begin_read()?;
        let table = txn.open_table(ACCEPTED)?;
        let mut out = Vec::new();
        for entry in table.iter()? {
            let (seq, bytes) = entry?;
            let tx = SignedTransfer::from_bytes(bytes.value()).map_err(|error| {
                StorageError::Corrupt {
                    seq: seq.value(),
                    error,
                }
            })?;
            out.push(tx);
        }
        Ok(out)
    }

    /// Durably records an accepted transaction under sequence number `seq`.
    pub fn append_accepted(&self, seq: u64, tx: &SignedTransfer) -> Result<(), StorageError> {
        let txn = self.db.begin_write()?;
        txn.open_table(ACCEPTED)?
            .insert(seq, tx.to_bytes().as_slice())?;
        txn.commit()?;
        Ok(())
    }
}
