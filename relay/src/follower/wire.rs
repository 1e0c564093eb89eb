//! The checkpoint sync page validators serve and followers read:
//! `GET /api/v1/checkpoints/{number}/vertices?start=K`
//! (`application/octet-stream`).
//!
//! Layout (ruv-protocol codec, little-endian integers as everywhere):
//! `u32 len + StoredCheckpoint encoding` (the certificate and its anchor),
//! `u32 total` (vertices checkpoint `number` adds), `u32 start` (index of
//! the first vertex on this page), `u32 count`, then `count` times
//! `u32 len + signed vertex bytes`, in application order ((height, id)).
//! A page holds at most [`MAX_PAGE_VERTICES`] vertices and stops before
//! [`MAX_PAGE_BYTES`] (always at least one vertex); the reader asks for
//! `start = start + count` until it holds `total`. Decoding is total.

use ruv_consensus::vertex::MAX_VERTEX_LEN;
use ruv_consensus::StoredCheckpoint;
use ruv_protocol::checkpoint::{MAX_ANCHOR_VERTICES, MAX_CERTIFICATE_LEN};
use ruv_protocol::codec::{DecodeError, Reader, Writer};
use std::sync::Arc;

/// Vertices on one page, at most.
pub const MAX_PAGE_VERTICES: usize = 1024;
/// A page stops adding vertices before this many bytes (one vertex always fits).
pub const MAX_PAGE_BYTES: usize = 4 * 1024 * 1024;
/// A page's encoding is never longer than this (what a follower accepts).
pub const MAX_PAGE_LEN: usize =
    MAX_PAGE_BYTES + MAX_VERTEX_LEN + MAX_CERTIFICATE_LEN + MAX_ANCHOR_VERTICES * 32 + 64;
/// Vertices one checkpoint may add, as a follower accepts it.
pub const MAX_CHECKPOINT_VERTICES: u32 = 1 << 20;
/// Bytes of signed vertices one checkpoint may add, as a follower accepts
/// it: with [`MAX_CHECKPOINT_VERTICES`], the bound on what one lying
/// upstream can make a follower hold in memory before it can check
/// anything. An honest checkpoint this large would stall followers (not
/// validators) until the limit is raised.
pub const MAX_CHECKPOINT_BYTES: usize = 256 * 1024 * 1024;

/// One page of a checkpoint's vertices.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncPage {
    /// The certified checkpoint (certificate and anchor).
    pub checkpoint: StoredCheckpoint,
    /// Vertices the checkpoint adds in all.
    pub total: u32,
    /// Index of the first vertex here.
    pub start: u32,
    /// Signed vertex encodings, in application order.
    pub vertices: Vec<Arc<[u8]>>,
}

/// Encodes the page of `covered` (every vertex the checkpoint adds, in
/// order) that begins at `start`.
pub fn encode_page(checkpoint: &StoredCheckpoint, covered: &[Arc<[u8]>], start: usize) -> Vec<u8> {
    let start = start.min(covered.len());
    let mut page = Vec::new();
    let mut bytes = 0usize;
    for vertex in &covered[start..] {
        if !page.is_empty()
            && (page.len() >= MAX_PAGE_VERTICES || bytes + vertex.len() > MAX_PAGE_BYTES)
        {
            break;
        }
        bytes += vertex.len() + 4;
        page.push(vertex);
    }
    let stored = checkpoint.encode();
    let mut w = Writer::with_capacity(stored.len() + bytes + 16);
    w.long_bytes(&stored)
        .u32(covered.len() as u32)
        .u32(start as u32)
        .u32(page.len() as u32);
    for vertex in page {
        w.long_bytes(vertex);
    }
    w.finish()
}

