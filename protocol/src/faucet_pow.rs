//! The devnet faucet's proof of work, shared by the relay (which checks it)
//! and every client (which solves it): BLAKE3 over a domain tag, the relay's
//! challenge, the address to pay and the client's nonce must start with at
//! least `difficulty_bits` zero bits. Binding the address means a solution
//! pays exactly one address.

use crate::checkpoint::Hash32;
use crate::Address;

/// Domain tag that starts every hashed proof.
pub const DOMAIN: &[u8] = b"ruv/faucet-pow/v1";
/// Highest difficulty a relay may ask for (a client gives up above it).
pub const MAX_DIFFICULTY_BITS: u8 = 32;
/// A solver tries at most `2^(bits + SOLVE_HEADROOM_BITS)` nonces: 16 times
/// the expected work, so an honest solver essentially never gives up.
pub const SOLVE_HEADROOM_BITS: u8 = 4;

/// The hash a proof is judged by.
pub fn proof_hash(challenge: &Hash32, address: &Address, nonce: u64) -> [u8; 32] {
    let mut hasher = blake3::Hasher::new();
    hasher.update(DOMAIN);
    hasher.update(&challenge.0);
    hasher.update(address.as_bytes());
    hasher.update(&nonce.to_le_bytes());
    *hasher.finalize().as_bytes()
}

/// Leading zero bits of `hash`.
pub fn leading_zero_bits(hash: &[u8; 32]) -> u32 {
    let mut bits = 0;
    for byte in hash {
        bits += byte.leading_zeros();
        if *byte != 0 {
            break;
        }
    }
    bits
}

/// Whether `nonce` solves `challenge` for `address` at `difficulty_bits`.
pub fn is_solution(challenge: &Hash32, address: &Address, nonce: u64, difficulty_bits: u8) -> bool {
    leading_zero_bits(&proof_hash(challenge, address, nonce)) >= u32::from(difficulty_bits)
}

/// Why no nonce was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SolveError {
    /// The relay asks for more work than a client will do.
    #[error(
        "the faucet asks for {0} bits of proof of work; at most {MAX_DIFFICULTY_BITS} are solved"
    )]
    TooHard(u8),
    /// Every nonce the bounded search tried failed.
    #[error("no proof of work found in {0} tries")]
    GaveUp(u64),
}

/// Finds a nonce for `challenge` and `address`, trying at most
/// `2^(difficulty_bits + SOLVE_HEADROOM_BITS)` nonces.
pub fn solve(
    challenge: &Hash32,
    address: &Address,
    difficulty_bits: u8,
) -> Result<u64, SolveError> {
    if difficulty_bits > MAX_DIFFICULTY_BITS {
        return Err(SolveError::TooHard(difficulty_bits));
    }
    let tries = 1u64 << (difficulty_bits + SOLVE_HEADROOM_BITS);
    (0..tries)
        .find(|nonce| is_solution(challenge, address, *nonce, difficulty_bits))
        .ok_or(SolveError::GaveUp(tries))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn address(n: u8) -> Address {
        Address::from_bytes([n; 32])
    }

    #[test]
    fn counts_leading_zero_bits() {
        let mut hash = [0u8; 32];
        assert_eq!(leading_zero_bits(&hash), 256);
        hash[1] = 0b0001_0000;
        assert_eq!(leading_zero_bits(&hash), 11);
        hash[0] = 0x80;
        assert_eq!(leading_zero_bits(&hash), 0);
    }

    #[test]
    fn a_solution_meets_its_bits_and_binds_the_address() {
        let challenge = Hash32([7; 32]);
        let nonce = solve(&challenge, &address(1), 12).unwrap();
        assert!(is_solution(&challenge, &address(1), nonce, 12));
        assert!(leading_zero_bits(&proof_hash(&challenge, &address(1), nonce)) >= 12);
        // Another address or challenge needs its own work (1 in 4096 chance each to pass anyway: fixed inputs, checked once).
        assert!(!is_solution(&challenge, &address(2), nonce, 12));
        assert!(!is_solution(&Hash32([8; 32]), &address(1), nonce, 12));
    }

    #[test]
    fn the_solver_is_bounded() {
        assert_eq!(
            solve(&Hash32([0; 32]), &address(1), MAX_DIFFICULTY_BITS + 1),
            Err(SolveError::TooHard(MAX_DIFFICULTY_BITS + 1))
        );
        assert_eq!(solve(&Hash32([0; 32]), &address(1), 0), Ok(0));
    }
}
