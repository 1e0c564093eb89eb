//! Checkpoints: the small headers light clients trust, and the certificates
//! that make them trustworthy.
//!
//! # Overview
//!
//! Relays agree on a linear sequence of checkpoints over the accepted DAG.
//! Checkpoint `n` commits to the ledger state after a deterministic set of
//! accepted vertices (its *anchor*: the closure of a few accepted vertex
//! ids), by the root of a sparse Merkle tree over accounts
//! ([`crate::smt`], [`TreeKind::State`](crate::smt::TreeKind)), and to the
//! transactions first included in it by a second tree keyed by transaction
//! id. A [`Certificate`] is the header, the agreement round, and ML-DSA-65
//! precommit signatures (context `ruv/precommit/v1`, message `u32 round LE
//! || header encoding`) of validators holding **more than 2/3 of the
//! stake** in that one round, counted in integers (`3 * signed > 2 *
//! total`). Precommits of different rounds never add up: the round is part
//! of every signed message, so a signature from another round does not
//! verify against the certificate's round. With a fixed validator set
//! (epoch 0) the genesis file alone lets anyone check any certificate: no
//! chain of earlier headers is needed, though every header names its
//! predecessor so a verified header authenticates all older ones by hash.
//!
//! # Header layout (all integers little-endian)
//!
//! | field | encoding |
//! | --- | --- |
//! | version | u8, always [`CHECKPOINT_VERSION`] |
//! | chain id | u8 length + ASCII `[a-z0-9-]`, 1 to 32 bytes |
//! | genesis hash | 32 bytes ([`Genesis::hash`]) |
//! | epoch | u64 (0 while the validator set is fixed) |
//! | number | u64 (0 is the genesis state) |
//! | previous | 32 bytes: id of header `number - 1` (zero for 0) |
//! | anchor | 32 bytes: [`anchor_hash`] of the vertex ids whose closure the state covers |
//! | state root | 32 bytes |
//! | transaction root | 32 bytes |
//! | transaction count | u64: transactions first included in this checkpoint |
//! | circulating | u64, micro-rUv |
//! | burned | u64, micro-rUv (`circulating + burned` = genesis supply) |
//! | time | u64, milliseconds since the Unix epoch (the proposer's clock) |
//! | validator set hash | 32 bytes ([`ValidatorSet::hash`]) |
//! | next validator set hash | 32 bytes, zero unless the epoch ends here |
//!
//! The header id is BLAKE3 (derive-key context `rUv 2026-11 checkpoint
//! header id v1`) of the encoding; precommits and prevotes sign the round
//! followed by the encoding ([`CheckpointHeader::vote_message`]).
//!
//! # Certificate layout
//!
//! | field | encoding |
//! | --- | --- |
//! | header | u16 length + the header encoding |
//! | round | u32: the agreement round every signature precommits in |
//! | validator count | u16, at most [`MAX_CERTIFICATE_VALIDATORS`] |
//! | signers | `ceil(count / 8)` bytes, bit `i % 8` of byte `i / 8` = validator `i` signed; padding bits zero |
//! | signatures | one 3309-byte ML-DSA-65 signature per set bit, in validator order |
//!
//! At most [`MAX_CERTIFICATE_LEN`] bytes. Decoding is total.

use crate::codec::{DecodeError, Reader, Writer};
use crate::crypto::{context, hash, hash_context, PublicKey, Signature, SigningKey, SIGNATURE_LEN};
use crate::genesis::Genesis;
use crate::ledger::Account;
use crate::serde_bytes::u64_string;
use crate::tx::{read_chain_id, MAX_CHAIN_ID_LEN};
use crate::Address;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Encoding version of [`CheckpointHeader`].
pub const CHECKPOINT_VERSION: u8 = 1;
/// Most validators a certificate can name (its bitmap's bound). At this size
/// a certificate is at most about 850 KB.
pub const MAX_CERTIFICATE_VALIDATORS: usize = 256;
/// Largest header encoding.
pub const MAX_HEADER_LEN: usize = 1 + 1 + MAX_CHAIN_ID_LEN + 32 + 8 + 8 + 32 * 4 + 8 * 4 + 32 + 32;
/// Largest certificate encoding: every validator signed (more than needed,
/// but valid).
pub const MAX_CERTIFICATE_LEN: usize = 2
    + MAX_HEADER_LEN
    + 4
    + 2
    + MAX_CERTIFICATE_VALIDATORS.div_ceil(8)
    + MAX_CERTIFICATE_VALIDATORS * SIGNATURE_LEN;
/// Most vertex ids an anchor may name.
pub const MAX_ANCHOR_VERTICES: usize = 64;

