//! Light-client verification for JavaScript: believe a relay only what a
//! supermajority of the genesis validators signed.
//!
//! ```ts
//! const anchor = new TrustAnchor(genesisJson);                  // the wallet's own genesis file
//! const checkpoint = anchor.verifyCheckpoint(certified);         // a relay's CertifiedCheckpoint
//! const account = verifyAccountProof(checkpoint, accountProof);  // { address, balance, nonce, checkpoint }
//! const included = verifyTransactionProof(checkpoint, txProof);  // { id, from, nonce, checkpoint }
//! ```
//!
//! A thin layer over [`ruv_protocol::light`]: relay answers are plain JS
//! objects of the API's JSON shapes, read through `JSON.stringify` and
//! `serde_json` into the protocol's types (which refuse unknown fields), so
//! a field a relay adds or misspells is a failure, never ignored. Every
//! failure — a malformed answer, another network's checkpoint, a bad or
//! missing signature, a proof that does not reach the root, an unusable
//! genesis — throws a `RuvError` with code `verification_failed`
//! ([`ruv_protocol::api::codes::VERIFICATION_FAILED`]) and a message that
//! says why. u64 values are decimal strings, as everywhere in this package.

use crate::error::ClientError;
use ruv_protocol::api::codes::VERIFICATION_FAILED;
use ruv_protocol::checkpoint::{CertifiedCheckpoint, Hash32};
use ruv_protocol::light::{
    self, AccountProof, TransactionProof, VerifiedAccount, VerifiedInclusion, VerifyError,
};
use serde::de::DeserializeOwned;
use wasm_bindgen::prelude::*;

/// Parses one relay answer (JSON text) into a protocol type; a wrong shape
/// is a `verification_failed` naming `what`.
pub fn parse_answer<T: DeserializeOwned>(what: &str, text: &str) -> Result<T, ClientError> {
    serde_json::from_str(text)
        .map_err(|e| ClientError::new(VERIFICATION_FAILED, format!("malformed {what}: {e}")))
}

/// The JSON text of a JS value (through `JSON.stringify`).
fn json_of(value: &JsValue, what: &str) -> Result<String, ClientError> {
    let malformed =
        |why: &str| ClientError::new(VERIFICATION_FAILED, format!("malformed {what}: {why}"));
    if value.is_undefined() || value.is_null() {
        return Err(malformed("missing"));
    }
    js_sys::JSON::stringify(value)
        .ok()
        .and_then(|text| text.as_string())
        .ok_or_else(|| malformed("not representable as JSON"))
}

/// A relay answer from JavaScript.
fn from_js<T: DeserializeOwned>(value: &JsValue, what: &str) -> Result<T, ClientError> {
    parse_answer(what, &json_of(value, what)?)
}

/// A value as a JSON-shaped JS object (u64 stay decimal strings).
fn to_js<T: serde::Serialize>(value: &T) -> Result<JsValue, ClientError> {
    let text = serde_json::to_string(value)
        .map_err(|e| ClientError::new(VERIFICATION_FAILED, e.to_string()))?;
    js_sys::JSON::parse(&text)
        .map_err(|_| ClientError::new(VERIFICATION_FAILED, "cannot convert to JavaScript"))
}

/// The genesis a wallet trusts, parsed and checked once; verifies any
/// number of checkpoints. (`verifyCheckpoint(genesisJson, certified)` does
/// the same but parses the genesis on every call.)
#[wasm_bindgen]
#[derive(Debug, Clone)]
pub struct TrustAnchor {
    inner: light::TrustAnchor,
}

impl TrustAnchor {
    /// From the genesis file's text.
    pub fn from_genesis_json(text: &str) -> Result<Self, ClientError> {
        Ok(Self {
            inner: light::TrustAnchor::from_genesis_json(text)?,
        })
    }

    /// The protocol value.
    pub fn inner(&self) -> &light::TrustAnchor {
        &self.inner
    }

    /// Checks a certified checkpoint against this anchor.
    pub fn verify(
        &self,
        certified: &CertifiedCheckpoint,
    ) -> Result<VerifiedCheckpoint, ClientError> {
        Ok(VerifiedCheckpoint {
            inner: light::verify_checkpoint(&self.inner, certified)?,
            genesis_hash: self.inner.genesis_hash(),
        })
    }
}

