//! The genesis file: chain id, initial balances, fee schedule, the relay
//! validator set with stakes, and consensus parameters. Every relay and every
//! client of one network loads the same file.

use crate::address::Address;
use crate::crypto::PublicKey;
use crate::serde_bytes::{base64url, u64_string};
use crate::tx::validate_chain_id;
use serde::{Deserialize, Serialize};

/// Why a genesis file is unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GenesisError {
    /// Not valid JSON or wrong shape.
    #[error("genesis is not valid JSON of the expected shape: {0}")]
    Json(String),
    /// Invalid chain id.
    #[error("invalid chain id")]
    ChainId,
    /// Balances overflow u64 in total.
    #[error("total supply overflows 64 bits")]
    SupplyOverflow,
    /// The same address appears twice.
    #[error("address {0} appears twice in balances")]
    DuplicateBalance(String),
    /// A validator public key is malformed or repeated, or stake is zero.
    #[error("invalid validator {0}: {1}")]
    Validator(String, &'static str),
    /// No validators.
    #[error("genesis needs at least one validator")]
    NoValidators,
    /// A fee schedule value is out of range.
    #[error("invalid fee schedule: {0}")]
    Fees(&'static str),
    /// Consensus parameters violate K/2 < alphaPreference <= alphaConfidence <= K or similar.
    #[error("invalid consensus parameters: {0}")]
    Consensus(&'static str),
}

/// rUv metering: every transaction pays `fee >= base + per_byte * size`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeeSchedule {
    /// Flat part of the minimum fee, micro-rUv.
    #[serde(with = "u64_string")]
    pub base: u64,
    /// Per byte of the signed encoding, micro-rUv.
    #[serde(with = "u64_string")]
    pub per_byte: u64,
    /// Share of every fee that is burned, in percent (0-100); the rest is
    /// paid to the validators in proportion to stake.
    pub burn_percent: u8,
}

impl FeeSchedule {
    /// The minimum fee for a transaction whose signed encoding is `size` bytes,
    /// or `None` on overflow.
    pub fn minimum_fee(&self, size: usize) -> Option<u64> {
        self.per_byte
            .checked_mul(size as u64)?
            .checked_add(self.base)
    }
}

/// One relay validator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValidatorEntry {
    /// Human-readable name (for logs and dashboards).
    pub name: String,
    /// ML-DSA-65 public key (base64url) that signs its vertices, votes and certificates.
    #[serde(with = "base64url")]
    pub public_key: Vec<u8>,
    /// Stake weight (an integer; only ratios matter).
    #[serde(with = "u64_string")]
    pub stake: u64,
}

/// An initial balance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenesisBalance {
    /// Account.
    pub address: Address,
    /// Amount, micro-rUv.
    #[serde(with = "u64_string")]
    pub amount: u64,
}

/// Largest sample size a genesis may set: a poll draws K times, so K bounds
/// the work of starting a poll (avalanchego's default is 20).
pub const MAX_SAMPLE_SIZE: u32 = 1_000;

/// QR-Avalanche parameters (names follow avalanchego).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsensusParams {
    /// Sample size per poll.
    pub k: u32,
    /// Votes in a poll to change preference.
    pub alpha_preference: u32,
    /// Votes in a poll to count as a success toward confidence.
    pub alpha_confidence: u32,
    /// Consecutive successes to accept a conflict-free (virtuous) transaction.
    pub beta_virtuous: u32,
    /// Consecutive successes to accept a transaction with conflicts (rogue).
    pub beta_rogue: u32,
    /// Parents a new vertex references.
    pub parents: u32,
    /// Transactions batched into one vertex at most.
    pub batch_size: u32,
}

impl ConsensusParams {
    /// avalanchego's defaults: K = 20, alpha 15/15, betaVirtuous 15,
    /// betaRogue 20, parents 5, batch 30, whatever the validator count. Polls
    /// sample K validators by stake with replacement, so K may exceed the
    /// validator count: a small network keeps the same per-poll failure
    /// probability for a given Byzantine stake share as a large one.
    pub fn avalanche_defaults() -> Self {
        Self {
            k: 20,
            alpha_preference: 15,
            alpha_confidence: 15,
            beta_virtuous: 15,
            beta_rogue: 20,
            parents: 5,
            batch_size: 30,
        }
    }