/// A 32-byte hash shown as hex.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Hash32(pub [u8; 32]);

impl Hash32 {
    /// All zero: "none".
    pub const ZERO: Hash32 = Hash32([0; 32]);
}

impl fmt::Display for Hash32 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for Hash32 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", &hex::encode(self.0)[..12])
    }
}

impl Serialize for Hash32 {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Hash32 {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error as _;
        let text = String::deserialize(d)?;
        // Lower-case only: one spelling per value.
        if text.len() != 64 || text.bytes().any(|b| b.is_ascii_uppercase()) {
            return Err(D::Error::custom("expected 64 lower-case hex digits"));
        }
        let mut out = [0u8; 32];
        hex::decode_to_slice(&text, &mut out)
            .map_err(|_| D::Error::custom("expected 64 lower-case hex digits"))?;
        Ok(Hash32(out))
    }
}

/// The leaf value of an account in the state tree: balance then nonce, u64
/// little-endian each.
pub fn account_leaf_value(account: &Account) -> [u8; 16] {
    let mut value = [0u8; 16];
    value[..8].copy_from_slice(&account.balance.to_le_bytes());
    value[8..].copy_from_slice(&account.nonce.to_le_bytes());
    value
}

/// The leaf value of a transaction in a checkpoint's transaction tree: the
/// sender's address hash then the nonce (u64 little-endian). It lets a
/// client prove "this (sender, nonce) was used by that transaction" without
/// the whole transfer.
pub fn transaction_leaf_value(from: &Address, nonce: u64) -> [u8; 40] {
    let mut value = [0u8; 40];
    value[..32].copy_from_slice(from.as_bytes());
    value[32..].copy_from_slice(&nonce.to_le_bytes());
    value
}

/// The anchor hash of a set of accepted vertex ids (sorted and deduplicated
/// by the caller's [`anchor_hash`] call).
pub fn anchor_hash(vertices: &[[u8; 32]]) -> Hash32 {
    let mut sorted: Vec<&[u8; 32]> = vertices.iter().collect();
    sorted.sort();
    sorted.dedup();
    let parts: Vec<&[u8]> = sorted.iter().map(|v| v.as_slice()).collect();
    Hash32(hash(hash_context::CHECKPOINT_ANCHOR, &parts))
}

/// The validators that sign certificates, with their stakes, in genesis order.
#[derive(Debug, Clone)]
pub struct ValidatorSet {
    validators: Vec<(PublicKey, u64)>,
    total_stake: u128,
    hash: Hash32,
}

impl ValidatorSet {
    /// The genesis validator set (epoch 0). The genesis must be valid.
    pub fn from_genesis(genesis: &Genesis) -> Result<Self, CheckpointError> {
        let validators = genesis.validator_keys();
        if validators.len() != genesis.validators.len() || validators.is_empty() {
            return Err(CheckpointError::ValidatorSet("invalid validator keys"));
        }
        if validators.len() > MAX_CERTIFICATE_VALIDATORS {
            return Err(CheckpointError::ValidatorSet(
                "more validators than a certificate can name",
            ));
        }
        let total_stake = validators.iter().map(|(_, s)| *s as u128).sum();
        let mut w = Writer::with_capacity(validators.len() * 1960);
        w.u16(validators.len() as u16);
        for (key, stake) in &validators {
            w.fixed(key.as_bytes()).u64(*stake);
        }
        let hash = Hash32(hash(hash_context::VALIDATOR_SET, &[&w.finish()]));
        Ok(Self {
            validators,
            total_stake,
            hash,
        })
    }

    /// Number of validators.
    pub fn len(&self) -> usize {
        self.validators.len()
    }

    /// Never true for a set built from a valid genesis.
    pub fn is_empty(&self) -> bool {
        self.validators.is_empty()
    }

    /// Sum of all stakes.
    pub fn total_stake(&self) -> u128 {
        self.total_stake
    }

    /// A validator's key and stake.
    pub fn get(&self, index: usize) -> Option<&(PublicKey, u64)> {
        self.validators.get(index)
    }

    /// The set's identity, committed in every header.
    pub fn hash(&self) -> Hash32 {
        self.hash
    }

    /// Whether `signed` stake is a certificate's quorum: more than 2/3 of the total.
    pub fn is_quorum(&self, signed: u128) -> bool {
        signed.saturating_mul(3) > self.total_stake.saturating_mul(2)
    }

    /// Whether `signed` stake is more than 1/3 of the total: with Byzantine
    /// stake below 1/3, at least one honest validator is among the signers.
    pub fn is_more_than_a_third(&self, signed: u128) -> bool {
        signed.saturating_mul(3) > self.total_stake
    }
}

