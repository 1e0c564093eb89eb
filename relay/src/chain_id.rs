//! Chain ids bound to their genesis, so two networks made separately never
//! share one (a transfer signed for one network can then never be replayed on
//! another).
//!
//! A bound chain id is `NAME-BINDING`: `NAME` is what the operators chose
//! (up to [`MAX_NAME_LEN`] characters of `[a-z0-9-]`), `BINDING` is
//! [`BINDING_LEN`] base32 characters (100 bits) of a BLAKE3 hash over the
//! canonical JSON of the whole genesis with its chain id set to `NAME`:
//! every validator key, stake, balance, fee and consensus parameter. Validator
//! keys are fresh random keys, so two networks made separately differ there
//! and get different chain ids; and the same inputs always give the same
//! chain id, so every operator can rebuild the genesis from the exchanged
//! public keys and compare the hash. Anyone can check the binding from the
//! genesis alone, and the relay refuses a genesis whose chain id is not bound.
//! No protocol change: the chain id stays an ordinary `[a-z0-9-]{1,32}` string.

use ruv_protocol::tx::{validate_chain_id, MAX_CHAIN_ID_LEN};
use ruv_protocol::Genesis;

/// BLAKE3 derive-key context of the binding.
pub const BINDING_CONTEXT: &str = "rUv 2026-11 chain id binding v1";
/// Characters of the binding: 20 base32 characters carry 100 bits.
pub const BINDING_LEN: usize = 20;
/// The longest network name: the chain id limit less `-` and the binding.
pub const MAX_NAME_LEN: usize = MAX_CHAIN_ID_LEN - 1 - BINDING_LEN;
/// Lower-case RFC 4648 base32 (fits the chain id alphabet `[a-z0-9-]`).
const BASE32: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";

/// Why a chain id cannot be bound or is not bound.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainIdError {
    /// The network name is not 1 to [`MAX_NAME_LEN`] characters of `[a-z0-9-]`.
    #[error("network name {0:?} must be 1 to {MAX_NAME_LEN} characters of [a-z0-9-]")]
    Name(String),
    /// The chain id does not end in `-` and a binding.
    #[error(
        "chain id {0:?} is not bound to its genesis (NAME-BINDING); make the genesis with `ruv-relay genesis`"
    )]
    NotBound(String),
    /// The binding does not match the genesis: the file was edited after it was made.
    #[error("chain id {chain_id:?} does not match its genesis (expected {expected:?}); the file was changed after it was made")]
    Mismatch {
        /// The chain id in the file.
        chain_id: String,
        /// The chain id this genesis binds to.
        expected: String,
    },
}

/// Sets `genesis.chain_id` to `name` bound to the rest of `genesis`.
pub fn bind(genesis: &mut Genesis, name: &str) -> Result<(), ChainIdError> {
    if name.len() > MAX_NAME_LEN || validate_chain_id(name).is_err() {
        return Err(ChainIdError::Name(name.to_owned()));
    }
    genesis.chain_id = bound_chain_id(genesis, name);
    Ok(())
}

/// Checks that the chain id of `genesis` is bound to it.
pub fn check(genesis: &Genesis) -> Result<(), ChainIdError> {
    let not_bound = || ChainIdError::NotBound(genesis.chain_id.clone());
    let (name, binding) = genesis.chain_id.rsplit_once('-').ok_or_else(not_bound)?;
    if name.is_empty() || binding.len() != BINDING_LEN {
        return Err(not_bound());
    }
    let expected = bound_chain_id(genesis, name);
    if expected != genesis.chain_id {
        return Err(ChainIdError::Mismatch {
            chain_id: genesis.chain_id.clone(),
            expected,
        });
    }
    Ok(())
}

/// `name-BINDING` for `genesis` (whatever its chain id is now).
fn bound_chain_id(genesis: &Genesis, name: &str) -> String {
    let named = Genesis {
        chain_id: name.to_owned(),
        ..genesis.clone()
    };
    // The same canonical JSON that `Genesis::hash` covers.
    let canonical = serde_json::to_vec(&named).unwrap_or_default();
    let digest = ruv_protocol::crypto::hash(BINDING_CONTEXT, &[&canonical]);
    format!("{name}-{}", base32_prefix(&digest, BINDING_LEN))
}

