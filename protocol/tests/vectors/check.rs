//! Runs the NIST ACVP and Wycheproof ML-DSA-65 vectors (copied unchanged from
//! `shared/vectors/`, see `README.md` beside this file) against
//! `ruv-protocol`'s signature suite. Included by the native test
//! (`protocol/tests/nist_vectors.rs`) and the wasm test
//! (`client-wasm/tests/browser.rs`), so both targets run the same checks.

use ruv_protocol::crypto::{PublicKey, Signature, SigningKey};
use serde_json::Value;

/// Counts of what ran.
#[allow(dead_code)]
#[derive(Debug, Default)]
pub struct Summary {
    pub keygen: usize,
    pub sigver: usize,
    pub wycheproof_sign: usize,
    pub wycheproof_sign_skipped_internal: usize,
    pub wycheproof_verify: usize,
}

fn hex(v: &Value) -> Vec<u8> {
    hex::decode(v.as_str().unwrap_or("")).expect("vector hex")
}

fn seed(bytes: &[u8]) -> Option<[u8; 32]> {
    bytes.try_into().ok()
}

pub fn keygen() -> usize {
    let doc: Value = serde_json::from_str(include_str!("mldsa65-keygen.json")).unwrap();
    let tests = doc["tests"].as_array().unwrap();
    for t in tests {
        let key = SigningKey::from_seed(&seed(&hex(&t["seed"])).unwrap());
        assert_eq!(
            key.public_key().as_bytes().as_slice(),
            hex(&t["pk"]),
            "keyGen pk tcId {}",
            t["tcId"]
        );
        assert_eq!(
            key.expanded_secret().as_slice(),
            hex(&t["sk"]),
            "keyGen sk tcId {}",
            t["tcId"]
        );
    }
    tests.len()
}

/// Verification that also accepts malformed lengths as a plain rejection.
fn verifies(pk: &[u8], msg: &[u8], ctx: &[u8], sig: &[u8]) -> bool {
    let (Ok(pk), Ok(sig)) = (PublicKey::from_bytes(pk), Signature::from_bytes(sig)) else {
        return false;
    };
    pk.verify(msg, ctx, &sig).is_ok()
}

pub fn sigver() -> usize {
    let doc: Value = serde_json::from_str(include_str!("mldsa65-sigver.json")).unwrap();
    let tests = doc["tests"].as_array().unwrap();
    for t in tests {
        let ok = verifies(
            &hex(&t["pk"]),
            &hex(&t["message"]),
            &hex(&t["context"]),
            &hex(&t["signature"]),
        );
        assert_eq!(
            ok,
            t["testPassed"].as_bool().unwrap(),
            "sigVer tcId {}",
            t["tcId"]
        );
    }
    tests.len()
}

/// Returns (run, skipped because they give only `mu`).
pub fn wycheproof_sign() -> (usize, usize) {
    let doc: Value =
        serde_json::from_str(include_str!("wycheproof-mldsa65-sign-seed.json")).unwrap();
    let (mut run, mut skipped) = (0, 0);
    for group in doc["testGroups"].as_array().unwrap() {
        let private_seed = hex(&group["privateSeed"]);
        let Some(private_seed) = seed(&private_seed) else {
            // Wrong-length seeds must be refused: our API cannot even express them.
            for t in group["tests"].as_array().unwrap() {
                assert_eq!(t["result"], "invalid", "tcId {}", t["tcId"]);
                run += 1;
            }
            continue;
        };
        let key = SigningKey::from_seed(&private_seed);
        assert_eq!(
            key.public_key().as_bytes().as_slice(),
            hex(&group["publicKey"])
        );
        for t in group["tests"].as_array().unwrap() {
            let flags: Vec<&str> = t["flags"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(Value::as_str)
                .collect();
            if flags.contains(&"Internal") {
                skipped += 1;
                continue;
            }
            let rnd: [u8; 32] = if t.get("rnd").is_some() {
                seed(&hex(&t["rnd"])).unwrap()
            } else {
                [0; 32]
            };
            let ctx = hex(&t["ctx"]);
            let result = key.sign(&hex(&t["msg"]), &ctx, rnd);
            match t["result"].as_str().unwrap() {
                "valid" => assert_eq!(
                    result.expect("valid sign case").as_bytes().as_slice(),
                    hex(&t["sig"]),
                    "sign tcId {}",
                    t["tcId"]
                ),
                _ => assert!(result.is_err(), "sign tcId {} must fail", t["tcId"]),
            }
            run += 1;
        }
    }
    (run, skipped)
}

pub fn wycheproof_verify() -> usize {
    let doc: Value = serde_json::from_str(include_str!("wycheproof-mldsa65-verify.json")).unwrap();
    let mut run = 0;
    for group in doc["testGroups"].as_array().unwrap() {
        let pk = hex(&group["publicKey"]);
        for t in group["tests"].as_array().unwrap() {
            let ok = verifies(&pk, &hex(&t["msg"]), &hex(&t["ctx"]), &hex(&t["sig"]));
            match t["result"].as_str().unwrap() {
                "valid" => assert!(ok, "verify tcId {} must pass", t["tcId"]),
                "invalid" => assert!(!ok, "verify tcId {} must fail", t["tcId"]),
                _ => {}
            }
            run += 1;
        }
    }
    run
}

#[allow(dead_code)]
pub fn run_all() -> Summary {
    let (wycheproof_sign, wycheproof_sign_skipped_internal) = wycheproof_sign();
    Summary {
        keygen: keygen(),
        sigver: sigver(),
        wycheproof_sign,
        wycheproof_sign_skipped_internal,
        wycheproof_verify: wycheproof_verify(),
    }
}
