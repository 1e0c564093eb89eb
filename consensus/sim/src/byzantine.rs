//! Byzantine relays. Each runs a real engine (so it knows the DAG and can
//! sign vertices that honest relays accept) and then lies with its outputs:
//! it equivocates (two conflicting vertices, one to each half of the
//! network), votes for both sides of its conflicts or for a different side to
//! each querier, withholds answers and vertices, and floods junk.
//!
//! A run draws each Byzantine relay's [`ByzantinePlan`] from its seed, or a
//! scenario pins one ([`crate::Scenario::byzantine_plan`]): that is the API
//! an adversarial suite outside this crate uses, by building its own
//! [`crate::Scenario`] and calling [`crate::run`]. Pinned plans may also use
//! the adaptive attacks, which observe the honest relays' current
//! preferences (the adversary is omniscient about honest state, as a
//! worst case): vote balancing ([`ChitsMode::Balance`]), bridging a
//! partition ([`ByzantinePlan::bridge`]), crashing honest relays while its
//! conflict is live ([`TimedCrashes`]), flooding free vertices and unfunded
//! transfers, and chit starvation ([`ByzantinePlan::wide_vertices`]).

pub use crate::byzantine_checkpoints::CheckpointMode;
use crate::network::Event;
use crate::report::FailureKind;
use crate::workload::{address, keys, transfer};
use crate::{SimFailure, Simulation};
use rand_chacha::rand_core::RngCore;
use rand_chacha::ChaCha20Rng;
use ruv_consensus::message::{Message, MAX_CHITS};
use ruv_consensus::vertex::Vertex;
use ruv_consensus::vertex::{ValidatorIndex, VertexContent, VertexId};
use ruv_consensus::TxStatus;
use ruv_consensus::{Engine, Input, Output};
use ruv_protocol::crypto::{context, CryptoError};
use ruv_protocol::tx::Transfer;
use ruv_protocol::{Address, Genesis, Signature, SignedTransfer, SigningKey, TxId};
use std::sync::Arc;
use std::sync::OnceLock;

/// How a Byzantine relay answers queries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChitsMode {
    /// Like an honest relay.
    Honest,
    /// Never answers (polls that sample it time out without its votes).
    Withhold,
    /// Votes for both sides of every conflict it created.
    Both,
    /// Votes for one side to even-numbered queriers, the other side to odd
    /// ones (with a bridged explicit partition: one side per partition side).
    Split,
    /// Vote balancing: observes which side of each of its conflicts the
    /// honest relays prefer (by stake) and votes for the weaker side to
    /// everyone, to keep the conflict metastable; to each side's own
    /// supporters when the honest stake is split evenly.
    Balance,
}

/// Crashes of honest relays timed to a live conflict: `delay_ms` after each
/// equivocation, the adversary crashes up to `count` honest relays that
/// currently prefer the leading side of that conflict (the ones whose
/// preference would have to be rebuilt), and restarts them `down_ms` later.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimedCrashes {
    /// After each equivocation, wait this long.
    pub delay_ms: u64,
    /// Honest relays crashed each time, at most.
    pub count: usize,
    /// They come back after this long.
    pub down_ms: u64,
}

/// What one Byzantine relay does in a run: drawn from the run's seed, or
/// pinned by the scenario. The fields after `flood` are never drawn (a drawn
/// plan leaves them off); only pinned plans use them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ByzantinePlan {
    /// Query answers.
    pub chits: ChitsMode,
    /// Never answers ancestor requests.
    pub withhold_ancestors: bool,
    /// Conflicting vertex pairs it issues.
    pub equivocations: u32,
    /// Sends junk every 100 ms.
    pub flood: bool,
    /// Its links cross the scenario's explicit partition (it reaches both
    /// sides), and each side gets its own vertex of every equivocation.
    pub bridge: bool,
    /// Crashes honest relays while its conflict is live.
    pub timed_crashes: Option<TimedCrashes>,
    /// Every 100 ms, this many "free" vertices: signed, on the frontier,
    /// holding only transfers the network already accepted.
    pub free_vertices: u32,
    /// Every 100 ms, this many vertices without transactions on its
    /// frontier (junk merges: of decided tips, or of undecided ones),
    /// sent to every honest relay.
    pub junk_vertices: u32,
    /// Every 100 ms, this many validly signed transfers from unfunded
    /// accounts, to random honest relays (a mempool flood).
    pub unfunded_transfers: u32,
    /// Chit starvation: at each equivocation it also issues this many
    /// conflict-free vertices at once on the same parents (each a funded
    /// transfer of its own), so honest relays hold more preferred tips than
    /// one answer may carry ([`MAX_CHITS`]), and it answers every query with
    /// its own vertices only.
    pub wide_vertices: u32,
    /// What it does in checkpoint agreement ([`CheckpointMode::Silent`]:
    /// it runs no checkpointer, as drawn plans).
    pub checkpoints: CheckpointMode,
    /// Bait-and-poison double spends it issues.
    pub bait_and_poison: Option<BaitAndPoison>,
}

