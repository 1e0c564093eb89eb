//! The light-client verifier through its JavaScript entry points
//! (`verifyCheckpoint`, `TrustAnchor`, `VerifiedCheckpoint`,
//! `verifyAccountProof`, `verifyTransactionProof`) on the vectors of
//! `protocol/tests/vectors/light.json`, with values built by `JSON.parse` as
//! a page would get them. Included by `browser.rs` and `node.rs`.

use js_sys::JSON;
use ruv_client::verify::{self, TrustAnchor};
use ruv_protocol::api::codes::VERIFICATION_FAILED;
use serde_json::{json, Value};
use wasm_bindgen::{JsCast, JsValue};

/// A JSON value as JavaScript builds it.
fn js(value: &Value) -> JsValue {
    JSON::parse(&value.to_string()).expect("JSON.parse")
}

/// A JavaScript value back as JSON.
fn json_of(value: &JsValue) -> Value {
    let text = JSON::stringify(value).expect("JSON.stringify");
    serde_json::from_str(&text.as_string().expect("a string")).expect("JSON")
}

/// The message of a thrown `verification_failed` error.
fn failure<T>(result: Result<T, JsValue>) -> String {
    let Err(error) = result else {
        panic!("the call should throw");
    };
    let error: js_sys::Error = error.dyn_into().expect("a JS Error");
    let code = js_sys::Reflect::get(&error, &"code".into()).expect("code");
    assert_eq!(code.as_string().as_deref(), Some(VERIFICATION_FAILED));
    assert_eq!(String::from(error.name()), "RuvError");
    error.message().into()
}

fn with(value: &Value, path: &[&str], new: Value) -> Value {
    let mut out = value.clone();
    let mut at = &mut out;
    for key in path {
        at = &mut at[*key];
    }
    *at = new;
    out
}

