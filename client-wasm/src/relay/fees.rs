//! Fees: the exact minimum a transfer must pay, computed locally from the
//! fee schedule (a wallet's genesis, or a relay's network status).

use crate::error::{codes, ClientError};
use ruv_protocol::tx::{validate_chain_id, MAX_MEMO_LEN, SIGNED_TRANSFER_FIXED_LEN};
use ruv_protocol::FeeSchedule;
use wasm_bindgen::prelude::*;

/// Size in bytes of a signed transfer for `chain_id` with `memo`.
pub fn transfer_size(chain_id: &str, memo: &str) -> usize {
    SIGNED_TRANSFER_FIXED_LEN + chain_id.len() + memo.len()
}

/// The minimum fee of a transfer for `chain_id` with `memo` under `fees`.
pub fn minimum_transfer_fee(
    fees: &FeeSchedule,
    chain_id: &str,
    memo: &str,
) -> Result<u64, ClientError> {
    validate_chain_id(chain_id)
        .map_err(|e| ClientError::new(codes::INVALID_PARAMS, e.to_string()))?;
    if memo.len() > MAX_MEMO_LEN {
        return Err(ClientError::new(
            codes::INVALID_PARAMS,
            format!("memo is {} bytes, limit is {MAX_MEMO_LEN}", memo.len()),
        ));
    }
    fees.minimum_fee(transfer_size(chain_id, memo))
        .ok_or_else(|| {
            ClientError::new(codes::INVALID_PARAMS, "the fee schedule overflows 64 bits")
        })
}

/// What the fee of a transfer depends on: a `NetworkStatus` or a genesis
/// file both have these fields (a wallet takes them from its genesis).
#[derive(serde::Deserialize)]
struct FeeContext {
    chain_id: String,
    fees: ruv_protocol::FeeSchedule,
}

/// The minimum fee, in micro-rUv as a decimal string, of a transfer with
/// `memo` (default empty) on the network `status` describes (a
/// `NetworkStatus`, or a parsed genesis file: only `chain_id` and `fees` are read).
#[wasm_bindgen(js_name = minimumFee)]
pub fn minimum_fee_js(
    #[wasm_bindgen(unchecked_param_type = "{ chain_id: string; fees: FeeSchedule }")]
    status: JsValue,
    memo: Option<String>,
) -> Result<String, JsValue> {
    let status: FeeContext = serde_wasm_bindgen::from_value(status)
        .map_err(|e| ClientError::new(codes::INVALID_PARAMS, format!("network status: {e}")))?;
    let fee = minimum_transfer_fee(
        &status.fees,
        &status.chain_id,
        memo.as_deref().unwrap_or(""),
    )?;
    Ok(fee.to_string())
}

/// Size in bytes of a signed transfer for `chainId` with `memo` (default
/// empty): what the per-byte fee is charged on.
#[wasm_bindgen(js_name = transferSize)]
pub fn transfer_size_js(
    #[wasm_bindgen(js_name = "chainId")] chain_id: &str,
    memo: Option<String>,
) -> usize {
    transfer_size(chain_id, memo.as_deref().unwrap_or(""))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ruv_protocol::crypto::SigningKey;
    use ruv_protocol::{Address, Transfer};

    #[test]
    fn size_matches_a_real_signed_transfer() {
        let key = SigningKey::from_seed(&[3; 32]);
        for (chain, memo) in [
            ("ruv-devnet", ""),
            ("x", "héllo"),
            ("ruv-mainnet-2", "a memo"),
        ] {
            let tx = Transfer {
                chain_id: chain.into(),
                from: Address::from_public_key(key.public_key()),
                to: Address::from_bytes([1; 32]),
                amount: 1,
                fee: 1,
                nonce: 1,
                memo: memo.into(),
                public_key: key.public_key().clone(),
            }
            .sign(&key, [0; 32])
            .unwrap();
            assert_eq!(
                tx.to_bytes().len(),
                transfer_size(chain, memo),
                "{chain} {memo}"
            );
        }
    }

    #[test]
    fn minimum_fee_is_base_plus_per_byte_times_size() {
        let fees = FeeSchedule {
            base: 1_000,
            per_byte: 2,
            burn_percent: 50,
        };
        let size = transfer_size("ruv-devnet", "hi") as u64;
        assert_eq!(
            minimum_transfer_fee(&fees, "ruv-devnet", "hi").unwrap(),
            1_000 + 2 * size
        );
        assert!(minimum_transfer_fee(&fees, "BAD", "").is_err());
        assert!(minimum_transfer_fee(&fees, "ruv-devnet", &"m".repeat(MAX_MEMO_LEN + 1)).is_err());
        let huge = FeeSchedule {
            base: u64::MAX,
            per_byte: 1,
            burn_percent: 0,
        };
        assert!(minimum_transfer_fee(&huge, "ruv-devnet", "").is_err());
    }
}
