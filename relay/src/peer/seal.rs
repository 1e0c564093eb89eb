//! Sealing and opening peer frames once the handshake has agreed on keys:
//! ChaCha20-Poly1305 with one key per direction and a per-direction frame
//! counter, sans-IO (bytes in, bytes or a typed error out).
//!
//! ```text
//! sealed frame = direction (1) || counter (8, big-endian) || ciphertext || tag (16)
//! nonce        = direction || 0 0 0 || counter
//! aad          = direction || counter
//! ```
//!
//! The counter is on the wire only so that a rejected frame can say why; it
//! is never trusted: the opener accepts exactly the next counter, so a
//! replayed, reordered or dropped frame is refused, and a frame sent back
//! to its sender carries the other direction (and was sealed under the
//! other key). Everything else that fails to authenticate is [`OpenError::Forged`].

use chacha20poly1305::aead::{AeadInOut, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Nonce, Tag};
use zeroize::Zeroizing;

/// Bytes before the ciphertext: the direction and the counter.
pub const SEAL_HEADER_LEN: usize = 1 + 8;
/// Bytes of the Poly1305 tag after the ciphertext.
pub const SEAL_TAG_LEN: usize = 16;
/// Bytes a sealed frame adds to its plaintext.
pub const SEAL_OVERHEAD: usize = SEAL_HEADER_LEN + SEAL_TAG_LEN;

/// Which way a frame travels on a link; each way has its own key and counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// From the side that dialed to the side that accepted.
    DialerToAcceptor,
    /// From the side that accepted to the side that dialed.
    AcceptorToDialer,
}

impl Direction {
    fn byte(self) -> u8 {
        match self {
            Self::DialerToAcceptor => 1,
            Self::AcceptorToDialer => 2,
        }
    }

    /// The direction frames come from when we send this way.
    pub fn reverse(self) -> Self {
        match self {
            Self::DialerToAcceptor => Self::AcceptorToDialer,
            Self::AcceptorToDialer => Self::DialerToAcceptor,
        }
    }
}

/// Why a sealed frame was refused. Every one ends the link.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OpenError {
    /// Shorter than a header and a tag: cut short on the way.
    #[error("sealed frame of {0} bytes is shorter than header and tag")]
    Truncated(usize),
    /// The direction byte is neither direction.
    #[error("sealed frame has unknown direction byte {0}")]
    UnknownDirection(u8),
    /// The frame was sealed by our side of the link and sent back to us.
    #[error("frame reflected back to its sender")]
    Reflected,
    /// A counter already used: the frame was recorded and sent again.
    #[error("frame {got} replayed (expected {expected})")]
    Replayed {
        /// The counter of the next frame.
        expected: u64,
        /// The counter on the frame.
        got: u64,
    },
    /// A counter from the future: frames were dropped or reordered.
    #[error("frame {got} out of order (expected {expected})")]
    OutOfOrder {
        /// The counter of the next frame.
        expected: u64,
        /// The counter on the frame.
        got: u64,
    },
    /// The tag does not verify: modified, truncated inside, or sealed under
    /// another key.
    #[error("frame does not authenticate")]
    Forged,
    /// 2^64 frames opened on this link.
    #[error("frame counter exhausted")]
    Exhausted,
}

/// Why a frame could not be sealed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    /// 2^64 frames sealed on this link; it must be re-established.
    #[error("frame counter exhausted")]
    Exhausted,
    /// The cipher refused the frame (longer than ChaCha20 allows).
    #[error("frame too long to seal")]
    TooLong,
}

/// A direction's 32-byte key, wiped when dropped.
pub type FrameKey = Zeroizing<[u8; 32]>;

fn nonce(direction: Direction, counter: u64) -> Nonce {
    let mut nonce = [0u8; 12];
    nonce[0] = direction.byte();
    nonce[4..].copy_from_slice(&counter.to_be_bytes());
    nonce.into()
}

fn header(direction: Direction, counter: u64) -> [u8; SEAL_HEADER_LEN] {
    let mut header = [0u8; SEAL_HEADER_LEN];
    header[0] = direction.byte();
    header[1..].copy_from_slice(&counter.to_be_bytes());
    header
}

/// Seals the frames we send on one link.
pub struct FrameSealer {
    cipher: ChaCha20Poly1305,
    direction: Direction,
    next: u64,
}

