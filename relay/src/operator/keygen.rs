//! `ruv-relay keygen`: a fresh validator key. The seed file is created with
//! mode 0600 and never overwrites anything; beside it, `FILE.pub` holds the
//! public key to send to the other operators.

use crate::keys::{self, KeyFileError};
use ruv_protocol::crypto::SigningKey;
use std::path::{Path, PathBuf};

/// Arguments of `ruv-relay keygen`.
#[derive(Debug, Clone, clap::Args)]
pub struct KeygenArgs {
    /// The seed file to create (mode 0600; never overwritten). The public key
    /// goes to the same path with `.pub` appended.
    #[arg(long)]
    pub out: PathBuf,
}

/// A key just made.
#[derive(Debug, Clone)]
pub struct NewKey {
    /// The secret seed file.
    pub seed_file: PathBuf,
    /// The public key file.
    pub public_file: PathBuf,
    /// The public key, unpadded base64url (as genesis spells it).
    pub public_key: String,
    /// Its short fingerprint ([`keys::fingerprint`]).
    pub fingerprint: String,
}

/// The public key file that goes with seed file `seed_file`.
pub fn public_file(seed_file: &Path) -> PathBuf {
    let mut name = seed_file.as_os_str().to_owned();
    name.push(".pub");
    PathBuf::from(name)
}

/// Makes a key: the seed file, then its public key file.
pub fn keygen(args: &KeygenArgs) -> Result<NewKey, KeyFileError> {
    let public_path = public_file(&args.out);
    // Refuse before writing anything, so no seed is left without its public key.
    if public_path.exists() {
        return Err(KeyFileError::Exists(public_path.display().to_string()));
    }
    let seed = keys::random_seed();
    keys::save(&args.out, &seed)?;
    let key = SigningKey::from_seed(&seed);
    keys::save_public(&public_path, key.public_key())?;
    Ok(NewKey {
        seed_file: args.out.clone(),
        public_file: public_path,
        public_key: keys::encode_public(key.public_key()),
        fingerprint: keys::fingerprint(key.public_key()),
    })
}

impl std::fmt::Display for NewKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "public key: {}", self.public_key)?;
        writeln!(f, "fingerprint: {}", self.fingerprint)?;
        writeln!(
            f,
            "seed file: {} (mode 0600: keep it secret, back it up offline)",
            self.seed_file.display()
        )?;
        write!(
            f,
            "public key file: {} (send it to the operator who builds the genesis)",
            self.public_file.display()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keygen_writes_a_matching_pair_and_never_overwrites() {
        let dir = tempfile::tempdir().unwrap();
        let args = KeygenArgs {
            out: dir.path().join("v.key"),
        };
        let made = keygen(&args).unwrap();
        let secret = keys::load(&args.out).unwrap();
        let public = std::fs::read_to_string(&made.public_file).unwrap();
        assert_eq!(public.trim(), made.public_key);
        assert_eq!(
            &keys::decode_public(&public, "pub").unwrap(),
            secret.public_key()
        );
        assert!(matches!(keygen(&args), Err(KeyFileError::Exists(_))));
        assert_eq!(
            keys::load(&args.out).unwrap().public_key(),
            secret.public_key()
        );
    }
}
