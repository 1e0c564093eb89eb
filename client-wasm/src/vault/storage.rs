//! Where the encrypted record lives. A backend stores one opaque record and
//! offers an atomic compare-and-swap on it; everything else is the core's.

use super::codes;
use super::record;
use crate::error::ClientError;
use std::sync::{Arc, Mutex, PoisonError};

/// Identifies one stored record: its revision counter and the BLAKE3 hash of
/// its bytes. Comparing both means a stale writer is caught even when the
/// vault was deleted and re-created with the same revision number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordTag {
    /// The record's revision (0 if the record is unreadable).
    pub revision: u64,
    /// BLAKE3 of the whole record.
    pub digest: [u8; 32],
}

impl RecordTag {
    /// The tag of record bytes (any bytes: unreadable records get one too,
    /// so they can be replaced or deleted deliberately).
    pub fn of(bytes: &[u8]) -> Self {
        Self {
            revision: record::peek_revision(bytes).unwrap_or(0),
            digest: *blake3::hash(bytes).as_bytes(),
        }
    }
}

/// The check every backend runs inside its atomic section: the stored
/// record must be the one the writer based its change on.
pub fn check_expected(
    stored: Option<&[u8]>,
    expected: Option<RecordTag>,
) -> Result<(), ClientError> {
    let actual = stored.map(RecordTag::of);
    if actual == expected {
        return Ok(());
    }
    let describe = |t: Option<RecordTag>| match t {
        None => "no vault".to_owned(),
        Some(t) => format!("revision {}", t.revision),
    };
    Err(ClientError::new(
        codes::VAULT_CONFLICT,
        format!(
            "the vault changed elsewhere (expected {}, found {}); nothing was written, reload and retry",
            describe(expected),
            describe(actual)
        ),
    ))
}

/// A place that holds one vault record.
///
/// Implementations must make [`VaultStorage::compare_and_swap`] atomic: the
/// check and the write happen together or not at all, and a reader sees the
/// old record or the new one, never a mix or nothing.
// Wasm is single-threaded and its futures are not Send, so no Send bound is
// wanted on these futures.
#[allow(async_fn_in_trait)]
pub trait VaultStorage {
    /// The stored record, if any.
    async fn load(&self) -> Result<Option<Vec<u8>>, ClientError>;

    /// If the stored record's tag is `expected` (`None`: no record), replace
    /// it with `new` (`None`: delete). Otherwise fail with `vault_conflict`
    /// and change nothing. Storage failures are `storage_unavailable`.
    async fn compare_and_swap(
        &self,
        expected: Option<RecordTag>,
        new: Option<&[u8]>,
    ) -> Result<(), ClientError>;
}

/// A record held in memory: for Node, tests, and short-lived sessions.
/// Clones share the same record (like two tabs on one database).
#[derive(Debug, Clone, Default)]
pub struct MemoryStorage {
    record: Arc<Mutex<Option<Vec<u8>>>>,
}

impl MemoryStorage {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// A store that already holds `record` (for example a backup's bytes).
    pub fn with_record(record: Vec<u8>) -> Self {
        Self {
            record: Arc::new(Mutex::new(Some(record))),
        }
    }

