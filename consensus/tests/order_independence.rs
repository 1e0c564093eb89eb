//! Order independence and ancestry validity, against a brute-force model.
//!
//! Random DAGs are built with real signatures, where every transfer is valid
//! given its vertex's ancestry (checked by replaying the ancestry from
//! genesis with the protocol ledger). Then:
//! - two relays that accept the same set in different topological orders
//!   (restored from accepted logs in those orders) reach the same state, and
//!   it equals the brute-force replay;
//! - with a random accepted prefix and the rest undecided, the engine's
//!   incremental ancestry check agrees with the brute-force replay on fresh
//!   probe vertices (valid ones are kept, invalid ones are not).

use proptest::prelude::*;
use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;
use ruv_consensus::{
    DropReason, Engine, EngineConfig, Input, Message, PersistedState, RestoreBase, Tuning,
    ValidatorIndex, Vertex, VertexContent, VertexStatus,
};
use ruv_protocol::genesis::{GenesisBalance, ValidatorEntry};
use ruv_protocol::tx::{Transfer, SIGNED_TRANSFER_FIXED_LEN};
use ruv_protocol::{Address, FeeSchedule, Genesis, Ledger, SignedTransfer, SigningKey};
use std::collections::BTreeSet;
use std::sync::{Arc, OnceLock};

const USERS: usize = 4;
const VALIDATORS: usize = 3;
const USER_BALANCE: u64 = 10_000_000;

struct World {
    genesis: Genesis,
    validators: Vec<Arc<SigningKey>>,
    users: Vec<SigningKey>,
}

fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| {
        let validators: Vec<Arc<SigningKey>> = (0..VALIDATORS)
            .map(|i| Arc::new(SigningKey::from_seed(&[50 + i as u8; 32])))
            .collect();
        let users: Vec<SigningKey> = (0..USERS)
            .map(|i| SigningKey::from_seed(&[70 + i as u8; 32]))
            .collect();
        let genesis = Genesis {
            chain_id: "ruv-order".into(),
            balances: users
                .iter()
                .map(|k| GenesisBalance {
                    address: Address::from_public_key(k.public_key()),
                    amount: USER_BALANCE,
                })
                .collect(),
            fees: FeeSchedule {
                base: 1_000,
                per_byte: 1,
                burn_percent: 30,
            },
            validators: validators
                .iter()
                .enumerate()
                .map(|(i, k)| ValidatorEntry {
                    name: format!("v{i}"),
                    public_key: k.public_key().as_bytes().to_vec(),
                    stake: 10 + i as u64 * 7,
                })
                .collect(),
            consensus: None,
        };
        genesis.validate().expect("valid genesis");
        World {
            genesis,
            validators,
            users,
        }
    })
}

fn address(key: &SigningKey) -> Address {
    Address::from_public_key(key.public_key())
}

fn config() -> EngineConfig {
    let w = world();
    EngineConfig {
        genesis: w.genesis.clone(),
        signing_key: w.validators[0].clone(),
        rng_seed: [9; 32],
        tuning: Tuning::default(),
    }
}

struct Dag {
    vertices: Vec<Arc<Vertex>>,
    parents: Vec<Vec<usize>>,
}

impl Dag {
    /// The vertices in `roots` and all their ancestors.
    fn closure(&self, roots: &[usize]) -> BTreeSet<usize> {
        let mut set = BTreeSet::new();
        let mut stack: Vec<usize> = roots.to_vec();
        while let Some(i) = stack.pop() {
            if set.insert(i) {
                stack.extend(&self.parents[i]);
            }
        }
        set
    }

    /// Brute force: the ledger after applying `set` in creation order (a
    /// topological order), each transaction once.
    fn replay(&self, set: &BTreeSet<usize>) -> Ledger {
        let mut ledger = Ledger::from_genesis(&world().genesis);
        let mut applied = BTreeSet::new();
        for i in set {
            for (id, tx) in self.vertices[*i]
                .tx_ids()
                .iter()
                .zip(self.vertices[*i].txs())
            {
                if applied.insert(*id) {
                    ledger
                        .apply_checked_signature(tx)
                        .expect("generated transfers are valid in their ancestry");
                }
            }
        }
        ledger
    }

    fn height(&self, parents: &[usize]) -> u64 {
        parents
            .iter()
            .map(|p| self.vertices[*p].height() + 1)
            .max()
            .unwrap_or(0)
    }
}

fn signed(
    from: &SigningKey,
    to: Address,
    amount: u64,
    nonce: u64,
    rng: &mut ChaCha20Rng,
) -> Arc<SignedTransfer> {
    let genesis = &world().genesis;
    let size = SIGNED_TRANSFER_FIXED_LEN + genesis.chain_id.len();
    let transfer = Transfer {
        chain_id: genesis.chain_id.clone(),
        from: address(from),
        to,
        amount,
        fee: genesis.fees.minimum_fee(size).expect("small fee") + rng.next_u64() % 500,
        nonce,
        memo: String::new(),
        public_key: from.public_key().clone(),
    };
    let mut randomness = [0u8; 32];
    rng.fill_bytes(&mut randomness);
    Arc::new(transfer.sign(from, randomness).expect("signing succeeds"))
}

