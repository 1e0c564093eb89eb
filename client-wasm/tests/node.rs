//! The client in Node: keys (Node's `crypto.getRandomValues`), the NIST ACVP
//! and Wycheproof ML-DSA-65 vectors, and the cross-target vectors.
//!
//! Run: `wasm-pack test --node --mode no-install -- --test node`
#![cfg(target_arch = "wasm32")]

use ruv_client::{keys, Keypair, SignedTransaction};
use serde_json::Value;
use wasm_bindgen_test::*;

#[path = "../../protocol/tests/vectors/check.rs"]
mod check;

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
