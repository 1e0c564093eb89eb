//! Byzantine relays. Each runs a real engine (so it knows the DAG and can
//! sign vertices that honest relays accept) and then lies with its outputs:
//! it equivocates (two conflicting vertices, one to each half of the
//! network), votes for both sides of its conflicts or for a different side to
//! each querier, withholds answers and vertices, and floods junk.

use crate::network::Event;
use crate::report::FailureKind;
use crate::workload::{address, keys, transfer};
use crate::{SimFailure, Simulation};
use rand_chacha::rand_core::RngCore;
use rand_chacha::ChaCha20Rng;
use ruv_consensus::message::{Message, MAX_CHITS};
use ruv_consensus::vertex::{ValidatorIndex, VertexContent, VertexId};
use ruv_consensus::{Engine, Input, Output};
use ruv_protocol::crypto::{context, CryptoError};
use ruv_protocol::tx::Transfer;
use ruv_protocol::{Address, Genesis, Signature, SignedTransfer, SigningKey};
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
    /// Votes for one side to even-numbered queriers, the other side to odd ones.
    Split,
}

/// What one Byzantine relay does in a run (drawn from the run's seed).
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
    /// Its own double-spend accounts: `first_account..first_account + count`.
    first_account: usize,
    accounts_used: usize,
}

/// One equivocation: the two conflicting transfers and who gets which vertex.
pub struct Equivocation {
    /// The two conflicting transfers.
    pub txs: [Arc<SignedTransfer>; 2],
    /// (recipient, message bytes).
    pub sends: Vec<(usize, Arc<Vec<u8>>)>,
}

/// Accounts each Byzantine relay may double spend from.
const ACCOUNTS_PER_RELAY: usize = 4;

impl Byzantine {
    /// A Byzantine relay at validator `index`, the `ordinal`-th Byzantine one.
    pub fn new(plan: ByzantinePlan, index: usize, ordinal: usize) -> Self {
        Self {
            plan,
            me: ValidatorIndex(index as u16),
            sides: Vec::new(),
            first_account: ordinal * ACCOUNTS_PER_RELAY,
            accounts_used: 0,
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
                        ChitsMode::Honest => preferred,
                        ChitsMode::Withhold => return None,
                        ChitsMode::Both => {
                            let mut all: Vec<VertexId> =
                                self.sides.iter().flat_map(|(a, b)| [*a, *b]).collect();
                            all.extend(preferred);
                            all.truncate(MAX_CHITS);
                            all
                        }
                        ChitsMode::Split => {
                            let pick_first = to.0 % 2 == 0;
                            let (chosen, other): (Vec<VertexId>, Vec<VertexId>) = self
                                .sides
                                .iter()
                                .map(|(a, b)| if pick_first { (*a, *b) } else { (*b, *a) })
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
                        ChitsMode::Both | ChitsMode::Split => {
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

    /// Signs two vertices on the current frontier, each double spending the
    /// same nonce of one of its accounts, and sends one to each half of the
    /// honest relays. Both are fed to its own engine so it can serve them.
    pub fn equivocate(
        &mut self,
        engine: &mut Engine,
        genesis: &Genesis,
        honest: &[usize],
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
        let payee_a = address(&keys.honest[(rng.next_u32() as usize) % keys.honest.len()]);
        let payee_b = Address::from_bytes([0xbb; 32]);
        let tx_a = transfer(genesis, account, payee_a, 1_000_000, 1, rng)?;
        let tx_b = transfer(genesis, account, payee_b, 2_000_000, 1, rng)?;
        let parents: Vec<VertexId> = engine
            .virtuous_frontier()
            .iter()
            .take(engine.params().parents as usize)
            .copied()
            .collect();
        let height = parents
            .iter()
            .filter_map(|p| engine.vertex(p).map(|v| v.height()))
            .max()
            .map_or(0, |h| h + 1);
        let key = &keys.validators[self.me.0 as usize];
        let sign = |tx: &Arc<SignedTransfer>, rng: &mut ChaCha20Rng| {
            let mut randomness = [0u8; 32];
            rng.fill_bytes(&mut randomness);
            VertexContent {
                chain_id: genesis.chain_id.clone(),
                issuer: self.me,
                height,
                parents: parents.clone(),
                txs: vec![tx.clone()],
            }
            .sign(key, randomness)
        };
        let vertex_a = sign(&tx_a, rng).map_err(|_| CryptoError::SigningFailed)?;
        let vertex_b = sign(&tx_b, rng).map_err(|_| CryptoError::SigningFailed)?;
        self.sides.push((vertex_a.id(), vertex_b.id()));
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
        let sends = honest
            .iter()
            .enumerate()
            .map(|(i, node)| {
                (
                    *node,
                    if i % 2 == 0 {
                        bytes_a.clone()
                    } else {
                        bytes_b.clone()
                    },
                )
            })
            .collect();
        Ok(Some(Equivocation {
            txs: [tx_a, tx_b],
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
    /// draws of the plan).
    pub(crate) fn plan_attacks(&mut self) {
        let scenario = self.scenario;
        let workload = scenario.workload_ms;
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
    }

    pub(crate) fn equivocate(&mut self, node: usize) -> Result<(), SimFailure> {
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

    pub(crate) fn flood(&mut self, node: usize) {
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
}
