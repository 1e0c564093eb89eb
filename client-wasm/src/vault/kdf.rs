//! The password KDF: Argon2id (v1.3) with parameters stored in each record,
//! and the two keys taken from its output.

use super::codes;
use crate::error::ClientError;
use argon2::{Algorithm, Argon2, Block, Params, Version};
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, Zeroizing};

/// Salt length in bytes (fresh for every password change).
pub const SALT_LEN: usize = 32;
/// Length of the key-check value stored in the header.
pub const KEY_CHECK_LEN: usize = 16;

/// BLAKE3 context that turns the Argon2 output into the AEAD key.
pub const AEAD_KEY_CONTEXT: &str = "rUv 2026-11 vault aead key v1";
/// BLAKE3 context that turns the Argon2 output into the key-check value.
pub const KEY_CHECK_CONTEXT: &str = "rUv 2026-11 vault key check v1";

/// Argon2id cost parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct KdfParams {
    /// Memory in KiB (`m`).
    pub memory_kib: u32,
    /// Passes over memory (`t`).
    pub iterations: u32,
    /// Lanes (`p`). Wasm runs them one after another, so this adds no speed.
    pub parallelism: u32,
}

impl KdfParams {
    /// OWASP's minimum for Argon2id: 19 MiB, 2 iterations, 1 lane. New
    /// vaults created from JavaScript never go below it.
    pub const OWASP_MINIMUM: KdfParams = KdfParams {
        memory_kib: 19 * 1024,
        iterations: 2,
        parallelism: 1,
    };

    /// Defaults for new vaults: 64 MiB, 8 iterations, 1 lane. 64 MiB is
    /// RFC 9106's memory for constrained settings and stays workable on
    /// phones (wasm memory never shrinks after it grows); the iterations
    /// bring unlock to about 0.4 s in headless Chromium on the reference
    /// machine (`docs/benchmarks.md`), so about 1 to 1.5 s on a slow phone.
    /// One lane because wasm runs lanes one after another here.
    pub const DEFAULT: KdfParams = KdfParams {
        memory_kib: 64 * 1024,
        iterations: 8,
        parallelism: 1,
    };

    /// Largest memory accepted from a record: 1 GiB.
    pub const MAX_MEMORY_KIB: u32 = 1 << 20;
    /// Most iterations accepted from a record.
    pub const MAX_ITERATIONS: u32 = 64;
    /// Most lanes accepted from a record.
    pub const MAX_PARALLELISM: u32 = 16;

    /// Checks the hard bounds every record must satisfy (Argon2's own
    /// minimums, and caps so a damaged record cannot ask for hours of work
    /// or gigabytes of memory).
    pub fn new(memory_kib: u32, iterations: u32, parallelism: u32) -> Result<Self, ClientError> {
        let p = Self {
            memory_kib,
            iterations,
            parallelism,
        };
        p.validate()?;
        Ok(p)
    }

    /// See [`KdfParams::new`].
    pub fn validate(&self) -> Result<(), ClientError> {
        let err = |m: String| Err(ClientError::new(codes::INVALID_KDF_PARAMS, m));
        if self.parallelism == 0 || self.parallelism > Self::MAX_PARALLELISM {
            return err(format!(
                "parallelism must be 1..={}, got {}",
                Self::MAX_PARALLELISM,
                self.parallelism
            ));
        }
        if self.iterations == 0 || self.iterations > Self::MAX_ITERATIONS {
            return err(format!(
                "iterations must be 1..={}, got {}",
                Self::MAX_ITERATIONS,
                self.iterations
            ));
        }
        let min_memory = 8 * self.parallelism;
        if self.memory_kib < min_memory || self.memory_kib > Self::MAX_MEMORY_KIB {
            return err(format!(
                "memory must be {min_memory}..={} KiB, got {}",
                Self::MAX_MEMORY_KIB,
                self.memory_kib
            ));
        }
        Ok(())
    }

    /// Whether these parameters are at least OWASP's minimum.
    pub fn meets_owasp_minimum(&self) -> bool {
        self.memory_kib >= Self::OWASP_MINIMUM.memory_kib
            && self.iterations >= Self::OWASP_MINIMUM.iterations
    }

