//! Transfer transactions: the canonical binary encoding that is signed and
//! hashed, and the JSON form of the client API.
//!
//! Binary layout of a [`Transfer`] (the bytes that are signed, under the FIPS
//! 204 context `ruv/tx/v1`):
//!
//! | field | encoding |
//! | --- | --- |
//! | version | u8, always [`TX_VERSION`] |
//! | chain id | u8 length + ASCII `[a-z0-9-]`, 1 to [`MAX_CHAIN_ID_LEN`] bytes |
//! | from | 32 bytes (address hash) |
//! | to | 32 bytes (address hash) |
//! | amount | u64 little-endian, micro-rUv |
//! | fee | u64 little-endian, micro-rUv |
//! | nonce | u64 little-endian |
//! | memo | u8 length + UTF-8, at most [`MAX_MEMO_LEN`] bytes |
//! | sender public key | 1952 bytes |
//!
//! A [`SignedTransfer`] is that encoding followed by the 3309-byte signature;
//! its id is BLAKE3 (derive-key context `rUv 2026-11 transaction id v1`) of the
//! whole signed encoding.
//!
//! JSON form (see [`SignedTransfer`]'s serde impl): addresses in bech32m,
//! `amount`, `fee` and `nonce` as decimal strings, `memo` as a string,
//! `public_key` and `signature` as unpadded base64url.

use crate::address::Address;
use crate::codec::{DecodeError, Reader, Writer};
use crate::crypto::{
    context, hash, hash_context, CryptoError, PublicKey, Signature, SigningKey, PUBLIC_KEY_LEN,
    SIGNATURE_LEN,
};
use crate::serde_bytes::{base64url, u64_string};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

/// Encoding version of [`Transfer`].
pub const TX_VERSION: u8 = 1;
/// Longest chain id, in bytes.
pub const MAX_CHAIN_ID_LEN: usize = 32;
/// Longest memo, in bytes of UTF-8.
pub const MAX_MEMO_LEN: usize = 128;
/// Exact size of a signed transfer with an empty memo and an n-byte chain id is
/// `SIGNED_TRANSFER_FIXED_LEN + n + memo_len`.
pub const SIGNED_TRANSFER_FIXED_LEN: usize =
    1 + 1 + 32 + 32 + 8 + 8 + 8 + 1 + PUBLIC_KEY_LEN + SIGNATURE_LEN;
/// Largest possible signed transfer encoding.
pub const MAX_SIGNED_TRANSFER_LEN: usize =
    SIGNED_TRANSFER_FIXED_LEN + MAX_CHAIN_ID_LEN + MAX_MEMO_LEN;

/// Checks a chain id: 1 to 32 bytes of `[a-z0-9-]`.
pub fn validate_chain_id(chain_id: &str) -> Result<(), DecodeError> {
    let ok = !chain_id.is_empty()
        && chain_id.len() <= MAX_CHAIN_ID_LEN
        && chain_id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(DecodeError::Invalid {
            field: "chain_id",
            reason: "must be 1-32 characters of [a-z0-9-]",
        })
    }
}

/// Reads a length-prefixed chain id and checks it (see [`validate_chain_id`]).
pub fn read_chain_id(r: &mut Reader<'_>) -> Result<String, DecodeError> {
    let chain_id = std::str::from_utf8(r.short_bytes("chain_id", MAX_CHAIN_ID_LEN)?)
        .map_err(|_| DecodeError::Invalid {
            field: "chain_id",
            reason: "not UTF-8",
        })?
        .to_owned();
    validate_chain_id(&chain_id)?;
    Ok(chain_id)
}

/// An unsigned transfer of rUv from one account to another.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transfer {
    /// The network this transfer is for (replay protection across networks).
    pub chain_id: String,
    /// Sender; must be the address of `public_key`.
    pub from: Address,
    /// Recipient.
    pub to: Address,
    /// Amount in micro-rUv.
    pub amount: u64,
    /// Fee in micro-rUv; at least the genesis fee schedule's minimum for this size.
    pub fee: u64,
    /// The sender's previous nonce + 1.
    pub nonce: u64,
    /// Free text, at most [`MAX_MEMO_LEN`] bytes of UTF-8.
    pub memo: String,
    /// The sender's ML-DSA-65 public key.
    pub public_key: PublicKey,
}

