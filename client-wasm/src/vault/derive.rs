//! Account derivation: BIP-39 seed and account index -> 32-byte ML-DSA-65
//! key-generation seed, through a BLAKE3 key derivation with its own context.

use ruv_protocol::address::Address;
use ruv_protocol::crypto::{SigningKey, SEED_LEN};
use zeroize::{Zeroize, Zeroizing};

/// BLAKE3 `derive_key` context for account seeds. Changing it changes every
/// address, so it is fixed forever for this derivation version.
pub const ACCOUNT_SEED_CONTEXT: &str = "rUv 2026-11 account seed v1";

/// The ML-DSA-65 seed of account `index`:
/// `BLAKE3-derive_key(ACCOUNT_SEED_CONTEXT, bip39_seed || u32_le(index))`.
pub fn account_seed(bip39_seed: &[u8; 64], index: u32) -> Zeroizing<[u8; SEED_LEN]> {
    let mut hasher = blake3::Hasher::new_derive_key(ACCOUNT_SEED_CONTEXT);
    hasher.update(bip39_seed);
    hasher.update(&index.to_le_bytes());
    let mut out = Zeroizing::new([0u8; SEED_LEN]);
    hasher.finalize_xof().fill(&mut out[..]);
    // The hasher's buffer holds part of the BIP-39 seed.
    hasher.zeroize();
    out
}

/// The signing key of account `index` (wiped when dropped).
pub fn account_key(bip39_seed: &[u8; 64], index: u32) -> SigningKey {
    SigningKey::from_seed(&account_seed(bip39_seed, index))
}

/// The bech32m address of a key.
pub fn address_of(key: &SigningKey) -> String {
    Address::from_public_key(key.public_key()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_one_shot_derive_key() {
        let seed = [7u8; 64];
        let mut input = seed.to_vec();
        input.extend_from_slice(&5u32.to_le_bytes());
        assert_eq!(
            *account_seed(&seed, 5),
            blake3::derive_key(ACCOUNT_SEED_CONTEXT, &input)
        );
        assert_ne!(*account_seed(&seed, 5), *account_seed(&seed, 6));
    }
}