/// Bait and poison: the Byzantine relay issues a vertex holding a transfer
/// of its own to every honest relay (the bait), waits until honest relays
/// hold vertices built on it (at most `max_wait_ms`), then issues a vertex
/// double spending that transfer on parents that exclude the bait, to
/// every honest relay (the poison): every honest vertex built on the bait
/// now descends from one side of a conflict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaitAndPoison {
    /// Baits it issues (one account each), spread over the workload.
    pub count: u32,
    /// It poisons once honest vertices built on the bait, or after this long.
    pub max_wait_ms: u64,
}

impl ByzantinePlan {
    /// A plan that does nothing beyond running an honest engine (a base to
    /// pin adversaries on: `ByzantinePlan { chits: ChitsMode::Balance,
    /// ..ByzantinePlan::quiet() }`).
    pub fn quiet() -> Self {
        Self {
            chits: ChitsMode::Honest,
            withhold_ancestors: false,
            equivocations: 0,
            flood: false,
            bridge: false,
            timed_crashes: None,
            free_vertices: 0,
            junk_vertices: 0,
            unfunded_transfers: 0,
            wide_vertices: 0,
            checkpoints: CheckpointMode::Silent,
            bait_and_poison: None,
        }
    }
}

impl ByzantinePlan {
    /// A random plan.
    pub fn random(rng: &mut ChaCha20Rng) -> Self {
        let chits = match rng.next_u32() % 4 {
            0 => ChitsMode::Honest,
            1 => ChitsMode::Withhold,
            2 => ChitsMode::Both,
            _ => ChitsMode::Split,
        };
        Self {
            chits,
            withhold_ancestors: rng.next_u32() % 2 == 0,
            equivocations: 1 + rng.next_u32() % 2,
            flood: rng.next_u32() % 2 == 0,
            ..Self::quiet()
        }
    }
}

/// A Byzantine relay's state beyond its engine.
#[derive(Debug)]
pub struct Byzantine {
    /// Its plan.
    pub plan: ByzantinePlan,
    me: ValidatorIndex,
    /// Conflicting vertex pairs it issued.
    sides: Vec<(VertexId, VertexId)>,
    /// The transfers of each pair in `sides`.
    pub(crate) side_txs: Vec<(TxId, TxId)>,
    /// Observed before each batch of outputs (adaptive plans only): honest
    /// stake currently preferring each side of each pair in `sides`.
    pub(crate) leaning: Vec<(u128, u128)>,
    /// Observed: the explicit partition's sides while one is active (bridge
    /// plans only).
    pub(crate) partition_side: Option<Vec<bool>>,
    /// Its chit-starvation vertices.
    wide: Vec<VertexId>,
    /// Its own double-spend accounts: `first_account..first_account + count`.
    first_account: usize,
    accounts_used: usize,
    /// Flood accounts used for chit-starvation vertices.
    flood_accounts_used: usize,
    /// Its baits, in issue order ([`ByzantinePlan::bait_and_poison`]).
    baits: Vec<Bait>,
    /// Poisons sent.
    pub(crate) poisoned: u32,
    /// Of those, sent once an honest vertex had built on the bait.
    pub(crate) poisoned_built_on: u32,
    /// Its checkpoint attack ([`ByzantinePlan::checkpoints`]).
    pub(crate) checkpoint_attack: crate::byzantine_checkpoints::CheckpointAttack,
}

/// A bait just issued: its transfer and the poison's, the bait's index and
/// its message.
pub(crate) type Baited = ([Arc<SignedTransfer>; 2], usize, Arc<Vec<u8>>);

/// A bait waiting for its poison.
#[derive(Debug)]
struct Bait {
    vertex: VertexId,
    /// The bait's parents: the poison is signed on them too.
    parents: Vec<VertexId>,
    /// The conflicting transfer, signed in advance.
    poison: Arc<SignedTransfer>,
    issued_at: u64,
    done: bool,
}

/// One equivocation: the two conflicting transfers and who gets which vertex.
pub struct Equivocation {
    /// The two conflicting transfers.
    pub txs: [Arc<SignedTransfer>; 2],
    /// The transfers of its chit-starvation vertices.
    pub wide_txs: Vec<Arc<SignedTransfer>>,
    /// (recipient, message bytes).
    pub sends: Vec<(usize, Arc<Vec<u8>>)>,
}

/// Chit-starvation vertices: their transfers and their messages.
type WideVertices = (Vec<Arc<SignedTransfer>>, Vec<Arc<Vec<u8>>>);

/// How often a bait-and-poison adversary looks whether honest vertices
/// built on its bait.
const BAIT_CHECK_MS: u64 = 10;

/// Accounts each Byzantine relay may double spend from.
const ACCOUNTS_PER_RELAY: usize = 4;

