//! The client in headless Chromium: NIST ACVP and Wycheproof ML-DSA-65
//! vectors (the same checks and counts as `protocol/tests/nist_vectors.rs`),
//! the light-client vectors (the same checks and counts as
//! `protocol/tests/light.rs`, then through the JS API), the cross-target
//! vectors, transfers signed through the JS API, the relay protocol core,
//! and the relay driver's failure paths.
//!
//! Run: `wasm-pack test --headless --chrome --mode no-install -- --test browser`
#![cfg(target_arch = "wasm32")]

use ruv_client::relay::core::{ClientCore, Output, Reply, Request, DEFAULT_REQUEST_TIMEOUT_MS};
use ruv_client::relay::fees::transfer_size;
use ruv_client::relay::{RelayClient, RelayPool};
use ruv_client::{keys, Keypair, SignedTransaction};
use ruv_protocol::crypto::SigningKey;
use ruv_protocol::{Address, SignedTransfer, Transfer};
use serde_json::Value;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

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
fn acvp_keygen() {
    assert_eq!(check::keygen(), 31);
}

#[wasm_bindgen_test]
fn acvp_sigver() {
    assert_eq!(check::sigver(), 15);
}

#[wasm_bindgen_test]
fn wycheproof_sign_seed() {
    assert_eq!(check::wycheproof_sign(), (88, 17));
}

#[wasm_bindgen_test]
fn wycheproof_verify() {
    assert_eq!(check::wycheproof_verify(), 210);
}

fn vectors() -> Value {
    serde_json::from_str(include_str!("cross-target-vectors.json")).unwrap()
}

fn bytes(v: &Value) -> Vec<u8> {
    hex::decode(v.as_str().expect("hex string")).expect("valid hex")
}

fn error_code(e: &JsValue) -> String {
    js_sys::Reflect::get(e, &"code".into())
        .ok()
        .and_then(|c| c.as_string())
        .unwrap_or_default()
}

#[wasm_bindgen_test]
fn sign_verify_round_trip_through_the_js_api() {
    let key = Keypair::generate().unwrap();
    let pk = key.public_key();
    assert_eq!(pk.len(), 1952);
    assert_eq!(keys::address_of_public_key(&pk).unwrap(), key.address());
    let msg = b"pay the piper";
    let sig = key.sign_message(msg, b"ruv/test").unwrap();
    assert!(keys::verify_signature(&pk, msg, b"ruv/test", &sig));
    assert!(!keys::verify_signature(&pk, msg, b"ruv/other", &sig));
    assert!(!keys::verify_signature(
        &pk,
        b"pay the piper!",
        b"ruv/test",
        &sig
    ));
    let mut tampered = sig.clone();
    tampered[100] ^= 1;
    assert!(!keys::verify_signature(&pk, msg, b"ruv/test", &tampered));
    assert!(!keys::verify_signature(&pk, msg, b"ruv/test", &sig[..100]));
    // Two fresh keys differ (the browser's random source is in use).
    assert_ne!(Keypair::generate().unwrap().address(), key.address());
}

