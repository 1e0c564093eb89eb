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
//! after a crash. Byzantine relays run none unless their plan plays in
//! checkpoint agreement ([`CheckpointMode`]: honestly, withholding,
//! equivocating, or splitting honest locks; [`byzantine_checkpoints`]).
//!
//! A message a relay sends to a crashed or cut-off peer is fed back to its
//! engine at once as [`Input::Undeliverable`], as the relay's driver does
//! (a query then counts as an empty answer instead of timing out). A
//! scenario may crash relays in the middle of a batch
//! ([`Scenario::crash_in_batch`]): the batch's persists and messages are
//! lost with it, as with a crash before the relay's atomic commit.
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
//! liveness; exempt where the scenario says it cannot hold; a stall on
//! split sign-once locks is diagnosed in the failure).
//!
//! A failure names its seed and the command that reproduces it.
//!
//! The crate is split by job (as TigerBeetle splits its simulator): this
//! file is the driver (the run loop and the wiring of engines and
//! checkpointers); [`network`] is the simulated packet network and its event
//! queue; [`faults`] plans and applies crashes, restarts and partitions;
//! [`workload`] and [`byzantine`] are the clients and the lying relays
//! ([`byzantine_checkpoints`] their checkpoint attacks);
//! [`checker`] holds every invariant check; [`report`] the run report, the
//! failure and the trace digest; [`scenario`] the named scenarios.

pub mod byzantine;
pub mod byzantine_checkpoints;
pub mod checker;
pub mod faults;
pub mod network;
pub mod report;
pub mod scenario;
pub mod workload;

use byzantine::Byzantine;
pub use byzantine::ByzantinePlan;
pub use byzantine::{BaitAndPoison, ChitsMode, TimedCrashes};
pub use byzantine_checkpoints::CheckpointMode;
use network::{Event, Queued};
use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;
pub use report::{FailureKind, ResourcePeak, RunReport, SimFailure};
use ruv_consensus::checkpoint::{
    CheckpointConfig, CheckpointInput, CheckpointOutput, CheckpointPersist, CheckpointTiming,
    Checkpointer, SignedLock, StoredCheckpoint,
};
use ruv_consensus::vertex::{ValidatorIndex, VertexId};
use ruv_consensus::{
    AncestorVertex, Engine, EngineConfig, Input, Message, Output, Persist, Tuning, TxStatus,
};
use ruv_protocol::checkpoint::{CheckpointHeader, Hash32};
use ruv_protocol::{Address, Genesis, SignedTransfer, TxId};
pub use scenario::{scenario_names, Outage, PartitionPlan, ResourceLimits, Scenario};
use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};
use std::sync::Arc;

/// Each relay's first tick comes within this many milliseconds of the start.
const TICK_MS: u64 = 10;
/// A relay is ticked at its engine's [`Engine::next_deadline`], and at least
/// this often: its checkpointer has no deadline of its own (as in the
/// relay's driver, `relay/src/node.rs`).
pub const MAX_WAKE_MS: u64 = 50;
/// Milliseconds between liveness checks after the workload.
const CHECK_MS: u64 = 100;
/// Events one run may process before it is declared stuck.
const MAX_EVENTS: u64 = 20_000_000;
/// The relay feeds undeliverable messages to its engine in its next batch;
/// the simulator takes that as this long. Not zero: with every sampled peer
/// unreachable a poll ends at once and the next starts at once, and in zero
/// simulated time that loop would never end.
const UNDELIVERABLE_MS: u64 = 1;
/// Events at one simulated instant before the run is declared looping
/// (feedback that takes no simulated time, such as undeliverable messages,
/// must not feed itself for ever).
const MAX_EVENTS_PER_INSTANT: u64 = 100_000;
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