    /// A copy of the stored bytes.
    pub fn snapshot(&self) -> Option<Vec<u8>> {
        self.record
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Replaces the stored bytes without any check (tests use it to damage
    /// a record the way a disk or another program could).
    pub fn overwrite(&self, record: Option<Vec<u8>>) {
        *self.record.lock().unwrap_or_else(PoisonError::into_inner) = record;
    }
}

impl VaultStorage for MemoryStorage {
    async fn load(&self) -> Result<Option<Vec<u8>>, ClientError> {
        Ok(self.snapshot())
    }

    async fn compare_and_swap(
        &self,
        expected: Option<RecordTag>,
        new: Option<&[u8]>,
    ) -> Result<(), ClientError> {
        let mut slot = self.record.lock().unwrap_or_else(PoisonError::into_inner);
        check_expected(slot.as_deref(), expected)?;
        *slot = new.map(<[u8]>::to_vec);
        Ok(())
    }
}

#[cfg(not(target_arch = "wasm32"))]
pub use file::FileStorage;

#[cfg(not(target_arch = "wasm32"))]
mod file {
    use super::*;
    use std::fs;
    use std::io::{self, Write};
    use std::path::{Path, PathBuf};

    // One lock for all file vaults in this process: compare-and-swap is a
    // read followed by a rename, and two writers must not interleave.
    static FILE_LOCK: Mutex<()> = Mutex::new(());

    /// A record in a file (native Rust only). Writes go to a temporary file
    /// that is synced and renamed over the old one, so a crash leaves the
    /// old record or the new one. Atomic between instances of one process;
    /// separate processes must not share a file.
    #[derive(Debug, Clone)]
    pub struct FileStorage {
        path: PathBuf,
    }

    fn unavailable(what: &str, path: &Path, e: io::Error) -> ClientError {
        ClientError::new(
            codes::STORAGE_UNAVAILABLE,
            format!("{what} {}: {e}", path.display()),
        )
    }

    impl FileStorage {
        /// A vault file at `path` (created on the first write).
        pub fn new(path: impl Into<PathBuf>) -> Self {
            Self { path: path.into() }
        }

        /// The file's path.
        pub fn path(&self) -> &Path {
            &self.path
        }

        fn read(&self) -> Result<Option<Vec<u8>>, ClientError> {
            match fs::metadata(&self.path) {
                Ok(m) if m.len() > record::MAX_RECORD_LEN as u64 => {
                    // Too large to be a record: hand back a prefix that
                    // decodes as corrupted rather than reading it all.
                    let mut f = fs::File::open(&self.path)
                        .map_err(|e| unavailable("cannot open", &self.path, e))?;
                    let mut buf = vec![0u8; record::MAX_RECORD_LEN + 1];
                    io::Read::read_exact(&mut f, &mut buf)
                        .map_err(|e| unavailable("cannot read", &self.path, e))?;
                    Ok(Some(buf))
                }
                Ok(_) => fs::read(&self.path)
                    .map(Some)
                    .map_err(|e| unavailable("cannot read", &self.path, e)),
                Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(unavailable("cannot read", &self.path, e)),
            }
        }

        fn sync_dir(&self) {
            // Makes the rename durable on Linux; not all platforms can open
            // a directory, and the rename itself is already atomic.
            if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
                if let Ok(d) = fs::File::open(dir) {
                    let _ = d.sync_all();
                }
            }
        }
    }

    impl VaultStorage for FileStorage {
        async fn load(&self) -> Result<Option<Vec<u8>>, ClientError> {
            let _guard = FILE_LOCK.lock().unwrap_or_else(PoisonError::into_inner);
            self.read()
        }

        async fn compare_and_swap(
            &self,
            expected: Option<RecordTag>,
            new: Option<&[u8]>,
        ) -> Result<(), ClientError> {
            let _guard = FILE_LOCK.lock().unwrap_or_else(PoisonError::into_inner);
            check_expected(self.read()?.as_deref(), expected)?;
            match new {
                Some(bytes) => {
                    let mut tmp = self.path.clone().into_os_string();
                    tmp.push(".tmp");
                    let tmp = PathBuf::from(tmp);
                    let mut f = fs::File::create(&tmp)
                        .map_err(|e| unavailable("cannot create", &tmp, e))?;
                    f.write_all(bytes)
                        .map_err(|e| unavailable("cannot write", &tmp, e))?;
                    f.sync_all()
                        .map_err(|e| unavailable("cannot sync", &tmp, e))?;
                    drop(f);
                    fs::rename(&tmp, &self.path)
                        .map_err(|e| unavailable("cannot replace", &self.path, e))?;
                }
                None => match fs::remove_file(&self.path) {
                    Ok(()) => {}
                    Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                    Err(e) => return Err(unavailable("cannot delete", &self.path, e)),
                },
            }
            self.sync_dir();
            Ok(())
        }
    }
}

/// The backends a [`crate::vault::Vault`] can use.
#[derive(Debug)]
pub enum Backend {
    /// In memory (Node, tests).
    Memory(MemoryStorage),
    /// A file (native Rust).
    #[cfg(not(target_arch = "wasm32"))]
    File(FileStorage),
    /// IndexedDB (browsers).
    #[cfg(target_arch = "wasm32")]
    IndexedDb(super::idb::IdbStorage),
}

impl VaultStorage for Backend {
    async fn load(&self) -> Result<Option<Vec<u8>>, ClientError> {
        match self {
            Backend::Memory(s) => s.load().await,
            #[cfg(not(target_arch = "wasm32"))]
            Backend::File(s) => s.load().await,
            #[cfg(target_arch = "wasm32")]
            Backend::IndexedDb(s) => s.load().await,
        }
    }

    async fn compare_and_swap(
        &self,
        expected: Option<RecordTag>,
        new: Option<&[u8]>,
    ) -> Result<(), ClientError> {
        match self {
            Backend::Memory(s) => s.compare_and_swap(expected, new).await,
            #[cfg(not(target_arch = "wasm32"))]
            Backend::File(s) => s.compare_and_swap(expected, new).await,
            #[cfg(target_arch = "wasm32")]
            Backend::IndexedDb(s) => s.compare_and_swap(expected, new).await,
        }
    }
}
