//! Serde helpers for the JSON API: byte strings as unpadded base64url and
//! 64-bit integers as decimal strings (JavaScript numbers lose precision
//! above 2^53, and amounts must never be rounded).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::{de::Error as _, Deserialize, Deserializer, Serializer};

/// Encodes bytes as unpadded base64url.
pub fn to_base64url(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Decodes unpadded base64url.
pub fn from_base64url(text: &str) -> Result<Vec<u8>, base64::DecodeError> {
    URL_SAFE_NO_PAD.decode(text)
}

/// `#[serde(with = "u64_string")]`: a u64 as a decimal string.
pub mod u64_string {
    use super::*;

    /// Serializes as a decimal string.
    pub fn serialize<S: Serializer>(value: &u64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&value.to_string())
    }

    /// Accepts only a decimal string of ASCII digits (no sign, no spaces).
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
        let text = String::deserialize(d)?;
        parse(&text).map_err(D::Error::custom)
    }

    /// Parses a canonical decimal u64.
    pub fn parse(text: &str) -> Result<u64, &'static str> {
        if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
            return Err("expected a decimal integer string");
        }
        if text.len() > 1 && text.starts_with('0') {
            return Err("leading zeros are not allowed");
        }
        text.parse().map_err(|_| "integer does not fit in 64 bits")
    }
}

/// `#[serde(with = "base64url")]`: bytes as unpadded base64url.
pub mod base64url {
    use super::*;

    /// Serializes as unpadded base64url.
    pub fn serialize<S: Serializer>(value: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&to_base64url(value))
    }

    /// Decodes unpadded base64url.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        from_base64url(&text).map_err(|_| D::Error::custom("invalid base64url (unpadded)"))
    }
}

#[cfg(test)]
mod tests {
    use super::u64_string::parse;

    #[test]
    fn decimal_strings_are_strict() {
        assert_eq!(parse("0"), Ok(0));
        assert_eq!(parse("18446744073709551615"), Ok(u64::MAX));
        assert!(parse("18446744073709551616").is_err());
        assert!(parse("01").is_err());
        assert!(parse("-1").is_err());
        assert!(parse("").is_err());
        assert!(parse("1e3").is_err());
    }
}
