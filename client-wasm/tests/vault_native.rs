//! Native tests of the vault driver over the in-memory and file backends:
//! every error path, round trips, conflicts, migration, and the checked-in
//! derivation vectors (`vault-vectors.json`). The browser side is
//! `vault_browser.rs`.
#![cfg(not(target_arch = "wasm32"))]

use ruv_client::transfer::{TransferParams, U64Input};
use ruv_client::vault::codes;
use ruv_client::vault::derive;
use ruv_client::vault::deriver::KeyDeriver;
use ruv_client::vault::driver::{VaultConfig, VaultDriver, DEFAULT_AUTO_LOCK_MS};
use ruv_client::vault::kdf::{self, Argon2Output, KdfParams, KeyRequest};
use ruv_client::vault::mnemonic;
use ruv_client::vault::record::{self, Record};
use ruv_client::vault::session::VaultState;
use ruv_client::vault::storage::{FileStorage, MemoryStorage, VaultStorage};
use ruv_client::ClientError;
use serde_json::Value;
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

/// Memory and file storage finish on the first poll; nothing here waits.
fn block_on<F: Future>(f: F) -> F::Output {
    let mut f = pin!(f);
    let mut cx = Context::from_waker(Waker::noop());
    match f.as_mut().poll(&mut cx) {
        Poll::Ready(v) => v,
        Poll::Pending => panic!("future did not complete synchronously"),
    }
}

const TINY: KdfParams = KdfParams {
    memory_kib: 256,
    iterations: 1,
    parallelism: 1,
};
const PW: &str = "correct horse battery";
const PW2: &str = "staple gun staple";

fn config() -> VaultConfig {
    VaultConfig {
        kdf: TINY,
        auto_lock_ms: Some(60_000),
    }
}

fn driver<S: VaultStorage>(storage: S) -> VaultDriver<S> {
    block_on(VaultDriver::open(storage, config())).unwrap()
}

fn code<T: std::fmt::Debug>(r: Result<T, ClientError>) -> String {
    r.unwrap_err().code
}

fn vectors() -> Value {
    serde_json::from_str(include_str!("vault-vectors.json")).unwrap()
}

fn transfer_to(to: &str) -> TransferParams {
    TransferParams {
        chain_id: "ruv-test".into(),
        to: to.into(),
        amount: U64Input(1_000_000),
        fee: U64Input(10),
        nonce: U64Input(1),
        memo: Some("vault".into()),
    }
}

#[test]
fn vectors_match_the_derivation() {
    let v = vectors();
    let entropy = mnemonic::parse_phrase(v["phrase"].as_str().unwrap()).unwrap();
    assert_eq!(
        hex::encode(entropy.as_bytes()),
        v["entropy"].as_str().unwrap()
    );
    let seed = entropy.bip39_seed().unwrap();
    assert_eq!(hex::encode(*seed), v["bip39Seed"].as_str().unwrap());
    let accounts = v["accounts"].as_array().unwrap();
    assert_eq!(accounts.len(), 4);
    for a in accounts {
        let index = a["index"].as_u64().unwrap() as u32;
        let account_seed = derive::account_seed(&seed, index);
        assert_eq!(
            hex::encode(*account_seed),
            a["seed"].as_str().unwrap(),
            "seed {index}"
        );
        let address = derive::address_of(&derive::account_key(&seed, index));
        assert_eq!(address, a["address"].as_str().unwrap(), "address {index}");
    }
}

