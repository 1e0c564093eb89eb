//! The peer handshake, sans-IO: each side proves it holds a genesis
//! validator key by signing the transcript, and the two sides agree on
//! fresh per-link frame keys with ephemeral ML-KEM-768 (FIPS 203).
//!
//! ```text
//! acceptor -> dialer   Challenge { genesis_hash, validator_a, nonce_a, ek_a }
//! dialer   -> acceptor Hello     { validator_d, nonce_d, ek_d, ct_a, sig_d }
//! acceptor -> dialer   Welcome   { ct_d, sig_a }
//!
//! ek_x      = encapsulation key of a key pair made for this connection only
//! ct_a      = ML-KEM.Encaps(ek_a) -> ss_a        ct_d = ML-KEM.Encaps(ek_d) -> ss_d
//! th(..)    = BLAKE3 derive-key hash ("ruv/peer/v2 transcript") of the
//!             length-prefixed encodings of the messages so far
//! sig_d     = ML-DSA(dialer key,   ctx "ruv/peer/v1", "dial"   || th(Challenge, Hello without sig_d))
//! sig_a     = ML-DSA(acceptor key, ctx "ruv/peer/v1", "accept" || th(Challenge, Hello, Welcome without sig_a))
//! ikm       = ss_a || ss_d || th(Challenge, Hello, Welcome)
//! key d->a  = BLAKE3-derive-key("ruv/peer/v2 dialer to acceptor", ikm)
//! key a->d  = BLAKE3-derive-key("ruv/peer/v2 acceptor to dialer", ikm)
//! ```
//!
//! Both nonces and both KEM key pairs are fresh, so a recorded handshake
//! cannot be replayed; the genesis hash binds the link to one network; each
//! signature covers everything sent before it, both identities included,
//! so no field can be swapped on the way. The decapsulation keys live only
//! until the handshake ends: a signing key stolen later does not open
//! recorded traffic. See `docs/peer-links.md`.

use super::seal::{Direction, FrameKey, FrameOpener, FrameSealer};
use ml_kem::ml_kem_768::{Ciphertext, DecapsulationKey, EncapsulationKey};
use ml_kem::{Decapsulate, KeyExport};
use ruv_protocol::codec::{DecodeError, Reader, Writer};
use ruv_protocol::crypto::{context, PublicKey, Signature, SigningKey, SIGNATURE_LEN};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

/// Handshake message tags (v1 used 1..=3; a v1 peer is refused as malformed).
const TAG_CHALLENGE: u8 = 4;
const TAG_HELLO: u8 = 5;
const TAG_WELCOME: u8 = 6;

/// Bytes of an ML-KEM-768 encapsulation key (FIPS 203, table 3).
pub const KEM_KEY_LEN: usize = 1184;
/// Bytes of an ML-KEM-768 ciphertext (FIPS 203, table 3).
pub const KEM_CIPHERTEXT_LEN: usize = 1088;

const TRANSCRIPT_CONTEXT: &str = "ruv/peer/v2 transcript";
const KEY_DIALER_TO_ACCEPTOR: &str = "ruv/peer/v2 dialer to acceptor";
const KEY_ACCEPTOR_TO_DIALER: &str = "ruv/peer/v2 acceptor to dialer";

/// Why a handshake failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HandshakeError {
    /// The message does not decode.
    #[error("malformed handshake message: {0}")]
    Malformed(#[from] DecodeError),
    /// The peer is on another network.
    #[error("peer is on a different genesis")]
    WrongNetwork,
    /// The claimed validator index is not in genesis.
    #[error("validator index {0} is not in genesis")]
    UnknownValidator(u16),
    /// The signature does not verify under the claimed validator's key.
    #[error("handshake signature does not verify")]
    BadSignature,
    /// The peer's ML-KEM encapsulation key fails the FIPS 203 input check.
    #[error("peer's ML-KEM encapsulation key is invalid")]
    BadKemKey,
    /// Signing failed locally.
    #[error("could not sign the handshake")]
    Signing,
}

