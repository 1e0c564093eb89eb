//! Vertices: batches of transactions that reference parent vertices, signed
//! by the relay (genesis validator) that issued them.
//!
//! Canonical binary layout (all integers little-endian):
//!
//! | field | encoding |
//! | --- | --- |
//! | version | u8, always [`VERTEX_VERSION`] |
//! | chain id | u8 length + ASCII `[a-z0-9-]`, 1 to 32 bytes |
//! | issuer | u16, index of the validator in the genesis file |
//! | height | u64: 0 without parents, else 1 + the highest parent height |
//! | parents | u8 count (at most [`MAX_VERTEX_PARENTS`]) + 32-byte ids, strictly ascending |
//! | transactions | u16 count (at most [`MAX_VERTEX_TXS`]) + for each a u32 length and the signed transfer encoding (at most `MAX_SIGNED_TRANSFER_LEN`) |
//! | signature | 3309 bytes: ML-DSA-65 over everything above, FIPS 204 context `ruv/vertex/v1` |
//!
//! The whole encoding is at most [`MAX_VERTEX_LEN`] bytes. The vertex id is
//! BLAKE3 (derive-key context `rUv 2026-11 vertex id v1`) of the whole signed
//! encoding. Decoding is total: any input gives a [`Vertex`] or a
//! [`DecodeError`], never a panic. Genesis parameters (`parents`,
//! `batch_size`) limit vertices further; the engine checks those.

use ruv_protocol::codec::{DecodeError, Reader, Writer};
use ruv_protocol::crypto::{
    context, hash, hash_context, CryptoError, PublicKey, Signature, SigningKey, SIGNATURE_LEN,
};
use ruv_protocol::tx::{
    read_chain_id, validate_chain_id, MAX_CHAIN_ID_LEN, MAX_SIGNED_TRANSFER_LEN,
};
use ruv_protocol::{SignedTransfer, TxId};
use std::fmt;
use std::sync::Arc;

/// Encoding version of a vertex.
pub const VERTEX_VERSION: u8 = 1;
/// Most parents any vertex may reference (genesis `parents` must not exceed it).
pub const MAX_VERTEX_PARENTS: usize = 16;
/// Most transactions any vertex may carry (genesis `batch_size` must not exceed it).
pub const MAX_VERTEX_TXS: usize = 128;
/// Largest possible vertex encoding (about 706 KB).
pub const MAX_VERTEX_LEN: usize = 1
    + 1
    + MAX_CHAIN_ID_LEN
    + 2
    + 8
    + 1
    + 32 * MAX_VERTEX_PARENTS
    + 2
    + MAX_VERTEX_TXS * (4 + MAX_SIGNED_TRANSFER_LEN)
    + SIGNATURE_LEN;

/// A vertex id: BLAKE3 of the signed encoding.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct VertexId(pub [u8; 32]);

impl fmt::Display for VertexId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for VertexId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "VertexId({})", &hex::encode(self.0)[..12])
    }
}

impl serde::Serialize for VertexId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A validator's position in the genesis validator list. Peer links
/// authenticate validators and hand the engine this index.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct ValidatorIndex(pub u16);

impl fmt::Display for ValidatorIndex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "v{}", self.0)
    }
}

/// The signed part of a vertex, before signing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VertexContent {
    /// The network (must equal the genesis chain id).
    pub chain_id: String,
    /// The issuing validator.
    pub issuer: ValidatorIndex,
    /// 0 without parents, else 1 + the highest parent height.
    pub height: u64,
    /// Parent ids; [`VertexContent::sign`] sorts and deduplicates them.
    pub parents: Vec<VertexId>,
    /// The batched transactions, in the order they apply.
    pub txs: Vec<Arc<SignedTransfer>>,
}

