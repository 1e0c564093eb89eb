//! The pure core of the vault: opening and sealing records with derived
//! keys, the unlocked secrets, and the lock state machine. No I/O, no clock
//! and no Argon2: callers pass `now_ms`, and each operation that needs the
//! password's keys says which ([`KeyRequest`]) and takes them as input,
//! computed wherever the driver chooses ([`super::deriver`]).

use super::codes;
use super::derive;
use super::kdf::{self, DerivedKeys, KdfParams, KeyRequest, SALT_LEN};
use super::mnemonic::Entropy;
use super::pending::{self, PendingTransfer};
use super::record::{self, AccountMeta, Header, Metadata, Record};
use super::storage::RecordTag;
use crate::error::ClientError;
use ruv_protocol::crypto::SigningKey;
use serde::Serialize;
use std::fmt;
use zeroize::Zeroizing;

/// Fewest characters a new password may have.
pub const MIN_PASSWORD_CHARS: usize = 8;
/// Most bytes a new password may have.
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// NFKC form of a password (NIST SP 800-63B), as the bytes fed to Argon2.
/// In wasm this is JavaScript's `String.prototype.normalize` (no 120 KB of
/// Unicode tables in the package); natively the `unicode-normalization`
/// crate. Unicode's stability policy keeps the two in agreement for
/// assigned characters; a browser test checks a sample.
pub fn normalize_password(password: &str) -> Zeroizing<String> {
    #[cfg(target_arch = "wasm32")]
    {
        Zeroizing::new(String::from(
            js_sys::JsString::from(password).normalize("NFKC"),
        ))
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        use unicode_normalization::UnicodeNormalization;
        Zeroizing::new(password.nfkc().collect())
    }
}

/// Checks a password for a new vault or a password change.
pub fn validate_new_password(password: &str) -> Result<(), ClientError> {
    let normalized = normalize_password(password);
    let chars = normalized.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(ClientError::new(
            codes::INVALID_PASSWORD,
            format!("a vault password needs at least {MIN_PASSWORD_CHARS} characters"),
        ));
    }
    if normalized.len() > MAX_PASSWORD_BYTES {
        return Err(ClientError::new(
            codes::INVALID_PASSWORD,
            format!("a vault password has at most {MAX_PASSWORD_BYTES} bytes"),
        ));
    }
    Ok(())
}

/// An account as the vault shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountInfo {
    /// Derivation index.
    pub index: u32,
    /// User-chosen name.
    pub label: String,
    /// Bech32m address (`ruv1…`).
    pub address: String,
}

/// The decrypted vault: secrets live here, in wasm memory, and are wiped on
/// drop (every secret field is `Zeroizing` or zeroizes itself).
#[derive(Clone)]
pub struct Unlocked {
    kdf: KdfParams,
    salt: [u8; SALT_LEN],
    keys: DerivedKeys,
    entropy: Entropy,
    bip39_seed: Zeroizing<[u8; 64]>,
    meta: Metadata,
    addresses: Vec<String>,
}

impl fmt::Debug for Unlocked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Unlocked")
            .field("kdf", &self.kdf)
            .field("accounts", &self.meta.accounts)
            .finish_non_exhaustive()
    }
}

impl Unlocked {
    /// Builds the unlocked state. `previous` (same wallet) lets the BIP-39
    /// seed (2048 PBKDF2 rounds) and known addresses (one ML-DSA key
    /// generation each) be reused instead of recomputed.
    fn from_parts(
        kdf: KdfParams,
        salt: [u8; SALT_LEN],
        keys: DerivedKeys,
        entropy: Entropy,
        meta: Metadata,
        previous: Option<&Unlocked>,
    ) -> Result<Box<Self>, ClientError> {
        let previous = previous.filter(|p| p.entropy == entropy);
        let bip39_seed = match previous {
            Some(p) => p.bip39_seed.clone(),
            None => entropy.bip39_seed()?,
        };
        let known = |index: u32| {
            let p = previous?;
            let at = p.meta.accounts.iter().position(|a| a.index == index)?;
            p.addresses.get(at).cloned()
        };
        let addresses = meta
            .accounts
            .iter()
            .map(|a| {
                known(a.index).unwrap_or_else(|| {
                    derive::address_of(&derive::account_key(&bip39_seed, a.index))
                })
            })
            .collect();
        Ok(Box::new(Self {
            kdf,
            salt,
            keys,
            entropy,
            bip39_seed,
            meta,
            addresses,
        }))
    }

