//! A certified checkpoint as relays store and exchange it: the certificate
//! and the anchor its state was derived from (needed to re-derive the state
//! after a restart, and by relays adopting it).
//!
//! Storage layout: u32 length + certificate encoding, then u16 count (at
//! most `MAX_ANCHOR_VERTICES`) + 32-byte vertex ids. Decoding is total.

use crate::message::Message;
use crate::vertex::VertexId;
use ruv_protocol::checkpoint::{
    Certificate, CheckpointHeader, Hash32, MAX_ANCHOR_VERTICES, MAX_CERTIFICATE_LEN, MAX_HEADER_LEN,
};
use ruv_protocol::codec::{DecodeError, Reader, Writer};

/// A certificate with its anchor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCheckpoint {
    /// The certificate.
    pub certificate: Certificate,
    /// The accepted vertices whose closure it adds.
    pub anchor: Vec<VertexId>,
}

impl StoredCheckpoint {
    /// The storage encoding.
    pub fn encode(&self) -> Vec<u8> {
        let certificate = self.certificate.encode();
        let mut w = Writer::with_capacity(certificate.len() + 8 + self.anchor.len() * 32);
        w.long_bytes(&certificate);
        write_anchor(&mut w, &self.anchor);
        w.finish()
    }

    /// Decodes the storage encoding.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes);
        let certificate = Certificate::decode(r.long_bytes("certificate", MAX_CERTIFICATE_LEN)?)?;
        let anchor = read_anchor(&mut r)?;
        r.finish()?;
        Ok(Self {
            certificate,
            anchor,
        })
    }

    /// The peer message that hands it to another relay.
    pub fn to_message(&self) -> Message {
        Message::CheckpointCertified {
            certificate: self.certificate.encode().into(),
            anchor: self.anchor.clone(),
        }
    }
}

/// A validator's lock for the number being agreed on, persisted before
/// its precommit leaves the relay: the header it is locked on (with the
/// anchor, so after a restart it can still propose and prevote that header
/// even when no other relay holds it), the round of its last precommit
/// (it never precommits another header in that round) and the round of the
/// proof of lock the lock rests on (it moves the lock only on a proof from
/// a later round).
///
/// Storage layout: u8 version ([`SIGNED_LOCK_VERSION`]), u64 number, u32
/// precommit round, u32 proof-of-lock round, 32-byte header id, the header
/// encoding after a u32 length (at most `MAX_HEADER_LEN`), the anchor as in
/// [`StoredCheckpoint`]. Locks from before rounds were bound (no version
/// byte) are refused: the relay storage kept them under another key and
/// refuses to open such a database (see `relay/src/storage.rs`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedLock {
    /// The checkpoint number.
    pub number: u64,
    /// The round of this validator's last precommit for `number`.
    pub round: u32,
    /// The round of the proof of lock for `header_id` the lock rests on.
    pub pol_round: u32,
    /// The id of the header locked on.
    pub header_id: Hash32,
    /// The header locked on.
    pub header: CheckpointHeader,
    /// Its anchor.
    pub anchor: Vec<VertexId>,
}

/// Encoding version of [`SignedLock`].
pub const SIGNED_LOCK_VERSION: u8 = 2;

impl SignedLock {
    /// The storage encoding.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::with_capacity(1024);
        w.u8(SIGNED_LOCK_VERSION)
            .u64(self.number)
            .u32(self.round)
            .u32(self.pol_round)
            .fixed(&self.header_id.0)
            .long_bytes(&self.header.encode());
        write_anchor(&mut w, &self.anchor);
        w.finish()
    }

    /// Decodes the storage encoding (total).
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes);
        r.version("signed lock version", SIGNED_LOCK_VERSION)?;
        let number = r.u64()?;
        let round = r.u32()?;
        let pol_round = r.u32()?;
        let header_id = Hash32(r.array()?);
        let header = CheckpointHeader::decode(r.long_bytes("checkpoint header", MAX_HEADER_LEN)?)?;
        let anchor = read_anchor(&mut r)?;
        r.finish()?;
        if header.id() != header_id || header.number != number {
            return Err(DecodeError::Invalid {
                field: "signed lock",
                reason: "header id or number does not match the header",
            });
        }
        Ok(Self {
            number,
            round,
            pol_round,
            header_id,
            header,
            anchor,
        })
    }
}

/// An anchor: u16 count (at most `MAX_ANCHOR_VERTICES`) + 32-byte vertex ids.
fn write_anchor(w: &mut Writer, anchor: &[VertexId]) {
    w.u16(anchor.len() as u16);
    for id in anchor {
        w.fixed(&id.0);
    }
}

fn read_anchor(r: &mut Reader<'_>) -> Result<Vec<VertexId>, DecodeError> {
    let count = r.u16()? as usize;
    if count > MAX_ANCHOR_VERTICES {
        return Err(DecodeError::TooLong {
            field: "checkpoint anchor",
            len: count,
            max: MAX_ANCHOR_VERTICES,
        });
    }
    let mut anchor = Vec::with_capacity(count);
    for _ in 0..count {
        anchor.push(VertexId(r.array()?));
    }
    Ok(anchor)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ruv_protocol::codec::Writer;

    fn header() -> CheckpointHeader {
        CheckpointHeader {
            version: ruv_protocol::checkpoint::CHECKPOINT_VERSION,
            chain_id: "ruv-test".into(),
            genesis_hash: Hash32([1; 32]),
            epoch: 0,
            number: 7,
            previous: Hash32([2; 32]),
            anchor: Hash32([3; 32]),
            state_root: Hash32([4; 32]),
            transaction_root: Hash32([5; 32]),
            transaction_count: 0,
            circulating: 10,
            burned: 0,
            time_ms: 1,
            validator_set_hash: Hash32([6; 32]),
            next_validator_set_hash: Hash32::ZERO,
        }
    }

    fn lock() -> SignedLock {
        let header = header();
        SignedLock {
            number: 7,
            round: 5,
            pol_round: 3,
            header_id: header.id(),
            header,
            anchor: vec![VertexId([9; 32])],
        }
    }

    #[test]
    fn signed_locks_round_trip_and_bad_bytes_are_typed_errors() {
        let good = lock();
        assert_eq!(SignedLock::decode(&good.encode()), Ok(good.clone()));
        // Truncated anywhere: an error, never a panic.
        let bytes = good.encode();
        for len in 0..bytes.len() {
            assert!(SignedLock::decode(&bytes[..len]).is_err(), "{len}");
        }
        // The forms from before rounds were bound (40 bytes: number + id;
        // or with header and anchor) have no version byte: refused.
        let mut w = Writer::with_capacity(64);
        w.u64(7).fixed(&good.header_id.0);
        assert!(matches!(
            SignedLock::decode(&w.finish()),
            Err(DecodeError::UnknownTag {
                field: "signed lock version",
                tag: 7
            })
        ));
        // A header id that is not the header's.
        let mut other = good.clone();
        other.header_id = Hash32([8; 32]);
        assert!(SignedLock::decode(&other.encode()).is_err());
        // A lock moved after its last precommit: the proof's round is later.
        let mut moved = good.clone();
        moved.pol_round = 6;
        assert_eq!(SignedLock::decode(&moved.encode()), Ok(moved));
        // Too many anchor ids.
        let mut w = Writer::with_capacity(1024);
        w.u8(SIGNED_LOCK_VERSION)
            .u64(7)
            .u32(5)
            .u32(3)
            .fixed(&good.header_id.0)
            .long_bytes(&good.header.encode())
            .u16(u16::MAX);
        assert!(SignedLock::decode(&w.finish()).is_err());
    }
}