impl VertexContent {
    fn encode_into(&self, w: &mut Writer) {
        w.u8(VERTEX_VERSION)
            .short_bytes(self.chain_id.as_bytes())
            .u16(self.issuer.0)
            .u64(self.height)
            .u8(self.parents.len() as u8);
        for parent in &self.parents {
            w.fixed(&parent.0);
        }
        w.u16(self.txs.len() as u16);
        for tx in &self.txs {
            w.long_bytes(&tx.to_bytes());
        }
    }

    /// Signs the content with the issuer's key. `randomness` is FIPS 204's
    /// `rnd`. Fails if the content breaks the encoding's limits.
    pub fn sign(
        mut self,
        key: &SigningKey,
        randomness: [u8; 32],
    ) -> Result<Vertex, VertexBuildError> {
        self.parents.sort();
        self.parents.dedup();
        if self.parents.len() > MAX_VERTEX_PARENTS {
            return Err(VertexBuildError::TooManyParents(self.parents.len()));
        }
        if self.txs.len() > MAX_VERTEX_TXS {
            return Err(VertexBuildError::TooManyTransactions(self.txs.len()));
        }
        validate_chain_id(&self.chain_id).map_err(|_| VertexBuildError::ChainId)?;
        let mut w = Writer::with_capacity(4096);
        self.encode_into(&mut w);
        let mut bytes = w.finish();
        let signature = key.sign(&bytes, context::VERTEX, randomness)?;
        bytes.extend_from_slice(signature.as_bytes());
        let id = VertexId(hash(hash_context::VERTEX_ID, &[&bytes]));
        let tx_ids = self.txs.iter().map(|tx| tx.id()).collect();
        Ok(Vertex {
            content: self,
            signature,
            tx_ids,
            encoded_len: bytes.len(),
            id,
        })
    }
}

/// Why a vertex could not be built and signed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VertexBuildError {
    /// More parents than [`MAX_VERTEX_PARENTS`].
    #[error("{0} parents, limit is {MAX_VERTEX_PARENTS}")]
    TooManyParents(usize),
    /// More transactions than [`MAX_VERTEX_TXS`].
    #[error("{0} transactions, limit is {MAX_VERTEX_TXS}")]
    TooManyTransactions(usize),
    /// The chain id is not 1-32 characters of `[a-z0-9-]`.
    #[error("invalid chain id")]
    ChainId,
    /// ML-DSA signing failed.
    #[error(transparent)]
    Crypto(#[from] CryptoError),
}

/// A signed vertex with its id.
///
/// The encoding is not kept: the decoded fields hold every byte of it, and
/// keeping both doubled what each accepted vertex costs in memory (about
/// 5.3 KB per transfer). [`Vertex::bytes`] rebuilds it; the encoding is
/// canonical (fixed widths, explicit lengths, parents strictly ascending, no
/// trailing bytes), so the rebuilt bytes are the ones decoded or signed and
/// hash to [`Vertex::id`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vertex {
    content: VertexContent,
    signature: Signature,
    tx_ids: Vec<TxId>,
    encoded_len: usize,
    id: VertexId,
}

impl Vertex {
    /// The id of an encoding, without decoding it.
    pub fn id_of(bytes: &[u8]) -> VertexId {
        VertexId(hash(hash_context::VERTEX_ID, &[bytes]))
    }