    /// A new vault's contents, one account, under `keys` derived for
    /// `request` (a [`KeyRequest::fresh`] one).
    pub fn create(
        entropy: Entropy,
        request: &KeyRequest,
        keys: DerivedKeys,
        auto_lock_ms: Option<u64>,
    ) -> Result<Box<Self>, ClientError> {
        Self::from_parts(
            request.params,
            request.salt,
            keys,
            entropy,
            Metadata::new(record::validate_auto_lock(auto_lock_ms)?),
            None,
        )
    }

    /// The keys a decoded record needs to open: its salt and parameters.
    pub fn key_request_for(record: &Record) -> KeyRequest {
        KeyRequest {
            salt: record.header.salt,
            params: record.header.kdf,
        }
    }

    /// Opens a decoded record with the keys derived for
    /// [`Unlocked::key_request_for`] it.
    ///
    /// Errors: `vault_corrupted` (a ciphertext that fails authentication
    /// under the right key), `wrong_password` (the key check does not
    /// match). Structure and checksum errors come from [`Record::decode`].
    pub fn open(record: &Record, keys: DerivedKeys) -> Result<Box<Self>, ClientError> {
        let h = &record.header;
        if !kdf::constant_time_eq(&keys.key_check, &h.key_check) {
            return Err(ClientError::new(codes::WRONG_PASSWORD, "wrong password"));
        }
        let plaintext = record.open(&keys.aead_key)?;
        let (entropy, meta) = record::decode_payload(&plaintext)?;
        Self::from_parts(h.kdf, h.salt, keys, entropy, meta, None)
    }

    /// Re-reads a record written by another instance with the key already in
    /// memory, if it still uses the same salt and parameters (no password
    /// change happened). `None` when the key no longer fits.
    pub fn reopen(&self, bytes: &[u8]) -> Option<Box<Self>> {
        let record = Record::decode(bytes).ok()?;
        let h = &record.header;
        if h.salt != self.salt || h.kdf != self.kdf || h.key_check != self.keys.key_check {
            return None;
        }
        let plaintext = record.open(&self.keys.aead_key).ok()?;
        let (entropy, meta) = record::decode_payload(&plaintext).ok()?;
        Self::from_parts(
            self.kdf,
            self.salt,
            self.keys.clone(),
            entropy,
            meta,
            Some(self),
        )
        .ok()
    }

    /// The record bytes for this state at `revision`, with a fresh nonce.
    pub fn seal(&self, revision: u64) -> Result<Vec<u8>, ClientError> {
        let header = Header {
            version: record::FORMAT_VERSION,
            revision,
            kdf: self.kdf,
            salt: self.salt,
            key_check: self.keys.key_check,
            nonce: [0; record::NONCE_LEN],
        };
        let plaintext = record::encode_payload(&self.entropy, &self.meta)?;
        Ok(Record::seal(header, &self.keys.aead_key, &plaintext)?.encode())
    }

    /// The same secrets with new metadata.
    pub fn with_meta(&self, meta: Metadata) -> Result<Box<Self>, ClientError> {
        Self::from_parts(
            self.kdf,
            self.salt,
            self.keys.clone(),
            self.entropy.clone(),
            meta,
            Some(self),
        )
    }