impl Byzantine {
    /// A Byzantine relay at validator `index`, the `ordinal`-th Byzantine one.
    pub fn new(plan: ByzantinePlan, index: usize, ordinal: usize) -> Self {
        Self {
            plan,
            me: ValidatorIndex(index as u16),
            sides: Vec::new(),
            side_txs: Vec::new(),
            leaning: Vec::new(),
            partition_side: None,
            wide: Vec::new(),
            first_account: ordinal * ACCOUNTS_PER_RELAY,
            accounts_used: 0,
            flood_accounts_used: 0,
            baits: Vec::new(),
            poisoned: 0,
            poisoned_built_on: 0,
            checkpoint_attack: Default::default(),
        }
    }

    /// Rewrites the engine's outputs according to the plan.
    pub fn filter(&self, outputs: Vec<Output>) -> Vec<Output> {
        outputs
            .into_iter()
            .filter_map(|output| match output {
                Output::Send {
                    to,
                    message:
                        Message::Chits {
                            request_id,
                            preferred,
                            accepted,
                        },
                } => {
                    let preferred = match self.plan.chits {
                        _ if !self.wide.is_empty() => {
                            // Chit starvation: only its own conflict-free tips.
                            let mut own = self.wide.clone();
                            own.truncate(MAX_CHITS);
                            own
                        }
                        ChitsMode::Honest => preferred,
                        ChitsMode::Withhold => return None,
                        ChitsMode::Both => {
                            let mut all: Vec<VertexId> =
                                self.sides.iter().flat_map(|(a, b)| [*a, *b]).collect();
                            all.extend(preferred);
                            all.truncate(MAX_CHITS);
                            all
                        }
                        ChitsMode::Split | ChitsMode::Balance => {
                            let by_querier = match &self.partition_side {
                                Some(side) => !side.get(to.0 as usize).copied().unwrap_or(false),
                                None => to.0 % 2 == 0,
                            };
                            let lean = |i: usize| self.leaning.get(i).copied().unwrap_or((0, 0));
                            let pick_first = |i: usize| match self.plan.chits {
                                ChitsMode::Balance => {
                                    let (a, b) = lean(i);
                                    if a == b {
                                        by_querier
                                    } else {
                                        a < b
                                    }
                                }
                                _ => by_querier,
                            };
                            let (chosen, other): (Vec<VertexId>, Vec<VertexId>) = self
                                .sides
                                .iter()
                                .enumerate()
                                .map(|(i, (a, b))| if pick_first(i) { (*a, *b) } else { (*b, *a) })
                                .unzip();
                            let mut votes = chosen;
                            votes.extend(preferred.into_iter().filter(|id| !other.contains(id)));
                            votes.truncate(MAX_CHITS);
                            votes
                        }
                    };
                    // When it lies about votes it also claims to have accepted
                    // what it votes for (a lone liar stays below half the stake).
                    let accepted = match self.plan.chits {
                        ChitsMode::Both | ChitsMode::Split | ChitsMode::Balance => {
                            let mut claims = preferred.clone();
                            claims.extend(accepted);
                            claims.truncate(MAX_CHITS);
                            claims
                        }
                        _ => accepted,
                    };
                    Some(Output::Send {
                        to,
                        message: Message::Chits {
                            request_id,
                            preferred,
                            accepted,
                        },
                    })
                }
                Output::Send {
                    message: Message::Ancestors { .. },
                    ..
                } if self.plan.withhold_ancestors => None,
                Output::Broadcast {
                    message: Message::Vertex(_),
                } if self.plan.chits == ChitsMode::Withhold => None,
                other => Some(other),
            })
            .collect()
    }

    /// Signs a vertex holding `txs` on its virtuous frontier.
    fn sign_vertex(
        &self,
        engine: &Engine,
        genesis: &Genesis,
        txs: Vec<Arc<SignedTransfer>>,
        rng: &mut ChaCha20Rng,
    ) -> Result<Vertex, CryptoError> {
        let parents: Vec<VertexId> = engine
            .virtuous_frontier()
            .iter()
            .take(engine.params().parents as usize)
            .copied()
            .collect();
        self.sign_vertex_on(engine, genesis, parents, txs, rng)
    }

    /// Signs a vertex holding `txs` on `parents`.
    fn sign_vertex_on(
        &self,
        engine: &Engine,
        genesis: &Genesis,
        parents: Vec<VertexId>,
        txs: Vec<Arc<SignedTransfer>>,
        rng: &mut ChaCha20Rng,
    ) -> Result<Vertex, CryptoError> {
        let height = parents
            .iter()
            .filter_map(|p| engine.vertex_height(p))
            .max()
            .map_or(0, |h| h + 1);
        let mut randomness = [0u8; 32];
        rng.fill_bytes(&mut randomness);
        VertexContent {
            chain_id: genesis.chain_id.clone(),
            issuer: self.me,
            height,
            parents,
            txs,
        }
        .sign(&keys().validators[self.me.0 as usize], randomness)
        .map_err(|_| CryptoError::SigningFailed)
    }