/// The randomness one side of a handshake uses, wiped when dropped. The
/// driver fills it from the operating system; tests choose it.
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct HandshakeRandom {
    /// This side's nonce.
    pub nonce: [u8; 32],
    /// Seed of this side's ephemeral ML-KEM key pair.
    pub kem_seed: [u8; 64],
    /// Randomness of this side's encapsulation to the other side's key.
    pub encapsulation: [u8; 32],
    /// Randomness of this side's signature (hedged signing).
    pub signing: [u8; 32],
}

/// First message, from the accepting side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    /// The acceptor's network.
    pub genesis_hash: [u8; 32],
    /// Index of the acceptor in genesis' validator list.
    pub validator: u16,
    /// Fresh random bytes.
    pub acceptor_nonce: [u8; 32],
    /// The acceptor's ephemeral ML-KEM-768 encapsulation key.
    pub kem_key: Vec<u8>,
}

/// The dialer's proof and its half of the key exchange.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hello {
    /// Index of the dialer in genesis' validator list.
    pub validator: u16,
    /// Fresh random bytes.
    pub dialer_nonce: [u8; 32],
    /// The dialer's ephemeral ML-KEM-768 encapsulation key.
    pub kem_key: Vec<u8>,
    /// Encapsulation to the acceptor's key.
    pub kem_ciphertext: Vec<u8>,
    /// Signature over the transcript.
    pub signature: Signature,
}

/// The acceptor's proof and its half of the key exchange.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Welcome {
    /// Encapsulation to the dialer's key.
    pub kem_ciphertext: Vec<u8>,
    /// Signature over the transcript.
    pub signature: Signature,
}

impl Challenge {
    /// Encodes the message.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut w = Writer::default();
        w.u8(TAG_CHALLENGE)
            .fixed(&self.genesis_hash)
            .u16(self.validator)
            .fixed(&self.acceptor_nonce)
            .fixed(&self.kem_key);
        w.finish()
    }
    /// Decodes the message.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, HandshakeError> {
        let mut r = Reader::new(bytes);
        expect_tag(&mut r, TAG_CHALLENGE)?;
        let out = Self {
            genesis_hash: r.array()?,
            validator: r.u16()?,
            acceptor_nonce: r.array()?,
            kem_key: r.take(KEM_KEY_LEN)?.to_vec(),
        };
        r.finish()?;
        Ok(out)
    }
}

/// The part of a hello its signature covers (all of it but the signature).
fn hello_body(validator: u16, nonce: &[u8; 32], kem_key: &[u8], kem_ciphertext: &[u8]) -> Writer {
    let mut w = Writer::default();
    w.u8(TAG_HELLO)
        .u16(validator)
        .fixed(nonce)
        .fixed(kem_key)
        .fixed(kem_ciphertext);
    w
}

/// The part of a welcome its signature covers.
fn welcome_body(kem_ciphertext: &[u8]) -> Writer {
    let mut w = Writer::default();
    w.u8(TAG_WELCOME).fixed(kem_ciphertext);
    w
}

impl Hello {
    fn body(&self) -> Writer {
        hello_body(
            self.validator,
            &self.dialer_nonce,
            &self.kem_key,
            &self.kem_ciphertext,
        )
    }
    /// Encodes the message.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut w = self.body();
        w.fixed(self.signature.as_bytes());
        w.finish()
    }
    /// Decodes the message.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, HandshakeError> {
        let mut r = Reader::new(bytes);
        expect_tag(&mut r, TAG_HELLO)?;
        let out = Self {
            validator: r.u16()?,
            dialer_nonce: r.array()?,
            kem_key: r.take(KEM_KEY_LEN)?.to_vec(),
            kem_ciphertext: r.take(KEM_CIPHERTEXT_LEN)?.to_vec(),
            signature: read_signature(&mut r)?,
        };
        r.finish()?;
        Ok(out)
    }
}