impl Transfer {
    /// The canonical bytes that are signed.
    pub fn signing_bytes(&self) -> Vec<u8> {
        let mut w = Writer::with_capacity(MAX_SIGNED_TRANSFER_LEN);
        self.encode_into(&mut w);
        w.finish()
    }

    fn encode_into(&self, w: &mut Writer) {
        w.u8(TX_VERSION)
            .short_bytes(self.chain_id.as_bytes())
            .fixed(self.from.as_bytes())
            .fixed(self.to.as_bytes())
            .u64(self.amount)
            .u64(self.fee)
            .u64(self.nonce)
            .short_bytes(self.memo.as_bytes())
            .fixed(self.public_key.as_bytes());
    }

    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        r.version("transaction version", TX_VERSION)?;
        let chain_id = read_chain_id(r)?;
        let from = Address::from_bytes(r.array()?);
        let to = Address::from_bytes(r.array()?);
        let amount = r.u64()?;
        let fee = r.u64()?;
        let nonce = r.u64()?;
        let memo = std::str::from_utf8(r.short_bytes("memo", MAX_MEMO_LEN)?)
            .map_err(|_| DecodeError::Invalid {
                field: "memo",
                reason: "not UTF-8",
            })?
            .to_owned();
        let public_key =
            PublicKey::from_bytes(r.take(PUBLIC_KEY_LEN)?).map_err(|_| DecodeError::Invalid {
                field: "public_key",
                reason: "wrong length",
            })?;
        Ok(Self {
            chain_id,
            from,
            to,
            amount,
            fee,
            nonce,
            memo,
            public_key,
        })
    }

    /// Signs this transfer. `randomness` is FIPS 204's `rnd` (fresh random
    /// bytes for hedged signing).
    pub fn sign(
        self,
        key: &SigningKey,
        randomness: [u8; 32],
    ) -> Result<SignedTransfer, CryptoError> {
        let signature = key.sign(&self.signing_bytes(), context::TRANSACTION, randomness)?;
        Ok(SignedTransfer {
            transfer: self,
            signature,
        })
    }
}

/// A transfer with its sender's signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedTransfer {
    /// What was signed.
    pub transfer: Transfer,
    /// ML-DSA-65 signature over [`Transfer::signing_bytes`] with context `ruv/tx/v1`.
    pub signature: Signature,
}

impl SignedTransfer {
    /// The canonical signed encoding.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut w = Writer::with_capacity(MAX_SIGNED_TRANSFER_LEN);
        self.transfer.encode_into(&mut w);
        w.fixed(self.signature.as_bytes());
        w.finish()
    }

    /// Decodes a signed encoding; total (never panics), rejects trailing bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        if bytes.len() > MAX_SIGNED_TRANSFER_LEN {
            return Err(DecodeError::TooLong {
                field: "signed transfer",
                len: bytes.len(),
                max: MAX_SIGNED_TRANSFER_LEN,
            });
        }
        let mut r = Reader::new(bytes);
        let transfer = Transfer::decode_from(&mut r)?;
        let signature =
            Signature::from_bytes(r.take(SIGNATURE_LEN)?).map_err(|_| DecodeError::Invalid {
                field: "signature",
                reason: "wrong length",
            })?;
        r.finish()?;
        Ok(Self {
            transfer,
            signature,
        })
    }

    /// Size of the signed encoding in bytes (what the per-byte fee is charged on).
    pub fn encoded_len(&self) -> usize {
        SIGNED_TRANSFER_FIXED_LEN + self.transfer.chain_id.len() + self.transfer.memo.len()
    }

    /// The transaction id.
    pub fn id(&self) -> TxId {
        TxId(hash(hash_context::TRANSACTION_ID, &[&self.to_bytes()]))
    }

    /// Checks the signature against the embedded public key.
    pub fn verify_signature(&self) -> Result<(), CryptoError> {
        self.transfer.public_key.verify(
            &self.transfer.signing_bytes(),
            context::TRANSACTION,
            &self.signature,
        )
    }
}

/// A signed transfer whose signature has been checked. Only
/// [`SignedTransfer::check_signature`] makes one, so a holder (the engine,
/// given one by its driver) need not check it again: each transfer's
/// signature is verified once, where it can run in parallel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedTransfer(Arc<SignedTransfer>);

impl CheckedTransfer {
    /// The transfer, shared.
    pub fn shared(&self) -> &Arc<SignedTransfer> {
        &self.0
    }