/// A checkpoint header. See the module docs for its encoding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckpointHeader {
    /// Encoding version, [`CHECKPOINT_VERSION`].
    pub version: u8,
    /// The network.
    pub chain_id: String,
    /// [`Genesis::hash`] of the network's genesis.
    pub genesis_hash: Hash32,
    /// 0 while the validator set is fixed.
    #[serde(with = "u64_string")]
    pub epoch: u64,
    /// Position in the sequence; 0 is the genesis state.
    #[serde(with = "u64_string")]
    pub number: u64,
    /// Id of header `number - 1` (zero for number 0).
    pub previous: Hash32,
    /// What the state covers ([`anchor_hash`]; zero for number 0).
    pub anchor: Hash32,
    /// Root of the account tree.
    pub state_root: Hash32,
    /// Root of the tree of transactions first included here.
    pub transaction_root: Hash32,
    /// How many transactions that tree holds.
    #[serde(with = "u64_string")]
    pub transaction_count: u64,
    /// Sum of all balances, micro-rUv.
    #[serde(with = "u64_string")]
    pub circulating: u64,
    /// Burned fees so far, micro-rUv.
    #[serde(with = "u64_string")]
    pub burned: u64,
    /// Milliseconds since the Unix epoch when it was proposed.
    #[serde(with = "u64_string")]
    pub time_ms: u64,
    /// [`ValidatorSet::hash`] of the set that signs this header.
    pub validator_set_hash: Hash32,
    /// Hash of the next set (zero unless the epoch ends here).
    pub next_validator_set_hash: Hash32,
}

impl CheckpointHeader {
    /// The canonical encoding (what is signed and hashed).
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::with_capacity(MAX_HEADER_LEN);
        w.u8(self.version)
            .short_bytes(self.chain_id.as_bytes())
            .fixed(&self.genesis_hash.0)
            .u64(self.epoch)
            .u64(self.number)
            .fixed(&self.previous.0)
            .fixed(&self.anchor.0)
            .fixed(&self.state_root.0)
            .fixed(&self.transaction_root.0)
            .u64(self.transaction_count)
            .u64(self.circulating)
            .u64(self.burned)
            .u64(self.time_ms)
            .fixed(&self.validator_set_hash.0)
            .fixed(&self.next_validator_set_hash.0);
        w.finish()
    }

    /// Decodes exactly one header (no trailing bytes).
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes);
        let header = Self::decode_from(&mut r)?;
        r.finish()?;
        Ok(header)
    }

    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let version = r.version("checkpoint version", CHECKPOINT_VERSION)?;
        let chain_id = read_chain_id(r)?;
        Ok(Self {
            version,
            chain_id,
            genesis_hash: Hash32(r.array()?),
            epoch: r.u64()?,
            number: r.u64()?,
            previous: Hash32(r.array()?),
            anchor: Hash32(r.array()?),
            state_root: Hash32(r.array()?),
            transaction_root: Hash32(r.array()?),
            transaction_count: r.u64()?,
            circulating: r.u64()?,
            burned: r.u64()?,
            time_ms: r.u64()?,
            validator_set_hash: Hash32(r.array()?),
            next_validator_set_hash: Hash32(r.array()?),
        })
    }

    /// The header id: BLAKE3 of the encoding.
    pub fn id(&self) -> Hash32 {
        Hash32(hash(hash_context::CHECKPOINT_ID, &[&self.encode()]))
    }

    /// What a precommit or a prevote for this header in `round` signs:
    /// u32 round little-endian, then the header encoding (the FIPS 204
    /// context tells the two kinds apart).
    pub fn vote_message(&self, round: u32) -> Vec<u8> {
        let mut w = Writer::with_capacity(4 + MAX_HEADER_LEN);
        w.u32(round).fixed(&self.encode());
        w.finish()
    }

    /// A validator's precommit for this header in `round` (a certificate
    /// share, context `ruv/precommit/v1`).
    pub fn sign_precommit(
        &self,
        round: u32,
        key: &SigningKey,
        randomness: [u8; 32],
    ) -> Result<Signature, CheckpointError> {
        key.sign(&self.vote_message(round), context::PRECOMMIT, randomness)
            .map_err(|_| CheckpointError::Signing)
    }

    /// Checks one validator's precommit for this header in `round`.
    pub fn verify_precommit(&self, round: u32, key: &PublicKey, signature: &Signature) -> bool {
        key.verify(&self.vote_message(round), context::PRECOMMIT, signature)
            .is_ok()
    }

    /// A validator's prevote for this header in `round` (context
    /// `ruv/prevote/v1`): forwardable evidence in a proof of lock.
    pub fn sign_prevote(
        &self,
        round: u32,
        key: &SigningKey,
        randomness: [u8; 32],
    ) -> Result<Signature, CheckpointError> {
        key.sign(&self.vote_message(round), context::PREVOTE, randomness)
            .map_err(|_| CheckpointError::Signing)
    }

    /// Checks one validator's prevote for this header in `round`.
    pub fn verify_prevote(&self, round: u32, key: &PublicKey, signature: &Signature) -> bool {
        key.verify(&self.vote_message(round), context::PREVOTE, signature)
            .is_ok()
    }
}

