//! The vault's operations over a storage backend and a key deriver. Async
//! where storage is touched or Argon2 runs (in a browser, in a Web Worker);
//! time comes in as `now_ms` so the same code runs natively in tests and in
//! the browser.

use super::codes;
use super::deriver::{self, InThreadKdf, KeyDeriver};
use super::kdf::{KdfParams, KeyRequest};
use super::mnemonic::{self, Entropy};
use super::oplock::OpLock;
use super::pending::PendingTransfer;
use super::record::{self, Record};
use super::session::{self, AccountInfo, Session, Unlocked, VaultState};
use super::storage::{RecordTag, VaultStorage};
use crate::error::ClientError;
use crate::transfer::{self, TransferParams};
use ruv_protocol::tx::SignedTransfer;
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use zeroize::Zeroizing;

/// Default idle time before the vault locks itself: 5 minutes.
pub const DEFAULT_AUTO_LOCK_MS: u64 = 5 * 60 * 1000;

/// The confirmation string [`VaultDriver::delete`] requires.
pub const DELETE_CONFIRMATION: &str = "delete";

/// `format` field of a backup file.
pub const BACKUP_FORMAT: &str = "ruv-vault-backup";
/// Version of the backup file wrapper.
pub const BACKUP_VERSION: u32 = 1;
/// Largest backup text accepted.
pub const MAX_BACKUP_LEN: usize = 4 * record::MAX_RECORD_LEN;

/// Settings of one vault instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VaultConfig {
    /// Argon2id parameters for new records. Records with weaker parameters
    /// are re-encrypted with these on unlock (see `docs/vault.md`).
    pub kdf: KdfParams,
    /// Auto-lock time written into new vaults (`None` = never).
    pub auto_lock_ms: Option<u64>,
}

impl Default for VaultConfig {
    fn default() -> Self {
        Self {
            kdf: KdfParams::DEFAULT,
            auto_lock_ms: Some(DEFAULT_AUTO_LOCK_MS),
        }
    }
}

/// What [`VaultDriver::unlock`] reports besides success.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UnlockOutcome {
    /// The record was re-encrypted with stronger Argon2 parameters.
    pub kdf_upgraded: bool,
    /// Why an upgrade that was due did not happen (an error code); the
    /// vault is unlocked either way and the upgrade is retried next time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upgrade_error: Option<String>,
}

/// The backup file: the encrypted record, hex-encoded, in a JSON wrapper.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct BackupFile {
    format: String,
    version: u32,
    record: String,
}

fn invalid_backup(why: impl Into<String>) -> ClientError {
    ClientError::new(codes::INVALID_BACKUP, why)
}

/// Decodes and structurally checks a backup file; returns the record bytes.
pub fn parse_backup(text: &str) -> Result<Vec<u8>, ClientError> {
    if text.len() > MAX_BACKUP_LEN {
        return Err(invalid_backup(format!(
            "backup is {} bytes, limit is {MAX_BACKUP_LEN}",
            text.len()
        )));
    }
    let file: BackupFile = serde_json::from_str(text)
        .map_err(|e| invalid_backup(format!("not a vault backup file: {e}")))?;
    if file.format != BACKUP_FORMAT {
        return Err(invalid_backup(format!(
            "backup format is {:?}, expected {BACKUP_FORMAT:?}",
            file.format
        )));
    }
    if file.version != BACKUP_VERSION {
        return Err(invalid_backup(format!(
            "backup file version {} is not supported",
            file.version
        )));
    }
    let bytes = hex::decode(&file.record)
        .map_err(|e| invalid_backup(format!("backup record is not hex: {e}")))?;
    Record::decode(&bytes).map_err(|e| match e.code.as_str() {
        codes::VAULT_CORRUPTED => {
            invalid_backup(format!("backup record is damaged: {}", e.message))
        }
        _ => e,
    })?;
    Ok(bytes)
}

/// The backup file text holding `record` (the format [`parse_backup`]
/// reads). The caller checks the record first.
pub fn backup_text(record: &[u8]) -> Result<String, ClientError> {
    let file = BackupFile {
        format: BACKUP_FORMAT.into(),
        version: BACKUP_VERSION,
        record: hex::encode(record),
    };
    serde_json::to_string(&file)
        .map_err(|e| ClientError::new(crate::error::codes::INVALID_PARAMS, e.to_string()))
}

