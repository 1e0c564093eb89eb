//! Transfer bodies a peer link does not send twice.
//!
//! A relay gossips each transfer its clients submit to every peer and, soon
//! after, sends the vertex that batches it to the same peers. Each transfer
//! (about 5.3 KB with the sender's ML-DSA-65 key and signature) used to
//! cross every link twice. Now the sending end of a link remembers the
//! gossip frames it wrote on it (a window of the latest [`WINDOW_FRAMES`],
//! at most [`WINDOW_BYTES`] of them), and when it writes a vertex it
//! replaces each transaction entry found in that window by the gossip
//! frame's sequence number on this link. The receiving end keeps the same
//! window of the gossip frames it read and puts the entries back before the
//! frame reaches the driver, which gets the vertex byte for byte as its
//! issuer signed it: nothing above the link changes.
//!
//! A relay writes compact vertices only to a peer that said it reads them:
//! each end's first frame on a link is [`features_frame`]; a relay from
//! before elision ignores it (an unknown message, dropped) and never gets a
//! compact frame, so relays of both kinds keep linking up during an upgrade.
//!
//! Both ends see the same gossip frames in the same order (one ordered,
//! sealed connection; [`Eliding`] records a frame as it is written,
//! [`Expanding`] as it is read, before anything else looks at it) and
//! evict by the same rule, so their windows hold the same frames and every
//! reference the sender writes is in the receiver's window. One that is not
//! (a bug, or a peer that lies) is an [`ElisionError`]: the link closes like
//! on any malformed frame, and both windows start empty on the next one.
//!
//! Compact vertex frame: `MESSAGE_VERSION`, [`COMPACT_VERTEX_TAG`], u16 `k`,
//! `k` times (u32 offset, u64 sequence), then the vertex message's bytes
//! without the `k` elided entries. Entry `i` (the gossip frame's bytes after
//! its 2-byte prefix: the u32 length and the signed transfer, exactly the
//! vertex's transaction entry) goes back in before byte `offset_i` of those
//! remaining bytes; offsets never decrease.

use ruv_consensus::message::{FIRST_LINK_TAG, MESSAGE_VERSION, TRANSACTION_PREFIX, VERTEX_PREFIX};
use ruv_consensus::vertex::{transaction_spans, MAX_VERTEX_TXS};
use ruv_protocol::codec::{DecodeError, Reader, Writer};
use std::collections::{HashMap, VecDeque};

/// Gossip frames a link's window holds.
pub const WINDOW_FRAMES: usize = 1024;
/// Bytes of gossip frames a link's window holds (the receiving end keeps
/// them, so this bounds the memory elision costs per link).
pub const WINDOW_BYTES: usize = 4 * 1024 * 1024;
/// The link tag of a compact vertex frame (never a consensus message tag).
pub const COMPACT_VERTEX_TAG: u8 = FIRST_LINK_TAG;
/// The link tag of the frame saying which link features its sender reads.
pub const FEATURES_TAG: u8 = FIRST_LINK_TAG + 1;
/// Feature bit: the sender expands compact vertex frames.
const READS_COMPACT_VERTICES: u8 = 1;
const _: () = assert!(COMPACT_VERTEX_TAG >= FIRST_LINK_TAG && FEATURES_TAG > COMPACT_VERTEX_TAG);

/// The first frame each end writes on a link: it reads compact vertices.
pub fn features_frame() -> Vec<u8> {
    vec![MESSAGE_VERSION, FEATURES_TAG, READS_COMPACT_VERTICES]
}

/// A frame from a peer, after [`Expanding::incoming`].
#[derive(Debug, PartialEq, Eq)]
pub enum Incoming {
    /// A frame for the driver (a compact vertex already expanded).
    Frame(Vec<u8>),
    /// The peer's features frame: whether it reads compact vertices. Not
    /// for the driver.
    PeerReadsCompact(bool),
}

/// Bytes of a vertex message before the vertex: the prefix and the u32 length.
const VERTEX_MESSAGE_HEADER: usize = VERTEX_PREFIX.len() + 4;

