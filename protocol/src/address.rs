//! Addresses: bech32m with human-readable part `ruv` over a 32-byte BLAKE3
//! hash of the ML-DSA-65 public key (derive-key context
//! [`hash_context::ADDRESS`](crate::crypto::hash_context::ADDRESS)).
//!
//! Only the canonical lower-case form is accepted, so one address has exactly
//! one spelling.

use crate::crypto::{hash, hash_context, PublicKey};
use bech32::primitives::decode::CheckedHrpstring;
use bech32::{Bech32m, Hrp};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// The human-readable part of every rUv address.
pub const HRP: &str = "ruv";

/// Length of an address string: "ruv1" + 52 data characters + 6 checksum characters.
pub const ADDRESS_STRING_LEN: usize = 62;

/// Why a string is not a valid rUv address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    /// Not bech32m, or the checksum does not match.
    #[error("bad bech32m checksum or encoding")]
    BadChecksum,
    /// Valid bech32m, but not for `ruv`.
    #[error("wrong human-readable part {0:?}, expected \"ruv\"")]
    WrongHrp(String),
    /// The payload is not 32 bytes.
    #[error("address payload must be 32 bytes")]
    WrongLength,
    /// Upper-case or mixed-case spelling.
    #[error("address must be lower case")]
    NotLowerCase,
}

/// A 32-byte account address.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Address([u8; 32]);

impl Address {
    /// The address of a public key.
    pub fn from_public_key(key: &PublicKey) -> Self {
        Self(hash(hash_context::ADDRESS, &[key.as_bytes()]))
    }

    /// Wraps a raw 32-byte address hash.
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The raw 32-byte hash.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hrp = Hrp::parse_unchecked(HRP);
        bech32::encode_lower_to_fmt::<Bech32m, _>(f, hrp, &self.0).map_err(|_| fmt::Error)
    }
}

impl fmt::Debug for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Address({self})")
    }
}

impl FromStr for Address {
    type Err = AddressError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.bytes().any(|b| b.is_ascii_uppercase()) {
            return Err(AddressError::NotLowerCase);
        }
        let checked = CheckedHrpstring::new::<Bech32m>(s).map_err(|_| AddressError::BadChecksum)?;
        if checked.hrp().as_str() != HRP {
            return Err(AddressError::WrongHrp(checked.hrp().to_string()));
        }
        let bytes: Vec<u8> = checked.byte_iter().collect();
        let array: [u8; 32] = bytes.try_into().map_err(|_| AddressError::WrongLength)?;
        let address = Self(array);
        // Reject non-canonical padding: the only accepted spelling is our own.
        if address.to_string() != s {
            return Err(AddressError::WrongLength);
        }
        Ok(address)
    }
}

impl Serialize for Address {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Address {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::SigningKey;
    use proptest::prelude::*;

    #[test]
    fn address_of_key_round_trips() {
        let key = SigningKey::from_seed(&[3; 32]);
        let address = Address::from_public_key(key.public_key());
        let text = address.to_string();
        assert!(text.starts_with("ruv1"));
        assert_eq!(text.len(), ADDRESS_STRING_LEN);
        assert_eq!(text.parse::<Address>(), Ok(address));
    }

    #[test]
    fn typed_errors() {
        let text = Address::from_bytes([9; 32]).to_string();
        // Flip one data character: checksum fails.
        let mut bad = text.clone().into_bytes();
        bad[10] = if bad[10] == b'q' { b'p' } else { b'q' };
        assert_eq!(
            String::from_utf8(bad).unwrap().parse::<Address>(),
            Err(AddressError::BadChecksum)
        );
        assert_eq!(
            text.to_uppercase().parse::<Address>(),
            Err(AddressError::NotLowerCase)
        );
        let other_hrp = bech32::encode::<Bech32m>(Hrp::parse("btc").unwrap(), &[9; 32]).unwrap();
        assert_eq!(
            other_hrp.parse::<Address>(),
            Err(AddressError::WrongHrp("btc".into()))
        );
        let short = bech32::encode::<Bech32m>(Hrp::parse(HRP).unwrap(), &[9; 20]).unwrap();
        assert_eq!(short.parse::<Address>(), Err(AddressError::WrongLength));
        // Bech32 (not bech32m) checksum is refused.
        let legacy = bech32::encode::<bech32::Bech32>(Hrp::parse(HRP).unwrap(), &[9; 32]).unwrap();
        assert_eq!(legacy.parse::<Address>(), Err(AddressError::BadChecksum));
        assert_eq!("".parse::<Address>(), Err(AddressError::BadChecksum));
    }

    proptest! {
        #[test]
        fn any_bytes_round_trip(bytes: [u8; 32]) {
            let a = Address::from_bytes(bytes);
            prop_assert_eq!(a.to_string().parse::<Address>(), Ok(a));
        }

        #[test]
        fn parsing_arbitrary_text_never_panics(s in "\\PC{0,100}") {
            let _ = s.parse::<Address>();
        }
    }
}