impl Welcome {
    fn body(&self) -> Writer {
        welcome_body(&self.kem_ciphertext)
    }
    /// Encodes the message.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut w = self.body();
        w.fixed(self.signature.as_bytes());
        w.finish()
    }
    /// Decodes the message.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, HandshakeError> {
        let mut r = Reader::new(bytes);
        expect_tag(&mut r, TAG_WELCOME)?;
        let out = Self {
            kem_ciphertext: r.take(KEM_CIPHERTEXT_LEN)?.to_vec(),
            signature: read_signature(&mut r)?,
        };
        r.finish()?;
        Ok(out)
    }
}

fn expect_tag(r: &mut Reader<'_>, tag: u8) -> Result<(), HandshakeError> {
    let got = r.u8()?;
    if got != tag {
        return Err(DecodeError::UnknownTag {
            field: "handshake message",
            tag: got,
        }
        .into());
    }
    Ok(())
}

fn read_signature(r: &mut Reader<'_>) -> Result<Signature, HandshakeError> {
    Signature::from_bytes(r.take(SIGNATURE_LEN)?).map_err(|_| {
        DecodeError::Invalid {
            field: "signature",
            reason: "wrong length",
        }
        .into()
    })
}

/// A running hash of the handshake messages, each length-prefixed.
#[derive(Clone)]
struct Transcript(blake3::Hasher);

impl Transcript {
    fn new() -> Self {
        Self(blake3::Hasher::new_derive_key(TRANSCRIPT_CONTEXT))
    }
    fn absorb(mut self, message: &[u8]) -> Self {
        self.0.update(&(message.len() as u64).to_be_bytes());
        self.0.update(message);
        self
    }
    fn hash(&self) -> [u8; 32] {
        *self.0.finalize().as_bytes()
    }
}

/// What a side signs: its role, then the transcript hash.
fn signed_message(role: &[u8], transcript: &Transcript) -> Vec<u8> {
    [role, &transcript.hash()].concat()
}

fn kem_key_pair(seed: &[u8; 64]) -> DecapsulationKey {
    DecapsulationKey::from_seed((*seed).into())
}

fn encapsulation_key(bytes: &[u8]) -> Result<EncapsulationKey, HandshakeError> {
    let key = ml_kem::array::Array::try_from(bytes).map_err(|_| HandshakeError::BadKemKey)?;
    EncapsulationKey::new(&key).map_err(|_| HandshakeError::BadKemKey)
}

fn ciphertext(bytes: &[u8]) -> Result<Ciphertext, HandshakeError> {
    Ciphertext::try_from(bytes).map_err(|_| {
        DecodeError::Invalid {
            field: "ML-KEM ciphertext",
            reason: "wrong length",
        }
        .into()
    })
}

/// Copies a KEM shared secret out, wiping the library's copy.
fn take_secret(mut secret: ml_kem::SharedKey) -> Zeroizing<[u8; 32]> {
    let mut out = Zeroizing::new([0u8; 32]);
    out.copy_from_slice(&secret);
    secret.as_mut_slice().zeroize();
    out
}

fn encapsulate(to: &EncapsulationKey, randomness: &[u8; 32]) -> (Vec<u8>, Zeroizing<[u8; 32]>) {
    let (ciphertext, secret) = to.encapsulate_deterministic(&(*randomness).into());
    (ciphertext.to_vec(), take_secret(secret))
}

/// The two frame keys: both KEM secrets and the whole transcript go in.
fn link_keys(
    acceptor_secret: &[u8; 32],
    dialer_secret: &[u8; 32],
    transcript: &Transcript,
) -> (FrameKey, FrameKey) {
    let mut ikm = Zeroizing::new([0u8; 96]);
    ikm[..32].copy_from_slice(acceptor_secret);
    ikm[32..64].copy_from_slice(dialer_secret);
    ikm[64..].copy_from_slice(&transcript.hash());
    (
        Zeroizing::new(blake3::derive_key(KEY_DIALER_TO_ACCEPTOR, &ikm[..])),
        Zeroizing::new(blake3::derive_key(KEY_ACCEPTOR_TO_DIALER, &ikm[..])),
    )
}