#[wasm_bindgen]
impl TrustAnchor {
    /// Parses and checks a genesis file (its JSON text). Throws
    /// `verification_failed` ("trust anchor: …") if it is unusable.
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(js_name = "genesisJson", unchecked_param_type = "string")]
        genesis_json: JsValue,
    ) -> Result<TrustAnchor, JsValue> {
        let Some(text) = genesis_json.as_string() else {
            return Err(ClientError::from(VerifyError::Anchor(
                "the genesis must be given as its JSON text (a string)".into(),
            ))
            .into());
        };
        Ok(Self::from_genesis_json(&text)?)
    }

    /// The network's chain id.
    #[wasm_bindgen(getter, js_name = chainId)]
    pub fn chain_id(&self) -> String {
        self.inner.genesis().chain_id.clone()
    }

    /// The genesis hash (64 hex digits): what a relay's network status must name.
    #[wasm_bindgen(getter, js_name = genesisHash)]
    pub fn genesis_hash(&self) -> String {
        self.inner.genesis_hash().to_string()
    }

    /// Checks a relay's certified checkpoint: this network, the stated id,
    /// and ML-DSA-65 signatures of validators holding more than 2/3 of the
    /// stake. Throws `verification_failed` otherwise.
    #[wasm_bindgen(js_name = verifyCheckpoint)]
    pub fn verify_checkpoint(
        &self,
        #[wasm_bindgen(unchecked_param_type = "CertifiedCheckpoint")] certified: JsValue,
    ) -> Result<VerifiedCheckpoint, JsValue> {
        let certified: CertifiedCheckpoint = from_js(&certified, "certified checkpoint")?;
        Ok(self.verify(&certified)?)
    }
}

/// A checkpoint header that a supermajority of the anchor's validators
/// signed: the only thing proofs are checked against.
#[wasm_bindgen]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedCheckpoint {
    inner: light::VerifiedCheckpoint,
    genesis_hash: Hash32,
}

impl VerifiedCheckpoint {
    /// The protocol value.
    pub fn inner(&self) -> &light::VerifiedCheckpoint {
        &self.inner
    }

    /// Checks an account proof against this checkpoint.
    pub fn verify_account(&self, proof: &AccountProof) -> Result<VerifiedAccount, ClientError> {
        Ok(light::verify_account_proof(&self.inner, proof)?)
    }

    /// Checks a transaction inclusion proof against this checkpoint.
    pub fn verify_transaction(
        &self,
        proof: &TransactionProof,
    ) -> Result<VerifiedInclusion, ClientError> {
        Ok(light::verify_transaction_proof(&self.inner, proof)?)
    }
}

#[wasm_bindgen]
impl VerifiedCheckpoint {
    /// The checkpoint number (decimal string).
    #[wasm_bindgen(getter)]
    pub fn number(&self) -> String {
        self.inner.number().to_string()
    }

    /// The header id (64 hex digits).
    #[wasm_bindgen(getter, js_name = headerId)]
    pub fn header_id(&self) -> String {
        self.inner.id().to_string()
    }

    /// Root of the account tree (64 hex digits).
    #[wasm_bindgen(getter, js_name = stateRoot)]
    pub fn state_root(&self) -> String {
        self.inner.header().state_root.to_string()
    }

    /// Root of the tree of transactions first included here (64 hex digits).
    #[wasm_bindgen(getter, js_name = transactionRoot)]
    pub fn transaction_root(&self) -> String {
        self.inner.header().transaction_root.to_string()
    }

    /// How many transactions were first included here (decimal string).
    #[wasm_bindgen(getter, js_name = transactionCount)]
    pub fn transaction_count(&self) -> String {
        self.inner.header().transaction_count.to_string()
    }

    /// When it was proposed, milliseconds since the Unix epoch (decimal
    /// string). How old is too old is the caller's policy.
    #[wasm_bindgen(getter, js_name = timeMs)]
    pub fn time_ms(&self) -> String {
        self.inner.header().time_ms.to_string()
    }

    /// Sum of all balances, micro-rUv (decimal string).
    #[wasm_bindgen(getter)]
    pub fn circulating(&self) -> String {
        self.inner.header().circulating.to_string()
    }

    /// Fees burned so far, micro-rUv (decimal string).
    #[wasm_bindgen(getter)]
    pub fn burned(&self) -> String {
        self.inner.header().burned.to_string()
    }

    /// The network's chain id.
    #[wasm_bindgen(getter, js_name = chainId)]
    pub fn chain_id(&self) -> String {
        self.inner.header().chain_id.clone()
    }

    /// The trust anchor's genesis hash (64 hex digits).
    #[wasm_bindgen(getter, js_name = genesisHash)]
    pub fn genesis_hash(&self) -> String {
        self.genesis_hash.to_string()
    }

    /// The verified header, in the API's JSON form.
    #[wasm_bindgen(js_name = toJSON, unchecked_return_type = "CheckpointHeader")]
    pub fn to_json(&self) -> Result<JsValue, JsValue> {
        Ok(to_js(self.inner.header())?)
    }
}

/// Checks a relay's certified checkpoint against a genesis file (its JSON
/// text). Parses the genesis on every call; keep a `TrustAnchor` to check
/// many. Throws `verification_failed` saying why on any defect.
#[wasm_bindgen(js_name = verifyCheckpoint)]
pub fn verify_checkpoint(
    #[wasm_bindgen(js_name = "genesisJson", unchecked_param_type = "string")] genesis_json: JsValue,
    #[wasm_bindgen(unchecked_param_type = "CertifiedCheckpoint")] certified: JsValue,
) -> Result<VerifiedCheckpoint, JsValue> {
    TrustAnchor::new(genesis_json)?.verify_checkpoint(certified)
}