/// One vault over one storage backend.
///
/// Operations that write run one at a time (an internal async lock) and
/// write with compare-and-swap against the record this instance last saw,
/// so a change made elsewhere is never overwritten: the write fails with
/// `vault_conflict` and this instance re-reads the record.
///
/// Argon2 runs in `K` ([`InThreadKdf`] natively; a Web Worker in a browser).
/// No session borrow is held across a derivation.
#[derive(Debug)]
pub struct VaultDriver<S, K = InThreadKdf> {
    storage: S,
    kdf: K,
    config: VaultConfig,
    session: RefCell<Session>,
    op: OpLock,
}

impl<S: VaultStorage> VaultDriver<S, InThreadKdf> {
    /// Reads what the storage holds; the vault starts locked. Argon2 runs
    /// on the calling thread.
    pub async fn open(storage: S, config: VaultConfig) -> Result<Self, ClientError> {
        Self::open_with(storage, InThreadKdf, config).await
    }

    /// A driver over storage whose current contents the caller already
    /// read (`current`), without reading again. Argon2 runs on the calling
    /// thread.
    pub fn new(
        storage: S,
        config: VaultConfig,
        current: Option<&[u8]>,
    ) -> Result<Self, ClientError> {
        Self::with_kdf(storage, InThreadKdf, config, current)
    }
}

impl<S: VaultStorage, K: KeyDeriver> VaultDriver<S, K> {
    /// Reads what the storage holds; the vault starts locked. Argon2 runs
    /// in `kdf`.
    pub async fn open_with(storage: S, kdf: K, config: VaultConfig) -> Result<Self, ClientError> {
        let bytes = storage.load().await?;
        Self::with_kdf(storage, kdf, config, bytes.as_deref())
    }

    /// [`VaultDriver::new`] with Argon2 run by `kdf`.
    pub fn with_kdf(
        storage: S,
        kdf: K,
        config: VaultConfig,
        current: Option<&[u8]>,
    ) -> Result<Self, ClientError> {
        config.kdf.validate()?;
        record::validate_auto_lock(config.auto_lock_ms)?;
        let session = Session::new(current.map(RecordTag::of));
        Ok(Self {
            storage,
            kdf,
            config,
            session: RefCell::new(session),
            op: OpLock::default(),
        })
    }

    async fn derive(
        &self,
        password: &str,
        request: &KeyRequest,
    ) -> Result<super::kdf::DerivedKeys, ClientError> {
        deriver::derive(&self.kdf, password, request).await
    }

    /// The storage backend.
    pub fn storage(&self) -> &S {
        &self.storage
    }

    /// The instance settings.
    pub fn config(&self) -> &VaultConfig {
        &self.config
    }

    /// Empty, locked or unlocked (auto-lock applied at `now_ms`).
    pub fn state(&self, now_ms: u64) -> VaultState {
        self.session.borrow_mut().state(now_ms)
    }

    /// Wipes the secrets from memory.
    pub fn lock(&self) {
        self.session.borrow_mut().lock();
    }

    /// Records user activity (resets the idle timer); `vault_locked` if the
    /// vault is locked (including when the idle time already ran out).
    pub fn touch(&self, now_ms: u64) -> Result<(), ClientError> {
        self.session.borrow_mut().unlocked(now_ms).map(|_| ())
    }

    /// When the vault will lock itself if idle (only while unlocked).
    pub fn idle_deadline(&self) -> Option<u64> {
        self.session.borrow().idle_deadline()
    }

    /// Time of the last activity (ms, the caller's clock).
    pub fn last_activity_ms(&self) -> u64 {
        self.session.borrow().last_activity_ms()
    }

    /// Revision of the record this instance last saw.
    pub fn revision(&self) -> Option<u64> {
        self.session.borrow().stored().map(|t| t.revision)
    }

    /// The vault's auto-lock setting, while unlocked (outer `None`: locked).
    pub fn auto_lock_ms(&self) -> Option<Option<u64>> {
        self.session.borrow().peek().map(|u| u.meta().auto_lock_ms)
    }

    /// The stored Argon2 parameters, while unlocked.
    pub fn kdf_params(&self) -> Option<KdfParams> {
        self.session.borrow().peek().map(Unlocked::kdf)
    }

    /// Locks if idle past the deadline, after any running operation ends
    /// (the JS driver's timer calls this). True if the vault is locked now.
    pub async fn enforce_auto_lock(&self, now_ms: u64) -> bool {
        let _op = self.op.acquire().await;
        let mut s = self.session.borrow_mut();
        s.expire(now_ms);
        s.peek().is_none()
    }