    /// The parameters a record with `self` should be re-encrypted with so it
    /// is at least as strong as `target` in memory and iterations, or `None`
    /// if it already is. Never lowers either cost.
    pub fn upgrade_towards(&self, target: &KdfParams) -> Option<KdfParams> {
        if self.memory_kib >= target.memory_kib && self.iterations >= target.iterations {
            return None;
        }
        Some(KdfParams {
            memory_kib: self.memory_kib.max(target.memory_kib),
            iterations: self.iterations.max(target.iterations),
            parallelism: target.parallelism,
        })
    }
}

impl Default for KdfParams {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// The keys a password yields under one salt and parameter set.
#[derive(Clone)]
pub struct DerivedKeys {
    /// XChaCha20-Poly1305 key.
    pub aead_key: Zeroizing<[u8; 32]>,
    /// Stored in the header to tell a wrong password from a damaged record.
    pub key_check: [u8; KEY_CHECK_LEN],
}

impl std::fmt::Debug for DerivedKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DerivedKeys(redacted)")
    }
}

/// Length of the raw Argon2id output (the secret the two keys come from).
pub const ARGON2_OUTPUT_LEN: usize = 32;

/// The raw Argon2id output: what a key-derivation worker computes and
/// returns (see [`super::deriver`]).
pub type Argon2Output = Zeroizing<[u8; ARGON2_OUTPUT_LEN]>;

/// What a vault operation needs derived from the password: the record's
/// salt and Argon2id parameters. The password itself is never part of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyRequest {
    /// The record's salt.
    pub salt: [u8; SALT_LEN],
    /// The record's Argon2id parameters.
    pub params: KdfParams,
}

impl KeyRequest {
    /// A request with a fresh random salt (a new record or a password change).
    pub fn fresh(params: &KdfParams) -> Result<Self, ClientError> {
        params.validate()?;
        Ok(Self {
            salt: crate::error::random_bytes::<SALT_LEN>()?,
            params: *params,
        })
    }
}

/// Runs Argon2id (v1.3) over `password`. Argon2's memory is allocated
/// fallibly (no abort when the tab is short of memory) and wiped afterwards.
pub fn argon2id(
    password: &[u8],
    salt: &[u8; SALT_LEN],
    params: &KdfParams,
) -> Result<Argon2Output, ClientError> {
    params.validate()?;
    let argon_params = Params::new(
        params.memory_kib,
        params.iterations,
        params.parallelism,
        Some(ARGON2_OUTPUT_LEN),
    )
    .map_err(|e| ClientError::new(codes::INVALID_KDF_PARAMS, e.to_string()))?;
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, argon_params.clone());
    let blocks = argon_params.block_count();
    let mut memory: Vec<Block> = Vec::new();
    memory.try_reserve_exact(blocks).map_err(|_| {
        ClientError::new(
            codes::KDF_FAILED,
            format!("could not allocate {} KiB for Argon2", params.memory_kib),
        )
    })?;
    memory.resize(blocks, Block::new());
    let mut output = Zeroizing::new([0u8; ARGON2_OUTPUT_LEN]);
    let result =
        argon.hash_password_into_with_memory(password, salt, &mut output[..], &mut memory[..]);
    memory.zeroize();
    result.map_err(|e| ClientError::new(codes::KDF_FAILED, e.to_string()))?;
    Ok(output)
}

impl DerivedKeys {
    /// Splits the Argon2id output into the AEAD key and the key check.
    pub fn from_argon2_output(output: &[u8; ARGON2_OUTPUT_LEN]) -> Self {
        let mut aead_key = Zeroizing::new([0u8; 32]);
        let mut hasher = blake3::Hasher::new_derive_key(AEAD_KEY_CONTEXT);
        hasher.update(&output[..]);
        hasher.finalize_xof().fill(&mut aead_key[..]);
        hasher.zeroize();

        let mut key_check = [0u8; KEY_CHECK_LEN];
        let mut hasher = blake3::Hasher::new_derive_key(KEY_CHECK_CONTEXT);
        hasher.update(&output[..]);
        hasher.finalize_xof().fill(&mut key_check);
        hasher.zeroize();
        DerivedKeys {
            aead_key,
            key_check,
        }
    }
}