/// Why a frame from a peer could not be expanded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ElisionError {
    /// The compact header is cut short or names too many entries.
    #[error("malformed compact vertex frame: {0}")]
    Malformed(#[from] DecodeError),
    /// A reference to a gossip frame not in this link's window.
    #[error("compact vertex frame names gossip frame {0}, not in this link's window")]
    UnknownReference(u64),
    /// An offset before the previous one or past the frame's end.
    #[error("compact vertex frame has an entry offset out of order or out of range")]
    BadOffset,
    /// Expanded, the frame would exceed the largest peer frame.
    #[error("compact vertex frame expands to {0} bytes, over the limit of {max}", max = super::MAX_PEER_FRAME)]
    TooLong(usize),
}

/// The latest gossip frames of one direction of a link, numbered from 0.
/// Both ends run the same instance of this rule.
#[derive(Debug)]
struct Window<T> {
    entries: VecDeque<(u64, usize, T)>,
    bytes: usize,
    next: u64,
}

impl<T> Window<T> {
    fn new() -> Self {
        Self {
            entries: VecDeque::new(),
            bytes: 0,
            next: 0,
        }
    }

    /// Records the next gossip frame (`len` bytes after its prefix); returns
    /// its sequence number and what fell out of the window.
    fn push(&mut self, len: usize, value: T) -> (u64, Vec<(u64, T)>) {
        let seq = self.next;
        self.next += 1;
        self.entries.push_back((seq, len, value));
        self.bytes += len;
        let mut evicted = Vec::new();
        while self.entries.len() > WINDOW_FRAMES || self.bytes > WINDOW_BYTES {
            let Some((old, old_len, value)) = self.entries.pop_front() else {
                break;
            };
            self.bytes -= old_len;
            evicted.push((old, value));
        }
        (seq, evicted)
    }

    fn get(&self, seq: u64) -> Option<&T> {
        let first = self.entries.front()?.0;
        let index = usize::try_from(seq.checked_sub(first)?).ok()?;
        self.entries.get(index).map(|(_, _, value)| value)
    }
}

/// The sending end of a link: records gossip, compacts vertices.
#[derive(Debug)]
pub struct Eliding {
    window: Window<[u8; 32]>,
    by_digest: HashMap<[u8; 32], u64>,
    /// The peer said it reads compact vertices.
    peer_reads_compact: bool,
}

impl Default for Eliding {
    fn default() -> Self {
        Self {
            window: Window::new(),
            by_digest: HashMap::new(),
            peer_reads_compact: false,
        }
    }
}

impl Eliding {
    /// From now on, vertices may go compact (the peer's features frame
    /// said it reads them). Gossip was recorded from the link's start.
    pub fn peer_reads_compact(&mut self) {
        self.peer_reads_compact = true;
    }

    /// The frame to write in place of `frame`, and the bytes it saved.
    /// Gossip is recorded and passed on; a vertex whose transactions were
    /// gossiped on this link goes compact; anything else is passed on.
    pub fn outgoing(&mut self, frame: Vec<u8>) -> (Vec<u8>, usize) {
        if frame.starts_with(&TRANSACTION_PREFIX) {
            let entry = &frame[TRANSACTION_PREFIX.len()..];
            let digest = *blake3::hash(entry).as_bytes();
            let (seq, evicted) = self.window.push(entry.len(), digest);
            for (old, digest) in evicted {
                if self.by_digest.get(&digest) == Some(&old) {
                    self.by_digest.remove(&digest);
                }
            }
            self.by_digest.insert(digest, seq);
            return (frame, 0);
        }
        if !self.peer_reads_compact
            || !frame.starts_with(&VERTEX_PREFIX)
            || frame.len() < VERTEX_MESSAGE_HEADER
        {
            return (frame, 0);
        }
        let Ok(spans) = transaction_spans(&frame[VERTEX_MESSAGE_HEADER..]) else {
            return (frame, 0);
        };
        let elided: Vec<(std::ops::Range<usize>, u64)> = spans
            .into_iter()
            .map(|span| (span.start + VERTEX_MESSAGE_HEADER)..(span.end + VERTEX_MESSAGE_HEADER))
            .filter_map(|span| {
                let digest = *blake3::hash(&frame[span.clone()]).as_bytes();
                self.by_digest.get(&digest).map(|seq| (span, *seq))
            })
            .collect();
        if elided.is_empty() {
            return (frame, 0);
        }
        let saved: usize = elided.iter().map(|(span, _)| span.len()).sum();
        let mut w = Writer::with_capacity(frame.len() - saved + 4 + 12 * elided.len());
        w.u8(MESSAGE_VERSION)
            .u8(COMPACT_VERTEX_TAG)
            .u16(elided.len() as u16);
        let mut removed = 0;
        for (span, seq) in &elided {
            w.u32((span.start - removed) as u32).u64(*seq);
            removed += span.len();
        }
        let mut compact = w.finish();
        let mut at = 0;
        for (span, _) in &elided {
            compact.extend_from_slice(&frame[at..span.start]);
            at = span.end;
        }
        compact.extend_from_slice(&frame[at..]);
        let saved = frame.len().saturating_sub(compact.len());
        (compact, saved)
    }
}