/// This relay's identity for handshakes.
pub struct Identity<'a> {
    /// Our validator key.
    pub key: &'a SigningKey,
    /// Our index in genesis.
    pub validator: u16,
    /// The network.
    pub genesis_hash: [u8; 32],
    /// Validator public keys, by index.
    pub validators: &'a [PublicKey],
}

/// An authenticated link: who is on the other end, and the frame keys.
pub struct Established {
    /// The peer's validator index.
    pub peer: u16,
    /// Seals the frames we send.
    pub sealer: FrameSealer,
    /// Opens the frames we receive.
    pub opener: FrameOpener,
}

impl std::fmt::Debug for Established {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the keys.
        f.debug_struct("Established")
            .field("peer", &self.peer)
            .finish_non_exhaustive()
    }
}

/// The acceptor between sending its challenge and receiving the hello.
pub struct AcceptorHandshake {
    challenge: Challenge,
    kem: DecapsulationKey,
    random: HandshakeRandom,
}

/// The dialer between sending its hello and receiving the welcome.
pub struct DialerHandshake {
    challenge: Challenge,
    hello: Hello,
    kem: DecapsulationKey,
    acceptor_secret: Zeroizing<[u8; 32]>,
}

impl Identity<'_> {
    fn validator_key(&self, index: u16) -> Result<&PublicKey, HandshakeError> {
        self.validators
            .get(index as usize)
            .ok_or(HandshakeError::UnknownValidator(index))
    }

    /// Acceptor, step 1: a challenge carrying a fresh KEM key.
    pub fn challenge(&self, random: HandshakeRandom) -> AcceptorHandshake {
        let kem = kem_key_pair(&random.kem_seed);
        let challenge = Challenge {
            genesis_hash: self.genesis_hash,
            validator: self.validator,
            acceptor_nonce: random.nonce,
            kem_key: kem.encapsulation_key().to_bytes().to_vec(),
        };
        AcceptorHandshake {
            challenge,
            kem,
            random,
        }
    }

    /// Dialer: answers a challenge.
    pub fn hello(
        &self,
        challenge: &Challenge,
        random: HandshakeRandom,
    ) -> Result<(DialerHandshake, Hello), HandshakeError> {
        if challenge.genesis_hash != self.genesis_hash {
            return Err(HandshakeError::WrongNetwork);
        }
        self.validator_key(challenge.validator)?;
        let acceptor_kem_key = encapsulation_key(&challenge.kem_key)?;
        let (kem_ciphertext, acceptor_secret) =
            encapsulate(&acceptor_kem_key, &random.encapsulation);
        let kem = kem_key_pair(&random.kem_seed);
        let kem_key = kem.encapsulation_key().to_bytes().to_vec();
        let body = hello_body(self.validator, &random.nonce, &kem_key, &kem_ciphertext).finish();
        let transcript = Transcript::new()
            .absorb(&challenge.to_bytes())
            .absorb(&body);
        let signature = self
            .key
            .sign(
                &signed_message(b"dial", &transcript),
                context::PEER,
                random.signing,
            )
            .map_err(|_| HandshakeError::Signing)?;
        let hello = Hello {
            validator: self.validator,
            dialer_nonce: random.nonce,
            kem_key,
            kem_ciphertext,
            signature,
        };
        let pending = DialerHandshake {
            challenge: challenge.clone(),
            hello: hello.clone(),
            kem,
            acceptor_secret,
        };
        Ok((pending, hello))
    }
}

impl AcceptorHandshake {
    /// The challenge to send.
    pub fn challenge(&self) -> &Challenge {
        &self.challenge
    }

