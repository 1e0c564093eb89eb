//! The encrypted vault record (format version 1) and the plaintext inside it.
//!
//! ```text
//! offset  len  field
//!      0    8  magic "RUVVAULT"
//!      8    2  format version, u16 LE (= 1)
//!     10    8  revision, u64 LE (+1 on every write)
//!     18    1  KDF id (1 = Argon2id v1.3)
//!     19    4  memory KiB, u32 LE
//!     23    4  iterations, u32 LE
//!     27    4  parallelism, u32 LE
//!     31   32  salt
//!     63   16  key check
//!     79    1  AEAD id (1 = XChaCha20-Poly1305)
//!     80   24  nonce
//!    104    4  ciphertext length n (including the 16-byte tag), u32 LE
//!    108    n  ciphertext || tag     (associated data = bytes 0..108)
//!  108+n   32  BLAKE3 hash of bytes 0..108+n
//! ```
//!
//! Everything is decoded without panicking: any short, long or inconsistent
//! input is a `vault_corrupted` error (or `vault_unsupported_version`).

use super::codes;
use super::kdf::{KdfParams, KEY_CHECK_LEN, SALT_LEN};
use super::mnemonic::Entropy;
use super::pending::{PendingTransfer, MAX_PENDING_TRANSFERS};
use crate::error::ClientError;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

/// First eight bytes of every record.
pub const MAGIC: [u8; 8] = *b"RUVVAULT";
/// The format version this code writes.
pub const FORMAT_VERSION: u16 = 1;
/// KDF id for Argon2id version 0x13.
pub const KDF_ARGON2ID: u8 = 1;
/// AEAD id for XChaCha20-Poly1305.
pub const AEAD_XCHACHA20POLY1305: u8 = 1;
/// Nonce length of XChaCha20-Poly1305.
pub const NONCE_LEN: usize = 24;
/// Poly1305 tag length.
pub const TAG_LEN: usize = 16;
/// Header length (the AEAD's associated data).
pub const HEADER_LEN: usize = 108;
/// Trailing checksum length.
pub const CHECKSUM_LEN: usize = 32;
/// Largest record accepted (far above any real vault).
pub const MAX_RECORD_LEN: usize = 1 << 20;
/// Version of the plaintext layout inside the AEAD.
pub const PAYLOAD_VERSION: u8 = 1;
/// The same layout, written while the metadata holds pending payments:
/// builds from before pending payments say `vault_unsupported_version`
/// for such a record instead of calling it damaged. Back to version 1
/// once none is pending.
pub const PAYLOAD_VERSION_PENDING: u8 = 2;
/// Most accounts one vault holds.
pub const MAX_ACCOUNTS: usize = 256;
/// Longest account label in characters.
pub const MAX_LABEL_CHARS: usize = 64;

fn corrupted(why: impl Into<String>) -> ClientError {
    ClientError::new(codes::VAULT_CORRUPTED, why)
}

/// The header fields of a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// Format version (always [`FORMAT_VERSION`] after decoding).
    pub version: u16,
    /// Write counter.
    pub revision: u64,
    /// Argon2id parameters.
    pub kdf: KdfParams,
    /// Argon2id salt.
    pub salt: [u8; SALT_LEN],
    /// Derived from the Argon2 output; tells a wrong password apart from a
    /// damaged ciphertext.
    pub key_check: [u8; KEY_CHECK_LEN],
    /// AEAD nonce (fresh and random for every write).
    pub nonce: [u8; NONCE_LEN],
}

impl Header {
    fn encode(&self, ciphertext_len: u32) -> [u8; HEADER_LEN] {
        let mut h = [0u8; HEADER_LEN];
        h[0..8].copy_from_slice(&MAGIC);
        h[8..10].copy_from_slice(&self.version.to_le_bytes());
        h[10..18].copy_from_slice(&self.revision.to_le_bytes());
        h[18] = KDF_ARGON2ID;
        h[19..23].copy_from_slice(&self.kdf.memory_kib.to_le_bytes());
        h[23..27].copy_from_slice(&self.kdf.iterations.to_le_bytes());
        h[27..31].copy_from_slice(&self.kdf.parallelism.to_le_bytes());
        h[31..63].copy_from_slice(&self.salt);
        h[63..79].copy_from_slice(&self.key_check);
        h[79] = AEAD_XCHACHA20POLY1305;
        h[80..104].copy_from_slice(&self.nonce);
        h[104..108].copy_from_slice(&ciphertext_len.to_le_bytes());
        h
    }
}

