//! A deterministic simulator: N engines over a simulated network, all driven
//! from one u64 seed (FoundationDB / TigerBeetle style).
//!
//! The network delays every message by a random latency (which also
//! reorders), drops and duplicates some, and can split in two for a while.
//! Relays crash and restart from what they persisted. Byzantine relays
//! ([`byzantine`]) equivocate, vote for both sides or a different side per
//! querier, withhold answers and flood junk. Clients submit transfers to
//! random honest relays; Byzantine clients double spend.
//!
//! Every honest relay also runs a [`Checkpointer`] next to its engine, wired
//! as the relay's driver does (`relay/src/node.rs`): a tick with the
//! simulated clock on every input, every accepted vertex, every checkpoint
//! message the engine passes through; its messages cross the same simulated
//! network, and its lock and certified checkpoints are persisted and restored
//! after a crash. Byzantine relays run no checkpointer (they never sign).
//!
//! Checked after every step:
//! - safety: no two conflicting transfers (same sender and nonce) are
//!   accepted by honest relays, even by different ones;
//! - a vertex is accepted only after its parents;
//! - honest relays that accepted the same set of vertices have the same
//!   ledger state;
//! - supply is conserved: `circulating + burned == genesis supply`;
//! - no accepted transaction ever fails to apply;
//! - checkpoints: honest relays that certified number `n` certified the
//!   identical header (same anchor gives the same state root; never two
//!   certified headers for one number), and no honest relay ever signs two
//!   headers for one number (across restarts).
//!
//! Checked at the end, after faults stop (partitions healed, crashed relays
//! restarted): every honest transfer is accepted by every honest relay within
//! the scenario's quiet period (liveness); then, once the honest relays have
//! accepted the same vertices (within [`SETTLE_QUIET_MS`]: a checkpoint's
//! signers need its anchor accepted), within [`CHECKPOINT_QUIET_MS`] every
//! honest relay certifies a checkpoint after the last transfer was accepted
//! and every accepted transfer is in a certified checkpoint (checkpoint
//! liveness; exempt where the scenario says it cannot hold, and a diagnosed
//! split lock formed in a partition is reported, not failed: see
//! [`Scenario::partition`]).
//!
//! A failure names its seed and the command that reproduces it.

pub mod byzantine;
pub mod scenario;
pub mod workload;

use crate::checkpoint::{
    CheckpointConfig, CheckpointInput, CheckpointOutput, CheckpointPersist, CheckpointTiming,
    Checkpointer, StoredCheckpoint,
};
use crate::vertex::{ValidatorIndex, Vertex, VertexId};
use crate::{
    Engine, EngineConfig, Input, Output, Persist, PersistedState, Tuning, TxStatus, VertexStatus,
};
use byzantine::{Byzantine, ByzantinePlan};
use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;
use ruv_protocol::checkpoint::{CheckpointHeader, Hash32};
use ruv_protocol::crypto::hash;
use ruv_protocol::{Address, Genesis, SignedTransfer, TxId};
pub use scenario::Scenario;
use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap};
use std::fmt;
use std::sync::Arc;

/// Milliseconds between ticks of each simulated relay.
const TICK_MS: u64 = 10;
/// Milliseconds between liveness checks after the workload.
const CHECK_MS: u64 = 100;
/// Events one run may process before it is declared stuck.
const MAX_EVENTS: u64 = 20_000_000;
/// Derive-key context of the run trace digest (simulation only).
const TRACE_CONTEXT: &str = "rUv 2026-11 simulation trace v1";
/// Wall-clock time near simulated time 0 (2026-09-20). Every relay's clock
/// reads `sim_unix_epoch_ms(seed) + now` (no skew): checkpoint headers carry
/// it, and checkpoint rounds are counted from header times on it.
const SIM_UNIX_EPOCH_MS: u64 = 1_790_000_000_000;
/// Once the honest relays have accepted the same vertices, every honest relay
/// must certify a checkpoint covering all accepted transfers within this
/// long.
pub const CHECKPOINT_QUIET_MS: u64 = 30_000;
/// Checkpoints need every vertex of an anchor accepted by every signer: once
/// every honest transfer is accepted everywhere, the honest relays' accepted
/// vertex sets must become equal within this long. Near the fault bound the
/// engine decides a Byzantine relay's conflicting vertices slowly (up to
/// 231 s after liveness in 1,000 `byzantine-edge` seeds).
pub const SETTLE_QUIET_MS: u64 = 600_000;

/// Checkpoint cadence for simulated runs (the relay's defaults: a 250 ms
/// interval, a 5 s heartbeat, 2 s rounds).
pub fn sim_checkpoint_timing() -> CheckpointTiming {
    CheckpointTiming::default()
}

/// Engine timeouts for simulated runs (simulated time is cheap, but shorter
/// timeouts keep runs short).
pub fn sim_tuning() -> Tuning {
    Tuning {
        poll_timeout_ms: 400,
        max_concurrent_polls: 4,
        idle_poll_interval_ms: 300,
        batch_delay_ms: 20,
        standby_delay_ms: 1_000,
        fetch_timeout_ms: 300,
        waiting_ttl_ms: 30_000,
        tx_retry_ttl_ms: 300_000,
        ..Tuning::default()
    }
}

/// What a successful run did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunReport {
    /// The scenario.
    pub scenario: &'static str,
    /// The seed.
    pub seed: u64,
    /// Simulated time at the end.
    pub sim_time_ms: u64,
    /// Simulated time from the end of the workload until every honest
    /// transfer was accepted everywhere.
    pub liveness_ms: u64,
    /// Honest transfers (all accepted by every honest relay).
    pub honest_txs: usize,
    /// Conflict pairs (double spends and equivocations).
    pub conflict_pairs: usize,
    /// Conflict pairs decided (one side accepted) by the end.
    pub conflicts_decided: usize,
    /// Vertices accepted by the first honest relay.
    pub vertices_accepted: u64,
    /// Messages delivered.
    pub messages_delivered: u64,
    /// Messages lost to drops, partitions and crashed recipients.
    pub messages_lost: u64,
    /// Crashes that happened.
    pub crashes: u32,
    /// Transfers resubmitted by clients whose relay crashed.
    pub resubmissions: u32,
    /// Messages and vertices honest relays dropped as bad (sum of counters).
    pub dropped_by_honest: u64,
    /// Checkpoints certified: the lowest latest number over honest relays.
    pub checkpoints_certified: u64,
    /// Simulated time from liveness until the honest relays had accepted
    /// the same vertices (the last time they became equal; 0 where
    /// checkpoints are exempt).
    pub settle_ms: u64,
    /// Simulated time from then until every honest relay had certified a
    /// checkpoint holding every accepted transfer (0 where exempt).
    pub checkpoint_ms: u64,
    /// Checkpoint rounds that ended without a certificate (sum over honest
    /// relays' current incarnations).
    pub checkpoint_round_timeouts: u64,
    /// A checkpoint number that can never be certified because honest
    /// relays locked on different headers while the network was partitioned
    /// (the known gap of the sign-once lock; only tolerated in scenarios
    /// with a partition, see [`Scenario::partition`]).
    pub checkpoint_split_lock: Option<u64>,
    /// Digest of everything the engines output, in order: equal for equal seeds.
    pub trace_digest: [u8; 32],
}