impl FrameSealer {
    /// A sealer for frames sent in `direction` under `key`, starting at counter 0.
    pub fn new(key: &FrameKey, direction: Direction) -> Self {
        Self {
            cipher: ChaCha20Poly1305::new((&**key).into()),
            direction,
            next: 0,
        }
    }

    /// Seals the next frame.
    pub fn seal(&mut self, plaintext: &[u8]) -> Result<Vec<u8>, SealError> {
        let counter = self.next;
        let next = counter.checked_add(1).ok_or(SealError::Exhausted)?;
        let header = header(self.direction, counter);
        let mut out = Vec::with_capacity(SEAL_OVERHEAD + plaintext.len());
        out.extend_from_slice(&header);
        out.extend_from_slice(plaintext);
        let tag = self
            .cipher
            .encrypt_inout_detached(
                &nonce(self.direction, counter),
                &header,
                (&mut out[SEAL_HEADER_LEN..]).into(),
            )
            .map_err(|_| SealError::TooLong)?;
        out.extend_from_slice(&tag);
        self.next = next;
        Ok(out)
    }
}

/// Opens the frames we receive on one link, each exactly once and in order.
pub struct FrameOpener {
    cipher: ChaCha20Poly1305,
    direction: Direction,
    next: u64,
}

impl FrameOpener {
    /// An opener for frames arriving in `direction` under `key`, starting at counter 0.
    pub fn new(key: &FrameKey, direction: Direction) -> Self {
        Self {
            cipher: ChaCha20Poly1305::new((&**key).into()),
            direction,
            next: 0,
        }
    }

