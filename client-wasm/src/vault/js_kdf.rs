//! Argon2 across the JavaScript boundary, both ends:
//! - [`JsKdf`], the `Vault` class's [`KeyDeriver`]: the `deriveKey`
//!   function given in the vault options (the wallet's Web Worker), or
//!   this thread when there is none (Node, or code already in a worker);
//! - [`derive_vault_key`] (`deriveVaultKey` in JavaScript), what that
//!   worker calls in its own instance of this module.
//!
//! The password crosses as NFKC-normalized bytes in a `Uint8Array` the
//! caller may transfer (so no copy stays behind); the result is the 32-byte
//! Argon2id output. Every copy this code makes is wiped after use; the
//! worker's own memory goes when the worker is terminated.

use super::codes;
use super::deriver::{InThreadKdf, KeyDeriver};
use super::kdf::{self, Argon2Output, KdfParams, KeyRequest, ARGON2_OUTPUT_LEN, SALT_LEN};
use crate::error::ClientError;
use js_sys::{Function, Object, Promise, Reflect, Uint8Array};
use serde::Serialize;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use zeroize::Zeroizing;

#[wasm_bindgen(typescript_custom_section)]
const KDF_TS_TYPES: &'static str = r#"
/**
 * What a vault asks its `deriveKey` function for: Argon2id of `password`
 * (NFKC-normalized UTF-8; transfer it to the worker, do not keep it) under
 * `salt` (32 bytes) and `params`. Answer with `deriveVaultKey(password,
 * salt, params)` computed elsewhere (a Web Worker): the 32-byte output.
 */
export interface KeyDerivationRequest { password: Uint8Array; salt: Uint8Array; params: KdfParams }

/** Runs Argon2id for a vault (in a Web Worker): resolves to `deriveVaultKey`'s 32 bytes. */
export type DeriveKey = (request: KeyDerivationRequest) => Promise<Uint8Array>;
"#;

/// Who runs Argon2 for a `Vault` made from JavaScript.
#[derive(Debug, Clone, Default)]
pub enum JsKdf {
    /// On the calling thread (no `deriveKey` option).
    #[default]
    InThread,
    /// The `deriveKey` function of the vault options.
    Function(Function),
}

fn kdf_failed(message: impl Into<String>) -> ClientError {
    ClientError::new(codes::KDF_FAILED, message)
}

/// The `code` and message of what a `deriveKey` promise rejected with
/// (`kdf_failed` when it carries no code).
fn error_from_js(error: &JsValue) -> ClientError {
    let text = |key: &str| {
        Reflect::get(error, &key.into())
            .ok()
            .and_then(|v| v.as_string())
    };
    let code = text("code").unwrap_or_else(|| codes::KDF_FAILED.to_owned());
    let message = text("message")
        .or_else(|| error.as_string())
        .unwrap_or_else(|| "key derivation failed".to_owned());
    ClientError::new(&code, format!("key derivation: {message}"))
}

impl JsKdf {
    async fn call(
        function: &Function,
        password: &[u8],
        request: &KeyRequest,
    ) -> Result<Argon2Output, ClientError> {
        let password_js = Uint8Array::from(password);
        let message = Object::new();
        let params = request
            .params
            .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
            .map_err(|e| kdf_failed(e.to_string()))?;
        for (key, value) in [
            ("password", JsValue::from(password_js.clone())),
            ("salt", Uint8Array::from(&request.salt[..]).into()),
            ("params", params),
        ] {
            Reflect::set(&message, &key.into(), &value)
                .map_err(|_| kdf_failed("could not build the key derivation request"))?;
        }
        let returned = function.call1(&JsValue::NULL, &message);
        let result = match returned {
            Ok(value) => JsFuture::from(Promise::resolve(&value)).await,
            Err(e) => Err(e),
        };
        // Transferred to a worker it is detached (length 0: `fill` would
        // throw); otherwise wipe it.
        if password_js.length() > 0 {
            password_js.fill(0, 0, password_js.length());
        }
        let value = result.map_err(|e| error_from_js(&e))?;
        let bytes = value
            .dyn_into::<Uint8Array>()
            .map_err(|_| kdf_failed("deriveKey did not resolve to a Uint8Array"))?;
        let length = bytes.length();
        let mut output = Zeroizing::new([0u8; ARGON2_OUTPUT_LEN]);
        if length as usize == ARGON2_OUTPUT_LEN {
            bytes.copy_to(&mut output[..]);
        }
        bytes.fill(0, 0, length);
        if length as usize != ARGON2_OUTPUT_LEN {
            return Err(kdf_failed(format!(
                "deriveKey resolved to {length} bytes, expected {ARGON2_OUTPUT_LEN}"
            )));
        }
        Ok(output)
    }
}

impl KeyDeriver for JsKdf {
    async fn argon2id(
        &self,
        password: &[u8],
        request: &KeyRequest,
    ) -> Result<Argon2Output, ClientError> {
        match self {
            JsKdf::InThread => InThreadKdf.argon2id(password, request).await,
            JsKdf::Function(function) => Self::call(function, password, request).await,
        }
    }
}

/// Argon2id of `password` (the NFKC-normalized bytes a vault's `deriveKey`
/// request carries) under `salt` and `params`: the 32 bytes to resolve the
/// request with. What the key-derivation Web Worker runs. The wasm copy of
/// the password and of the output are wiped before this returns.
#[wasm_bindgen(js_name = deriveVaultKey)]
pub fn derive_vault_key(
    password: Vec<u8>,
    salt: &[u8],
    #[wasm_bindgen(unchecked_param_type = "KdfParams")] params: JsValue,
) -> Result<Uint8Array, JsValue> {
    let password = Zeroizing::new(password);
    let salt: [u8; SALT_LEN] = salt.try_into().map_err(|_| {
        ClientError::new(
            crate::error::codes::INVALID_PARAMS,
            format!("salt must be {SALT_LEN} bytes, got {}", salt.len()),
        )
    })?;
    let params: KdfParams = serde_wasm_bindgen::from_value(params)
        .map_err(|e| ClientError::new(codes::INVALID_KDF_PARAMS, e.to_string()))?;
    let output = kdf::argon2id(&password, &salt, &params)?;
    Ok(Uint8Array::from(&output[..]))
}