    /// Checks the dialer's hello and answers it; the link is then up on
    /// our side (the dialer's first sealed frame confirms its keys).
    pub fn welcome(
        self,
        identity: &Identity<'_>,
        hello: &Hello,
    ) -> Result<(Established, Welcome), HandshakeError> {
        let dialer_key = identity.validator_key(hello.validator)?;
        let challenge = self.challenge.to_bytes();
        let signed = Transcript::new()
            .absorb(&challenge)
            .absorb(&hello.body().finish());
        dialer_key
            .verify(
                &signed_message(b"dial", &signed),
                context::PEER,
                &hello.signature,
            )
            .map_err(|_| HandshakeError::BadSignature)?;
        let acceptor_secret =
            take_secret(self.kem.decapsulate(&ciphertext(&hello.kem_ciphertext)?));
        let dialer_kem_key = encapsulation_key(&hello.kem_key)?;
        let (kem_ciphertext, dialer_secret) =
            encapsulate(&dialer_kem_key, &self.random.encapsulation);
        let so_far = Transcript::new()
            .absorb(&challenge)
            .absorb(&hello.to_bytes());
        let signed = so_far
            .clone()
            .absorb(&welcome_body(&kem_ciphertext).finish());
        let signature = identity
            .key
            .sign(
                &signed_message(b"accept", &signed),
                context::PEER,
                self.random.signing,
            )
            .map_err(|_| HandshakeError::Signing)?;
        let welcome = Welcome {
            kem_ciphertext,
            signature,
        };
        let full = so_far.absorb(&welcome.to_bytes());
        let (to_acceptor, to_dialer) = link_keys(&acceptor_secret, &dialer_secret, &full);
        let established = Established {
            peer: hello.validator,
            sealer: FrameSealer::new(&to_dialer, Direction::AcceptorToDialer),
            opener: FrameOpener::new(&to_acceptor, Direction::DialerToAcceptor),
        };
        Ok((established, welcome))
    }
}