#[test]
fn restore_from_the_vector_phrase_gives_the_vector_addresses() {
    let v = vectors();
    let d = driver(MemoryStorage::new());
    block_on(d.restore(v["phrase"].as_str().unwrap(), PW, 0)).unwrap();
    for _ in 0..3 {
        block_on(d.add_account(None, 0)).unwrap();
    }
    let got: Vec<String> = d
        .accounts(0)
        .unwrap()
        .into_iter()
        .map(|a| a.address)
        .collect();
    let want: Vec<String> = v["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["address"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(got, want);
    // And the phrase comes back exactly (normalized).
    assert_eq!(
        *block_on(d.reveal_phrase(PW, 0)).unwrap(),
        v["phrase"].as_str().unwrap()
    );
}

#[test]
fn create_lock_unlock_round_trip() {
    let storage = MemoryStorage::new();
    let d = driver(storage.clone());
    assert_eq!(d.state(0), VaultState::Empty);
    assert_eq!(code(d.accounts(0)), codes::VAULT_NOT_FOUND);
    assert_eq!(code(block_on(d.unlock(PW, 0))), codes::VAULT_NOT_FOUND);
    block_on(d.create(PW, 0)).unwrap();
    assert_eq!(d.state(0), VaultState::Unlocked);
    assert_eq!(d.revision(), Some(1));
    let phrase = block_on(d.reveal_phrase(PW, 0)).unwrap();
    assert_eq!(phrase.split(' ').count(), 24);
    let accounts = d.accounts(0).unwrap();
    assert_eq!(accounts.len(), 1);
    d.lock();
    assert_eq!(d.state(0), VaultState::Locked);
    assert_eq!(code(d.accounts(0)), codes::VAULT_LOCKED);
    assert_eq!(code(block_on(d.reveal_phrase(PW, 0))), codes::VAULT_LOCKED);
    // A second instance on the same storage sees the same vault.
    let d2 = driver(storage);
    assert_eq!(d2.state(0), VaultState::Locked);
    let outcome = block_on(d2.unlock(PW, 0)).unwrap();
    assert!(!outcome.kdf_upgraded);
    assert_eq!(d2.accounts(0).unwrap(), accounts);
    assert_eq!(*block_on(d2.reveal_phrase(PW, 0)).unwrap(), *phrase);
    assert_eq!(code(block_on(d2.create(PW, 0))), codes::VAULT_EXISTS);
}

#[test]
fn wrong_password_changes_nothing() {
    let storage = MemoryStorage::new();
    let d = driver(storage.clone());
    block_on(d.create(PW, 0)).unwrap();
    let before = storage.snapshot();
    d.lock();
    assert_eq!(
        code(block_on(d.unlock("not the password", 0))),
        codes::WRONG_PASSWORD
    );
    assert_eq!(d.state(0), VaultState::Locked);
    assert_eq!(storage.snapshot(), before);
    block_on(d.unlock(PW, 0)).unwrap();
    assert_eq!(
        code(block_on(d.reveal_phrase("not the password", 0))),
        codes::WRONG_PASSWORD
    );
    assert_eq!(
        code(block_on(d.change_password("not the password", PW2, 0))),
        codes::WRONG_PASSWORD
    );
    assert_eq!(storage.snapshot(), before);
    // Still unlocked after a failed re-check.
    assert_eq!(d.state(0), VaultState::Unlocked);
}

#[test]
fn tampered_or_truncated_records_are_corrupted_and_left_alone() {
    let storage = MemoryStorage::new();
    let d = driver(storage.clone());
    block_on(d.create(PW, 0)).unwrap();
    let good = storage.snapshot().unwrap();
    let mut flipped = good.clone();
    flipped[record::HEADER_LEN + 5] ^= 0x40;
    let mut resummed = flipped.clone();
    let end = resummed.len() - record::CHECKSUM_LEN;
    let sum = blake3::hash(&resummed[..end]);
    resummed[end..].copy_from_slice(sum.as_bytes());
    for bad in [
        good[..good.len() - 1].to_vec(),
        good[..50].to_vec(),
        flipped,
        resummed.clone(),
        Vec::new(),
        b"{}".to_vec(),
    ] {
        storage.overwrite(Some(bad.clone()));
        let d = driver(storage.clone());
        assert_eq!(d.state(0), VaultState::Locked);
        assert_eq!(code(block_on(d.unlock(PW, 0))), codes::VAULT_CORRUPTED);
        if bad == resummed {
            // Structurally sound (the checksum was recomputed), so it exports,
            // but only the AEAD can tell, and an import refuses it.
            let backup = block_on(d.export_backup()).unwrap();
            let fresh = driver(MemoryStorage::new());
            assert_eq!(
                code(block_on(fresh.import_backup(&backup, PW, false, 0))),
                codes::INVALID_BACKUP
            );
        } else {
            assert_eq!(code(block_on(d.export_backup())), codes::VAULT_CORRUPTED);
        }
        assert_eq!(
            storage.snapshot().as_deref(),
            Some(&bad[..]),
            "record left for recovery"
        );
    }
    // Recovery: the damaged record can be deleted deliberately, then the
    // wallet restored from its phrase.
    let d = driver(storage.clone());
    block_on(d.delete("delete", 0)).unwrap();
    assert_eq!(storage.snapshot(), None);
}

#[test]
fn two_instances_never_lose_a_write() {
    let storage = MemoryStorage::new();
    let a = driver(storage.clone());
    block_on(a.create(PW, 0)).unwrap();
    let b = driver(storage.clone());
    block_on(b.unlock(PW, 0)).unwrap();

    block_on(a.add_account(Some("Savings"), 0)).unwrap();
    // B's view is stale: its write is refused, nothing is overwritten.
    let before = storage.snapshot();
    assert_eq!(
        code(block_on(b.rename_account(0, "Main", 0))),
        codes::VAULT_CONFLICT
    );
    assert_eq!(storage.snapshot(), before);
    // B re-read the record on the conflict, so a retry works and keeps A's change.
    assert_eq!(b.accounts(0).unwrap().len(), 2);
    block_on(b.rename_account(0, "Main", 0)).unwrap();
    assert_eq!(
        code(block_on(a.set_auto_lock(None, 0))),
        codes::VAULT_CONFLICT
    );
    block_on(a.set_auto_lock(None, 0)).unwrap();

    let fresh = driver(storage.clone());
    block_on(fresh.unlock(PW, 0)).unwrap();
    let labels: Vec<String> = fresh
        .accounts(0)
        .unwrap()
        .into_iter()
        .map(|a| a.label)
        .collect();
    assert_eq!(labels, ["Main", "Savings"]);
    assert_eq!(fresh.auto_lock_ms(), Some(None));
    assert_eq!(fresh.revision(), Some(4));
}

#[test]
fn delete_and_recreate_does_not_fool_a_stale_instance() {
    let storage = MemoryStorage::new();
    let a = driver(storage.clone());
    block_on(a.create(PW, 0)).unwrap();
    let b = driver(storage.clone());
    block_on(b.unlock(PW, 0)).unwrap();
    block_on(a.delete("delete", 0)).unwrap();
    block_on(a.create(PW2, 0)).unwrap();
    // Same revision number (1), different record: B must not write over it.
    assert_eq!(a.revision(), b.revision());
    assert_eq!(
        code(block_on(b.add_account(None, 0))),
        codes::VAULT_CONFLICT
    );
    // B could not open the new record with its old key, so it locked.
    assert_eq!(b.state(0), VaultState::Locked);
    assert_eq!(code(block_on(b.unlock(PW, 0))), codes::WRONG_PASSWORD);
    block_on(b.unlock(PW2, 0)).unwrap();
}

#[test]
fn change_password_is_one_write_and_stale_changes_are_refused() {
    let storage = MemoryStorage::new();
    let a = driver(storage.clone());
    block_on(a.create(PW, 0)).unwrap();
    let b = driver(storage.clone());
    block_on(b.unlock(PW, 0)).unwrap();
    assert_eq!(
        code(block_on(a.change_password(PW, "short", 0))),
        codes::INVALID_PASSWORD
    );

    block_on(b.add_account(None, 0)).unwrap();
    let before = storage.snapshot();
    assert_eq!(
        code(block_on(a.change_password(PW, PW2, 0))),
        codes::VAULT_CONFLICT
    );
    assert_eq!(
        storage.snapshot(),
        before,
        "old vault intact after a refused change"
    );
    block_on(a.change_password(PW, PW2, 0)).unwrap();

    let fresh = driver(storage.clone());
    assert_eq!(code(block_on(fresh.unlock(PW, 0))), codes::WRONG_PASSWORD);
    block_on(fresh.unlock(PW2, 0)).unwrap();
    assert_eq!(fresh.accounts(0).unwrap().len(), 2);
    // B's key no longer fits: on its next write it learns and locks.
    assert_eq!(
        code(block_on(b.add_account(None, 0))),
        codes::VAULT_CONFLICT
    );
    assert_eq!(b.state(0), VaultState::Locked);
    let record = Record::decode(&storage.snapshot().unwrap()).unwrap();
    assert_eq!(record.header.revision, 3);
}

#[test]
fn export_and_import_backups() {
    let storage = MemoryStorage::new();
    let a = driver(storage.clone());
    block_on(a.create(PW, 0)).unwrap();
    block_on(a.add_account(Some("Cold"), 0)).unwrap();
    let accounts = a.accounts(0).unwrap();
    a.lock();
    let backup = block_on(a.export_backup()).unwrap();
    assert!(backup.starts_with("{\"format\":\"ruv-vault-backup\""));

    // Into an empty store: validated, then unlocked.
    let other = MemoryStorage::new();
    let b = driver(other.clone());
    assert_eq!(
        code(block_on(b.import_backup(
            &backup,
            "wrong password",
            false,
            0
        ))),
        codes::WRONG_PASSWORD
    );
    assert_eq!(other.snapshot(), None);
    block_on(b.import_backup(&backup, PW, false, 0)).unwrap();
    assert_eq!(b.accounts(0).unwrap(), accounts);

    // Malformed backups: typed errors, existing vault untouched.
    let before = other.snapshot();
    let record_hex = serde_json::from_str::<Value>(&backup).unwrap()["record"]
        .as_str()
        .unwrap()
        .to_owned();
    let truncated = backup.replace(&record_hex, &record_hex[..record_hex.len() - 2]);
    let mut flipped_hex = record_hex.clone();
    flipped_hex.replace_range(
        300..301,
        if &record_hex[300..301] == "0" {
            "1"
        } else {
            "0"
        },
    );
    let flipped = backup.replace(&record_hex, &flipped_hex);
    let cases: Vec<(String, &str)> = vec![
        ("not json".into(), codes::INVALID_BACKUP),
        ("{}".into(), codes::INVALID_BACKUP),
        (
            backup.replace("ruv-vault-backup", "something-else"),
            codes::INVALID_BACKUP,
        ),
        (
            backup.replace("\"version\":1", "\"version\":2"),
            codes::INVALID_BACKUP,
        ),
        (backup.replace(&record_hex, "zz"), codes::INVALID_BACKUP),
        (truncated, codes::INVALID_BACKUP),
        (flipped, codes::INVALID_BACKUP),
        (backup.replace('}', ",\"extra\":1}"), codes::INVALID_BACKUP),
        ("x".repeat(5 << 20), codes::INVALID_BACKUP),
    ];
    for (text, want) in &cases {
        assert_eq!(
            code(block_on(b.import_backup(text, PW, true, 0))),
            *want,
            "{}",
            &text[..text.len().min(60)]
        );
        assert_eq!(other.snapshot(), before);
    }
    // An existing vault is only replaced on request; revisions never go back.
    let c = driver(other.clone());
    block_on(c.unlock(PW, 0)).unwrap();
    block_on(c.add_account(None, 0)).unwrap();
    block_on(c.add_account(None, 0)).unwrap();
    let rev = c.revision().unwrap();
    assert_eq!(
        code(block_on(c.import_backup(&backup, PW, false, 0))),
        codes::VAULT_EXISTS
    );
    block_on(c.import_backup(&backup, PW, true, 0)).unwrap();
    assert_eq!(c.accounts(0).unwrap(), accounts);
    assert!(c.revision().unwrap() > rev);
    // B (stale) is refused rather than overwriting the import.
    assert_eq!(
        code(block_on(b.rename_account(0, "x", 0))),
        codes::VAULT_CONFLICT
    );
}

#[test]
fn delete_needs_confirmation() {
    let storage = MemoryStorage::new();
    let d = driver(storage.clone());
    assert_eq!(
        code(block_on(d.delete("delete", 0))),
        codes::VAULT_NOT_FOUND
    );
    block_on(d.create(PW, 0)).unwrap();
    for bad in ["", "DELETE", "yes", "delete "] {
        assert_eq!(
            code(block_on(d.delete(bad, 0))),
            codes::CONFIRMATION_REQUIRED
        );
    }
    assert!(storage.snapshot().is_some());
    block_on(d.delete("delete", 0)).unwrap();
    assert_eq!(d.state(0), VaultState::Empty);
    assert_eq!(storage.snapshot(), None);
    let zero24 = format!("{}art", "abandon ".repeat(23));
    block_on(d.restore(&zero24, PW, 0)).unwrap();
}

#[test]
fn auto_lock_uses_the_callers_clock() {
    let d = driver(MemoryStorage::new());
    block_on(d.create(PW, 1_000)).unwrap();
    block_on(d.set_auto_lock(Some(1_000), 1_000)).unwrap();
    assert_eq!(d.idle_deadline(), Some(2_000));
    d.accounts(1_500).unwrap();
    assert_eq!(d.idle_deadline(), Some(2_500));
    d.touch(2_400).unwrap();
    let to = d.accounts(2_400).unwrap()[0].address.clone();
    d.sign_transfer(0, transfer_to(&to), 3_300).unwrap();
    assert_eq!(d.state(4_299), VaultState::Unlocked);
    assert_eq!(
        code(d.sign_transfer(0, transfer_to(&to), 4_300)),
        codes::VAULT_LOCKED
    );
    assert_eq!(d.state(4_300), VaultState::Locked);
    assert_eq!(code(d.touch(4_301)), codes::VAULT_LOCKED);
    // Never-lock setting.
    block_on(d.unlock(PW, 10_000)).unwrap();
    block_on(d.set_auto_lock(None, 10_000)).unwrap();
    assert_eq!(d.idle_deadline(), None);
    assert_eq!(d.state(u64::MAX), VaultState::Unlocked);
    assert_eq!(
        code(block_on(d.set_auto_lock(Some(0), 10_000))),
        codes::INVALID_AUTO_LOCK
    );
    assert_eq!(
        code(block_on(
            d.set_auto_lock(Some(record::MAX_AUTO_LOCK_MS + 1), 10_000)
        )),
        codes::INVALID_AUTO_LOCK
    );
    // The enforcement entry point the JS timer uses.
    block_on(d.set_auto_lock(Some(10), 10_000)).unwrap();
    assert!(!block_on(d.enforce_auto_lock(10_005)));
    assert!(block_on(d.enforce_auto_lock(10_010)));
}

#[test]
fn signing_goes_through_the_vault() {
    let d = driver(MemoryStorage::new());
    block_on(d.create(PW, 0)).unwrap();
    block_on(d.add_account(None, 0)).unwrap();
    let accounts = d.accounts(0).unwrap();
    let tx = d
        .sign_transfer(1, transfer_to(&accounts[0].address), 0)
        .unwrap();
    tx.verify_signature().unwrap();
    assert_eq!(tx.transfer.from.to_string(), accounts[1].address);
    assert_eq!(tx.transfer.to.to_string(), accounts[0].address);
    assert_eq!(
        code(d.sign_transfer(7, transfer_to(&accounts[0].address), 0)),
        codes::UNKNOWN_ACCOUNT
    );
    assert_eq!(
        code(d.sign_transfer(0, transfer_to("ruv1nope"), 0)),
        "invalid_address"
    );
}

#[test]
fn input_validation() {
    let d = driver(MemoryStorage::new());
    assert_eq!(
        code(block_on(d.create("short", 0))),
        codes::INVALID_PASSWORD
    );
    assert_eq!(
        code(block_on(d.restore("abandon abandon", PW, 0))),
        codes::INVALID_MNEMONIC_LENGTH
    );
    let zero12 = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";
    assert_eq!(
        code(block_on(d.restore(
            &zero12.replace("about", "abandon"),
            PW,
            0
        ))),
        codes::INVALID_MNEMONIC_CHECKSUM
    );
    assert_eq!(
        code(block_on(d.restore(
            &zero12.replace("about", "aboutt"),
            PW,
            0
        ))),
        codes::INVALID_MNEMONIC_WORD
    );
    assert_eq!(d.state(0), VaultState::Empty);
    block_on(d.restore(zero12, PW, 0)).unwrap();
    assert_eq!(
        block_on(d.reveal_phrase(PW, 0)).unwrap().split(' ').count(),
        12
    );
    assert_eq!(
        code(block_on(d.add_account(Some(""), 0))),
        codes::INVALID_LABEL
    );
    assert_eq!(
        code(block_on(d.rename_account(3, "x", 0))),
        codes::UNKNOWN_ACCOUNT
    );
    let bad = VaultConfig {
        kdf: KdfParams {
            memory_kib: 4,
            iterations: 1,
            parallelism: 1,
        },
        auto_lock_ms: None,
    };
    assert_eq!(
        code(block_on(VaultDriver::open(MemoryStorage::new(), bad))),
        codes::INVALID_KDF_PARAMS
    );
}

#[test]
fn weaker_records_are_upgraded_on_unlock_and_never_downgraded() {
    let storage = MemoryStorage::new();
    let weak = VaultConfig {
        kdf: KdfParams {
            memory_kib: 64,
            iterations: 1,
            parallelism: 1,
        },
        auto_lock_ms: None,
    };
    let d = block_on(VaultDriver::open(storage.clone(), weak)).unwrap();
    block_on(d.create(PW, 0)).unwrap();
    let stronger = VaultConfig {
        kdf: KdfParams {
            memory_kib: 512,
            iterations: 2,
            parallelism: 1,
        },
        auto_lock_ms: None,
    };
    let d2 = block_on(VaultDriver::open(storage.clone(), stronger)).unwrap();
    let outcome = block_on(d2.unlock(PW, 0)).unwrap();
    assert!(outcome.kdf_upgraded);
    assert_eq!(outcome.upgrade_error, None);
    assert_eq!(d2.kdf_params(), Some(stronger.kdf));
    let record = Record::decode(&storage.snapshot().unwrap()).unwrap();
    assert_eq!(record.header.kdf, stronger.kdf);
    assert_eq!(record.header.revision, 2);
    // The weak instance opens the upgraded record and does not downgrade it.
    d.lock();
    assert!(!block_on(d.unlock(PW, 0)).unwrap().kdf_upgraded);
    block_on(d.change_password(PW, PW2, 0)).unwrap();
    let record = Record::decode(&storage.snapshot().unwrap()).unwrap();
    assert_eq!(record.header.kdf, stronger.kdf);
}

#[test]
fn default_parameters_round_trip() {
    // The one native test at the production Argon2 parameters (KdfParams::DEFAULT).
    let storage = MemoryStorage::new();
    let d = block_on(VaultDriver::open(storage.clone(), VaultConfig::default())).unwrap();
    assert_eq!(d.config().auto_lock_ms, Some(DEFAULT_AUTO_LOCK_MS));
    block_on(d.create(PW, 0)).unwrap();
    d.lock();
    let started = std::time::Instant::now();
    block_on(d.unlock(PW, 0)).unwrap();
    eprintln!(
        "native unlock at default parameters: {:?}",
        started.elapsed()
    );
    let record = Record::decode(&storage.snapshot().unwrap()).unwrap();
    assert_eq!(record.header.kdf, KdfParams::DEFAULT);
    assert!(KdfParams::DEFAULT.meets_owasp_minimum());
}

#[test]
fn file_backend_round_trip_conflict_and_failures() {
    let dir = std::env::temp_dir().join(format!("ruv-vault-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("vault.bin");
    let _ = std::fs::remove_file(&path);
    let a = driver(FileStorage::new(&path));
    block_on(a.create(PW, 0)).unwrap();
    let b = driver(FileStorage::new(&path));
    block_on(b.unlock(PW, 0)).unwrap();
    assert_eq!(a.accounts(0).unwrap(), b.accounts(0).unwrap());
    block_on(a.add_account(None, 0)).unwrap();
    assert_eq!(
        code(block_on(b.add_account(None, 0))),
        codes::VAULT_CONFLICT
    );
    block_on(b.add_account(Some("third"), 0)).unwrap();
    assert!(!dir.join("vault.bin.tmp").exists());
    let c = driver(FileStorage::new(&path));
    block_on(c.unlock(PW, 0)).unwrap();
    assert_eq!(c.accounts(0).unwrap().len(), 3);
    block_on(c.delete("delete", 0)).unwrap();
    assert!(!path.exists());

    // A missing directory or a directory in the record's place: storage_unavailable.
    let nowhere = driver(FileStorage::new(dir.join("missing").join("vault.bin")));
    assert_eq!(
        code(block_on(nowhere.create(PW, 0))),
        codes::STORAGE_UNAVAILABLE
    );
    let is_dir = dir.join("a-directory");
    std::fs::create_dir_all(&is_dir).unwrap();
    assert_eq!(
        code(block_on(VaultDriver::open(
            FileStorage::new(&is_dir),
            config()
        ))),
        codes::STORAGE_UNAVAILABLE
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn sign_message_signs_with_the_account_key_and_refuses_protocol_contexts() {
    let d = driver(MemoryStorage::new());
    block_on(d.create(PW, 0)).unwrap();
    let address = d.accounts(0).unwrap()[0].address.clone();
    // The account's public key, from a transfer it signs.
    let public_key = d
        .sign_transfer(0, transfer_to(&address), 0)
        .unwrap()
        .transfer
        .public_key;
    let signature = d
        .sign_message(0, b"log in to example.org", b"example.org/login", 0)
        .unwrap();
    let signature = ruv_protocol::crypto::Signature::from_bytes(&signature).unwrap();
    public_key
        .verify(b"log in to example.org", b"example.org/login", &signature)
        .unwrap();
    // Under another context, or for another message, it does not verify.
    assert!(public_key
        .verify(b"log in to example.org", b"example.org/other", &signature)
        .is_err());
    for context in [
        &b"ruv/tx/v1"[..],
        b"ruv/vertex/v1",
        b"RUV/anything",
        b"ruv/",
    ] {
        assert!(ruv_client::vault::driver::is_reserved_context(context));
        assert_eq!(code(d.sign_message(0, b"x", context, 0)), "invalid_params");
    }
    assert!(!ruv_client::vault::driver::is_reserved_context(b"ruv"));
    assert!(!ruv_client::vault::driver::is_reserved_context(
        b"example/ruv/"
    ));
    d.lock();
    assert_eq!(
        code(d.sign_message(0, b"x", b"example.org", 0)),
        codes::VAULT_LOCKED
    );
}

#[test]
fn check_password_accepts_only_the_vaults_password() {
    let d = driver(MemoryStorage::new());
    block_on(d.create(PW, 0)).unwrap();
    block_on(d.check_password(PW, 0)).unwrap();
    assert_eq!(
        code(block_on(d.check_password("not the password", 0))),
        codes::WRONG_PASSWORD
    );
    d.lock();
    assert_eq!(code(block_on(d.check_password(PW, 0))), codes::VAULT_LOCKED);
}

/// A key deriver answered by hand: the vault operation waits (its future
/// stays pending) until the test supplies the Argon2 output, as a browser
/// vault waits for its Web Worker.
#[derive(Default, Clone)]
struct HandKdf {
    asked: std::rc::Rc<std::cell::RefCell<Vec<KeyRequest>>>,
    answer: std::rc::Rc<std::cell::RefCell<Option<Result<Argon2Output, ClientError>>>>,
}

impl KeyDeriver for HandKdf {
    async fn argon2id(
        &self,
        _password: &[u8],
        request: &KeyRequest,
    ) -> Result<Argon2Output, ClientError> {
        self.asked.borrow_mut().push(*request);
        std::future::poll_fn(|_| match self.answer.borrow_mut().take() {
            Some(answer) => Poll::Ready(answer),
            None => Poll::Pending,
        })
        .await
    }
}

#[test]
fn unlock_waits_for_the_key_deriver_and_uses_its_answer() {
    let storage = MemoryStorage::new();
    block_on(driver(storage.clone()).create(PW, 0)).unwrap();
    let stored = storage.snapshot().unwrap();
    let header = Record::decode(&stored).unwrap().header;
    let hand = HandKdf::default();
    let d = VaultDriver::with_kdf(storage, hand.clone(), config(), Some(&stored)).unwrap();
    let mut cx = Context::from_waker(Waker::noop());

    for (password, expected) in [(PW2, Err(codes::WRONG_PASSWORD)), (PW, Ok(()))] {
        let mut unlock = pin!(d.unlock(PW, 0));
        assert!(unlock.as_mut().poll(&mut cx).is_pending());
        // The request names the record's salt and parameters, and the vault
        // stays usable (locked) while it waits.
        let request = *hand.asked.borrow().last().unwrap();
        assert_eq!((request.salt, request.params), (header.salt, header.kdf));
        assert_eq!(d.state(0), VaultState::Locked);
        *hand.answer.borrow_mut() = Some(kdf::argon2id(
            password.as_bytes(),
            &request.salt,
            &request.params,
        ));
        let Poll::Ready(result) = unlock.as_mut().poll(&mut cx) else {
            panic!("unlock still pending after the answer");
        };
        assert_eq!(
            result.map(|_| ()).map_err(|e| e.code),
            expected.map_err(String::from)
        );
    }
    assert_eq!(d.state(0), VaultState::Unlocked);
    assert_eq!(hand.asked.borrow().len(), 2);
}

fn pending(id: char, account: u32) -> ruv_client::vault::pending::PendingTransfer {
    ruv_client::vault::pending::PendingTransfer {
        id: id.to_string().repeat(64),
        account,
        to: "ruv1recipient".into(),
        amount: "2500000".into(),
        fee: "6326".into(),
        nonce: "1".into(),
        at: 1_000,
        origin: None,
    }
}

/// The payload version byte of a stored record (decrypted with `password`).
fn payload_version(bytes: &[u8], password: &str) -> u8 {
    let record = Record::decode(bytes).unwrap();
    let h = &record.header;
    let normalized = ruv_client::vault::session::normalize_password(password);
    let keys = kdf::derive_keys(normalized.as_bytes(), &h.salt, &h.kdf).unwrap();
    record.open(&keys.aead_key).unwrap()[0]
}

#[test]
fn pending_payments_live_in_the_encrypted_record_until_removed() {
    let storage = MemoryStorage::new();
    let d = driver(storage.clone());
    block_on(d.create(PW, 0)).unwrap();
    assert!(d.pending_transfers(0).unwrap().is_empty());
    block_on(d.add_pending_transfer(pending('a', 0), 0)).unwrap();
    // Not in the clear anywhere in the stored bytes.
    let stored = storage.snapshot().unwrap();
    assert!(!stored.windows(64).any(|w| w == "a".repeat(64).as_bytes()));
    assert_eq!(
        payload_version(&stored, PW),
        record::PAYLOAD_VERSION_PENDING
    );
    // Another instance (a reload) sees it after unlocking.
    let reloaded = driver(storage.clone());
    assert_eq!(code(reloaded.pending_transfers(0)), codes::VAULT_LOCKED);
    block_on(reloaded.unlock(PW, 0)).unwrap();
    assert_eq!(
        reloaded.pending_transfers(0).unwrap(),
        vec![pending('a', 0)]
    );
    // Bad input and unknown accounts are refused; nothing changes.
    let mut bad = pending('b', 0);
    bad.amount = "lots".into();
    assert_eq!(
        code(block_on(reloaded.add_pending_transfer(bad, 0))),
        codes::INVALID_PENDING_TRANSFER
    );
    assert_eq!(
        code(block_on(reloaded.add_pending_transfer(pending('b', 5), 0))),
        codes::UNKNOWN_ACCOUNT
    );
    // The first instance is behind (another instance wrote): its write still lands, once re-read.
    block_on(reloaded.add_pending_transfer(pending('b', 0), 0)).unwrap();
    assert!(block_on(d.remove_pending_transfer(&"a".repeat(64), 0)).unwrap());
    assert!(!block_on(d.remove_pending_transfer(&"a".repeat(64), 0)).unwrap());
    assert_eq!(d.pending_transfers(0).unwrap(), vec![pending('b', 0)]);
    assert!(block_on(d.remove_pending_transfer(&"b".repeat(64), 0)).unwrap());
    let stored = storage.snapshot().unwrap();
    assert_eq!(payload_version(&stored, PW), record::PAYLOAD_VERSION);
    // Removing is not activity: the idle deadline does not move.
    let deadline = d.idle_deadline();
    block_on(d.add_pending_transfer(pending('c', 0), 10)).unwrap();
    let deadline_after_add = d.idle_deadline();
    assert!(deadline_after_add > deadline);
    block_on(d.remove_pending_transfer(&"c".repeat(64), 50_000)).unwrap();
    assert_eq!(d.idle_deadline(), deadline_after_add);
    // Locked: nothing to remove with.
    d.lock();
    assert_eq!(
        code(block_on(d.remove_pending_transfer(&"c".repeat(64), 0))),
        codes::VAULT_LOCKED
    );
}
