//! The genesis validator set as the engine uses it: keys and stakes, this
//! relay's own index, stake-weighted poll sampling and random peer choice.
//! Fixed for the engine's life; randomness comes from the engine's one RNG
//! (passed in, so the order of draws is the engine's).

use super::ConfigError;
use crate::vertex::ValidatorIndex;
use rand_chacha::rand_core::RngCore;
use rand_chacha::ChaCha20Rng;
use ruv_protocol::PublicKey;
use std::collections::BTreeMap;

/// A validator as the engine sees it.
#[derive(Debug, Clone)]
struct Validator {
    key: PublicKey,
    stake: u64,
}

/// The validator set.
#[derive(Debug)]
pub(crate) struct Validators {
    me: ValidatorIndex,
    list: Vec<Validator>,
    /// Prefix sums of stake, for sampling.
    cumulative_stake: Vec<u64>,
}

impl Validators {
    /// The genesis validators (key, stake) in index order, and this relay's key.
    pub(crate) fn new(keys: Vec<(PublicKey, u64)>, mine: &PublicKey) -> Result<Self, ConfigError> {
        let list: Vec<Validator> = keys
            .into_iter()
            .map(|(key, stake)| Validator { key, stake })
            .collect();
        if list.len() > u16::MAX as usize {
            return Err(ConfigError::TooManyValidators);
        }
        let me = list
            .iter()
            .position(|v| v.key == *mine)
            .ok_or(ConfigError::NotAValidator)?;
        let mut cumulative_stake = Vec::with_capacity(list.len());
        let mut total = 0u64;
        for v in &list {
            // Genesis validation rules out overflow.
            total = total.saturating_add(v.stake);
            cumulative_stake.push(total);
        }
        Ok(Self {
            me: ValidatorIndex(me as u16),
            list,
            cumulative_stake,
        })
    }

    /// This relay's index.
    pub(crate) fn me(&self) -> ValidatorIndex {
        self.me
    }

    pub(crate) fn count(&self) -> usize {
        self.list.len()
    }

    pub(crate) fn contains(&self, index: ValidatorIndex) -> bool {
        (index.0 as usize) < self.list.len()
    }

    pub(crate) fn key(&self, index: ValidatorIndex) -> Option<&PublicKey> {
        self.list.get(index.0 as usize).map(|v| &v.key)
    }

    /// A validator's stake (0 if unknown).
    pub(crate) fn stake(&self, index: ValidatorIndex) -> u64 {
        self.list.get(index.0 as usize).map_or(0, |v| v.stake)
    }

    pub(crate) fn total_stake(&self) -> u128 {
        self.list.iter().map(|v| v.stake as u128).sum()
    }

    /// Draws `k` validators with replacement, each with probability
    /// proportional to stake; returns each drawn validator with its count.
    pub(crate) fn sample(&self, rng: &mut ChaCha20Rng, k: u32) -> BTreeMap<ValidatorIndex, u32> {
        let total = self.cumulative_stake.last().copied().unwrap_or(0);
        let mut slots = BTreeMap::new();
        if total == 0 {
            return slots;
        }
        for _ in 0..k {
            // Multiply-shift maps a uniform u64 onto [0, total) (bias < 2^-40 for real stakes).
            let point = ((rng.next_u64() as u128 * total as u128) >> 64) as u64;
            let index = self.cumulative_stake.partition_point(|&c| c <= point);
            *slots.entry(ValidatorIndex(index as u16)).or_insert(0) += 1;
        }
        debug_assert_eq!(slots.values().sum::<u32>(), k);
        slots
    }

    /// A uniformly random validator other than this one and `except` (None
    /// if there is none).
    pub(crate) fn random_peer(
        &self,
        rng: &mut ChaCha20Rng,
        except: Option<ValidatorIndex>,
    ) -> Option<ValidatorIndex> {
        let candidates: Vec<ValidatorIndex> = (0..self.list.len() as u16)
            .map(ValidatorIndex)
            .filter(|v| *v != self.me && Some(*v) != except)
            .collect();
        if candidates.is_empty() {
            return None;
        }
        let pick = (rng.next_u64() % candidates.len() as u64) as usize;
        Some(candidates[pick])
    }
}
