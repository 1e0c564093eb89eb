//! The client in Node: keys (Node's `crypto.getRandomValues`), the NIST ACVP
//! and Wycheproof ML-DSA-65 vectors, the light-client vectors (natively
//! checked in `protocol/tests/light.rs`, here also through the JS API), the
//! cross-target vectors, and the key
//! vault over its in-memory backend through the same `Vault` class
//! JavaScript uses (Promises, errors with `code`).
//!
//! Run: `wasm-pack test --node --mode no-install -- --test node`
#![cfg(target_arch = "wasm32")]

use js_sys::{Function, Object, Promise, Reflect};
use ruv_client::vault::driver::VaultConfig;
use ruv_client::vault::kdf::KdfParams;
use ruv_client::vault::storage::MemoryStorage;
use ruv_client::vault::{codes, Vault};
use ruv_client::{keys, Keypair, SignedTransaction};
use serde_json::Value;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

#[path = "../../protocol/tests/vectors/check.rs"]
mod check;
#[path = "shared/light_api.rs"]
mod light_api;
#[path = "../../protocol/tests/vectors/light_check.rs"]
mod light_check;

/// The light-client vectors (made by `protocol/tests/vectors/light_build.rs`).
const LIGHT_VECTORS: &str = include_str!("../../protocol/tests/vectors/light.json");

#[wasm_bindgen_test]
fn light_client_vectors() {
    assert_eq!(light_check::check(LIGHT_VECTORS), light_check::EXPECTED);
}

#[wasm_bindgen_test]
fn light_client_through_the_js_api() {
    light_api::check(LIGHT_VECTORS);
}

#[wasm_bindgen_test]
fn nist_and_wycheproof_vectors() {
    assert_eq!(check::keygen(), 31);
    assert_eq!(check::sigver(), 15);
    assert_eq!(check::wycheproof_sign(), (88, 17));
    assert_eq!(check::wycheproof_verify(), 210);
}

#[wasm_bindgen_test]
fn keys_generate_sign_and_verify() {
    let a = Keypair::generate().unwrap();
    let b = Keypair::generate().unwrap();
    assert_ne!(a.address(), b.address());
    assert!(a.address().starts_with("ruv1"));
    let sig = a.sign_message(b"hello", b"ruv/test").unwrap();
    assert!(keys::verify_signature(
        &a.public_key(),
        b"hello",
        b"ruv/test",
        &sig
    ));
    assert!(!keys::verify_signature(
        &b.public_key(),
        b"hello",
        b"ruv/test",
        &sig
    ));
}

#[wasm_bindgen_test]
fn cross_target_vectors() {
    let doc: Value = serde_json::from_str(include_str!("cross-target-vectors.json")).unwrap();
    let hex = |v: &Value| hex::decode(v.as_str().unwrap()).unwrap();
    let key = Keypair::from_seed(&hex(&doc["seed"])).unwrap();
    assert_eq!(key.public_key(), hex(&doc["public_key"]));
    let ctx = hex(&doc["context"]);
    for side in ["native", "wasm"] {
        let msg = hex(&doc[side]["message"]);
        let sig = key.signing_key().sign(&msg, &ctx, [0; 32]).unwrap();
        assert_eq!(
            sig.as_bytes().as_slice(),
            hex(&doc[side]["signature"]),
            "{side}"
        );
        assert!(keys::verify_signature(
            &key.public_key(),
            &msg,
            &ctx,
            &hex(&doc[side]["signature"])
        ));
    }
    let tx = SignedTransaction::from_bytes(&hex(&doc["wasm"]["transfer"]["bytes"])).unwrap();
    assert!(tx.verify_signature());
    assert_eq!(tx.id(), doc["wasm"]["transfer"]["id"].as_str().unwrap());
}

// ---------------------------------------------------------------- vault

/// Small Argon2 parameters (reachable from Rust only; JavaScript callers get
/// OWASP's minimum enforced), so the tests spend their time on the logic.
const TINY: KdfParams = KdfParams {
    memory_kib: 256,
    iterations: 1,
    parallelism: 1,
};
const PW: &str = "correct horse battery";
const PW2: &str = "staple gun staple";

fn tiny_vault(storage: MemoryStorage) -> Vault {
    let config = VaultConfig {
        kdf: TINY,
        auto_lock_ms: Some(60_000),
    };
    Vault::in_memory_with(storage, config).unwrap()
}

async fn ok(p: Promise) -> JsValue {
    JsFuture::from(p)
        .await
        .unwrap_or_else(|e| panic!("promise rejected: {e:?}"))
}

/// Awaits a promise that must reject; returns the error's `code` after
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

fn get(o: &JsValue, key: &str) -> JsValue {
    Reflect::get(o, &key.into()).unwrap()
}