    /// Checks 0 < K <= [`MAX_SAMPLE_SIZE`], K/2 < alphaPreference <=
    /// alphaConfidence <= K and positive betas. K may exceed the validator
    /// count (sampling is with replacement).
    pub fn validate(&self) -> Result<(), GenesisError> {
        if self.k == 0 || self.k > MAX_SAMPLE_SIZE {
            return Err(GenesisError::Consensus(
                "k must be between 1 and MAX_SAMPLE_SIZE",
            ));
        }
        if self.alpha_preference <= self.k / 2 {
            return Err(GenesisError::Consensus("alpha_preference must exceed k/2"));
        }
        if self.alpha_preference > self.alpha_confidence || self.alpha_confidence > self.k {
            return Err(GenesisError::Consensus(
                "need alpha_preference <= alpha_confidence <= k",
            ));
        }
        if self.beta_virtuous == 0 || self.beta_rogue < self.beta_virtuous {
            return Err(GenesisError::Consensus(
                "need 0 < beta_virtuous <= beta_rogue",
            ));
        }
        if self.parents == 0 || self.batch_size == 0 {
            return Err(GenesisError::Consensus(
                "parents and batch_size must be positive",
            ));
        }
        Ok(())
    }
}

/// The genesis file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Genesis {
    /// Network id, signed into every transaction.
    pub chain_id: String,
    /// Initial balances.
    pub balances: Vec<GenesisBalance>,
    /// Fee schedule.
    pub fees: FeeSchedule,
    /// Relay validators and their stake.
    pub validators: Vec<ValidatorEntry>,
    /// Consensus parameters; omitted means [`ConsensusParams::scaled_defaults`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consensus: Option<ConsensusParams>,
}

impl Genesis {
    /// Parses and validates a genesis file.
    pub fn from_json(text: &str) -> Result<Self, GenesisError> {
        let genesis: Genesis =
            serde_json::from_str(text).map_err(|e| GenesisError::Json(e.to_string()))?;
        genesis.validate()?;
        Ok(genesis)
    }

    /// Checks every invariant of the file.
    pub fn validate(&self) -> Result<(), GenesisError> {
        validate_chain_id(&self.chain_id).map_err(|_| GenesisError::ChainId)?;
        self.total_supply()?;
        let mut seen = std::collections::BTreeSet::new();
        for b in &self.balances {
            if !seen.insert(b.address) {
                return Err(GenesisError::DuplicateBalance(b.address.to_string()));
            }
        }
        if self.validators.is_empty() {
            return Err(GenesisError::NoValidators);
        }
        let mut keys = std::collections::BTreeSet::new();
        let mut stake: u64 = 0;
        for v in &self.validators {
            PublicKey::from_bytes(&v.public_key).map_err(|_| {
                GenesisError::Validator(v.name.clone(), "public key is not 1952 bytes")
            })?;
            if !keys.insert(v.public_key.clone()) {
                return Err(GenesisError::Validator(
                    v.name.clone(),
                    "duplicate public key",
                ));
            }
            if v.stake == 0 {
                return Err(GenesisError::Validator(
                    v.name.clone(),
                    "stake must be positive",
                ));
            }
            stake = stake.checked_add(v.stake).ok_or(GenesisError::Validator(
                v.name.clone(),
                "total stake overflows",
            ))?;
        }
        if self.fees.burn_percent > 100 {
            return Err(GenesisError::Fees("burn_percent must be at most 100"));
        }
        self.consensus_params().validate()
    }

    /// BLAKE3 of the canonical JSON of this genesis: identifies the network
    /// (a relay refuses a database made for another genesis).
    pub fn hash(&self) -> [u8; 32] {
        let canonical = serde_json::to_vec(self).unwrap_or_default();
        crate::crypto::hash(crate::crypto::hash_context::GENESIS, &[&canonical])
    }

