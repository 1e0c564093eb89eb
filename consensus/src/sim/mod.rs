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
//! Checked after every step:
//! - safety: no two conflicting transfers (same sender and nonce) are
//!   accepted by honest relays, even by different ones;
//! - a vertex is accepted only after its parents;
//! - honest relays that accepted the same set of vertices have the same
//!   ledger state;
//! - supply is conserved: `circulating + burned == genesis supply`;
//! - no accepted transaction ever fails to apply.
//!
//! Checked at the end, after faults stop (partitions healed, crashed relays
//! restarted): every honest transfer is accepted by every honest relay within
//! the scenario's quiet period (liveness).
//!
//! A failure names its seed and the command that reproduces it.

pub mod byzantine;
pub mod scenario;
pub mod workload;

use crate::vertex::{ValidatorIndex, VertexId};
use crate::{
    Engine, EngineConfig, Input, Output, Persist, PersistedState, Tuning, TxStatus, VertexStatus,
};
use byzantine::{Byzantine, ByzantinePlan};
use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;
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
}

struct Node {
    engine: Option<Engine>,
    store: Store,
    byzantine: Option<Byzantine>,
    crashes: u32,
    /// XOR of accepted vertex ids and their count: identifies the accepted set.
    accepted_set: ([u8; 32], u64),
    state_digest: [u8; 32],
    state_dirty: bool,
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
    liveness_ms: u64,
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
            nodes.push(Node {
                engine: Some(engine),
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
            liveness_ms: 0,
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
                if self.nodes[node].engine.take().is_some() {
                    self.nodes[node].crashes += 1;
                    self.crashes += 1;
                    tracing::debug!(node, at = self.now, "crash");
                }
            }
            Event::Restart { node } => self.restart(node)?,
            Event::Partition { side } => self.partition = Some(side),
            Event::Heal => self.partition = None,
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
        let n = &mut self.nodes[node];
        n.engine = Some(engine);
        n.accepted_set = accepted_set;
        n.state_dirty = true;
        tracing::debug!(node, at = self.now, "restart");
        self.execute(node, out)?;
        self.check_node(node)
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
        let missing = self.missing_honest_txs();
        if missing.is_empty() {
            self.liveness_ms = self.now - self.scenario.workload_ms;
            self.finished_at = Some(self.now);
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
        self.execute(node, out)?;
        self.check_node(node)
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
                            self.check_conflicts(node, id)?
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

/// The set of scenario names (for command lines).
pub fn scenario_names() -> BTreeSet<&'static str> {
    Scenario::all()
        .iter()
        .chain(Scenario::beyond_bound().iter())
        .map(|s| s.name)
        .collect()
}