/// Runs the happy path and the failures; panics on the first surprise.
pub fn check(fixture: &str) {
    let doc: Value = serde_json::from_str(fixture).expect("light.json");
    let genesis = JsValue::from_str(doc["genesis"].as_str().expect("genesis text"));
    let certified = &doc["checkpoint"];
    let header = &certified["header"];

    // verifyCheckpoint(genesisJson, certified) and its getters.
    let checkpoint = verify::verify_checkpoint(genesis.clone(), js(certified))
        .unwrap_or_else(|e| panic!("the vectors' checkpoint: {e:?}"));
    assert_eq!(checkpoint.number(), "1");
    assert_eq!(checkpoint.header_id(), certified["header_id"]);
    assert_eq!(checkpoint.state_root(), header["state_root"]);
    assert_eq!(checkpoint.transaction_root(), header["transaction_root"]);
    assert_eq!(checkpoint.transaction_count(), header["transaction_count"]);
    assert_eq!(checkpoint.transaction_count(), "3");
    assert_eq!(checkpoint.time_ms(), header["time_ms"]);
    assert_eq!(checkpoint.circulating(), header["circulating"]);
    assert_eq!(checkpoint.burned(), header["burned"]);
    assert_eq!(checkpoint.chain_id(), "ruv-vectors");
    assert_eq!(checkpoint.genesis_hash(), header["genesis_hash"]);
    assert_eq!(json_of(&checkpoint.to_json().expect("toJSON")), *header);

    // new TrustAnchor(genesisJson).verifyCheckpoint(certified).
    let anchor = TrustAnchor::new(genesis.clone()).expect("anchor");
    assert_eq!(anchor.genesis_hash(), header["genesis_hash"]);
    assert_eq!(anchor.chain_id(), "ruv-vectors");
    let again = anchor.verify_checkpoint(js(certified)).expect("verifies");
    assert_eq!(again.header_id(), checkpoint.header_id());

    // Proofs.
    let present = &doc["account_present"];
    let account = verify::verify_account_proof(&checkpoint, js(present)).expect("account");
    assert_eq!(
        json_of(&account),
        json!({
            "address": present["address"],
            "balance": present["balance"],
            "nonce": present["nonce"],
            "checkpoint": "1",
        })
    );
    let absent = &doc["account_absent"];
    let account = verify::verify_account_proof(&checkpoint, js(absent)).expect("absent");
    assert_eq!(
        json_of(&account),
        json!({"address": absent["address"], "balance": "0", "nonce": "0", "checkpoint": "1"})
    );
    let tx = &doc["transaction"];
    let included = verify::verify_transaction_proof(&checkpoint, js(tx)).expect("included");
    assert_eq!(
        json_of(&included),
        json!({"id": tx["id"], "from": tx["from"], "nonce": tx["nonce"], "checkpoint": "1"})
    );

    // A tampered balance.
    let balance: u64 = present["balance"].as_str().unwrap().parse().unwrap();
    let lie = with(present, &["balance"], json!((balance + 1).to_string()));
    let message = failure(verify::verify_account_proof(&checkpoint, js(&lie)));
    assert_eq!(message, "proof: the balance or nonce is not the proven one");
    // A balance claimed for an absent account, a tampered nonce in an inclusion proof.
    let lie = with(absent, &["balance"], json!("1"));
    assert!(failure(verify::verify_account_proof(&checkpoint, js(&lie))).starts_with("proof: "));
    let nonce: u64 = tx["nonce"].as_str().unwrap().parse().unwrap();
    let lie = with(tx, &["nonce"], json!((nonce + 1).to_string()));
    let message = failure(verify::verify_transaction_proof(&checkpoint, js(&lie)));
    assert_eq!(message, "proof: the sender or nonce is not the proven one");

    // Certificates: a signer dropped, a signature changed, another network.
    let mut fewer = certified.clone();
    fewer["signers"].as_array_mut().unwrap().pop();
    fewer["signatures"].as_array_mut().unwrap().pop();
    let message = failure(anchor.verify_checkpoint(js(&fewer)));
    assert!(
        message.starts_with("certificate: signers hold 2 of 4"),
        "{message}"
    );
    let signature = certified["signatures"][1].as_str().unwrap();
    let changed = if signature.starts_with('A') { "B" } else { "A" }.to_owned() + &signature[1..];
    let bad = with(certified, &["signatures"], {
        let mut all = certified["signatures"].clone();
        all[1] = json!(changed);
        all
    });
    let message = failure(anchor.verify_checkpoint(js(&bad)));
    assert_eq!(
        message,
        "certificate: signature of validator 1 does not verify"
    );
    let mut other: Value = serde_json::from_str(doc["genesis"].as_str().unwrap()).unwrap();
    other["chain_id"] = json!("ruv-other");
    let message = failure(verify::verify_checkpoint(
        JsValue::from_str(&other.to_string()),
        js(certified),
    ));
    assert_eq!(
        message,
        "checkpoint: the checkpoint is for another chain id"
    );

    // Shapes: an extra field, a u64 as a number, nothing at all.
    let extra = with(certified, &["extra"], json!(1));
    let message = failure(anchor.verify_checkpoint(js(&extra)));
    assert!(
        message.starts_with("malformed certified checkpoint: "),
        "{message}"
    );
    let number = with(certified, &["header", "number"], json!(1));
    assert!(failure(anchor.verify_checkpoint(js(&number))).starts_with("malformed"));
    let message = failure(verify::verify_account_proof(
        &checkpoint,
        JsValue::UNDEFINED,
    ));
    assert!(
        message.starts_with("malformed account proof: "),
        "{message}"
    );
    let message = failure(verify::verify_transaction_proof(&checkpoint, js(present)));
    assert!(
        message.starts_with("malformed transaction proof: "),
        "{message}"
    );

    // An unusable genesis: bad JSON, not a string.
    let message = failure(TrustAnchor::new(JsValue::from_str("{")));
    assert!(message.starts_with("trust anchor: "), "{message}");
    let message = failure(verify::verify_checkpoint(js(&other), js(certified)));
    assert!(message.starts_with("trust anchor: "), "{message}");
}
