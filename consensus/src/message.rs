//! Peer messages between relays, with a canonical binary encoding.
//!
//! Peer links authenticate the sending validator (signed challenge on
//! connect), so messages carry no signature of their own; vertices and
//! transactions inside them carry their own signatures, and so do
//! checkpoint prevotes and precommits (they are forwarded as evidence: a
//! proof of lock, a certificate).
//!
//! Layout: a version byte ([`MESSAGE_VERSION`]), a tag byte, then the fields
//! (integers little-endian):
//!
//! | tag | message | fields |
//! | --- | --- | --- |
//! | 0 | [`Message::Transaction`] | u32 length + signed transfer (at most `MAX_SIGNED_TRANSFER_LEN`) |
//! | 1 | [`Message::Vertex`] | u32 length + signed vertex (at most [`MAX_VERTEX_LEN`]) |
//! | 2 | [`Message::Query`] | u32 request id |
//! | 3 | [`Message::Chits`] | u32 request id, preferred: u16 count (at most [`MAX_CHITS`]) + 32-byte vertex ids, accepted tips: the same |
//! | 4 | [`Message::GetAncestors`] | u32 request id, u16 count (at most [`MAX_REQUESTED_IDS`]) + 32-byte vertex ids |
//! | 5 | [`Message::Ancestors`] | u32 request id, u16 count (at most [`MAX_ANCESTORS`]) + for each a u32 length and a signed vertex |
//! | 6 | [`Message::CheckpointVote`] | u32 round, u32 length + checkpoint header (at most `MAX_HEADER_LEN`), anchor: u16 count (at most `MAX_ANCHOR_VERTICES`) + 32-byte vertex ids, 3309-byte precommit signature |
//! | 7 | [`Message::CheckpointCertified`] | u32 length + certificate (at most `MAX_CERTIFICATE_LEN`), anchor as in 6 |
//! | 8 | [`Message::GetCheckpoint`] | u64 checkpoint number |
//! | 9 | [`Message::CheckpointPrevote`] | u32 round, u32 length + checkpoint header (at most `MAX_HEADER_LEN`), anchor as in 6, 3309-byte prevote signature |
//! | 10 | [`Message::CheckpointPol`] | u32 round, u32 length + checkpoint header, anchor as in 6, u16 count (at most `MAX_CERTIFICATE_VALIDATORS`) + for each a u16 validator index and a 3309-byte prevote signature (at most 256 x 3311 = 847,616 bytes) |
//!
//! A whole message is at most [`MAX_MESSAGE_LEN`] bytes (the relay's peer
//! frame limit). Decoding is total and allocates nothing beyond these limits.

use crate::vertex::{VertexId, MAX_VERTEX_LEN};
use ruv_protocol::checkpoint::{
    MAX_ANCHOR_VERTICES, MAX_CERTIFICATE_LEN, MAX_CERTIFICATE_VALIDATORS, MAX_HEADER_LEN,
};
use ruv_protocol::codec::{DecodeError, Reader, Writer};
use ruv_protocol::crypto::SIGNATURE_LEN;
use ruv_protocol::tx::MAX_SIGNED_TRANSFER_LEN;
use ruv_protocol::SignedTransfer;
use std::sync::Arc;

/// Encoding version of peer messages (2: checkpoint precommits name their
/// round, prevotes are signed, proofs of lock exist).
pub const MESSAGE_VERSION: u8 = 2;
/// Largest encoded message: 2 MiB, the relay's peer frame limit.
pub const MAX_MESSAGE_LEN: usize = 2 * 1024 * 1024;
/// Most vertex ids in each list of one [`Message::Chits`].
pub const MAX_CHITS: usize = 64;
/// Most vertex ids in one [`Message::GetAncestors`].
pub const MAX_REQUESTED_IDS: usize = 64;
/// Most vertices in one [`Message::Ancestors`].
pub const MAX_ANCESTORS: usize = 64;

// The largest vertex, with its message header, fits one message.
const _: () = assert!(MAX_VERTEX_LEN + 16 < MAX_MESSAGE_LEN);
/// Largest [`Message::CheckpointPol`]: every validator's prevote.
pub const MAX_POL_MESSAGE_LEN: usize = 2
    + 4
    + 4
    + MAX_HEADER_LEN
    + 2
    + MAX_ANCHOR_VERTICES * 32
    + 2
    + MAX_CERTIFICATE_VALIDATORS * (2 + SIGNATURE_LEN);
// A proof of lock of all 256 validators fits one peer frame.
const _: () = assert!(MAX_POL_MESSAGE_LEN < MAX_MESSAGE_LEN);