    /// Decodes a signed vertex. Total: never panics, rejects trailing bytes,
    /// unsorted or repeated parents and anything over the documented limits.
    /// Does not check the signature (see [`Vertex::verify_signature`]).
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        if bytes.len() > MAX_VERTEX_LEN {
            return Err(DecodeError::TooLong {
                field: "vertex",
                len: bytes.len(),
                max: MAX_VERTEX_LEN,
            });
        }
        let mut r = Reader::new(bytes);
        r.version("vertex version", VERTEX_VERSION)?;
        let chain_id = read_chain_id(&mut r)?;
        let issuer = ValidatorIndex(r.u16()?);
        let height = r.u64()?;
        let parent_count = r.u8()? as usize;
        if parent_count > MAX_VERTEX_PARENTS {
            return Err(DecodeError::TooLong {
                field: "parents",
                len: parent_count,
                max: MAX_VERTEX_PARENTS,
            });
        }
        let mut parents: Vec<VertexId> = Vec::with_capacity(parent_count);
        for _ in 0..parent_count {
            let parent = VertexId(r.array()?);
            if parents.last().is_some_and(|last| *last >= parent) {
                return Err(DecodeError::Invalid {
                    field: "parents",
                    reason: "not strictly ascending",
                });
            }
            parents.push(parent);
        }
        let tx_count = r.u16()? as usize;
        if tx_count > MAX_VERTEX_TXS {
            return Err(DecodeError::TooLong {
                field: "transactions",
                len: tx_count,
                max: MAX_VERTEX_TXS,
            });
        }
        let mut txs = Vec::with_capacity(tx_count);
        let mut tx_ids = Vec::with_capacity(tx_count);
        for _ in 0..tx_count {
            let tx_bytes = r.long_bytes("transaction", MAX_SIGNED_TRANSFER_LEN)?;
            let tx = SignedTransfer::from_bytes(tx_bytes)?;
            tx_ids.push(TxId(hash(hash_context::TRANSACTION_ID, &[tx_bytes])));
            txs.push(Arc::new(tx));
        }
        let signature =
            Signature::from_bytes(r.take(SIGNATURE_LEN)?).map_err(|_| DecodeError::Invalid {
                field: "signature",
                reason: "wrong length",
            })?;
        r.finish()?;
        Ok(Self {
            content: VertexContent {
                chain_id,
                issuer,
                height,
                parents,
                txs,
            },
            signature,
            tx_ids,
            encoded_len: bytes.len(),
            id: Self::id_of(bytes),
        })
    }

    /// Checks the ML-DSA-65 signature against the issuer's public key.
    pub fn verify_signature(&self, issuer_key: &PublicKey) -> Result<(), CryptoError> {
        let mut w = Writer::with_capacity(self.encoded_len);
        self.content.encode_into(&mut w);
        issuer_key.verify(&w.finish(), context::VERTEX, &self.signature)
    }

    /// The vertex id.
    pub fn id(&self) -> VertexId {
        self.id
    }
    /// The canonical signed encoding, rebuilt from the fields (a copy of
    /// every transfer: callers that only need the size use
    /// [`Vertex::encoded_len`]).
    pub fn bytes(&self) -> Arc<[u8]> {
        let mut w = Writer::with_capacity(self.encoded_len);
        self.content.encode_into(&mut w);
        w.fixed(self.signature.as_bytes());
        w.finish().into()
    }
    /// The length of [`Vertex::bytes`].
    pub fn encoded_len(&self) -> usize {
        self.encoded_len
    }
    /// The network this vertex belongs to.
    pub fn chain_id(&self) -> &str {
        &self.content.chain_id
    }
    /// The issuing validator.
    pub fn issuer(&self) -> ValidatorIndex {
        self.content.issuer
    }
    /// The declared height.
    pub fn height(&self) -> u64 {
        self.content.height
    }
    /// Parent ids, strictly ascending.
    pub fn parents(&self) -> &[VertexId] {
        &self.content.parents
    }
    /// The transactions in application order.
    pub fn txs(&self) -> &[Arc<SignedTransfer>] {
        &self.content.txs
    }
    /// The transaction ids, in the same order as [`Vertex::txs`].
    pub fn tx_ids(&self) -> &[TxId] {
        &self.tx_ids
    }
}

/// The signed encoding of the transaction at `position` in a vertex's
/// signed encoding, found from the layout ([`transaction_spans`]: the
/// fields before the transfers and each transfer's length; nothing is
/// decoded or hashed): a store that keeps vertices reads one transfer back
/// this way. Total: a truncated or foreign encoding is a typed error, never
/// a panic.
pub fn transaction_bytes_at(bytes: &[u8], position: usize) -> Result<&[u8], DecodeError> {
    let spans = transaction_spans(bytes)?;
    let span = spans.get(position).ok_or(DecodeError::Invalid {
        field: "transaction position",
        reason: "beyond the vertex's transactions",
    })?;
    // The span starts with the entry's 4-byte length.
    Ok(&bytes[span.start + 4..span.end])
}