    /// Chit starvation: `plan.wide_vertices` conflict-free vertices on the
    /// same parents, each a funded transfer from a flood account, fed to its
    /// own engine; returns their messages.
    fn wide_vertices(
        &mut self,
        engine: &mut Engine,
        genesis: &Genesis,
        rng: &mut ChaCha20Rng,
    ) -> Result<WideVertices, CryptoError> {
        let keys = keys();
        let mut messages = Vec::new();
        let mut txs = Vec::new();
        for _ in 0..self.plan.wide_vertices {
            let Some(account) = keys.flood.get(self.flood_accounts_used) else {
                break;
            };
            self.flood_accounts_used += 1;
            let tx = transfer(
                genesis,
                account,
                Address::from_bytes([0xdd; 32]),
                1_000,
                1,
                rng,
            )?;
            txs.push(tx.clone());
            let vertex = self.sign_vertex(engine, genesis, vec![tx], rng)?;
            self.wide.push(vertex.id());
            messages.push(Arc::new(Message::Vertex(vertex.bytes().clone()).encode()));
        }
        let mut ignored = Vec::new();
        for bytes in &messages {
            engine.handle(
                Input::PeerMessage {
                    from: self.me,
                    bytes: bytes.to_vec(),
                },
                &mut ignored,
            );
        }
        Ok((txs, messages))
    }

    /// A bait: a vertex on its frontier holding a transfer from one of its
    /// accounts (fed to its own engine); the conflicting transfer is signed
    /// now and kept for the poison. Returns both transfers, the bait's
    /// index and its message, or `None` once its accounts are used up.
    pub(crate) fn bait(
        &mut self,
        engine: &mut Engine,
        genesis: &Genesis,
        now: u64,
        rng: &mut ChaCha20Rng,
    ) -> Result<Option<Baited>, CryptoError> {
        let keys = keys();
        if self.accounts_used >= ACCOUNTS_PER_RELAY {
            return Ok(None);
        }
        let Some(account) = keys
            .byzantine_relay_accounts
            .get(self.first_account + self.accounts_used)
        else {
            return Ok(None);
        };
        self.accounts_used += 1;
        let payee =
            address(&keys.honest[(rng.next_u32() as usize) % crate::workload::MAX_ACCOUNTS]);
        let bait_tx = transfer(genesis, account, payee, 1_000_000, 1, rng)?;
        let poison = transfer(
            genesis,
            account,
            Address::from_bytes([0xbc; 32]),
            2_000_000,
            1,
            rng,
        )?;
        let vertex = self.sign_vertex(engine, genesis, vec![bait_tx.clone()], rng)?;
        let bytes = Arc::new(Message::Vertex(vertex.bytes().clone()).encode());
        let mut ignored = Vec::new();
        engine.handle(
            Input::PeerMessage {
                from: self.me,
                bytes: bytes.to_vec(),
            },
            &mut ignored,
        );
        self.baits.push(Bait {
            vertex: vertex.id(),
            parents: vertex.parents().to_vec(),
            poison: poison.clone(),
            issued_at: now,
            done: false,
        });
        Ok(Some(([bait_tx, poison], self.baits.len() - 1, bytes)))
    }

    /// The poison for bait `index`: a vertex on the bait's own parents
    /// double spending its transfer (fed to its own engine), or `None` if
    /// sent already.
    pub(crate) fn poison(
        &mut self,
        index: usize,
        engine: &mut Engine,
        genesis: &Genesis,
        rng: &mut ChaCha20Rng,
    ) -> Result<Option<Arc<Vec<u8>>>, CryptoError> {
        let Some(bait) = self.baits.get(index) else {
            return Ok(None);
        };
        if bait.done {
            return Ok(None);
        }
        let vertex = self.sign_vertex_on(
            engine,
            genesis,
            bait.parents.clone(),
            vec![bait.poison.clone()],
            rng,
        )?;
        let bytes = Arc::new(Message::Vertex(vertex.bytes().clone()).encode());
        let mut ignored = Vec::new();
        engine.handle(
            Input::PeerMessage {
                from: self.me,
                bytes: bytes.to_vec(),
            },
            &mut ignored,
        );
        if let Some(bait) = self.baits.get_mut(index) {
            bait.done = true;
        }
        self.poisoned += 1;
        Ok(Some(bytes))
    }

    /// A free vertex: signed on its frontier, holding only `txs`, which the
    /// network already accepted.
    pub(crate) fn free_vertex(
        &self,
        engine: &Engine,
        genesis: &Genesis,
        txs: Vec<Arc<SignedTransfer>>,
        rng: &mut ChaCha20Rng,
    ) -> Result<Vec<u8>, CryptoError> {
        let vertex = self.sign_vertex(engine, genesis, txs, rng)?;
        Ok(Message::Vertex(vertex.bytes().clone()).encode())
    }