/// What went wrong in a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// Two conflicting transfers accepted by honest relays.
    Safety,
    /// Honest relays with the same accepted set disagree on state.
    Divergence,
    /// Supply not conserved.
    Supply,
    /// A vertex accepted before one of its parents.
    Order,
    /// An accepted transfer did not apply.
    Apply,
    /// Honest transfers not accepted everywhere after the quiet period.
    Liveness,
    /// Two honest relays certified different headers for one number from
    /// the same previous header, anchor and time: the derivation differs.
    CheckpointDivergence,
    /// Two different certified headers for one checkpoint number.
    CheckpointFork,
    /// An honest relay signed two different headers for one number.
    CheckpointLock,
    /// Checkpoints stopped forming, or accepted transfers stayed uncertified.
    CheckpointLiveness,
    /// A relay could not start or restart, or the run did not end.
    Harness,
}

/// A failed run, with what reproduces it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimFailure {
    /// The scenario.
    pub scenario: &'static str,
    /// The seed.
    pub seed: u64,
    /// Simulated time of the failure.
    pub at_ms: u64,
    /// What failed.
    pub kind: FailureKind,
    /// Details.
    pub detail: String,
}

impl SimFailure {
    /// The command that replays this run.
    pub fn reproduce_command(&self) -> String {
        format!(
            "cargo run --release -p ruv-consensus --bin ruv-sim -- --scenario {} --seed {}",
            self.scenario, self.seed
        )
    }
}

impl fmt::Display for SimFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "scenario {} seed {} failed at {} ms ({:?}): {}\n  reproduce: {}",
            self.scenario,
            self.seed,
            self.at_ms,
            self.kind,
            self.detail,
            self.reproduce_command()
        )
    }
}

impl std::error::Error for SimFailure {}

/// Runs one scenario with one seed.
pub fn run(scenario: &Scenario, seed: u64) -> Result<RunReport, SimFailure> {
    let mut sim = Simulation::new(scenario, seed)?;
    sim.run()
}

#[derive(Debug)]
enum Event {
    Deliver {
        from: usize,
        to: usize,
        bytes: Arc<Vec<u8>>,
    },
    Tick {
        node: usize,
    },
    Submit {
        tx: usize,
        node: usize,
    },
    Crash {
        node: usize,
    },
    Restart {
        node: usize,
    },
    Partition {
        side: Vec<bool>,
    },
    Heal,
    Equivocate {
        node: usize,
    },
    Flood {
        node: usize,
    },
    WorkloadEnd,
    Check,
}

#[derive(Debug)]
struct Queued {
    at: u64,
    seq: u64,
    event: Event,
}

impl PartialEq for Queued {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}
impl Eq for Queued {}
impl PartialOrd for Queued {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Queued {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.at, self.seq).cmp(&(other.at, other.seq))
    }
}

/// What a relay persisted (its "disk").
#[derive(Debug, Default)]
struct Store {
    accepted: Vec<Arc<[u8]>>,
    processing: BTreeMap<VertexId, Arc<[u8]>>,
    /// The last checkpoint header this relay signed (its sign-once lock).
    signed: Option<(u64, Hash32)>,
    /// Certified checkpoints, in number order.
    certified: Vec<StoredCheckpoint>,
}

struct Node {
    engine: Option<Engine>,
    /// Honest relays only; `None` while crashed.
    checkpointer: Option<Checkpointer>,
    /// Certified a checkpoint since an honest relay last accepted a transfer.
    certified_since_last_tx: bool,
    /// When its current checkpoint lock was first signed.
    lock_signed_at: u64,
    store: Store,
    byzantine: Option<Byzantine>,
    crashes: u32,
    /// XOR of accepted vertex ids and their count: identifies the accepted set.
    accepted_set: ([u8; 32], u64),
    state_digest: [u8; 32],
    state_dirty: bool,
}

/// Honest sign-once locks split so that a checkpoint number can never be
/// certified.
struct SplitLock {
    number: u64,
    /// A partition may have cut off some of the votes.
    in_partition: bool,
    describe: String,
}

/// A transfer the simulation created, and what it is for.
#[derive(Debug)]
struct TrackedTx {
    tx: Arc<SignedTransfer>,
    honest: bool,
    submitted_to: Option<usize>,
    crashes_at_submit: u32,
}

struct Simulation<'s> {
    scenario: &'s Scenario,
    seed: u64,
    rng: ChaCha20Rng,
    genesis: Genesis,
    genesis_supply: u128,
    now: u64,
    seq: u64,
    queue: BinaryHeap<Reverse<Queued>>,
    nodes: Vec<Node>,
    honest: Vec<usize>,
    partition: Option<Vec<bool>>,
    txs: Vec<TrackedTx>,
    tx_index: BTreeMap<TxId, usize>,
    conflict_pairs: Vec<[TxId; 2]>,
    accepted_by_key: BTreeMap<(Address, u64), TxId>,
    workload_over: bool,
    finished_at: Option<u64>,
    /// When every honest transfer was accepted everywhere.
    live_at: Option<u64>,
    liveness_ms: u64,
    /// Since when the honest relays' accepted vertex sets are equal.
    settled_at: Option<u64>,
    settle_ms: u64,
    checkpoint_ms: u64,
    checkpoint_split_lock: Option<u64>,
    /// Partitions so far: (start, heal) in simulated ms.
    partitions: Vec<(u64, u64)>,
    /// Every header an honest relay certified, by number, with the first
    /// relay that certified it.
    certified_headers: BTreeMap<u64, (usize, CheckpointHeader)>,
    messages_delivered: u64,
    messages_lost: u64,
    crashes: u32,
    resubmissions: u32,
    trace: [u8; 32],
}

impl<'s> Simulation<'s> {
    fn fail(&self, kind: FailureKind, detail: impl Into<String>) -> SimFailure {
        SimFailure {
            scenario: self.scenario.name,
            seed: self.seed,
            at_ms: self.now,
            kind,
            detail: detail.into(),
        }
    }