    /// The same contents under keys derived for `request` (a fresh salt,
    /// possibly new parameters, possibly a new password).
    pub fn rekeyed(&self, request: &KeyRequest, keys: DerivedKeys) -> Box<Self> {
        let mut next = Box::new(self.clone());
        next.kdf = request.params;
        next.salt = request.salt;
        next.keys = keys;
        next
    }

    /// The keys a password check needs: this record's salt and parameters.
    pub fn key_request(&self) -> KeyRequest {
        KeyRequest {
            salt: self.salt,
            params: self.kdf,
        }
    }

    /// `wrong_password` unless `keys` (derived for [`Unlocked::key_request`]
    /// from a password) are this vault's.
    pub fn check_password(&self, keys: &DerivedKeys) -> Result<(), ClientError> {
        let ok = kdf::constant_time_eq(&keys.key_check, &self.keys.key_check)
            & kdf::constant_time_eq(&keys.aead_key[..], &self.keys.aead_key[..]);
        if ok {
            Ok(())
        } else {
            Err(ClientError::new(codes::WRONG_PASSWORD, "wrong password"))
        }
    }

    /// The Argon2id parameters of the stored record.
    pub fn kdf(&self) -> KdfParams {
        self.kdf
    }

    /// The metadata (accounts, settings).
    pub fn meta(&self) -> &Metadata {
        &self.meta
    }

    /// The recovery phrase (a secret).
    pub fn phrase(&self) -> Result<Zeroizing<String>, ClientError> {
        self.entropy.phrase()
    }

    /// Accounts with their addresses.
    pub fn accounts(&self) -> Vec<AccountInfo> {
        self.meta
            .accounts
            .iter()
            .zip(&self.addresses)
            .map(|(a, address)| AccountInfo {
                index: a.index,
                label: a.label.clone(),
                address: address.clone(),
            })
            .collect()
    }

    /// The signing key of an account in this vault (`unknown_account`
    /// otherwise). Wiped when dropped.
    pub fn signing_key(&self, index: u32) -> Result<SigningKey, ClientError> {
        self.meta
            .accounts
            .iter()
            .find(|a| a.index == index)
            .ok_or_else(|| unknown_account(index))?;
        Ok(derive::account_key(&self.bip39_seed, index))
    }

    /// Metadata with one more account (the next index); returns its index.
    pub fn meta_with_new_account(
        &self,
        label: Option<&str>,
    ) -> Result<(Metadata, u32), ClientError> {
        let mut meta = self.meta.clone();
        if meta.accounts.len() >= record::MAX_ACCOUNTS {
            return Err(ClientError::new(
                codes::ACCOUNT_LIMIT,
                format!("a vault holds at most {} accounts", record::MAX_ACCOUNTS),
            ));
        }
        let index = meta.next_index;
        let next = index
            .checked_add(1)
            .ok_or_else(|| ClientError::new(codes::ACCOUNT_LIMIT, "account indices exhausted"))?;
        let label = match label {
            Some(l) => record::validate_label(l)?,
            None => format!("Account {}", u64::from(index) + 1),
        };
        meta.accounts.push(AccountMeta { index, label });
        meta.next_index = next;
        Ok((meta, index))
    }

    /// Metadata with account `index` renamed.
    pub fn meta_with_label(&self, index: u32, label: &str) -> Result<Metadata, ClientError> {
        let label = record::validate_label(label)?;
        let mut meta = self.meta.clone();
        let account = meta
            .accounts
            .iter_mut()
            .find(|a| a.index == index)
            .ok_or_else(|| unknown_account(index))?;
        account.label = label;
        Ok(meta)
    }

    /// Metadata with `transfer` kept as pending (`unknown_account` if its
    /// account is not in this vault).
    pub fn meta_with_pending(&self, transfer: PendingTransfer) -> Result<Metadata, ClientError> {
        if !self
            .meta
            .accounts
            .iter()
            .any(|a| a.index == transfer.account)
        {
            return Err(unknown_account(transfer.account));
        }
        let mut meta = self.meta.clone();
        meta.pending = pending::with_added(&meta.pending, transfer)?;
        Ok(meta)
    }

