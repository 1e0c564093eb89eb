//! The peer handshake, as pure functions: each side proves it holds a
//! genesis validator key by signing the other side's fresh challenge.
//!
//! ```text
//! acceptor -> dialer   Challenge { genesis_hash, acceptor_nonce }
//! dialer   -> acceptor Hello     { validator, dialer_nonce, sig_d }
//! acceptor -> dialer   Welcome   { validator, sig_a }
//! sig_d = ML-DSA(dialer key,   ctx "ruv/peer/v1", "dial"   || genesis_hash || acceptor_nonce || dialer_nonce)
//! sig_a = ML-DSA(acceptor key, ctx "ruv/peer/v1", "accept" || genesis_hash || dialer_nonce   || acceptor_nonce)
//! ```
//!
//! Both nonces are fresh, so a recorded handshake cannot be replayed, and the
//! genesis hash binds the link to one network.

use ruv_protocol::codec::{DecodeError, Reader, Writer};
use ruv_protocol::crypto::{context, PublicKey, Signature, SigningKey, SIGNATURE_LEN};

/// Handshake message tags.
const TAG_CHALLENGE: u8 = 1;
const TAG_HELLO: u8 = 2;
const TAG_WELCOME: u8 = 3;

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
    /// Signing failed locally.
    #[error("could not sign the handshake")]
    Signing,
}

/// First message, from the accepting side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    /// The acceptor's network.
    pub genesis_hash: [u8; 32],
    /// Fresh random bytes.
    pub acceptor_nonce: [u8; 32],
}

/// The dialer's proof.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hello {
    /// Index of the dialer in genesis' validator list.
    pub validator: u16,
    /// Fresh random bytes.
    pub dialer_nonce: [u8; 32],
    /// Signature over the transcript.
    pub signature: Signature,
}

/// The acceptor's proof.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Welcome {
    /// Index of the acceptor in genesis' validator list.
    pub validator: u16,
    /// Signature over the transcript.
    pub signature: Signature,
}

impl Challenge {
    /// Encodes the message.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut w = Writer::default();
        w.u8(TAG_CHALLENGE)
            .fixed(&self.genesis_hash)
            .fixed(&self.acceptor_nonce);
        w.finish()
    }
    /// Decodes the message.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, HandshakeError> {
        let mut r = Reader::new(bytes);
        expect_tag(&mut r, TAG_CHALLENGE)?;
        let out = Self {
            genesis_hash: r.array()?,
            acceptor_nonce: r.array()?,
        };
        r.finish()?;
        Ok(out)
    }
}

impl Hello {
    /// Encodes the message.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut w = Writer::default();
        w.u8(TAG_HELLO)
            .u16(self.validator)
            .fixed(&self.dialer_nonce)
            .fixed(self.signature.as_bytes());
        w.finish()
    }
    /// Decodes the message.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, HandshakeError> {
        let mut r = Reader::new(bytes);
        expect_tag(&mut r, TAG_HELLO)?;
        let validator = r.u16()?;
        let dialer_nonce = r.array()?;
        let signature = read_signature(&mut r)?;
        r.finish()?;
        Ok(Self {
            validator,
            dialer_nonce,
            signature,
        })
    }
}

impl Welcome {
    /// Encodes the message.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut w = Writer::default();
        w.u8(TAG_WELCOME)
            .u16(self.validator)
            .fixed(self.signature.as_bytes());
        w.finish()
    }
    /// Decodes the message.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, HandshakeError> {
        let mut r = Reader::new(bytes);
        expect_tag(&mut r, TAG_WELCOME)?;
        let validator = r.u16()?;
        let signature = read_signature(&mut r)?;
        r.finish()?;
        Ok(Self {
            validator,
            signature,
        })
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

