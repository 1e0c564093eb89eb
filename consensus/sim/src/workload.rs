//! Keys, genesis and transfers for simulation runs. Keys are derived from
//! fixed seeds and cached for the whole process (key generation is the same
//! for every run).

use crate::network::Event;
use crate::scenario::Scenario;
use crate::{Simulation, TICK_MS};
use rand_chacha::rand_core::RngCore;
use rand_chacha::ChaCha20Rng;
use ruv_protocol::crypto::CryptoError;
use ruv_protocol::genesis::{GenesisBalance, ValidatorEntry};
use ruv_protocol::tx::{Transfer, SIGNED_TRANSFER_FIXED_LEN};
use ruv_protocol::{Address, FeeSchedule, Genesis, SignedTransfer, SigningKey, UNITS_PER_RUV};
use std::sync::{Arc, OnceLock};

/// Chain id of simulated networks.
pub const SIM_CHAIN_ID: &str = "ruv-sim";
/// Most validators a scenario may have.
pub const MAX_VALIDATORS: usize = 128;
/// Most double-spending and Byzantine-relay accounts a scenario may use
/// (and the honest accounts every genesis funds).
pub const MAX_ACCOUNTS: usize = 16;
/// Most honest accounts a scenario may use.
pub const MAX_HONEST_ACCOUNTS: usize = 256;
/// Funded accounts for chit-starvation vertices (genesis funds them only
/// where a pinned plan issues such vertices).
pub const FLOOD_ACCOUNTS: usize = 128;
/// Keys genesis never funds (mempool floods sign with them).
pub const UNFUNDED_ACCOUNTS: usize = 16;
/// Genesis balance of every simulated account.
pub const ACCOUNT_BALANCE: u64 = 1_000 * UNITS_PER_RUV;

/// The keys every run draws from.
pub struct KeyRing {
    /// Validator (relay) keys.
    pub validators: Vec<Arc<SigningKey>>,
    /// Honest client accounts.
    pub honest: Vec<SigningKey>,
    /// Accounts of Byzantine clients that double spend.
    pub double_spenders: Vec<SigningKey>,
    /// Accounts Byzantine relays double spend from when they equivocate.
    pub byzantine_relay_accounts: Vec<SigningKey>,
    /// Accounts of chit-starvation vertices.
    pub flood: Vec<SigningKey>,
    /// Keys with no genesis balance.
    pub unfunded: Vec<SigningKey>,
}

fn key(kind: u8, index: usize) -> SigningKey {
    let mut seed = [0u8; 32];
    seed[0] = kind;
    seed[1] = index as u8;
    seed[2..9].copy_from_slice(b"ruv-sim");
    seed[9] = (index >> 8) as u8;
    SigningKey::from_seed(&seed)
}

/// The process-wide key ring.
pub fn keys() -> &'static KeyRing {
    static KEYS: OnceLock<KeyRing> = OnceLock::new();
    KEYS.get_or_init(|| KeyRing {
        validators: (0..MAX_VALIDATORS).map(|i| Arc::new(key(1, i))).collect(),
        honest: (0..MAX_HONEST_ACCOUNTS).map(|i| key(2, i)).collect(),
        double_spenders: (0..MAX_ACCOUNTS).map(|i| key(3, i)).collect(),
        byzantine_relay_accounts: (0..MAX_ACCOUNTS).map(|i| key(4, i)).collect(),
        flood: (0..FLOOD_ACCOUNTS).map(|i| key(5, i)).collect(),
        unfunded: (0..UNFUNDED_ACCOUNTS).map(|i| key(6, i)).collect(),
    })
}

/// Address of a key.
pub fn address(key: &SigningKey) -> Address {
    Address::from_public_key(key.public_key())
}

/// The genesis of a scenario: every simulated account it uses funded
/// equally (at least the first [`MAX_ACCOUNTS`] honest ones; the flood
/// accounts only where a pinned plan issues chit-starvation vertices; the
/// unfunded keys never).
pub fn genesis(scenario: &Scenario) -> Genesis {
    let keys = keys();
    let honest = scenario
        .honest_accounts
        .clamp(MAX_ACCOUNTS, MAX_HONEST_ACCOUNTS);
    let flood = match &scenario.byzantine_plan {
        Some(plan) if plan.wide_vertices > 0 => keys.flood.as_slice(),
        _ => &[],
    };
    let balances = keys.honest[..honest]
        .iter()
        .chain(&keys.double_spenders)
        .chain(&keys.byzantine_relay_accounts)
        .chain(flood)
        .map(|k| GenesisBalance {
            address: address(k),
            amount: ACCOUNT_BALANCE,
        })
        .collect();
    Genesis {
        chain_id: SIM_CHAIN_ID.into(),
        balances,
        fees: FeeSchedule {
            base: 1_000,
            per_byte: 1,
            burn_percent: 50,
        },
        validators: scenario
            .stakes
            .iter()
            .enumerate()
            .map(|(i, stake)| ValidatorEntry {
                name: format!("relay-{i}"),
                public_key: keys.validators[i].public_key().as_bytes().to_vec(),
                stake: *stake,
            })
            .collect(),
        consensus: scenario.params.clone(),
    }
}

