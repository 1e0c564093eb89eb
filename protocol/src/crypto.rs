//! The signature suite: ML-DSA-65 (FIPS 204) through `libcrux-ml-dsa`, and
//! BLAKE3 hashing with one derive-key context per purpose.
//!
//! Keys are generated from a 32-byte seed (FIPS 204 `KeyGen_internal(ξ)`), so
//! wallets store seeds, never expanded secret keys. Every signature carries a
//! FIPS 204 context string that names what is signed, so a signature over a
//! transaction can never be replayed as a signature over anything else.

use libcrux_ml_dsa::ml_dsa_65 as mldsa;
use std::fmt;
use zeroize::{Zeroize, Zeroizing};

/// Length of an ML-DSA-65 public (verification) key in bytes.
pub const PUBLIC_KEY_LEN: usize = 1952;
/// Length of an ML-DSA-65 expanded signing key in bytes.
pub const SECRET_KEY_LEN: usize = 4032;
/// Length of an ML-DSA-65 signature in bytes.
pub const SIGNATURE_LEN: usize = 3309;
/// Length of the key-generation seed ξ.
pub const SEED_LEN: usize = 32;

/// FIPS 204 context strings: one per kind of signed object.
pub mod context {
    /// A transfer transaction.
    pub const TRANSACTION: &[u8] = b"ruv/tx/v1";
    /// A consensus vertex issued by a relay.
    pub const VERTEX: &[u8] = b"ruv/vertex/v1";
    /// A validator's precommit for a checkpoint header in one round (a
    /// certificate share). Signed message: u32 round LE, then the header.
    pub const PRECOMMIT: &[u8] = b"ruv/precommit/v1";
    /// A validator's prevote for a checkpoint header in one round (relays
    /// only: a proof of lock is made of them). Same message as a precommit,
    /// another context, so neither can stand for the other.
    pub const PREVOTE: &[u8] = b"ruv/prevote/v1";
    /// A peer-to-peer message between relays.
    pub const PEER: &[u8] = b"ruv/peer/v1";
}

/// Errors from the signature suite.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    /// The public key is not exactly [`PUBLIC_KEY_LEN`] bytes.
    #[error("public key must be {PUBLIC_KEY_LEN} bytes, got {0}")]
    PublicKeyLength(usize),
    /// The signature is not exactly [`SIGNATURE_LEN`] bytes.
    #[error("signature must be {SIGNATURE_LEN} bytes, got {0}")]
    SignatureLength(usize),
    /// The signature does not verify.
    #[error("signature does not verify")]
    BadSignature,
    /// A context string longer than 255 bytes.
    #[error("context string longer than 255 bytes")]
    ContextTooLong,
    /// Signing failed inside ML-DSA (rejection sampling exhausted; astronomically rare).
    #[error("ML-DSA signing failed")]
    SigningFailed,
}

/// An ML-DSA-65 public key.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PublicKey(Box<[u8; PUBLIC_KEY_LEN]>);

impl PublicKey {
    /// Wraps public key bytes, checking the length.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, CryptoError> {
        let array: [u8; PUBLIC_KEY_LEN] = bytes
            .try_into()
            .map_err(|_| CryptoError::PublicKeyLength(bytes.len()))?;
        Ok(Self(Box::new(array)))
    }

    /// The raw key bytes.
    pub fn as_bytes(&self) -> &[u8; PUBLIC_KEY_LEN] {
        &self.0
    }

    /// Verifies `signature` over `message` under the FIPS 204 `context` string.
    pub fn verify(
        &self,
        message: &[u8],
        context: &[u8],
        signature: &Signature,
    ) -> Result<(), CryptoError> {
        if context.len() > 255 {
            return Err(CryptoError::ContextTooLong);
        }
        let key = mldsa::MLDSA65VerificationKey::new(*self.0);
        let sig = mldsa::MLDSA65Signature::new(*signature.0);
        mldsa::verify(&key, message, context, &sig).map_err(|_| CryptoError::BadSignature)
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({}…)", hex::encode(&self.0[..8]))
    }
}

/// An ML-DSA-65 signature.
#[derive(Clone, PartialEq, Eq)]
pub struct Signature(Box<[u8; SIGNATURE_LEN]>);

impl Signature {
    /// Wraps signature bytes, checking the length.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, CryptoError> {
        let array: [u8; SIGNATURE_LEN] = bytes
            .try_into()
            .map_err(|_| CryptoError::SignatureLength(bytes.len()))?;
        Ok(Self(Box::new(array)))
    }

    /// The raw signature bytes.
    pub fn as_bytes(&self) -> &[u8; SIGNATURE_LEN] {
        &self.0
    }
}

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Signature({}…)", hex::encode(&self.0[..8]))
    }
}

/// An ML-DSA-65 signing key, kept together with the seed it came from.
///
/// The seed and the expanded key are wiped from memory when this is dropped.
pub struct SigningKey {
    seed: Zeroizing<[u8; SEED_LEN]>,
    secret: mldsa::MLDSA65SigningKey,
    public: PublicKey,
}