    /// A junk vertex: no transactions, on (up to genesis `parents` of) its
    /// frontier; `None` if the frontier has fewer than the two tips a
    /// vertex without transactions must name.
    pub(crate) fn junk_vertex(
        &self,
        engine: &Engine,
        genesis: &Genesis,
        rng: &mut ChaCha20Rng,
    ) -> Result<Option<Vec<u8>>, CryptoError> {
        if engine.virtuous_frontier().len() < 2 || engine.params().parents < 2 {
            return Ok(None);
        }
        let vertex = self.sign_vertex(engine, genesis, Vec::new(), rng)?;
        Ok(Some(Message::Vertex(vertex.bytes().clone()).encode()))
    }

    /// Signs two vertices on the current frontier, each double spending the
    /// same nonce of one of its accounts, and sends one to each half of the
    /// honest relays (to each side of `sides`, the explicit partition, when
    /// it bridges one). Both are fed to its own engine so it can serve them.
    /// With `wide_vertices`, the chit-starvation vertices go to everyone too.
    pub fn equivocate(
        &mut self,
        engine: &mut Engine,
        genesis: &Genesis,
        honest: &[usize],
        sides: Option<&[bool]>,
        rng: &mut ChaCha20Rng,
    ) -> Result<Option<Equivocation>, CryptoError> {
        if self.accounts_used >= ACCOUNTS_PER_RELAY {
            return Ok(None);
        }
        let keys = keys();
        let Some(account) = keys
            .byzantine_relay_accounts
            .get(self.first_account + self.accounts_used)
        else {
            return Ok(None);
        };
        self.accounts_used += 1;
        let payee_a =
            address(&keys.honest[(rng.next_u32() as usize) % crate::workload::MAX_ACCOUNTS]);
        let payee_b = Address::from_bytes([0xbb; 32]);
        let tx_a = transfer(genesis, account, payee_a, 1_000_000, 1, rng)?;
        let tx_b = transfer(genesis, account, payee_b, 2_000_000, 1, rng)?;
        let vertex_a = self.sign_vertex(engine, genesis, vec![tx_a.clone()], rng)?;
        let vertex_b = self.sign_vertex(engine, genesis, vec![tx_b.clone()], rng)?;
        self.sides.push((vertex_a.id(), vertex_b.id()));
        self.side_txs.push((tx_a.id(), tx_b.id()));
        let bytes_a = Arc::new(Message::Vertex(vertex_a.bytes().clone()).encode());
        let bytes_b = Arc::new(Message::Vertex(vertex_b.bytes().clone()).encode());
        let mut ignored = Vec::new();
        for bytes in [&bytes_a, &bytes_b] {
            engine.handle(
                Input::PeerMessage {
                    from: self.me,
                    bytes: bytes.to_vec(),
                },
                &mut ignored,
            );
        }
        let (wide_txs, wide) = self.wide_vertices(engine, genesis, rng)?;
        let mut sends: Vec<(usize, Arc<Vec<u8>>)> = honest
            .iter()
            .enumerate()
            .map(|(i, node)| {
                let first = match sides {
                    Some(side) => !side.get(*node).copied().unwrap_or(false),
                    None => i % 2 == 0,
                };
                (
                    *node,
                    if first {
                        bytes_a.clone()
                    } else {
                        bytes_b.clone()
                    },
                )
            })
            .collect();
        for bytes in wide {
            sends.extend(honest.iter().map(|node| (*node, bytes.clone())));
        }
        Ok(Some(Equivocation {
            txs: [tx_a, tx_b],
            wide_txs,
            sends,
        }))
    }

