//! Building and signing transfers, and the parameter shapes JavaScript passes.

use crate::error::{codes, ClientError};
use ruv_protocol::address::Address;
use ruv_protocol::crypto::SigningKey;
use ruv_protocol::tx::{SignedTransfer, Transfer, MAX_MEMO_LEN};
use serde::{Deserialize, Deserializer};

/// A u64 from JavaScript: a decimal string, a safe integer number, or a BigInt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct U64Input(pub u64);

impl<'de> Deserialize<'de> for U64Input {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Int(u64),
            Float(f64),
            Text(String),
        }
        match Raw::deserialize(d)? {
            Raw::Int(v) => Ok(U64Input(v)),
            Raw::Float(f) if f >= 0.0 && f.fract() == 0.0 && f <= 9_007_199_254_740_991.0 => {
                Ok(U64Input(f as u64))
            }
            Raw::Float(_) => Err(D::Error::custom(
                "expected a non-negative safe integer; use a string or BigInt for large values",
            )),
            Raw::Text(t) => ruv_protocol::serde_bytes::u64_string::parse(&t)
                .map(U64Input)
                .map_err(D::Error::custom),
        }
    }
}

/// What a JavaScript caller passes to sign a transfer (camelCase).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TransferParams {
    /// Network id (from the relay's network status).
    pub chain_id: String,
    /// Recipient address (bech32m).
    pub to: String,
    /// Amount in micro-rUv.
    pub amount: U64Input,
    /// Fee in micro-rUv.
    pub fee: U64Input,
    /// The sender's next nonce (account nonce + 1).
    pub nonce: U64Input,
    /// Optional memo, at most 128 bytes of UTF-8.
    #[serde(default)]
    pub memo: Option<String>,
}

/// Parses an address into a typed client error.
pub fn parse_address(text: &str) -> Result<Address, ClientError> {
    text.parse().map_err(|e: ruv_protocol::AddressError| {
        ClientError::new(codes::INVALID_ADDRESS, e.to_string())
    })
}

/// Builds and signs a transfer from `key` with fresh hedged-signing randomness.
pub fn sign_transfer(
    key: &SigningKey,
    params: TransferParams,
) -> Result<SignedTransfer, ClientError> {
    let to = parse_address(&params.to)?;
    ruv_protocol::tx::validate_chain_id(&params.chain_id)
        .map_err(|e| ClientError::new(codes::INVALID_PARAMS, e.to_string()))?;
    let memo = params.memo.unwrap_or_default();
    if memo.len() > MAX_MEMO_LEN {
        return Err(ClientError::new(
            codes::INVALID_PARAMS,
            format!("memo is {} bytes, limit is {MAX_MEMO_LEN}", memo.len()),
        ));
    }
    let transfer = Transfer {
        chain_id: params.chain_id,
        from: Address::from_public_key(key.public_key()),
        to,
        amount: params.amount.0,
        fee: params.fee.0,
        nonce: params.nonce.0,
        memo,
        public_key: key.public_key().clone(),
    };
    transfer
        .sign(key, crate::error::random_bytes()?)
        .map_err(|e| ClientError::new(codes::SIGNING_FAILED, e.to_string()))
}