#[wasm_bindgen_test]
fn cross_target_vectors() {
    let doc = vectors();
    let seed = bytes(&doc["seed"]);
    let key = Keypair::from_seed(&seed).unwrap();
    assert_eq!(key.public_key(), bytes(&doc["public_key"]));
    let ctx = bytes(&doc["context"]);

    // The signature made natively verifies here.
    let native_sig = bytes(&doc["native"]["signature"]);
    assert!(keys::verify_signature(
        &key.public_key(),
        &bytes(&doc["native"]["message"]),
        &ctx,
        &native_sig
    ));

    // Deterministic signing here reproduces both sides' bytes exactly.
    let signer = key.signing_key();
    for side in ["native", "wasm"] {
        let sig = signer
            .sign(&bytes(&doc[side]["message"]), &ctx, [0; 32])
            .unwrap();
        assert_eq!(
            sig.as_bytes().as_slice(),
            bytes(&doc[side]["signature"]),
            "{side}"
        );
    }

    // The transfer in the file is exactly what this build makes.
    let t = &doc["wasm"]["transfer"];
    let recipient = SigningKey::from_seed(&bytes(&t["recipient_seed"]).try_into().unwrap());
    let tx = Transfer {
        chain_id: "ruv-devnet".into(),
        from: Address::from_public_key(signer.public_key()),
        to: Address::from_public_key(recipient.public_key()),
        amount: 1_234_567,
        fee: 11_000,
        nonce: 1,
        memo: "cross-target".into(),
        public_key: signer.public_key().clone(),
    }
    .sign(signer, [0; 32])
    .unwrap();
    assert_eq!(tx.to_bytes(), bytes(&t["bytes"]));
    let decoded = SignedTransaction::from_bytes(&bytes(&t["bytes"])).unwrap();
    assert!(decoded.verify_signature());
    assert_eq!(decoded.id(), t["id"].as_str().unwrap());
}

#[wasm_bindgen_test]
fn transfer_signed_in_wasm_verifies() {
    let key = Keypair::from_seed(&[9; 32]).unwrap();
    let to = Keypair::from_seed(&[10; 32]).unwrap().address();
    let params = js_sys::JSON::parse(&format!(
        r#"{{"chainId":"ruv-devnet","to":"{to}","amount":"5000000","fee":11000,"nonce":"1","memo":"lunch"}}"#
    ))
    .unwrap();
    let tx = key.sign_transfer(params).unwrap();
    assert!(tx.verify_signature());
    let inner = tx.inner();
    assert!(inner.verify_signature().is_ok());
    assert_eq!(inner.transfer.amount, 5_000_000);
    assert_eq!(inner.transfer.from.to_string(), key.address());
    assert_eq!(inner.transfer.to.to_string(), to);

    // Binary and JSON forms round-trip to the same transaction and id.
    let encoded = tx.to_bytes();
    assert_eq!(encoded.len(), transfer_size("ruv-devnet", "lunch"));
    assert_eq!(
        SignedTransaction::from_bytes(&encoded).unwrap().id(),
        tx.id()
    );
    let json = js_sys::JSON::stringify(&tx.to_json().unwrap())
        .unwrap()
        .as_string()
        .unwrap();
    let parsed: SignedTransfer = serde_json::from_str(&json).unwrap();
    assert_eq!(&parsed, inner);

    // A changed byte anywhere in the signed part breaks the signature.
    let mut tampered = encoded.clone();
    let amount_at = 1 + 1 + "ruv-devnet".len() + 32 + 32;
    tampered[amount_at] ^= 1;
    assert!(!SignedTransaction::from_bytes(&tampered)
        .unwrap()
        .verify_signature());

    // Hedged signing: signing the same transfer twice gives different signatures.
    let again = key
        .sign_transfer(js_sys::JSON::parse(&json_params(&to)).unwrap())
        .unwrap();
    let once = key
        .sign_transfer(js_sys::JSON::parse(&json_params(&to)).unwrap())
        .unwrap();
    assert_ne!(again.id(), once.id());
}