/// Checks a relay's account proof against a verified checkpoint: the
/// balance and nonce are exactly what the checkpoint's state root commits
/// to (zero for an account proven absent). Throws `verification_failed`.
#[wasm_bindgen(js_name = verifyAccountProof, unchecked_return_type = "VerifiedAccount")]
pub fn verify_account_proof(
    checkpoint: &VerifiedCheckpoint,
    #[wasm_bindgen(unchecked_param_type = "AccountProof")] proof: JsValue,
) -> Result<JsValue, JsValue> {
    let proof: AccountProof = from_js(&proof, "account proof")?;
    Ok(to_js(&checkpoint.verify_account(&proof)?)?)
}

/// Checks a relay's transaction inclusion proof against a verified
/// checkpoint: the transaction (with that sender and nonce) was first
/// included in it, so it is final. Throws `verification_failed`.
#[wasm_bindgen(js_name = verifyTransactionProof, unchecked_return_type = "VerifiedInclusion")]
pub fn verify_transaction_proof(
    checkpoint: &VerifiedCheckpoint,
    #[wasm_bindgen(unchecked_param_type = "TransactionProof")] proof: JsValue,
) -> Result<JsValue, JsValue> {
    let proof: TransactionProof = from_js(&proof, "transaction proof")?;
    Ok(to_js(&checkpoint.verify_transaction(&proof)?)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    const FIXTURE: &str = include_str!("../../protocol/tests/vectors/light.json");

    fn doc() -> Value {
        serde_json::from_str(FIXTURE).unwrap()
    }

    fn anchor() -> TrustAnchor {
        TrustAnchor::from_genesis_json(doc()["genesis"].as_str().unwrap()).unwrap()
    }

    fn checkpoint() -> VerifiedCheckpoint {
        let certified: CertifiedCheckpoint =
            parse_answer("certified checkpoint", &doc()["checkpoint"].to_string()).unwrap();
        anchor().verify(&certified).unwrap()
    }

    #[test]
    fn the_vectors_verify() {
        let c = checkpoint();
        let d = doc();
        assert_eq!(c.number(), "1");
        assert_eq!(c.header_id(), d["checkpoint"]["header_id"]);
        assert_eq!(c.genesis_hash(), d["checkpoint"]["header"]["genesis_hash"]);
        assert_eq!(c.genesis_hash(), anchor().genesis_hash());
        assert_eq!(c.chain_id(), "ruv-vectors");
        for (getter, field) in [
            (c.state_root(), "state_root"),
            (c.transaction_root(), "transaction_root"),
            (c.transaction_count(), "transaction_count"),
            (c.time_ms(), "time_ms"),
            (c.circulating(), "circulating"),
            (c.burned(), "burned"),
        ] {
            assert_eq!(getter, d["checkpoint"]["header"][field], "{field}");
        }
        let proof: AccountProof =
            parse_answer("account proof", &d["account_present"].to_string()).unwrap();
        let account = c.verify_account(&proof).unwrap();
        assert_eq!(account.balance, proof.balance);
        let proof: TransactionProof =
            parse_answer("transaction proof", &d["transaction"].to_string()).unwrap();
        assert_eq!(c.verify_transaction(&proof).unwrap().id, proof.id);
    }

    #[test]
    fn every_failure_is_verification_failed_saying_why() {
        let d = doc();
        let e = TrustAnchor::from_genesis_json("{").unwrap_err();
        assert_eq!(e.code, VERIFICATION_FAILED);
        assert!(e.message.starts_with("trust anchor: "), "{}", e.message);

        let mut extra = d["checkpoint"].clone();
        extra["extra"] = Value::Bool(true);
        let e = parse_answer::<CertifiedCheckpoint>("certified checkpoint", &extra.to_string())
            .unwrap_err();
        assert_eq!(e.code, VERIFICATION_FAILED);
        assert!(
            e.message.starts_with("malformed certified checkpoint: "),
            "{}",
            e.message
        );

        let mut proof: AccountProof =
            parse_answer("account proof", &d["account_present"].to_string()).unwrap();
        proof.balance += 1;
        let e = checkpoint().verify_account(&proof).unwrap_err();
        assert_eq!(e.code, VERIFICATION_FAILED);
        assert_eq!(
            e.message,
            "proof: the balance or nonce is not the proven one"
        );

        let mut certified: CertifiedCheckpoint =
            parse_answer("certified checkpoint", &d["checkpoint"].to_string()).unwrap();
        certified.signers.pop();
        certified.signatures.pop();
        let e = anchor().verify(&certified).unwrap_err();
        assert_eq!(e.code, VERIFICATION_FAILED);
        assert!(
            e.message.starts_with("certificate: signers hold 2 of 4"),
            "{}",
            e.message
        );
    }
}