    /// Gives up the proof of checking.
    pub fn into_shared(self) -> Arc<SignedTransfer> {
        self.0
    }
}

impl std::ops::Deref for CheckedTransfer {
    type Target = SignedTransfer;

    fn deref(&self) -> &SignedTransfer {
        &self.0
    }
}

impl SignedTransfer {
    /// Checks the signature and, if it holds, says so in the type.
    pub fn check_signature(self: Arc<Self>) -> Result<CheckedTransfer, CryptoError> {
        self.verify_signature()?;
        Ok(CheckedTransfer(self))
    }
}

/// The JSON form of a signed transfer.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SignedTransferJson {
    chain_id: String,
    from: Address,
    to: Address,
    #[serde(with = "u64_string")]
    amount: u64,
    #[serde(with = "u64_string")]
    fee: u64,
    #[serde(with = "u64_string")]
    nonce: u64,
    #[serde(default)]
    memo: String,
    #[serde(with = "base64url")]
    public_key: Vec<u8>,
    #[serde(with = "base64url")]
    signature: Vec<u8>,
}

impl Serialize for SignedTransfer {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let t = &self.transfer;
        SignedTransferJson {
            chain_id: t.chain_id.clone(),
            from: t.from,
            to: t.to,
            amount: t.amount,
            fee: t.fee,
            nonce: t.nonce,
            memo: t.memo.clone(),
            public_key: t.public_key.as_bytes().to_vec(),
            signature: self.signature.as_bytes().to_vec(),
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for SignedTransfer {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let j = SignedTransferJson::deserialize(d)?;
        validate_chain_id(&j.chain_id).map_err(D::Error::custom)?;
        if j.memo.len() > MAX_MEMO_LEN {
            return Err(D::Error::custom(format!(
                "memo longer than {MAX_MEMO_LEN} bytes"
            )));
        }
        Ok(SignedTransfer {
            transfer: Transfer {
                chain_id: j.chain_id,
                from: j.from,
                to: j.to,
                amount: j.amount,
                fee: j.fee,
                nonce: j.nonce,
                memo: j.memo,
                public_key: PublicKey::from_bytes(&j.public_key).map_err(D::Error::custom)?,
            },
            signature: Signature::from_bytes(&j.signature).map_err(D::Error::custom)?,
        })
    }
}

/// A transaction id: BLAKE3 of the signed encoding, shown as 64 hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TxId(pub [u8; 32]);

impl fmt::Display for TxId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for TxId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TxId({})", &hex::encode(self.0)[..16])
    }
}

/// Why a string is not a transaction id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("transaction id must be 64 lower-case hex digits")]
pub struct TxIdParseError;

impl FromStr for TxId {
    type Err = TxIdParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.len() != 64 || s.bytes().any(|b| b.is_ascii_uppercase()) {
            return Err(TxIdParseError);
        }
        let mut out = [0u8; 32];
        hex::decode_to_slice(s, &mut out).map_err(|_| TxIdParseError)?;
        Ok(TxId(out))
    }
}

