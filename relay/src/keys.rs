//! Seed files: 64 hex digits (a 32-byte ML-DSA-65 seed), readable only by the owner.

use ruv_protocol::crypto::{SigningKey, SEED_LEN};
use std::path::Path;
use zeroize::Zeroizing;

/// Why a seed file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    /// Reading or writing failed.
    #[error("seed file {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The content is not 64 hex digits.
    #[error("seed file {0} must hold exactly 64 hex digits")]
    Format(String),
}

/// Loads a signing key from a seed file.
pub fn load(path: &Path) -> Result<SigningKey, KeyFileError> {
    let text =
        Zeroizing::new(
            std::fs::read_to_string(path).map_err(|source| KeyFileError::Io {
                path: path.display().to_string(),
                source,
            })?,
        );
    let mut seed = Zeroizing::new([0u8; SEED_LEN]);
    hex::decode_to_slice(text.trim(), seed.as_mut())
        .map_err(|_| KeyFileError::Format(path.display().to_string()))?;
    Ok(SigningKey::from_seed(&seed))
}

/// Writes a seed file with mode 0600.
pub fn save(path: &Path, seed: &[u8; SEED_LEN]) -> Result<(), KeyFileError> {
    let io = |source| KeyFileError::Io {
        path: path.display().to_string(),
        source,
    };
    let text = Zeroizing::new(hex::encode(seed));
    std::fs::write(path, text.as_bytes()).map_err(io)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(io)?;
    }
    Ok(())
}

/// A fresh random seed from the operating system.
pub fn random_seed() -> Zeroizing<[u8; SEED_LEN]> {
    let mut seed = Zeroizing::new([0u8; SEED_LEN]);
    getrandom::getrandom(seed.as_mut()).expect("the operating system's random source failed");
    seed
}