/// A header with the signatures that certify it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Certificate {
    /// The certified header.
    pub header: CheckpointHeader,
    /// The agreement round every signature precommits in.
    pub round: u32,
    /// Size of the validator set the signer indices refer to.
    pub validator_count: u16,
    /// Signers' validator indices, strictly ascending.
    pub signers: Vec<u16>,
    /// One signature per signer, same order.
    pub signatures: Vec<Signature>,
}

impl Certificate {
    /// The canonical encoding (module docs).
    pub fn encode(&self) -> Vec<u8> {
        let header = self.header.encode();
        let count = self.validator_count as usize;
        let mut bitmap = vec![0u8; count.div_ceil(8)];
        for signer in &self.signers {
            let i = *signer as usize;
            if let Some(byte) = bitmap.get_mut(i / 8) {
                *byte |= 1 << (i % 8);
            }
        }
        let mut w = Writer::with_capacity(
            8 + header.len() + bitmap.len() + self.signatures.len() * SIGNATURE_LEN,
        );
        w.u16(header.len() as u16)
            .fixed(&header)
            .u32(self.round)
            .u16(self.validator_count)
            .fixed(&bitmap);
        for signature in &self.signatures {
            w.fixed(signature.as_bytes());
        }
        w.finish()
    }

    /// Decodes a certificate. Total: any input gives a certificate or an error.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        if bytes.len() > MAX_CERTIFICATE_LEN {
            return Err(DecodeError::TooLong {
                field: "certificate",
                len: bytes.len(),
                max: MAX_CERTIFICATE_LEN,
            });
        }
        let mut r = Reader::new(bytes);
        let header_len = r.u16()? as usize;
        if header_len > MAX_HEADER_LEN {
            return Err(DecodeError::TooLong {
                field: "header",
                len: header_len,
                max: MAX_HEADER_LEN,
            });
        }
        let header = CheckpointHeader::decode(r.take(header_len)?)?;
        let round = r.u32()?;
        let count = r.u16()? as usize;
        if count == 0 || count > MAX_CERTIFICATE_VALIDATORS {
            return Err(DecodeError::Invalid {
                field: "validator count",
                reason: "must be 1 to 256",
            });
        }
        let bitmap = r.take(count.div_ceil(8))?;
        let mut signers = Vec::new();
        for i in 0..bitmap.len() * 8 {
            if bitmap[i / 8] & (1 << (i % 8)) != 0 {
                if i >= count {
                    return Err(DecodeError::Invalid {
                        field: "signers",
                        reason: "padding bits must be zero",
                    });
                }
                signers.push(i as u16);
            }
        }
        let mut signatures = Vec::with_capacity(signers.len());
        for _ in &signers {
            let sig = Signature::from_bytes(r.take(SIGNATURE_LEN)?).map_err(|_| {
                DecodeError::Invalid {
                    field: "signature",
                    reason: "wrong length",
                }
            })?;
            signatures.push(sig);
        }
        r.finish()?;
        Ok(Self {
            header,
            round,
            validator_count: count as u16,
            signers,
            signatures,
        })
    }

    /// Checks the certificate against a validator set: the set matches the
    /// header's hash and the bitmap's size, every listed signature is a
    /// valid precommit for the header *in the certificate's round* (a
    /// precommit from any other round fails as [`CheckpointError::BadSignature`]),
    /// and the signers hold more than 2/3 of the stake.
    pub fn verify(&self, validators: &ValidatorSet) -> Result<(), CheckpointError> {
        if self.header.validator_set_hash != validators.hash() {
            return Err(CheckpointError::WrongValidatorSet);
        }
        if self.validator_count as usize != validators.len() {
            return Err(CheckpointError::WrongValidatorSet);
        }
        if self.signers.len() != self.signatures.len() {
            return Err(CheckpointError::Malformed(
                "signers and signatures differ in number",
            ));
        }
        if self.signers.windows(2).any(|w| w[0] >= w[1]) {
            return Err(CheckpointError::Malformed(
                "signers must be strictly ascending",
            ));
        }
        let message = self.header.vote_message(self.round);
        let mut signed: u128 = 0;
        for (signer, signature) in self.signers.iter().zip(&self.signatures) {
            let (key, stake) = validators
                .get(*signer as usize)
                .ok_or(CheckpointError::Malformed("signer index out of range"))?;
            key.verify(&message, context::PRECOMMIT, signature)
                .map_err(|_| CheckpointError::BadSignature { signer: *signer })?;
            signed += *stake as u128;
        }
        if !validators.is_quorum(signed) {
            return Err(CheckpointError::BelowQuorum {
                signed,
                total: validators.total_stake(),
            });
        }
        Ok(())
    }

    /// The JSON form of the client API.
    pub fn to_json(&self) -> CertifiedCheckpoint {
        CertifiedCheckpoint {
            header: self.header.clone(),
            header_id: self.header.id(),
            round: self.round,
            validator_count: self.validator_count,
            signers: self.signers.clone(),
            signatures: self
                .signatures
                .iter()
                .map(|s| s.as_bytes().to_vec())
                .collect(),
        }
    }
}