    /// Writes with compare-and-swap, then updates the session. On a
    /// conflict, re-reads the record so the next attempt starts from it.
    async fn write(
        &self,
        new: Option<Vec<u8>>,
        unlocked: Option<Box<Unlocked>>,
        epoch: u64,
        now_ms: u64,
    ) -> Result<(), ClientError> {
        let expected = self.session.borrow().stored();
        match self
            .storage
            .compare_and_swap(expected, new.as_deref())
            .await
        {
            Ok(()) => {
                self.session
                    .borrow_mut()
                    .written(new.as_deref(), unlocked, epoch, now_ms);
                Ok(())
            }
            Err(e) if e.code == codes::VAULT_CONFLICT => {
                if let Ok(bytes) = self.storage.load().await {
                    self.session.borrow_mut().observe(bytes.as_deref());
                }
                Err(e)
            }
            Err(e) => Err(e),
        }
    }

    /// Creates a vault with a new 24-word phrase (`vault_exists` if there
    /// is one). The vault is unlocked afterwards; show the phrase with
    /// [`VaultDriver::reveal_phrase`].
    pub async fn create(&self, password: &str, now_ms: u64) -> Result<(), ClientError> {
        self.create_from(Entropy::generate()?, password, now_ms)
            .await
    }

    /// Creates a vault from an existing phrase (validated first).
    pub async fn restore(
        &self,
        phrase: &str,
        password: &str,
        now_ms: u64,
    ) -> Result<(), ClientError> {
        let entropy = mnemonic::parse_phrase(phrase)?;
        self.create_from(entropy, password, now_ms).await
    }

    async fn create_from(
        &self,
        entropy: Entropy,
        password: &str,
        now_ms: u64,
    ) -> Result<(), ClientError> {
        let _op = self.op.acquire().await;
        session::validate_new_password(password)?;
        let exists = || {
            ClientError::new(
                codes::VAULT_EXISTS,
                "a vault already exists here; delete it first or import with replace",
            )
        };
        if self.session.borrow().stored().is_some() {
            return Err(exists());
        }
        let request = KeyRequest::fresh(&self.config.kdf)?;
        let keys = self.derive(password, &request).await?;
        let (epoch, revision) = {
            let s = self.session.borrow();
            if s.stored().is_some() {
                return Err(exists());
            }
            (s.epoch(), s.next_revision())
        };
        let unlocked = Unlocked::create(entropy, &request, keys, self.config.auto_lock_ms)?;
        let bytes = unlocked.seal(revision)?;
        self.write(Some(bytes), Some(unlocked), epoch, now_ms).await
    }

    /// Unlocks with `password` (re-reading storage first). Records whose
    /// Argon2 parameters are weaker than the configured ones are
    /// re-encrypted with them.
    pub async fn unlock(&self, password: &str, now_ms: u64) -> Result<UnlockOutcome, ClientError> {
        let _op = self.op.acquire().await;
        let bytes = self.storage.load().await?;
        self.session.borrow_mut().observe(bytes.as_deref());
        let bytes = bytes
            .ok_or_else(|| ClientError::new(codes::VAULT_NOT_FOUND, "there is no vault here"))?;
        let record = Record::decode(&bytes)?;
        let keys = self
            .derive(password, &Unlocked::key_request_for(&record))
            .await?;
        let unlocked = Unlocked::open(&record, keys)?;
        let upgrade = unlocked.kdf().upgrade_towards(&self.config.kdf);
        let epoch = {
            let mut s = self.session.borrow_mut();
            s.install(RecordTag::of(&bytes), unlocked.clone(), now_ms);
            s.epoch()
        };
        let mut outcome = UnlockOutcome {
            kdf_upgraded: false,
            upgrade_error: None,
        };
        if let Some(params) = upgrade {
            let result = match self.upgraded(&unlocked, password, &params).await {
                Ok(upgraded) => {
                    let revision = self.session.borrow().next_revision();
                    match upgraded.seal(revision) {
                        Ok(new_bytes) => {
                            self.write(Some(new_bytes), Some(upgraded), epoch, now_ms)
                                .await
                        }
                        Err(e) => Err(e),
                    }
                }
                Err(e) => Err(e),
            };
            match result {
                Ok(()) => outcome.kdf_upgraded = true,
                Err(e) => outcome.upgrade_error = Some(e.code),
            }
        }
        Ok(outcome)
    }

