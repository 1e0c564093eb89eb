//! Native side of the cross-target vectors (`cross-target-vectors.json`):
//! the signature and transfer made in wasm verify here, and this build
//! reproduces every deterministic signature in the file byte for byte. The
//! browser test (`browser.rs`) does the same from the wasm side.

use ruv_protocol::crypto::{PublicKey, Signature, SigningKey};
use ruv_protocol::{Address, SignedTransfer, Transfer};
use serde_json::Value;

fn vectors() -> Value {
    serde_json::from_str(include_str!("cross-target-vectors.json")).unwrap()
}

fn bytes(v: &Value) -> Vec<u8> {
    hex::decode(v.as_str().expect("hex string")).expect("valid hex")
}

fn key(doc: &Value) -> SigningKey {
    SigningKey::from_seed(&bytes(&doc["seed"]).try_into().expect("32-byte seed"))
}

#[test]
fn public_key_matches() {
    let doc = vectors();
    assert_eq!(
        key(&doc).public_key().as_bytes().as_slice(),
        bytes(&doc["public_key"])
    );
}

#[test]
fn both_signatures_verify_natively() {
    let doc = vectors();
    let pk = PublicKey::from_bytes(&bytes(&doc["public_key"])).unwrap();
    let ctx = bytes(&doc["context"]);
    for side in ["native", "wasm"] {
        let sig = Signature::from_bytes(&bytes(&doc[side]["signature"])).unwrap();
        pk.verify(&bytes(&doc[side]["message"]), &ctx, &sig)
            .unwrap_or_else(|e| panic!("{side}: {e}"));
        // And not under another context or message.
        assert!(pk
            .verify(&bytes(&doc[side]["message"]), b"ruv/other", &sig)
            .is_err());
        assert!(pk.verify(b"another message", &ctx, &sig).is_err());
    }
}

#[test]
fn deterministic_signatures_are_reproduced_exactly() {
    let doc = vectors();
    let key = key(&doc);
    let ctx = bytes(&doc["context"]);
    for side in ["native", "wasm"] {
        let sig = key
            .sign(&bytes(&doc[side]["message"]), &ctx, [0; 32])
            .unwrap();
        assert_eq!(
            sig.as_bytes().as_slice(),
            bytes(&doc[side]["signature"]),
            "{side}"
        );
    }
}

#[test]
fn transfer_signed_in_wasm_decodes_verifies_and_is_reproduced() {
    let doc = vectors();
    let t = &doc["wasm"]["transfer"];
    let encoded = bytes(&t["bytes"]);
    let tx = SignedTransfer::from_bytes(&encoded).unwrap();
    tx.verify_signature().unwrap();
    assert_eq!(tx.id().to_string(), t["id"].as_str().unwrap());

    let key = key(&doc);
    let recipient = SigningKey::from_seed(&bytes(&t["recipient_seed"]).try_into().unwrap());
    let rebuilt = Transfer {
        chain_id: "ruv-devnet".into(),
        from: Address::from_public_key(key.public_key()),
        to: Address::from_public_key(recipient.public_key()),
        amount: 1_234_567,
        fee: 11_000,
        nonce: 1,
        memo: "cross-target".into(),
        public_key: key.public_key().clone(),
    }
    .sign(&key, [0; 32])
    .unwrap();
    assert_eq!(rebuilt, tx);
    assert_eq!(rebuilt.to_bytes(), encoded);
}