/// Decodes a page; refuses anything over the limits above.
pub fn decode_page(bytes: &[u8]) -> Result<SyncPage, DecodeError> {
    if bytes.len() > MAX_PAGE_LEN {
        return Err(DecodeError::TooLong {
            field: "sync page",
            len: bytes.len(),
            max: MAX_PAGE_LEN,
        });
    }
    let mut r = Reader::new(bytes);
    let checkpoint = StoredCheckpoint::decode(r.long_bytes(
        "stored checkpoint",
        MAX_CERTIFICATE_LEN + MAX_ANCHOR_VERTICES * 32 + 16,
    )?)?;
    let total = r.u32()?;
    if total > MAX_CHECKPOINT_VERTICES {
        return Err(DecodeError::TooLong {
            field: "checkpoint vertices",
            len: total as usize,
            max: MAX_CHECKPOINT_VERTICES as usize,
        });
    }
    let start = r.u32()?;
    let count = r.u32()? as usize;
    if count > MAX_PAGE_VERTICES || start as u64 + count as u64 > total as u64 {
        return Err(DecodeError::Invalid {
            field: "sync page",
            reason: "more vertices than the page or checkpoint holds",
        });
    }
    let mut vertices = Vec::with_capacity(count);
    for _ in 0..count {
        vertices.push(Arc::from(r.long_bytes("vertex", MAX_VERTEX_LEN)?));
    }
    r.finish()?;
    Ok(SyncPage {
        checkpoint,
        total,
        start,
        vertices,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ruv_protocol::checkpoint::{Certificate, CheckpointHeader, Hash32, CHECKPOINT_VERSION};

    fn checkpoint() -> StoredCheckpoint {
        let header = CheckpointHeader {
            version: CHECKPOINT_VERSION,
            chain_id: "wire-test".into(),
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
        };
        StoredCheckpoint {
            certificate: Certificate {
                header,
                round: 0,
                validator_count: 4,
                signers: Vec::new(),
                signatures: Vec::new(),
            },
            anchor: vec![ruv_consensus::VertexId([9; 32])],
        }
    }

    #[test]
    fn pages_round_trip_and_split_by_size() {
        let cp = checkpoint();
        // Vertices of the largest size: a page holds only a few.
        let big: Vec<Arc<[u8]>> = (0..12u8)
            .map(|i| Arc::from(vec![i; MAX_VERTEX_LEN].as_slice()))
            .collect();
        let mut held = Vec::new();
        let mut pages = 0;
        while held.len() < big.len() {
            let bytes = encode_page(&cp, &big, held.len());
            assert!(bytes.len() <= MAX_PAGE_LEN);
            let page = decode_page(&bytes).unwrap();
            assert_eq!(page.checkpoint, cp);
            assert_eq!((page.total, page.start as usize), (12, held.len()));
            assert!(!page.vertices.is_empty());
            held.extend(page.vertices);
            pages += 1;
        }
        assert_eq!(held, big);
        assert!(pages >= 3, "{pages} pages");
        let empty = decode_page(&encode_page(&cp, &[], 0)).unwrap();
        assert_eq!((empty.total, empty.vertices.len()), (0, 0));
    }

    #[test]
    fn malformed_pages_are_refused_without_panicking() {
        let cp = checkpoint();
        let vertices: Vec<Arc<[u8]>> = vec![Arc::from(&b"vertex"[..])];
        let page = encode_page(&cp, &vertices, 0);
        for len in 0..page.len() {
            assert!(decode_page(&page[..len]).is_err(), "truncated to {len}");
        }
        let mut trailing = page.clone();
        trailing.push(0);
        assert!(decode_page(&trailing).is_err());
        // A count beyond the declared total.
        let stored_len = u32::from_le_bytes(page[..4].try_into().unwrap()) as usize;
        let mut lying = page.clone();
        lying[4 + stored_len..8 + stored_len].copy_from_slice(&0u32.to_le_bytes());
        assert!(decode_page(&lying).is_err());
        assert!(decode_page(&vec![0; MAX_PAGE_LEN + 1]).is_err());
    }
}