    /// `unlocked` re-encrypted under `password` with `params` (fresh salt).
    async fn upgraded(
        &self,
        unlocked: &Unlocked,
        password: &str,
        params: &KdfParams,
    ) -> Result<Box<Unlocked>, ClientError> {
        let request = KeyRequest::fresh(params)?;
        let keys = self.derive(password, &request).await?;
        Ok(unlocked.rekeyed(&request, keys))
    }

    /// Derives the keys of `password` for the unlocked vault and checks
    /// them; `wrong_password` if it is not the vault's password. The caller
    /// holds the operation lock, so no password change runs meanwhile.
    async fn verify_password(&self, password: &str, now_ms: u64) -> Result<(), ClientError> {
        let request = self.session.borrow_mut().unlocked(now_ms)?.key_request();
        let keys = self.derive(password, &request).await?;
        self.session
            .borrow_mut()
            .unlocked(now_ms)?
            .check_password(&keys)
    }

    /// The accounts, while unlocked.
    pub fn accounts(&self, now_ms: u64) -> Result<Vec<AccountInfo>, ClientError> {
        Ok(self.session.borrow_mut().unlocked(now_ms)?.accounts())
    }

    /// Adds the next account (label defaults to "Account N").
    pub async fn add_account(
        &self,
        label: Option<&str>,
        now_ms: u64,
    ) -> Result<AccountInfo, ClientError> {
        let _op = self.op.acquire().await;
        let (next, bytes, epoch, index) = {
            let mut s = self.session.borrow_mut();
            let (epoch, revision) = (s.epoch(), s.next_revision());
            let u = s.unlocked(now_ms)?;
            let (meta, index) = u.meta_with_new_account(label)?;
            let next = u.with_meta(meta)?;
            let bytes = next.seal(revision)?;
            (next, bytes, epoch, index)
        };
        let info = next.accounts().into_iter().find(|a| a.index == index);
        self.write(Some(bytes), Some(next), epoch, now_ms).await?;
        info.ok_or_else(|| ClientError::new(codes::UNKNOWN_ACCOUNT, "new account missing"))
    }

    async fn write_meta(
        &self,
        now_ms: u64,
        change: impl FnOnce(&Unlocked) -> Result<record::Metadata, ClientError>,
    ) -> Result<(), ClientError> {
        let _op = self.op.acquire().await;
        let (next, bytes, epoch) = {
            let mut s = self.session.borrow_mut();
            let (epoch, revision) = (s.epoch(), s.next_revision());
            let u = s.unlocked(now_ms)?;
            let next = u.with_meta(change(u)?)?;
            let bytes = next.seal(revision)?;
            (next, bytes, epoch)
        };
        self.write(Some(bytes), Some(next), epoch, now_ms).await
    }

    /// The payments kept as pending (signed, not yet proven final or
    /// rejected), while unlocked.
    pub fn pending_transfers(&self, now_ms: u64) -> Result<Vec<PendingTransfer>, ClientError> {
        Ok(self
            .session
            .borrow_mut()
            .unlocked(now_ms)?
            .meta()
            .pending
            .clone())
    }

    /// Keeps `transfer` in the encrypted record until
    /// [`VaultDriver::remove_pending_transfer`]: the wallet calls it after
    /// signing and before submitting. A write that another tab's change beat
    /// is tried once more on the record as it now is.
    pub async fn add_pending_transfer(
        &self,
        transfer: PendingTransfer,
        now_ms: u64,
    ) -> Result<(), ClientError> {
        let first = self
            .write_meta(now_ms, |u| u.meta_with_pending(transfer.clone()))
            .await;
        match first {
            Err(e) if e.code == codes::VAULT_CONFLICT => {
                self.write_meta(now_ms, |u| u.meta_with_pending(transfer))
                    .await
            }
            other => other,
        }
    }

    /// Forgets the pending payment `id` (a proof settled it); false if it
    /// was not kept. Not user activity: the idle timer is left as it was.
    /// Tried once more after a conflicting write elsewhere.
    pub async fn remove_pending_transfer(
        &self,
        id: &str,
        now_ms: u64,
    ) -> Result<bool, ClientError> {
        match self.remove_pending_once(id, now_ms).await {
            Err(e) if e.code == codes::VAULT_CONFLICT => self.remove_pending_once(id, now_ms).await,
            other => other,
        }
    }