fn sign_vertex(
    dag: &Dag,
    parents: &[usize],
    txs: Vec<Arc<SignedTransfer>>,
    rng: &mut ChaCha20Rng,
) -> Arc<Vertex> {
    let w = world();
    let issuer = (rng.next_u32() as usize) % VALIDATORS;
    let mut randomness = [0u8; 32];
    rng.fill_bytes(&mut randomness);
    let content = VertexContent {
        chain_id: w.genesis.chain_id.clone(),
        issuer: ValidatorIndex(issuer as u16),
        height: dag.height(parents),
        parents: parents.iter().map(|p| dag.vertices[*p].id()).collect(),
        txs,
    };
    Arc::new(
        content
            .sign(&w.validators[issuer], randomness)
            .expect("signing succeeds"),
    )
}

fn amount(rng: &mut ChaCha20Rng) -> u64 {
    // Mostly small; sometimes more than a genesis balance, which only credits
    // in the ancestry can cover.
    match rng.next_u32() % 4 {
        0 => 9_000_000 + rng.next_u64() % 6_000_000,
        _ => 1_000 + rng.next_u64() % 2_000_000,
    }
}

/// A random DAG whose every transfer is valid in its ancestry. Nonces are
/// allocated per sender across the whole DAG, so no two transfers conflict;
/// some transfers are copied into concurrent vertices (duplicates).
fn build_dag(seed: u64, count: usize) -> Dag {
    let w = world();
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let mut dag = Dag {
        vertices: Vec::new(),
        parents: Vec::new(),
    };
    let mut next_nonce = [1u64; USERS];
    let mut all_txs: Vec<Arc<SignedTransfer>> = Vec::new();
    while dag.vertices.len() < count {
        let existing = dag.vertices.len();
        let mut parents = BTreeSet::new();
        if existing > 0 && rng.next_u32() % 6 != 0 {
            for _ in 0..1 + rng.next_u32() % 3 {
                parents.insert((rng.next_u32() as usize) % existing);
            }
        }
        let parents: Vec<usize> = parents.into_iter().collect();
        let mut ledger = dag.replay(&dag.closure(&parents));
        let mut txs: Vec<Arc<SignedTransfer>> = Vec::new();
        for _ in 0..1 + rng.next_u32() % 3 {
            let duplicate = !all_txs.is_empty() && rng.next_u32() % 5 == 0;
            let tx = if duplicate {
                all_txs[(rng.next_u32() as usize) % all_txs.len()].clone()
            } else {
                let sender = (rng.next_u32() as usize) % USERS;
                let recipient = (rng.next_u32() as usize) % USERS;
                signed(
                    &w.users[sender],
                    address(&w.users[recipient]),
                    amount(&mut rng),
                    next_nonce[sender],
                    &mut rng,
                )
            };
            if txs.iter().any(|t| t.id() == tx.id()) {
                continue;
            }
            if ledger.apply_checked_signature(&tx).is_ok() {
                if !duplicate {
                    next_nonce[(0..USERS)
                        .position(|u| address(&w.users[u]) == tx.transfer.from)
                        .unwrap_or(0)] += 1;
                    all_txs.push(tx.clone());
                }
                txs.push(tx);
            }
        }
        if txs.is_empty() {
            continue;
        }
        let vertex = sign_vertex(&dag, &parents, txs, &mut rng);
        dag.vertices.push(vertex);
        dag.parents.push(parents);
    }
    dag
}

/// A random topological order (parents before children).
fn random_order(dag: &Dag, rng: &mut ChaCha20Rng) -> Vec<usize> {
    let mut placed = vec![false; dag.vertices.len()];
    let mut order = Vec::new();
    while order.len() < dag.vertices.len() {
        let ready: Vec<usize> = (0..dag.vertices.len())
            .filter(|i| !placed[*i] && dag.parents[*i].iter().all(|p| placed[*p]))
            .collect();
        let pick = ready[(rng.next_u32() as usize) % ready.len()];
        placed[pick] = true;
        order.push(pick);
    }
    order
}