    /// A few junk messages for `target`: garbage bytes, bad versions, forged
    /// or unknown-issuer vertices, unsolicited answers, request spam, and a
    /// transaction with a broken signature.
    pub fn flood(&self, engine: &Engine, genesis: &Genesis, rng: &mut ChaCha20Rng) -> Vec<Vec<u8>> {
        let random_id = |rng: &mut ChaCha20Rng| {
            let mut id = [0u8; 32];
            rng.fill_bytes(&mut id);
            VertexId(id)
        };
        let mut messages = Vec::new();
        for _ in 0..3 {
            let message = match rng.next_u32() % 8 {
                0 => {
                    let mut junk = vec![0u8; (rng.next_u32() % 300) as usize];
                    rng.fill_bytes(&mut junk);
                    junk
                }
                1 => vec![9, 1, 2, 3],
                2 => Message::Chits {
                    request_id: rng.next_u32(),
                    preferred: vec![random_id(rng)],
                    accepted: vec![random_id(rng)],
                }
                .encode(),
                3 => Message::GetAncestors {
                    request_id: rng.next_u32(),
                    ids: vec![random_id(rng), random_id(rng)],
                }
                .encode(),
                4 => Message::Ancestors {
                    request_id: rng.next_u32(),
                    vertices: vec![vec![1u8, 2, 3].into()],
                }
                .encode(),
                5 => Message::Query {
                    request_id: rng.next_u32(),
                }
                .encode(),
                6 => {
                    // A real vertex with one signature byte changed: decodes, fails verification.
                    let known = engine
                        .preferred_frontier()
                        .first()
                        .and_then(|id| engine.vertex(id));
                    match known {
                        Some(vertex) => {
                            let mut bytes = vertex.bytes().to_vec();
                            if let Some(last) = bytes.last_mut() {
                                *last ^= 0x5a;
                            }
                            Message::Vertex(bytes.into()).encode()
                        }
                        None => Message::Query { request_id: 0 }.encode(),
                    }
                }
                _ => {
                    // A transfer whose signature does not match its content.
                    let from = &keys().double_spenders[0];
                    let mut tx = Transfer {
                        chain_id: genesis.chain_id.clone(),
                        from: address(from),
                        to: Address::from_bytes([0xcc; 32]),
                        amount: 1,
                        fee: 1_000_000,
                        nonce: 1,
                        memo: String::new(),
                        public_key: from.public_key().clone(),
                    };
                    tx.amount = 2;
                    match forged_signature(from) {
                        Some(signature) => Message::Transaction(Arc::new(SignedTransfer {
                            transfer: tx,
                            signature,
                        }))
                        .encode(),
                        None => Message::Query { request_id: 0 }.encode(),
                    }
                }
            };
            messages.push(message);
        }
        messages
    }
}

/// A valid signature over something else (cached: signing costs time).
fn forged_signature(key: &SigningKey) -> Option<Signature> {
    static SIGNATURE: OnceLock<Option<Signature>> = OnceLock::new();
    SIGNATURE
        .get_or_init(|| {
            key.sign(b"something else", context::TRANSACTION, [0; 32])
                .ok()
        })
        .clone()
}