    /// Opens the next frame. Nothing changes when it is refused.
    pub fn open(&mut self, sealed: &[u8]) -> Result<Vec<u8>, OpenError> {
        if sealed.len() < SEAL_OVERHEAD {
            return Err(OpenError::Truncated(sealed.len()));
        }
        let (header, rest) = sealed.split_at(SEAL_HEADER_LEN);
        let direction = match header[0] {
            b if b == self.direction.byte() => self.direction,
            b if b == self.direction.reverse().byte() => return Err(OpenError::Reflected),
            b => return Err(OpenError::UnknownDirection(b)),
        };
        let mut counter_bytes = [0u8; 8];
        counter_bytes.copy_from_slice(&header[1..]);
        let got = u64::from_be_bytes(counter_bytes);
        let expected = self.next;
        if got < expected {
            return Err(OpenError::Replayed { expected, got });
        }
        if got > expected {
            return Err(OpenError::OutOfOrder { expected, got });
        }
        let next = expected.checked_add(1).ok_or(OpenError::Exhausted)?;
        let (ciphertext, tag) = rest.split_at(rest.len() - SEAL_TAG_LEN);
        let tag = Tag::try_from(tag).map_err(|_| OpenError::Forged)?;
        let mut plaintext = ciphertext.to_vec();
        self.cipher
            .decrypt_inout_detached(
                &nonce(direction, got),
                header,
                plaintext.as_mut_slice().into(),
                &tag,
            )
            .map_err(|_| OpenError::Forged)?;
        self.next = next;
        Ok(plaintext)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn key(byte: u8) -> FrameKey {
        Zeroizing::new([byte; 32])
    }

    /// A dialer's sealer and the acceptor's matching opener, and the way back.
    fn link() -> (FrameSealer, FrameOpener, FrameSealer, FrameOpener) {
        let (to_acceptor, to_dialer) = (key(1), key(2));
        (
            FrameSealer::new(&to_acceptor, Direction::DialerToAcceptor),
            FrameOpener::new(&to_acceptor, Direction::DialerToAcceptor),
            FrameSealer::new(&to_dialer, Direction::AcceptorToDialer),
            FrameOpener::new(&to_dialer, Direction::AcceptorToDialer),
        )
    }

    #[test]
    fn frames_open_in_order_both_ways() {
        let (mut seal_d, mut open_a, mut seal_a, mut open_d) = link();
        for i in 0..5u8 {
            let frame = seal_d.seal(&[i; 40]).unwrap();
            assert_eq!(frame.len(), 40 + SEAL_OVERHEAD);
            assert!(
                !frame.windows(40).any(|w| w == [i; 40]),
                "plaintext on the wire"
            );
            assert_eq!(open_a.open(&frame).unwrap(), vec![i; 40]);
            let back = seal_a.seal(&[]).unwrap();
            assert_eq!(open_d.open(&back).unwrap(), Vec::<u8>::new());
        }
    }

    #[test]
    fn every_bit_flip_is_forged() {
        let (mut seal, mut open, _, _) = link();
        let frame = seal.seal(b"vote for vertex 7").unwrap();
        for byte in SEAL_HEADER_LEN..frame.len() {
            let mut tampered = frame.clone();
            tampered[byte] ^= 0x01;
            assert_eq!(open.open(&tampered), Err(OpenError::Forged), "byte {byte}");
        }
        // The untouched frame still opens: refusals change nothing.
        assert_eq!(open.open(&frame).unwrap(), b"vote for vertex 7");
    }

    #[test]
    fn replays_and_reordering_are_refused() {
        let (mut seal, mut open, _, _) = link();
        let first = seal.seal(b"one").unwrap();
        let second = seal.seal(b"two").unwrap();
        let third = seal.seal(b"three").unwrap();
        assert_eq!(
            open.open(&second),
            Err(OpenError::OutOfOrder {
                expected: 0,
                got: 1
            })
        );
        open.open(&first).unwrap();
        assert_eq!(
            open.open(&first),
            Err(OpenError::Replayed {
                expected: 1,
                got: 0
            })
        );
        assert_eq!(
            open.open(&third),
            Err(OpenError::OutOfOrder {
                expected: 1,
                got: 2
            })
        );
        open.open(&second).unwrap();
        open.open(&third).unwrap();
    }

    #[test]
    fn a_counter_rewritten_to_look_fresh_is_forged() {
        let (mut seal, mut open, _, _) = link();
        let first = seal.seal(b"one").unwrap();
        open.open(&first).unwrap();
        let mut replay = first.clone();
        replay[1..SEAL_HEADER_LEN].copy_from_slice(&1u64.to_be_bytes());
        assert_eq!(open.open(&replay), Err(OpenError::Forged));
    }

    #[test]
    fn reflected_frames_are_refused() {
        let (mut seal_d, _, _, mut open_d) = link();
        let frame = seal_d.seal(b"ours").unwrap();
        assert_eq!(open_d.open(&frame), Err(OpenError::Reflected));
        // Even with the direction byte rewritten, the key is the other one.
        let mut disguised = frame.clone();
        disguised[0] = Direction::AcceptorToDialer.byte();
        assert_eq!(open_d.open(&disguised), Err(OpenError::Forged));
        let mut garbage = frame;
        garbage[0] = 9;
        assert_eq!(open_d.open(&garbage), Err(OpenError::UnknownDirection(9)));
    }

    #[test]
    fn wrong_key_is_forged() {
        let mut seal = FrameSealer::new(&key(1), Direction::DialerToAcceptor);
        let mut open = FrameOpener::new(&key(3), Direction::DialerToAcceptor);
        let frame = seal.seal(b"hello").unwrap();
        assert_eq!(open.open(&frame), Err(OpenError::Forged));
    }

    #[test]
    fn truncated_frames_are_refused() {
        let (mut seal, mut open, _, _) = link();
        let frame = seal.seal(b"a frame that gets cut").unwrap();
        for len in 0..SEAL_OVERHEAD {
            assert_eq!(open.open(&frame[..len]), Err(OpenError::Truncated(len)));
        }
        for len in SEAL_OVERHEAD..frame.len() {
            assert_eq!(
                open.open(&frame[..len]),
                Err(OpenError::Forged),
                "len {len}"
            );
        }
        open.open(&frame).unwrap();
    }

    #[test]
    fn counters_end_instead_of_wrapping() {
        let (mut seal, mut open, _, _) = link();
        seal.next = u64::MAX;
        assert_eq!(seal.seal(b"x"), Err(SealError::Exhausted));
        open.next = u64::MAX;
        let mut frame = vec![Direction::DialerToAcceptor.byte()];
        frame.extend_from_slice(&u64::MAX.to_be_bytes());
        frame.extend_from_slice(&[0; SEAL_TAG_LEN]);
        assert_eq!(open.open(&frame), Err(OpenError::Exhausted));
    }

    proptest! {
        #[test]
        fn round_trip(frames in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..600), 1..12)) {
            let (mut seal, mut open, _, _) = link();
            for frame in &frames {
                let sealed = seal.seal(frame).unwrap();
                prop_assert_eq!(sealed.len(), frame.len() + SEAL_OVERHEAD);
                prop_assert_eq!(&open.open(&sealed).unwrap(), frame);
            }
        }

        #[test]
        fn opening_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let (_, mut open, _, _) = link();
            prop_assert!(open.open(&bytes).is_err());
        }
    }
}
