//! The vault in real headless Chromium with real IndexedDB, through the
//! `Vault` JavaScript class (Promises, JS errors with `code`). Run with:
//!
//! ```text
//! cd client-wasm && CARGO_TARGET_DIR=/work/targets/vault TMPDIR=/work/targets/tmp \
//!   wasm-pack test --headless --chrome --mode no-install -- --test vault_browser
//! ```
//!
//! Tests use small Argon2 parameters except `bench_unlock_default_and_owasp`,
//! which runs the production defaults and prints the unlock times.
#![cfg(target_arch = "wasm32")]

use js_sys::{Function, Object, Promise, Reflect};
use ruv_client::keys::SignedTransaction;
use ruv_client::vault::driver::VaultConfig;
use ruv_client::vault::idb::{self, IdbStorage};
use ruv_client::vault::kdf::{self, KdfParams, KeyRequest};
use ruv_client::vault::record::{self, Record};
use ruv_client::vault::storage::{RecordTag, VaultStorage};
use ruv_client::vault::{codes, derive, mnemonic, session, Vault};
use wasm_bindgen::convert::TryFromJsValue;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const TINY: KdfParams = KdfParams {
    memory_kib: 256,
    iterations: 1,
    parallelism: 1,
};
const PW: &str = "correct horse battery";
const PW2: &str = "staple gun staple";
const VECTORS: &str = include_str!("vault-vectors.json");

fn db_name(test: &str) -> String {
    let tag = ruv_client::error::random_bytes::<6>().unwrap();
    format!("ruv-vault-test-{test}-{}", hex::encode(tag))
}

async fn small_vault(db: &str) -> Vault {
    let config = VaultConfig {
        kdf: TINY,
        auto_lock_ms: Some(60_000),
    };
    Vault::indexed_db_with(db, config).await.unwrap()
}

async fn ok(p: Promise) -> JsValue {
    JsFuture::from(p)
        .await
        .unwrap_or_else(|e| panic!("promise rejected: {e:?}"))
}

/// Awaits a promise that must reject; returns the error's `code`, after
/// checking that it is a real JS `Error`.
async fn rejects(p: Promise) -> String {
    let err = JsFuture::from(p).await.expect_err("promise should reject");
    code_of(&err)
}

fn code_of(err: &JsValue) -> String {
    assert!(
        err.is_instance_of::<js_sys::Error>(),
        "not an Error: {err:?}"
    );
    Reflect::get(err, &"code".into())
        .unwrap()
        .as_string()
        .expect("error has a string code")
}

fn throws<T>(r: Result<T, JsValue>) -> String {
    match r {
        Ok(_) => panic!("call should throw"),
        Err(e) => code_of(&e),
    }
}

async fn raw(db: &str) -> Option<Vec<u8>> {
    IdbStorage::open(db).await.unwrap().load().await.unwrap()
}

/// Writes bytes straight into the vault's IndexedDB slot (a damaged disk,
/// another program, an attacker).
async fn raw_overwrite(db: &str, bytes: &[u8]) {
    let storage = IdbStorage::open(db).await.unwrap();
    let current = storage.load().await.unwrap();
    storage
        .compare_and_swap(current.as_deref().map(RecordTag::of), Some(bytes))
        .await
        .unwrap();
}

async fn sleep(ms: i32) {
    let p = Promise::new(&mut |resolve, _| {
        let global = js_sys::global();
        let set_timeout: Function = Reflect::get(&global, &"setTimeout".into())
            .unwrap()
            .unchecked_into();
        set_timeout.call2(&global, &resolve, &ms.into()).unwrap();
    });
    JsFuture::from(p).await.unwrap();
}

fn accounts(v: &Vault) -> Vec<(u32, String, String)> {
    let list = js_sys::Array::from(&v.accounts().unwrap());
    list.iter()
        .map(|a| {
            let get = |k: &str| Reflect::get(&a, &k.into()).unwrap();
            (
                get("index").as_f64().unwrap() as u32,
                get("label").as_string().unwrap(),
                get("address").as_string().unwrap(),
            )
        })
        .collect()
}