    async fn remove_pending_once(&self, id: &str, now_ms: u64) -> Result<bool, ClientError> {
        let _op = self.op.acquire().await;
        let (next, bytes, epoch, last_activity) = {
            let mut s = self.session.borrow_mut();
            s.expire(now_ms);
            let (epoch, revision, last_activity) =
                (s.epoch(), s.next_revision(), s.last_activity_ms());
            let Some(u) = s.peek() else {
                return Err(ClientError::new(codes::VAULT_LOCKED, "the vault is locked"));
            };
            let Some(meta) = u.meta_without_pending(id) else {
                return Ok(false);
            };
            let next = u.with_meta(meta)?;
            let bytes = next.seal(revision)?;
            (next, bytes, epoch, last_activity)
        };
        self.write(Some(bytes), Some(next), epoch, last_activity)
            .await?;
        Ok(true)
    }

    /// Renames an account.
    pub async fn rename_account(
        &self,
        index: u32,
        label: &str,
        now_ms: u64,
    ) -> Result<(), ClientError> {
        self.write_meta(now_ms, |u| u.meta_with_label(index, label))
            .await
    }

    /// Sets the idle time after which the vault locks itself (`None` =
    /// never); stored in the vault.
    pub async fn set_auto_lock(&self, ms: Option<u64>, now_ms: u64) -> Result<(), ClientError> {
        self.write_meta(now_ms, |u| u.meta_with_auto_lock(ms)).await
    }

    /// Signs a transfer from account `index`; the key is derived, used and
    /// wiped inside this call.
    pub fn sign_transfer(
        &self,
        index: u32,
        params: TransferParams,
        now_ms: u64,
    ) -> Result<SignedTransfer, ClientError> {
        let key = self
            .session
            .borrow_mut()
            .unlocked(now_ms)?
            .signing_key(index)?;
        transfer::sign_transfer(&key, params)
    }

    /// Signs `message` under the FIPS 204 context `context` with account
    /// `index`'s key (derived, used and wiped inside this call): what a site
    /// asks through the extension. The rUv protocol's own contexts are
    /// refused (see [`is_reserved_context`]).
    pub fn sign_message(
        &self,
        index: u32,
        message: &[u8],
        context: &[u8],
        now_ms: u64,
    ) -> Result<Vec<u8>, ClientError> {
        if is_reserved_context(context) {
            return Err(ClientError::new(
                crate::error::codes::INVALID_PARAMS,
                "contexts starting with \"ruv/\" are the rUv protocol's own and are never signed as a message",
            ));
        }
        let key = self
            .session
            .borrow_mut()
            .unlocked(now_ms)?
            .signing_key(index)?;
        let signature = key
            .sign(message, context, crate::error::random_bytes()?)
            .map_err(|e| ClientError::new(crate::error::codes::SIGNING_FAILED, e.to_string()))?;
        Ok(signature.as_bytes().to_vec())
    }

    /// The recovery phrase, after checking `password` again.
    pub async fn reveal_phrase(
        &self,
        password: &str,
        now_ms: u64,
    ) -> Result<Zeroizing<String>, ClientError> {
        let _op = self.op.acquire().await;
        self.verify_password(password, now_ms).await?;
        self.session.borrow_mut().unlocked(now_ms)?.phrase()
    }

    /// Checks `password` against the unlocked vault (`wrong_password` if it
    /// is not the password): what a destructive action asks first.
    pub async fn check_password(&self, password: &str, now_ms: u64) -> Result<(), ClientError> {
        let _op = self.op.acquire().await;
        self.verify_password(password, now_ms).await
    }

    /// Changes the password: checks `current`, re-encrypts under `new` with
    /// a fresh salt (and the configured parameters if they are stronger),
    /// and replaces the record in one atomic write.
    pub async fn change_password(
        &self,
        current: &str,
        new: &str,
        now_ms: u64,
    ) -> Result<(), ClientError> {
        let _op = self.op.acquire().await;
        session::validate_new_password(new)?;
        self.verify_password(current, now_ms).await?;
        let params = {
            let mut s = self.session.borrow_mut();
            let kdf = s.unlocked(now_ms)?.kdf();
            kdf.upgrade_towards(&self.config.kdf).unwrap_or(kdf)
        };
        let request = KeyRequest::fresh(&params)?;
        let keys = self.derive(new, &request).await?;
        let (next, bytes, epoch) = {
            let mut s = self.session.borrow_mut();
            let (epoch, revision) = (s.epoch(), s.next_revision());
            let next = s.unlocked(now_ms)?.rekeyed(&request, keys);
            let bytes = next.seal(revision)?;
            (next, bytes, epoch)
        };
        self.write(Some(bytes), Some(next), epoch, now_ms).await
    }

