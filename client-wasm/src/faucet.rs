//! The faucet request for the browser: solves a relay's proof-of-work
//! challenge with the shared solver ([`ruv_protocol::faucet_pow`]).

use crate::error::{codes, ClientError};
use crate::transfer::parse_address;
use ruv_protocol::api::{codes as api_codes, FaucetChallenge, FaucetProof, FaucetRequest};
use ruv_protocol::faucet_pow;
use wasm_bindgen::prelude::*;

/// The `POST /api/v1/faucet` body (JSON text) paying `address`, given the
/// JSON text of `GET /api/v1/faucet/challenge`.
pub fn solved_faucet_request(challenge_json: &str, address: &str) -> Result<String, ClientError> {
    let address = parse_address(address)?;
    let challenge: FaucetChallenge = serde_json::from_str(challenge_json)
        .map_err(|e| ClientError::new(codes::INVALID_PARAMS, format!("faucet challenge: {e}")))?;
    let nonce = faucet_pow::solve(&challenge.challenge, &address, challenge.difficulty_bits)
        .map_err(|e| ClientError::new(api_codes::FAUCET_POW_UNSOLVED, e.to_string()))?;
    let request = FaucetRequest {
        address,
        proof: Some(FaucetProof {
            challenge: challenge.challenge,
            nonce,
        }),
    };
    serde_json::to_string(&request)
        .map_err(|e| ClientError::new(codes::INVALID_PARAMS, e.to_string()))
}

/// JS: `solveFaucetChallenge(challengeJson, address)` → request body JSON.
#[wasm_bindgen(js_name = solveFaucetChallenge)]
pub fn solve_faucet_challenge(challenge_json: String, address: String) -> Result<String, JsValue> {
    Ok(solved_faucet_request(&challenge_json, &address)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ruv_protocol::Address;

    #[test]
    fn solves_for_the_address_and_refuses_bad_input() {
        let address = Address::from_bytes([3; 32]);
        let challenge = format!(
            r#"{{"challenge":"{}","difficulty_bits":6,"expires_ms":"1"}}"#,
            "ab".repeat(32)
        );
        let body: FaucetRequest =
            serde_json::from_str(&solved_faucet_request(&challenge, &address.to_string()).unwrap())
                .unwrap();
        let proof = body.proof.unwrap();
        assert_eq!(body.address, address);
        assert!(faucet_pow::is_solution(
            &proof.challenge,
            &address,
            proof.nonce,
            6
        ));
        assert_eq!(
            solved_faucet_request("{}", &address.to_string())
                .unwrap_err()
                .code,
            codes::INVALID_PARAMS
        );
        assert_eq!(
            solved_faucet_request(&challenge, "ruv1bad")
                .unwrap_err()
                .code,
            codes::INVALID_ADDRESS
        );
        let too_hard = challenge.replace(":6,", ":33,");
        assert_eq!(
            solved_faucet_request(&too_hard, &address.to_string())
                .unwrap_err()
                .code,
            api_codes::FAUCET_POW_UNSOLVED
        );
    }
}
