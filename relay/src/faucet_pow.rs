//! The faucet's challenges: handed out without remembering them (each
//! carries its expiry and a keyed BLAKE3 tag under a per-process secret),
//! checked against [`ruv_protocol::faucet_pow`], and remembered only once
//! spent, until they expire, so each pays once.

use ruv_protocol::api::{codes, ApiError, FaucetChallenge, FaucetProof};
use ruv_protocol::checkpoint::Hash32;
use ruv_protocol::{faucet_pow, Address};
use std::collections::HashMap;
use zeroize::Zeroizing;

/// Default `--faucet-pow-bits`: 16 (about 65,000 BLAKE3 hashes for the
/// asker, tens of milliseconds in a browser; see `docs/relay.md`, "Faucet").
pub const DEFAULT_FAUCET_POW_BITS: u8 = 16;
/// How long a challenge stays valid.
pub const CHALLENGE_LIFETIME_MS: u64 = 60_000;
/// Spent challenges remembered at most (expired ones are forgotten first;
/// when all are live, the faucet answers `rate_limited`).
pub const MAX_SPENT_CHALLENGES: usize = 100_000;
/// Bytes of the keyed tag at the end of a challenge.
const TAG_LEN: usize = 16;
/// Context of the tag (BLAKE3 keyed with the process secret).
const TAG_CONTEXT: &[u8] = b"ruv/faucet-challenge-tag/v1";

/// Issues and checks faucet challenges.
pub struct ChallengeBook {
    secret: Zeroizing<[u8; 32]>,
    difficulty_bits: u8,
    /// Spent challenge -> its expiry (unix ms).
    spent: HashMap<Hash32, u64>,
}

impl ChallengeBook {
    /// A book asking for `difficulty_bits`, with a fresh random secret.
    pub fn new(difficulty_bits: u8) -> Self {
        Self {
            secret: crate::keys::random_seed(),
            difficulty_bits,
            spent: HashMap::new(),
        }
    }

    /// Leading zero bits a proof needs (0: none is asked).
    pub fn difficulty_bits(&self) -> u8 {
        self.difficulty_bits
    }

    fn tag(&self, head: &[u8]) -> [u8; TAG_LEN] {
        let mut hasher = blake3::Hasher::new_keyed(&self.secret);
        hasher.update(TAG_CONTEXT);
        hasher.update(head);
        let mut tag = [0u8; TAG_LEN];
        tag.copy_from_slice(&hasher.finalize().as_bytes()[..TAG_LEN]);
        tag
    }

    /// A new challenge: expiry (8 bytes, big-endian) || 8 random bytes || tag.
    pub fn issue(&self, now_ms: u64) -> FaucetChallenge {
        let expires_ms = now_ms.saturating_add(CHALLENGE_LIFETIME_MS);
        let mut bytes = [0u8; 32];
        bytes[..8].copy_from_slice(&expires_ms.to_be_bytes());
        getrandom::getrandom(&mut bytes[8..16])
            .expect("the operating system's random source failed");
        let tag = self.tag(&bytes[..16]);
        bytes[16..].copy_from_slice(&tag);
        FaucetChallenge {
            challenge: Hash32(bytes),
            difficulty_bits: self.difficulty_bits,
            expires_ms,
        }
    }