/// The receiving end of a link: records gossip, expands compact vertices.
#[derive(Debug)]
pub struct Expanding {
    window: Window<Vec<u8>>,
}

impl Default for Expanding {
    fn default() -> Self {
        Self {
            window: Window::new(),
        }
    }
}

impl Expanding {
    /// The frame as the peer's driver sent it: gossip is recorded and
    /// passed on, a compact vertex is expanded, the features frame is
    /// answered, anything else passed on.
    pub fn incoming(&mut self, frame: Vec<u8>) -> Result<Incoming, ElisionError> {
        if frame.starts_with(&TRANSACTION_PREFIX) {
            let entry = frame[TRANSACTION_PREFIX.len()..].to_vec();
            self.window.push(entry.len(), entry);
            return Ok(Incoming::Frame(frame));
        }
        if frame.starts_with(&[MESSAGE_VERSION, FEATURES_TAG]) {
            let flags = frame.get(2).copied().unwrap_or(0);
            return Ok(Incoming::PeerReadsCompact(
                flags & READS_COMPACT_VERTICES != 0,
            ));
        }
        if !frame.starts_with(&[MESSAGE_VERSION, COMPACT_VERTEX_TAG]) {
            return Ok(Incoming::Frame(frame));
        }
        self.expand(&frame).map(Incoming::Frame)
    }