fn json_params(to: &str) -> String {
    format!(r#"{{"chainId":"ruv-devnet","to":"{to}","amount":1,"fee":1,"nonce":2}}"#)
}

#[wasm_bindgen_test]
fn bad_transfer_params_are_refused_with_codes() {
    let key = Keypair::from_seed(&[9; 32]).unwrap();
    let bad_to = js_sys::JSON::parse(
        r#"{"chainId":"ruv-devnet","to":"ruv1nope","amount":1,"fee":1,"nonce":1}"#,
    )
    .unwrap();
    assert_eq!(
        error_code(&key.sign_transfer(bad_to).err().unwrap()),
        "invalid_address"
    );
    let to = key.address();
    let float = js_sys::JSON::parse(&format!(
        r#"{{"chainId":"ruv-devnet","to":"{to}","amount":1.5,"fee":1,"nonce":1}}"#
    ))
    .unwrap();
    assert_eq!(
        error_code(&key.sign_transfer(float).err().unwrap()),
        "invalid_params"
    );
}

/// The protocol core runs the same in wasm as natively: ids, routing, checks.
#[wasm_bindgen_test]
fn relay_core_in_wasm() {
    let mut core = ClientCore::new(1_000);
    let key = Keypair::from_seed(&[4; 32]).unwrap();
    let address: Address = key.address().parse().unwrap();
    let id = core
        .start(
            Request::GetAccount(address),
            1_000,
            DEFAULT_REQUEST_TIMEOUT_MS,
        )
        .unwrap();
    let frame: Value = serde_json::from_str(&core.poll_transmit(1_000).unwrap()).unwrap();
    assert_eq!(frame["method"], "get_account");
    assert_eq!(frame["params"]["address"], key.address());
    let answer = format!(
        r#"{{"id":{id},"result":{{"address":"{}","balance":"18446744073709551615","nonce":"2"}}}}"#,
        key.address()
    );
    match core.handle_frame(&answer, 1_001).unwrap() {
        // u64::MAX survives: amounts never pass through a JS number.
        Some(Output::Reply {
            result: Ok(Reply::Account(info)),
            ..
        }) => assert_eq!(info.balance, u64::MAX),
        other => panic!("{other:?}"),
    }
}

#[wasm_bindgen_test]
async fn connecting_to_a_closed_port_fails_with_connection() {
    let err = JsFuture::from(RelayClient::connect(
        "ws://127.0.0.1:9/api/v1/ws".into(),
        None,
    ))
    .await
    .expect_err("nothing listens on port 9");
    assert_eq!(error_code(&err), "connection");
    assert!(err.is_instance_of::<js_sys::Error>());
}

#[wasm_bindgen_test]
async fn bad_urls_and_options_are_refused_before_connecting() {
    for url in ["127.0.0.1:7100", "ftp://x", "ws://h/#x"] {
        let err = JsFuture::from(RelayClient::connect(url.into(), None))
            .await
            .unwrap_err();
        assert_eq!(error_code(&err), "invalid_params", "{url}");
    }
    let options = js_sys::JSON::parse(r#"{"requestTimeoutMs": -1}"#).unwrap();
    let err = JsFuture::from(RelayClient::connect(
        "ws://127.0.0.1:9".into(),
        Some(options.unchecked_into()),
    ))
    .await
    .unwrap_err();
    assert_eq!(error_code(&err), "invalid_params");
    let unknown = js_sys::JSON::parse(r#"{"retries": 3}"#).unwrap();
    let err = JsFuture::from(RelayClient::connect(
        "ws://127.0.0.1:9".into(),
        Some(unknown.unchecked_into()),
    ))
    .await
    .unwrap_err();
    assert_eq!(error_code(&err), "invalid_params");
    let _ = err.dyn_into::<js_sys::Error>().unwrap();
}

#[wasm_bindgen_test]
async fn a_pool_with_no_reachable_relay_fails_with_connection_naming_each() {
    let urls = vec![
        "ws://127.0.0.1:9".to_string(),
        "http://127.0.0.1:10".to_string(),
    ];
    let err = JsFuture::from(RelayPool::connect(urls, None))
        .await
        .unwrap_err();
    assert_eq!(error_code(&err), "connection");
    let message = err
        .dyn_into::<js_sys::Error>()
        .unwrap()
        .message()
        .as_string()
        .unwrap();
    assert!(message.contains("ws://127.0.0.1:9/api/v1/ws"), "{message}");
    assert!(message.contains("ws://127.0.0.1:10/api/v1/ws"), "{message}");

    let err = JsFuture::from(RelayPool::connect(vec![], None))
        .await
        .unwrap_err();
    assert_eq!(error_code(&err), "invalid_params");
    let err = JsFuture::from(RelayPool::connect(vec!["ftp://x".into()], None))
        .await
        .unwrap_err();
    assert_eq!(error_code(&err), "invalid_params");
}
