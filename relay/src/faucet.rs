//! The devnet faucet: pays a fixed amount from a genesis account whose seed
//! the relay holds, through an ordinary signed transfer (so faucet payments
//! take exactly the path every other payment takes). Off unless the relay is
//! started with `--faucet-key-file`.

use crate::faucet_pow::ChallengeBook;
use ruv_protocol::crypto::SigningKey;
use ruv_protocol::{Address, UNITS_PER_RUV};
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// What one faucet request pays: 1000 rUv.
pub const FAUCET_AMOUNT: u64 = 1000 * UNITS_PER_RUV;
/// How long an address waits between two faucet payments.
pub const FAUCET_COOLDOWN: Duration = Duration::from_secs(5);
/// Addresses remembered for the cooldown (oldest forgotten first).
const REMEMBERED_ADDRESSES: usize = 10_000;

/// The faucet's key and its per-address cooldown.
pub struct Faucet {
    key: SigningKey,
    last_paid: HashMap<Address, Instant>,
    /// Highest nonce handed to consensus and not known to have failed.
    last_nonce: Option<u64>,
    /// Proof-of-work challenges issued and spent.
    pub challenges: ChallengeBook,
}

impl Faucet {
    /// A faucet paying from `key`'s account, asking `pow_bits` of proof of work.
    pub fn new(key: SigningKey, pow_bits: u8) -> Self {
        Self {
            key,
            last_paid: HashMap::new(),
            last_nonce: None,
            challenges: ChallengeBook::new(pow_bits),
        }
    }

    /// The key that signs faucet payments.
    pub fn key(&self) -> &SigningKey {
        &self.key
    }

    /// The faucet's account.
    pub fn address(&self) -> Address {
        Address::from_public_key(self.key.public_key())
    }

    /// The nonce for the next payment: after both the accepted nonce and
    /// every payment still in flight.
    pub fn next_nonce(&self, accepted_nonce: u64) -> u64 {
        accepted_nonce.max(self.last_nonce.unwrap_or(0)) + 1
    }

    /// A payment with `nonce` was handed to consensus.
    pub fn used_nonce(&mut self, nonce: u64) {
        self.last_nonce = Some(nonce);
    }

    /// A payment failed: count nonces from the accepted state again.
    pub fn forget_nonces(&mut self) {
        self.last_nonce = None;
    }

    /// Records a payment to `to` at `now`, or says how long to wait.
    pub fn claim(&mut self, to: Address, now: Instant) -> Result<(), Duration> {
        if let Some(last) = self.last_paid.get(&to) {
            let since = now.duration_since(*last);
            if since < FAUCET_COOLDOWN {
                return Err(FAUCET_COOLDOWN - since);
            }
        }
        if self.last_paid.len() >= REMEMBERED_ADDRESSES {
            self.last_paid
                .retain(|_, t| now.duration_since(*t) < FAUCET_COOLDOWN);
        }
        self.last_paid.insert(to, now);
        Ok(())
    }
}