/// A message between relays.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// Gossip of a transaction a client submitted.
    Transaction(Arc<SignedTransfer>),
    /// A signed vertex (gossip of a newly issued vertex).
    Vertex(Arc<[u8]>),
    /// "Which vertices do you prefer?": the start of a poll.
    Query {
        /// Matches the answer to the poll.
        request_id: u32,
    },
    /// The answer to a query: the responder's preferred frontier (a chit
    /// for a vertex is a vote for it and for all its ancestors), and its
    /// accepted tips (what it has already decided, for relays catching up).
    Chits {
        /// The query's request id.
        request_id: u32,
        /// Preferred vertices with no preferred children.
        preferred: Vec<VertexId>,
        /// Accepted vertices with no accepted children.
        accepted: Vec<VertexId>,
    },
    /// A request for vertices the sender is missing (and their ancestors).
    GetAncestors {
        /// Matches the answer to the request.
        request_id: u32,
        /// The missing vertex ids.
        ids: Vec<VertexId>,
    },
    /// The answer to [`Message::GetAncestors`]: signed vertices, parents
    /// before children.
    Ancestors {
        /// The request's id.
        request_id: u32,
        /// Signed vertex encodings.
        vertices: Vec<Arc<[u8]>>,
    },
    /// A validator's precommit for a checkpoint header in one round (a
    /// certificate share).
    CheckpointVote {
        /// The agreement round it precommits in.
        round: u32,
        /// The header encoding.
        header: Arc<[u8]>,
        /// Accepted vertices whose closure the checkpoint adds.
        anchor: Vec<VertexId>,
        /// ML-DSA-65 signature over round and header (context
        /// `ruv/precommit/v1`).
        signature: Arc<[u8]>,
    },
    /// A certificate that crossed the threshold, so relays that missed votes
    /// (or were offline) can adopt it.
    CheckpointCertified {
        /// The certificate encoding.
        certificate: Arc<[u8]>,
        /// Accepted vertices whose closure the checkpoint adds.
        anchor: Vec<VertexId>,
    },
    /// "Send me certified checkpoint `number`" (answered with
    /// [`Message::CheckpointCertified`] if known).
    GetCheckpoint {
        /// The checkpoint number.
        number: u64,
    },
    /// A validator's signed prevote for a checkpoint header in one round
    /// (the first phase); from the round's proposer it is also the proposal.
    CheckpointPrevote {
        /// The round of the header's number.
        round: u32,
        /// The header encoding.
        header: Arc<[u8]>,
        /// Accepted vertices whose closure the checkpoint adds.
        anchor: Vec<VertexId>,
        /// ML-DSA-65 signature over round and header (context
        /// `ruv/prevote/v1`).
        signature: Arc<[u8]>,
    },
    /// A proof of lock: signed prevotes of more than 2/3 of the stake for
    /// one header in one round, forwarded so a validator locked on an older
    /// round may move its lock (see `checkpoint::ProofOfLock`).
    CheckpointPol {
        /// The round of the prevotes.
        round: u32,
        /// The header encoding.
        header: Arc<[u8]>,
        /// Accepted vertices whose closure the checkpoint adds.
        anchor: Vec<VertexId>,
        /// `(validator index, prevote signature)`, validator indices
        /// strictly ascending (checked by the receiver).
        prevotes: Vec<(u16, Arc<[u8]>)>,
    },
}

const TAG_TRANSACTION: u8 = 0;
const TAG_VERTEX: u8 = 1;
const TAG_QUERY: u8 = 2;
const TAG_CHITS: u8 = 3;
const TAG_GET_ANCESTORS: u8 = 4;
const TAG_ANCESTORS: u8 = 5;
const TAG_CHECKPOINT_VOTE: u8 = 6;
const TAG_CHECKPOINT_CERTIFIED: u8 = 7;
const TAG_GET_CHECKPOINT: u8 = 8;
const TAG_CHECKPOINT_PREVOTE: u8 = 9;
const TAG_CHECKPOINT_POL: u8 = 10;

/// The first two bytes of every encoded [`Message::Transaction`], so that
/// peer links and admission can tell gossip without decoding it.
pub const TRANSACTION_PREFIX: [u8; 2] = [MESSAGE_VERSION, TAG_TRANSACTION];
/// The first two bytes of every encoded [`Message::Vertex`]; the vertex's
/// own bytes follow its 4-byte length.
pub const VERTEX_PREFIX: [u8; 2] = [MESSAGE_VERSION, TAG_VERTEX];
/// Tags from this one up are never messages: a peer link may use them for
/// frames of its own, which it turns back into messages before decoding.
pub const FIRST_LINK_TAG: u8 = 0x80;