    /// Checks `proof` for paying `address` at `now_ms` without spending it.
    pub fn check(
        &mut self,
        proof: Option<&FaucetProof>,
        address: &Address,
        now_ms: u64,
    ) -> Result<(), ApiError> {
        if self.difficulty_bits == 0 && proof.is_none() {
            return Ok(());
        }
        let proof = proof.ok_or_else(|| {
            ApiError::new(
                codes::FAUCET_POW_REQUIRED,
                "solve GET /api/v1/faucet/challenge and send {challenge, nonce} as `proof`",
            )
        })?;
        let bytes = &proof.challenge.0;
        // Not a secret comparison worth timing care: a forged tag still
        // needs the proof of work, and the tag only proves issuance.
        if self.tag(&bytes[..16])[..] != bytes[16..] {
            return Err(ApiError::new(
                codes::FAUCET_POW_INVALID,
                "this relay did not issue that challenge",
            ));
        }
        let expires_ms = u64::from_be_bytes(bytes[..8].try_into().expect("8 bytes"));
        if now_ms > expires_ms {
            return Err(ApiError::new(
                codes::FAUCET_POW_EXPIRED,
                "the challenge has expired; fetch a new one",
            ));
        }
        if !faucet_pow::is_solution(&proof.challenge, address, proof.nonce, self.difficulty_bits) {
            return Err(ApiError::new(
                codes::FAUCET_POW_INVALID,
                format!(
                    "the nonce does not give {} leading zero bits for this address",
                    self.difficulty_bits
                ),
            ));
        }
        if self.spent.contains_key(&proof.challenge) {
            return Err(ApiError::new(
                codes::FAUCET_POW_REUSED,
                "the challenge was used already",
            ));
        }
        if self.spent.len() >= MAX_SPENT_CHALLENGES {
            self.spent.retain(|_, expiry| *expiry >= now_ms);
            if self.spent.len() >= MAX_SPENT_CHALLENGES {
                return Err(ApiError::new(
                    codes::RATE_LIMITED,
                    "too many faucet challenges spent recently; try again later",
                ));
            }
        }
        Ok(())
    }

    /// Marks a checked proof's challenge as spent.
    pub fn spend(&mut self, proof: Option<&FaucetProof>) {
        if let Some(proof) = proof {
            let expires_ms =
                u64::from_be_bytes(proof.challenge.0[..8].try_into().expect("8 bytes"));
            self.spent.insert(proof.challenge, expires_ms);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_800_000_000_000;
    const BITS: u8 = 8;

    fn address(n: u8) -> Address {
        Address::from_bytes([n; 32])
    }

    fn solved(book: &ChallengeBook, to: &Address) -> FaucetProof {
        let challenge = book.issue(NOW).challenge;
        let nonce = faucet_pow::solve(&challenge, to, BITS).unwrap();
        FaucetProof { challenge, nonce }
    }

    fn code(result: Result<(), ApiError>) -> String {
        result.unwrap_err().code
    }

    #[test]
    fn a_solved_challenge_pays_once() {
        let mut book = ChallengeBook::new(BITS);
        let proof = solved(&book, &address(1));
        assert_eq!(book.check(Some(&proof), &address(1), NOW), Ok(()));
        book.spend(Some(&proof));
        assert_eq!(
            code(book.check(Some(&proof), &address(1), NOW)),
            codes::FAUCET_POW_REUSED
        );
    }

    #[test]
    fn missing_wrong_foreign_and_expired_proofs_are_refused() {
        let mut book = ChallengeBook::new(BITS);
        assert_eq!(
            code(book.check(None, &address(1), NOW)),
            codes::FAUCET_POW_REQUIRED
        );
        let proof = solved(&book, &address(1));
        // Bound to the address: find a nonce that fails for another one.
        let other = address(2);
        let mut foreign = proof;
        while faucet_pow::is_solution(&foreign.challenge, &other, foreign.nonce, BITS) {
            foreign.nonce += 1;
        }
        assert_eq!(
            code(book.check(Some(&foreign), &other, NOW)),
            codes::FAUCET_POW_INVALID
        );
        // Too few zero bits.
        let mut weak = proof;
        weak.nonce = (0..)
            .find(|n| !faucet_pow::is_solution(&proof.challenge, &address(1), *n, BITS))
            .unwrap();
        assert_eq!(
            code(book.check(Some(&weak), &address(1), NOW)),
            codes::FAUCET_POW_INVALID
        );
        // Issued by another process (another secret).
        let stranger = ChallengeBook::new(BITS);
        let forged = solved(&stranger, &address(1));
        assert_eq!(
            code(book.check(Some(&forged), &address(1), NOW)),
            codes::FAUCET_POW_INVALID
        );
        // Expired.
        let late = NOW + CHALLENGE_LIFETIME_MS + 1;
        assert_eq!(
            code(book.check(Some(&proof), &address(1), late)),
            codes::FAUCET_POW_EXPIRED
        );
        // The good one still passes.
        assert_eq!(book.check(Some(&proof), &address(1), NOW), Ok(()));
    }

    #[test]
    fn without_difficulty_no_proof_is_needed() {
        let mut book = ChallengeBook::new(0);
        assert_eq!(book.check(None, &address(1), NOW), Ok(()));
    }
}