/// A decoded (still encrypted) record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The header.
    pub header: Header,
    /// Ciphertext followed by the Poly1305 tag.
    pub ciphertext: Vec<u8>,
}

fn array<const N: usize>(bytes: &[u8], at: usize) -> [u8; N] {
    let mut out = [0u8; N];
    out.copy_from_slice(&bytes[at..at + N]);
    out
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(array(bytes, at))
}

/// The revision of a record if its fixed-position prefix is readable (used
/// for conflict messages; does not validate the rest).
pub fn peek_revision(bytes: &[u8]) -> Option<u64> {
    (bytes.len() >= 18 && bytes[0..8] == MAGIC && bytes[8..10] == FORMAT_VERSION.to_le_bytes())
        .then(|| u64::from_le_bytes(array(bytes, 10)))
}

impl Record {
    /// Decodes and checks a record's structure and checksum (no key needed).
    pub fn decode(bytes: &[u8]) -> Result<Self, ClientError> {
        // Every format version keeps the magic in front and the BLAKE3
        // checksum at the end, so damage is told apart from a newer version.
        if bytes.len() < MAGIC.len() + 2 + CHECKSUM_LEN {
            return Err(corrupted(format!(
                "record is {} bytes, too short",
                bytes.len()
            )));
        }
        if bytes[0..8] != MAGIC {
            return Err(corrupted("not a rUv vault record (bad magic)"));
        }
        if bytes.len() > MAX_RECORD_LEN {
            return Err(corrupted(format!(
                "record is {} bytes, limit is {MAX_RECORD_LEN}",
                bytes.len()
            )));
        }
        let body_end = bytes.len() - CHECKSUM_LEN;
        let checksum: [u8; CHECKSUM_LEN] = array(bytes, body_end);
        if blake3::hash(&bytes[..body_end]) != blake3::Hash::from_bytes(checksum) {
            return Err(corrupted(
                "record checksum does not match (truncated, damaged or altered)",
            ));
        }
        let version = u16::from_le_bytes(array(bytes, 8));
        if version != FORMAT_VERSION {
            return Err(ClientError::new(
                codes::UNSUPPORTED_VERSION,
                format!("vault format version {version} is not supported by this version (it reads {FORMAT_VERSION})"),
            ));
        }
        if bytes.len() < HEADER_LEN + TAG_LEN + CHECKSUM_LEN {
            return Err(corrupted(format!(
                "record is {} bytes, truncated",
                bytes.len()
            )));
        }
        let ciphertext_len = u32_at(bytes, 104) as usize;
        // checked_add: usize is 32 bits in wasm.
        if ciphertext_len < TAG_LEN || HEADER_LEN.checked_add(ciphertext_len) != Some(body_end) {
            return Err(corrupted(format!(
                "record body is {body_end} bytes but its header says {}",
                HEADER_LEN.saturating_add(ciphertext_len)
            )));
        }
        if bytes[18] != KDF_ARGON2ID {
            return Err(corrupted(format!("unknown KDF id {}", bytes[18])));
        }
        if bytes[79] != AEAD_XCHACHA20POLY1305 {
            return Err(corrupted(format!("unknown AEAD id {}", bytes[79])));
        }
        let kdf = KdfParams {
            memory_kib: u32_at(bytes, 19),
            iterations: u32_at(bytes, 23),
            parallelism: u32_at(bytes, 27),
        };
        kdf.validate()
            .map_err(|e| corrupted(format!("stored KDF parameters: {}", e.message)))?;
        let header = Header {
            version,
            revision: u64::from_le_bytes(array(bytes, 10)),
            kdf,
            salt: array(bytes, 31),
            key_check: array(bytes, 63),
            nonce: array(bytes, 80),
        };
        Ok(Self {
            header,
            ciphertext: bytes[HEADER_LEN..body_end].to_vec(),
        })
    }