impl Message {
    /// A short stable name (for logs and metrics labels).
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Transaction(_) => "transaction",
            Self::Vertex(_) => "vertex",
            Self::Query { .. } => "query",
            Self::Chits { .. } => "chits",
            Self::GetAncestors { .. } => "get_ancestors",
            Self::Ancestors { .. } => "ancestors",
            Self::CheckpointVote { .. } => "checkpoint_vote",
            Self::CheckpointCertified { .. } => "checkpoint_certified",
            Self::GetCheckpoint { .. } => "get_checkpoint",
            Self::CheckpointPrevote { .. } => "checkpoint_prevote",
            Self::CheckpointPol { .. } => "checkpoint_pol",
        }
    }

    /// The canonical encoding. Callers keep within the documented limits
    /// (the engine does); [`Message::decode`] enforces them.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::with_capacity(64);
        w.u8(MESSAGE_VERSION);
        match self {
            Self::Transaction(tx) => {
                w.u8(TAG_TRANSACTION).long_bytes(&tx.to_bytes());
            }
            Self::Vertex(bytes) => {
                w.u8(TAG_VERTEX).long_bytes(bytes);
            }
            Self::Query { request_id } => {
                w.u8(TAG_QUERY).u32(*request_id);
            }
            Self::Chits {
                request_id,
                preferred,
                accepted,
            } => {
                w.u8(TAG_CHITS).u32(*request_id);
                write_ids(&mut w, preferred);
                write_ids(&mut w, accepted);
            }
            Self::GetAncestors { request_id, ids } => {
                w.u8(TAG_GET_ANCESTORS).u32(*request_id);
                write_ids(&mut w, ids);
            }
            Self::Ancestors {
                request_id,
                vertices,
            } => {
                w.u8(TAG_ANCESTORS)
                    .u32(*request_id)
                    .u16(vertices.len() as u16);
                for vertex in vertices {
                    w.long_bytes(vertex);
                }
            }
            Self::CheckpointVote {
                round,
                header,
                anchor,
                signature,
            } => {
                w.u8(TAG_CHECKPOINT_VOTE).u32(*round).long_bytes(header);
                write_ids(&mut w, anchor);
                w.fixed(signature);
            }
            Self::CheckpointCertified {
                certificate,
                anchor,
            } => {
                w.u8(TAG_CHECKPOINT_CERTIFIED).long_bytes(certificate);
                write_ids(&mut w, anchor);
            }
            Self::GetCheckpoint { number } => {
                w.u8(TAG_GET_CHECKPOINT).u64(*number);
            }
            Self::CheckpointPrevote {
                round,
                header,
                anchor,
                signature,
            } => {
                w.u8(TAG_CHECKPOINT_PREVOTE).u32(*round).long_bytes(header);
                write_ids(&mut w, anchor);
                w.fixed(signature);
            }
            Self::CheckpointPol {
                round,
                header,
                anchor,
                prevotes,
            } => {
                w.u8(TAG_CHECKPOINT_POL).u32(*round).long_bytes(header);
                write_ids(&mut w, anchor);
                w.u16(prevotes.len() as u16);
                for (validator, signature) in prevotes {
                    w.u16(*validator).fixed(signature);
                }
            }
        }
        w.finish()
    }

    /// Decodes a message. Total: never panics; every limit above is checked
    /// before anything is allocated for it.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        if bytes.len() > MAX_MESSAGE_LEN {
            return Err(DecodeError::TooLong {
                field: "message",
                len: bytes.len(),
                max: MAX_MESSAGE_LEN,
            });
        }
        let mut r = Reader::new(bytes);
        let version = r.u8()?;
        if version != MESSAGE_VERSION {
            return Err(DecodeError::UnknownTag {
                field: "message version",
                tag: version,
            });
        }
        let message = match r.u8()? {
            TAG_TRANSACTION => {
                let tx = SignedTransfer::from_bytes(
                    r.long_bytes("transaction", MAX_SIGNED_TRANSFER_LEN)?,
                )?;
                Self::Transaction(Arc::new(tx))
            }
            TAG_VERTEX => Self::Vertex(r.long_bytes("vertex", MAX_VERTEX_LEN)?.into()),
            TAG_QUERY => Self::Query {
                request_id: r.u32()?,
            },
            TAG_CHITS => {
                let request_id = r.u32()?;
                let preferred = read_ids(&mut r, "chits", MAX_CHITS)?;
                let accepted = read_ids(&mut r, "accepted tips", MAX_CHITS)?;
                Self::Chits {
                    request_id,
                    preferred,
                    accepted,
                }
            }
            TAG_GET_ANCESTORS => {
                let request_id = r.u32()?;
                let ids = read_ids(&mut r, "requested ids", MAX_REQUESTED_IDS)?;
                Self::GetAncestors { request_id, ids }
            }
            TAG_ANCESTORS => {
                let request_id = r.u32()?;
                let count = r.u16()? as usize;
                if count > MAX_ANCESTORS {
                    return Err(DecodeError::TooLong {
                        field: "ancestors",
                        len: count,
                        max: MAX_ANCESTORS,
                    });
                }
                let mut vertices = Vec::with_capacity(count);
                for _ in 0..count {
                    vertices.push(r.long_bytes("vertex", MAX_VERTEX_LEN)?.into());
                }
                Self::Ancestors {
                    request_id,
                    vertices,
                }
            }
            TAG_CHECKPOINT_VOTE => {
                let round = r.u32()?;
                let header = r.long_bytes("checkpoint header", MAX_HEADER_LEN)?.into();
                let anchor = read_ids(&mut r, "checkpoint anchor", MAX_ANCHOR_VERTICES)?;
                let signature = r.take(SIGNATURE_LEN)?.into();
                Self::CheckpointVote {
                    round,
                    header,
                    anchor,
                    signature,
                }
            }
            TAG_CHECKPOINT_CERTIFIED => {
                let certificate = r.long_bytes("certificate", MAX_CERTIFICATE_LEN)?.into();
                let anchor = read_ids(&mut r, "checkpoint anchor", MAX_ANCHOR_VERTICES)?;
                Self::CheckpointCertified {
                    certificate,
                    anchor,
                }
            }
            TAG_GET_CHECKPOINT => Self::GetCheckpoint { number: r.u64()? },
            TAG_CHECKPOINT_PREVOTE => {
                let round = r.u32()?;
                let header = r.long_bytes("checkpoint header", MAX_HEADER_LEN)?.into();
                let anchor = read_ids(&mut r, "checkpoint anchor", MAX_ANCHOR_VERTICES)?;
                let signature = r.take(SIGNATURE_LEN)?.into();
                Self::CheckpointPrevote {
                    round,
                    header,
                    anchor,
                    signature,
                }
            }
            TAG_CHECKPOINT_POL => {
                let round = r.u32()?;
                let header = r.long_bytes("checkpoint header", MAX_HEADER_LEN)?.into();
                let anchor = read_ids(&mut r, "checkpoint anchor", MAX_ANCHOR_VERTICES)?;
                let count = r.u16()? as usize;
                if count > MAX_CERTIFICATE_VALIDATORS {
                    return Err(DecodeError::TooLong {
                        field: "proof of lock",
                        len: count,
                        max: MAX_CERTIFICATE_VALIDATORS,
                    });
                }
                let mut prevotes = Vec::with_capacity(count);
                for _ in 0..count {
                    let validator = r.u16()?;
                    prevotes.push((validator, r.take(SIGNATURE_LEN)?.into()));
                }
                Self::CheckpointPol {
                    round,
                    header,
                    anchor,
                    prevotes,
                }
            }
            tag => {
                return Err(DecodeError::UnknownTag {
                    field: "message",
                    tag,
                })
            }
        };
        r.finish()?;
        Ok(message)
    }
}