    /// Metadata without the pending payment `id`, or `None` if it is not kept.
    pub fn meta_without_pending(&self, id: &str) -> Option<Metadata> {
        if !self.meta.pending.iter().any(|p| p.id == id) {
            return None;
        }
        let mut meta = self.meta.clone();
        meta.pending.retain(|p| p.id != id);
        Some(meta)
    }

    /// Metadata with a new auto-lock time.
    pub fn meta_with_auto_lock(&self, ms: Option<u64>) -> Result<Metadata, ClientError> {
        let mut meta = self.meta.clone();
        meta.auto_lock_ms = record::validate_auto_lock(ms)?;
        Ok(meta)
    }

    #[cfg(test)]
    fn secret_bytes(&self) -> Vec<u8> {
        let mut out = self.keys.aead_key.to_vec();
        out.extend_from_slice(self.entropy.as_bytes());
        out.extend_from_slice(&self.bip39_seed[..]);
        out
    }
}

fn unknown_account(index: u32) -> ClientError {
    ClientError::new(
        codes::UNKNOWN_ACCOUNT,
        format!("no account with index {index} in this vault"),
    )
}

/// What a vault looks like from outside.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VaultState {
    /// No record in storage.
    Empty,
    /// A record exists; secrets are not in memory.
    Locked,
    /// Secrets are in memory.
    Unlocked,
}

impl VaultState {
    /// `"empty"`, `"locked"` or `"unlocked"`.
    pub fn as_str(self) -> &'static str {
        match self {
            VaultState::Empty => "empty",
            VaultState::Locked => "locked",
            VaultState::Unlocked => "unlocked",
        }
    }
}

/// The lock state machine of one vault instance.
///
/// It remembers the tag of the record it last read or wrote (writes are
/// compare-and-swap against it), the unlocked secrets if any, and the time
/// of the last activity for auto-lock.
#[derive(Debug, Default)]
pub struct Session {
    stored: Option<RecordTag>,
    unlocked: Option<Box<Unlocked>>,
    last_activity_ms: u64,
    epoch: u64,
}

impl Session {
    /// A locked session over whatever storage holds.
    pub fn new(stored: Option<RecordTag>) -> Self {
        Self {
            stored,
            ..Self::default()
        }
    }

    /// Locks if the idle time has run out; true if it locked now.
    pub fn expire(&mut self, now_ms: u64) -> bool {
        match self.idle_deadline() {
            Some(deadline) if now_ms >= deadline => {
                self.lock();
                true
            }
            _ => false,
        }
    }

    /// Empty, locked or unlocked at `now_ms` (applies auto-lock first).
    pub fn state(&mut self, now_ms: u64) -> VaultState {
        self.expire(now_ms);
        match (&self.stored, &self.unlocked) {
            (None, _) => VaultState::Empty,
            (Some(_), None) => VaultState::Locked,
            (Some(_), Some(_)) => VaultState::Unlocked,
        }
    }

    /// Drops (and so wipes) the secrets.
    pub fn lock(&mut self) {
        self.unlocked = None;
        self.epoch += 1;
    }

    /// The unlocked contents, counting this call as activity; `vault_locked`
    /// (or `vault_not_found`) otherwise.
    pub fn unlocked(&mut self, now_ms: u64) -> Result<&Unlocked, ClientError> {
        self.expire(now_ms);
        if self.stored.is_none() {
            return Err(ClientError::new(
                codes::VAULT_NOT_FOUND,
                "there is no vault here",
            ));
        }
        match &self.unlocked {
            Some(u) => {
                self.last_activity_ms = self.last_activity_ms.max(now_ms);
                Ok(u)
            }
            None => Err(ClientError::new(codes::VAULT_LOCKED, "the vault is locked")),
        }
    }