fn transcript(
    role: &[u8],
    genesis_hash: &[u8; 32],
    their_nonce: &[u8; 32],
    our_nonce: &[u8; 32],
) -> Vec<u8> {
    [role, genesis_hash, their_nonce, our_nonce].concat()
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

impl Identity<'_> {
    /// Acceptor, step 1.
    pub fn challenge(&self, acceptor_nonce: [u8; 32]) -> Challenge {
        Challenge {
            genesis_hash: self.genesis_hash,
            acceptor_nonce,
        }
    }

    /// Dialer: answers a challenge.
    pub fn hello(
        &self,
        challenge: &Challenge,
        dialer_nonce: [u8; 32],
        rnd: [u8; 32],
    ) -> Result<Hello, HandshakeError> {
        if challenge.genesis_hash != self.genesis_hash {
            return Err(HandshakeError::WrongNetwork);
        }
        let message = transcript(
            b"dial",
            &self.genesis_hash,
            &challenge.acceptor_nonce,
            &dialer_nonce,
        );
        let signature = self
            .key
            .sign(&message, context::PEER, rnd)
            .map_err(|_| HandshakeError::Signing)?;
        Ok(Hello {
            validator: self.validator,
            dialer_nonce,
            signature,
        })
    }

    /// Acceptor: checks a hello against the challenge it sent and answers it.
    /// Returns the dialer's validator index.
    pub fn welcome(
        &self,
        challenge: &Challenge,
        hello: &Hello,
        rnd: [u8; 32],
    ) -> Result<(u16, Welcome), HandshakeError> {
        let key = self
            .validators
            .get(hello.validator as usize)
            .ok_or(HandshakeError::UnknownValidator(hello.validator))?;
        let message = transcript(
            b"dial",
            &self.genesis_hash,
            &challenge.acceptor_nonce,
            &hello.dialer_nonce,
        );
        key.verify(&message, context::PEER, &hello.signature)
            .map_err(|_| HandshakeError::BadSignature)?;
        let reply = transcript(
            b"accept",
            &self.genesis_hash,
            &hello.dialer_nonce,
            &challenge.acceptor_nonce,
        );
        let signature = self
            .key
            .sign(&reply, context::PEER, rnd)
            .map_err(|_| HandshakeError::Signing)?;
        Ok((
            hello.validator,
            Welcome {
                validator: self.validator,
                signature,
            },
        ))
    }

    /// Dialer: checks the acceptor's welcome. Returns the acceptor's validator index.
    pub fn check_welcome(
        &self,
        challenge: &Challenge,
        hello: &Hello,
        welcome: &Welcome,
    ) -> Result<u16, HandshakeError> {
        let key = self
            .validators
            .get(welcome.validator as usize)
            .ok_or(HandshakeError::UnknownValidator(welcome.validator))?;
        let message = transcript(
            b"accept",
            &self.genesis_hash,
            &hello.dialer_nonce,
            &challenge.acceptor_nonce,
        );
        key.verify(&message, context::PEER, &welcome.signature)
            .map_err(|_| HandshakeError::BadSignature)?;
        Ok(welcome.validator)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> Vec<SigningKey> {
        (0..3u8).map(|i| SigningKey::from_seed(&[i; 32])).collect()
    }

    #[test]
    fn both_sides_authenticate() {
        let keys = keys();
        let publics: Vec<PublicKey> = keys.iter().map(|k| k.public_key().clone()).collect();
        let acceptor = Identity {
            key: &keys[0],
            validator: 0,
            genesis_hash: [9; 32],
            validators: &publics,
        };
        let dialer = Identity {
            key: &keys[2],
            validator: 2,
            genesis_hash: [9; 32],
            validators: &publics,
        };
        let challenge = Challenge::from_bytes(&acceptor.challenge([1; 32]).to_bytes()).unwrap();
        let hello = Hello::from_bytes(
            &dialer
                .hello(&challenge, [2; 32], [0; 32])
                .unwrap()
                .to_bytes(),
        )
        .unwrap();
        let (who, welcome) = acceptor.welcome(&challenge, &hello, [0; 32]).unwrap();
        assert_eq!(who, 2);
        let welcome = Welcome::from_bytes(&welcome.to_bytes()).unwrap();
        assert_eq!(dialer.check_welcome(&challenge, &hello, &welcome), Ok(0));
    }

    #[test]
    fn impostors_replays_and_other_networks_are_refused() {
        let keys = keys();
        let publics: Vec<PublicKey> = keys.iter().map(|k| k.public_key().clone()).collect();
        let outsider = SigningKey::from_seed(&[77; 32]);
        let acceptor = Identity {
            key: &keys[0],
            validator: 0,
            genesis_hash: [9; 32],
            validators: &publics,
        };
        // An outsider claiming to be validator 1.
        let impostor = Identity {
            key: &outsider,
            validator: 1,
            genesis_hash: [9; 32],
            validators: &publics,
        };
        let challenge = acceptor.challenge([1; 32]);
        let hello = impostor.hello(&challenge, [2; 32], [0; 32]).unwrap();
        assert_eq!(
            acceptor.welcome(&challenge, &hello, [0; 32]).unwrap_err(),
            HandshakeError::BadSignature
        );
        // An index outside genesis.
        let stranger = Identity {
            key: &outsider,
            validator: 7,
            genesis_hash: [9; 32],
            validators: &publics,
        };
        let hello = stranger.hello(&challenge, [2; 32], [0; 32]).unwrap();
        assert_eq!(
            acceptor.welcome(&challenge, &hello, [0; 32]).unwrap_err(),
            HandshakeError::UnknownValidator(7)
        );
        // A genuine hello replayed against a fresh challenge.
        let honest = Identity {
            key: &keys[1],
            validator: 1,
            genesis_hash: [9; 32],
            validators: &publics,
        };
        let hello = honest.hello(&challenge, [2; 32], [0; 32]).unwrap();
        let fresh = acceptor.challenge([3; 32]);
        assert_eq!(
            acceptor.welcome(&fresh, &hello, [0; 32]).unwrap_err(),
            HandshakeError::BadSignature
        );
        // Another network.
        let other = Identity {
            key: &keys[1],
            validator: 1,
            genesis_hash: [8; 32],
            validators: &publics,
        };
        assert_eq!(
            other.hello(&challenge, [2; 32], [0; 32]).unwrap_err(),
            HandshakeError::WrongNetwork
        );
        // Garbage.
        assert!(matches!(
            Hello::from_bytes(&[2, 0]),
            Err(HandshakeError::Malformed(_))
        ));
        assert!(matches!(
            Challenge::from_bytes(&[]),
            Err(HandshakeError::Malformed(_))
        ));
    }
}