/// Certified checkpoints a simulated relay keeps in memory: far fewer than
/// a relay's `CERTIFIED_IN_MEMORY`, so that a relay back from an outage
/// (the `long-outage` scenario) is sent older certificates from its peers'
/// stores, as relays are after a long one.
pub const SIM_CERTIFIED_IN_MEMORY: usize = 4;

/// Engine timeouts for simulated runs (simulated time is cheap, but shorter
/// timeouts keep runs short).
pub fn sim_tuning() -> Tuning {
    Tuning {
        poll_timeout_ms: 400,
        poll_patience_ms: 100,
        max_concurrent_polls: 4,
        idle_poll_interval_ms: 300,
        batch_delay_ms: 20,
        standby_delay_ms: 1_000,
        fetch_timeout_ms: 300,
        waiting_ttl_ms: 30_000,
        tx_retry_ttl_ms: 300_000,
        // A smaller budget than a relay's (4,096 per minute) so the
        // `junk-flood` adversary exhausts it within its workload; every
        // scenario checks that no honest issuer is ever refused.
        issuer_budget_vertices: 256,
        issuer_budget_window_ms: 5_000,
        ..Tuning::default()
    }
}

/// Runs one scenario with one seed.
pub fn run(scenario: &Scenario, seed: u64) -> Result<RunReport, SimFailure> {
    let mut sim = Simulation::new(scenario, seed)?;
    sim.run()
}