impl DialerHandshake {
    /// Checks the acceptor's welcome; the link is then up.
    pub fn finish(
        self,
        identity: &Identity<'_>,
        welcome: &Welcome,
    ) -> Result<Established, HandshakeError> {
        let acceptor_key = identity.validator_key(self.challenge.validator)?;
        let so_far = Transcript::new()
            .absorb(&self.challenge.to_bytes())
            .absorb(&self.hello.to_bytes());
        let signed = so_far.clone().absorb(&welcome.body().finish());
        acceptor_key
            .verify(
                &signed_message(b"accept", &signed),
                context::PEER,
                &welcome.signature,
            )
            .map_err(|_| HandshakeError::BadSignature)?;
        let dialer_secret =
            take_secret(self.kem.decapsulate(&ciphertext(&welcome.kem_ciphertext)?));
        let full = so_far.absorb(&welcome.to_bytes());
        let (to_acceptor, to_dialer) = link_keys(&self.acceptor_secret, &dialer_secret, &full);
        Ok(Established {
            peer: self.challenge.validator,
            sealer: FrameSealer::new(&to_acceptor, Direction::DialerToAcceptor),
            opener: FrameOpener::new(&to_dialer, Direction::AcceptorToDialer),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::peer::seal::OpenError;

    fn keys() -> Vec<SigningKey> {
        (0..3u8).map(|i| SigningKey::from_seed(&[i; 32])).collect()
    }

    fn random(byte: u8) -> HandshakeRandom {
        HandshakeRandom {
            nonce: [byte; 32],
            kem_seed: [byte.wrapping_add(1); 64],
            encapsulation: [byte.wrapping_add(2); 32],
            signing: [0; 32],
        }
    }

    fn identity<'a>(
        key: &'a SigningKey,
        validator: u16,
        validators: &'a [PublicKey],
    ) -> Identity<'a> {
        Identity {
            key,
            validator,
            genesis_hash: [9; 32],
            validators,
        }
    }

    /// Both ends of a link after a full handshake through the codecs.
    fn handshake(
        acceptor: &Identity<'_>,
        dialer: &Identity<'_>,
        seed: u8,
    ) -> (Established, Established) {
        let pending_a = acceptor.challenge(random(seed));
        let challenge = Challenge::from_bytes(&pending_a.challenge().to_bytes()).unwrap();
        let (pending_d, hello) = dialer.hello(&challenge, random(seed + 10)).unwrap();
        let hello = Hello::from_bytes(&hello.to_bytes()).unwrap();
        let (at_acceptor, welcome) = pending_a.welcome(acceptor, &hello).unwrap();
        let welcome = Welcome::from_bytes(&welcome.to_bytes()).unwrap();
        let at_dialer = pending_d.finish(dialer, &welcome).unwrap();
        (at_acceptor, at_dialer)
    }

    #[test]
    fn both_sides_authenticate_and_agree_on_keys() {
        let keys = keys();
        let publics: Vec<PublicKey> = keys.iter().map(|k| k.public_key().clone()).collect();
        let acceptor = identity(&keys[0], 0, &publics);
        let dialer = identity(&keys[2], 2, &publics);
        let (mut at_a, mut at_d) = handshake(&acceptor, &dialer, 1);
        assert_eq!((at_a.peer, at_d.peer), (2, 0));
        let frame = at_d.sealer.seal(b"vote").unwrap();
        assert_eq!(at_a.opener.open(&frame).unwrap(), b"vote");
        let frame = at_a.sealer.seal(b"chits").unwrap();
        assert_eq!(at_d.opener.open(&frame).unwrap(), b"chits");

        // Another connection between the same validators gets other keys.
        let (mut other_a, _) = handshake(&acceptor, &dialer, 2);
        let frame = at_d.sealer.seal(b"vote").unwrap();
        assert_eq!(
            other_a.opener.open(&frame),
            Err(OpenError::OutOfOrder {
                expected: 0,
                got: 1
            })
        );
        let mut fresh_d = handshake(&acceptor, &dialer, 3).1;
        let frame = fresh_d.sealer.seal(b"vote").unwrap();
        assert_eq!(other_a.opener.open(&frame), Err(OpenError::Forged));
    }

    #[test]
    fn every_field_is_covered_by_a_signature() {
        let keys = keys();
        let publics: Vec<PublicKey> = keys.iter().map(|k| k.public_key().clone()).collect();
        let acceptor = identity(&keys[0], 0, &publics);
        let dialer = identity(&keys[1], 1, &publics);

        // An on-path attacker swaps the acceptor's KEM key for its own.
        let pending_a = acceptor.challenge(random(1));
        let mut challenge = pending_a.challenge().clone();
        challenge.kem_key = acceptor.challenge(random(50)).challenge().kem_key.clone();
        let (_, hello) = dialer.hello(&challenge, random(2)).unwrap();
        assert_eq!(
            pending_a.welcome(&acceptor, &hello).unwrap_err(),
            HandshakeError::BadSignature
        );

        // ... or the dialer's KEM key, or its ciphertext.
        for field in 0..2 {
            let pending_a = acceptor.challenge(random(1));
            let (_, mut hello) = dialer.hello(pending_a.challenge(), random(2)).unwrap();
            let (_, other) = dialer.hello(pending_a.challenge(), random(3)).unwrap();
            if field == 0 {
                hello.kem_key = other.kem_key;
            } else {
                hello.kem_ciphertext = other.kem_ciphertext;
            }
            assert_eq!(
                pending_a.welcome(&acceptor, &hello).unwrap_err(),
                HandshakeError::BadSignature
            );
        }

        // ... or the acceptor's ciphertext to the dialer.
        let pending_a = acceptor.challenge(random(1));
        let (pending_d, hello) = dialer.hello(pending_a.challenge(), random(2)).unwrap();
        let (_, mut welcome) = pending_a.welcome(&acceptor, &hello).unwrap();
        welcome.kem_ciphertext[0] ^= 1;
        assert_eq!(
            pending_d.finish(&dialer, &welcome).unwrap_err(),
            HandshakeError::BadSignature
        );

        // ... or who the acceptor is.
        let pending_a = acceptor.challenge(random(1));
        let mut challenge = pending_a.challenge().clone();
        challenge.validator = 2;
        let (pending_d, hello) = dialer.hello(&challenge, random(2)).unwrap();
        assert_eq!(
            pending_a.welcome(&acceptor, &hello).unwrap_err(),
            HandshakeError::BadSignature
        );
        let pending_a = acceptor.challenge(random(1));
        let (_, hello) = dialer.hello(pending_a.challenge(), random(2)).unwrap();
        let (_, welcome) = pending_a.welcome(&acceptor, &hello).unwrap();
        assert_eq!(
            pending_d.finish(&dialer, &welcome).unwrap_err(),
            HandshakeError::BadSignature
        );
    }

    #[test]
    fn impostors_replays_and_other_networks_are_refused() {
        let keys = keys();
        let publics: Vec<PublicKey> = keys.iter().map(|k| k.public_key().clone()).collect();
        let outsider = SigningKey::from_seed(&[77; 32]);
        let acceptor = identity(&keys[0], 0, &publics);
        // An outsider claiming to be validator 1.
        let impostor = identity(&outsider, 1, &publics);
        let pending = acceptor.challenge(random(1));
        let (_, hello) = impostor.hello(pending.challenge(), random(2)).unwrap();
        assert_eq!(
            pending.welcome(&acceptor, &hello).unwrap_err(),
            HandshakeError::BadSignature
        );
        // An index outside genesis, on either side.
        let stranger = identity(&outsider, 7, &publics);
        let pending = acceptor.challenge(random(1));
        let (_, hello) = stranger.hello(pending.challenge(), random(2)).unwrap();
        assert_eq!(
            pending.welcome(&acceptor, &hello).unwrap_err(),
            HandshakeError::UnknownValidator(7)
        );
        let honest = identity(&keys[1], 1, &publics);
        assert_eq!(
            honest
                .hello(stranger.challenge(random(1)).challenge(), random(2))
                .err(),
            Some(HandshakeError::UnknownValidator(7))
        );
        // A genuine hello replayed against a fresh challenge.
        let pending = acceptor.challenge(random(1));
        let (_, hello) = honest.hello(pending.challenge(), random(2)).unwrap();
        let fresh = acceptor.challenge(random(3));
        assert_eq!(
            fresh.welcome(&acceptor, &hello).unwrap_err(),
            HandshakeError::BadSignature
        );
        // Another network.
        let other = Identity {
            genesis_hash: [8; 32],
            ..identity(&keys[1], 1, &publics)
        };
        assert_eq!(
            other
                .hello(acceptor.challenge(random(1)).challenge(), random(2))
                .err(),
            Some(HandshakeError::WrongNetwork)
        );
        // A KEM key that fails the FIPS 203 modulus check.
        let mut challenge = acceptor.challenge(random(1)).challenge().clone();
        challenge.kem_key = vec![0xff; KEM_KEY_LEN];
        assert_eq!(
            honest.hello(&challenge, random(2)).err(),
            Some(HandshakeError::BadKemKey)
        );
        // Garbage, and v1 messages.
        assert!(matches!(
            Hello::from_bytes(&[TAG_HELLO, 0]),
            Err(HandshakeError::Malformed(_))
        ));
        assert!(matches!(
            Challenge::from_bytes(&[]),
            Err(HandshakeError::Malformed(_))
        ));
        let mut v1_challenge = vec![1u8];
        v1_challenge.extend_from_slice(&[0; 64]);
        assert!(matches!(
            Challenge::from_bytes(&v1_challenge),
            Err(HandshakeError::Malformed(DecodeError::UnknownTag { .. }))
        ));
    }
}