/// `(index, label, address)` of every account.
fn accounts(v: &Vault) -> Vec<(u32, String, String)> {
    js_sys::Array::from(&v.accounts().unwrap())
        .iter()
        .map(|a| {
            (
                get(&a, "index").as_f64().unwrap() as u32,
                get(&a, "label").as_string().unwrap(),
                get(&a, "address").as_string().unwrap(),
            )
        })
        .collect()
}

fn transfer_params(to: &str, nonce: &str) -> JsValue {
    let o = Object::new();
    for (k, v) in [
        ("chainId", "ruv-test"),
        ("to", to),
        ("amount", "2500000"),
        ("fee", "6362"),
        ("nonce", nonce),
        ("memo", "from node"),
    ] {
        Reflect::set(&o, &k.into(), &v.into()).unwrap();
    }
    o.into()
}

async fn sleep(ms: i32) {
    let p = Promise::new(&mut |resolve, _| {
        let global = js_sys::global();
        let set_timeout: Function = get(&global, "setTimeout").unchecked_into();
        set_timeout.call2(&global, &resolve, &ms.into()).unwrap();
    });
    JsFuture::from(p).await.unwrap();
}

#[wasm_bindgen_test]
async fn vault_in_memory_derives_accounts_and_signs_transfers_that_verify() {
    let vault = tiny_vault(MemoryStorage::new());
    assert_eq!(vault.state(), "empty");
    assert_eq!(
        rejects(vault.unlock(PW.into())).await,
        codes::VAULT_NOT_FOUND
    );
    assert_eq!(
        rejects(vault.create("short".into())).await,
        codes::INVALID_PASSWORD
    );
    assert_eq!(vault.state(), "empty");
    ok(vault.create(PW.into())).await;
    assert_eq!(vault.state(), "unlocked");
    assert_eq!(vault.revision(), Some(1.0));
    assert_eq!(vault.auto_lock_ms().as_f64(), Some(60_000.0));

    ok(vault.add_account(None)).await;
    let added = ok(vault.add_account(Some("Savings".into()))).await;
    assert_eq!(get(&added, "index").as_f64(), Some(2.0));
    let list = accounts(&vault);
    let labels: Vec<&str> = list.iter().map(|a| a.1.as_str()).collect();
    assert_eq!(labels, ["Account 1", "Account 2", "Savings"]);
    assert_eq!(
        list.iter().map(|a| a.0).collect::<Vec<_>>(),
        [0, 1, 2],
        "indices in order"
    );
    for (_, _, address) in &list {
        keys::validate_address(address).unwrap();
    }
    assert_ne!(list[0].2, list[1].2);
    assert_ne!(list[1].2, list[2].2);
    assert_ne!(list[0].2, list[2].2);

    // Account 1 pays account 2; the signature verifies against the embedded key.
    let tx = vault
        .sign_transfer(1, transfer_params(&list[2].2, "1"))
        .unwrap();
    assert!(tx.verify_signature());
    let json = tx.to_json().unwrap();
    assert_eq!(get(&json, "from").as_string().unwrap(), list[1].2);
    assert_eq!(get(&json, "to").as_string().unwrap(), list[2].2);
    assert_eq!(get(&json, "amount").as_string().unwrap(), "2500000");
    assert_eq!(get(&json, "nonce").as_string().unwrap(), "1");
    assert_eq!(get(&json, "memo").as_string().unwrap(), "from node");
    assert_eq!(
        keys::address_of_public_key(tx.inner().transfer.public_key.as_bytes()).unwrap(),
        list[1].2
    );
    // Through the wire encoding and back: same id, still verifies.
    let bytes = tx.to_bytes();
    let decoded = SignedTransaction::from_bytes(&bytes).unwrap();
    assert_eq!(decoded.id(), tx.id());
    assert!(decoded.verify_signature());
    // One flipped bit in the signature (its challenge part) and it no longer does.
    let mut bad = bytes.clone();
    let at = bad.len() - ruv_protocol::crypto::SIGNATURE_LEN + 5;
    bad[at] ^= 1;
    let tampered = SignedTransaction::from_bytes(&bad).unwrap();
    assert_eq!(tampered.inner().transfer, tx.inner().transfer);
    assert!(!tampered.verify_signature());
    // Another account signs with another key.
    let other = vault
        .sign_transfer(0, transfer_params(&list[2].2, "1"))
        .unwrap();
    assert_eq!(
        get(&other.to_json().unwrap(), "from").as_string().unwrap(),
        list[0].2
    );
    assert_ne!(other.id(), tx.id());

    assert_eq!(
        throws(vault.sign_transfer(7, transfer_params(&list[2].2, "1"))),
        codes::UNKNOWN_ACCOUNT
    );
    assert_eq!(
        throws(vault.sign_transfer(0, transfer_params("ruv1notanaddress", "1"))),
        "invalid_address"
    );
}