fn transfer_params(to: &str) -> JsValue {
    let o = Object::new();
    for (k, v) in [
        ("chainId", "ruv-test"),
        ("to", to),
        ("amount", "2500000"),
        ("fee", "10"),
        ("nonce", "1"),
    ] {
        Reflect::set(&o, &k.into(), &v.into()).unwrap();
    }
    o.into()
}

#[wasm_bindgen_test]
async fn vectors_restore_to_the_checked_in_addresses() {
    let v: serde_json::Value = serde_json::from_str(VECTORS).unwrap();
    let phrase = v["phrase"].as_str().unwrap();
    // The derivation itself, in wasm.
    let seed = mnemonic::parse_phrase(phrase)
        .unwrap()
        .bip39_seed()
        .unwrap();
    assert_eq!(hex::encode(*seed), v["bip39Seed"].as_str().unwrap());
    for a in v["accounts"].as_array().unwrap() {
        let index = a["index"].as_u64().unwrap() as u32;
        assert_eq!(
            hex::encode(*derive::account_seed(&seed, index)),
            a["seed"].as_str().unwrap()
        );
    }
    // And through the JS class and IndexedDB.
    let db = db_name("vectors");
    let vault = small_vault(&db).await;
    ok(vault.restore(phrase.into(), PW.into())).await;
    for _ in 0..3 {
        ok(vault.add_account(None)).await;
    }
    let got: Vec<String> = accounts(&vault).into_iter().map(|a| a.2).collect();
    let want: Vec<String> = v["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["address"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(got, want);
}

#[wasm_bindgen_test]
async fn create_reload_unlock_reveal() {
    let db = db_name("create");
    let vault = small_vault(&db).await;
    assert_eq!(vault.state(), "empty");
    assert_eq!(
        rejects(vault.unlock(PW.into())).await,
        codes::VAULT_NOT_FOUND
    );
    assert_eq!(
        rejects(vault.create("short".into())).await,
        codes::INVALID_PASSWORD
    );
    ok(vault.create(PW.into())).await;
    assert_eq!(vault.state(), "unlocked");
    assert_eq!(vault.revision(), Some(1.0));
    let before = accounts(&vault);
    assert_eq!(before.len(), 1);
    let phrase = ok(vault.reveal_phrase(PW.into()))
        .await
        .as_string()
        .unwrap();
    assert_eq!(phrase.split(' ').count(), 24);
    assert_eq!(
        rejects(vault.reveal_phrase("not my password".into())).await,
        codes::WRONG_PASSWORD
    );
    vault.lock();
    assert!(vault.is_locked());
    assert_eq!(throws(vault.accounts()), codes::VAULT_LOCKED);
    assert_eq!(
        rejects(vault.reveal_phrase(PW.into())).await,
        codes::VAULT_LOCKED
    );

    // A page reload: a new instance on the same database.
    drop(vault);
    let vault = small_vault(&db).await;
    assert_eq!(vault.state(), "locked");
    assert_eq!(rejects(vault.create(PW.into())).await, codes::VAULT_EXISTS);
    let result = ok(vault.unlock(PW.into())).await;
    assert_eq!(
        Reflect::get(&result, &"kdfUpgraded".into()).unwrap(),
        JsValue::FALSE
    );
    assert_eq!(accounts(&vault), before);
    assert_eq!(
        ok(vault.reveal_phrase(PW.into()))
            .await
            .as_string()
            .unwrap(),
        phrase
    );
    let kdf = vault.kdf_params().unwrap();
    assert_eq!(
        Reflect::get(&kdf, &"memoryKib".into()).unwrap().as_f64(),
        Some(256.0)
    );
}

#[wasm_bindgen_test]
async fn wrong_password_changes_nothing() {
    let db = db_name("wrongpw");
    let vault = small_vault(&db).await;
    ok(vault.create(PW.into())).await;
    let before = raw(&db).await;
    vault.lock();
    assert_eq!(
        rejects(vault.unlock("wrong password".into())).await,
        codes::WRONG_PASSWORD
    );
    assert!(vault.is_locked());
    assert_eq!(raw(&db).await, before);
    ok(vault.unlock(PW.into())).await;
    assert_eq!(
        rejects(vault.change_password("wrong password".into(), PW2.into())).await,
        codes::WRONG_PASSWORD
    );
    assert_eq!(raw(&db).await, before);
}

#[wasm_bindgen_test]
async fn tampered_and_truncated_records_are_reported_and_kept() {
    let db = db_name("tamper");
    let vault = small_vault(&db).await;
    ok(vault.create(PW.into())).await;
    let good = raw(&db).await.unwrap();
    let mut flipped = good.clone();
    flipped[record::HEADER_LEN + 1] ^= 1;
    let mut resummed = flipped.clone();
    let end = resummed.len() - record::CHECKSUM_LEN;
    let sum = blake3::hash(&resummed[..end]);
    resummed[end..].copy_from_slice(sum.as_bytes());
    for bad in [
        good[..good.len() - 10].to_vec(),
        good[..20].to_vec(),
        flipped,
        resummed,
    ] {
        raw_overwrite(&db, &bad).await;
        let v = small_vault(&db).await;
        assert_eq!(rejects(v.unlock(PW.into())).await, codes::VAULT_CORRUPTED);
        assert_eq!(
            raw(&db).await.as_deref(),
            Some(&bad[..]),
            "left as it was for recovery"
        );
    }
    // Recovery path: delete deliberately, restore from the phrase.
    let v = small_vault(&db).await;
    assert_eq!(
        rejects(v.delete_vault("yes".into())).await,
        codes::CONFIRMATION_REQUIRED
    );
    ok(v.delete_vault("delete".into())).await;
    assert_eq!(raw(&db).await, None);
    assert_eq!(v.state(), "empty");
}

#[wasm_bindgen_test]
async fn two_tabs_on_one_database_never_lose_a_write() {
    let db = db_name("tabs");
    let a = small_vault(&db).await;
    ok(a.create(PW.into())).await;
    let b = small_vault(&db).await;
    ok(b.unlock(PW.into())).await;

    ok(a.add_account(Some("Savings".into()))).await;
    let before = raw(&db).await;
    assert_eq!(
        rejects(b.rename_account(0, "Main".into())).await,
        codes::VAULT_CONFLICT
    );
    assert_eq!(
        raw(&db).await,
        before,
        "stale write refused inside the transaction"
    );
    // B re-read on the conflict; its retry keeps A's account.
    assert_eq!(accounts(&b).len(), 2);
    ok(b.rename_account(0, "Main".into())).await;
    assert_eq!(rejects(a.set_auto_lock(None)).await, codes::VAULT_CONFLICT);
    ok(a.set_auto_lock(None)).await;

    let c = small_vault(&db).await;
    ok(c.unlock(PW.into())).await;
    let labels: Vec<String> = accounts(&c).into_iter().map(|a| a.1).collect();
    assert_eq!(labels, ["Main", "Savings"]);
    assert_eq!(c.auto_lock_ms(), JsValue::NULL);
    assert_eq!(c.revision(), Some(4.0));
}

#[wasm_bindgen_test]
async fn overlapping_calls_on_one_instance_are_serialized() {
    let db = db_name("overlap");
    let vault = small_vault(&db).await;
    ok(vault.create(PW.into())).await;
    // Fired without awaiting in between, as a UI might.
    let p1 = vault.add_account(Some("one".into()));
    let p2 = vault.add_account(Some("two".into()));
    let p3 = vault.rename_account(0, "zero".into());
    ok(p1).await;
    ok(p2).await;
    ok(p3).await;
    let labels: Vec<String> = accounts(&vault).into_iter().map(|a| a.1).collect();
    assert_eq!(labels, ["zero", "one", "two"]);
    assert_eq!(vault.revision(), Some(4.0));
}

#[wasm_bindgen_test]
async fn change_password_is_atomic() {
    let db = db_name("chpw");
    let a = small_vault(&db).await;
    ok(a.create(PW.into())).await;
    let b = small_vault(&db).await;
    ok(b.unlock(PW.into())).await;
    ok(b.add_account(None)).await;
    // A is stale: the whole re-encryption is refused, the old vault stays.
    let before = raw(&db).await;
    assert_eq!(
        rejects(a.change_password(PW.into(), PW2.into())).await,
        codes::VAULT_CONFLICT
    );
    assert_eq!(raw(&db).await, before);
    ok(a.change_password(PW.into(), PW2.into())).await;

    let c = small_vault(&db).await;
    assert_eq!(rejects(c.unlock(PW.into())).await, codes::WRONG_PASSWORD);
    ok(c.unlock(PW2.into())).await;
    assert_eq!(accounts(&c).len(), 2);
    let rec = Record::decode(&raw(&db).await.unwrap()).unwrap();
    assert_eq!(rec.header.revision, 3);
    // B's key no longer fits: its next write is refused and it locks.
    assert_eq!(rejects(b.add_account(None)).await, codes::VAULT_CONFLICT);
    assert!(b.is_locked());
}

#[wasm_bindgen_test]
async fn weaker_records_are_upgraded_on_unlock() {
    let db = db_name("upgrade");
    ok(small_vault(&db).await.create(PW.into())).await;
    let stronger = KdfParams {
        memory_kib: 1024,
        iterations: 2,
        parallelism: 1,
    };
    let config = VaultConfig {
        kdf: stronger,
        auto_lock_ms: None,
    };
    let vault = Vault::indexed_db_with(&db, config).await.unwrap();
    let result = ok(vault.unlock(PW.into())).await;
    assert_eq!(
        Reflect::get(&result, &"kdfUpgraded".into()).unwrap(),
        JsValue::TRUE
    );
    assert!(Reflect::get(&result, &"upgradeError".into())
        .unwrap()
        .is_undefined());
    let record = Record::decode(&raw(&db).await.unwrap()).unwrap();
    assert_eq!((record.header.kdf, record.header.revision), (stronger, 2));
    // The weaker instance reads it and does not downgrade it.
    let weak = small_vault(&db).await;
    let result = ok(weak.unlock(PW.into())).await;
    assert_eq!(
        Reflect::get(&result, &"kdfUpgraded".into()).unwrap(),
        JsValue::FALSE
    );
    assert_eq!(
        Record::decode(&raw(&db).await.unwrap()).unwrap().header.kdf,
        stronger
    );
}

/// A password change cut off before its transaction commits (closed tab,
/// crash) leaves the old vault: the re-encrypted record is written inside a
/// readwrite transaction that is then aborted instead of committed.
#[wasm_bindgen_test]
async fn interrupted_password_change_leaves_the_old_vault() {
    use indexed_db_futures::prelude::*;
    use indexed_db_futures::transaction::TransactionMode;

    let name = db_name("interrupted");
    let vault = small_vault(&name).await;
    ok(vault.create(PW.into())).await;
    vault.lock();
    let old = raw(&name).await.unwrap();
    // The exact record a password change would write.
    let revision = Record::decode(&old).unwrap().header.revision;
    let derive = |password: &str, request: &KeyRequest| {
        let normalized = session::normalize_password(password);
        kdf::derive_keys(normalized.as_bytes(), &request.salt, &request.params).unwrap()
    };
    let record = Record::decode(&old).unwrap();
    let opened = session::Unlocked::open(
        &record,
        derive(PW, &session::Unlocked::key_request_for(&record)),
    )
    .unwrap();
    let request = KeyRequest::fresh(&TINY).unwrap();
    let changed = opened
        .rekeyed(&request, derive(PW2, &request))
        .seal(revision + 1)
        .unwrap();

    let db = indexed_db_futures::database::Database::open(name.as_str())
        .await
        .unwrap();
    let tx = db
        .transaction(idb::STORE)
        .with_mode(TransactionMode::Readwrite)
        .build()
        .unwrap();
    let store = tx.object_store(idb::STORE).unwrap();
    let value: JsValue = js_sys::Uint8Array::from(&changed[..]).into();
    store
        .put(value)
        .with_key(idb::RECORD_KEY)
        .without_key_type()
        .primitive()
        .unwrap()
        .await
        .unwrap();
    let inside: Option<JsValue> = store
        .get(idb::RECORD_KEY)
        .primitive()
        .unwrap()
        .await
        .unwrap();
    assert_eq!(
        js_sys::Uint8Array::new(&inside.unwrap()).to_vec(),
        changed,
        "visible inside the transaction"
    );
    tx.abort().await.unwrap();
    db.close();

    assert_eq!(raw(&name).await, Some(old));
    assert_eq!(
        rejects(vault.unlock(PW2.into())).await,
        codes::WRONG_PASSWORD
    );
    ok(vault.unlock(PW.into())).await;
}

#[wasm_bindgen_test]
async fn backups_export_import_and_reject_malformed_files() {
    let db = db_name("backup");
    let a = small_vault(&db).await;
    ok(a.create(PW.into())).await;
    ok(a.add_account(Some("Cold".into()))).await;
    let want = accounts(&a);
    a.lock();
    let backup = ok(a.export_backup()).await.as_string().unwrap();

    let db2 = db_name("backup-target");
    let b = small_vault(&db2).await;
    assert_eq!(
        rejects(b.import_backup(backup.clone(), "wrong password".into(), None)).await,
        codes::WRONG_PASSWORD
    );
    assert_eq!(raw(&db2).await, None);
    ok(b.import_backup(backup.clone(), PW.into(), None)).await;
    assert_eq!(accounts(&b), want);

    let before = raw(&db2).await;
    let hex_record = serde_json::from_str::<serde_json::Value>(&backup).unwrap()["record"]
        .as_str()
        .unwrap()
        .to_owned();
    let malformed = [
        "".to_owned(),
        "not json".to_owned(),
        "{\"format\":\"ruv-vault-backup\",\"version\":1}".to_owned(),
        backup.replace("ruv-vault-backup", "other"),
        backup.replace(&hex_record, &hex_record[..hex_record.len() - 20]),
        backup.replace(&hex_record, "0g"),
    ];
    for text in malformed {
        assert_eq!(
            rejects(b.import_backup(text, PW.into(), Some(true))).await,
            codes::INVALID_BACKUP
        );
        assert_eq!(raw(&db2).await, before, "existing vault untouched");
    }
    assert_eq!(
        rejects(b.import_backup(backup.clone(), PW.into(), None)).await,
        codes::VAULT_EXISTS
    );
    ok(b.add_account(None)).await;
    ok(b.import_backup(backup, PW.into(), Some(true))).await;
    assert_eq!(accounts(&b), want);
}

#[wasm_bindgen_test]
async fn signing_goes_through_the_vault() {
    let db = db_name("sign");
    let vault = small_vault(&db).await;
    ok(vault.create(PW.into())).await;
    ok(vault.add_account(None)).await;
    let list = accounts(&vault);
    let tx: SignedTransaction = vault.sign_transfer(1, transfer_params(&list[0].2)).unwrap();
    assert!(tx.verify_signature());
    assert_eq!(tx.inner().transfer.from.to_string(), list[1].2);
    assert_eq!(tx.inner().transfer.amount, 2_500_000);
    assert_eq!(
        throws(vault.sign_transfer(9, transfer_params(&list[0].2))),
        codes::UNKNOWN_ACCOUNT
    );
    assert_eq!(
        throws(vault.sign_transfer(0, JsValue::from_str("nope"))),
        "invalid_params"
    );
    vault.lock();
    assert_eq!(
        throws(vault.sign_transfer(0, transfer_params(&list[0].2))),
        codes::VAULT_LOCKED
    );
}

#[wasm_bindgen_test]
async fn auto_lock_timer_wipes_an_idle_vault() {
    let db = db_name("autolock");
    let vault = small_vault(&db).await;
    ok(vault.create(PW.into())).await;
    assert_eq!(vault.auto_lock_ms().as_f64(), Some(60_000.0));
    assert_eq!(
        rejects(vault.set_auto_lock(Some(0.5))).await,
        codes::INVALID_AUTO_LOCK
    );
    // Margins of 150 ms or more either way, for a loaded machine.
    ok(vault.set_auto_lock(Some(400.0))).await;
    sleep(200).await;
    vault.touch().unwrap();
    sleep(250).await;
    // Activity postponed the deadline past the first timer.
    assert!(vault.driver().idle_deadline().is_some());
    sleep(500).await;
    // The timer locked it: the secrets are gone even though nothing asked
    // (idle_deadline reads the state without applying the deadline itself).
    assert_eq!(vault.driver().idle_deadline(), None);
    assert!(vault.is_locked());
    assert_eq!(throws(vault.touch()), codes::VAULT_LOCKED);
    // The setting is stored in the vault.
    ok(vault.unlock(PW.into())).await;
    assert_eq!(vault.auto_lock_ms().as_f64(), Some(400.0));
}

#[wasm_bindgen_test]
async fn storage_unavailable_is_a_typed_error() {
    // IndexedDB missing (as in Node or some private modes).
    let global: Object = js_sys::global().unchecked_into();
    let key = JsValue::from_str("indexedDB");
    let original = Object::get_own_property_descriptor(&global, &key);
    let hidden = Object::new();
    Reflect::set(&hidden, &"value".into(), &JsValue::UNDEFINED).unwrap();
    Reflect::set(&hidden, &"configurable".into(), &JsValue::TRUE).unwrap();
    Object::define_property(&global, &key, &hidden);
    let result = JsFuture::from(Vault::open(Some(db_name("none")), None)).await;
    if original.is_undefined() {
        Reflect::delete_property(&global, &key).unwrap();
    } else {
        Object::define_property(&global, &key, &original.unchecked_into());
    }
    assert_eq!(
        code_of(&result.expect_err("no IndexedDB")),
        codes::STORAGE_UNAVAILABLE
    );

    // The browser refusing the database (here: it exists at a newer schema version).
    let db = db_name("version");
    let newer = indexed_db_futures::database::Database::open(db.as_str())
        .with_version(9u32)
        .await
        .unwrap();
    newer.close();
    let err = JsFuture::from(Vault::open(Some(db), None))
        .await
        .expect_err("version error");
    assert_eq!(code_of(&err), codes::STORAGE_UNAVAILABLE);

    // Quota exhaustion maps to the same code with a clear message.
    let quota =
        web_sys::DomException::new_with_message_and_name("quota", "QuotaExceededError").unwrap();
    let e = idb::storage_error("write", &indexed_db_futures::error::Error::from(quota));
    assert_eq!(e.code, codes::STORAGE_UNAVAILABLE);
    assert!(e.message.contains("quota"), "{}", e.message);

    // The in-memory backend works without IndexedDB.
    let mem = Vault::open_in_memory(None).unwrap();
    assert_eq!(mem.state(), "empty");
}

#[wasm_bindgen_test]
fn password_normalization_matches_native_nfkc() {
    // Same expectations as the native unit test (unicode-normalization).
    assert_eq!(
        &*session::normalize_password("cafe\u{301} \u{fb01}x \u{ff21}"),
        "caf\u{e9} fix A"
    );
    assert_eq!(&*session::normalize_password("plain ascii"), "plain ascii");
}

#[wasm_bindgen_test]
async fn js_options_and_phrase_validation() {
    let weak = Object::new();
    let kdf = Object::new();
    for (k, v) in [
        ("memoryKib", 1024.0),
        ("iterations", 1.0),
        ("parallelism", 1.0),
    ] {
        Reflect::set(&kdf, &k.into(), &v.into()).unwrap();
    }
    Reflect::set(&weak, &"kdf".into(), &kdf).unwrap();
    assert_eq!(
        rejects(Vault::open(Some(db_name("opts")), Some(weak.into()))).await,
        codes::INVALID_KDF_PARAMS
    );
    let unknown = Object::new();
    Reflect::set(&unknown, &"kdff".into(), &JsValue::TRUE).unwrap();
    assert_eq!(
        throws(Vault::open_in_memory(Some(unknown.into()))),
        "invalid_params"
    );
    let zero12 = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";
    Vault::validate_phrase(zero12.into()).unwrap();
    assert_eq!(
        throws(Vault::validate_phrase("abandon".into())),
        codes::INVALID_MNEMONIC_LENGTH
    );
    assert_eq!(
        throws(Vault::validate_phrase(zero12.replace("about", "abandon"))),
        codes::INVALID_MNEMONIC_CHECKSUM
    );
    assert_eq!(
        throws(Vault::validate_phrase(zero12.replace("about", "abut"))),
        codes::INVALID_MNEMONIC_WORD
    );
    let mem = Vault::open_in_memory(None).unwrap();
    assert_eq!(
        rejects(mem.restore(zero12.replace("about", "abandon"), PW.into())).await,
        codes::INVALID_MNEMONIC_CHECKSUM
    );
    assert_eq!(mem.state(), "empty");
}

fn log(line: &str) {
    web_sys::console::log_1(&line.into());
}

/// Production defaults and OWASP's minimum, through `Vault.open` (the
/// JS path, no test overrides). Prints unlock times for docs/benchmarks.md.
#[wasm_bindgen_test]
async fn bench_unlock_default_and_owasp() {
    for (label, kdf) in [
        ("default", KdfParams::DEFAULT),
        ("owasp-min", KdfParams::OWASP_MINIMUM),
    ] {
        let options = Object::new();
        let k = Object::new();
        Reflect::set(&k, &"memoryKib".into(), &kdf.memory_kib.into()).unwrap();
        Reflect::set(&k, &"iterations".into(), &kdf.iterations.into()).unwrap();
        Reflect::set(&k, &"parallelism".into(), &kdf.parallelism.into()).unwrap();
        Reflect::set(&options, &"kdf".into(), &k).unwrap();
        let vault = Vault::try_from_js_value(
            ok(Vault::open(Some(db_name(label)), Some(options.into()))).await,
        )
        .unwrap();
        ok(vault.create(PW.into())).await;
        let mut times = Vec::new();
        for _ in 0..2 {
            vault.lock();
            let start = js_sys::Date::now();
            ok(vault.unlock(PW.into())).await;
            times.push(js_sys::Date::now() - start);
        }
        let kdf_js = vault.kdf_params().unwrap();
        assert_eq!(
            Reflect::get(&kdf_js, &"memoryKib".into()).unwrap().as_f64(),
            Some(f64::from(kdf.memory_kib))
        );
        log(&format!(
            "vault-bench unlock {label} (m={} KiB, t={}, p={}): {:?} ms",
            kdf.memory_kib, kdf.iterations, kdf.parallelism, times
        ));
    }
}

/// A `deriveKey` function as the wallet's worker glue is one: it answers
/// later (a timer, as a worker's message would), with `deriveVaultKey`'s
/// bytes, and counts the requests it saw.
fn counting_derive_key(calls: std::rc::Rc<std::cell::Cell<u32>>) -> Function {
    use wasm_bindgen::closure::Closure;
    let closure = Closure::<dyn FnMut(JsValue) -> Promise>::new(move |request: JsValue| {
        calls.set(calls.get() + 1);
        let get = |k: &str| Reflect::get(&request, &k.into()).unwrap();
        let password = js_sys::Uint8Array::from(get("password")).to_vec();
        let salt = js_sys::Uint8Array::from(get("salt")).to_vec();
        let params = get("params");
        // The password arrives normalized, never empty; the salt is 32 bytes.
        assert!(!password.is_empty());
        assert_eq!(salt.len(), 32);
        wasm_bindgen_futures::future_to_promise(async move {
            sleep(1).await;
            Ok(ruv_client::vault::derive_vault_key(password, &salt, params)?.into())
        })
    });
    closure.into_js_value().unchecked_into()
}

#[wasm_bindgen_test]
async fn argon2_runs_in_the_derive_key_function_the_vault_was_given() {
    use ruv_client::vault::storage::MemoryStorage;
    use ruv_client::vault::JsKdf;
    let calls = std::rc::Rc::new(std::cell::Cell::new(0));
    let config = VaultConfig {
        kdf: TINY,
        auto_lock_ms: None,
    };
    let storage = MemoryStorage::new();
    let vault = Vault::in_memory_with_kdf(
        storage.clone(),
        JsKdf::Function(counting_derive_key(calls.clone())),
        config,
    )
    .unwrap();
    ok(vault.create(PW.into())).await;
    assert_eq!(calls.get(), 1);
    vault.lock();
    assert_eq!(
        rejects(vault.unlock(PW2.into())).await,
        codes::WRONG_PASSWORD
    );
    assert_eq!(vault.state(), "locked");
    ok(vault.unlock(PW.into())).await;
    assert_eq!(vault.state(), "unlocked");
    assert_eq!(calls.get(), 3);
    ok(vault.check_password(PW.into())).await;
    ok(vault.change_password(PW.into(), PW2.into())).await;
    // One check, then the current password and the new one.
    assert_eq!(calls.get(), 6);
    // The keys the function gave are the ones in-thread Argon2 gives.
    let same = Vault::in_memory_with(storage, config).unwrap();
    ok(same.unlock(PW2.into())).await;
    assert_eq!(accounts(&same), accounts(&vault));
}

#[wasm_bindgen_test]
async fn a_failing_derive_key_function_leaves_the_vault_locked() {
    use ruv_client::vault::storage::MemoryStorage;
    use ruv_client::vault::JsKdf;
    let config = VaultConfig {
        kdf: TINY,
        auto_lock_ms: None,
    };
    let storage = MemoryStorage::new();
    let seed = Vault::in_memory_with(storage.clone(), config).unwrap();
    ok(seed.create(PW.into())).await;
    let cases = [
        // A worker that reports an error with its code.
        "return Promise.reject(Object.assign(new Error('out of memory'), { code: 'kdf_failed' }))",
        // A worker that dies without a code.
        "return Promise.reject(new Error('worker terminated'))",
        // An answer of the wrong length.
        "return Promise.resolve(new Uint8Array(31))",
        // Not a promise of bytes at all.
        "return 42",
    ];
    for body in cases {
        let f = Function::new_with_args("request", body);
        let vault = Vault::in_memory_with_kdf(storage.clone(), JsKdf::Function(f), config).unwrap();
        assert_eq!(
            rejects(vault.unlock(PW.into())).await,
            codes::KDF_FAILED,
            "{body}"
        );
        assert_eq!(vault.state(), "locked", "{body}");
    }
}

#[wasm_bindgen_test]
fn derive_vault_key_checks_its_inputs() {
    let params = |m: u32| {
        let p = Object::new();
        Reflect::set(&p, &"memoryKib".into(), &m.into()).unwrap();
        Reflect::set(&p, &"iterations".into(), &1.into()).unwrap();
        Reflect::set(&p, &"parallelism".into(), &1.into()).unwrap();
        JsValue::from(p)
    };
    let key = ruv_client::vault::derive_vault_key(b"pw".to_vec(), &[7; 32], params(64)).unwrap();
    assert_eq!(key.length(), 32);
    let expected = ruv_client::vault::kdf::argon2id(
        b"pw",
        &[7; 32],
        &KdfParams {
            memory_kib: 64,
            iterations: 1,
            parallelism: 1,
        },
    )
    .unwrap();
    assert_eq!(key.to_vec(), expected.to_vec());
    assert_eq!(
        throws(ruv_client::vault::derive_vault_key(
            b"pw".to_vec(),
            &[7; 31],
            params(64)
        )),
        ruv_client::error::codes::INVALID_PARAMS
    );
    assert_eq!(
        throws(ruv_client::vault::derive_vault_key(
            b"pw".to_vec(),
            &[7; 32],
            params(1)
        )),
        codes::INVALID_KDF_PARAMS
    );
}
