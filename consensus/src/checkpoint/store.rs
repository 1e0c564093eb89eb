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

/// The header a relay signed for a number: its sign-once lock, with the
/// header and anchor so that after a restart it can still propose and
/// prevote that header (the only one it may sign for the number) even when
/// no other relay still holds it.
///
/// Storage layout: u64 number, 32-byte header id, then u32 length + header
/// encoding (at most `MAX_HEADER_LEN`) and the anchor as in
/// [`StoredCheckpoint`]. The 40-byte form without header and anchor (written
/// before they were stored) still decodes, with `header: None`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedLock {
    /// The checkpoint number.
    pub number: u64,
    /// The id of the header signed.
    pub header_id: Hash32,
    /// The header signed and its anchor (None in the older 40-byte form).
    pub header: Option<(CheckpointHeader, Vec<VertexId>)>,
}

impl SignedLock {
    /// The storage encoding.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::with_capacity(1024);
        w.u64(self.number).fixed(&self.header_id.0);
        if let Some((header, anchor)) = &self.header {
            w.long_bytes(&header.encode());
            write_anchor(&mut w, anchor);
        }
        w.finish()
    }

    /// Decodes the storage encoding (total).
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes);
        let number = r.u64()?;
        let header_id = Hash32(r.array()?);
        if bytes.len() == 40 {
            r.finish()?;
            return Ok(Self {
                number,
                header_id,
                header: None,
            });
        }
        let header = CheckpointHeader::decode(r.long_bytes("checkpoint header", MAX_HEADER_LEN)?)?;
        let anchor = read_anchor(&mut r)?;
        r.finish()?;
        Ok(Self {
            number,
            header_id,
            header: Some((header, anchor)),
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

    fn lock(header: Option<(CheckpointHeader, Vec<VertexId>)>) -> SignedLock {
        SignedLock {
            number: 7,
            header_id: Hash32([3; 32]),
            header,
        }
    }

    #[test]
    fn signed_locks_round_trip_and_bad_bytes_are_typed_errors() {
        // The older 40-byte form (number + id) still decodes, without a header.
        let old = lock(None);
        assert_eq!(old.encode().len(), 40);
        assert_eq!(SignedLock::decode(&old.encode()), Ok(old));
        // With a header that is not a valid encoding: a typed error, no panic.
        let mut w = Writer::with_capacity(64);
        w.u64(7).fixed(&[3; 32]).long_bytes(&[1, 2, 3]).u16(0);
        assert!(SignedLock::decode(&w.finish()).is_err());
        // Truncated anywhere: an error, never a panic.
        let bytes = lock(None).encode();
        for len in 0..bytes.len() {
            assert!(SignedLock::decode(&bytes[..len]).is_err(), "{len}");
        }
        // Too many anchor ids.
        let mut w = Writer::with_capacity(64);
        w.u64(7).fixed(&[3; 32]).long_bytes(&[]).u16(u16::MAX);
        assert!(SignedLock::decode(&w.finish()).is_err());
    }
}