    /// When the vault locks itself if nothing happens, if unlocked.
    pub fn idle_deadline(&self) -> Option<u64> {
        let u = self.unlocked.as_ref()?;
        let after = u.meta.auto_lock_ms?;
        Some(self.last_activity_ms.saturating_add(after))
    }

    /// Time of the last activity.
    pub fn last_activity_ms(&self) -> u64 {
        self.last_activity_ms
    }

    /// Tag of the record this session last saw.
    pub fn stored(&self) -> Option<RecordTag> {
        self.stored
    }

    /// The revision a write based on the current record gets.
    pub fn next_revision(&self) -> u64 {
        self.stored.map_or(1, |t| t.revision.saturating_add(1))
    }

    /// Counts locks; a write that started before a lock must not unlock again.
    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    /// Installs freshly opened secrets.
    pub fn install(&mut self, stored: RecordTag, unlocked: Box<Unlocked>, now_ms: u64) {
        self.stored = Some(stored);
        self.unlocked = Some(unlocked);
        self.last_activity_ms = now_ms;
    }

    /// After a successful write of `bytes` (`None` = deleted): remember the
    /// new record and, unless the vault was locked meanwhile, the new state.
    pub fn written(
        &mut self,
        bytes: Option<&[u8]>,
        unlocked: Option<Box<Unlocked>>,
        epoch: u64,
        now_ms: u64,
    ) {
        self.stored = bytes.map(RecordTag::of);
        match unlocked {
            Some(u) if epoch == self.epoch => {
                self.unlocked = Some(u);
                self.last_activity_ms = self.last_activity_ms.max(now_ms);
            }
            Some(_) => {}
            None => self.lock(),
        }
    }

    /// After reading storage: remember what is there; if unlocked, follow a
    /// change made elsewhere when the key still fits, otherwise lock.
    pub fn observe(&mut self, bytes: Option<&[u8]>) {
        let tag = bytes.map(RecordTag::of);
        if tag == self.stored {
            return;
        }
        self.stored = tag;
        let reopened = match (bytes, &self.unlocked) {
            (Some(b), Some(u)) => u.reopen(b),
            _ => None,
        };
        match reopened {
            Some(u) => self.unlocked = Some(u),
            None => self.lock(),
        }
    }

