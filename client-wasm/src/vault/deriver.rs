//! Who runs Argon2: the vault's operations ask a [`KeyDeriver`] for the
//! Argon2id output and stay free of where it is computed. Natively (the
//! CLI, tests) [`InThreadKdf`] computes it on the calling thread; in a
//! browser the `Vault` class hands it to a JavaScript function that runs
//! it in a dedicated Web Worker (see `docs/vault.md`), so the page never
//! freezes during the one to two seconds it takes.

use super::kdf::{self, Argon2Output, DerivedKeys, KeyRequest};
use super::session::normalize_password;
use crate::error::ClientError;

/// Computes Argon2id for a vault operation.
#[allow(async_fn_in_trait)]
pub trait KeyDeriver {
    /// The Argon2id output of `password` (NFKC-normalized bytes) under the
    /// request's salt and parameters (already validated).
    async fn argon2id(
        &self,
        password: &[u8],
        request: &KeyRequest,
    ) -> Result<Argon2Output, ClientError>;
}

/// Argon2id on the calling thread (native code, Node, or code that already
/// runs in a worker).
#[derive(Debug, Clone, Copy, Default)]
pub struct InThreadKdf;

impl KeyDeriver for InThreadKdf {
    async fn argon2id(
        &self,
        password: &[u8],
        request: &KeyRequest,
    ) -> Result<Argon2Output, ClientError> {
        kdf::argon2id(password, &request.salt, &request.params)
    }
}

/// The keys `password` yields for `request`, computed by `deriver`: the
/// password is normalized here (the one place), the split into keys is
/// done here too, so a deriver only ever sees Argon2's inputs.
pub async fn derive<K: KeyDeriver>(
    deriver: &K,
    password: &str,
    request: &KeyRequest,
) -> Result<DerivedKeys, ClientError> {
    request.params.validate()?;
    let normalized = normalize_password(password);
    let output = deriver.argon2id(normalized.as_bytes(), request).await?;
    Ok(DerivedKeys::from_argon2_output(&output))
}
