//! A proof of lock ("POL"): signed prevotes of more than 2/3 of the stake
//! for one checkpoint header in one round. It is what lets a validator
//! precommit in that round, and what a validator locked on another header
//! in an older round must be shown before it moves its lock (Tendermint's
//! rule). Because prevotes are signed (context `ruv/prevote/v1`, message
//! `u32 round || header`), a POL is evidence any relay can forward and any
//! validator can check on its own.
//!
//! Checked by [`ProofOfLock::verify`]: validator indices strictly ascending
//! (a repeated one is [`PolError::DuplicateValidator`]), each a genesis
//! validator, each signature a prevote for this header in this round, and
//! the signers' stake a quorum. Whether the POL is *useful* (for the number
//! being agreed on, not older than the lock it should move) is the
//! checkpointer's business.

use crate::message::Message;
use crate::vertex::VertexId;
use ruv_protocol::checkpoint::{CheckpointHeader, Hash32, ValidatorSet};
use ruv_protocol::codec::DecodeError;
use ruv_protocol::Signature;

/// Signed prevotes of a quorum for one header in one round.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProofOfLock {
    /// The round the prevotes were cast in.
    pub round: u32,
    /// The header prevoted.
    pub header: CheckpointHeader,
    /// Its anchor (so a receiver can derive the header).
    pub anchor: Vec<VertexId>,
    /// `(validator index, prevote signature)`, indices strictly ascending.
    pub prevotes: Vec<(u16, Signature)>,
}

/// Why a proof of lock is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolError {
    /// The message does not decode.
    #[error("proof of lock does not decode: {0}")]
    Decode(#[from] DecodeError),
    /// A validator index appears twice.
    #[error("validator {validator} appears twice in the proof of lock")]
    DuplicateValidator {
        /// The repeated index.
        validator: u16,
    },
    /// Validator indices are not ascending.
    #[error("validator indices in a proof of lock must be strictly ascending")]
    Unordered,
    /// An index names no genesis validator.
    #[error("validator {validator} is not a genesis validator")]
    UnknownValidator {
        /// The index.
        validator: u16,
    },
    /// A signature is not that validator's prevote for this header in this
    /// round (forged, or from another round, or a precommit).
    #[error("prevote of validator {validator} does not verify for round {round}")]
    BadSignature {
        /// The signer's index.
        validator: u16,
        /// The round the proof claims.
        round: u32,
    },
    /// The prevotes hold 2/3 of the stake or less.
    #[error("prevotes hold {signed} of {total} stake, more than 2/3 is needed")]
    BelowQuorum {
        /// Stake that prevoted.
        signed: u128,
        /// Total stake.
        total: u128,
    },
    /// Not for the number being agreed on here (or not chained to the
    /// latest certified header, or the anchor does not match the header).
    #[error("the proof of lock is not for checkpoint {expected}")]
    NotCurrent {
        /// The number being agreed on here.
        expected: u64,
    },
    /// From a round this relay has not reached (more than one ahead).
    #[error("the proof of lock is for round {round}, this relay is in round {current}")]
    FutureRound {
        /// The proof's round.
        round: u32,
        /// This relay's round.
        current: u32,
    },
    /// No newer than what this relay already holds: it cannot move a lock
    /// (a lock moves only on a proof from a later round).
    #[error("the proof of lock is from round {round}, this relay already holds round {held}")]
    Stale {
        /// The proof's round.
        round: u32,
        /// The round of the lock or proof held here.
        held: u32,
    },
}

impl ProofOfLock {
    /// The header's id.
    pub fn header_id(&self) -> Hash32 {
        self.header.id()
    }

    /// Checks signatures, indices and stake (module docs).
    pub fn verify(&self, validators: &ValidatorSet) -> Result<(), PolError> {
        let mut previous: Option<u16> = None;
        for (validator, _) in &self.prevotes {
            match previous {
                Some(p) if p == *validator => {
                    return Err(PolError::DuplicateValidator {
                        validator: *validator,
                    })
                }
                Some(p) if p > *validator => return Err(PolError::Unordered),
                _ => {}
            }
            previous = Some(*validator);
        }
        let message = self.header.vote_message(self.round);
        let mut signed: u128 = 0;
        for (validator, signature) in &self.prevotes {
            let (key, stake) =
                validators
                    .get(*validator as usize)
                    .ok_or(PolError::UnknownValidator {
                        validator: *validator,
                    })?;
            key.verify(&message, ruv_protocol::crypto::context::PREVOTE, signature)
                .map_err(|_| PolError::BadSignature {
                    validator: *validator,
                    round: self.round,
                })?;
            signed += *stake as u128;
        }
        if !validators.is_quorum(signed) {
            return Err(PolError::BelowQuorum {
                signed,
                total: validators.total_stake(),
            });
        }
        Ok(())
    }

    /// The peer message that forwards it.
    pub fn to_message(&self) -> Message {
        Message::CheckpointPol {
            round: self.round,
            header: self.header.encode().into(),
            anchor: self.anchor.clone(),
            prevotes: self
                .prevotes
                .iter()
                .map(|(v, s)| (*v, s.as_bytes().to_vec().into()))
                .collect(),
        }
    }

    /// From the fields of a [`Message::CheckpointPol`] (shapes only;
    /// [`Self::verify`] checks the rest).
    pub fn from_parts(
        round: u32,
        header: &[u8],
        anchor: Vec<VertexId>,
        prevotes: &[(u16, std::sync::Arc<[u8]>)],
    ) -> Result<Self, PolError> {
        let header = CheckpointHeader::decode(header)?;
        let prevotes = prevotes
            .iter()
            .map(|(v, s)| {
                Signature::from_bytes(s)
                    .map(|s| (*v, s))
                    .map_err(|_| DecodeError::Invalid {
                        field: "prevote signature",
                        reason: "wrong length",
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            round,
            header,
            anchor,
            prevotes,
        })
    }
}