impl Serialize for TxId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for TxId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;

    pub(crate) fn sample_transfer(
        key: &SigningKey,
        to: Address,
        amount: u64,
        fee: u64,
        nonce: u64,
    ) -> Transfer {
        Transfer {
            chain_id: "ruv-test".into(),
            from: Address::from_public_key(key.public_key()),
            to,
            amount,
            fee,
            nonce,
            memo: String::new(),
            public_key: key.public_key().clone(),
        }
    }

    #[test]
    fn signed_transfer_round_trips_in_binary_and_json() {
        let key = SigningKey::from_seed(&[1; 32]);
        let mut t = sample_transfer(&key, Address::from_bytes([2; 32]), 5, 7, 1);
        t.memo = "coffee ☕".into();
        let signed = t.sign(&key, [0; 32]).unwrap();
        signed.verify_signature().unwrap();
        let bytes = signed.to_bytes();
        assert_eq!(bytes.len(), signed.encoded_len());
        assert_eq!(SignedTransfer::from_bytes(&bytes).unwrap(), signed);
        let json = serde_json::to_string(&signed).unwrap();
        let back: SignedTransfer = serde_json::from_str(&json).unwrap();
        assert_eq!(back, signed);
        assert_eq!(back.id(), signed.id());
        assert_eq!(
            signed.id().to_string().parse::<TxId>().unwrap(),
            signed.id()
        );
    }

    #[test]
    fn tampering_breaks_the_signature() {
        let key = SigningKey::from_seed(&[1; 32]);
        let mut signed = sample_transfer(&key, Address::from_bytes([2; 32]), 5, 7, 1)
            .sign(&key, [0; 32])
            .unwrap();
        let untouched = Arc::new(signed.clone());
        signed.transfer.amount = 6;
        assert_eq!(signed.verify_signature(), Err(CryptoError::BadSignature));
        // Only a good signature becomes a `CheckedTransfer`.
        assert_eq!(
            Arc::new(signed).check_signature(),
            Err(CryptoError::BadSignature)
        );
        let checked = untouched.clone().check_signature().unwrap();
        assert_eq!(checked.id(), untouched.id());
        assert!(Arc::ptr_eq(checked.shared(), &untouched));
    }

    #[test]
    fn json_rejects_bad_fields() {
        let key = SigningKey::from_seed(&[1; 32]);
        let signed = sample_transfer(&key, Address::from_bytes([2; 32]), 5, 7, 1)
            .sign(&key, [0; 32])
            .unwrap();
        let good = serde_json::to_value(&signed).unwrap();
        for (field, value) in [
            ("amount", serde_json::json!(5)),
            ("amount", serde_json::json!("-5")),
            ("chain_id", serde_json::json!("Bad Chain")),
            ("memo", serde_json::json!("x".repeat(129))),
            ("public_key", serde_json::json!("AAAA")),
            ("signature", serde_json::json!("!!")),
            ("to", serde_json::json!("ruv1notanaddress")),
        ] {
            let mut v = good.clone();
            v[field] = value;
            assert!(
                serde_json::from_value::<SignedTransfer>(v).is_err(),
                "{field}"
            );
        }
        let mut extra = good.clone();
        extra["surprise"] = serde_json::json!(1);
        assert!(serde_json::from_value::<SignedTransfer>(extra).is_err());
    }

    #[test]
    fn decoder_rejects_wrong_version_and_trailing_bytes() {
        let key = SigningKey::from_seed(&[1; 32]);
        let signed = sample_transfer(&key, Address::from_bytes([2; 32]), 5, 7, 1)
            .sign(&key, [0; 32])
            .unwrap();
        let mut bytes = signed.to_bytes();
        bytes[0] = 9;
        assert_eq!(
            SignedTransfer::from_bytes(&bytes),
            Err(DecodeError::UnknownTag {
                field: "transaction version",
                tag: 9
            })
        );
        let mut bytes = signed.to_bytes();
        bytes.push(0);
        assert_eq!(
            SignedTransfer::from_bytes(&bytes),
            Err(DecodeError::TrailingBytes(1))
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn decoding_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..6000)) {
            let _ = SignedTransfer::from_bytes(&bytes);
        }

        #[test]
        fn decoding_mutated_encodings_never_panics(index in 0usize..5500, value: u8, cut in 0usize..5500) {
            let key = SigningKey::from_seed(&[4; 32]);
            let signed = sample_transfer(&key, Address::from_bytes([2; 32]), 1, 1, 1).sign(&key, [0; 32]).unwrap();
            let mut bytes = signed.to_bytes();
            let i = index % bytes.len();
            bytes[i] = value;
            let _ = SignedTransfer::from_bytes(&bytes);
            bytes.truncate(cut % bytes.len());
            prop_assert!(SignedTransfer::from_bytes(&bytes).is_err());
        }

        #[test]
        fn encoding_round_trips(amount: u64, fee: u64, nonce: u64, memo in "\\PC{0,30}", to: [u8; 32]) {
            prop_assume!(memo.len() <= MAX_MEMO_LEN);
            let key = SigningKey::from_seed(&[5; 32]);
            let mut t = sample_transfer(&key, Address::from_bytes(to), amount, fee, nonce);
            t.memo = memo;
            // A structurally valid signature is enough for the codec; it is not verified here.
            let signed = SignedTransfer { transfer: t, signature: Signature::from_bytes(&[3; SIGNATURE_LEN]).unwrap() };
            prop_assert_eq!(SignedTransfer::from_bytes(&signed.to_bytes()).unwrap(), signed);
        }
    }
}