    /// The unlocked contents without counting activity (for getters).
    pub fn peek(&self) -> Option<&Unlocked> {
        self.unlocked.as_deref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use zeroize::Zeroize;

    const TINY: KdfParams = KdfParams {
        memory_kib: 64,
        iterations: 1,
        parallelism: 1,
    };
    const PW: &str = "correct horse";

    fn keys(password: &str, request: &KeyRequest) -> DerivedKeys {
        let normalized = normalize_password(password);
        kdf::derive_keys(normalized.as_bytes(), &request.salt, &request.params).unwrap()
    }

    fn create(password: &str, params: &KdfParams, auto_lock: Option<u64>) -> Box<Unlocked> {
        let request = KeyRequest::fresh(params).unwrap();
        let keys = keys(password, &request);
        Unlocked::create(Entropy::generate().unwrap(), &request, keys, auto_lock).unwrap()
    }

    fn open(bytes: &[u8], password: &str) -> Result<Box<Unlocked>, ClientError> {
        let record = Record::decode(bytes)?;
        let request = Unlocked::key_request_for(&record);
        Unlocked::open(&record, keys(password, &request))
    }

    fn check(u: &Unlocked, password: &str) -> Result<(), ClientError> {
        u.check_password(&keys(password, &u.key_request()))
    }

    fn rekeyed(u: &Unlocked, password: &str, params: &KdfParams) -> Box<Unlocked> {
        let request = KeyRequest::fresh(params).unwrap();
        u.rekeyed(&request, keys(password, &request))
    }

    fn new_vault() -> (Box<Unlocked>, Vec<u8>) {
        let u = create(PW, &TINY, Some(1000));
        let bytes = u.seal(1).unwrap();
        (u, bytes)
    }

    #[test]
    fn create_seal_open() {
        let (u, bytes) = new_vault();
        let o = open(&bytes, PW).unwrap();
        assert_eq!(o.accounts(), u.accounts());
        assert_eq!(*o.phrase().unwrap(), *u.phrase().unwrap());
        assert_eq!(o.accounts()[0].label, "Account 1");
        assert!(o.accounts()[0].address.starts_with("ruv1"));
    }

    #[test]
    fn wrong_password_and_corruption_are_told_apart() {
        let (_, bytes) = new_vault();
        assert_eq!(
            open(&bytes, "wrong password").unwrap_err().code,
            codes::WRONG_PASSWORD
        );
        // Flip a ciphertext byte and fix the checksum: only the AEAD notices.
        let mut tampered = bytes.clone();
        tampered[record::HEADER_LEN + 3] ^= 1;
        let end = tampered.len() - record::CHECKSUM_LEN;
        let sum = blake3::hash(&tampered[..end]);
        tampered[end..].copy_from_slice(sum.as_bytes());
        assert_eq!(
            open(&tampered, PW).unwrap_err().code,
            codes::VAULT_CORRUPTED
        );
        // Plain damage never even reaches Argon2.
        assert_eq!(
            open(&bytes[..bytes.len() - 1], PW).unwrap_err().code,
            codes::VAULT_CORRUPTED
        );
    }

    #[test]
    fn passwords_are_nfkc_normalized_and_validated() {
        let u = create("caf\u{e9} latte", &TINY, None);
        let bytes = u.seal(1).unwrap();
        // "e" + combining acute accent is the same password after NFKC.
        assert!(open(&bytes, "cafe\u{301} latte").is_ok());
        // Same expectations as the browser test (String.prototype.normalize).
        assert_eq!(
            &*normalize_password("cafe\u{301} \u{fb01}x \u{ff21}"),
            "caf\u{e9} fix A"
        );
        assert_eq!(
            validate_new_password("short").unwrap_err().code,
            codes::INVALID_PASSWORD
        );
        assert_eq!(
            validate_new_password(&"x".repeat(1025)).unwrap_err().code,
            codes::INVALID_PASSWORD
        );
        assert!(validate_new_password("eight ch").is_ok());
    }

    #[test]
    fn rekey_and_check_password() {
        let (u, _) = new_vault();
        check(&u, PW).unwrap();
        assert_eq!(
            check(&u, "nope nope").unwrap_err().code,
            codes::WRONG_PASSWORD
        );
        let stronger = KdfParams {
            memory_kib: 128,
            iterations: 2,
            parallelism: 1,
        };
        let r = rekeyed(&u, "new password", &stronger);
        assert_eq!(r.kdf(), stronger);
        let bytes = r.seal(2).unwrap();
        assert_eq!(open(&bytes, PW).unwrap_err().code, codes::WRONG_PASSWORD);
        let o = open(&bytes, "new password").unwrap();
        assert_eq!(*o.phrase().unwrap(), *u.phrase().unwrap());
        // The old key cannot follow a password change.
        assert!(u.reopen(&bytes).is_none());
    }

    #[test]
    fn accounts_and_signing_keys() {
        let (u, _) = new_vault();
        let (meta, index) = u.meta_with_new_account(Some(" Savings ")).unwrap();
        assert_eq!(index, 1);
        let u2 = u.with_meta(meta).unwrap();
        assert_eq!(u2.accounts()[1].label, "Savings");
        assert_ne!(u2.accounts()[0].address, u2.accounts()[1].address);
        let key = u2.signing_key(1).unwrap();
        assert_eq!(derive::address_of(&key), u2.accounts()[1].address);
        assert_eq!(u2.signing_key(2).unwrap_err().code, codes::UNKNOWN_ACCOUNT);
        assert_eq!(
            u2.meta_with_label(9, "x").unwrap_err().code,
            codes::UNKNOWN_ACCOUNT
        );
        assert_eq!(
            u2.meta_with_label(0, "\u{7}").unwrap_err().code,
            codes::INVALID_LABEL
        );
        let (m, i) = u2.meta_with_new_account(None).unwrap();
        assert_eq!((i, m.accounts[2].label.as_str()), (2, "Account 3"));
    }

    #[test]
    fn auto_lock_state_machine() {
        let (u, bytes) = new_vault();
        let mut s = Session::new(Some(RecordTag::of(&bytes)));
        assert_eq!(s.state(0), VaultState::Locked);
        assert_eq!(s.unlocked(0).unwrap_err().code, codes::VAULT_LOCKED);
        s.install(RecordTag::of(&bytes), u, 10_000);
        assert_eq!(s.idle_deadline(), Some(11_000));
        assert!(s.unlocked(10_900).is_ok());
        assert_eq!(s.idle_deadline(), Some(11_900));
        // A clock that goes backwards does not extend or break anything.
        assert!(s.unlocked(5).is_ok());
        assert_eq!(s.idle_deadline(), Some(11_900));
        assert_eq!(s.state(11_899), VaultState::Unlocked);
        assert_eq!(s.state(11_900), VaultState::Locked);
        assert_eq!(s.unlocked(11_901).unwrap_err().code, codes::VAULT_LOCKED);
        assert_eq!(
            Session::new(None).unlocked(0).unwrap_err().code,
            codes::VAULT_NOT_FOUND
        );
    }

    #[test]
    fn a_write_that_finishes_after_a_lock_does_not_unlock() {
        let (u, bytes) = new_vault();
        let mut s = Session::new(Some(RecordTag::of(&bytes)));
        s.install(RecordTag::of(&bytes), u.clone(), 0);
        let epoch = s.epoch();
        s.lock();
        let next = u.seal(2).unwrap();
        s.written(Some(&next), Some(u), epoch, 1);
        assert_eq!(s.state(1), VaultState::Locked);
        assert_eq!(s.stored(), Some(RecordTag::of(&next)));
        assert_eq!(s.next_revision(), 3);
    }

    #[test]
    fn observe_follows_or_locks() {
        let (u, bytes) = new_vault();
        let mut s = Session::new(Some(RecordTag::of(&bytes)));
        s.install(RecordTag::of(&bytes), u.clone(), 0);
        let (meta, _) = u.meta_with_new_account(None).unwrap();
        let other = u.with_meta(meta).unwrap().seal(2).unwrap();
        s.observe(Some(&other));
        assert_eq!(s.peek().unwrap().accounts().len(), 2);
        let other_password = rekeyed(&u, "another password", &TINY).seal(3).unwrap();
        s.observe(Some(&other_password));
        assert_eq!(s.state(0), VaultState::Locked);
        s.observe(None);
        assert_eq!(s.state(0), VaultState::Empty);
    }

    #[test]
    fn secrets_are_wiped_on_lock_and_never_debug_printed() {
        let (u, bytes) = new_vault();
        let debug = format!("{u:?}");
        assert!(!debug.contains(&hex::encode(u.entropy.as_bytes())));
        assert!(!debug.contains(&hex::encode(&u.bip39_seed[..])));
        assert!(!debug.contains(&hex::encode(&u.keys.aead_key[..])));
        assert!(u.secret_bytes().iter().any(|&b| b != 0));
        // The secret buffers are Zeroizing: wiping one in place clears it.
        let mut seed = u.bip39_seed.clone();
        seed.zeroize();
        assert!(seed.iter().all(|&b| b == 0));
        let mut s = Session::new(Some(RecordTag::of(&bytes)));
        s.install(RecordTag::of(&bytes), u, 0);
        s.lock();
        assert!(s.peek().is_none());
        assert!(!format!("{s:?}").contains("Unlocked"));
    }
}