    fn new(scenario: &'s Scenario, seed: u64) -> Result<Self, SimFailure> {
        let genesis = workload::genesis(scenario);
        let harness = |detail: String| SimFailure {
            scenario: scenario.name,
            seed,
            at_ms: 0,
            kind: FailureKind::Harness,
            detail,
        };
        let genesis_supply = genesis.total_supply().map_err(|e| harness(e.to_string()))? as u128;
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let count = scenario.stakes.len();
        if count > workload::MAX_VALIDATORS {
            return Err(harness(format!(
                "at most {} validators",
                workload::MAX_VALIDATORS
            )));
        }
        let mut nodes = Vec::with_capacity(count);
        let mut byzantine_ordinal = 0;
        for index in 0..count {
            let engine = Engine::new(engine_config(&genesis, index, seed, 0))
                .map_err(|e| harness(e.to_string()))?;
            let byzantine = scenario.byzantine.contains(&index).then(|| {
                let plan = ByzantinePlan::random(&mut rng);
                byzantine_ordinal += 1;
                Byzantine::new(plan, index, byzantine_ordinal - 1)
            });
            // Byzantine relays do not sign checkpoints (no new powers here).
            let checkpointer = match byzantine {
                Some(_) => None,
                None => Some(
                    Checkpointer::new(checkpoint_config(&genesis, index, seed, 0))
                        .map_err(|e| harness(e.to_string()))?,
                ),
            };
            nodes.push(Node {
                engine: Some(engine),
                checkpointer,
                certified_since_last_tx: false,
                lock_signed_at: 0,
                store: Store::default(),
                byzantine,
                crashes: 0,
                accepted_set: ([0; 32], 0),
                state_digest: [0; 32],
                state_dirty: true,
            });
        }
        let honest = (0..count)
            .filter(|i| !scenario.byzantine.contains(i))
            .collect();
        let mut sim = Self {
            scenario,
            seed,
            rng,
            genesis,
            genesis_supply,
            now: 0,
            seq: 0,
            queue: BinaryHeap::new(),
            nodes,
            honest,
            partition: None,
            txs: Vec::new(),
            tx_index: BTreeMap::new(),
            conflict_pairs: Vec::new(),
            accepted_by_key: BTreeMap::new(),
            workload_over: false,
            finished_at: None,
            live_at: None,
            liveness_ms: 0,
            settled_at: None,
            settle_ms: 0,
            checkpoint_ms: 0,
            checkpoint_split_lock: None,
            partitions: Vec::new(),
            certified_headers: BTreeMap::new(),
            messages_delivered: 0,
            messages_lost: 0,
            crashes: 0,
            resubmissions: 0,
            trace: [0; 32],
        };
        sim.plan_workload().map_err(|e| harness(e.to_string()))?;
        Ok(sim)
    }

    fn random(&mut self, below: u64) -> u64 {
        if below == 0 {
            0
        } else {
            self.rng.next_u64() % below
        }
    }

    fn random_honest(&mut self) -> usize {
        let pick = self.random(self.honest.len() as u64) as usize;
        self.honest[pick]
    }

    fn schedule(&mut self, at: u64, event: Event) {
        self.seq += 1;
        self.queue.push(Reverse(Queued {
            at,
            seq: self.seq,
            event,
        }));
    }

    fn track(&mut self, tx: Arc<SignedTransfer>, honest: bool) -> usize {
        let index = self.txs.len();
        self.tx_index.insert(tx.id(), index);
        self.txs.push(TrackedTx {
            tx,
            honest,
            submitted_to: None,
            crashes_at_submit: 0,
        });
        index
    }