/// What a relay persisted (its "disk").
#[derive(Debug, Default)]
struct Store {
    accepted: Vec<Arc<[u8]>>,
    /// The same vertices by id (what the relay's log index answers).
    accepted_by_id: BTreeMap<VertexId, Arc<[u8]>>,
    processing: BTreeMap<VertexId, Arc<[u8]>>,
    /// The last checkpoint header this relay signed (its sign-once lock).
    signed: Option<(u64, Hash32)>,
    /// That lock with its header and anchor, as the relay stores it.
    signed_lock: Option<SignedLock>,
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
    /// When its next tick is scheduled (earlier queued ticks are stale).
    tick_at: Option<u64>,
    /// Crashes in the middle of its next batch ([`Scenario::crash_in_batch`]).
    crash_armed: bool,
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
    /// Byzantine relays whose links cross partitions.
    bridges: Vec<bool>,
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
    /// Partitions so far: (start, heal) in simulated ms.
    partitions: Vec<(u64, u64)>,
    /// Every header an honest relay certified, by number, with the first
    /// relay that certified it.
    certified_headers: BTreeMap<u64, (usize, CheckpointHeader)>,
    messages_delivered: u64,
    messages_lost: u64,
    crashes: u32,
    resubmissions: u32,
    free_vertices_sent: u64,
    /// Batches lost to a crash before their commit.
    torn_batches: u32,
    /// Queries fed back to their engine as undeliverable.
    undeliverable: u64,
    /// Ancestor answers that read settled vertices from a relay's store.
    stored_ancestor_answers: u64,
    /// Certified checkpoints sent to a peer from a relay's store.
    stored_checkpoint_answers: u64,
    /// Highest resource use seen at an honest relay.
    peak: ResourcePeak,
    /// Accepted vertices holding each transfer, per honest relay
    /// (incarnation-independent: counted from `Output::VertexAccepted`).
    accepted_copies: BTreeMap<(usize, TxId), u32>,
    counted_vertices: std::collections::BTreeSet<(usize, VertexId)>,
    /// Byzantine-issued vertices each honest relay stored or kept, and how
    /// many per relay.
    byzantine_stored: std::collections::BTreeSet<(usize, VertexId)>,
    byzantine_stored_count: BTreeMap<usize, usize>,
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
                let plan = match &scenario.byzantine_plan {
                    Some(pinned) => pinned.clone(),
                    None => ByzantinePlan::random(&mut rng),
                };
                byzantine_ordinal += 1;
                Byzantine::new(plan, index, byzantine_ordinal - 1)
            });
            // Byzantine relays run a checkpointer only where their plan
            // plays in checkpoint agreement.
            let checkpointer = match &byzantine {
                Some(b) if b.plan.checkpoints == CheckpointMode::Silent => None,
                _ => Some(
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
                tick_at: None,
                crash_armed: false,
            });
        }
        let honest = (0..count)
            .filter(|i| !scenario.byzantine.contains(i))
            .collect();
        let bridges = nodes
            .iter()
            .map(|n| n.byzantine.as_ref().is_some_and(|b| b.plan.bridge))
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
            bridges,
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
            partitions: Vec::new(),
            certified_headers: BTreeMap::new(),
            messages_delivered: 0,
            messages_lost: 0,
            crashes: 0,
            resubmissions: 0,
            free_vertices_sent: 0,
            torn_batches: 0,
            undeliverable: 0,
            stored_ancestor_answers: 0,
            stored_checkpoint_answers: 0,
            peak: ResourcePeak::default(),
            accepted_copies: BTreeMap::new(),
            counted_vertices: std::collections::BTreeSet::new(),
            byzantine_stored: std::collections::BTreeSet::new(),
            byzantine_stored_count: BTreeMap::new(),
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

    fn run(&mut self) -> Result<RunReport, SimFailure> {
        let mut events = 0u64;
        let mut at_this_instant = 0u64;
        while let Some(Reverse(queued)) = self.queue.pop() {
            if queued.at == self.now {
                at_this_instant += 1;
            } else {
                at_this_instant = 0;
            }
            self.now = queued.at;
            events += 1;
            if events > MAX_EVENTS {
                return Err(self.fail(FailureKind::Harness, "event budget exhausted"));
            }
            if at_this_instant > MAX_EVENTS_PER_INSTANT {
                return Err(self.fail(
                    FailureKind::Harness,
                    format!("a loop in zero simulated time: {at_this_instant} events at one instant, the last {:?}", queued.event),
                ));
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
                if self.nodes[node].tick_at.is_some_and(|at| at != self.now) {
                    // Superseded by an earlier wake-up.
                    return Ok(());
                }
                self.nodes[node].tick_at = None;
                self.feed(node, Input::Tick { now_ms: self.now })?;
            }
            Event::Submit { tx, node } => self.submit(tx, node)?,
            Event::Crash { node } => {
                if self.scenario.crash_in_batch {
                    // Crashes in the middle of the relay's next batch.
                    let n = &mut self.nodes[node];
                    n.crash_armed = n.engine.is_some();
                } else {
                    self.crash(node);
                }
            }
            Event::Restart { node } => self.restart(node)?,
            Event::Partition { side } => self.partition(side),
            Event::Heal => self.heal()?,
            Event::Equivocate { node } => self.equivocate(node)?,
            Event::TimedCrash { node, pair } => self.timed_crash(node, pair),
            Event::Undeliverable { node, to, message } => {
                let input = Input::Undeliverable {
                    to: ValidatorIndex(to as u16),
                    message,
                };
                self.feed(node, input)?;
            }
            Event::Bait { node } => self.bait(node)?,
            Event::Poison { node, bait } => self.poison(node, bait)?,
            Event::Flood { node } => {
                self.flood(node)?;
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
                // Every honest relay is down: the client tries again later.
                self.schedule(self.now + CHECK_MS, Event::Submit { tx: index, node });
                return Ok(());
            }
            node = up[self.random(up.len() as u64) as usize];
        }
        self.txs[index].submitted_to = Some(node);
        self.txs[index].crashes_at_submit = self.nodes[node].crashes;
        let tx = self.txs[index].tx.clone();
        self.feed(node, Input::SubmitTransaction(tx))
    }

    fn end_workload(&mut self) -> Result<(), SimFailure> {
        self.workload_over = true;
        self.heal()?;
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
                self.nodes[*n].engine.as_ref().is_some_and(|e| {
                    matches!(
                        e.tx_status(&id),
                        TxStatus::Accepted { .. } | TxStatus::Pending
                    )
                })
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

    fn feed(&mut self, node: usize, input: Input) -> Result<(), SimFailure> {
        let Some(engine) = self.nodes[node].engine.as_mut() else {
            return Ok(());
        };
        let mut out = Vec::new();
        engine.handle(input, &mut out);
        if self.nodes[node].crash_armed {
            // A crash before the batch's commit: none of its persists are
            // stored and none of its messages (which may depend on them)
            // are sent. The relay commits a batch atomically (one redb
            // transaction), so this is the only torn batch there is.
            self.nodes[node].crash_armed = false;
            self.torn_batches += 1;
            self.record(node, "crash in batch", &[]);
            self.crash(node);
            return Ok(());
        }
        self.observe(node);
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
        self.check_node(node)?;
        self.schedule_wake(node);
        Ok(())
    }

    /// Schedules the relay's next tick at its engine's deadline (at most
    /// [`MAX_WAKE_MS`] away, at least 1 ms), unless one is due sooner.
    fn schedule_wake(&mut self, node: usize) {
        let Some(engine) = self.nodes[node].engine.as_ref() else {
            return;
        };
        let wake = engine
            .next_deadline()
            .min(self.now + MAX_WAKE_MS)
            .max(self.now + 1);
        if self.nodes[node].tick_at.is_none_or(|at| wake < at) {
            self.nodes[node].tick_at = Some(wake);
            self.schedule(wake, Event::Tick { node });
        }
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
        self.execute_checkpoints(node, out)?;
        self.split_locks(node);
        Ok(())
    }

    fn execute_checkpoints(
        &mut self,
        node: usize,
        outputs: Vec<CheckpointOutput>,
    ) -> Result<(), SimFailure> {
        if self.nodes[node].byzantine.is_some() {
            return self.execute_byzantine_checkpoints(node, outputs);
        }
        for output in outputs {
            match output {
                CheckpointOutput::Persist(CheckpointPersist::Signed(lock)) => {
                    let (number, header_id) = (lock.number, lock.header_id);
                    let mut data = number.to_le_bytes().to_vec();
                    data.extend_from_slice(&header_id.0);
                    data.extend_from_slice(&lock.round.to_le_bytes());
                    data.extend_from_slice(&lock.pol_round.to_le_bytes());
                    self.record(node, "checkpoint persist signed", &data);
                    // The lock rules: precommit rounds never go back, and a
                    // lock moves to another header only on a newer proof of
                    // lock (which also forbids two headers precommitted in
                    // one round: a precommit's proof is of its own round).
                    if let Some(old) = self.nodes[node].store.signed_lock.as_ref() {
                        if old.number == number
                            && (lock.round < old.round
                                || (old.header_id != header_id && lock.pol_round <= old.pol_round))
                        {
                            return Err(self.fail(
                                FailureKind::CheckpointLock,
                                format!(
                                    "relay {node} broke its lock on checkpoint {number}: header {} (precommit round {}, proof round {}) then header {header_id} (precommit round {}, proof round {})",
                                    old.header_id, old.round, old.pol_round, lock.round, lock.pol_round
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
                    n.store.signed_lock = Some(*lock);
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
                CheckpointOutput::SendStored { to, number } => {
                    // Older than what the checkpointer keeps: from the store.
                    let stored = usize::try_from(number)
                        .ok()
                        .and_then(|n| n.checked_sub(1))
                        .and_then(|i| self.nodes[node].store.certified.get(i));
                    let Some(stored) = stored else {
                        return Err(self.fail(
                            FailureKind::Resource,
                            format!("relay {node} was asked to send checkpoint {number} it never stored"),
                        ));
                    };
                    self.stored_checkpoint_answers += 1;
                    let bytes = Arc::new(stored.to_message().encode());
                    self.record(node, &format!("checkpoint send {to}"), &bytes);
                    self.send(node, to.0 as usize, bytes);
                }
                CheckpointOutput::Certified { number, .. } => {
                    self.record(node, "checkpoint certified", &number.to_le_bytes());
                    self.check_certified(node, number)?;
                    self.settle_covered(node, number)?;
                }
            }
        }
        Ok(())
    }

    /// Like the relay's driver: the vertices a certified checkpoint covers
    /// are stored (their `Persist::Accepted` ran before the checkpointer
    /// saw them accepted), so the engine settles them. Settling is local
    /// bookkeeping: it must produce no output.
    fn settle_covered(&mut self, node: usize, number: u64) -> Result<(), SimFailure> {
        let n = &mut self.nodes[node];
        let (Some(engine), Some(checkpointer)) = (n.engine.as_mut(), n.checkpointer.as_ref())
        else {
            return Ok(());
        };
        let vertices = checkpointer
            .covered_vertices(number)
            .map(<[VertexId]>::to_vec)
            .unwrap_or_default();
        let mut out = Vec::new();
        engine.handle(Input::Covered { vertices }, &mut out);
        if !out.is_empty() {
            return Err(self.fail(
                FailureKind::Resource,
                format!("relay {node}: settling checkpoint {number} produced {out:?}"),
            ));
        }
        Ok(())
    }

    fn execute(&mut self, node: usize, outputs: Vec<Output>) -> Result<(), SimFailure> {
        let honest = self.nodes[node].byzantine.is_none();
        for output in outputs {
            match output {
                Output::Send { to, message } => {
                    let bytes = Arc::new(message.encode());
                    self.record(node, &format!("send {to}"), &bytes);
                    let to = to.0 as usize;
                    let unreachable = to < self.nodes.len()
                        && to != node
                        && (self.nodes[to].engine.is_none() || self.partitioned(node, to));
                    if unreachable {
                        // No live link: the relay's driver tells its engine
                        // at once (a query then counts as an empty answer).
                        self.messages_lost += 1;
                        self.undeliverable += 1;
                        self.schedule(
                            self.now + UNDELIVERABLE_MS,
                            Event::Undeliverable { node, to, message },
                        );
                    } else {
                        self.send(node, to, bytes);
                    }
                }
                Output::SendAncestors {
                    to,
                    request_id,
                    vertices,
                } => {
                    // Settled vertices come from the relay's store.
                    let store = &self.nodes[node].store;
                    let vertices: Option<Vec<Arc<[u8]>>> = vertices
                        .into_iter()
                        .map(|v| match v {
                            AncestorVertex::Bytes(bytes) => Some(bytes),
                            AncestorVertex::Stored(id) => store.accepted_by_id.get(&id).cloned(),
                        })
                        .collect();
                    let Some(vertices) = vertices else {
                        return Err(self.fail(
                            FailureKind::Resource,
                            format!("relay {node} was asked for a settled vertex it never stored"),
                        ));
                    };
                    self.stored_ancestor_answers += 1;
                    let message = Message::Ancestors {
                        request_id,
                        vertices,
                    };
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
                    if let Persist::Processing { id, .. } = &persist {
                        if honest {
                            self.check_byzantine_stored(node, *id)?;
                        }
                    }
                    let store = &mut self.nodes[node].store;
                    let (what, id) = match persist {
                        Persist::Processing { id, bytes } => {
                            store.processing.insert(id, bytes);
                            ("persist processing", id)
                        }
                        Persist::Accepted { id, bytes, .. } => {
                            store.processing.remove(&id);
                            store.accepted_by_id.insert(id, bytes.clone());
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
                            self.check_vertex_order(node, id)?;
                            self.check_accepted_copies(node, id)?;
                        }
                        Output::VertexRejected { id } if honest => {
                            self.check_byzantine_stored(node, id)?;
                        }
                        _ => {}
                    }
                }
            }
        }
        Ok(())
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
        keep_certified: SIM_CERTIFIED_IN_MEMORY,
    }
}
