//! Errors that reach JavaScript: every one is a JS `Error` with a stable
//! `code` property (the same codes the relay API uses where they overlap).

use wasm_bindgen::JsValue;

/// An error with a stable code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ClientError {
    /// Stable machine-readable code, e.g. `invalid_address`.
    pub code: String,
    /// Human-readable explanation.
    pub message: String,
}

impl ClientError {
    /// An error with `code` and `message`.
    pub fn new(code: &str, message: impl Into<String>) -> Self {
        Self {
            code: code.to_owned(),
            message: message.into(),
        }
    }
}

impl From<ruv_protocol::api::ApiError> for ClientError {
    fn from(e: ruv_protocol::api::ApiError) -> Self {
        Self {
            code: e.code,
            message: e.message,
        }
    }
}

/// A light-client verification failure: `verification_failed`, with the
/// reason as the message.
impl From<ruv_protocol::light::VerifyError> for ClientError {
    fn from(e: ruv_protocol::light::VerifyError) -> Self {
        Self::new(codes::VERIFICATION_FAILED, e.to_string())
    }
}

impl From<ClientError> for JsValue {
    fn from(e: ClientError) -> Self {
        let error = js_sys::Error::new(&e.message);
        error.set_name("RuvError");
        // Setting a property on a fresh Error object cannot fail.
        let _ = js_sys::Reflect::set(&error, &"code".into(), &e.code.into());
        error.into()
    }
}

/// Client-side error codes (relay codes pass through unchanged).
pub mod codes {
    /// A seed or key is the wrong length.
    pub const INVALID_SEED: &str = "invalid_seed";
    /// An address failed bech32m / hrp / length checks.
    pub const INVALID_ADDRESS: &str = "invalid_address";
    /// Transfer parameters are missing or malformed.
    pub const INVALID_PARAMS: &str = "invalid_params";
    /// A transaction could not be decoded.
    pub const INVALID_TRANSACTION: &str = "invalid_transaction";
    /// Signing failed.
    pub const SIGNING_FAILED: &str = "signing_failed";
    /// The browser's random source failed.
    pub const RANDOMNESS_UNAVAILABLE: &str = "randomness_unavailable";
    /// The relay connection failed or closed.
    pub const CONNECTION: &str = "connection";
    /// The relay sent something that does not parse or does not match.
    pub const BAD_RELAY_RESPONSE: &str = "bad_relay_response";
    /// A request got no answer in time.
    pub const TIMEOUT: &str = "timeout";
    /// A relay's checkpoint or proof failed light-client verification (or
    /// the trust anchor is unusable). The protocol's code, re-exported.
    pub use ruv_protocol::api::codes::VERIFICATION_FAILED;
}

/// Fresh random bytes from `crypto.getRandomValues`.
pub fn random_bytes<const N: usize>() -> Result<[u8; N], ClientError> {
    let mut out = [0u8; N];
    getrandom::getrandom(&mut out)
        .map_err(|e| ClientError::new(codes::RANDOMNESS_UNAVAILABLE, e.to_string()))?;
    Ok(out)
}