    fn expand(&self, frame: &[u8]) -> Result<Vec<u8>, ElisionError> {
        let mut r = Reader::new(&frame[2..]);
        let count = r.u16()? as usize;
        if count > MAX_VERTEX_TXS {
            return Err(DecodeError::TooLong {
                field: "elided transactions",
                len: count,
                max: MAX_VERTEX_TXS,
            }
            .into());
        }
        let mut references = Vec::with_capacity(count);
        for _ in 0..count {
            references.push((r.u32()? as usize, r.u64()?));
        }
        let rest = r.take(r.remaining())?;
        let mut len = rest.len();
        let mut entries = Vec::with_capacity(count);
        for (_, seq) in &references {
            let entry = self
                .window
                .get(*seq)
                .ok_or(ElisionError::UnknownReference(*seq))?;
            len += entry.len();
            entries.push(entry);
        }
        if len > super::MAX_PEER_FRAME {
            return Err(ElisionError::TooLong(len));
        }
        let mut expanded = Vec::with_capacity(len);
        let mut at = 0;
        for ((offset, _), entry) in references.iter().zip(entries) {
            if *offset < at || *offset > rest.len() {
                return Err(ElisionError::BadOffset);
            }
            expanded.extend_from_slice(&rest[at..*offset]);
            expanded.extend_from_slice(entry);
            at = *offset;
        }
        expanded.extend_from_slice(&rest[at..]);
        Ok(expanded)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use ruv_consensus::message::Message;
    use ruv_consensus::vertex::{ValidatorIndex, VertexContent, VertexId};
    use ruv_protocol::tx::{SignedTransfer, Transfer};
    use ruv_protocol::{Address, SigningKey};
    use std::sync::Arc;

    fn transfer(key: &SigningKey, nonce: u64) -> Arc<SignedTransfer> {
        let transfer = Transfer {
            chain_id: "ruv-test".into(),
            from: Address::from_public_key(key.public_key()),
            to: Address::from_bytes([9; 32]),
            amount: 5,
            fee: 10_000,
            nonce,
            memo: String::new(),
            public_key: key.public_key().clone(),
        };
        Arc::new(transfer.sign(key, [nonce as u8; 32]).unwrap())
    }

    fn vertex_frame(key: &SigningKey, txs: &[Arc<SignedTransfer>]) -> Vec<u8> {
        let vertex = VertexContent {
            chain_id: "ruv-test".into(),
            issuer: ValidatorIndex(0),
            height: 1,
            parents: vec![VertexId([3; 32])],
            txs: txs.to_vec(),
        }
        .sign(key, [0; 32])
        .unwrap();
        Message::Vertex(vertex.bytes()).encode()
    }

    /// A sending end whose peer said it reads compact vertices.
    fn reading_peer() -> Eliding {
        let mut sender = Eliding::default();
        let mut receiver = Expanding::default();
        if receiver.incoming(features_frame()) == Ok(Incoming::PeerReadsCompact(true)) {
            sender.peer_reads_compact();
        }
        sender
    }

    /// Sends `frames` through a fresh pair of ends, as a link would:
    /// what the receiving driver gets, and the bytes saved.
    fn through_link(frames: &[Vec<u8>]) -> (Vec<Vec<u8>>, usize) {
        let (mut sender, mut receiver) = (reading_peer(), Expanding::default());
        let mut saved = 0;
        let received = frames
            .iter()
            .map(|frame| {
                let (wire, s) = sender.outgoing(frame.clone());
                saved += s;
                match receiver.incoming(wire).expect("expands") {
                    Incoming::Frame(frame) => frame,
                    other => panic!("not a frame: {other:?}"),
                }
            })
            .collect();
        (received, saved)
    }

    #[test]
    fn gossiped_transfers_cross_once_and_the_vertex_arrives_byte_for_byte() {
        let key = SigningKey::from_seed(&[1; 32]);
        let txs: Vec<_> = (1..=4).map(|n| transfer(&key, n)).collect();
        // Transfers 1 and 3 were gossiped on this link, 2 and 4 were not.
        let gossip = |tx: &Arc<SignedTransfer>| Message::Transaction(tx.clone()).encode();
        let vertex = vertex_frame(&key, &txs);
        let frames = vec![gossip(&txs[0]), gossip(&txs[2]), vertex.clone()];
        let (received, saved) = through_link(&frames);
        assert_eq!(received, frames);
        let entry = |tx: &Arc<SignedTransfer>| 4 + tx.to_bytes().len();
        // Each elided entry costs a 12-byte reference; the header 4 bytes.
        assert_eq!(saved, entry(&txs[0]) + entry(&txs[2]) - 2 * 12 - 4);

        // On the wire the vertex frame is compact.
        let mut sender = reading_peer();
        sender.outgoing(gossip(&txs[0]));
        let (wire, _) = sender.outgoing(vertex.clone());
        assert_eq!(wire[1], COMPACT_VERTEX_TAG);
        assert_eq!(wire.len(), vertex.len() - entry(&txs[0]) + 12 + 4);
        // Nothing gossiped: the vertex goes whole.
        let (wire, saved) = reading_peer().outgoing(vertex.clone());
        assert_eq!((wire, saved), (vertex.clone(), 0));
        // A peer that never said it reads compact vertices gets them whole.
        let mut sender = Eliding::default();
        sender.outgoing(gossip(&txs[0]));
        let (wire, saved) = sender.outgoing(vertex.clone());
        assert_eq!((wire, saved), (vertex, 0));
    }

    #[test]
    fn a_transfer_out_of_the_window_is_sent_whole_and_both_ends_agree() {
        let key = SigningKey::from_seed(&[2; 32]);
        let first = transfer(&key, 1);
        let mut frames = vec![Message::Transaction(first.clone()).encode()];
        // Push it out of the window with other gossip (a frame each).
        for n in 0..WINDOW_FRAMES as u64 {
            let mut filler = TRANSACTION_PREFIX.to_vec();
            filler.extend_from_slice(&n.to_le_bytes());
            frames.push(filler);
        }
        let vertex = vertex_frame(&key, &[first]);
        frames.push(vertex.clone());
        let (received, saved) = through_link(&frames);
        assert_eq!(received.last(), Some(&vertex));
        assert_eq!(saved, 0);
    }

    #[test]
    fn the_byte_bound_evicts_the_same_frames_at_both_ends() {
        let mut sender: Window<()> = Window::new();
        let big = WINDOW_BYTES / 3 + 1;
        for _ in 0..3 {
            sender.push(big, ());
        }
        // Three frames of a third each are over the bound: the first left.
        assert!(sender.get(0).is_none());
        assert!(sender.get(1).is_some() && sender.get(2).is_some());
        assert!(sender.get(3).is_none());
    }

    #[test]
    fn references_outside_the_window_or_out_of_order_are_errors() {
        let key = SigningKey::from_seed(&[3; 32]);
        let tx = transfer(&key, 1);
        let gossip = Message::Transaction(tx.clone()).encode();
        let mut sender = reading_peer();
        sender.outgoing(gossip.clone());
        let (wire, _) = sender.outgoing(vertex_frame(&key, &[tx]));

        // A receiver that never saw the gossip (windows out of step).
        assert_eq!(
            Expanding::default().incoming(wire.clone()),
            Err(ElisionError::UnknownReference(0))
        );
        let mut receiver = Expanding::default();
        receiver.incoming(gossip).unwrap();
        // An offset past the end.
        let mut bad = wire.clone();
        bad[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(receiver.incoming(bad), Err(ElisionError::BadOffset));
        // Too many entries named.
        let mut bad = wire.clone();
        bad[2..4].copy_from_slice(&(MAX_VERTEX_TXS as u16 + 1).to_le_bytes());
        assert!(matches!(
            receiver.incoming(bad),
            Err(ElisionError::Malformed(_))
        ));
        // Cut short.
        assert!(matches!(
            receiver.incoming(wire[..10].to_vec()),
            Err(ElisionError::Malformed(_))
        ));
        // The genuine frame still expands.
        assert!(receiver.incoming(wire).is_ok());
    }

    #[test]
    fn a_frame_expanding_past_the_largest_peer_frame_is_refused() {
        let mut receiver = Expanding::default();
        let mut gossip = TRANSACTION_PREFIX.to_vec();
        gossip.resize(WINDOW_BYTES / 2, 7);
        receiver.incoming(gossip).unwrap();
        let references = super::super::MAX_PEER_FRAME / (WINDOW_BYTES / 2) + 1;
        let mut w = Writer::with_capacity(64);
        w.u8(MESSAGE_VERSION)
            .u8(COMPACT_VERTEX_TAG)
            .u16(references as u16);
        for _ in 0..references {
            w.u32(0).u64(0);
        }
        assert!(matches!(
            receiver.incoming(w.finish()),
            Err(ElisionError::TooLong(_))
        ));
    }

    proptest! {
        #[test]
        fn expanding_never_panics(count in 0u16..40, rest in proptest::collection::vec(any::<u8>(), 0..600)) {
            let mut receiver = Expanding::default();
            let mut gossip = TRANSACTION_PREFIX.to_vec();
            gossip.extend_from_slice(&[1, 2, 3]);
            receiver.incoming(gossip).unwrap();
            let mut frame = vec![MESSAGE_VERSION, COMPACT_VERTEX_TAG];
            frame.extend_from_slice(&count.to_le_bytes());
            frame.extend_from_slice(&rest);
            let _ = receiver.incoming(frame);
        }

        #[test]
        fn any_mix_of_gossip_and_vertices_arrives_unchanged(
            pattern in proptest::collection::vec((any::<bool>(), 0usize..4), 1..12),
        ) {
            let key = SigningKey::from_seed(&[4; 32]);
            let txs: Vec<_> = (1..=4).map(|n| transfer(&key, n)).collect();
            let frames: Vec<Vec<u8>> = pattern
                .iter()
                .map(|(is_gossip, n)| {
                    if *is_gossip {
                        Message::Transaction(txs[*n].clone()).encode()
                    } else {
                        vertex_frame(&key, &txs[..=*n])
                    }
                })
                .collect();
            let (received, _) = through_link(&frames);
            prop_assert_eq!(received, frames);
        }
    }
}