/// Where each transaction entry (its 4-byte length and the signed
/// transfer) lies in a signed vertex's bytes, in order. Reads only the
/// layout, not the transfers: peer links use it to leave out transfer
/// bodies the receiving peer already has.
pub fn transaction_spans(bytes: &[u8]) -> Result<Vec<std::ops::Range<usize>>, DecodeError> {
    let mut r = Reader::new(bytes);
    r.version("vertex version", VERTEX_VERSION)?;
    read_chain_id(&mut r)?;
    r.u16()?; // issuer
    r.u64()?; // height
    let parents = r.u8()? as usize;
    r.take(32 * parents)?;
    let count = r.u16()? as usize;
    if count > MAX_VERTEX_TXS {
        return Err(DecodeError::TooLong {
            field: "transactions",
            len: count,
            max: MAX_VERTEX_TXS,
        });
    }
    let mut spans = Vec::with_capacity(count);
    for _ in 0..count {
        let start = bytes.len() - r.remaining();
        r.long_bytes("transaction", MAX_SIGNED_TRANSFER_LEN)?;
        spans.push(start..bytes.len() - r.remaining());
    }
    Ok(spans)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use ruv_protocol::tx::Transfer;
    use ruv_protocol::Address;

    fn sample_tx(key: &SigningKey, nonce: u64) -> Arc<SignedTransfer> {
        let transfer = Transfer {
            chain_id: "ruv-test".into(),
            from: Address::from_public_key(key.public_key()),
            to: Address::from_bytes([9; 32]),
            amount: 5,
            fee: 10_000,
            nonce,
            memo: "m".into(),
            public_key: key.public_key().clone(),
        };
        Arc::new(transfer.sign(key, [0; 32]).unwrap())
    }

    #[test]
    fn transaction_spans_are_each_transfers_length_prefixed_encoding() {
        let (vertex, _) = sample_vertex();
        let bytes = vertex.bytes();
        let spans = transaction_spans(&bytes).unwrap();
        assert_eq!(spans.len(), 2);
        for (span, tx) in spans.iter().zip(vertex.txs()) {
            let mut expected = Writer::with_capacity(8);
            expected.long_bytes(&tx.to_bytes());
            assert_eq!(&bytes[span.clone()], expected.finish().as_slice());
        }
        // A truncated vertex is an error, not a panic or a short list.
        assert!(transaction_spans(&bytes[..spans[1].end - 1]).is_err());
    }

    fn sample_vertex() -> (Vertex, SigningKey) {
        let relay = SigningKey::from_seed(&[3; 32]);
        let user = SigningKey::from_seed(&[4; 32]);
        let content = VertexContent {
            chain_id: "ruv-test".into(),
            issuer: ValidatorIndex(2),
            height: 7,
            parents: vec![VertexId([5; 32]), VertexId([1; 32]), VertexId([5; 32])],
            txs: vec![sample_tx(&user, 1), sample_tx(&user, 2)],
        };
        (content.sign(&relay, [0; 32]).unwrap(), relay)
    }

    #[test]
    fn round_trip_signature_and_ids() {
        let (vertex, relay) = sample_vertex();
        assert_eq!(vertex.parents(), &[VertexId([1; 32]), VertexId([5; 32])]);
        let decoded = Vertex::decode(&vertex.bytes()).unwrap();
        assert_eq!(decoded, vertex);
        decoded.verify_signature(relay.public_key()).unwrap();
        let other = SigningKey::from_seed(&[8; 32]);
        assert_eq!(
            decoded.verify_signature(other.public_key()),
            Err(CryptoError::BadSignature)
        );
        for (tx, id) in decoded.txs().iter().zip(decoded.tx_ids()) {
            assert_eq!(tx.id(), *id);
        }
        assert_eq!(Vertex::id_of(&vertex.bytes()), vertex.id());
        // Rebuilt from the fields, byte for byte what was decoded.
        assert_eq!(decoded.bytes(), vertex.bytes());
        assert_eq!(decoded.encoded_len(), vertex.bytes().len());
    }

    #[test]
    fn each_transfer_is_read_back_by_its_position_alone() {
        let (vertex, _) = sample_vertex();
        let bytes = vertex.bytes();
        for (position, tx) in vertex.txs().iter().enumerate() {
            let found = transaction_bytes_at(&bytes, position).unwrap();
            assert_eq!(found, &tx.to_bytes()[..]);
        }
        assert!(matches!(
            transaction_bytes_at(&bytes, vertex.txs().len()),
            Err(DecodeError::Invalid { .. })
        ));
        // Every truncation and a foreign version are typed errors.
        for cut in 0..bytes.len() - SIGNATURE_LEN {
            assert!(
                transaction_bytes_at(&bytes[..cut], 1).is_err(),
                "cut at {cut}"
            );
        }
        let mut foreign = bytes.to_vec();
        foreign[0] = 9;
        assert!(transaction_bytes_at(&foreign, 0).is_err());
    }

    #[test]
    fn tampering_breaks_the_signature_or_the_decoding() {
        let (vertex, relay) = sample_vertex();
        let mut bytes = vertex.bytes().to_vec();
        // The height field starts after version, chain id and issuer.
        let height_offset = 1 + 1 + "ruv-test".len() + 2;
        bytes[height_offset] ^= 1;
        let tampered = Vertex::decode(&bytes).unwrap();
        assert_eq!(
            tampered.verify_signature(relay.public_key()),
            Err(CryptoError::BadSignature)
        );
        assert_ne!(tampered.id(), vertex.id());
    }

    #[test]
    fn decoder_rejects_non_canonical_parents_and_trailing_bytes() {
        let (vertex, _) = sample_vertex();
        let mut bytes = vertex.bytes().to_vec();
        let parents_offset = 1 + 1 + "ruv-test".len() + 2 + 8 + 1;
        // Swap the two parents: no longer ascending.
        let (first, second) = bytes[parents_offset..parents_offset + 64].split_at_mut(32);
        first.swap_with_slice(second);
        assert_eq!(
            Vertex::decode(&bytes),
            Err(DecodeError::Invalid {
                field: "parents",
                reason: "not strictly ascending"
            })
        );
        let mut bytes = vertex.bytes().to_vec();
        bytes.push(0);
        assert_eq!(Vertex::decode(&bytes), Err(DecodeError::TrailingBytes(1)));
        let mut bytes = vertex.bytes().to_vec();
        bytes[0] = 2;
        assert!(matches!(
            Vertex::decode(&bytes),
            Err(DecodeError::UnknownTag { .. })
        ));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn decoding_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..12_000)) {
            let _ = Vertex::decode(&bytes);
        }

        #[test]
        fn decoding_mutated_vertices_never_panics(index: usize, value: u8, cut: usize) {
            let (vertex, _) = sample_vertex();
            let mut bytes = vertex.bytes().to_vec();
            let i = index % bytes.len();
            bytes[i] = value;
            // Whatever decodes re-encodes to exactly its input (the
            // encoding is canonical), so its id is the one the bytes hash to.
            if let Ok(decoded) = Vertex::decode(&bytes) {
                prop_assert_eq!(&*decoded.bytes(), &bytes[..]);
                prop_assert_eq!(decoded.id(), Vertex::id_of(&bytes));
            }
            bytes.truncate(cut % bytes.len());
            prop_assert!(Vertex::decode(&bytes).is_err());
        }
    }
}
