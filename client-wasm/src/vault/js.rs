//! The `Vault` JavaScript class: a thin layer over [`VaultDriver`] that
//! supplies the clock (`Date.now()`), the auto-lock timer, Promises and
//! JS values.

use super::codes;
use super::driver::{VaultConfig, VaultDriver};
use super::js_kdf::JsKdf;
use super::kdf::KdfParams;
use super::pending::PendingTransfer;
use super::storage::{Backend, MemoryStorage};
use crate::error::ClientError;
use crate::keys::SignedTransaction;
use crate::transfer::TransferParams;
use js_sys::Promise;
use serde::{Deserialize, Deserializer};
use std::cell::Cell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;
use zeroize::Zeroizing;

#[wasm_bindgen(typescript_custom_section)]
const VAULT_TS_TYPES: &'static str = r#"
/** Argon2id cost parameters stored in a vault record. */
export interface KdfParams { memoryKib: number; iterations: number; parallelism: number }

/** Options of `Vault.open` / `Vault.openInMemory`. */
export interface VaultOptions {
  /** Argon2id parameters for new records; at least OWASP's minimum (19456 KiB, 2 iterations). Default 65536 KiB, 8 iterations, 1 lane. */
  kdf?: KdfParams;
  /** Idle time before a new vault locks itself, in ms; null = never. Default 300000 (5 minutes). */
  autoLockMs?: number | null;
  /**
   * Runs Argon2id for the vault: a function that hands the request to a Web
   * Worker running `deriveVaultKey` in its own instance of this module, so
   * the page never freezes. Absent: Argon2 runs on the calling thread (Node,
   * or code that already runs in a worker).
   */
  deriveKey?: DeriveKey;
}

/** An account in the vault. */
export interface VaultAccount { index: number; label: string; address: string }

/** What `Vault.unlock` reports. */
export interface UnlockResult {
  /** The record was re-encrypted with stronger Argon2 parameters. */
  kdfUpgraded: boolean;
  /** Error code of an upgrade that was due but failed (retried at the next unlock). */
  upgradeError?: string;
}

/**
 * A signed payment not yet proven final or rejected, kept in the encrypted
 * vault record until `removePendingTransfer`. Amounts are micro-rUv, decimal.
 */
export interface PendingTransfer {
  /** Transaction id (64 lowercase hex characters). */
  id: string;
  /** The sending account's index. */
  account: number;
  to: string;
  amount: string;
  fee: string;
  nonce: string;
  /** When it was signed (ms since the epoch). */
  at: number;
  /** The site that asked for it (extension). */
  origin?: string;
}

/** `"empty"`: no vault yet; `"locked"`; `"unlocked"`. */
export type VaultState = "empty" | "locked" | "unlocked";
"#;

fn now_ms() -> u64 {
    // Date.now() is a non-negative integer in practice; clamp anything else.
    let t = js_sys::Date::now();
    if t.is_finite() && t > 0.0 {
        t as u64
    } else {
        0
    }
}

fn to_js<T: serde::Serialize>(value: &T) -> Result<JsValue, JsValue> {
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|e| ClientError::new(crate::error::codes::INVALID_PARAMS, e.to_string()).into())
}