    /// The record's bytes.
    pub fn encode(&self) -> Vec<u8> {
        let header = self.header.encode(self.ciphertext.len() as u32);
        let mut out = Vec::with_capacity(HEADER_LEN + self.ciphertext.len() + CHECKSUM_LEN);
        out.extend_from_slice(&header);
        out.extend_from_slice(&self.ciphertext);
        let checksum = blake3::hash(&out);
        out.extend_from_slice(checksum.as_bytes());
        out
    }

    /// Encrypts `plaintext` under `key` with a fresh random nonce; the header
    /// (with its final ciphertext length) is the associated data.
    pub fn seal(mut header: Header, key: &[u8; 32], plaintext: &[u8]) -> Result<Self, ClientError> {
        let ciphertext_len = plaintext.len() + TAG_LEN;
        if HEADER_LEN + ciphertext_len + CHECKSUM_LEN > MAX_RECORD_LEN {
            return Err(ClientError::new(
                crate::error::codes::INVALID_PARAMS,
                "vault contents too large",
            ));
        }
        header.version = FORMAT_VERSION;
        header.nonce = crate::error::random_bytes::<NONCE_LEN>()?;
        let aad = header.encode(ciphertext_len as u32);
        let cipher = XChaCha20Poly1305::new(key.into());
        let ciphertext = cipher
            .encrypt(
                XNonce::from_slice(&header.nonce),
                Payload {
                    msg: plaintext,
                    aad: &aad,
                },
            )
            .map_err(|_| ClientError::new(codes::VAULT_CORRUPTED, "encryption failed"))?;
        Ok(Self { header, ciphertext })
    }

    /// Decrypts and authenticates the ciphertext (header included).
    pub fn open(&self, key: &[u8; 32]) -> Result<Zeroizing<Vec<u8>>, ClientError> {
        let aad = self.header.encode(self.ciphertext.len() as u32);
        let cipher = XChaCha20Poly1305::new(key.into());
        cipher
            .decrypt(
                XNonce::from_slice(&self.header.nonce),
                Payload {
                    msg: &self.ciphertext,
                    aad: &aad,
                },
            )
            .map(Zeroizing::new)
            .map_err(|_| {
                corrupted("the vault's ciphertext fails authentication (damaged or altered)")
            })
    }
}

/// One account in the vault.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AccountMeta {
    /// Derivation index.
    pub index: u32,
    /// User-chosen name.
    pub label: String,
}

/// The non-secret part of the plaintext (JSON inside the AEAD).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Metadata {
    /// Accounts in display order.
    pub accounts: Vec<AccountMeta>,
    /// Index the next new account gets (indices are never reused).
    pub next_index: u32,
    /// Idle time after which the vault locks itself; `None` = never.
    pub auto_lock_ms: Option<u64>,
    /// Signed payments not yet proven final or rejected.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pending: Vec<PendingTransfer>,
}

/// Checks a label and returns it trimmed.
pub fn validate_label(label: &str) -> Result<String, ClientError> {
    let label = label.trim();
    let chars = label.chars().count();
    if chars == 0 || chars > MAX_LABEL_CHARS {
        return Err(ClientError::new(
            codes::INVALID_LABEL,
            format!("an account label has 1 to {MAX_LABEL_CHARS} characters, got {chars}"),
        ));
    }
    if label.chars().any(char::is_control) {
        return Err(ClientError::new(
            codes::INVALID_LABEL,
            "an account label cannot contain control characters",
        ));
    }
    Ok(label.to_owned())
}

/// Largest auto-lock time accepted: 7 days.
pub const MAX_AUTO_LOCK_MS: u64 = 7 * 24 * 3600 * 1000;

/// Checks an auto-lock time (`None` = never lock on idle).
pub fn validate_auto_lock(ms: Option<u64>) -> Result<Option<u64>, ClientError> {
    match ms {
        Some(0) => Err(ClientError::new(
            codes::INVALID_AUTO_LOCK,
            "auto-lock time must be at least 1 ms (use null for never)",
        )),
        Some(ms) if ms > MAX_AUTO_LOCK_MS => Err(ClientError::new(
            codes::INVALID_AUTO_LOCK,
            format!("auto-lock time is at most {MAX_AUTO_LOCK_MS} ms"),
        )),
        other => Ok(other),
    }
}

