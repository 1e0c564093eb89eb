//! Named simulation scenarios: validator stakes, which validators are
//! Byzantine, network faults and workload. One scenario plus one u64 seed
//! determines a run completely.

use ruv_protocol::genesis::ConsensusParams;
use std::collections::BTreeSet;

/// A simulation scenario.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scenario {
    /// Name used on the command line and in failure reports.
    pub name: &'static str,
    /// What it exercises.
    pub description: &'static str,
    /// Stake of each validator (the validator count is its length).
    pub stakes: Vec<u64>,
    /// Indices of Byzantine validators.
    pub byzantine: Vec<usize>,
    /// Consensus parameters; `None` means the genesis defaults
    /// (avalanchego's: k = 20 draws with replacement, alpha 15/15, whatever
    /// the validator count).
    pub params: Option<ConsensusParams>,
    /// One-way message latency, uniform in this range (ms). Different
    /// latencies per message also reorder messages.
    pub latency_ms: (u64, u64),
    /// Per-message drop probability, in percent.
    pub drop_percent: u32,
    /// Per-message duplication probability, in percent.
    pub duplicate_percent: u32,
    /// Split the network in two for a while (heals before the quiet period).
    pub partition: bool,
    /// Crash-and-restart cycles of honest relays.
    pub crashes: u32,
    /// Honest accounts; each sends 1 to `max_txs_per_account` transfers.
    pub honest_accounts: usize,
    /// Most transfers per honest account (consecutive nonces).
    pub max_txs_per_account: usize,
    /// Double spends by Byzantine clients (two conflicting transfers sent to
    /// two different honest relays at once).
    pub double_spends: usize,
    /// Faults, submissions and Byzantine attacks happen in `[0, workload_ms)`.
    pub workload_ms: u64,
    /// After the workload, every honest transfer must be accepted by every
    /// honest relay within this long (liveness), or the run fails.
    pub max_quiet_ms: u64,
    /// Beyond the claimed fault bound: failures are expected and reported,
    /// not treated as bugs.
    pub beyond_bound: bool,
    /// After liveness, every honest relay must certify a checkpoint holding
    /// every accepted transfer (within `sim::CHECKPOINT_QUIET_MS`). Needs
    /// honest validators with more than 2/3 of the stake: Byzantine relays
    /// never sign checkpoints in the simulator.
    pub checkpoint_liveness: bool,
}

impl Scenario {
    fn base(name: &'static str, description: &'static str, validators: usize) -> Self {
        Self {
            name,
            description,
            stakes: vec![100; validators],
            byzantine: Vec::new(),
            params: None,
            latency_ms: (5, 40),
            drop_percent: 0,
            duplicate_percent: 0,
            partition: false,
            crashes: 0,
            honest_accounts: 3,
            max_txs_per_account: 3,
            double_spends: 0,
            workload_ms: 2_000,
            max_quiet_ms: 60_000,
            beyond_bound: false,
            checkpoint_liveness: true,
        }
    }

    /// Every scenario within the claimed fault bound, in test-suite order.
    pub fn all() -> Vec<Scenario> {
        vec![
            Self::base("calm", "4 honest relays, no faults", 4),
            Self {
                latency_ms: (1, 80),
                drop_percent: 5,
                duplicate_percent: 5,
                ..Self::base("lossy", "5 honest relays; 5% drops, 5% duplicates, 1-80 ms latency (reordering)", 5)
            },
            Self {
                partition: true,
                workload_ms: 3_000,
                ..Self::base("partition", "5 honest relays; the network splits in two for up to 2.5 s, then heals", 5)
            },
            Self {
                crashes: 2,
                workload_ms: 3_000,
                drop_percent: 1,
                ..Self::base("crash", "5 honest relays; up to 2 crash/restart cycles from persisted state", 5)
            },
            Self {
                double_spends: 3,
                drop_percent: 2,
                ..Self::base("double-spend", "5 honest relays; Byzantine clients double spend to two relays at once", 5)
            },
            Self {
                stakes: vec![100, 100, 100, 100, 100, 80],
                byzantine: vec![5],
                double_spends: 1,
                max_quiet_ms: 120_000,
                ..Self::base(
                    "byzantine",
                    "6 relays, 1 Byzantine with 13.8% of stake (bound 1/5): equivocation, split or double chits, withholding, flooding",
                    6,
                )
            },
            Self {
                stakes: vec![21, 20, 20, 20, 19],
                byzantine: vec![4],
                workload_ms: 2_500,
                max_quiet_ms: 120_000,
                ..Self::base(
                    "byzantine-edge",
                    "5 relays, the Byzantine one holds 19% of stake (the bound is < 20%), default betas",
                    5,
                )
            },
            Self {
                stakes: vec![30, 25, 20, 20, 15, 15, 15],
                byzantine: vec![6],
                max_quiet_ms: 120_000,
                latency_ms: (1, 60),
                drop_percent: 3,
                duplicate_percent: 3,
                partition: true,
                crashes: 1,
                double_spends: 2,
                workload_ms: 3_000,
                ..Self::base(
                    "chaos",
                    "7 relays with unequal stake, 1 Byzantine (10.7%; bound 1/5), drops, duplicates, a partition, a crash, double spends",
                    7,
                )
            },
        ]
    }

    /// Scenarios outside the claimed bound, to show what breaks there.
    pub fn beyond_bound() -> Vec<Scenario> {
        vec![Self {
            byzantine: vec![3, 4],
            beyond_bound: true,
            // Exempt: the honest relays hold 60% of the stake and Byzantine
            // relays never sign, so no checkpoint can reach the > 2/3
            // quorum. Checkpoint safety is still checked.
            checkpoint_liveness: false,
            max_quiet_ms: 20_000,
            ..Self::base(
                "beyond-bound",
                "5 relays, 2 Byzantine (40% of stake, above the < 20% bound): liveness and safety may fail",
                5,
            )
        }]
    }

    /// A scenario by name (including the beyond-bound ones).
    pub fn by_name(name: &str) -> Option<Scenario> {
        Self::all()
            .into_iter()
            .chain(Self::beyond_bound())
            .find(|s| s.name == name)
    }

    /// The claimed fault bound for this scenario's parameters:
    /// `min(1/5, 1 - alpha_confidence / k)`.
    pub fn fault_bound(&self) -> f64 {
        let params = self
            .params
            .clone()
            .unwrap_or_else(|| ConsensusParams::avalanche_defaults());
        (1.0 - params.alpha_confidence as f64 / params.k as f64).min(0.2)
    }

    /// Whether the honest validators alone hold more than 2/3 of the stake
    /// (what certifying checkpoints needs when Byzantine relays never sign).
    pub fn honest_checkpoint_quorum(&self) -> bool {
        let total: u128 = self.stakes.iter().map(|s| *s as u128).sum();
        let honest: u128 = self
            .stakes
            .iter()
            .enumerate()
            .filter(|(i, _)| !self.byzantine.contains(i))
            .map(|(_, s)| *s as u128)
            .sum();
        3 * honest > 2 * total
    }

    /// The Byzantine share of stake.
    pub fn byzantine_stake_fraction(&self) -> f64 {
        let total: u64 = self.stakes.iter().sum();
        let byzantine: u64 = self
            .byzantine
            .iter()
            .filter_map(|i| self.stakes.get(*i))
            .sum();
        byzantine as f64 / total.max(1) as f64
    }
}

/// The set of scenario names (for command lines).
pub fn scenario_names() -> BTreeSet<&'static str> {
    Scenario::all()
        .iter()
        .chain(Scenario::beyond_bound().iter())
        .map(|s| s.name)
        .collect()
}