    /// Schedules ticks, client transfers, double spends, faults and attacks.
    fn plan_workload(&mut self) -> Result<(), ruv_protocol::crypto::CryptoError> {
        let scenario = self.scenario;
        let keys = workload::keys();
        let workload = scenario.workload_ms;
        for node in 0..self.nodes.len() {
            let first = self.random(TICK_MS);
            self.schedule(first, Event::Tick { node });
        }
        // Honest clients: consecutive nonces, submitted in nonce order.
        let accounts = scenario.honest_accounts.min(workload::MAX_ACCOUNTS);
        for account in 0..accounts {
            let count = 1 + self.random(scenario.max_txs_per_account.max(1) as u64) as usize;
            let mut times: Vec<u64> = (0..count).map(|_| self.random(workload * 4 / 5)).collect();
            times.sort_unstable();
            for (i, at) in times.into_iter().enumerate() {
                let to_index = self.random(accounts as u64) as usize;
                let to = if to_index == account {
                    Address::from_bytes([0xee; 32])
                } else {
                    workload::address(&keys.honest[to_index])
                };
                let amount = 1_000 + self.random(1_000_000);
                let tx = workload::transfer(
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
        for pair in 0..scenario.double_spends.min(workload::MAX_ACCOUNTS) {
            let from = &keys.double_spenders[pair];
            let a = workload::transfer(
                &self.genesis,
                from,
                Address::from_bytes([0xaa; 32]),
                5_000,
                1,
                &mut self.rng,
            )?;
            let b = workload::transfer(
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
        if scenario.partition {
            let start = 200 + self.random(workload / 2);
            let length = 500 + self.random(2_000);
            let end = (start + length).min(workload);
            let count = self.nodes.len();
            let minority = 1 + self.random((count / 2) as u64) as usize;
            let mut side = vec![false; count];
            let mut chosen = 0;
            while chosen < minority {
                let node = self.random(count as u64) as usize;
                if !side[node] {
                    side[node] = true;
                    chosen += 1;
                }
            }
            self.schedule(start, Event::Partition { side });
            self.schedule(end, Event::Heal);
        }
        for _ in 0..scenario.crashes {
            let node = self.random_honest();
            let at = 100 + self.random(workload.saturating_sub(700));
            let down = 300 + self.random(1_500);
            self.schedule(at, Event::Crash { node });
            self.schedule((at + down).min(workload), Event::Restart { node });
        }
        for node in scenario.byzantine.clone() {
            let plan = self.nodes[node].byzantine.as_ref().map(|b| b.plan.clone());
            let Some(plan) = plan else { continue };
            for _ in 0..plan.equivocations {
                let at = 100 + self.random(workload * 3 / 4);
                self.schedule(at, Event::Equivocate { node });
            }
            if plan.flood {
                let first = self.random(100);
                self.schedule(first, Event::Flood { node });
            }
        }
        self.schedule(workload, Event::WorkloadEnd);
        Ok(())
    }

    fn run(&mut self) -> Result<RunReport, SimFailure> {
        let mut events = 0u64;
        while let Some(Reverse(queued)) = self.queue.pop() {
            self.now = queued.at;
            events += 1;
            if events > MAX_EVENTS {
                return Err(self.fail(FailureKind::Harness, "event budget exhausted"));
            }
            self.step(queued.event)?;
            if self.finished_at.is_some() {
                break;
            }
        }
        if self.finished_at.is_none() {
            return Err(self.fail(FailureKind::Harness, "event queue ran dry"));
        }
        Ok(self.report())
    }

    fn partitioned(&self, a: usize, b: usize) -> bool {
        self.partition
            .as_ref()
            .is_some_and(|side| side[a] != side[b])
    }

    fn send(&mut self, from: usize, to: usize, bytes: Arc<Vec<u8>>) {
        if from == to || to >= self.nodes.len() {
            return;
        }
        if self.partitioned(from, to) || self.random(100) < self.scenario.drop_percent as u64 {
            self.messages_lost += 1;
            return;
        }
        let copies = if self.random(100) < self.scenario.duplicate_percent as u64 {
            2
        } else {
            1
        };
        for _ in 0..copies {
            let (low, high) = self.scenario.latency_ms;
            let latency = low + self.random(high.saturating_sub(low) + 1);
            self.schedule(
                self.now + latency,
                Event::Deliver {
                    from,
                    to,
                    bytes: bytes.clone(),
                },
            );
        }
    }

    fn step(&mut self, event: Event) -> Result<(), SimFailure> {
        match event {
            Event::Deliver { from, to, bytes } => {
                if self.nodes[to].engine.is_none() || self.partitioned(from, to) {
                    self.messages_lost += 1;
                    return Ok(());
                }
                self.messages_delivered += 1;
                let input = Input::PeerMessage {
                    from: ValidatorIndex(from as u16),
                    bytes: bytes.to_vec(),
                };
                self.feed(to, input)?;
            }
            Event::Tick { node } => {
                self.schedule(self.now + TICK_MS, Event::Tick { node });
                self.feed(node, Input::Tick { now_ms: self.now })?;
            }
            Event::Submit { tx, node } => self.submit(tx, node)?,
            Event::Crash { node } => {
                self.nodes[node].checkpointer = None;
                if self.nodes[node].engine.take().is_some() {
                    self.nodes[node].crashes += 1;
                    self.crashes += 1;
                    tracing::debug!(node, at = self.now, "crash");
                }
            }
            Event::Restart { node } => self.restart(node)?,
            Event::Partition { side } => {
                self.partition = Some(side);
                self.partitions.push((self.now, u64::MAX));
            }
            Event::Heal => {
                self.partition = None;
                if let Some(last) = self.partitions.last_mut() {
                    last.1 = last.1.min(self.now);
                }
            }
            Event::Equivocate { node } => self.equivocate(node)?,
            Event::Flood { node } => {
                self.flood(node);
                if !self.workload_over || self.now < self.scenario.workload_ms * 3 {
                    self.schedule(self.now + 100, Event::Flood { node });
                }
            }
            Event::WorkloadEnd => self.end_workload()?,
            Event::Check => self.check_liveness()?,
        }
        Ok(())
    }

    fn submit(&mut self, index: usize, node: usize) -> Result<(), SimFailure> {
        // A client whose relay is down tries another honest relay.
        let mut node = node;
        if self.nodes[node].engine.is_none() {
            let up: Vec<usize> = self
                .honest
                .iter()
                .copied()
                .filter(|n| self.nodes[*n].engine.is_some())
                .collect();
            if up.is_empty() {
                return Ok(());
            }
            node = up[self.random(up.len() as u64) as usize];
        }
        self.txs[index].submitted_to = Some(node);
        self.txs[index].crashes_at_submit = self.nodes[node].crashes;
        let tx = self.txs[index].tx.clone();
        self.feed(node, Input::SubmitTransaction(tx))
    }

    fn restart(&mut self, node: usize) -> Result<(), SimFailure> {
        if self.nodes[node].engine.is_some() {
            return Ok(());
        }
        let state = PersistedState {
            accepted: self.nodes[node].store.accepted.clone(),
            processing: self.nodes[node]
                .store
                .processing
                .values()
                .cloned()
                .collect(),
        };
        let config = engine_config(&self.genesis, node, self.seed, self.nodes[node].crashes);
        let mut out = Vec::new();
        let engine = Engine::restore(config, &state, &mut out).map_err(|e| {
            self.fail(
                FailureKind::Harness,
                format!("relay {node} cannot restart: {e}"),
            )
        })?;
        let mut accepted_set = ([0u8; 32], 0u64);
        for bytes in &state.accepted {
            xor_into(&mut accepted_set.0, &crate::vertex::Vertex::id_of(bytes).0);
            accepted_set.1 += 1;
        }
        // As the relay does at start: the checkpointer re-derives every
        // stored checkpoint from the accepted log it had on disk.
        let checkpointer = if self.nodes[node].byzantine.is_none() {
            let mut vertices = Vec::with_capacity(state.accepted.len());
            for bytes in &state.accepted {
                let vertex = Vertex::decode(bytes).map_err(|e| {
                    self.fail(
                        FailureKind::Harness,
                        format!("relay {node}: a stored vertex does not decode: {e}"),
                    )
                })?;
                vertices.push(Arc::new(vertex));
            }
            let store = &self.nodes[node].store;
            let config =
                checkpoint_config(&self.genesis, node, self.seed, self.nodes[node].crashes);
            let restored =
                Checkpointer::restore(config, vertices, store.certified.clone(), store.signed)
                    .map_err(|e| {
                        self.fail(
                            FailureKind::Harness,
                            format!("relay {node}: the checkpointer cannot restart: {e}"),
                        )
                    })?;
            Some(restored)
        } else {
            None
        };
        let n = &mut self.nodes[node];
        n.engine = Some(engine);
        n.checkpointer = checkpointer;
        n.accepted_set = accepted_set;
        n.state_dirty = true;
        tracing::debug!(node, at = self.now, "restart");
        self.check_restored_checkpoints(node)?;
        self.process(node, out)
    }

    /// After a restart: the re-derived checkpoints are the certified ones.
    fn check_restored_checkpoints(&self, node: usize) -> Result<(), SimFailure> {
        let Some(checkpointer) = self.nodes[node].checkpointer.as_ref() else {
            return Ok(());
        };
        for stored in &self.nodes[node].store.certified {
            let number = stored.certificate.header.number;
            let restored = checkpointer
                .certified(number)
                .map(|c| &c.certificate.header);
            if restored != Some(&stored.certificate.header) {
                return Err(self.fail(
                    FailureKind::Harness,
                    format!(
                        "relay {node}: checkpoint {number} restored as {:?}, stored {}",
                        restored.map(|h| h.id().to_string()),
                        stored.certificate.header.id()
                    ),
                ));
            }
        }
        Ok(())
    }

    fn equivocate(&mut self, node: usize) -> Result<(), SimFailure> {
        let honest = self.honest.clone();
        let relay = &mut self.nodes[node];
        let (Some(byzantine), Some(engine)) = (relay.byzantine.as_mut(), relay.engine.as_mut())
        else {
            return Ok(());
        };
        let result = byzantine.equivocate(engine, &self.genesis, &honest, &mut self.rng);
        let equivocation = result.map_err(|e| self.fail(FailureKind::Harness, e.to_string()))?;
        let Some(equivocation) = equivocation else {
            return Ok(());
        };
        let [a, b] = equivocation.txs;
        self.conflict_pairs.push([a.id(), b.id()]);
        self.track(a, false);
        self.track(b, false);
        for (to, bytes) in equivocation.sends {
            self.send(node, to, bytes);
        }
        Ok(())
    }

    fn flood(&mut self, node: usize) {
        let messages = {
            let (Some(byzantine), Some(engine)) = (
                self.nodes[node].byzantine.as_ref(),
                self.nodes[node].engine.as_ref(),
            ) else {
                return;
            };
            byzantine.flood(engine, &self.genesis, &mut self.rng)
        };
        for bytes in messages {
            let to = self.random_honest();
            self.send(node, to, Arc::new(bytes));
        }
    }

    fn end_workload(&mut self) -> Result<(), SimFailure> {
        self.workload_over = true;
        self.partition = None;
        if let Some(last) = self.partitions.last_mut() {
            last.1 = last.1.min(self.now);
        }
        for node in self.honest.clone() {
            self.restart(node)?;
        }
        // Clients whose relay crashed after taking their transfer, and that no
        // honest relay knows, submit it again (as a wallet would).
        for index in 0..self.txs.len() {
            let tracked = &self.txs[index];
            let Some(relay) = tracked.submitted_to else {
                continue;
            };
            if !tracked.honest || self.nodes[relay].crashes == tracked.crashes_at_submit {
                continue;
            }
            let id = tracked.tx.id();
            let known = self.honest.iter().any(|n| {
                self.nodes[*n]
                    .engine
                    .as_ref()
                    .is_some_and(|e| e.tx_status(&id) != TxStatus::Unknown)
            });
            if !known {
                let node = self.random_honest();
                self.resubmissions += 1;
                self.submit(index, node)?;
            }
        }
        self.schedule(self.now + CHECK_MS, Event::Check);
        Ok(())
    }

    fn check_liveness(&mut self) -> Result<(), SimFailure> {
        if self.live_at.is_none() {
            self.check_transfer_liveness()?;
        }
        let Some(live_at) = self.live_at else {
            return Ok(()); // the next check is scheduled
        };
        if !self.scenario.checkpoint_liveness {
            self.finished_at = Some(self.now);
            return Ok(());
        }
        let unsettled = self.unsettled_relays();
        if !unsettled.is_empty() {
            self.settled_at = None;
        }
        if self.settled_at.is_none() {
            if unsettled.is_empty() {
                self.settled_at = Some(self.now);
                self.settle_ms = self.now - live_at;
            } else if self.now >= live_at + SETTLE_QUIET_MS {
                let mut detail = format!(
                    "the honest relays' accepted vertex sets still differ {} ms after liveness (checkpoint signers need every anchor vertex accepted):",
                    self.now - live_at
                );
                for line in unsettled.iter().take(12) {
                    detail.push_str(&format!("\n    {line}"));
                }
                return Err(self.fail(FailureKind::CheckpointLiveness, detail));
            } else {
                self.schedule(self.now + CHECK_MS, Event::Check);
                return Ok(());
            }
        }
        let settled_at = self.settled_at.unwrap_or(live_at);
        let missing = self.missing_checkpoints();
        if missing.is_empty() {
            self.checkpoint_ms = self.now - settled_at;
            self.finished_at = Some(self.now);
            return Ok(());
        }
        if self.now >= settled_at + CHECKPOINT_QUIET_MS {
            let mut detail = format!(
                "checkpoints stopped: nothing certified for {} ms after the honest relays' accepted vertex sets became equal:",
                self.now - settled_at
            );
            for line in missing.iter().take(12) {
                detail.push_str(&format!("\n    {line}"));
            }
            for node in &self.honest {
                if let Some(checkpointer) = self.nodes[*node].checkpointer.as_ref() {
                    detail.push_str(&format!(
                        "\n    relay {node}: latest checkpoint {} metrics {:?}",
                        checkpointer
                            .latest()
                            .map_or(0, |c| c.certificate.header.number),
                        checkpointer.metrics()
                    ));
                }
            }
            if let Some(split) = self.split_lock() {
                detail.push_str(&format!("\n    {}", split.describe));
                if split.in_partition && self.scenario.partition {
                    // The known gap of the sign-once lock (see
                    // `Scenario::partition`): recorded, not failed.
                    self.checkpoint_split_lock = Some(split.number);
                    self.checkpoint_ms = self.now - settled_at;
                    self.finished_at = Some(self.now);
                    tracing::debug!(seed = self.seed, %detail, "checkpoint split lock");
                    return Ok(());
                }
            }
            return Err(self.fail(FailureKind::CheckpointLiveness, detail));
        }
        self.schedule(self.now + CHECK_MS, Event::Check);
        Ok(())
    }

    /// Whether the next number can never be certified because the honest
    /// relays' sign-once locks are split over headers none of which can
    /// reach the quorum (Byzantine relays never sign in the simulator).
    fn split_lock(&self) -> Option<SplitLock> {
        let number = self
            .honest
            .iter()
            .filter_map(|n| self.nodes[*n].checkpointer.as_ref())
            .map(|c| c.latest().map_or(0, |c| c.certificate.header.number))
            .max()?
            + 1;
        let total: u128 = self.scenario.stakes.iter().map(|s| *s as u128).sum();
        let stake = |n: &usize| self.scenario.stakes.get(*n).copied().unwrap_or(0) as u128;
        let mut locks: BTreeMap<Hash32, Vec<usize>> = BTreeMap::new();
        let mut free = 0u128;
        let mut in_partition = false;
        for node in &self.honest {
            match self.nodes[*node].store.signed {
                Some((n, header)) if n == number => {
                    locks.entry(header).or_default().push(*node);
                    in_partition |= self.cut_by_partition(self.nodes[*node].lock_signed_at);
                }
                _ => free += stake(node),
            }
        }
        let dead = locks.len() >= 2
            && locks
                .values()
                .all(|signers| 3 * (signers.iter().map(stake).sum::<u128>() + free) <= 2 * total);
        if !dead {
            return None;
        }
        let mut describe = format!(
            "split lock on checkpoint {number}: honest relays signed different headers and none can reach 2/3 of the stake {total} (unlocked honest stake {free}):"
        );
        for (header, signers) in &locks {
            describe.push_str(&format!(
                " header {header} signed by relays {signers:?} (stake {});",
                signers.iter().map(stake).sum::<u128>()
            ));
        }
        describe.push_str(if in_partition {
            " a partition cut some of those votes off"
        } else {
            " no partition cut those votes off"
        });
        Some(SplitLock {
            number,
            in_partition,
            describe,
        })
    }

    /// Whether a partition may have kept a vote signed at `at` from the
    /// other side: it was in place at some point between the signature and
    /// the first resend of the vote arriving (a round later at most).
    fn cut_by_partition(&self, at: u64) -> bool {
        let window = sim_checkpoint_timing().round_timeout_ms + self.scenario.latency_ms.1;
        self.partitions
            .iter()
            .any(|(start, heal)| *start <= at + window && *heal >= at)
    }

    /// Honest relays whose accepted vertex sets differ (a checkpoint's
    /// signers need every vertex of its anchor's closure accepted).
    fn unsettled_relays(&self) -> Vec<String> {
        let sets: BTreeSet<([u8; 32], u64)> = self
            .honest
            .iter()
            .map(|n| self.nodes[*n].accepted_set)
            .collect();
        if sets.len() <= 1 {
            return Vec::new();
        }
        self.honest
            .iter()
            .map(|n| {
                let set = self.nodes[*n].accepted_set;
                format!("relay {n}: {} vertices accepted", set.1)
            })
            .collect()
    }

    /// What is not certified yet: honest relays (all are up by now) without
    /// a certificate since the last accepted transfer, and accepted
    /// transfers in no honest relay's certified checkpoints.
    fn missing_checkpoints(&self) -> Vec<String> {
        let mut missing = Vec::new();
        for node in &self.honest {
            let n = &self.nodes[*node];
            if n.engine.is_some() && !n.certified_since_last_tx {
                missing.push(format!(
                    "relay {node} certified no checkpoint after the last transfer was accepted"
                ));
            }
        }
        for id in self.accepted_by_key.values() {
            let included = self.honest.iter().any(|node| {
                self.nodes[*node]
                    .checkpointer
                    .as_ref()
                    .is_some_and(|c| c.included_in(id).is_some())
            });
            if !included {
                let honest = self
                    .tx_index
                    .get(id)
                    .is_some_and(|index| self.txs[*index].honest);
                let accepted_by: Vec<usize> =
                    self.honest
                        .iter()
                        .copied()
                        .filter(|node| {
                            self.nodes[*node].engine.as_ref().is_some_and(|e| {
                                matches!(e.tx_status(id), TxStatus::Accepted { .. })
                            })
                        })
                        .collect();
                missing.push(format!(
                    "accepted {} transfer {id:?} is in no certified checkpoint (accepted by honest relays {accepted_by:?})",
                    if honest { "honest" } else { "conflicting" }
                ));
            }
        }
        missing
    }

    fn check_transfer_liveness(&mut self) -> Result<(), SimFailure> {
        let missing = self.missing_honest_txs();
        if missing.is_empty() {
            self.liveness_ms = self.now - self.scenario.workload_ms;
            self.live_at = Some(self.now);
            return Ok(());
        }
        if self.now >= self.scenario.workload_ms + self.scenario.max_quiet_ms {
            let mut detail = format!(
                "{} honest transfers not accepted everywhere after the quiet period:",
                missing.len()
            );
            for (node, id) in missing.iter().take(8) {
                let status = self.nodes[*node].engine.as_ref().map(|e| e.tx_status(id));
                detail.push_str(&format!("\n    relay {node}: {id:?} {status:?}"));
            }
            for node in &self.honest {
                if let Some(engine) = self.nodes[*node].engine.as_ref() {
                    detail.push_str(&format!(
                        "\n    relay {node}: processing {} waiting {} pending txs {} accepted vertices {} metrics {:?}",
                        engine.processing_count(),
                        engine.waiting_count(),
                        engine.pending_tx_count(),
                        engine.metrics().vertices_accepted,
                        engine.metrics()
                    ));
                    detail.push_str(&engine.pending_report());
                }
            }
            return Err(self.fail(FailureKind::Liveness, detail));
        }
        self.schedule(self.now + CHECK_MS, Event::Check);
        Ok(())
    }

    /// (relay, transfer) pairs where an honest transfer is not accepted yet.
    fn missing_honest_txs(&self) -> Vec<(usize, TxId)> {
        let mut missing = Vec::new();
        for node in &self.honest {
            for tracked in self.txs.iter().filter(|t| t.honest) {
                let id = tracked.tx.id();
                let accepted = self.nodes[*node]
                    .engine
                    .as_ref()
                    .is_some_and(|e| matches!(e.tx_status(&id), TxStatus::Accepted { .. }));
                if !accepted {
                    missing.push((*node, id));
                }
            }
        }
        missing
    }

    fn feed(&mut self, node: usize, input: Input) -> Result<(), SimFailure> {
        let Some(engine) = self.nodes[node].engine.as_mut() else {
            return Ok(());
        };
        let mut out = Vec::new();
        engine.handle(input, &mut out);
        let out = match &self.nodes[node].byzantine {
            Some(byzantine) => byzantine.filter(out),
            None => out,
        };
        self.process(node, out)
    }

    /// Executes an engine's outputs, then hands the checkpointer what the
    /// relay's driver hands it for the same batch.
    fn process(&mut self, node: usize, out: Vec<Output>) -> Result<(), SimFailure> {
        let inputs = self.checkpoint_inputs(node, &out);
        self.execute(node, out)?;
        self.drive_checkpoints(node, inputs)?;
        self.check_node(node)
    }

    /// Like `relay/src/node.rs`: every accepted vertex and every checkpoint
    /// message the engine passed through, in output order.
    fn checkpoint_inputs(&self, node: usize, outputs: &[Output]) -> Vec<CheckpointInput> {
        let n = &self.nodes[node];
        let (Some(engine), Some(_)) = (n.engine.as_ref(), n.checkpointer.as_ref()) else {
            return Vec::new();
        };
        outputs
            .iter()
            .filter_map(|output| match output {
                Output::VertexAccepted { id, .. } => engine
                    .vertex(id)
                    .map(|v| CheckpointInput::VertexAccepted(v.clone())),
                Output::Checkpoint { from, message } => Some(CheckpointInput::Peer {
                    from: *from,
                    message: message.clone(),
                }),
                _ => None,
            })
            .collect()
    }

    /// One batch of the checkpointer: a tick with the simulated clock, then
    /// the inputs; its outputs go to the store and the network.
    fn drive_checkpoints(
        &mut self,
        node: usize,
        inputs: Vec<CheckpointInput>,
    ) -> Result<(), SimFailure> {
        let Some(checkpointer) = self.nodes[node].checkpointer.as_mut() else {
            return Ok(());
        };
        let mut out = Vec::new();
        checkpointer.handle(
            CheckpointInput::Tick {
                now_ms: self.now,
                unix_ms: sim_unix_epoch_ms(self.seed) + self.now,
            },
            &mut out,
        );
        for input in inputs {
            checkpointer.handle(input, &mut out);
        }
        self.execute_checkpoints(node, out)
    }

    fn execute_checkpoints(
        &mut self,
        node: usize,
        outputs: Vec<CheckpointOutput>,
    ) -> Result<(), SimFailure> {
        for output in outputs {
            match output {
                CheckpointOutput::Persist(CheckpointPersist::Signed { number, header_id }) => {
                    let mut data = number.to_le_bytes().to_vec();
                    data.extend_from_slice(&header_id.0);
                    self.record(node, "checkpoint persist signed", &data);
                    if let Some((n, other)) = self.nodes[node].store.signed {
                        if n == number && other != header_id {
                            return Err(self.fail(
                                FailureKind::CheckpointLock,
                                format!(
                                    "relay {node} signed checkpoint {number} twice: header {other} and header {header_id}"
                                ),
                            ));
                        }
                    }
                    // A restarted relay signs its locked header again.
                    let n = &mut self.nodes[node];
                    if n.store.signed != Some((number, header_id)) {
                        n.lock_signed_at = self.now;
                    }
                    n.store.signed = Some((number, header_id));
                }
                CheckpointOutput::Persist(CheckpointPersist::Certified(stored)) => {
                    let header = &stored.certificate.header;
                    self.record(node, "checkpoint persist certified", &header.id().0);
                    let expected = self.nodes[node].store.certified.len() as u64 + 1;
                    if header.number != expected {
                        return Err(self.fail(
                            FailureKind::Harness,
                            format!(
                                "relay {node} persisted checkpoint {} after {} stored ones",
                                header.number,
                                expected - 1
                            ),
                        ));
                    }
                    self.nodes[node].store.certified.push(*stored);
                }
                CheckpointOutput::Broadcast(message) => {
                    let bytes = Arc::new(message.encode());
                    self.record(node, "checkpoint broadcast", &bytes);
                    for to in 0..self.nodes.len() {
                        self.send(node, to, bytes.clone());
                    }
                }
                CheckpointOutput::Send { to, message } => {
                    let bytes = Arc::new(message.encode());
                    self.record(node, &format!("checkpoint send {to}"), &bytes);
                    self.send(node, to.0 as usize, bytes);
                }
                CheckpointOutput::Certified { number } => {
                    self.record(node, "checkpoint certified", &number.to_le_bytes());
                    self.check_certified(node, number)?;
                }
            }
        }
        Ok(())
    }

    /// Agreement on checkpoints: every honest relay that certified `number`
    /// certified the identical header.
    fn check_certified(&mut self, node: usize, number: u64) -> Result<(), SimFailure> {
        let Some(header) = self.nodes[node]
            .checkpointer
            .as_ref()
            .and_then(|c| c.certified(number))
            .map(|c| c.certificate.header.clone())
        else {
            return Err(self.fail(
                FailureKind::Harness,
                format!("relay {node} reported checkpoint {number} certified but does not have it"),
            ));
        };
        self.nodes[node].certified_since_last_tx = true;
        let Some((first, recorded)) = self.certified_headers.get(&number) else {
            self.certified_headers.insert(number, (node, header));
            return Ok(());
        };
        if *recorded == header {
            return Ok(());
        }
        let same_input = recorded.previous == header.previous
            && recorded.anchor == header.anchor
            && recorded.time_ms == header.time_ms;
        let (kind, what) = if same_input {
            (
                FailureKind::CheckpointDivergence,
                "from the same previous header, anchor and time",
            )
        } else {
            (FailureKind::CheckpointFork, "two certified headers")
        };
        Err(self.fail(
            kind,
            format!(
                "checkpoint {number}: relay {node} certified header {} but relay {first} certified header {} ({what}); state roots {} vs {}, previous {} vs {}, anchors {} vs {}, times {} vs {}",
                header.id(),
                recorded.id(),
                header.state_root,
                recorded.state_root,
                header.previous,
                recorded.previous,
                header.anchor,
                recorded.anchor,
                header.time_ms,
                recorded.time_ms,
            ),
        ))
    }

    /// Folds one output into the run's trace digest.
    fn record(&mut self, node: usize, what: &str, data: &[u8]) {
        let header = format!("{} {node} {what}", self.now);
        self.trace = hash(TRACE_CONTEXT, &[&self.trace, header.as_bytes(), data]);
    }

    fn execute(&mut self, node: usize, outputs: Vec<Output>) -> Result<(), SimFailure> {
        let honest = self.nodes[node].byzantine.is_none();
        for output in outputs {
            match output {
                Output::Send { to, message } => {
                    let bytes = Arc::new(message.encode());
                    self.record(node, &format!("send {to}"), &bytes);
                    self.send(node, to.0 as usize, bytes);
                }
                Output::Broadcast { message } => {
                    let bytes = Arc::new(message.encode());
                    self.record(node, "broadcast", &bytes);
                    for to in 0..self.nodes.len() {
                        self.send(node, to, bytes.clone());
                    }
                }
                Output::Persist(persist) => {
                    let store = &mut self.nodes[node].store;
                    let (what, id) = match persist {
                        Persist::Processing { id, bytes } => {
                            store.processing.insert(id, bytes);
                            ("persist processing", id)
                        }
                        Persist::Accepted { id, bytes } => {
                            store.processing.remove(&id);
                            store.accepted.push(bytes);
                            ("persist accepted", id)
                        }
                        Persist::Forget { id } => {
                            store.processing.remove(&id);
                            ("persist forget", id)
                        }
                    };
                    self.record(node, what, &id.0);
                }
                other => {
                    self.record(node, &format!("{other:?}"), &[]);
                    match other {
                        Output::TxAccepted { id, .. } if honest => {
                            self.check_conflicts(node, id)?;
                            for n in &mut self.nodes {
                                n.certified_since_last_tx = false;
                            }
                        }
                        Output::VertexAccepted { id, .. } if honest => {
                            self.check_vertex_order(node, id)?
                        }
                        _ => {}
                    }
                }
            }
        }
        Ok(())
    }

    /// Safety: one accepted transfer per (sender, nonce) across honest relays.
    fn check_conflicts(&mut self, node: usize, id: TxId) -> Result<(), SimFailure> {
        let Some(index) = self.tx_index.get(&id) else {
            return Err(self.fail(
                FailureKind::Safety,
                format!("relay {node} accepted unknown transfer {id:?}"),
            ));
        };
        let t = &self.txs[*index].tx.transfer;
        let key = (t.from, t.nonce);
        match self.accepted_by_key.get(&key) {
            Some(other) if *other != id => Err(self.fail(
                FailureKind::Safety,
                format!("relay {node} accepted {id:?} but an honest relay accepted the conflicting {other:?}"),
            )),
            Some(_) => Ok(()),
            None => {
                self.accepted_by_key.insert(key, id);
                Ok(())
            }
        }
    }

    fn check_vertex_order(&mut self, node: usize, id: VertexId) -> Result<(), SimFailure> {
        let Some(engine) = self.nodes[node].engine.as_ref() else {
            return Ok(());
        };
        let parents: Vec<VertexId> = engine
            .vertex(&id)
            .map(|v| v.parents().to_vec())
            .unwrap_or_default();
        for parent in parents {
            if engine.vertex_status(&parent) != Some(VertexStatus::Accepted) {
                return Err(self.fail(
                    FailureKind::Order,
                    format!("relay {node} accepted {id:?} before its parent {parent:?}"),
                ));
            }
        }
        let n = &mut self.nodes[node];
        xor_into(&mut n.accepted_set.0, &id.0);
        n.accepted_set.1 += 1;
        n.state_dirty = true;
        Ok(())
    }

    /// Supply, apply failures, and same accepted set => same state.
    fn check_node(&mut self, node: usize) -> Result<(), SimFailure> {
        if self.nodes[node].byzantine.is_some() || !self.nodes[node].state_dirty {
            return Ok(());
        }
        let Some(engine) = self.nodes[node].engine.as_ref() else {
            return Ok(());
        };
        if engine.metrics().apply_failures > 0 {
            return Err(self.fail(
                FailureKind::Apply,
                format!("relay {node}: an accepted transfer did not apply"),
            ));
        }
        let ledger = engine.ledger();
        let total = ledger.circulating() + ledger.burned() as u128;
        if total != self.genesis_supply {
            return Err(self.fail(
                FailureKind::Supply,
                format!(
                    "relay {node}: circulating + burned = {total}, genesis supply {}",
                    self.genesis_supply
                ),
            ));
        }
        let mut state = Vec::new();
        for (address, account) in ledger.accounts() {
            state.extend_from_slice(address.as_bytes());
            state.extend_from_slice(&account.balance.to_le_bytes());
            state.extend_from_slice(&account.nonce.to_le_bytes());
        }
        state.extend_from_slice(&ledger.burned().to_le_bytes());
        let digest = hash(TRACE_CONTEXT, &[&state]);
        let set = self.nodes[node].accepted_set;
        for other in &self.honest {
            let o = &self.nodes[*other];
            if *other != node
                && o.engine.is_some()
                && !o.state_dirty
                && o.accepted_set == set
                && o.state_digest != digest
            {
                return Err(self.fail(
                    FailureKind::Divergence,
                    format!("relays {node} and {other} accepted the same {} vertices but have different states", set.1),
                ));
            }
        }
        let n = &mut self.nodes[node];
        n.state_digest = digest;
        n.state_dirty = false;
        Ok(())
    }

    fn report(&self) -> RunReport {
        let conflicts_decided = self
            .conflict_pairs
            .iter()
            .filter(|pair| {
                pair.iter()
                    .any(|id| self.accepted_by_key.values().any(|a| a == id))
            })
            .count();
        let first = self
            .honest
            .first()
            .and_then(|n| self.nodes[*n].engine.as_ref());
        let dropped_by_honest = self
            .honest
            .iter()
            .filter_map(|n| self.nodes[*n].engine.as_ref())
            .map(|e| e.metrics().dropped_total())
            .sum();
        let checkpointers = || {
            self.honest
                .iter()
                .filter_map(|n| self.nodes[*n].checkpointer.as_ref())
        };
        let checkpoints_certified = checkpointers()
            .map(|c| c.latest().map_or(0, |c| c.certificate.header.number))
            .min()
            .unwrap_or(0);
        let checkpoint_round_timeouts = checkpointers().map(|c| c.metrics().round_timeouts).sum();
        RunReport {
            scenario: self.scenario.name,
            seed: self.seed,
            sim_time_ms: self.now,
            liveness_ms: self.liveness_ms,
            honest_txs: self.txs.iter().filter(|t| t.honest).count(),
            conflict_pairs: self.conflict_pairs.len(),
            conflicts_decided,
            vertices_accepted: first.map_or(0, |e| e.metrics().vertices_accepted),
            messages_delivered: self.messages_delivered,
            messages_lost: self.messages_lost,
            crashes: self.crashes,
            resubmissions: self.resubmissions,
            dropped_by_honest,
            checkpoints_certified,
            settle_ms: self.settle_ms,
            checkpoint_ms: self.checkpoint_ms,
            checkpoint_round_timeouts,
            checkpoint_split_lock: self.checkpoint_split_lock,
            trace_digest: self.trace,
        }
    }
}

fn xor_into(target: &mut [u8; 32], value: &[u8; 32]) {
    for (t, v) in target.iter_mut().zip(value) {
        *t ^= v;
    }
}

fn engine_config(genesis: &Genesis, node: usize, seed: u64, incarnation: u32) -> EngineConfig {
    let mut rng_seed = [0u8; 32];
    rng_seed[..8].copy_from_slice(&seed.to_le_bytes());
    rng_seed[8..10].copy_from_slice(&(node as u16).to_le_bytes());
    rng_seed[10..14].copy_from_slice(&incarnation.to_le_bytes());
    EngineConfig {
        genesis: genesis.clone(),
        signing_key: workload::keys().validators[node].clone(),
        rng_seed,
        tuning: sim_tuning(),
    }
}

/// The run's wall-clock epoch: [`SIM_UNIX_EPOCH_MS`] plus a per-seed offset
/// below a minute, so that seeds start at different phases of the
/// checkpoint proposer rotation (drawn without touching the run's RNG).
fn sim_unix_epoch_ms(seed: u64) -> u64 {
    SIM_UNIX_EPOCH_MS + seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) % 60_000
}

fn checkpoint_config(
    genesis: &Genesis,
    node: usize,
    seed: u64,
    incarnation: u32,
) -> CheckpointConfig {
    let mut rng_seed = engine_config(genesis, node, seed, incarnation).rng_seed;
    rng_seed[31] = 0xc4; // not the engine's randomness
    CheckpointConfig {
        genesis: genesis.clone(),
        signing_key: workload::keys().validators[node].clone(),
        rng_seed,
        timing: sim_checkpoint_timing(),
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