    /// The stored record as a backup file (works while locked). The record
    /// is checked structurally first: a damaged record is not exported as
    /// if it were a good backup.
    pub async fn export_backup(&self) -> Result<String, ClientError> {
        let _op = self.op.acquire().await;
        let bytes = self.storage.load().await?;
        self.session.borrow_mut().observe(bytes.as_deref());
        let bytes = bytes
            .ok_or_else(|| ClientError::new(codes::VAULT_NOT_FOUND, "there is no vault here"))?;
        Record::decode(&bytes)?;
        backup_text(&bytes)
    }

    /// Imports a backup. Everything is checked before anything is replaced:
    /// the file, the record, and `password` (which must open it). An
    /// existing vault is only replaced when `replace` is true. Afterwards
    /// the imported vault is unlocked.
    pub async fn import_backup(
        &self,
        backup: &str,
        password: &str,
        replace: bool,
        now_ms: u64,
    ) -> Result<(), ClientError> {
        let _op = self.op.acquire().await;
        let record_bytes = parse_backup(backup)?;
        let record = Record::decode(&record_bytes)?;
        let keys = self
            .derive(password, &Unlocked::key_request_for(&record))
            .await?;
        let imported = Unlocked::open(&record, keys).map_err(|e| match e.code.as_str() {
            codes::VAULT_CORRUPTED => {
                invalid_backup(format!("backup record is damaged: {}", e.message))
            }
            _ => e,
        })?;
        let next = match imported.kdf().upgrade_towards(&self.config.kdf) {
            Some(params) => self.upgraded(&imported, password, &params).await?,
            None => imported,
        };
        let (epoch, revision) = {
            let s = self.session.borrow();
            if s.stored().is_some() && !replace {
                return Err(ClientError::new(
                    codes::VAULT_EXISTS,
                    "a vault already exists here; pass replace to overwrite it",
                ));
            }
            // Never go back in revision: other instances compare against it.
            let imported_revision = record::peek_revision(&record_bytes).unwrap_or(0);
            (
                s.epoch(),
                s.next_revision().max(imported_revision.saturating_add(1)),
            )
        };
        let bytes = next.seal(revision)?;
        self.write(Some(bytes), Some(next), epoch, now_ms).await
    }

    /// Re-reads storage (to pick up changes made in another tab).
    pub async fn refresh(&self) -> Result<(), ClientError> {
        let _op = self.op.acquire().await;
        let bytes = self.storage.load().await?;
        self.session.borrow_mut().observe(bytes.as_deref());
        Ok(())
    }

    /// Deletes the vault. `confirm` must be exactly `"delete"`. Works while
    /// locked and on a damaged record (so a user who lost the password can
    /// start over from the phrase); fails with `vault_conflict` if the
    /// record changed since this instance last saw it.
    pub async fn delete(&self, confirm: &str, now_ms: u64) -> Result<(), ClientError> {
        if confirm != DELETE_CONFIRMATION {
            return Err(ClientError::new(
                codes::CONFIRMATION_REQUIRED,
                format!(
                    "deleting the vault needs the confirmation argument {DELETE_CONFIRMATION:?}"
                ),
            ));
        }
        let _op = self.op.acquire().await;
        let (stored, epoch) = {
            let s = self.session.borrow();
            (s.stored(), s.epoch())
        };
        if stored.is_none() {
            return Err(ClientError::new(
                codes::VAULT_NOT_FOUND,
                "there is no vault here",
            ));
        }
        self.write(None, None, epoch, now_ms).await
    }
}

/// Prefix of the rUv protocol's own signature contexts (`ruv/tx/v1`,
/// `ruv/vertex/v1`, …): a message signed under one of them could be taken
/// for a transaction or a consensus message, so the vault never signs a
/// message under any context that starts with it (any case).
pub const RESERVED_CONTEXT_PREFIX: &[u8] = b"ruv/";

/// Whether `context` starts with [`RESERVED_CONTEXT_PREFIX`], ignoring ASCII case.
pub fn is_reserved_context(context: &[u8]) -> bool {
    context.len() >= RESERVED_CONTEXT_PREFIX.len()
        && context[..RESERVED_CONTEXT_PREFIX.len()].eq_ignore_ascii_case(RESERVED_CONTEXT_PREFIX)
}