impl Simulation<'_> {
    /// Schedules the Byzantine relays' equivocations and floods (the last
    /// draws of the plan). A bridge's equivocations fall inside the
    /// scenario's explicit partition.
    pub(crate) fn plan_attacks(&mut self) {
        let scenario = self.scenario;
        let workload = scenario.workload_ms;
        for node in scenario.byzantine.clone() {
            let plan = self.nodes[node].byzantine.as_ref().map(|b| b.plan.clone());
            let Some(plan) = plan else { continue };
            for _ in 0..plan.equivocations {
                let at = match (&scenario.partition_plan, plan.bridge) {
                    (Some(partition), true) => {
                        partition.start_ms + 100 + self.random(partition.length_ms / 2)
                    }
                    _ => 100 + self.random(workload * 3 / 4),
                };
                self.schedule(at, Event::Equivocate { node });
            }
            if let Some(bait) = &plan.bait_and_poison {
                for _ in 0..bait.count {
                    let at = 100 + self.random(workload * 3 / 4);
                    self.schedule(at, Event::Bait { node });
                }
            }
            if plan.flood
                || plan.free_vertices > 0
                || plan.junk_vertices > 0
                || plan.unfunded_transfers > 0
            {
                let first = self.random(100);
                self.schedule(first, Event::Flood { node });
            }
        }
    }

    /// What an adaptive Byzantine relay observes before it answers: the
    /// honest stake preferring each side of its conflicts, and the explicit
    /// partition's sides while one is active.
    pub(crate) fn observe(&mut self, node: usize) {
        let Some(byzantine) = self.nodes[node].byzantine.as_ref() else {
            return;
        };
        let adaptive = byzantine.plan.chits == ChitsMode::Balance;
        let bridge = byzantine.plan.bridge;
        if !adaptive && !bridge {
            return;
        }
        let leaning = if adaptive {
            byzantine
                .side_txs
                .iter()
                .map(|(a, b)| {
                    (
                        self.honest_stake_preferring(a),
                        self.honest_stake_preferring(b),
                    )
                })
                .collect()
        } else {
            Vec::new()
        };
        let partition_side = if bridge && self.scenario.partition_plan.is_some() {
            self.partition.clone()
        } else {
            None
        };
        if let Some(byzantine) = self.nodes[node].byzantine.as_mut() {
            byzantine.leaning = leaning;
            byzantine.partition_side = partition_side;
        }
    }

    /// Stake of the running honest relays whose conflict set prefers `tx`.
    fn honest_stake_preferring(&self, tx: &TxId) -> u128 {
        self.honest
            .iter()
            .filter(|n| {
                self.nodes[**n]
                    .engine
                    .as_ref()
                    .is_some_and(|e| e.tx_preferred(tx) == Some(true))
            })
            .map(|n| self.scenario.stakes[*n] as u128)
            .sum()
    }

    pub(crate) fn equivocate(&mut self, node: usize) -> Result<(), SimFailure> {
        let honest = self.honest.clone();
        let sides = match self.nodes[node].byzantine.as_ref() {
            Some(b) if b.plan.bridge && self.scenario.partition_plan.is_some() => {
                self.partition.clone()
            }
            _ => None,
        };
        let relay = &mut self.nodes[node];
        let (Some(byzantine), Some(engine)) = (relay.byzantine.as_mut(), relay.engine.as_mut())
        else {
            return Ok(());
        };
        let result = byzantine.equivocate(
            engine,
            &self.genesis,
            &honest,
            sides.as_deref(),
            &mut self.rng,
        );
        let timed_crashes = byzantine.plan.timed_crashes.clone();
        let pair = byzantine.side_txs.len().saturating_sub(1);
        let equivocation = result.map_err(|e| self.fail(FailureKind::Harness, e.to_string()))?;
        let Some(equivocation) = equivocation else {
            return Ok(());
        };
        let [a, b] = equivocation.txs;
        self.conflict_pairs.push([a.id(), b.id()]);
        self.track(a, false);
        self.track(b, false);
        for tx in equivocation.wide_txs {
            self.track(tx, false);
        }
        for (to, bytes) in equivocation.sends {
            self.send(node, to, bytes);
        }
        if let Some(crashes) = timed_crashes {
            self.schedule(
                self.now + crashes.delay_ms,
                Event::TimedCrash { node, pair },
            );
        }
        Ok(())
    }

    /// Bait and poison, first half: the bait goes to every honest relay.
    pub(crate) fn bait(&mut self, node: usize) -> Result<(), SimFailure> {
        let honest = self.honest.clone();
        let now = self.now;
        let relay = &mut self.nodes[node];
        let (Some(byzantine), Some(engine)) = (relay.byzantine.as_mut(), relay.engine.as_mut())
        else {
            return Ok(());
        };
        let baited = byzantine
            .bait(engine, &self.genesis, now, &mut self.rng)
            .map_err(|e| self.fail(FailureKind::Harness, e.to_string()))?;
        let Some(([bait_tx, poison_tx], bait, bytes)) = baited else {
            return Ok(());
        };
        self.conflict_pairs.push([bait_tx.id(), poison_tx.id()]);
        self.track(bait_tx, false);
        self.track(poison_tx, false);
        self.record(node, "bait", &bytes);
        for to in honest {
            self.send(node, to, bytes.clone());
        }
        self.schedule(self.now + BAIT_CHECK_MS, Event::Poison { node, bait });
        Ok(())
    }

    /// Bait and poison, second half: once an honest relay holds a vertex of
    /// another issuer built on the bait (or the plan's wait is over), the
    /// poison goes to every honest relay; else it looks again soon.
    pub(crate) fn poison(&mut self, node: usize, bait: usize) -> Result<(), SimFailure> {
        let Some(byzantine) = self.nodes[node].byzantine.as_ref() else {
            return Ok(());
        };
        let Some(pending) = byzantine.baits.get(bait) else {
            return Ok(());
        };
        let max_wait = byzantine
            .plan
            .bait_and_poison
            .as_ref()
            .map_or(0, |b| b.max_wait_ms);
        let built_on = self.honest.iter().any(|n| {
            self.nodes[*n].engine.as_ref().is_some_and(|engine| {
                engine.preferred_frontier().iter().any(|tip| {
                    engine.vertex_issuer(tip).is_some_and(|issuer| {
                        issuer.0 as usize != node
                            && engine
                                .vertex_parents(tip)
                                .is_some_and(|parents| parents.contains(&pending.vertex))
                    })
                })
            })
        });
        if !built_on && self.now < pending.issued_at + max_wait {
            self.schedule(self.now + BAIT_CHECK_MS, Event::Poison { node, bait });
            return Ok(());
        }
        let honest = self.honest.clone();
        let relay = &mut self.nodes[node];
        let (Some(byzantine), Some(engine)) = (relay.byzantine.as_mut(), relay.engine.as_mut())
        else {
            return Ok(());
        };
        let poisoned = byzantine
            .poison(bait, engine, &self.genesis, &mut self.rng)
            .map_err(|e| self.fail(FailureKind::Harness, e.to_string()))?;
        if let Some(bytes) = poisoned {
            if built_on {
                if let Some(b) = self.nodes[node].byzantine.as_mut() {
                    b.poisoned_built_on += 1;
                }
            }
            self.record(
                node,
                if built_on {
                    "poison (built on)"
                } else {
                    "poison (waited)"
                },
                &bytes,
            );
            for to in honest {
                self.send(node, to, bytes.clone());
            }
        }
        Ok(())
    }

    /// A timed crash: the honest relays preferring the leading side of the
    /// adversary's conflict `pair` (up to `count` of them) crash now and
    /// restart `down_ms` later.
    pub(crate) fn timed_crash(&mut self, node: usize, pair: usize) {
        let Some(byzantine) = self.nodes[node].byzantine.as_ref() else {
            return;
        };
        let (Some(crashes), Some((a, b))) = (
            byzantine.plan.timed_crashes.clone(),
            byzantine.side_txs.get(pair).copied(),
        ) else {
            return;
        };
        let leading = if self.honest_stake_preferring(&a) >= self.honest_stake_preferring(&b) {
            a
        } else {
            b
        };
        let victims: Vec<usize> = self
            .honest
            .iter()
            .copied()
            .filter(|n| {
                self.nodes[*n]
                    .engine
                    .as_ref()
                    .is_some_and(|e| e.tx_preferred(&leading) == Some(true))
            })
            .take(crashes.count)
            .collect();
        for victim in victims {
            self.crash(victim);
            self.schedule(self.now + crashes.down_ms, Event::Restart { node: victim });
        }
    }

    pub(crate) fn flood(&mut self, node: usize) -> Result<(), SimFailure> {
        let (junk, free, merges, unfunded) = {
            let (Some(byzantine), Some(engine)) = (
                self.nodes[node].byzantine.as_ref(),
                self.nodes[node].engine.as_ref(),
            ) else {
                return Ok(());
            };
            let junk = if byzantine.plan.flood {
                byzantine.flood(engine, &self.genesis, &mut self.rng)
            } else {
                Vec::new()
            };
            (
                junk,
                byzantine.plan.free_vertices,
                byzantine.plan.junk_vertices,
                byzantine.plan.unfunded_transfers,
            )
        };
        for bytes in junk {
            let to = self.random_honest();
            self.send(node, to, Arc::new(bytes));
        }
        self.flood_free_vertices(node, free)?;
        self.flood_junk_vertices(node, merges)?;
        self.flood_unfunded(node, unfunded)
    }

    /// Free vertices: each holds one transfer its engine already accepted,
    /// re-wrapped on its frontier, sent to every honest relay.
    fn flood_free_vertices(&mut self, node: usize, count: u32) -> Result<(), SimFailure> {
        if count == 0 {
            return Ok(());
        }
        let accepted: Vec<Arc<SignedTransfer>> = {
            let Some(engine) = self.nodes[node].engine.as_ref() else {
                return Ok(());
            };
            self.txs
                .iter()
                .filter(|t| matches!(engine.tx_status(&t.tx.id()), TxStatus::Accepted { .. }))
                .map(|t| t.tx.clone())
                .collect()
        };
        if accepted.is_empty() {
            return Ok(());
        }
        for _ in 0..count {
            let pick = accepted[self.random(accepted.len() as u64) as usize].clone();
            let relay = &self.nodes[node];
            let (Some(byzantine), Some(engine)) = (relay.byzantine.as_ref(), relay.engine.as_ref())
            else {
                return Ok(());
            };
            let bytes = byzantine
                .free_vertex(engine, &self.genesis, vec![pick], &mut self.rng)
                .map_err(|e| self.fail(FailureKind::Harness, e.to_string()))?;
            self.free_vertices_sent += 1;
            let bytes = Arc::new(bytes);
            for to in self.honest.clone() {
                self.send(node, to, bytes.clone());
            }
        }
        Ok(())
    }

    /// Junk vertices without transactions, each sent to every honest relay.
    fn flood_junk_vertices(&mut self, node: usize, count: u32) -> Result<(), SimFailure> {
        for _ in 0..count {
            let relay = &self.nodes[node];
            let (Some(byzantine), Some(engine)) = (relay.byzantine.as_ref(), relay.engine.as_ref())
            else {
                return Ok(());
            };
            let Some(bytes) = byzantine
                .junk_vertex(engine, &self.genesis, &mut self.rng)
                .map_err(|e| self.fail(FailureKind::Harness, e.to_string()))?
            else {
                return Ok(());
            };
            self.free_vertices_sent += 1;
            let bytes = Arc::new(bytes);
            for to in self.honest.clone() {
                self.send(node, to, bytes.clone());
            }
        }
        Ok(())
    }

    /// A mempool flood: validly signed transfers from accounts genesis never
    /// funded, each to one random honest relay.
    fn flood_unfunded(&mut self, node: usize, count: u32) -> Result<(), SimFailure> {
        let keys = keys();
        for _ in 0..count {
            let from = &keys.unfunded[self.random(keys.unfunded.len() as u64) as usize];
            let nonce = 1 + self.random(3);
            let to = address(&keys.honest[0]);
            let tx = transfer(&self.genesis, from, to, 1_000, nonce, &mut self.rng)
                .map_err(|e| self.fail(FailureKind::Harness, e.to_string()))?;
            let bytes = Arc::new(Message::Transaction(tx).encode());
            let target = self.random_honest();
            self.send(node, target, bytes);
        }
        Ok(())
    }
}
