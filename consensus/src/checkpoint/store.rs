//! A certified checkpoint as relays store and exchange it: the certificate
//! and the anchor its state was derived from (needed to re-derive the state
//! after a restart, and by relays adopting it).
//!
//! Storage layout: u32 length + certificate encoding, then u16 count (at
//! most `MAX_ANCHOR_VERTICES`) + 32-byte vertex ids. Decoding is total.

use crate::message::Message;
use crate::vertex::VertexId;
use ruv_protocol::checkpoint::{Certificate, MAX_ANCHOR_VERTICES, MAX_CERTIFICATE_LEN};
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
        w.long_bytes(&certificate).u16(self.anchor.len() as u16);
        for id in &self.anchor {
            w.fixed(&id.0);
        }
        w.finish()
    }

    /// Decodes the storage encoding.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes);
        let certificate = Certificate::decode(r.long_bytes("certificate", MAX_CERTIFICATE_LEN)?)?;
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