fn restore(dag: &Dag, accepted: &[usize], processing: &[usize]) -> Engine {
    let state = PersistedState {
        accepted: accepted
            .iter()
            .map(|i| dag.vertices[*i].bytes().clone())
            .collect(),
        processing: processing
            .iter()
            .map(|i| dag.vertices[*i].bytes().clone())
            .collect(),
    };
    let mut out = Vec::new();
    Engine::restore(config(), &state, &mut out).expect("a topological accepted log restores")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn accepting_the_same_set_in_any_order_gives_the_same_state(seed: u64, count in 2usize..10) {
        let dag = build_dag(seed, count);
        let mut rng = ChaCha20Rng::seed_from_u64(seed ^ 0x5eed);
        let first = restore(&dag, &random_order(&dag, &mut rng), &[]);
        let second = restore(&dag, &random_order(&dag, &mut rng), &[]);
        let all: BTreeSet<usize> = (0..dag.vertices.len()).collect();
        prop_assert_eq!(first.ledger(), second.ledger());
        prop_assert_eq!(first.ledger(), &dag.replay(&all));
        let ledger = first.ledger();
        prop_assert_eq!(ledger.circulating() + ledger.burned() as u128, ledger.genesis_supply() as u128);
    }

    #[test]
    fn ancestry_checks_agree_with_brute_force(seed: u64, count in 2usize..9, probes in 1usize..6) {
        let w = world();
        let dag = build_dag(seed, count);
        let mut rng = ChaCha20Rng::seed_from_u64(seed ^ 0xabcd);
        let order = random_order(&dag, &mut rng);
        let cut = (rng.next_u32() as usize) % (order.len() + 1);
        let mut engine = restore(&dag, &order[..cut], &order[cut..]);
        for i in &order[cut..] {
            // Kept (a vertex whose transfers were all accepted elsewhere is accepted at once).
            let status = engine.vertex_status(&dag.vertices[*i].id());
            prop_assert!(matches!(status, Some(VertexStatus::Processing | VertexStatus::Accepted)), "{status:?}");
        }
        for _ in 0..probes {
            let existing = dag.vertices.len();
            let mut parents = BTreeSet::new();
            for _ in 0..1 + rng.next_u32() % 3 {
                parents.insert((rng.next_u32() as usize) % existing);
            }
            let parents: Vec<usize> = parents.into_iter().collect();
            let ancestry = dag.replay(&dag.closure(&parents));
            let sender = (rng.next_u32() as usize) % USERS;
            let ancestry_nonce = ancestry.account(&address(&w.users[sender])).nonce;
            // The next nonce in the ancestry, or one off (stale or a gap).
            let nonce = match rng.next_u32() % 4 {
                0 => ancestry_nonce.max(1),
                1 => ancestry_nonce + 2,
                _ => ancestry_nonce + 1,
            };
            let recipient = (rng.next_u32() as usize) % USERS;
            let tx = signed(&w.users[sender], address(&w.users[recipient]), amount(&mut rng), nonce, &mut rng);
            let valid = ancestry.clone().apply_checked_signature(&tx).is_ok();
            let probe = sign_vertex(&dag, &parents, vec![tx], &mut rng);
            let issuer = probe.issuer();
            let mut out = Vec::new();
            let doomed_before = engine.metrics().dropped(DropReason::Doomed);
            engine.handle(Input::PeerMessage { from: issuer, bytes: Message::Vertex(probe.bytes().clone()).encode() }, &mut out);
            let status = engine.vertex_status(&probe.id());
            if valid {
                // Kept undecided, or (gossip that reuses a nonce an accepted
                // transfer already took) turned away as doomed, unstored.
                let doomed = engine.metrics().dropped(DropReason::Doomed) > doomed_before;
                prop_assert!(status.is_some() || doomed, "valid probe dropped (seed {seed})");
            } else {
                prop_assert!(status != Some(VertexStatus::Processing), "invalid probe kept (seed {seed})");
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// A restart from a snapshot's ledger (the state after a set closed
    /// under parents, as a certified checkpoint covers) applying only the
    /// accepted vertices outside it reaches the same state as a replay of
    /// the whole log from genesis.
    #[test]
    fn restoring_from_a_covered_base_gives_the_same_state(seed: u64, count in 2usize..10) {
        let dag = build_dag(seed, count);
        let mut rng = ChaCha20Rng::seed_from_u64(seed ^ 0xba5e);
        let roots: Vec<usize> = (0..1 + rng.next_u32() % 2)
            .map(|_| (rng.next_u32() as usize) % dag.vertices.len())
            .collect();
        let covered = dag.closure(&roots);
        let order = random_order(&dag, &mut rng);
        let state = PersistedState {
            accepted: order.iter().map(|i| dag.vertices[*i].bytes().clone()).collect(),
            processing: Vec::new(),
        };
        let base = RestoreBase {
            ledger: dag.replay(&covered),
            covered: covered.iter().map(|i| dag.vertices[*i].id()).collect(),
        };
        let restored = Engine::restore_from(config(), Some(base), &state, &mut Vec::new())
            .expect("restores from the base");
        let all: BTreeSet<usize> = (0..dag.vertices.len()).collect();
        let full = dag.replay(&all);
        for user in &world().users {
            prop_assert_eq!(restored.ledger().account(&address(user)), full.account(&address(user)));
        }
        prop_assert_eq!(restored.ledger().burned(), full.burned());
        prop_assert_eq!(restored.ledger().circulating(), full.circulating());
    }
}
