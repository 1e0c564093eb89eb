//! Key files. A seed file holds 64 hex digits (a 32-byte ML-DSA-65 seed) and
//! must be readable by its owner only: it is created with mode 0600, never
//! overwritten, and refused at load when group or others may read it. A
//! public key file holds the unpadded base64url public key (the encoding of
//! genesis) and may be shared freely.

use ruv_protocol::crypto::{PublicKey, SigningKey, SEED_LEN};
use ruv_protocol::serde_bytes::{from_base64url, to_base64url};
use std::io::Write;
use std::path::Path;
use zeroize::Zeroizing;

/// Permission bits that let someone other than the owner read, write or run
/// a seed file.
const NOT_OWNER_ONLY: u32 = 0o077;

/// Bytes of BLAKE3(public key) shown as a validator's fingerprint.
pub const FINGERPRINT_LEN: usize = 8;

/// Why a key file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    /// Reading or writing failed.
    #[error("key file {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The file already exists; a key is never overwritten.
    #[error("key file {0} already exists; a key file is never overwritten (move it away first)")]
    Exists(String),
    /// The content is not 64 hex digits.
    #[error("seed file {0} must hold exactly 64 hex digits")]
    Format(String),
    /// Group or others have access to a seed file.
    #[error(
        "seed file {path} is accessible by group or others (mode {mode:04o}); \
         run `chmod 600 {path}` and make sure no one else has read it"
    )]
    Permissions {
        /// The file.
        path: String,
        /// Its permission bits.
        mode: u32,
    },
    /// The content is not a base64url ML-DSA-65 public key.
    #[error("{0} is not an ML-DSA-65 public key (1952 bytes, unpadded base64url)")]
    PublicKeyFormat(String),
}

/// Loads a signing key from a seed file, refusing one that group or others
/// may access.
pub fn load(path: &Path) -> Result<SigningKey, KeyFileError> {
    let shown = || path.display().to_string();
    let io = |source| KeyFileError::Io {
        path: shown(),
        source,
    };
    let file = std::fs::File::open(path).map_err(io)?;
    check_owner_only(path, &file)?;
    let mut text = Zeroizing::new(String::new());
    std::io::Read::read_to_string(&mut &file, &mut text).map_err(io)?;
    let mut seed = Zeroizing::new([0u8; SEED_LEN]);
    hex::decode_to_slice(text.trim(), seed.as_mut()).map_err(|_| KeyFileError::Format(shown()))?;
    Ok(SigningKey::from_seed(&seed))
}

#[cfg(unix)]
fn check_owner_only(path: &Path, file: &std::fs::File) -> Result<(), KeyFileError> {
    use std::os::unix::fs::PermissionsExt;
    let mode = file
        .metadata()
        .map_err(|source| KeyFileError::Io {
            path: path.display().to_string(),
            source,
        })?
        .permissions()
        .mode()
        & 0o7777;
    if mode & NOT_OWNER_ONLY != 0 {
        return Err(KeyFileError::Permissions {
            path: path.display().to_string(),
            mode,
        });
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_owner_only(_path: &Path, _file: &std::fs::File) -> Result<(), KeyFileError> {
    Ok(())
}

/// Writes a new seed file, created with mode 0600 (never readable by others,
/// not even for a moment); refuses to overwrite an existing file.
pub fn save(path: &Path, seed: &[u8; SEED_LEN]) -> Result<(), KeyFileError> {
    let text = Zeroizing::new(hex::encode(seed));
    write_new(path, text.as_bytes(), 0o600)
}

/// Writes a new public key file (base64url, one line, mode 0644); refuses to
/// overwrite an existing file.
pub fn save_public(path: &Path, key: &PublicKey) -> Result<(), KeyFileError> {
    let line = format!("{}\n", encode_public(key));
    write_new(path, line.as_bytes(), 0o644)
}

fn write_new(path: &Path, bytes: &[u8], mode: u32) -> Result<(), KeyFileError> {
    let io = |source| KeyFileError::Io {
        path: path.display().to_string(),
        source,
    };
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(mode);
    }
    #[cfg(not(unix))]
    let _ = mode;
    let mut file = options.open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            KeyFileError::Exists(path.display().to_string())
        } else {
            io(e)
        }
    })?;
    file.write_all(bytes).map_err(io)?;
    file.sync_all().map_err(io)
}

/// A public key as genesis spells it: unpadded base64url.
pub fn encode_public(key: &PublicKey) -> String {
    to_base64url(key.as_bytes())
}

/// Parses an unpadded base64url public key (`shown` names it in errors).
pub fn decode_public(text: &str, shown: &str) -> Result<PublicKey, KeyFileError> {
    let bytes =
        from_base64url(text.trim()).map_err(|_| KeyFileError::PublicKeyFormat(shown.to_owned()))?;
    PublicKey::from_bytes(&bytes).map_err(|_| KeyFileError::PublicKeyFormat(shown.to_owned()))
}

/// A short fingerprint of a validator key for comparing by eye or over the
/// phone: the first [`FINGERPRINT_LEN`] bytes of BLAKE3(public key), hex in
/// groups of four digits.
pub fn fingerprint(key: &PublicKey) -> String {
    let digest = blake3::hash(key.as_bytes());
    let hex = hex::encode(&digest.as_bytes()[..FINGERPRINT_LEN]);
    hex.as_bytes()
        .chunks(4)
        .map(|group| std::str::from_utf8(group).unwrap_or_default())
        .collect::<Vec<_>>()
        .join(":")
}

/// A fresh random seed from the operating system.
pub fn random_seed() -> Zeroizing<[u8; SEED_LEN]> {
    let mut seed = Zeroizing::new([0u8; SEED_LEN]);
    getrandom::getrandom(seed.as_mut()).expect("the operating system's random source failed");
    seed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seed_file_round_trips_and_is_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k");
        let seed = random_seed();
        save(&path, &seed).unwrap();
        assert_eq!(
            load(&path).unwrap().public_key(),
            SigningKey::from_seed(&seed).public_key()
        );
        assert!(matches!(
            save(&path, &random_seed()),
            Err(KeyFileError::Exists(_))
        ));
        assert_eq!(
            load(&path).unwrap().public_key(),
            SigningKey::from_seed(&seed).public_key()
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_seed_file_others_can_read_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k");
        save(&path, &random_seed()).unwrap();
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        for mode in [0o640, 0o604, 0o660, 0o610] {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
            let err = load(&path).unwrap_err();
            assert!(matches!(err, KeyFileError::Permissions { mode: m, .. } if m == mode));
            assert!(err.to_string().contains("chmod 600"), "{err}");
        }
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o400)).unwrap();
        load(&path).unwrap();
    }

    #[test]
    fn public_keys_round_trip_and_bad_ones_are_refused() {
        let key = SigningKey::from_seed(&[7; 32]);
        let text = encode_public(key.public_key());
        assert_eq!(&decode_public(&text, "x").unwrap(), key.public_key());
        assert!(decode_public(&text[1..], "x").is_err());
        assert!(decode_public("not base64!", "x").is_err());
        let fp = fingerprint(key.public_key());
        assert_eq!(fp.len(), FINGERPRINT_LEN * 2 + FINGERPRINT_LEN / 2 - 1);
        assert_ne!(
            fp,
            fingerprint(SigningKey::from_seed(&[8; 32]).public_key())
        );
    }
}