#[wasm_bindgen_test]
async fn vault_in_memory_restores_the_published_vectors() {
    let v: Value = serde_json::from_str(include_str!("vault-vectors.json")).unwrap();
    let vault = tiny_vault(MemoryStorage::new());
    let phrase = v["phrase"].as_str().unwrap();
    Vault::validate_phrase(phrase.into()).unwrap();
    assert_eq!(
        throws(Vault::validate_phrase("legal winner thank".into())),
        codes::INVALID_MNEMONIC_LENGTH
    );
    // Any case and spacing.
    ok(vault.restore(format!("  {}\n", phrase.to_uppercase()), PW.into())).await;
    let want: Vec<String> = v["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["address"].as_str().unwrap().to_owned())
        .collect();
    for _ in 1..want.len() {
        ok(vault.add_account(None)).await;
    }
    let got: Vec<String> = accounts(&vault).into_iter().map(|a| a.2).collect();
    assert_eq!(got, want);
    assert_eq!(
        ok(vault.reveal_phrase(PW.into()))
            .await
            .as_string()
            .unwrap(),
        phrase
    );
}

#[wasm_bindgen_test]
async fn vault_in_memory_lock_unlock_wrong_and_right_password() {
    let storage = MemoryStorage::new();
    let vault = tiny_vault(storage.clone());
    ok(vault.create(PW.into())).await;
    ok(vault.add_account(None)).await;
    let before = accounts(&vault);
    let phrase = ok(vault.reveal_phrase(PW.into()))
        .await
        .as_string()
        .unwrap();
    assert_eq!(phrase.split(' ').count(), 24);
    assert_eq!(
        rejects(vault.reveal_phrase("not my password".into())).await,
        codes::WRONG_PASSWORD
    );
    let to = before[1].2.clone();

    vault.lock();
    assert!(vault.is_locked());
    assert_eq!(vault.state(), "locked");
    assert_eq!(throws(vault.accounts()), codes::VAULT_LOCKED);
    assert_eq!(
        throws(vault.sign_transfer(0, transfer_params(&to, "1"))),
        codes::VAULT_LOCKED
    );
    assert_eq!(throws(vault.touch()), codes::VAULT_LOCKED);

    // A wrong password changes nothing: still locked, same record.
    let record = storage.snapshot();
    assert_eq!(
        rejects(vault.unlock("not my password".into())).await,
        codes::WRONG_PASSWORD
    );
    assert!(vault.is_locked());
    assert_eq!(storage.snapshot(), record);

    let result = ok(vault.unlock(PW.into())).await;
    assert_eq!(get(&result, "kdfUpgraded"), JsValue::FALSE);
    assert_eq!(vault.state(), "unlocked");
    assert_eq!(accounts(&vault), before);
    assert!(vault
        .sign_transfer(0, transfer_params(&to, "1"))
        .unwrap()
        .verify_signature());

    // Another instance on the same store (another "tab") opens locked.
    let tab = tiny_vault(storage.clone());
    assert_eq!(tab.state(), "locked");
    ok(tab.unlock(PW.into())).await;
    assert_eq!(accounts(&tab), before);

    // Change the password: the old one no longer opens it.
    assert_eq!(
        rejects(vault.change_password("not my password".into(), PW2.into())).await,
        codes::WRONG_PASSWORD
    );
    ok(vault.change_password(PW.into(), PW2.into())).await;
    vault.lock();
    assert_eq!(
        rejects(vault.unlock(PW.into())).await,
        codes::WRONG_PASSWORD
    );
    ok(vault.unlock(PW2.into())).await;
    assert_eq!(accounts(&vault), before);

    // Auto-lock: "never" stays unlocked; once a 1 ms idle time has run out
    // the vault is locked, and the setting is stored in the vault.
    ok(vault.set_auto_lock(None)).await;
    assert_eq!(vault.auto_lock_ms(), JsValue::NULL);
    sleep(20).await;
    assert_eq!(vault.state(), "unlocked");
    ok(vault.set_auto_lock(Some(1.0))).await;
    sleep(20).await;
    assert_eq!(vault.state(), "locked");
    assert_eq!(throws(vault.accounts()), codes::VAULT_LOCKED);
    let reread = tiny_vault(storage.clone());
    ok(reread.unlock(PW2.into())).await;
    assert_eq!(reread.auto_lock_ms().as_f64(), Some(1.0));
}

#[wasm_bindgen_test]
async fn vault_in_memory_backup_export_and_import() {
    let a = tiny_vault(MemoryStorage::new());
    ok(a.create(PW.into())).await;
    ok(a.add_account(Some("Savings".into()))).await;
    let want = accounts(&a);
    let backup = ok(a.export_backup()).await.as_string().unwrap();
    let file: Value = serde_json::from_str(&backup).unwrap();
    assert_eq!(file["format"], "ruv-vault-backup");
    assert_eq!(file["version"], 1);
    assert!(file["record"]
        .as_str()
        .unwrap()
        .bytes()
        .all(|b| b.is_ascii_hexdigit()));
    // It works while locked, and gives the same file.
    a.lock();
    assert_eq!(ok(a.export_backup()).await.as_string().unwrap(), backup);

    // Node's way to persist: a fresh in-memory vault and the backup text.
    let b = tiny_vault(MemoryStorage::new());
    assert_eq!(
        rejects(b.import_backup("{}".into(), PW.into(), None)).await,
        codes::INVALID_BACKUP
    );
    let mut damaged: Value = file.clone();
    let record = file["record"].as_str().unwrap();
    let flipped = if record.ends_with('0') { "1" } else { "0" };
    damaged["record"] = Value::from(format!("{}{flipped}", &record[..record.len() - 1]));
    assert_eq!(
        rejects(b.import_backup(damaged.to_string(), PW.into(), None)).await,
        codes::INVALID_BACKUP
    );
    assert_eq!(
        rejects(b.import_backup(backup.clone(), "not my password".into(), None)).await,
        codes::WRONG_PASSWORD
    );
    assert_eq!(b.state(), "empty");
    ok(b.import_backup(backup.clone(), PW.into(), None)).await;
    assert_eq!(b.state(), "unlocked");
    assert_eq!(accounts(&b), want);
    assert!(b
        .sign_transfer(1, transfer_params(&want[0].2, "1"))
        .unwrap()
        .verify_signature());

    // An existing vault is replaced only when asked.
    let c = tiny_vault(MemoryStorage::new());
    ok(c.create(PW2.into())).await;
    let mine = accounts(&c);
    assert_ne!(mine[0].2, want[0].2);
    assert_eq!(
        rejects(c.import_backup(backup.clone(), PW.into(), Some(false))).await,
        codes::VAULT_EXISTS
    );
    assert_eq!(accounts(&c), mine);
    ok(c.import_backup(backup, PW.into(), Some(true))).await;
    assert_eq!(accounts(&c), want);
    c.lock();
    assert_eq!(rejects(c.unlock(PW2.into())).await, codes::WRONG_PASSWORD);
    ok(c.unlock(PW.into())).await;

    // Delete needs the exact confirmation.
    assert_eq!(
        rejects(c.delete_vault("yes".into())).await,
        codes::CONFIRMATION_REQUIRED
    );
    assert_eq!(c.state(), "unlocked");
    ok(c.delete_vault("delete".into())).await;
    assert_eq!(c.state(), "empty");
}

#[wasm_bindgen_test]
async fn vault_javascript_entry_points_in_node() {
    // No IndexedDB in Node.
    assert_eq!(
        rejects(Vault::open(None, None)).await,
        codes::STORAGE_UNAVAILABLE
    );
    // JavaScript options: unknown keys and weak Argon2 parameters are refused.
    let options = |memory_kib: u32, iterations: u32| -> JsValue {
        let kdf = Object::new();
        Reflect::set(&kdf, &"memoryKib".into(), &memory_kib.into()).unwrap();
        Reflect::set(&kdf, &"iterations".into(), &iterations.into()).unwrap();
        Reflect::set(&kdf, &"parallelism".into(), &1.into()).unwrap();
        let o = Object::new();
        Reflect::set(&o, &"kdf".into(), &kdf).unwrap();
        o.into()
    };
    assert_eq!(
        throws(Vault::open_in_memory(Some(options(256, 1)))),
        codes::INVALID_KDF_PARAMS
    );
    let typo = Object::new();
    Reflect::set(&typo, &"autolockMs".into(), &1000.into()).unwrap();
    assert_eq!(
        throws(Vault::open_in_memory(Some(typo.into()))),
        "invalid_params"
    );
    // OWASP's minimum, as a JavaScript caller in Node would open it.
    let vault = Vault::open_in_memory(Some(options(19456, 2))).unwrap();
    assert_eq!(vault.state(), "empty");
    ok(vault.create(PW.into())).await;
    let kdf = vault.kdf_params().unwrap();
    assert_eq!(get(&kdf, "memoryKib").as_f64(), Some(19456.0));
    assert_eq!(get(&kdf, "iterations").as_f64(), Some(2.0));
    let list = accounts(&vault);
    let tx = vault
        .sign_transfer(0, transfer_params(&list[0].2, "1"))
        .unwrap();
    assert!(tx.verify_signature());
    vault.lock();
    assert_eq!(
        rejects(vault.unlock(PW2.into())).await,
        codes::WRONG_PASSWORD
    );
    ok(vault.unlock(PW.into())).await;
    assert_eq!(accounts(&vault), list);
}