fn write_ids(w: &mut Writer, ids: &[VertexId]) {
    w.u16(ids.len() as u16);
    for id in ids {
        w.fixed(&id.0);
    }
}

fn read_ids(
    r: &mut Reader<'_>,
    field: &'static str,
    max: usize,
) -> Result<Vec<VertexId>, DecodeError> {
    let count = r.u16()? as usize;
    if count > max {
        return Err(DecodeError::TooLong {
            field,
            len: count,
            max,
        });
    }
    let mut ids = Vec::with_capacity(count);
    for _ in 0..count {
        ids.push(VertexId(r.array()?));
    }
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ids(n: usize) -> Vec<VertexId> {
        (0..n).map(|i| VertexId([i as u8; 32])).collect()
    }

    #[test]
    fn every_message_round_trips() {
        let messages = vec![
            Message::Vertex(vec![1, 2, 3].into()),
            Message::Query { request_id: 7 },
            Message::Chits {
                request_id: 8,
                preferred: ids(3),
                accepted: ids(2),
            },
            Message::GetAncestors {
                request_id: 9,
                ids: ids(2),
            },
            Message::Ancestors {
                request_id: 10,
                vertices: vec![vec![4u8; 10].into(), vec![].into()],
            },
            Message::CheckpointVote {
                round: 2,
                header: vec![5u8; 40].into(),
                anchor: ids(3),
                signature: vec![6u8; SIGNATURE_LEN].into(),
            },
            Message::CheckpointCertified {
                certificate: vec![7u8; 100].into(),
                anchor: ids(1),
            },
            Message::GetCheckpoint { number: 42 },
            Message::CheckpointPrevote {
                round: 3,
                header: vec![8u8; 40].into(),
                anchor: ids(2),
                signature: vec![9u8; SIGNATURE_LEN].into(),
            },
            Message::CheckpointPol {
                round: 4,
                header: vec![8u8; 40].into(),
                anchor: ids(1),
                prevotes: vec![
                    (0, vec![1u8; SIGNATURE_LEN].into()),
                    (3, vec![2u8; SIGNATURE_LEN].into()),
                ],
            },
        ];
        for message in messages {
            assert_eq!(
                Message::decode(&message.encode()).unwrap(),
                message,
                "{}",
                message.kind()
            );
        }
    }

    #[test]
    fn limits_are_typed_errors() {
        let too_many = Message::Chits {
            request_id: 1,
            preferred: ids(MAX_CHITS + 1),
            accepted: vec![],
        };
        assert_eq!(
            Message::decode(&too_many.encode()),
            Err(DecodeError::TooLong {
                field: "chits",
                len: MAX_CHITS + 1,
                max: MAX_CHITS
            })
        );
        assert!(matches!(
            Message::decode(&vec![0u8; MAX_MESSAGE_LEN + 1]),
            Err(DecodeError::TooLong {
                field: "message",
                ..
            })
        ));
        assert_eq!(
            Message::decode(&[MESSAGE_VERSION, 99]),
            Err(DecodeError::UnknownTag {
                field: "message",
                tag: 99
            })
        );
        // Tags a peer link keeps for its own frames are no message.
        for tag in FIRST_LINK_TAG..=u8::MAX {
            assert_eq!(
                Message::decode(&[MESSAGE_VERSION, tag]),
                Err(DecodeError::UnknownTag {
                    field: "message",
                    tag
                })
            );
        }
        assert!(Message::Vertex(vec![7].into())
            .encode()
            .starts_with(&VERTEX_PREFIX));
        // A proof of lock naming more prevotes than validators exist.
        let mut w = Writer::with_capacity(64);
        w.u8(MESSAGE_VERSION)
            .u8(TAG_CHECKPOINT_POL)
            .u32(0)
            .long_bytes(&[])
            .u16(0)
            .u16(MAX_CERTIFICATE_VALIDATORS as u16 + 1);
        assert_eq!(
            Message::decode(&w.finish()),
            Err(DecodeError::TooLong {
                field: "proof of lock",
                len: MAX_CERTIFICATE_VALIDATORS + 1,
                max: MAX_CERTIFICATE_VALIDATORS
            })
        );
        // The largest proof of lock fits a frame and decodes.
        let full = Message::CheckpointPol {
            round: 1,
            header: vec![0u8; MAX_HEADER_LEN].into(),
            anchor: ids(MAX_ANCHOR_VERTICES),
            prevotes: (0..MAX_CERTIFICATE_VALIDATORS as u16)
                .map(|i| (i, vec![0u8; SIGNATURE_LEN].into()))
                .collect(),
        };
        let bytes = full.encode();
        assert!(bytes.len() <= MAX_POL_MESSAGE_LEN + 2);
        assert_eq!(Message::decode(&bytes).unwrap(), full);
        let mut bytes = Message::Query { request_id: 3 }.encode();
        bytes.push(0);
        assert_eq!(Message::decode(&bytes), Err(DecodeError::TrailingBytes(1)));
    }

    proptest! {
        #[test]
        fn decoding_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
            let _ = Message::decode(&bytes);
        }

        #[test]
        fn decoding_with_valid_headers_never_panics(tag in 0u8..7, rest in proptest::collection::vec(any::<u8>(), 0..2048)) {
            let mut bytes = vec![MESSAGE_VERSION, tag];
            bytes.extend_from_slice(&rest);
            let _ = Message::decode(&bytes);
        }

        #[test]
        fn chits_round_trip(request_id: u32, raw in proptest::collection::vec(any::<[u8; 32]>(), 0..MAX_CHITS)) {
            let ids: Vec<VertexId> = raw.into_iter().map(VertexId).collect();
            let message = Message::Chits { request_id, preferred: ids.clone(), accepted: ids.into_iter().rev().collect() };
            prop_assert_eq!(Message::decode(&message.encode()).unwrap(), message);
        }
    }
}
