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

#[cfg(test)]
mod tests {
    use super::*;
    use ruv_client::vault::kdf::KdfParams;
    use ruv_client::vault::{VaultConfig, VaultDriver};

    const PASSWORD: &str = "a test password";

    /// Cheap Argon2 for these storage tests only (the CLI always uses the default).
    fn config() -> VaultConfig {
        VaultConfig {
            kdf: KdfParams::new(64, 1, 1).unwrap(),
            auto_lock_ms: None,
        }
    }

    fn storage(dir: &std::path::Path) -> BackupFileStorage {
        BackupFileStorage::new(dir.join("vault.json"), dir.join("vault.lock"))
    }

    fn open(dir: &std::path::Path) -> VaultDriver<BackupFileStorage> {
        pollster::block_on(VaultDriver::open(storage(dir), config())).unwrap()
    }

    #[test]
    fn the_file_is_a_backup_file() {
        let dir = tempfile::tempdir().unwrap();
        let vault = open(dir.path());
        pollster::block_on(vault.create(PASSWORD, 0)).unwrap();
        let text = std::fs::read_to_string(dir.path().join("vault.json")).unwrap();
        let record = parse_backup(&text).unwrap();
        assert_eq!(
            pollster::block_on(vault.export_backup()).unwrap(),
            backup_text(&record).unwrap()
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("vault.json"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn a_stale_writer_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let first = open(dir.path());
        let second = open(dir.path());
        pollster::block_on(first.create(PASSWORD, 0)).unwrap();
        // `second` read "no vault" before `first` wrote one.
        let err = pollster::block_on(second.create(PASSWORD, 0)).unwrap_err();
        assert_eq!(err.code, codes::VAULT_CONFLICT);
        // It re-read the file and now works from the current record.
        pollster::block_on(second.unlock(PASSWORD, 0)).unwrap();
        pollster::block_on(second.add_account(Some("two"), 0)).unwrap();
        let stale = pollster::block_on(first.add_account(Some("lost"), 0)).unwrap_err();
        assert_eq!(stale.code, codes::VAULT_CONFLICT);
        let reopened = open(dir.path());
        pollster::block_on(reopened.unlock(PASSWORD, 0)).unwrap();
        let labels: Vec<String> = reopened
            .accounts(0)
            .unwrap()
            .into_iter()
            .map(|a| a.label)
            .collect();
        assert_eq!(labels, ["Account 1", "two"]);
    }

    #[test]
    fn a_damaged_file_is_reported_not_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("vault.json"),
            "{\"format\": \"something else\"}",
        )
        .unwrap();
        let err = pollster::block_on(VaultDriver::open(storage(dir.path()), config())).unwrap_err();
        assert_eq!(err.code, codes::VAULT_CORRUPTED);
        assert!(err.message.contains("vault.json"), "{}", err.message);
    }
}
