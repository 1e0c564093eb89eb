//! BIP-39 recovery phrases (English word list): generation, validation with
//! typed errors, and the BIP-39 seed.

use super::codes;
use crate::error::ClientError;
use bip39::{Language, Mnemonic};
use std::fmt;
use zeroize::Zeroizing;

/// Words in a newly generated phrase (256 bits of entropy).
pub const NEW_PHRASE_WORDS: usize = 24;

/// Word counts BIP-39 defines (128, 160, 192, 224 and 256 bits of entropy).
pub const VALID_WORD_COUNTS: [usize; 5] = [12, 15, 18, 21, 24];

/// BIP-39 entropy (16, 20, 24, 28 or 32 bytes), wiped on drop.
#[derive(Clone, PartialEq, Eq)]
pub struct Entropy(Zeroizing<Vec<u8>>);

impl fmt::Debug for Entropy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Entropy({} bytes, redacted)", self.0.len())
    }
}

impl Entropy {
    /// 32 fresh bytes from `crypto.getRandomValues` (a 24-word phrase).
    pub fn generate() -> Result<Self, ClientError> {
        let bytes = Zeroizing::new(crate::error::random_bytes::<32>()?);
        Ok(Self(Zeroizing::new(bytes.to_vec())))
    }

    /// Wraps stored entropy, checking its length is one BIP-39 allows.
    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        matches!(bytes.len(), 16 | 20 | 24 | 28 | 32).then(|| Self(Zeroizing::new(bytes.to_vec())))
    }

    /// The raw entropy (a secret).
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    fn mnemonic(&self) -> Result<Mnemonic, ClientError> {
        // Lengths are checked on construction, so this does not fail in practice.
        Mnemonic::from_entropy_in(Language::English, &self.0)
            .map_err(|e| ClientError::new(codes::VAULT_CORRUPTED, format!("stored entropy: {e}")))
    }

    /// The recovery phrase: words separated by single spaces (a secret).
    pub fn phrase(&self) -> Result<Zeroizing<String>, ClientError> {
        let mnemonic = self.mnemonic()?;
        let mut out = Zeroizing::new(String::with_capacity(24 * 9));
        for (i, word) in mnemonic.words().enumerate() {
            if i > 0 {
                out.push(' ');
            }
            out.push_str(word);
        }
        Ok(out)
    }

    /// Number of words in the phrase.
    pub fn word_count(&self) -> usize {
        self.0.len() * 3 / 4
    }

    /// The 64-byte BIP-39 seed: PBKDF2-HMAC-SHA512, 2048 rounds, over the
    /// phrase with the salt `"mnemonic"` (empty passphrase).
    pub fn bip39_seed(&self) -> Result<Zeroizing<[u8; 64]>, ClientError> {
        Ok(Zeroizing::new(self.mnemonic()?.to_seed_normalized("")))
    }
}

/// Parses and validates a phrase. Words may be separated by any whitespace
/// and in any letter case. Errors name the position of a bad word, never the
/// word itself.
pub fn parse_phrase(phrase: &str) -> Result<Entropy, ClientError> {
    let count = phrase.split_whitespace().count();
    if !VALID_WORD_COUNTS.contains(&count) {
        return Err(ClientError::new(
            codes::INVALID_MNEMONIC_LENGTH,
            format!("a recovery phrase has 12, 15, 18, 21 or 24 words, this one has {count}"),
        ));
    }
    let mut normalized = Zeroizing::new(String::with_capacity(phrase.len()));
    for (i, word) in phrase.split_whitespace().enumerate() {
        if i > 0 {
            normalized.push(' ');
        }
        for c in word.chars() {
            normalized.push(c.to_ascii_lowercase());
        }
    }
    let mnemonic =
        Mnemonic::parse_in_normalized(Language::English, &normalized).map_err(map_error)?;
    let (array, len) = mnemonic.to_entropy_array();
    let array = Zeroizing::new(array);
    Entropy::from_bytes(&array[..len]).ok_or_else(|| {
        ClientError::new(codes::INVALID_MNEMONIC_LENGTH, "unexpected entropy length")
    })
}

fn map_error(e: bip39::Error) -> ClientError {
    match e {
        bip39::Error::UnknownWord(i) => ClientError::new(
            codes::INVALID_MNEMONIC_WORD,
            format!("word {} is not in the BIP-39 English word list", i + 1),
        ),
        bip39::Error::InvalidChecksum => ClientError::new(
            codes::INVALID_MNEMONIC_CHECKSUM,
            "the phrase's checksum does not match: a word is wrong or the order is wrong",
        ),
        bip39::Error::BadWordCount(n) => ClientError::new(
            codes::INVALID_MNEMONIC_LENGTH,
            format!("a recovery phrase has 12, 15, 18, 21 or 24 words, this one has {n}"),
        ),
        other => ClientError::new(codes::INVALID_MNEMONIC_LENGTH, other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ZERO_PHRASE: &str = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";

    #[test]
    fn round_trip_and_bip39_vector() {
        let e = parse_phrase(ZERO_PHRASE).unwrap();
        assert_eq!(e.as_bytes(), &[0u8; 16]);
        assert_eq!(&*e.phrase().unwrap(), ZERO_PHRASE);
        // The widely published seed of the all-zero 12-word phrase with an
        // empty passphrase.
        assert_eq!(
            hex::encode(*e.bip39_seed().unwrap()),
            "5eb00bbddcf069084889a8ab9155568165f5c453ccb85e70811aaed6f6da5fc19a5ac40b389cd370d086206dec8aa6c43daea6690f20ad3d8d48b2d2ce9e38e4"
        );
    }

    #[test]
    fn normalizes_case_and_whitespace() {
        let messy = format!("  {}\n", ZERO_PHRASE.to_uppercase().replace(' ', " \t "));
        assert_eq!(parse_phrase(&messy).unwrap().as_bytes(), &[0u8; 16]);
    }

    #[test]
    fn typed_errors() {
        let e = parse_phrase("abandon abandon").unwrap_err();
        assert_eq!(e.code, codes::INVALID_MNEMONIC_LENGTH);
        let e = parse_phrase("").unwrap_err();
        assert_eq!(e.code, codes::INVALID_MNEMONIC_LENGTH);
        let e = parse_phrase(&ZERO_PHRASE.replace("about", "abandon")).unwrap_err();
        assert_eq!(e.code, codes::INVALID_MNEMONIC_CHECKSUM);
        let bad = ZERO_PHRASE.replacen("abandon", "bitcoinz", 1);
        let e = parse_phrase(&bad).unwrap_err();
        assert_eq!(e.code, codes::INVALID_MNEMONIC_WORD);
        assert!(e.message.contains("word 1"));
        assert!(
            !e.message.contains("bitcoinz"),
            "errors must not echo phrase words"
        );
        let e = parse_phrase(&format!("{ZERO_PHRASE} abandon")).unwrap_err();
        assert_eq!(e.code, codes::INVALID_MNEMONIC_LENGTH);
    }

    #[test]
    fn generated_phrases_have_24_words_and_parse() {
        let e = Entropy::generate().unwrap();
        assert_eq!(e.word_count(), NEW_PHRASE_WORDS);
        let phrase = e.phrase().unwrap();
        assert_eq!(phrase.split(' ').count(), NEW_PHRASE_WORDS);
        assert_eq!(parse_phrase(&phrase).unwrap(), e);
        assert!(!format!("{e:?}").contains(&hex::encode(e.as_bytes())));
    }
}