fn double_option<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<u64>>, D::Error> {
    Option::<u64>::deserialize(d).map(Some)
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct VaultOptions {
    #[serde(default)]
    kdf: Option<KdfParams>,
    /// Absent: default; null: never; number: ms.
    #[serde(default, deserialize_with = "double_option")]
    auto_lock_ms: Option<Option<u64>>,
}

/// serde-wasm-bindgen only reads the fields it knows, so a misspelled
/// option would be ignored silently; reject unknown keys instead.
fn reject_unknown_keys(value: &JsValue, allowed: &[&str], what: &str) -> Result<(), ClientError> {
    let Some(object) = value.dyn_ref::<js_sys::Object>() else {
        return Ok(());
    };
    for key in js_sys::Object::keys(object).iter() {
        let key = key.as_string().unwrap_or_default();
        if !allowed.contains(&key.as_str()) {
            return Err(ClientError::new(
                crate::error::codes::INVALID_PARAMS,
                format!(
                    "unknown {what} option {key:?} (known: {})",
                    allowed.join(", ")
                ),
            ));
        }
    }
    Ok(())
}

/// The `deriveKey` option (a function), taken out of a copy of the options
/// so the rest deserializes as data.
fn take_derive_key(options: &JsValue) -> Result<(JsValue, JsKdf), ClientError> {
    let Some(object) = options.dyn_ref::<js_sys::Object>() else {
        return Ok((options.clone(), JsKdf::InThread));
    };
    let key = JsValue::from_str("deriveKey");
    let value = js_sys::Reflect::get(object, &key).unwrap_or(JsValue::UNDEFINED);
    if value.is_undefined() {
        return Ok((options.clone(), JsKdf::InThread));
    }
    let function = value.dyn_into::<js_sys::Function>().map_err(|_| {
        ClientError::new(
            crate::error::codes::INVALID_PARAMS,
            "vault option deriveKey must be a function",
        )
    })?;
    let rest = js_sys::Object::assign(&js_sys::Object::new(), object);
    let _ = js_sys::Reflect::delete_property(&rest, &key);
    Ok((rest.into(), JsKdf::Function(function)))
}

fn config_from_js(options: Option<JsValue>) -> Result<(VaultConfig, JsKdf), ClientError> {
    let options = options.unwrap_or(JsValue::UNDEFINED);
    let (options, deriver) = take_derive_key(&options)?;
    let options: VaultOptions = if options.is_undefined() || options.is_null() {
        VaultOptions::default()
    } else {
        reject_unknown_keys(&options, &["kdf", "autoLockMs"], "vault")?;
        if let Ok(kdf) = js_sys::Reflect::get(&options, &"kdf".into()) {
            reject_unknown_keys(&kdf, &["memoryKib", "iterations", "parallelism"], "kdf")?;
        }
        serde_wasm_bindgen::from_value(options).map_err(|e| {
            ClientError::new(
                crate::error::codes::INVALID_PARAMS,
                format!("vault options: {e}"),
            )
        })?
    };
    let mut config = VaultConfig::default();
    if let Some(kdf) = options.kdf {
        kdf.validate()?;
        if !kdf.meets_owasp_minimum() {
            return Err(ClientError::new(
                codes::INVALID_KDF_PARAMS,
                "Argon2 parameters must be at least OWASP's minimum: 19456 KiB and 2 iterations",
            ));
        }
        config.kdf = kdf;
    }
    if let Some(auto_lock) = options.auto_lock_ms {
        config.auto_lock_ms = auto_lock;
    }
    Ok((config, deriver))
}

fn pending_from_js(value: &JsValue) -> Result<PendingTransfer, ClientError> {
    reject_unknown_keys(
        value,
        &[
            "id", "account", "to", "amount", "fee", "nonce", "at", "origin",
        ],
        "pending transfer",
    )?;
    let transfer: PendingTransfer = serde_wasm_bindgen::from_value(value.clone()).map_err(|e| {
        ClientError::new(
            codes::INVALID_PENDING_TRANSFER,
            format!("pending transfer: {e}"),
        )
    })?;
    transfer.validate()?;
    Ok(transfer)
}

fn auto_lock_from_js(ms: Option<f64>) -> Result<Option<u64>, ClientError> {
    match ms {
        None => Ok(None),
        Some(v)
            if v.is_finite()
                && v >= 1.0
                && v.fract() == 0.0
                && v <= super::record::MAX_AUTO_LOCK_MS as f64 =>
        {
            Ok(Some(v as u64))
        }
        Some(v) => Err(ClientError::new(
            codes::INVALID_AUTO_LOCK,
            format!(
                "auto-lock time must be a whole number of ms from 1 to {}, or null; got {v}",
                super::record::MAX_AUTO_LOCK_MS
            ),
        )),
    }
}

struct Inner {
    driver: VaultDriver<Backend, JsKdf>,
    /// Deadline the pending timer was set for, if one is pending.
    timer_for: Cell<Option<u64>>,
}

impl Inner {
    /// Keeps a timer pending for the idle deadline; when it fires it locks
    /// the vault if it is still idle, or re-arms for the new deadline. A
    /// nearer deadline (a shorter auto-lock time) gets its own timer. Every
    /// call also checks the deadline itself, so a missing timer API (or a
    /// throttled background tab) cannot keep the vault open longer.
    fn arm_timer(self: &Rc<Self>) {
        let Some(deadline) = self.driver.idle_deadline() else {
            return;
        };
        if self
            .timer_for
            .get()
            .is_some_and(|pending| pending <= deadline)
        {
            return;
        }
        let delay = deadline
            .saturating_sub(now_ms())
            .saturating_add(1)
            .min(i32::MAX as u64);
        let weak = Rc::downgrade(self);
        let callback = Closure::once_into_js(move || {
            if let Some(inner) = weak.upgrade() {
                if inner.timer_for.get() == Some(deadline) {
                    inner.timer_for.set(None);
                }
                wasm_bindgen_futures::spawn_local(async move {
                    if !inner.driver.enforce_auto_lock(now_ms()).await {
                        inner.arm_timer();
                    }
                });
            }
        });
        let global = js_sys::global();
        let Ok(set_timeout) = js_sys::Reflect::get(&global, &"setTimeout".into()) else {
            return;
        };
        let Some(set_timeout) = set_timeout.dyn_ref::<js_sys::Function>() else {
            return;
        };
        let Ok(handle) = set_timeout.call2(&global, &callback, &JsValue::from_f64(delay as f64))
        else {
            return;
        };
        self.timer_for.set(Some(deadline));
        // Node: do not keep the process alive just for the auto-lock timer.
        if let Ok(unref) = js_sys::Reflect::get(&handle, &"unref".into()) {
            if let Some(unref) = unref.dyn_ref::<js_sys::Function>() {
                let _ = unref.call0(&handle);
            }
        }
    }
}

/// An encrypted key vault: a BIP-39 wallet with several accounts, stored
/// in IndexedDB (or in memory), unlocked with a password. Keys never leave
/// wasm memory; signing happens here.
#[wasm_bindgen]
pub struct Vault {
    inner: Rc<Inner>,
}

impl Vault {
    /// Wraps a driver (Rust callers; lets tests pick small Argon2 parameters).
    pub fn from_driver(driver: VaultDriver<Backend, JsKdf>) -> Vault {
        Vault {
            inner: Rc::new(Inner {
                driver,
                timer_for: Cell::new(None),
            }),
        }
    }

    /// A vault over a memory store with any valid configuration (Rust
    /// callers; JavaScript gets the OWASP minimum enforced).
    pub fn in_memory_with(
        storage: MemoryStorage,
        config: VaultConfig,
    ) -> Result<Vault, ClientError> {
        Self::in_memory_with_kdf(storage, JsKdf::InThread, config)
    }

    /// [`Vault::in_memory_with`] with Argon2 run by `kdf`.
    pub fn in_memory_with_kdf(
        storage: MemoryStorage,
        kdf: JsKdf,
        config: VaultConfig,
    ) -> Result<Vault, ClientError> {
        let current = storage.snapshot();
        Ok(Self::from_driver(VaultDriver::with_kdf(
            Backend::Memory(storage),
            kdf,
            config,
            current.as_deref(),
        )?))
    }

    /// A vault in the IndexedDB database `name` with any valid configuration
    /// (Rust callers).
    #[cfg(target_arch = "wasm32")]
    pub async fn indexed_db_with(name: &str, config: VaultConfig) -> Result<Vault, ClientError> {
        Self::indexed_db_with_kdf(name, JsKdf::InThread, config).await
    }

    /// [`Vault::indexed_db_with`] with Argon2 run by `kdf`.
    #[cfg(target_arch = "wasm32")]
    pub async fn indexed_db_with_kdf(
        name: &str,
        kdf: JsKdf,
        config: VaultConfig,
    ) -> Result<Vault, ClientError> {
        let storage = super::idb::IdbStorage::open(name).await?;
        Ok(Self::from_driver(
            VaultDriver::open_with(Backend::IndexedDb(storage), kdf, config).await?,
        ))
    }

    /// The driver underneath.
    pub fn driver(&self) -> &VaultDriver<Backend, JsKdf> {
        &self.inner.driver
    }

    fn run<F>(&self, f: impl FnOnce(Rc<Inner>) -> F) -> Promise
    where
        F: std::future::Future<Output = Result<JsValue, JsValue>> + 'static,
    {
        let fut = f(self.inner.clone());
        let inner = self.inner.clone();
        future_to_promise(async move {
            let result = fut.await;
            inner.arm_timer();
            result
        })
    }
}

#[wasm_bindgen]
impl Vault {
    /// Opens the vault kept in the IndexedDB database `name` (default
    /// `"ruv-vault"`). Rejects with `storage_unavailable` where IndexedDB is
    /// missing or refused (Node, some private modes).
    #[wasm_bindgen(unchecked_return_type = "Promise<Vault>")]
    pub fn open(
        #[wasm_bindgen(unchecked_optional_param_type = "string")] name: Option<String>,
        #[wasm_bindgen(unchecked_optional_param_type = "VaultOptions")] options: Option<JsValue>,
    ) -> Promise {
        let config = config_from_js(options);
        future_to_promise(async move {
            let (config, kdf) = config?;
            #[cfg(target_arch = "wasm32")]
            {
                let name = name.unwrap_or_else(|| super::idb::DEFAULT_DATABASE.to_owned());
                Ok(Vault::indexed_db_with_kdf(&name, kdf, config).await?.into())
            }
            #[cfg(not(target_arch = "wasm32"))]
            {
                let _ = (name, config, kdf);
                Err(ClientError::new(
                    codes::STORAGE_UNAVAILABLE,
                    "IndexedDB exists only in browsers",
                )
                .into())
            }
        })
    }

    /// A vault held in memory only (Node, tests). Persist it with
    /// `exportBackup()` and bring it back with `importBackup()`.
    #[wasm_bindgen(js_name = openInMemory)]
    pub fn open_in_memory(
        #[wasm_bindgen(unchecked_optional_param_type = "VaultOptions")] options: Option<JsValue>,
    ) -> Result<Vault, JsValue> {
        let (config, kdf) = config_from_js(options)?;
        Ok(Self::in_memory_with_kdf(MemoryStorage::new(), kdf, config)?)
    }

    /// Checks a recovery phrase without storing anything. Throws
    /// `invalid_mnemonic_length`, `invalid_mnemonic_word` or
    /// `invalid_mnemonic_checksum`.
    #[wasm_bindgen(js_name = validatePhrase)]
    pub fn validate_phrase(phrase: String) -> Result<(), JsValue> {
        let phrase = Zeroizing::new(phrase);
        super::mnemonic::parse_phrase(&phrase)?;
        Ok(())
    }

    /// `"empty"`, `"locked"` or `"unlocked"`.
    #[wasm_bindgen(getter, unchecked_return_type = "VaultState")]
    pub fn state(&self) -> String {
        self.inner.driver.state(now_ms()).as_str().to_owned()
    }

    /// Whether the secrets are out of memory.
    #[wasm_bindgen(getter, js_name = isLocked)]
    pub fn is_locked(&self) -> bool {
        self.inner.driver.state(now_ms()) != super::session::VaultState::Unlocked
    }

    /// Revision of the record this instance last saw (undefined if none).
    #[wasm_bindgen(getter)]
    pub fn revision(&self) -> Option<f64> {
        self.inner.driver.revision().map(|r| r as f64)
    }

    /// The vault's auto-lock time in ms (null: never; undefined: locked).
    #[wasm_bindgen(getter, js_name = autoLockMs, unchecked_return_type = "number | null | undefined")]
    pub fn auto_lock_ms(&self) -> JsValue {
        match self.inner.driver.auto_lock_ms() {
            None => JsValue::UNDEFINED,
            Some(None) => JsValue::NULL,
            Some(Some(ms)) => JsValue::from_f64(ms as f64),
        }
    }

    /// The stored Argon2id parameters (undefined while locked).
    #[wasm_bindgen(getter, js_name = kdfParams, unchecked_return_type = "KdfParams | undefined")]
    pub fn kdf_params(&self) -> Result<JsValue, JsValue> {
        match self.inner.driver.kdf_params() {
            Some(p) => to_js(&p),
            None => Ok(JsValue::UNDEFINED),
        }
    }

    /// Time of the last activity (ms since the epoch).
    #[wasm_bindgen(getter, js_name = lastActivityMs)]
    pub fn last_activity_ms(&self) -> f64 {
        self.inner.driver.last_activity_ms() as f64
    }

    /// Creates a new wallet with a fresh 24-word phrase, encrypted under
    /// `password` (at least 8 characters). Leaves it unlocked; show the
    /// phrase for backup with `revealPhrase(password)`.
    #[wasm_bindgen(unchecked_return_type = "Promise<void>")]
    pub fn create(&self, password: String) -> Promise {
        let password = Zeroizing::new(password);
        self.run(move |inner| async move {
            inner.driver.create(&password, now_ms()).await?;
            Ok(JsValue::UNDEFINED)
        })
    }

    /// Restores a wallet from a 12- to 24-word phrase.
    #[wasm_bindgen(unchecked_return_type = "Promise<void>")]
    pub fn restore(&self, phrase: String, password: String) -> Promise {
        let (phrase, password) = (Zeroizing::new(phrase), Zeroizing::new(password));
        self.run(move |inner| async move {
            inner.driver.restore(&phrase, &password, now_ms()).await?;
            Ok(JsValue::UNDEFINED)
        })
    }

    /// Unlocks with `password`. Rejects with `wrong_password` (nothing
    /// changed), `vault_corrupted`, `vault_not_found`.
    #[wasm_bindgen(unchecked_return_type = "Promise<UnlockResult>")]
    pub fn unlock(&self, password: String) -> Promise {
        let password = Zeroizing::new(password);
        self.run(move |inner| async move {
            let outcome = inner.driver.unlock(&password, now_ms()).await?;
            to_js(&outcome)
        })
    }

    /// Wipes the secrets from memory now.
    pub fn lock(&self) {
        self.inner.driver.lock();
    }

    /// Records user activity, postponing auto-lock. Throws `vault_locked`.
    pub fn touch(&self) -> Result<(), JsValue> {
        self.inner.driver.touch(now_ms())?;
        self.inner.arm_timer();
        Ok(())
    }

    /// The accounts (index, label, address). Throws `vault_locked`.
    #[wasm_bindgen(unchecked_return_type = "VaultAccount[]")]
    pub fn accounts(&self) -> Result<JsValue, JsValue> {
        let accounts = self.inner.driver.accounts(now_ms())?;
        self.inner.arm_timer();
        to_js(&accounts)
    }

    /// Adds the next account (label default "Account N").
    #[wasm_bindgen(js_name = addAccount, unchecked_return_type = "Promise<VaultAccount>")]
    pub fn add_account(&self, label: Option<String>) -> Promise {
        self.run(move |inner| async move {
            let account = inner.driver.add_account(label.as_deref(), now_ms()).await?;
            to_js(&account)
        })
    }

    /// The payments kept as pending (signed, not yet proven final or
    /// rejected). Throws `vault_locked`.
    #[wasm_bindgen(js_name = pendingTransfers, unchecked_return_type = "PendingTransfer[]")]
    pub fn pending_transfers(&self) -> Result<JsValue, JsValue> {
        let pending = self.inner.driver.pending_transfers(now_ms())?;
        self.inner.arm_timer();
        to_js(&pending)
    }

    /// Keeps a signed payment in the encrypted record until
    /// `removePendingTransfer(id)` (call it before submitting, so a reload
    /// or a crash loses nothing). Rejects with `invalid_pending_transfer`,
    /// `unknown_account`, `vault_locked`.
    #[wasm_bindgen(js_name = addPendingTransfer, unchecked_return_type = "Promise<void>")]
    pub fn add_pending_transfer(
        &self,
        #[wasm_bindgen(unchecked_param_type = "PendingTransfer")] transfer: JsValue,
    ) -> Promise {
        let transfer = pending_from_js(&transfer);
        self.run(move |inner| async move {
            inner
                .driver
                .add_pending_transfer(transfer?, now_ms())
                .await?;
            Ok(JsValue::UNDEFINED)
        })
    }

    /// Forgets a pending payment once a proof settled it; resolves to false
    /// if it was not kept. Does not count as activity (auto-lock).
    #[wasm_bindgen(js_name = removePendingTransfer, unchecked_return_type = "Promise<boolean>")]
    pub fn remove_pending_transfer(&self, id: String) -> Promise {
        self.run(move |inner| async move {
            let removed = inner.driver.remove_pending_transfer(&id, now_ms()).await?;
            Ok(JsValue::from_bool(removed))
        })
    }

    /// Renames account `index` (1 to 64 characters).
    #[wasm_bindgen(js_name = renameAccount, unchecked_return_type = "Promise<void>")]
    pub fn rename_account(&self, index: u32, label: String) -> Promise {
        self.run(move |inner| async move {
            inner.driver.rename_account(index, &label, now_ms()).await?;
            Ok(JsValue::UNDEFINED)
        })
    }

    /// Sets the idle time before the vault locks itself (ms; null = never).
    #[wasm_bindgen(js_name = setAutoLock, unchecked_return_type = "Promise<void>")]
    pub fn set_auto_lock(
        &self,
        #[wasm_bindgen(unchecked_param_type = "number | null")] ms: Option<f64>,
    ) -> Promise {
        let ms = auto_lock_from_js(ms);
        self.run(move |inner| async move {
            inner.driver.set_auto_lock(ms?, now_ms()).await?;
            Ok(JsValue::UNDEFINED)
        })
    }

    /// Signs a transfer from account `accountIndex`. The key is derived,
    /// used and wiped inside wasm.
    #[wasm_bindgen(js_name = signTransfer)]
    pub fn sign_transfer(
        &self,
        #[wasm_bindgen(js_name = accountIndex)] account_index: u32,
        #[wasm_bindgen(unchecked_param_type = "TransferParams")] params: JsValue,
    ) -> Result<SignedTransaction, JsValue> {
        let params: TransferParams = serde_wasm_bindgen::from_value(params)
            .map_err(|e| ClientError::new(crate::error::codes::INVALID_PARAMS, e.to_string()))?;
        let signed = self
            .inner
            .driver
            .sign_transfer(account_index, params, now_ms())?;
        self.inner.arm_timer();
        Ok(SignedTransaction::from_inner(signed))
    }

    /// Signs `message` under the FIPS 204 context `context` (1 to 255 bytes)
    /// with account `accountIndex`; the key is derived, used and wiped inside
    /// wasm. Contexts starting with `ruv/` (the protocol's own) are refused
    /// with `invalid_params`. Returns the 3309-byte ML-DSA-65 signature.
    #[wasm_bindgen(js_name = signMessage)]
    pub fn sign_message(
        &self,
        #[wasm_bindgen(js_name = accountIndex)] account_index: u32,
        message: &[u8],
        context: &[u8],
    ) -> Result<Vec<u8>, JsValue> {
        let signature =
            self.inner
                .driver
                .sign_message(account_index, message, context, now_ms())?;
        self.inner.arm_timer();
        Ok(signature)
    }

    /// Whether the vault refuses to sign a message under `context` (it starts
    /// with `ruv/`, the rUv protocol's own contexts, in any case).
    #[wasm_bindgen(js_name = isReservedContext)]
    pub fn is_reserved_context(context: &[u8]) -> bool {
        super::driver::is_reserved_context(context)
    }

    /// The recovery phrase, after checking `password` again (the one way a
    /// secret leaves wasm memory, at the user's request).
    #[wasm_bindgen(js_name = revealPhrase, unchecked_return_type = "Promise<string>")]
    pub fn reveal_phrase(&self, password: String) -> Promise {
        let password = Zeroizing::new(password);
        self.run(move |inner| async move {
            let phrase = inner.driver.reveal_phrase(&password, now_ms()).await?;
            Ok(JsValue::from_str(&phrase))
        })
    }

    /// Checks `password` (the vault must be unlocked); rejects with
    /// `wrong_password` if it is not the vault's. Nothing secret leaves wasm:
    /// what the wallet asks before deleting or replacing the vault.
    #[wasm_bindgen(js_name = checkPassword, unchecked_return_type = "Promise<void>")]
    pub fn check_password(&self, password: String) -> Promise {
        let password = Zeroizing::new(password);
        self.run(move |inner| async move {
            inner.driver.check_password(&password, now_ms()).await?;
            Ok(JsValue::UNDEFINED)
        })
    }

    /// Changes the password (re-encrypts with a fresh salt; one atomic write).
    #[wasm_bindgen(js_name = changePassword, unchecked_return_type = "Promise<void>")]
    pub fn change_password(&self, current: String, next: String) -> Promise {
        let (current, next) = (Zeroizing::new(current), Zeroizing::new(next));
        self.run(move |inner| async move {
            inner
                .driver
                .change_password(&current, &next, now_ms())
                .await?;
            Ok(JsValue::UNDEFINED)
        })
    }

    /// The encrypted record as a backup file (JSON text). Works while locked.
    #[wasm_bindgen(js_name = exportBackup, unchecked_return_type = "Promise<string>")]
    pub fn export_backup(&self) -> Promise {
        self.run(
            move |inner| async move { Ok(JsValue::from_str(&inner.driver.export_backup().await?)) },
        )
    }

    /// Imports a backup file, checked completely (including `password`)
    /// before anything is replaced. `replace` must be true to overwrite an
    /// existing vault. Leaves the imported vault unlocked.
    #[wasm_bindgen(js_name = importBackup, unchecked_return_type = "Promise<void>")]
    pub fn import_backup(
        &self,
        backup: String,
        password: String,
        replace: Option<bool>,
    ) -> Promise {
        let password = Zeroizing::new(password);
        self.run(move |inner| async move {
            inner
                .driver
                .import_backup(&backup, &password, replace.unwrap_or(false), now_ms())
                .await?;
            Ok(JsValue::UNDEFINED)
        })
    }

    /// Re-reads storage to pick up changes made in another tab.
    #[wasm_bindgen(unchecked_return_type = "Promise<void>")]
    pub fn refresh(&self) -> Promise {
        self.run(move |inner| async move {
            inner.driver.refresh().await?;
            Ok(JsValue::UNDEFINED)
        })
    }

    /// Deletes the vault; `confirm` must be the string `"delete"`.
    #[wasm_bindgen(js_name = delete, unchecked_return_type = "Promise<void>")]
    pub fn delete_vault(
        &self,
        #[wasm_bindgen(unchecked_param_type = "\"delete\"")] confirm: String,
    ) -> Promise {
        self.run(move |inner| async move {
            inner.driver.delete(&confirm, now_ms()).await?;
            Ok(JsValue::UNDEFINED)
        })
    }
}
