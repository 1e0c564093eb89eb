//! The key vault: a BIP-39 wallet kept encrypted at rest and unlocked into
//! wasm memory only.
//!
//! Layers, from the inside out:
//! - a pure core with no I/O: [`mnemonic`] (phrases), [`derive`] (account
//!   keys), [`kdf`] (Argon2id), [`record`] (the byte format and the AEAD) and
//!   [`session`] (the lock state machine, which takes `now_ms` and the
//!   password's derived keys as input);
//! - [`deriver::KeyDeriver`]: who runs Argon2 (this thread natively, a Web
//!   Worker in a browser);
//! - [`storage`]: the [`storage::VaultStorage`] trait (an atomic
//!   compare-and-swap of one record) with in-memory, file (native) and
//!   IndexedDB (wasm) backends;
//! - [`driver::VaultDriver`]: the async operations, generic over storage;
//! - [`Vault`]: the JavaScript class.
//!
//! The format, the derivations and the error codes are specified in
//! `docs/vault.md`.

pub mod derive;
pub mod deriver;
pub mod driver;
#[cfg(target_arch = "wasm32")]
pub mod idb;
mod js;
mod js_kdf;
pub mod kdf;
pub mod mnemonic;
mod oplock;
pub mod pending;
pub mod record;
pub mod session;
pub mod storage;

pub use driver::{VaultConfig, VaultDriver};
pub use js::Vault;
pub use js_kdf::{derive_vault_key, JsKdf};

/// Error codes of the vault (each reaches JavaScript as `error.code`).
pub mod codes {
    /// A phrase word is not in the BIP-39 English list.
    pub const INVALID_MNEMONIC_WORD: &str = "invalid_mnemonic_word";
    /// The phrase's BIP-39 checksum does not match.
    pub const INVALID_MNEMONIC_CHECKSUM: &str = "invalid_mnemonic_checksum";
    /// The phrase does not have 12, 15, 18, 21 or 24 words.
    pub const INVALID_MNEMONIC_LENGTH: &str = "invalid_mnemonic_length";
    /// The password does not open the vault. Nothing was changed.
    pub const WRONG_PASSWORD: &str = "wrong_password";
    /// The password is empty, too short or too long for a new vault.
    pub const INVALID_PASSWORD: &str = "invalid_password";
    /// The stored record (or a backup) is damaged; it is left as it was.
    pub const VAULT_CORRUPTED: &str = "vault_corrupted";
    /// The record was written by a newer format version.
    pub const UNSUPPORTED_VERSION: &str = "vault_unsupported_version";
    /// The vault changed in another tab or process since this instance last
    /// read it; nothing was written.
    pub const VAULT_CONFLICT: &str = "vault_conflict";
    /// IndexedDB (or the file system) is missing, refused or out of quota.
    pub const STORAGE_UNAVAILABLE: &str = "storage_unavailable";
    /// The operation needs an unlocked vault.
    pub const VAULT_LOCKED: &str = "vault_locked";
    /// There is no vault in this storage.
    pub const VAULT_NOT_FOUND: &str = "vault_not_found";
    /// A vault already exists here and the operation would replace it.
    pub const VAULT_EXISTS: &str = "vault_exists";
    /// A backup file is malformed or not a vault backup.
    pub const INVALID_BACKUP: &str = "invalid_backup";
    /// An account label is empty, too long or has control characters.
    pub const INVALID_LABEL: &str = "invalid_label";
    /// No account with that index exists in the vault.
    pub const UNKNOWN_ACCOUNT: &str = "unknown_account";
    /// The vault already holds the maximum number of accounts.
    pub const ACCOUNT_LIMIT: &str = "account_limit";
    /// A destructive operation was called without its confirmation argument.
    pub const CONFIRMATION_REQUIRED: &str = "confirmation_required";
    /// Argon2 parameters are out of range (or below the OWASP minimum where
    /// that applies).
    pub const INVALID_KDF_PARAMS: &str = "invalid_kdf_params";
    /// Argon2 could not run (its memory could not be allocated).
    pub const KDF_FAILED: &str = "kdf_failed";
    /// The auto-lock time is out of range.
    pub const INVALID_AUTO_LOCK: &str = "invalid_auto_lock";
    /// A pending payment's fields are malformed, or the vault holds the
    /// most it keeps.
    pub const INVALID_PENDING_TRANSFER: &str = "invalid_pending_transfer";
}