/// A signed transfer paying the minimum fee plus a small random tip.
pub fn transfer(
    genesis: &Genesis,
    from: &SigningKey,
    to: Address,
    amount: u64,
    nonce: u64,
    rng: &mut ChaCha20Rng,
) -> Result<Arc<SignedTransfer>, CryptoError> {
    let memo = String::new();
    let size = SIGNED_TRANSFER_FIXED_LEN + genesis.chain_id.len() + memo.len();
    let minimum = genesis.fees.minimum_fee(size).unwrap_or(u64::MAX / 4);
    let transfer = Transfer {
        chain_id: genesis.chain_id.clone(),
        from: address(from),
        to,
        amount,
        fee: minimum + rng.next_u64() % 1_000,
        nonce,
        memo,
        public_key: from.public_key().clone(),
    };
    let mut randomness = [0u8; 32];
    rng.fill_bytes(&mut randomness);
    Ok(Arc::new(transfer.sign(from, randomness)?))
}

impl Simulation<'_> {
    /// Schedules ticks, client transfers, double spends, faults
    /// ([`Simulation::plan_faults`]) and attacks ([`Simulation::plan_attacks`]),
    /// drawing from the run's RNG in that order.
    pub(crate) fn plan_workload(&mut self) -> Result<(), ruv_protocol::crypto::CryptoError> {
        let scenario = self.scenario;
        let keys = keys();
        let workload = scenario.workload_ms;
        for node in 0..self.nodes.len() {
            let first = self.random(TICK_MS);
            self.schedule(first, Event::Tick { node });
        }
        // Honest clients: consecutive nonces, submitted in nonce order.
        let accounts = scenario.honest_accounts.min(MAX_HONEST_ACCOUNTS);
        for account in 0..accounts {
            let count = 1 + self.random(scenario.max_txs_per_account.max(1) as u64) as usize;
            let mut times: Vec<u64> = (0..count).map(|_| self.random(workload * 4 / 5)).collect();
            times.sort_unstable();
            for (i, at) in times.into_iter().enumerate() {
                let to_index = self.random(accounts as u64) as usize;
                let to = if to_index == account {
                    Address::from_bytes([0xee; 32])
                } else {
                    address(&keys.honest[to_index])
                };
                let amount = 1_000 + self.random(1_000_000);
                let tx = transfer(
                    &self.genesis,
                    &keys.honest[account],
                    to,
                    amount,
                    i as u64 + 1,
                    &mut self.rng,
                )?;
                let index = self.track(tx, true);
                let node = self.random_honest();
                self.schedule(at, Event::Submit { tx: index, node });
            }
        }
        // Byzantine clients: the same nonce to two different honest relays at once.
        for pair in 0..scenario.double_spends.min(MAX_ACCOUNTS) {
            let from = &keys.double_spenders[pair];
            let a = transfer(
                &self.genesis,
                from,
                Address::from_bytes([0xaa; 32]),
                5_000,
                1,
                &mut self.rng,
            )?;
            let b = transfer(
                &self.genesis,
                from,
                Address::from_bytes([0xab; 32]),
                6_000,
                1,
                &mut self.rng,
            )?;
            self.conflict_pairs.push([a.id(), b.id()]);
            let at = self.random(workload * 4 / 5);
            let first = self.random(self.honest.len() as u64) as usize;
            let second = (first + 1 + self.random(self.honest.len() as u64 - 1) as usize)
                % self.honest.len();
            let (node_a, node_b) = (self.honest[first], self.honest[second]);
            let index_a = self.track(a, false);
            let index_b = self.track(b, false);
            self.schedule(
                at,
                Event::Submit {
                    tx: index_a,
                    node: node_a,
                },
            );
            let skew = self.random(5);
            self.schedule(
                at + skew,
                Event::Submit {
                    tx: index_b,
                    node: node_b,
                },
            );
        }
        self.plan_faults();
        self.plan_attacks();
        self.schedule(workload, Event::WorkloadEnd);
        Ok(())
    }
}
