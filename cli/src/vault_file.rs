//! The CLI's vault storage: one file holding exactly what the web wallet's
//! "Export backup" writes (`{"format": "ruv-vault-backup", "version": 1,
//! "record": hex}`), so the file is a backup and a backup is a vault.
//!
//! Writes are atomic (temporary file, fsync, rename; owner-only) and run
//! under an exclusive lock on `vault.lock`, so the compare-and-swap the
//! vault driver relies on holds across `ruv` processes too.

use crate::files::{self, FileLock};
use ruv_client::vault::codes;
use ruv_client::vault::driver::{backup_text, parse_backup};
use ruv_client::vault::storage::{check_expected, RecordTag, VaultStorage};
use ruv_client::ClientError;
use std::path::PathBuf;

/// A vault kept as a backup file.
#[derive(Debug, Clone)]
pub struct BackupFileStorage {
    path: PathBuf,
    lock_path: PathBuf,
}

impl BackupFileStorage {
    /// The vault at `path`; `lock_path` guards changes.
    pub fn new(path: PathBuf, lock_path: PathBuf) -> Self {
        Self { path, lock_path }
    }

    fn read(&self) -> Result<Option<Vec<u8>>, ClientError> {
        let text = files::read_text(&self.path)
            .map_err(|e| ClientError::new(codes::STORAGE_UNAVAILABLE, e.message))?;
        text.map(|text| {
            parse_backup(&text).map_err(|e| {
                ClientError::new(
                    codes::VAULT_CORRUPTED,
                    format!(
                        "the vault file {} is damaged ({}); restore it from a backup or the phrase",
                        self.path.display(),
                        e.message
                    ),
                )
            })
        })
        .transpose()
    }
}

impl VaultStorage for BackupFileStorage {
    async fn load(&self) -> Result<Option<Vec<u8>>, ClientError> {
        // Renames are atomic: a reader sees the old file or the new one.
        self.read()
    }

    async fn compare_and_swap(
        &self,
        expected: Option<RecordTag>,
        new: Option<&[u8]>,
    ) -> Result<(), ClientError> {
        let unavailable = |what: &str, e: String| {
            ClientError::new(codes::STORAGE_UNAVAILABLE, format!("{what}: {e}"))
        };
        let _lock = FileLock::acquire(&self.lock_path).map_err(|e| {
            unavailable(
                &format!("cannot lock {}", self.lock_path.display()),
                e.to_string(),
            )
        })?;
        check_expected(self.read()?.as_deref(), expected)?;
        match new {
            Some(record) => {
                let text = backup_text(record)?;
                files::write_private(&self.path, text.as_bytes())
                    .map_err(|e| unavailable("cannot write the vault", e.message))
            }
            None => match std::fs::remove_file(&self.path) {
                Ok(()) => Ok(()),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
                Err(e) => Err(unavailable("cannot delete the vault", e.to_string())),
            },
        }
    }
}