impl Metadata {
    /// Metadata of a new vault: one account, index 0.
    pub fn new(auto_lock_ms: Option<u64>) -> Self {
        Self {
            accounts: vec![AccountMeta {
                index: 0,
                label: "Account 1".into(),
            }],
            next_index: 1,
            auto_lock_ms,
            pending: Vec::new(),
        }
    }

    fn validate(&self) -> Result<(), ClientError> {
        if self.accounts.len() > MAX_ACCOUNTS {
            return Err(corrupted("too many accounts"));
        }
        let mut seen = std::collections::BTreeSet::new();
        for a in &self.accounts {
            if a.index >= self.next_index || !seen.insert(a.index) {
                return Err(corrupted(format!(
                    "account index {} is duplicated or out of range",
                    a.index
                )));
            }
            if validate_label(&a.label).ok().as_deref() != Some(a.label.as_str()) {
                return Err(corrupted("an account label is invalid"));
            }
        }
        validate_auto_lock(self.auto_lock_ms).map_err(|e| corrupted(e.message))?;
        if self.pending.len() > MAX_PENDING_TRANSFERS {
            return Err(corrupted("too many pending payments"));
        }
        let mut ids = std::collections::BTreeSet::new();
        for p in &self.pending {
            p.validate().map_err(|e| corrupted(e.message))?;
            if p.account >= self.next_index || !ids.insert(p.id.as_str()) {
                return Err(corrupted(
                    "a pending payment is duplicated or names no account",
                ));
            }
        }
        Ok(())
    }
}

/// Plaintext layout: `payload version (1) || entropy length (1) || entropy ||
/// metadata JSON`.
pub fn encode_payload(
    entropy: &Entropy,
    meta: &Metadata,
) -> Result<Zeroizing<Vec<u8>>, ClientError> {
    let json = serde_json::to_vec(meta)
        .map_err(|e| ClientError::new(crate::error::codes::INVALID_PARAMS, e.to_string()))?;
    let e = entropy.as_bytes();
    let mut out = Zeroizing::new(Vec::with_capacity(2 + e.len() + json.len()));
    out.push(if meta.pending.is_empty() {
        PAYLOAD_VERSION
    } else {
        PAYLOAD_VERSION_PENDING
    });
    out.push(e.len() as u8);
    out.extend_from_slice(e);
    out.extend_from_slice(&json);
    Ok(out)
}