/// Runs Argon2id over `password` on this thread and splits the output into
/// the AEAD key and the key check.
pub fn derive_keys(
    password: &[u8],
    salt: &[u8; SALT_LEN],
    params: &KdfParams,
) -> Result<DerivedKeys, ClientError> {
    let output = argon2id(password, salt, params)?;
    Ok(DerivedKeys::from_argon2_output(&output))
}

/// Compares without an early exit (for key checks and keys).
pub use ruv_protocol::crypto::constant_time_eq;

#[cfg(test)]
mod tests {
    use super::*;

    const TINY: KdfParams = KdfParams {
        memory_kib: 64,
        iterations: 1,
        parallelism: 1,
    };

    #[test]
    fn derivation_is_deterministic_and_separated() {
        let salt = [1u8; SALT_LEN];
        let a = derive_keys(b"password", &salt, &TINY).unwrap();
        let b = derive_keys(b"password", &salt, &TINY).unwrap();
        assert_eq!(*a.aead_key, *b.aead_key);
        assert_eq!(a.key_check, b.key_check);
        let c = derive_keys(b"passwore", &salt, &TINY).unwrap();
        assert_ne!(*a.aead_key, *c.aead_key);
        let d = derive_keys(b"password", &[2u8; SALT_LEN], &TINY).unwrap();
        assert_ne!(a.key_check, d.key_check);
        assert_ne!(&a.aead_key[..KEY_CHECK_LEN], &a.key_check[..]);
        assert_eq!(format!("{a:?}"), "DerivedKeys(redacted)");
    }

    #[test]
    fn argon2id_raw_output_matches_the_crate_one_shot() {
        // The fallible-memory path must equal argon2's own allocation path.
        let salt = [9u8; SALT_LEN];
        let params =
            Params::new(TINY.memory_kib, TINY.iterations, TINY.parallelism, Some(32)).unwrap();
        let mut expected = [0u8; 32];
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
            .hash_password_into(b"pw", &salt, &mut expected)
            .unwrap();
        let keys = derive_keys(b"pw", &salt, &TINY).unwrap();
        assert_eq!(
            *keys.aead_key,
            blake3::derive_key(AEAD_KEY_CONTEXT, &expected)
        );
    }

    #[test]
    fn bounds() {
        assert!(KdfParams::new(8, 1, 1).is_ok());
        for (m, t, p) in [
            (7, 1, 1),
            (64, 0, 1),
            (64, 1, 0),
            (64, 65, 1),
            (64, 1, 17),
            ((1 << 20) + 1, 1, 1),
            (15, 1, 2),
        ] {
            assert_eq!(
                KdfParams::new(m, t, p).unwrap_err().code,
                codes::INVALID_KDF_PARAMS,
                "{m} {t} {p}"
            );
        }
        assert!(KdfParams::DEFAULT.meets_owasp_minimum());
        assert!(KdfParams::OWASP_MINIMUM.meets_owasp_minimum());
        assert!(!TINY.meets_owasp_minimum());
        KdfParams::DEFAULT.validate().unwrap();
    }

    #[test]
    fn upgrades_never_lower_a_cost() {
        let d = KdfParams::DEFAULT;
        assert_eq!(d.upgrade_towards(&d), None);
        assert_eq!(TINY.upgrade_towards(&d), Some(d));
        let strong_memory = KdfParams {
            memory_kib: 256 * 1024,
            iterations: 1,
            parallelism: 1,
        };
        let up = strong_memory.upgrade_towards(&d).unwrap();
        assert_eq!(up.memory_kib, 256 * 1024);
        assert_eq!(up.iterations, d.iterations);
        assert_eq!(d.upgrade_towards(&TINY), None);
    }

    #[test]
    fn constant_time_eq_works() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
