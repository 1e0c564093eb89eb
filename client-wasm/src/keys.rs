//! Keys and signed transactions as JavaScript classes.

use crate::error::{codes, ClientError};
use crate::transfer::{self, TransferParams};
use ruv_protocol::address::Address;
use ruv_protocol::crypto::{PublicKey, Signature, SigningKey, SEED_LEN};
use ruv_protocol::tx::SignedTransfer;
use wasm_bindgen::prelude::*;

/// An ML-DSA-65 key pair held inside wasm memory (wiped when freed).
/// The secret never crosses into JavaScript.
#[wasm_bindgen]
pub struct Keypair {
    key: SigningKey,
}

#[wasm_bindgen]
impl Keypair {
    /// A new key from 32 bytes of `crypto.getRandomValues`.
    pub fn generate() -> Result<Keypair, JsValue> {
        let mut seed = zeroize::Zeroizing::new(crate::error::random_bytes::<SEED_LEN>()?);
        let key = SigningKey::from_seed(&seed);
        zeroize::Zeroize::zeroize(&mut *seed);
        Ok(Keypair { key })
    }

    /// The key derived from a 32-byte seed (FIPS 204 key generation).
    #[wasm_bindgen(js_name = fromSeed)]
    pub fn from_seed(seed: &[u8]) -> Result<Keypair, JsValue> {
        let seed: &[u8; SEED_LEN] = seed.try_into().map_err(|_| {
            ClientError::new(
                codes::INVALID_SEED,
                format!("seed must be {SEED_LEN} bytes, got {}", seed.len()),
            )
        })?;
        Ok(Keypair {
            key: SigningKey::from_seed(seed),
        })
    }

    /// The account address (bech32m, `ruv1…`).
    #[wasm_bindgen(getter)]
    pub fn address(&self) -> String {
        Address::from_public_key(self.key.public_key()).to_string()
    }

    /// The 1952-byte ML-DSA-65 public key.
    #[wasm_bindgen(js_name = publicKey)]
    pub fn public_key(&self) -> Vec<u8> {
        self.key.public_key().as_bytes().to_vec()
    }

    /// Builds and signs a transfer from this account.
    #[wasm_bindgen(js_name = signTransfer)]
    pub fn sign_transfer(
        &self,
        #[wasm_bindgen(unchecked_param_type = "TransferParams")] params: JsValue,
    ) -> Result<SignedTransaction, JsValue> {
        let params: TransferParams = serde_wasm_bindgen::from_value(params)
            .map_err(|e| ClientError::new(codes::INVALID_PARAMS, e.to_string()))?;
        Ok(SignedTransaction {
            inner: transfer::sign_transfer(&self.key, params)?,
        })
    }

    /// Signs arbitrary bytes under a FIPS 204 context string (hedged, fresh randomness).
    #[wasm_bindgen(js_name = signMessage)]
    pub fn sign_message(&self, message: &[u8], context: &[u8]) -> Result<Vec<u8>, JsValue> {
        let sig = self
            .key
            .sign(message, context, crate::error::random_bytes()?)
            .map_err(|e| ClientError::new(codes::SIGNING_FAILED, e.to_string()))?;
        Ok(sig.as_bytes().to_vec())
    }
}

impl Keypair {
    /// The signing key (for Rust callers in this crate, such as the vault).
    pub fn signing_key(&self) -> &SigningKey {
        &self.key
    }

    /// Wraps a signing key.
    pub fn from_signing_key(key: SigningKey) -> Self {
        Self { key }
    }
}

/// Verifies an ML-DSA-65 signature. Returns false for any malformed input.
#[wasm_bindgen(js_name = verifySignature)]
pub fn verify_signature(
    public_key: &[u8],
    message: &[u8],
    context: &[u8],
    signature: &[u8],
) -> bool {
    let (Ok(pk), Ok(sig)) = (
        PublicKey::from_bytes(public_key),
        Signature::from_bytes(signature),
    ) else {
        return false;
    };
    pk.verify(message, context, &sig).is_ok()
}

/// The address of a 1952-byte public key.
#[wasm_bindgen(js_name = addressOfPublicKey)]
pub fn address_of_public_key(public_key: &[u8]) -> Result<String, JsValue> {
    let pk = PublicKey::from_bytes(public_key)
        .map_err(|e| ClientError::new(codes::INVALID_PARAMS, e.to_string()))?;
    Ok(Address::from_public_key(&pk).to_string())
}

/// Checks an address; throws a `RuvError` with code `invalid_address` saying why.
#[wasm_bindgen(js_name = validateAddress)]
pub fn validate_address(address: &str) -> Result<(), JsValue> {
    transfer::parse_address(address)?;
    Ok(())
}

/// A signed transfer, ready to submit.
#[wasm_bindgen]
#[derive(Clone)]
pub struct SignedTransaction {
    pub(crate) inner: SignedTransfer,
}

#[wasm_bindgen]
impl SignedTransaction {
    /// Transaction id: 64 hex digits (BLAKE3 of the signed encoding).
    #[wasm_bindgen(getter)]
    pub fn id(&self) -> String {
        self.inner.id().to_string()
    }

    /// The JSON form the relay API takes.
    #[wasm_bindgen(js_name = toJSON, unchecked_return_type = "SignedTransferJson")]
    pub fn to_json(&self) -> Result<JsValue, JsValue> {
        let text = serde_json::to_string(&self.inner)
            .map_err(|e| ClientError::new(codes::INVALID_TRANSACTION, e.to_string()))?;
        js_sys::JSON::parse(&text)
    }

    /// The canonical binary encoding.
    #[wasm_bindgen(js_name = toBytes)]
    pub fn to_bytes(&self) -> Vec<u8> {
        self.inner.to_bytes()
    }

    /// Decodes the canonical binary encoding.
    #[wasm_bindgen(js_name = fromBytes)]
    pub fn from_bytes(bytes: &[u8]) -> Result<SignedTransaction, JsValue> {
        let inner = SignedTransfer::from_bytes(bytes)
            .map_err(|e| ClientError::new(codes::INVALID_TRANSACTION, e.to_string()))?;
        Ok(SignedTransaction { inner })
    }

    /// Whether the signature verifies against the embedded public key.
    #[wasm_bindgen(js_name = verifySignature)]
    pub fn verify_signature(&self) -> bool {
        self.inner.verify_signature().is_ok()
    }
}

impl SignedTransaction {
    /// The protocol value.
    pub fn inner(&self) -> &SignedTransfer {
        &self.inner
    }

    /// Wraps a protocol value.
    pub fn from_inner(inner: SignedTransfer) -> Self {
        Self { inner }
    }
}