/// Decodes the plaintext. Failures are `vault_corrupted`: the AEAD already
/// vouched for these bytes, so a bad layout means a damaged writer.
pub fn decode_payload(bytes: &[u8]) -> Result<(Entropy, Metadata), ClientError> {
    let (&version, rest) = bytes
        .split_first()
        .ok_or_else(|| corrupted("empty payload"))?;
    if version != PAYLOAD_VERSION && version != PAYLOAD_VERSION_PENDING {
        return Err(ClientError::new(
            codes::UNSUPPORTED_VERSION,
            format!("vault payload version {version} is not supported"),
        ));
    }
    let (&len, rest) = rest
        .split_first()
        .ok_or_else(|| corrupted("payload truncated"))?;
    let len = len as usize;
    if rest.len() < len {
        return Err(corrupted("payload truncated"));
    }
    let entropy = Entropy::from_bytes(&rest[..len])
        .ok_or_else(|| corrupted("stored entropy has an invalid length"))?;
    let meta: Metadata = serde_json::from_slice(&rest[len..])
        .map_err(|e| corrupted(format!("vault metadata: {e}")))?;
    meta.validate()?;
    Ok((entropy, meta))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header() -> Header {
        Header {
            version: FORMAT_VERSION,
            revision: 7,
            kdf: KdfParams {
                memory_kib: 64,
                iterations: 1,
                parallelism: 1,
            },
            salt: [3; SALT_LEN],
            key_check: [4; KEY_CHECK_LEN],
            nonce: [0; NONCE_LEN],
        }
    }

    #[test]
    fn seal_open_round_trip_with_fresh_nonces() {
        let key = [5u8; 32];
        let a = Record::seal(header(), &key, b"hello").unwrap();
        let b = Record::seal(header(), &key, b"hello").unwrap();
        assert_ne!(a.header.nonce, b.header.nonce);
        assert_ne!(a.ciphertext, b.ciphertext);
        let bytes = a.encode();
        assert_eq!(bytes.len(), HEADER_LEN + 5 + TAG_LEN + CHECKSUM_LEN);
        let decoded = Record::decode(&bytes).unwrap();
        assert_eq!(decoded, a);
        assert_eq!(&**decoded.open(&key).unwrap(), b"hello");
        assert_eq!(
            decoded.open(&[6u8; 32]).unwrap_err().code,
            codes::VAULT_CORRUPTED
        );
        assert_eq!(peek_revision(&bytes), Some(7));
    }

    #[test]
    fn header_is_bound_as_associated_data() {
        let key = [5u8; 32];
        let mut r = Record::seal(header(), &key, b"hello").unwrap();
        r.header.revision += 1;
        // Re-encoding recomputes the checksum, so only the AEAD can notice.
        let decoded = Record::decode(&r.encode()).unwrap();
        assert_eq!(decoded.open(&key).unwrap_err().code, codes::VAULT_CORRUPTED);
    }

    #[test]
    fn every_truncation_and_bit_flip_is_rejected_without_panic() {
        let bytes = Record::seal(header(), &[5u8; 32], b"payload bytes")
            .unwrap()
            .encode();
        for len in 0..bytes.len() {
            assert!(Record::decode(&bytes[..len]).is_err(), "truncated to {len}");
        }
        for i in 0..bytes.len() {
            for bit in 0..8 {
                let mut b = bytes.clone();
                b[i] ^= 1 << bit;
                let err = Record::decode(&b).unwrap_err();
                assert_eq!(err.code, codes::VAULT_CORRUPTED, "byte {i} bit {bit}");
            }
        }
        let mut padded = bytes.clone();
        padded.push(0);
        assert_eq!(
            Record::decode(&padded).unwrap_err().code,
            codes::VAULT_CORRUPTED
        );
    }

    #[test]
    fn newer_versions_are_reported_as_such() {
        let mut bytes = Record::seal(header(), &[5u8; 32], b"x").unwrap().encode();
        bytes[8] = 2;
        let end = bytes.len() - CHECKSUM_LEN;
        let checksum = blake3::hash(&bytes[..end]);
        bytes[end..].copy_from_slice(checksum.as_bytes());
        assert_eq!(
            Record::decode(&bytes).unwrap_err().code,
            codes::UNSUPPORTED_VERSION
        );
    }

    #[test]
    fn payload_round_trip_and_validation() {
        let entropy = Entropy::from_bytes(&[9u8; 32]).unwrap();
        let meta = Metadata::new(Some(60_000));
        let bytes = encode_payload(&entropy, &meta).unwrap();
        let (e, m) = decode_payload(&bytes).unwrap();
        assert_eq!(e, entropy);
        assert_eq!(m, meta);
        for len in 0..bytes.len() {
            assert!(decode_payload(&bytes[..len]).is_err());
        }
        let mut bad = meta.clone();
        bad.accounts.push(AccountMeta {
            index: 0,
            label: "dup".into(),
        });
        bad.next_index = 2;
        let bytes = encode_payload(&entropy, &bad).unwrap();
        assert_eq!(
            decode_payload(&bytes).unwrap_err().code,
            codes::VAULT_CORRUPTED
        );
    }

    #[test]
    fn labels_and_auto_lock() {
        assert_eq!(validate_label("  Savings ").unwrap(), "Savings");
        for bad in ["", "   ", "a\nb", &"x".repeat(65)] {
            assert_eq!(validate_label(bad).unwrap_err().code, codes::INVALID_LABEL);
        }
        assert!(validate_label(&"é".repeat(64)).is_ok());
        assert_eq!(
            validate_auto_lock(Some(0)).unwrap_err().code,
            codes::INVALID_AUTO_LOCK
        );
        assert_eq!(
            validate_auto_lock(Some(MAX_AUTO_LOCK_MS + 1))
                .unwrap_err()
                .code,
            codes::INVALID_AUTO_LOCK
        );
        assert_eq!(validate_auto_lock(None).unwrap(), None);
    }
}