    /// Sum of initial balances.
    pub fn total_supply(&self) -> Result<u64, GenesisError> {
        self.balances
            .iter()
            .try_fold(0u64, |acc, b| acc.checked_add(b.amount))
            .ok_or(GenesisError::SupplyOverflow)
    }

    /// The consensus parameters in force.
    pub fn consensus_params(&self) -> ConsensusParams {
        self.consensus
            .clone()
            .unwrap_or_else(ConsensusParams::avalanche_defaults)
    }

    /// Validator public keys and stakes (validated by [`Genesis::validate`]).
    pub fn validator_keys(&self) -> Vec<(PublicKey, u64)> {
        self.validators
            .iter()
            .filter_map(|v| Some((PublicKey::from_bytes(&v.public_key).ok()?, v.stake)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::SigningKey;

    pub(crate) fn genesis_with(validators: usize) -> Genesis {
        Genesis {
            chain_id: "ruv-test".into(),
            balances: vec![GenesisBalance {
                address: Address::from_bytes([1; 32]),
                amount: 1000,
            }],
            fees: FeeSchedule {
                base: 10,
                per_byte: 1,
                burn_percent: 50,
            },
            validators: (0..validators)
                .map(|i| ValidatorEntry {
                    name: format!("relay-{i}"),
                    public_key: SigningKey::from_seed(&[i as u8; 32])
                        .public_key()
                        .as_bytes()
                        .to_vec(),
                    stake: 100,
                })
                .collect(),
            consensus: None,
        }
    }

    #[test]
    fn defaults_are_avalanchegos_whatever_the_validator_count() {
        let p = ConsensusParams::avalanche_defaults();
        p.validate().unwrap();
        assert_eq!((p.k, p.alpha_preference, p.alpha_confidence), (20, 15, 15));
        assert_eq!((p.beta_virtuous, p.beta_rogue), (15, 20));
        // K above the validator count is valid (sampling with replacement).
        for n in [1, 4, 5] {
            let g = genesis_with(n);
            assert_eq!(g.consensus_params().k, 20);
            g.validate().unwrap();
        }
        let too_big = ConsensusParams {
            k: MAX_SAMPLE_SIZE + 1,
            alpha_preference: MAX_SAMPLE_SIZE,
            alpha_confidence: MAX_SAMPLE_SIZE,
            ..p.clone()
        };
        assert!(matches!(
            too_big.validate(),
            Err(GenesisError::Consensus(_))
        ));
        let zero = ConsensusParams { k: 0, ..p };
        assert!(matches!(zero.validate(), Err(GenesisError::Consensus(_))));
    }

    #[test]
    fn json_round_trip_and_validation_errors() {
        let g = genesis_with(4);
        let text = serde_json::to_string_pretty(&g).unwrap();
        assert_eq!(Genesis::from_json(&text).unwrap(), g);

        let mut bad = g.clone();
        bad.consensus = Some(ConsensusParams {
            alpha_preference: 10,
            ..ConsensusParams::avalanche_defaults()
        });
        assert!(matches!(bad.validate(), Err(GenesisError::Consensus(_))));
        let mut bad = g.clone();
        bad.balances.push(bad.balances[0].clone());
        assert!(matches!(
            bad.validate(),
            Err(GenesisError::DuplicateBalance(_))
        ));
        let mut bad = g.clone();
        bad.balances.push(GenesisBalance {
            address: Address::from_bytes([2; 32]),
            amount: u64::MAX,
        });
        assert_eq!(bad.validate(), Err(GenesisError::SupplyOverflow));
        let mut bad = g.clone();
        bad.validators[1].public_key = bad.validators[0].public_key.clone();
        assert!(matches!(
            bad.validate(),
            Err(GenesisError::Validator(_, "duplicate public key"))
        ));
        let mut bad = g.clone();
        bad.fees.burn_percent = 101;
        assert!(matches!(bad.validate(), Err(GenesisError::Fees(_))));
        let mut bad = g;
        bad.validators.clear();
        assert_eq!(bad.validate(), Err(GenesisError::NoValidators));
        assert!(matches!(
            Genesis::from_json("{"),
            Err(GenesisError::Json(_))
        ));
    }
}