impl SigningKey {
    /// Derives the key pair from a 32-byte seed (FIPS 204 `KeyGen_internal`).
    pub fn from_seed(seed: &[u8; SEED_LEN]) -> Self {
        let pair = mldsa::generate_key_pair(*seed);
        let public = PublicKey(Box::new(*pair.verification_key.as_ref()));
        Self {
            seed: Zeroizing::new(*seed),
            secret: pair.signing_key,
            public,
        }
    }

    /// The public key.
    pub fn public_key(&self) -> &PublicKey {
        &self.public
    }

    /// The seed this key was generated from (a secret: handle with care).
    pub fn seed(&self) -> &[u8; SEED_LEN] {
        &self.seed
    }

    /// The expanded secret key bytes (for test vectors; a secret).
    pub fn expanded_secret(&self) -> &[u8; SECRET_KEY_LEN] {
        self.secret.as_ref()
    }

    /// Signs `message` under `context`. `randomness` is the FIPS 204 `rnd`
    /// input: fresh random bytes for hedged signing (recommended), or zeros for
    /// the deterministic variant.
    pub fn sign(
        &self,
        message: &[u8],
        context: &[u8],
        randomness: [u8; 32],
    ) -> Result<Signature, CryptoError> {
        let sig = mldsa::sign(&self.secret, message, context, randomness).map_err(|e| match e {
            libcrux_ml_dsa::SigningError::ContextTooLongError => CryptoError::ContextTooLong,
            libcrux_ml_dsa::SigningError::RejectionSamplingError => CryptoError::SigningFailed,
        })?;
        Ok(Signature(Box::new(*sig.as_ref())))
    }
}

impl Drop for SigningKey {
    fn drop(&mut self) {
        self.secret.as_ref_mut().zeroize();
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("public", &self.public)
            .finish_non_exhaustive()
    }
}

/// BLAKE3 derive-key contexts, one per purpose (globally unique strings, as
/// BLAKE3's `derive_key` requires).
pub mod hash_context {
    /// Address = hash of the public key.
    pub const ADDRESS: &str = "rUv 2026-11 address v1";
    /// Transaction id = hash of the signed encoding.
    pub const TRANSACTION_ID: &str = "rUv 2026-11 transaction id v1";
    /// Vertex id = hash of the vertex encoding.
    pub const VERTEX_ID: &str = "rUv 2026-11 vertex id v1";
    /// Genesis file identity.
    pub const GENESIS: &str = "rUv 2026-11 genesis v1";
    /// Checkpoint header id = hash of the header encoding.
    pub const CHECKPOINT_ID: &str = "rUv 2026-11 checkpoint header id v1";
    /// A validator set's identity (keys and stakes, in genesis order).
    pub const VALIDATOR_SET: &str = "rUv 2026-11 validator set v1";
    /// What a checkpoint covers: the accepted vertex ids that close its set.
    pub const CHECKPOINT_ANCHOR: &str = "rUv 2026-11 checkpoint anchor v1";
    /// State root (Merkle) leaves.
    pub const STATE_LEAF: &str = "rUv 2026-11 state leaf v1";
    /// State root (Merkle) inner nodes.
    pub const STATE_NODE: &str = "rUv 2026-11 state node v1";
    /// Transaction tree (sparse Merkle, keyed by transaction id) leaves.
    pub const TX_LEAF: &str = "rUv 2026-11 transaction leaf v1";
    /// Transaction tree (sparse Merkle, keyed by transaction id) inner nodes.
    pub const TX_NODE: &str = "rUv 2026-11 transaction node v1";
}

/// BLAKE3 in derive-key mode over several parts.
pub fn hash(context: &str, parts: &[&[u8]]) -> [u8; 32] {
    let mut hasher = blake3::Hasher::new_derive_key(context);
    for part in parts {
        hasher.update(part);
    }
    *hasher.finalize().as_bytes()
}

/// Compares two byte strings in constant time (for MACs, tags and secrets).
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_verify_round_trip_and_context_separation() {
        let key = SigningKey::from_seed(&[7; 32]);
        let sig = key.sign(b"pay bob", context::TRANSACTION, [1; 32]).unwrap();
        key.public_key()
            .verify(b"pay bob", context::TRANSACTION, &sig)
            .unwrap();
        assert_eq!(
            key.public_key().verify(b"pay bob", context::VERTEX, &sig),
            Err(CryptoError::BadSignature)
        );
        assert_eq!(
            key.public_key()
                .verify(b"pay eve", context::TRANSACTION, &sig),
            Err(CryptoError::BadSignature)
        );
    }

    #[test]
    fn lengths_are_checked() {
        assert_eq!(
            PublicKey::from_bytes(&[0; 10]),
            Err(CryptoError::PublicKeyLength(10))
        );
        assert_eq!(
            Signature::from_bytes(&[0; 3310]),
            Err(CryptoError::SignatureLength(3310))
        );
    }

    #[test]
    fn context_too_long_is_refused() {
        let key = SigningKey::from_seed(&[7; 32]);
        assert_eq!(
            key.sign(b"m", &[0; 256], [0; 32]).unwrap_err(),
            CryptoError::ContextTooLong
        );
    }

    #[test]
    fn constant_time_eq_works() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