/// A certified checkpoint as the client API sends it (JSON): the header's
/// fields, its id, the signers and their signatures (base64url). Every field
/// is checked by [`crate::light::verify_checkpoint`]: the header by the
/// signatures over its re-encoding, the id by recomputing it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CertifiedCheckpoint {
    /// The header.
    pub header: CheckpointHeader,
    /// Its id (hex), as the relay computed it.
    pub header_id: Hash32,
    /// The agreement round the signatures precommit in.
    pub round: u32,
    /// Size of the validator set.
    pub validator_count: u16,
    /// Validator indices of the signers, ascending.
    pub signers: Vec<u16>,
    /// Their signatures, same order, base64url.
    #[serde(with = "signature_list")]
    pub signatures: Vec<Vec<u8>>,
}

impl CertifiedCheckpoint {
    /// Back to the binary certificate (checks shapes, not signatures).
    pub fn to_certificate(&self) -> Result<Certificate, CheckpointError> {
        if self.signers.len() > MAX_CERTIFICATE_VALIDATORS
            || self.signatures.len() != self.signers.len()
        {
            return Err(CheckpointError::Malformed(
                "signers and signatures differ in number",
            ));
        }
        let signatures = self
            .signatures
            .iter()
            .map(|s| Signature::from_bytes(s))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| CheckpointError::Malformed("a signature is not 3309 bytes"))?;
        Ok(Certificate {
            header: self.header.clone(),
            round: self.round,
            validator_count: self.validator_count,
            signers: self.signers.clone(),
            signatures,
        })
    }
}

mod signature_list {
    use super::*;
    use serde::{Deserializer, Serializer};

    pub fn serialize<S: Serializer>(value: &[Vec<u8>], s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let mut seq = s.serialize_seq(Some(value.len()))?;
        for sig in value {
            seq.serialize_element(&crate::serde_bytes::to_base64url(sig))?;
        }
        seq.end()
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Vec<u8>>, D::Error> {
        use serde::de::Error as _;
        let texts = Vec::<String>::deserialize(d)?;
        if texts.len() > MAX_CERTIFICATE_VALIDATORS {
            return Err(D::Error::custom("too many signatures"));
        }
        texts
            .iter()
            .map(|t| {
                crate::serde_bytes::from_base64url(t)
                    .map_err(|_| D::Error::custom("invalid base64url (unpadded)"))
            })
            .collect()
    }
}

/// Why a checkpoint or certificate is not acceptable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointError {
    /// The genesis validator set cannot sign certificates.
    #[error("validator set: {0}")]
    ValidatorSet(&'static str),
    /// The header names another validator set.
    #[error("the certificate is for another validator set")]
    WrongValidatorSet,
    /// Shapes that cannot be right.
    #[error("malformed certificate: {0}")]
    Malformed(&'static str),
    /// A listed signature does not verify (as a precommit for this header
    /// in the certificate's round).
    #[error("signature of validator {signer} does not verify")]
    BadSignature {
        /// The signer's index.
        signer: u16,
    },
    /// The signers hold 2/3 of the stake or less.
    #[error("signers hold {signed} of {total} stake, more than 2/3 is needed")]
    BelowQuorum {
        /// Stake that signed.
        signed: u128,
        /// Total stake.
        total: u128,
    },
    /// Signing failed (rejection sampling ran out; retry with new randomness).
    #[error("signing failed")]
    Signing,
}