/// The first `chars` base32 characters of `bytes` (5 bits each, big-endian).
fn base32_prefix(bytes: &[u8; 32], chars: usize) -> String {
    (0..chars)
        .map(|i| {
            let bit = i * 5;
            let pair = u16::from_be_bytes([bytes[bit / 8], bytes[bit / 8 + 1]]);
            let index = (pair >> (11 - bit % 8)) & 0x1f;
            char::from(BASE32[usize::from(index)])
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ruv_protocol::crypto::SigningKey;
    use ruv_protocol::genesis::{FeeSchedule, ValidatorEntry};

    fn genesis(seed: u8) -> Genesis {
        Genesis {
            chain_id: "unbound".into(),
            balances: Vec::new(),
            fees: FeeSchedule {
                base: 1,
                per_byte: 1,
                burn_percent: 0,
            },
            validators: vec![ValidatorEntry {
                name: "v".into(),
                public_key: SigningKey::from_seed(&[seed; 32])
                    .public_key()
                    .as_bytes()
                    .to_vec(),
                stake: 1,
            }],
            consensus: None,
        }
    }

    #[test]
    fn a_bound_chain_id_checks_and_is_valid() {
        let mut g = genesis(1);
        bind(&mut g, "ruv-main").unwrap();
        assert!(g.chain_id.starts_with("ruv-main-"));
        assert_eq!(g.chain_id.len(), "ruv-main-".len() + BINDING_LEN);
        g.validate().unwrap();
        check(&g).unwrap();
        // Deterministic: the same inputs give the same chain id.
        let mut again = genesis(1);
        bind(&mut again, "ruv-main").unwrap();
        assert_eq!(again.chain_id, g.chain_id);
    }

    #[test]
    fn separately_made_networks_get_different_chain_ids() {
        let (mut a, mut b) = (genesis(1), genesis(2));
        bind(&mut a, "net").unwrap();
        bind(&mut b, "net").unwrap();
        assert_ne!(a.chain_id, b.chain_id);
    }

    #[test]
    fn edited_or_unbound_chain_ids_are_refused() {
        let mut g = genesis(1);
        bind(&mut g, "net").unwrap();
        let mut edited = g.clone();
        edited.fees.base = 2;
        assert!(matches!(check(&edited), Err(ChainIdError::Mismatch { .. })));
        let mut renamed = g.clone();
        renamed.chain_id = renamed.chain_id.replacen("net", "nex", 1);
        assert!(matches!(
            check(&renamed),
            Err(ChainIdError::Mismatch { .. })
        ));
        for unbound in ["ruv-devnet", "plain", "-aaaaaaaaaaaaaaaaaaaa", "x-short"] {
            let mut g = g.clone();
            g.chain_id = unbound.into();
            assert!(
                matches!(check(&g), Err(ChainIdError::NotBound(_))),
                "{unbound}"
            );
        }
    }

    #[test]
    fn bad_names_are_refused() {
        let mut g = genesis(1);
        for name in ["", "UPPER", "white space", &"n".repeat(MAX_NAME_LEN + 1)] {
            assert_eq!(bind(&mut g, name), Err(ChainIdError::Name(name.to_owned())));
        }
        bind(&mut g, &"n".repeat(MAX_NAME_LEN)).unwrap();
        g.validate().unwrap();
    }

    #[test]
    fn base32_takes_five_bits_per_character() {
        let mut bytes = [0u8; 32];
        bytes[0] = 0b0000_1000; // characters 0 and 1: 00001, 000..
        bytes[1] = 0b1000_0000; // bits 8..: 1 -> character 1 is 00010
        assert_eq!(base32_prefix(&bytes, 3), "bca");
        assert_eq!(base32_prefix(&[0xff; 32], 4), "7777");
    }
}
