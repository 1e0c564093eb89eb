//! The engine through its public API: bad input is dropped with a typed,
//! counted reason; a small hand-wired network accepts transfers and resolves
//! a double spend; restore rejects broken logs.

use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;
use ruv_consensus::{
    AncestorVertex, DropReason, Engine, EngineConfig, Input, Message, Output, Persist,
    PersistedState, RestoreError, Tuning, TxDropReason, TxStatus, ValidatorIndex, Vertex,
    VertexContent, VertexId, VertexStatus,
};
use ruv_protocol::genesis::{ConsensusParams, GenesisBalance, ValidatorEntry};
use ruv_protocol::tx::{Transfer, SIGNED_TRANSFER_FIXED_LEN};
use ruv_protocol::{Address, FeeSchedule, Genesis, SignedTransfer, SigningKey, TxId, TxRejection};
use std::collections::VecDeque;
use std::sync::{Arc, OnceLock};

const RELAYS: usize = 3;

struct World {
    genesis: Genesis,
    relays: Vec<Arc<SigningKey>>,
    alice: SigningKey,
    bob: SigningKey,
}

fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| {
        let relays: Vec<Arc<SigningKey>> = (0..RELAYS)
            .map(|i| Arc::new(SigningKey::from_seed(&[30 + i as u8; 32])))
            .collect();
        let alice = SigningKey::from_seed(&[40; 32]);
        let bob = SigningKey::from_seed(&[41; 32]);
        let genesis = Genesis {
            chain_id: "ruv-engine".into(),
            balances: [&alice, &bob]
                .iter()
                .map(|k| GenesisBalance {
                    address: Address::from_public_key(k.public_key()),
                    amount: 50_000_000,
                })
                .collect(),
            fees: FeeSchedule {
                base: 1_000,
                per_byte: 1,
                burn_percent: 50,
            },
            validators: relays
                .iter()
                .enumerate()
                .map(|(i, k)| ValidatorEntry {
                    name: format!("r{i}"),
                    public_key: k.public_key().as_bytes().to_vec(),
                    stake: 100,
                })
                .collect(),
            // Small betas keep the hand-driven loop short; parents 2, batch 3 for the limit checks.
            consensus: Some(ConsensusParams {
                k: 3,
                alpha_preference: 3,
                alpha_confidence: 3,
                beta_virtuous: 3,
                beta_rogue: 5,
                parents: 2,
                batch_size: 3,
            }),
        };
        genesis.validate().expect("valid genesis");
        World {
            genesis,
            relays,
            alice,
            bob,
        }
    })
}

fn config(relay: usize) -> EngineConfig {
    let w = world();
    EngineConfig {
        genesis: w.genesis.clone(),
        signing_key: w.relays[relay].clone(),
        rng_seed: [relay as u8; 32],
        tuning: Tuning::default(),
    }
}

fn minimum_fee() -> u64 {
    let genesis = &world().genesis;
    genesis
        .fees
        .minimum_fee(SIGNED_TRANSFER_FIXED_LEN + genesis.chain_id.len())
        .expect("small")
}

fn transfer(from: &SigningKey, to: &SigningKey, amount: u64, nonce: u64) -> Arc<SignedTransfer> {
    transfer_paying(from, to, amount, nonce, minimum_fee())
}

fn transfer_paying(
    from: &SigningKey,
    to: &SigningKey,
    amount: u64,
    nonce: u64,
    fee: u64,
) -> Arc<SignedTransfer> {
    let genesis = &world().genesis;
    let t = Transfer {
        chain_id: genesis.chain_id.clone(),
        from: Address::from_public_key(from.public_key()),
        to: Address::from_public_key(to.public_key()),
        amount,
        fee,
        nonce,
        memo: String::new(),
        public_key: from.public_key().clone(),
    };
    Arc::new(t.sign(from, [nonce as u8; 32]).expect("signs"))
}

fn vertex(
    issuer: usize,
    key: &SigningKey,
    height: u64,
    parents: Vec<VertexId>,
    txs: Vec<Arc<SignedTransfer>>,
) -> Vertex {
    VertexContent {
        chain_id: world().genesis.chain_id.clone(),
        issuer: ValidatorIndex(issuer as u16),
        height,
        parents,
        txs,
    }
    .sign(key, [7; 32])
    .expect("signs")
}

fn deliver(engine: &mut Engine, from: usize, message: &Message) -> Vec<Output> {
    let mut out = Vec::new();
    engine.handle(
        Input::PeerMessage {
            from: ValidatorIndex(from as u16),
            bytes: message.encode(),
        },
        &mut out,
    );
    out
}

#[test]
fn bad_vertices_are_dropped_with_typed_counted_reasons() {
    let w = world();
    let mut engine = Engine::new(config(0)).expect("engine starts");
    let tx = transfer(&w.alice, &w.bob, 1_000, 1);
    let good = vertex(1, &w.relays[1], 0, vec![], vec![tx.clone()]);

    let cases: Vec<(Message, DropReason)> = vec![
        (Message::Vertex(vec![1, 2, 3].into()), DropReason::Decode),
        (
            Message::Vertex(
                vertex(1, &w.relays[2], 0, vec![], vec![tx.clone()])
                    .bytes()
                    .clone(),
            ),
            DropReason::BadSignature,
        ),
        (
            Message::Vertex(
                vertex(9, &w.relays[1], 0, vec![], vec![tx.clone()])
                    .bytes()
                    .clone(),
            ),
            DropReason::UnknownIssuer,
        ),
        (
            Message::Vertex(
                vertex(
                    1,
                    &w.relays[1],
                    1,
                    (0..3).map(|i| VertexId([i; 32])).collect(),
                    vec![tx.clone()],
                )
                .bytes()
                .clone(),
            ),
            DropReason::TooManyParents,
        ),
        (
            Message::Vertex(
                vertex(
                    1,
                    &w.relays[1],
                    0,
                    vec![],
                    (1..=4)
                        .map(|n| transfer(&w.alice, &w.bob, 1_000, n))
                        .collect(),
                )
                .bytes()
                .clone(),
            ),
            DropReason::BadTransactionCount,
        ),
        (
            Message::Vertex(vertex(1, &w.relays[1], 0, vec![], vec![]).bytes().clone()),
            DropReason::BadTransactionCount,
        ),
        (
            Message::Vertex(
                vertex(1, &w.relays[1], 0, vec![], vec![tx.clone(), tx.clone()])
                    .bytes()
                    .clone(),
            ),
            DropReason::DuplicateTransactionInVertex,
        ),
        (
            Message::Vertex(
                vertex(1, &w.relays[1], 5, vec![], vec![tx.clone()])
                    .bytes()
                    .clone(),
            ),
            DropReason::BadHeight,
        ),
        (
            Message::Vertex(
                vertex(
                    1,
                    &w.relays[1],
                    0,
                    vec![],
                    vec![transfer(&w.alice, &w.bob, 1_000, 2)],
                )
                .bytes()
                .clone(),
            ),
            DropReason::InvalidTransaction,
        ),
        (
            Message::Vertex(
                vertex(
                    1,
                    &w.relays[1],
                    0,
                    vec![],
                    vec![transfer(&w.alice, &w.bob, 60_000_000, 1)],
                )
                .bytes()
                .clone(),
            ),
            DropReason::InvalidTransaction,
        ),
        (
            Message::Chits {
                request_id: 77,
                preferred: vec![],
                accepted: vec![],
            },
            DropReason::Unsolicited,
        ),
        (
            Message::Ancestors {
                request_id: 78,
                vertices: vec![],
            },
            DropReason::Unsolicited,
        ),
    ];
    for (message, reason) in cases {
        let before = engine.metrics().dropped(reason);
        deliver(&mut engine, 1, &message);
        assert_eq!(engine.metrics().dropped(reason), before + 1, "{reason:?}");
    }
    // Bytes that are not a message, and a sender that is not a validator.
    let mut out = Vec::new();
    engine.handle(
        Input::PeerMessage {
            from: ValidatorIndex(1),
            bytes: vec![0xff; 10],
        },
        &mut out,
    );
    engine.handle(
        Input::PeerMessage {
            from: ValidatorIndex(42),
            bytes: Message::Query { request_id: 1 }.encode(),
        },
        &mut out,
    );
    assert_eq!(engine.metrics().dropped(DropReason::UnknownSender), 1);
    assert_eq!(engine.processing_count(), 0);

    // The good vertex is added once; a second copy is a duplicate (no second signature check).
    deliver(&mut engine, 1, &Message::Vertex(good.bytes().clone()));
    assert_eq!(
        engine.vertex_status(&good.id()),
        Some(VertexStatus::Processing)
    );
    let duplicates = engine.metrics().dropped(DropReason::Duplicate);
    deliver(&mut engine, 2, &Message::Vertex(good.bytes().clone()));
    assert_eq!(
        engine.metrics().dropped(DropReason::Duplicate),
        duplicates + 1
    );
    assert_eq!(engine.tx_status(&tx.id()), TxStatus::Pending);
}

#[test]
fn missing_parents_are_fetched_and_served_parents_first() {
    let w = world();
    let mut engine = Engine::new(config(0)).expect("engine starts");
    let parent = vertex(
        1,
        &w.relays[1],
        0,
        vec![],
        vec![transfer(&w.alice, &w.bob, 1_000, 1)],
    );
    let child = vertex(
        2,
        &w.relays[2],
        1,
        vec![parent.id()],
        vec![transfer(&w.alice, &w.bob, 1_000, 2)],
    );
    let out = deliver(&mut engine, 2, &Message::Vertex(child.bytes().clone()));
    let request_id = out
        .iter()
        .find_map(|o| match o {
            Output::Send {
                to,
                message: Message::GetAncestors { request_id, ids },
            } if to.0 == 2 && ids == &[parent.id()] => Some(*request_id),
            _ => None,
        })
        .expect("asks the sender for the missing parent");
    assert_eq!(engine.waiting_count(), 1);

    // A peer that has both answers a request for the child with the parent first.
    let mut server = Engine::new(config(2)).expect("engine starts");
    deliver(&mut server, 1, &Message::Vertex(parent.bytes().clone()));
    deliver(&mut server, 2, &Message::Vertex(child.bytes().clone()));
    let answer = deliver(
        &mut server,
        0,
        &Message::GetAncestors {
            request_id,
            ids: vec![child.id()],
        },
    );
    let Some(Output::Send {
        message: Message::Ancestors { vertices, .. },
        ..
    }) = answer.first()
    else {
        panic!("expected an ancestors answer, got {answer:?}");
    };
    assert_eq!(
        vertices,
        &vec![parent.bytes().clone(), child.bytes().clone()]
    );

    deliver(
        &mut engine,
        2,
        &Message::Ancestors {
            request_id,
            vertices: vertices.clone(),
        },
    );
    assert_eq!(engine.waiting_count(), 0);
    assert_eq!(
        engine.vertex_status(&child.id()),
        Some(VertexStatus::Processing)
    );
}

/// Engines wired with instant, in-order delivery.
struct Net {
    engines: Vec<Engine>,
    queue: VecDeque<(usize, usize, Vec<u8>)>,
    events: Vec<(usize, Output)>,
    now: u64,
}

impl Net {
    fn new() -> Self {
        Self::with_tuning(Tuning::default())
    }

    fn with_tuning(tuning: Tuning) -> Self {
        let engines = (0..RELAYS)
            .map(|i| {
                let config = EngineConfig {
                    tuning: tuning.clone(),
                    ..config(i)
                };
                Engine::new(config).expect("engine starts")
            })
            .collect();
        Self {
            engines,
            queue: VecDeque::new(),
            events: Vec::new(),
            now: 0,
        }
    }

    fn input(&mut self, relay: usize, input: Input) {
        let mut out = Vec::new();
        self.engines[relay].handle(input, &mut out);
        for output in out {
            match &output {
                Output::Send { to, message } => {
                    self.queue
                        .push_back((relay, to.0 as usize, message.encode()))
                }
                Output::Broadcast { message } => {
                    for to in (0..RELAYS).filter(|to| *to != relay) {
                        self.queue.push_back((relay, to, message.encode()));
                    }
                }
                _ => self.events.push((relay, output)),
            }
        }
        while let Some((from, to, bytes)) = self.queue.pop_front() {
            let mut out = Vec::new();
            self.engines[to].handle(
                Input::PeerMessage {
                    from: ValidatorIndex(from as u16),
                    bytes,
                },
                &mut out,
            );
            for output in out {
                match &output {
                    Output::Send { to: next, message } => {
                        self.queue
                            .push_back((to, next.0 as usize, message.encode()))
                    }
                    Output::Broadcast { message } => {
                        for next in (0..RELAYS).filter(|n| *n != to) {
                            self.queue.push_back((to, next, message.encode()));
                        }
                    }
                    _ => self.events.push((to, output)),
                }
            }
        }
    }

    fn run_ms(&mut self, ms: u64) {
        for _ in 0..ms / 10 {
            self.now += 10;
            for relay in 0..RELAYS {
                self.input(relay, Input::Tick { now_ms: self.now });
            }
        }
    }
}

#[test]
fn a_transfer_is_accepted_by_every_relay() {
    let w = world();
    let mut net = Net::new();
    let tx = transfer(&w.alice, &w.bob, 2_500, 1);
    net.input(1, Input::SubmitTransaction(tx.clone()));
    net.run_ms(500);
    for engine in &net.engines {
        assert!(matches!(
            engine.tx_status(&tx.id()),
            TxStatus::Accepted { .. }
        ));
        assert_eq!(
            engine
                .ledger()
                .account(&Address::from_public_key(w.alice.public_key()))
                .nonce,
            1
        );
        assert!(engine.metrics().polls_completed > 0 && engine.metrics().queries_answered > 0);
    }
    assert_eq!(net.engines[0].ledger(), net.engines[2].ledger());
    // Every relay persisted exactly one accepted vertex.
    for relay in 0..RELAYS {
        let persisted = net
            .events
            .iter()
            .filter(|(r, o)| {
                *r == relay && matches!(o, Output::Persist(ruv_consensus::Persist::Accepted { .. }))
            })
            .count();
        assert_eq!(persisted, 1);
    }
}

#[test]
fn settled_vertices_keep_consensus_going_and_are_served_from_the_store() {
    let w = world();
    let mut net = Net::new();
    let first = transfer(&w.alice, &w.bob, 2_500, 1);
    net.input(1, Input::SubmitTransaction(first.clone()));
    net.run_ms(500);
    let accepted: Vec<(usize, VertexId, Arc<[u8]>)> = net
        .events
        .iter()
        .filter_map(|(relay, output)| match output {
            Output::Persist(ruv_consensus::Persist::Accepted { id, bytes, .. }) => {
                Some((*relay, *id, bytes.clone()))
            }
            _ => None,
        })
        .collect();
    assert_eq!(accepted.len(), RELAYS);
    // Every relay settles what it accepted (as after a certified checkpoint).
    for relay in 0..RELAYS {
        let vertices = accepted
            .iter()
            .filter(|(r, ..)| *r == relay)
            .map(|(_, id, _)| *id)
            .collect();
        let mut out = Vec::new();
        net.engines[relay].handle(Input::Covered { vertices }, &mut out);
        assert!(out.is_empty(), "settling is silent: {out:?}");
        assert_eq!(net.engines[relay].metrics().vertices_settled, 1);
    }
    let (_, settled, bytes) = accepted[0].clone();
    let engine = &net.engines[0];
    assert!(engine.vertex(&settled).is_none(), "its body left memory");
    assert_eq!(engine.vertex_status(&settled), Some(VertexStatus::Accepted));
    assert!(engine.vertex_height(&settled).is_some());
    // Settling again, or settling an unknown id, changes nothing.
    let mut out = Vec::new();
    net.engines[0].handle(
        Input::Covered {
            vertices: vec![settled, VertexId([7; 32])],
        },
        &mut out,
    );
    assert_eq!(net.engines[0].metrics().vertices_settled, 1);

    // New transfers are checked against an ancestry of settled vertices.
    let second = transfer(&w.alice, &w.bob, 1_000, 2);
    let third = transfer(&w.bob, &w.alice, 500, 1);
    net.input(2, Input::SubmitTransaction(second.clone()));
    net.input(0, Input::SubmitTransaction(third.clone()));
    net.run_ms(1_000);
    for engine in &net.engines {
        for tx in [&second, &third] {
            assert!(matches!(
                engine.tx_status(&tx.id()),
                TxStatus::Accepted { .. }
            ));
        }
    }
    assert_eq!(net.engines[0].ledger(), net.engines[2].ledger());

    // A peer asking for a settled vertex is answered from the store.
    let out = deliver(
        &mut net.engines[0],
        2,
        &Message::GetAncestors {
            request_id: 77,
            ids: vec![settled],
        },
    );
    let answer = out.iter().find_map(|o| match o {
        Output::SendAncestors {
            to,
            request_id: 77,
            vertices,
        } if to.0 == 2 => Some(vertices.clone()),
        _ => None,
    });
    assert_eq!(answer, Some(vec![AncestorVertex::Stored(settled)]));
    // The store holds exactly what was persisted for it.
    assert_eq!(Vertex::id_of(&bytes), settled);
}

#[test]
fn a_double_spend_ends_with_one_winner_everywhere() {
    let w = world();
    let mut net = Net::new();
    let pay_bob = transfer(&w.alice, &w.bob, 1_000, 1);
    let pay_self = transfer(&w.alice, &w.alice, 2_000, 1);
    net.input(0, Input::SubmitTransaction(pay_bob.clone()));
    net.input(2, Input::SubmitTransaction(pay_self.clone()));
    net.run_ms(2_000);
    let winner = |engine: &Engine| {
        [&pay_bob, &pay_self]
            .iter()
            .filter(|tx| matches!(engine.tx_status(&tx.id()), TxStatus::Accepted { .. }))
            .map(|tx| tx.id())
            .collect::<Vec<_>>()
    };
    let first = winner(&net.engines[0]);
    assert_eq!(first.len(), 1, "exactly one side wins");
    for engine in &net.engines {
        assert_eq!(winner(engine), first);
    }
    let loser = if first[0] == pay_bob.id() {
        pay_self.id()
    } else {
        pay_bob.id()
    };
    assert!(net.events.iter().any(|(_, o)| matches!(o, Output::TxRejected { id, reason: TxRejection::Conflict } if *id == loser)));
}

#[test]
fn submissions_are_checked_before_gossip() {
    let w = world();
    let mut engine = Engine::new(config(0)).expect("engine starts");
    let mut bad = (*transfer(&w.alice, &w.bob, 1_000, 1)).clone();
    bad.transfer.amount = 1_001;
    let mut out = Vec::new();
    engine.handle(Input::SubmitTransaction(Arc::new(bad)), &mut out);
    assert!(matches!(
        out.as_slice(),
        [Output::TxRejected {
            reason: TxRejection::BadSignature,
            ..
        }]
    ));
    out.clear();
    engine.handle(
        Input::SubmitTransaction(transfer(&w.alice, &w.bob, 1_000, 1)),
        &mut out,
    );
    assert!(matches!(
        out.as_slice(),
        [Output::Broadcast {
            message: Message::Transaction(_)
        }]
    ));
}

#[test]
fn a_transfer_checked_by_the_driver_is_accepted_like_any_other() {
    let w = world();
    let mut net = Net::new();
    let tx = transfer(&w.alice, &w.bob, 2_500, 1);
    let checked = tx.clone().check_signature().expect("a good signature");
    net.input(2, Input::SubmitCheckedTransaction(checked));
    net.run_ms(500);
    for engine in &net.engines {
        assert!(matches!(
            engine.tx_status(&tx.id()),
            TxStatus::Accepted { .. }
        ));
    }
    // The rest of the stateless checks still apply to a checked transfer.
    let mut engine = Engine::new(config(0)).expect("engine starts");
    let zero = transfer(&w.alice, &w.bob, 0, 1);
    let mut out = Vec::new();
    engine.handle(
        Input::SubmitCheckedTransaction(zero.check_signature().unwrap()),
        &mut out,
    );
    assert!(matches!(
        out.as_slice(),
        [Output::TxRejected {
            reason: TxRejection::ZeroAmount,
            ..
        }]
    ));
}

#[test]
fn restore_refuses_broken_logs_and_replays_good_ones() {
    let w = world();
    let first = vertex(
        1,
        &w.relays[1],
        0,
        vec![],
        vec![transfer(&w.alice, &w.bob, 1_000, 1)],
    );
    let second = vertex(
        1,
        &w.relays[1],
        1,
        vec![first.id()],
        vec![transfer(&w.alice, &w.bob, 1_000, 2)],
    );
    let restore = |accepted: Vec<&Vertex>| {
        let state = PersistedState {
            accepted: accepted.iter().map(|v| v.bytes().clone()).collect(),
            processing: vec![],
        };
        Engine::restore(config(0), &state, &mut Vec::new())
    };
    assert!(matches!(
        restore(vec![&second, &first]),
        Err(RestoreError::ParentMissing(..))
    ));
    assert!(matches!(
        restore(vec![&first, &first]),
        Err(RestoreError::Duplicate(_))
    ));
    let gap = vertex(
        1,
        &w.relays[1],
        0,
        vec![],
        vec![transfer(&w.alice, &w.bob, 1_000, 2)],
    );
    assert!(matches!(
        restore(vec![&gap]),
        Err(RestoreError::LedgerRejected {
            reason: TxRejection::NonceGap { .. },
            ..
        })
    ));
    let state = PersistedState {
        accepted: vec![vec![1u8, 2].into()],
        processing: vec![],
    };
    assert!(matches!(
        Engine::restore(config(0), &state, &mut Vec::new()),
        Err(RestoreError::Decode { index: 0, .. })
    ));
    let engine = restore(vec![&first, &second]).expect("a good log restores");
    assert_eq!(
        engine
            .ledger()
            .account(&Address::from_public_key(w.alice.public_key()))
            .nonce,
        2
    );
    assert_eq!(
        engine.vertex_status(&second.id()),
        Some(VertexStatus::Accepted)
    );
}

#[test]
fn a_relay_outside_genesis_cannot_start() {
    let mut config = config(0);
    config.signing_key = Arc::new(SigningKey::from_seed(&[99; 32]));
    assert_eq!(
        Engine::new(config).err(),
        Some(ruv_consensus::ConfigError::NotAValidator)
    );
}

#[test]
fn decoders_never_panic_on_garbage_input() {
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let mut engine = Engine::new(config(0)).expect("engine starts");
    for _ in 0..2_000 {
        let mut bytes = vec![0u8; (rng.next_u32() % 64) as usize];
        rng.fill_bytes(&mut bytes);
        if let Some(first) = bytes.first_mut() {
            *first = 1; // the message version, so the tag and fields are exercised
        }
        let mut out = Vec::new();
        engine.handle(
            Input::PeerMessage {
                from: ValidatorIndex(1),
                bytes,
            },
            &mut out,
        );
    }
    assert_eq!(engine.processing_count(), 0);
}

#[test]
fn a_single_relay_network_accepts_on_its_own() {
    let w = world();
    let mut genesis = w.genesis.clone();
    genesis.validators.truncate(1);
    genesis.consensus = None; // scaled defaults: k = 1, alpha = 1, betas 15 / 20
    let config = EngineConfig {
        genesis,
        signing_key: w.relays[0].clone(),
        rng_seed: [1; 32],
        tuning: Tuning::default(),
    };
    let mut engine = Engine::new(config).expect("engine starts");
    let tx = transfer(&w.alice, &w.bob, 1_000, 1);
    let mut out = Vec::new();
    engine.handle(Input::SubmitTransaction(tx.clone()), &mut out);
    for tick in 1..=20 {
        engine.handle(Input::Tick { now_ms: tick * 25 }, &mut out);
    }
    assert!(matches!(
        engine.tx_status(&tx.id()),
        TxStatus::Accepted { .. }
    ));
    let persisted = out
        .iter()
        .position(|o| matches!(o, Output::Persist(ruv_consensus::Persist::Accepted { .. })));
    let announced = out
        .iter()
        .position(|o| matches!(o, Output::TxAccepted { .. }));
    assert!(
        persisted < announced,
        "the accepted vertex is persisted before the transfer is announced"
    );
}

/// Ticks until the engine has queried every validator in `wanted`; returns
/// the request id each one was asked with.
fn queries_to(engine: &mut Engine, wanted: &[usize]) -> Vec<(usize, u32)> {
    let mut asked: Vec<(usize, u32)> = Vec::new();
    for tick in 1..=200u64 {
        let mut out = Vec::new();
        engine.handle(Input::Tick { now_ms: tick * 10 }, &mut out);
        for output in out {
            if let Output::Send {
                to,
                message: Message::Query { request_id },
            } = output
            {
                if wanted.contains(&(to.0 as usize))
                    && !asked.iter().any(|(v, _)| *v == to.0 as usize)
                {
                    asked.push((to.0 as usize, request_id));
                }
            }
        }
        if asked.len() == wanted.len() {
            return asked;
        }
    }
    panic!("never queried {wanted:?}");
}

#[test]
fn a_voter_supporting_both_sides_of_a_conflict_is_not_counted() {
    let w = world();
    let mut engine = Engine::new(config(0)).expect("engine starts");
    let side_a = vertex(
        1,
        &w.relays[1],
        0,
        vec![],
        vec![transfer(&w.alice, &w.bob, 1_000, 1)],
    );
    let side_b = vertex(
        2,
        &w.relays[2],
        0,
        vec![],
        vec![transfer(&w.alice, &w.alice, 2_000, 1)],
    );
    deliver(&mut engine, 1, &Message::Vertex(side_a.bytes().clone()));
    deliver(&mut engine, 2, &Message::Vertex(side_b.bytes().clone()));
    let (voter, request_id) = queries_to(&mut engine, &[1])[0];
    let both = Message::Chits {
        request_id,
        preferred: vec![side_a.id(), side_b.id()],
        accepted: vec![],
    };
    deliver(&mut engine, voter, &both);
    // The poll ends at its timeout at the latest.
    let mut out = Vec::new();
    engine.handle(Input::Tick { now_ms: 10_000 }, &mut out);
    assert!(engine.metrics().conflicting_votes >= 1);
}

#[test]
fn catching_up_needs_accepted_reports_from_more_than_half_the_stake() {
    let w = world();
    let mut engine = Engine::new(config(0)).expect("engine starts");
    let v = vertex(
        1,
        &w.relays[1],
        0,
        vec![],
        vec![transfer(&w.alice, &w.bob, 1_000, 1)],
    );
    deliver(&mut engine, 1, &Message::Vertex(v.bytes().clone()));
    let asked = queries_to(&mut engine, &[1, 2]);
    let claim = |request_id| Message::Chits {
        request_id,
        preferred: vec![],
        accepted: vec![v.id()],
    };
    // One of three equal validators (1/3 of the stake) is not enough ...
    let (first, first_request) = asked[0];
    deliver(&mut engine, first, &claim(first_request));
    assert_eq!(
        engine.vertex_status(&v.id()),
        Some(VertexStatus::Processing)
    );
    // ... two (2/3) are.
    let (second, second_request) = asked[1];
    deliver(&mut engine, second, &claim(second_request));
    assert_eq!(engine.vertex_status(&v.id()), Some(VertexStatus::Accepted));
}

#[test]
fn unreachable_validators_end_a_poll_at_once() {
    let (mut engine, out) = polling_engine(0);
    let queries = queries_in(&out);
    assert!(!queries.is_empty(), "no poll started: {out:?}");
    // One query per sampled peer per poll (a validator drawn twice is asked once).
    let mut per_poll: std::collections::BTreeMap<u32, Vec<u16>> = Default::default();
    for (to, message) in &queries {
        if let Message::Query { request_id } = message {
            per_poll.entry(*request_id).or_default().push(to.0);
        }
    }
    for targets in per_poll.values() {
        let mut distinct = targets.clone();
        distinct.sort_unstable();
        distinct.dedup();
        assert_eq!(
            distinct.len(),
            targets.len(),
            "a poll asked a peer twice: {targets:?}"
        );
        assert!(targets.iter().all(|t| *t == 1 || *t == 2), "{targets:?}");
    }
    // Nobody is reachable: every poll ends now, not at its timeout.
    let completed_before = engine.metrics().polls_completed;
    let mut more = Vec::new();
    for (to, message) in queries {
        engine.handle(Input::Undeliverable { to, message }, &mut more);
    }
    assert_eq!(
        engine.metrics().polls_completed - completed_before,
        per_poll.len() as u64,
        "undeliverable queries did not end their polls"
    );
    assert_eq!(engine.metrics().polls_timed_out, 0);
    // Empty answers are no votes: with alpha = 3 of 3 nothing is accepted.
    let w = world();
    assert!(!matches!(
        engine.tx_status(&transfer(&w.alice, &w.bob, 10, 1).id()),
        TxStatus::Accepted { .. }
    ));
}

/// Relay `relay` after a client's transfer: its vertex issued (at 100 ms,
/// past the batch delay) and its first polls started; what it output so far.
fn polling_engine(relay: usize) -> (Engine, Vec<Output>) {
    let w = world();
    let mut engine = Engine::new(config(relay)).expect("engine");
    let mut out = Vec::new();
    engine.handle(Input::Tick { now_ms: 1 }, &mut out);
    engine.handle(
        Input::SubmitTransaction(transfer(&w.alice, &w.bob, 10, 1)),
        &mut out,
    );
    engine.handle(Input::Tick { now_ms: 100 }, &mut out);
    (engine, out)
}

fn queries_in(outputs: &[Output]) -> Vec<(ValidatorIndex, Message)> {
    outputs
        .iter()
        .filter_map(|o| match o {
            Output::Send {
                to,
                message: message @ Message::Query { .. },
            } => Some((*to, message.clone())),
            _ => None,
        })
        .collect()
}

#[test]
fn a_link_that_comes_back_gets_the_unanswered_queries_and_own_undecided_vertices_again() {
    let (mut engine, out) = polling_engine(0);
    let own_vertex = out
        .iter()
        .find_map(|o| match o {
            Output::Broadcast {
                message: Message::Vertex(bytes),
            } => Some(bytes.clone()),
            _ => None,
        })
        .expect("the transfer was issued");
    // The queries to validator 1 (and its answers) were lost with its link.
    let asked: Vec<Message> = queries_in(&out)
        .into_iter()
        .filter(|(to, _)| to.0 == 1)
        .map(|(_, message)| message)
        .collect();
    assert!(!asked.is_empty(), "no poll sampled validator 1: {out:?}");

    let mut again = Vec::new();
    engine.handle(
        Input::PeerConnected {
            peer: ValidatorIndex(1),
        },
        &mut again,
    );
    let requeried: Vec<Message> = queries_in(&again)
        .into_iter()
        .map(|(to, message)| {
            assert_eq!(to.0, 1, "{again:?}");
            message
        })
        .collect();
    assert_eq!(requeried, asked, "not asked again in every running poll");
    let resent: Vec<&Arc<[u8]>> = again
        .iter()
        .filter_map(|o| match o {
            Output::Send {
                to,
                message: Message::Vertex(bytes),
            } if to.0 == 1 => Some(bytes),
            _ => None,
        })
        .collect();
    assert_eq!(resent, [&own_vertex]);
    assert_eq!(engine.metrics().vertices_resent, 1);

    // Once validator 1 answered, its link coming back asks nothing again;
    // an unknown validator or this relay itself gets nothing.
    for message in asked {
        let Message::Query { request_id } = message else {
            unreachable!()
        };
        let chits = Message::Chits {
            request_id,
            preferred: Vec::new(),
            accepted: Vec::new(),
        };
        deliver(&mut engine, 1, &chits);
    }
    for peer in [1, 0, 99] {
        let mut later = Vec::new();
        engine.handle(
            Input::PeerConnected {
                peer: ValidatorIndex(peer),
            },
            &mut later,
        );
        assert!(
            queries_in(&later).iter().all(|(to, _)| to.0 != 1),
            "validator {peer}: {later:?}"
        );
        if peer != 1 {
            assert!(
                later.iter().all(|o| !matches!(o, Output::Send { .. })),
                "{later:?}"
            );
        }
    }
}

#[test]
fn a_link_that_comes_back_ends_the_back_off_of_a_relay_that_reached_nobody() {
    let (mut engine, out) = polling_engine(0);
    let mut more = Vec::new();
    for (to, message) in queries_in(&out) {
        engine.handle(Input::Undeliverable { to, message }, &mut more);
    }
    assert!(queries_in(&more).is_empty(), "{more:?}");
    // Validator 2 is reachable again: polling resumes now, not after the pause.
    more.clear();
    engine.handle(
        Input::PeerConnected {
            peer: ValidatorIndex(2),
        },
        &mut more,
    );
    assert!(
        !queries_in(&more).is_empty(),
        "polling did not resume when a link came back: {more:?}"
    );
}

#[test]
fn a_relay_that_reaches_nobody_backs_off_instead_of_spinning() {
    let tuning = Tuning::default();
    let (mut engine, out) = polling_engine(0);
    let queries = queries_in(&out);
    assert!(!queries.is_empty(), "no poll started: {out:?}");
    // Every peer is down: each query comes straight back.
    let mut more = Vec::new();
    for (to, message) in queries {
        engine.handle(Input::Undeliverable { to, message }, &mut more);
    }
    assert!(
        queries_in(&more).is_empty(),
        "a poll that reached nobody started the next one at once: {more:?}"
    );
    // The driver is told to come back after the back-off, not at once.
    let resume = 100 + tuning.unreachable_backoff_ms;
    assert_eq!(engine.next_deadline(), resume);
    more.clear();
    engine.handle(Input::Tick { now_ms: resume - 1 }, &mut more);
    assert!(queries_in(&more).is_empty(), "{more:?}");
    // After it, polling resumes.
    engine.handle(Input::Tick { now_ms: resume }, &mut more);
    assert!(
        !queries_in(&more).is_empty(),
        "polling did not resume: {more:?}"
    );
}

#[test]
fn next_deadline_names_the_tick_that_has_work() {
    let w = world();
    let tuning = Tuning::default();
    let mut engine = Engine::new(config(0)).expect("engine");
    // Idle: the next idle poll.
    assert_eq!(engine.next_deadline(), tuning.idle_poll_interval_ms);
    let mut out = Vec::new();
    engine.handle(Input::Tick { now_ms: 5 }, &mut out);
    engine.handle(
        Input::SubmitTransaction(transfer(&w.alice, &w.bob, 10, 1)),
        &mut out,
    );
    // None of this relay's vertices is undecided: the partial batch is due at once.
    assert_eq!(engine.next_deadline(), 5);
    out.clear();
    engine.handle(Input::Tick { now_ms: 5 }, &mut out);
    assert!(
        out.iter().any(|o| matches!(
            o,
            Output::Send {
                message: Message::Query { .. },
                ..
            }
        )),
        "the batch was issued and polled: {out:?}"
    );
    // Polls run: the next deadline is when they are asked again.
    let now = 5;
    assert_eq!(engine.next_deadline(), now + tuning.poll_timeout_ms / 2);
    // With its vertex undecided, the next transfer waits out the batch delay.
    engine.handle(
        Input::SubmitTransaction(transfer(&w.alice, &w.bob, 10, 2)),
        &mut out,
    );
    assert_eq!(engine.next_deadline(), now + tuning.batch_delay_ms);
    // A tick before the deadline does nothing.
    out.clear();
    engine.handle(Input::Tick { now_ms: now + 1 }, &mut out);
    assert!(out.is_empty(), "{out:?}");
}

fn chits_answer(outputs: &[Output]) -> Option<Vec<VertexId>> {
    outputs.iter().find_map(|o| match o {
        Output::Send {
            message: Message::Chits { preferred, .. },
            ..
        } => Some(preferred.clone()),
        _ => None,
    })
}

/// Relay 1 issues a vertex; the state relay 0 stored with it undecided.
fn one_undecided_vertex_stored() -> (VertexId, PersistedState) {
    let (_issuer, out) = polling_engine(1);
    let (vertex, bytes) = out
        .iter()
        .find_map(|o| match o {
            Output::Persist(ruv_consensus::Persist::Processing { id, bytes }) => {
                Some((*id, bytes.clone()))
            }
            _ => None,
        })
        .expect("issued a vertex");
    let state = PersistedState {
        accepted: Vec::new(),
        processing: vec![bytes],
    };
    (vertex, state)
}

#[test]
fn a_restarted_relay_abstains_until_its_own_poll_caught_up() {
    // Relay 0 restarts with relay 1's undecided vertex.
    let (vertex, state) = one_undecided_vertex_stored();
    let mut restarted = Engine::restore(config(0), &state, &mut Vec::new()).expect("restores");
    assert_eq!(restarted.preferred_frontier(), &[vertex]);
    let answer = deliver(&mut restarted, 1, &Message::Query { request_id: 7 });
    assert_eq!(chits_answer(&answer), Some(Vec::new()), "abstains at first");

    // Its own polls: the other relays answer with the vertex.
    let mut now = 1_000;
    let mut caught_up = false;
    for _ in 0..100 {
        now += 10;
        let mut out = Vec::new();
        restarted.handle(Input::Tick { now_ms: now }, &mut out);
        let queries: Vec<(ValidatorIndex, u32)> = out
            .iter()
            .filter_map(|o| match o {
                Output::Send {
                    to,
                    message: Message::Query { request_id },
                } => Some((*to, *request_id)),
                _ => None,
            })
            .collect();
        for (to, request_id) in queries {
            let chits = Message::Chits {
                request_id,
                preferred: vec![vertex],
                accepted: Vec::new(),
            };
            deliver(&mut restarted, to.0 as usize, &chits);
        }
        let answer = deliver(&mut restarted, 2, &Message::Query { request_id: 8 });
        match chits_answer(&answer) {
            Some(preferred) if preferred.is_empty() => continue,
            Some(preferred) => {
                assert_eq!(preferred, vec![vertex]);
                caught_up = true;
                break;
            }
            None => continue, // rate limited or accepted meanwhile
        }
    }
    assert!(caught_up, "never stopped abstaining");

    // Request ids of the restarted relay do not start again at 1.
    let first_ids: Vec<u32> = {
        let mut fresh = Engine::restore(config(0), &state, &mut Vec::new()).expect("restores");
        let mut out = Vec::new();
        fresh.handle(Input::Tick { now_ms: 5_000 }, &mut out);
        out.iter()
            .filter_map(|o| match o {
                Output::Send {
                    message: Message::Query { request_id },
                    ..
                } => Some(*request_id),
                _ => None,
            })
            .collect()
    };
    assert!(!first_ids.is_empty());
    assert!(first_ids.iter().all(|id| *id > 16), "{first_ids:?}");
}

#[test]
fn relays_restarted_together_do_not_wait_for_each_other() {
    // A first start (nothing persisted) has nothing to distrust: it votes.
    let mut fresh =
        Engine::restore(config(0), &PersistedState::default(), &mut Vec::new()).expect("restores");
    let answer = deliver(&mut fresh, 1, &Message::Query { request_id: 3 });
    assert_eq!(
        chits_answer(&answer),
        Some(Vec::new()),
        "nothing to prefer yet"
    );

    // A relay restarted with an undecided vertex abstains; when more than
    // 1 - alpha/k of the stake restarted too, the others answer with nothing
    // (they abstain as well): that counts as caught up, or every restarted
    // relay would abstain for ever (also found by the simulator's
    // `crash-conflict` adversary).
    let (vertex, state) = one_undecided_vertex_stored();
    let mut restarted = Engine::restore(config(0), &state, &mut Vec::new()).expect("restores");
    let answer = deliver(&mut restarted, 1, &Message::Query { request_id: 7 });
    assert_eq!(chits_answer(&answer), Some(Vec::new()), "abstains at first");
    let mut now = 1_000;
    let mut voted = false;
    for _ in 0..100 {
        now += 10;
        let mut out = Vec::new();
        restarted.handle(Input::Tick { now_ms: now }, &mut out);
        for o in &out {
            if let Output::Send {
                to,
                message: Message::Query { request_id },
            } = o
            {
                let empty = Message::Chits {
                    request_id: *request_id,
                    preferred: Vec::new(),
                    accepted: Vec::new(),
                };
                deliver(&mut restarted, to.0 as usize, &empty);
            }
        }
        let answer = deliver(&mut restarted, 2, &Message::Query { request_id: 8 });
        if let Some(preferred) = chits_answer(&answer) {
            if preferred == vec![vertex] {
                voted = true;
                break;
            }
        }
    }
    assert!(voted, "kept abstaining although every relay answered");
}

#[test]
fn no_cap_starves_a_preferred_vertex_of_chits() {
    let w = world();
    let mut engine = Engine::new(config(0)).expect("engine");
    let tx = transfer(&w.alice, &w.bob, 10, 1);
    // 70 preferred tips (copies of one transfer, different signatures):
    // more than one Chits message can name.
    let mut tips = std::collections::BTreeSet::new();
    for i in 0..70u8 {
        let v = VertexContent {
            chain_id: w.genesis.chain_id.clone(),
            issuer: ValidatorIndex(1),
            height: 0,
            parents: Vec::new(),
            txs: vec![tx.clone()],
        }
        .sign(&w.relays[1], [i; 32])
        .expect("signs");
        tips.insert(v.id());
        deliver(&mut engine, 1, &Message::Vertex(v.bytes().clone()));
    }
    assert_eq!(engine.processing_count(), 70);
    let mut named = std::collections::BTreeSet::new();
    for request_id in 0..60 {
        let answer = deliver(&mut engine, 2, &Message::Query { request_id });
        let chits = chits_answer(&answer).expect("answered");
        assert_eq!(chits.len(), ruv_consensus::message::MAX_CHITS);
        named.extend(chits);
    }
    assert_eq!(
        named, tips,
        "every preferred vertex is named in some answer"
    );
}

#[test]
fn a_chit_for_a_parked_vertex_counts_for_its_known_ancestors() {
    let w = world();
    let mut engine = Engine::new(config(0)).expect("engine");
    let parent = vertex(
        1,
        &w.relays[1],
        0,
        Vec::new(),
        vec![transfer(&w.alice, &w.bob, 10, 1)],
    );
    // Never delivered: the child waits for it.
    let missing = vertex(
        2,
        &w.relays[2],
        0,
        Vec::new(),
        vec![transfer(&w.bob, &w.alice, 10, 1)],
    );
    let child = vertex(
        1,
        &w.relays[1],
        1,
        vec![parent.id(), missing.id()],
        vec![transfer(&w.alice, &w.bob, 10, 2)],
    );
    deliver(&mut engine, 1, &Message::Vertex(parent.bytes().clone()));
    deliver(&mut engine, 1, &Message::Vertex(child.bytes().clone()));
    assert_eq!(engine.waiting_count(), 1, "the child is parked");
    // Every peer votes for the parked child only, and never sends the
    // missing parent: those votes count for the known parent.
    let mut now = 10;
    for _ in 0..200 {
        if engine.vertex_status(&parent.id()) == Some(VertexStatus::Accepted) {
            break;
        }
        now += 10;
        let mut out = Vec::new();
        engine.handle(Input::Tick { now_ms: now }, &mut out);
        for output in out {
            if let Output::Send {
                to,
                message: Message::Query { request_id },
            } = output
            {
                let chits = Message::Chits {
                    request_id,
                    preferred: vec![child.id()],
                    accepted: Vec::new(),
                };
                deliver(&mut engine, to.0 as usize, &chits);
            }
        }
    }
    assert_eq!(
        engine.vertex_status(&parent.id()),
        Some(VertexStatus::Accepted)
    );
}

/// Vertices without transactions this engine broadcast in `out`.
fn merges_in(outputs: &[Output]) -> Vec<Vertex> {
    outputs
        .iter()
        .filter_map(|output| match output {
            Output::Broadcast {
                message: Message::Vertex(bytes),
            } => Vertex::decode(bytes).ok(),
            _ => None,
        })
        .filter(|v| v.txs().is_empty())
        .collect()
}

#[test]
fn a_frontier_wider_than_one_answer_is_merged_at_a_bounded_rate() {
    let w = world();
    let mut engine = Engine::new(config(0)).expect("engine");
    let interval = Tuning::default().merge_interval_ms;
    let tx = transfer(&w.alice, &w.bob, 10, 1);
    // 70 undecided tips on the same (no) parents, as a Byzantine relay
    // issues them: more than one Chits message can name, and nothing
    // builds on them.
    let mut tips = std::collections::BTreeSet::new();
    for i in 0..70u8 {
        let v = VertexContent {
            chain_id: w.genesis.chain_id.clone(),
            issuer: ValidatorIndex(1),
            height: 0,
            parents: Vec::new(),
            txs: vec![tx.clone()],
        }
        .sign(&w.relays[1], [i; 32])
        .expect("signs");
        tips.insert(v.id());
        deliver(&mut engine, 1, &Message::Vertex(v.bytes().clone()));
    }
    let undecided_tips = |engine: &Engine| {
        engine
            .virtuous_frontier()
            .iter()
            .filter(|id| engine.vertex_status(id) == Some(VertexStatus::Processing))
            .count()
    };
    assert_eq!(undecided_tips(&engine), 70);

    // Tips that have not waited a merge interval are left alone.
    let mut out = Vec::new();
    engine.handle(Input::Tick { now_ms: 10 }, &mut out);
    assert!(merges_in(&out).is_empty());

    let mut now = 10;
    let mut merges = 0;
    while now < 200 * interval {
        now += interval / 2;
        let mut out = Vec::new();
        engine.handle(Input::Tick { now_ms: now }, &mut out);
        let issued = merges_in(&out);
        assert!(issued.len() <= 1, "one merge per tick at most");
        for merge in &issued {
            // Two parents (the genesis limit), each an undecided tip.
            assert_eq!(merge.parents().len(), 2);
            assert!(merge.parents().iter().all(|p| engine.vertex(p).is_some()));
            assert_eq!(merge.issuer(), ValidatorIndex(0));
            merges += 1;
        }
        if undecided_tips(&engine) <= ruv_consensus::message::MAX_CHITS / 2 {
            break;
        }
    }
    // Each merge replaces two tips by one, at most one per interval.
    assert_eq!(
        undecided_tips(&engine),
        ruv_consensus::message::MAX_CHITS / 2
    );
    assert_eq!(merges, 70 - ruv_consensus::message::MAX_CHITS / 2);
    assert!(now >= merges as u64 * interval);
    // Every answer now names every undecided tip, and through them every
    // original tip is voted for.
    let chits = chits_answer(&deliver(&mut engine, 2, &Message::Query { request_id: 1 }))
        .expect("answered");
    assert_eq!(chits.len(), undecided_tips(&engine));
    // Narrow enough: no more merges.
    let mut out = Vec::new();
    engine.handle(
        Input::Tick {
            now_ms: now + 10 * interval,
        },
        &mut out,
    );
    assert!(merges_in(&out).is_empty());
}

#[test]
fn a_vertex_without_transactions_needs_two_parents() {
    let w = world();
    let mut engine = Engine::new(config(0)).expect("engine");
    let a = vertex(
        1,
        &w.relays[1],
        0,
        vec![],
        vec![transfer(&w.alice, &w.bob, 10, 1)],
    );
    let b = vertex(
        2,
        &w.relays[2],
        0,
        vec![],
        vec![transfer(&w.bob, &w.alice, 10, 1)],
    );
    deliver(&mut engine, 1, &Message::Vertex(a.bytes().clone()));
    deliver(&mut engine, 2, &Message::Vertex(b.bytes().clone()));
    let lone = vertex(1, &w.relays[1], 1, vec![a.id()], vec![]);
    deliver(&mut engine, 1, &Message::Vertex(lone.bytes().clone()));
    assert_eq!(engine.vertex_status(&lone.id()), None);
    assert_eq!(
        engine
            .metrics()
            .dropped
            .get(&DropReason::BadTransactionCount),
        Some(&1)
    );
    let merge = vertex(1, &w.relays[1], 1, vec![a.id(), b.id()], vec![]);
    deliver(&mut engine, 1, &Message::Vertex(merge.bytes().clone()));
    assert_eq!(
        engine.vertex_status(&merge.id()),
        Some(VertexStatus::Processing)
    );
    // The merge is the one preferred tip: a vote for it is a vote for both.
    assert_eq!(engine.preferred_frontier()[0], merge.id());
}

/// An engine restored with `tips` accepted vertices on no parents, 69 of
/// them copies of one of bob's transfers and one holding alice's nonce 1
/// (returned): more accepted tips than one answer may name.
fn many_accepted_tips(w: &World) -> (Engine, VertexId, Vec<VertexId>) {
    let bobs = transfer(&w.bob, &w.alice, 10, 1);
    let mut log: Vec<Vertex> = (0..69u8)
        .map(|i| {
            VertexContent {
                chain_id: w.genesis.chain_id.clone(),
                issuer: ValidatorIndex(1),
                height: 0,
                parents: Vec::new(),
                txs: vec![bobs.clone()],
            }
            .sign(&w.relays[1], [i; 32])
            .expect("signs")
        })
        .collect();
    let alices = vertex(
        2,
        &w.relays[2],
        0,
        vec![],
        vec![transfer(&w.alice, &w.bob, 10, 1)],
    );
    let alices_id = alices.id();
    log.push(alices);
    let ids = log.iter().map(|v| v.id()).collect();
    let state = PersistedState {
        accepted: log.iter().map(|v| v.bytes().clone()).collect(),
        processing: Vec::new(),
    };
    let engine = Engine::restore(config(0), &state, &mut Vec::new()).expect("restores");
    (engine, alices_id, ids)
}

#[test]
fn every_accepted_tip_is_named_in_some_answer() {
    let w = world();
    let (mut engine, _, tips) = many_accepted_tips(w);
    // (Restored, it abstains from voting; its accepted tips it reports.)
    let mut claimed = std::collections::BTreeSet::new();
    for request_id in 0..60 {
        let answer = deliver(&mut engine, 2, &Message::Query { request_id });
        let accepted = answer
            .iter()
            .find_map(|o| match o {
                Output::Send {
                    message: Message::Chits { accepted, .. },
                    ..
                } => Some(accepted.clone()),
                _ => None,
            })
            .expect("answered");
        assert_eq!(accepted.len(), ruv_consensus::message::MAX_CHITS);
        claimed.extend(accepted);
    }
    let tips: std::collections::BTreeSet<VertexId> = tips.into_iter().collect();
    // A relay still polling any of them hears this one accepted it.
    assert_eq!(claimed, tips);
}

/// Vertices with transactions this engine broadcast in `out`.
fn issued_in(outputs: &[Output]) -> Vec<Vertex> {
    outputs
        .iter()
        .filter_map(|output| match output {
            Output::Broadcast {
                message: Message::Vertex(bytes),
            } => Vertex::decode(bytes).ok(),
            _ => None,
        })
        .filter(|v| !v.txs().is_empty())
        .collect()
}

#[test]
fn a_transfer_is_issued_on_the_vertex_holding_its_previous_nonce() {
    let w = world();
    let (mut engine, alices, _) = many_accepted_tips(w);
    let mut out = Vec::new();
    engine.handle(Input::Tick { now_ms: 10 }, &mut out);
    engine.handle(
        Input::SubmitTransaction(transfer(&w.alice, &w.bob, 10, 2)),
        &mut out,
    );
    engine.handle(Input::Tick { now_ms: 100 }, &mut out);
    let issued = issued_in(&out);
    // Two parents out of 70 tips: only the one holding alice's nonce 1
    // makes her nonce 2 valid.
    assert_eq!(issued.len(), 1, "issued at once");
    assert!(issued[0].parents().contains(&alices));
}

#[test]
fn parents_avoid_young_foreign_tips_and_take_one_per_issuer() {
    let w = world();
    let mut engine = Engine::new(config(0)).expect("engine");
    let min_age = Tuning::default().parent_min_age_ms;
    let mut out = Vec::new();
    engine.handle(Input::Tick { now_ms: 10 }, &mut out);
    // Relay 1 issues three conflict-free tips (copies of one of bob's transfers).
    let bobs = transfer(&w.bob, &w.alice, 10, 1);
    let mut relay1_tips = std::collections::BTreeSet::new();
    for i in 0..3u8 {
        let v = VertexContent {
            chain_id: w.genesis.chain_id.clone(),
            issuer: ValidatorIndex(1),
            height: 0,
            parents: Vec::new(),
            txs: vec![bobs.clone()],
        }
        .sign(&w.relays[1], [i; 32])
        .expect("signs");
        relay1_tips.insert(v.id());
        deliver(&mut engine, 1, &Message::Vertex(v.bytes().clone()));
    }
    // Just arrived: not a parent yet.
    let mut out = Vec::new();
    engine.handle(
        Input::SubmitTransaction(transfer(&w.alice, &w.bob, 10, 1)),
        &mut out,
    );
    engine.handle(Input::Tick { now_ms: 100 }, &mut out);
    let first = issued_in(&out);
    assert_eq!(first.len(), 1);
    assert!(first[0].parents().is_empty(), "{:?}", first[0].parents());
    // Once old enough: one of relay 1's tips, never two (plus its own tip).
    let mut out = Vec::new();
    engine.handle(
        Input::SubmitTransaction(transfer(&w.alice, &w.bob, 10, 2)),
        &mut out,
    );
    engine.handle(
        Input::Tick {
            now_ms: 100 + min_age,
        },
        &mut out,
    );
    let second = issued_in(&out);
    assert_eq!(second.len(), 1);
    let parents = second[0].parents();
    assert_eq!(parents.len(), 2);
    assert!(parents.contains(&first[0].id()));
    assert_eq!(
        parents.iter().filter(|p| relay1_tips.contains(p)).count(),
        1
    );
}

#[test]
fn used_nonces_are_refused_before_any_signature_check() {
    let w = world();
    let mut engine = Engine::new(config(0)).expect("engine");
    // Nonce 0 with a broken signature: refused for its nonce, unverified.
    let mut bad = (*transfer(&w.alice, &w.bob, 1_000, 0)).clone();
    bad.transfer.amount = 1_001;
    let bad = Arc::new(bad);
    let mut out = Vec::new();
    engine.handle(Input::SubmitTransaction(bad.clone()), &mut out);
    assert!(
        matches!(
            out.as_slice(),
            [Output::TxRejected {
                reason: TxRejection::StaleNonce { got: 0, .. },
                ..
            }]
        ),
        "{out:?}"
    );
    // In gossip: dropped as invalid, not as a bad signature.
    deliver(&mut engine, 1, &Message::Transaction(bad.clone()));
    // In a vertex whose own signature is broken too: the nonce decides.
    let v = vertex(1, &w.relays[1], 0, vec![], vec![bad]);
    let mut bytes = v.bytes().to_vec();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    deliver(&mut engine, 1, &Message::Vertex(bytes.into()));
    let dropped = &engine.metrics().dropped;
    assert_eq!(dropped.get(&DropReason::BadSignature), None, "{dropped:?}");
    assert_eq!(dropped.get(&DropReason::InvalidTransaction), Some(&1));
    assert_eq!(dropped.get(&DropReason::InvalidGossipTransaction), Some(&1));
}

#[test]
fn a_transfer_whose_previous_nonce_never_arrives_expires_and_is_not_rejected() {
    let w = world();
    let mut engine = Engine::new(config(0)).expect("engine starts");
    let ttl = Tuning::default().tx_retry_ttl_ms;
    let gap = transfer(&w.alice, &w.bob, 1_000, 2);
    let id = gap.id();
    let mut out = Vec::new();
    engine.handle(Input::Tick { now_ms: 1 }, &mut out);
    engine.handle(Input::SubmitTransaction(gap.clone()), &mut out);
    assert_eq!(engine.tx_status(&id), TxStatus::Pending);
    // Drive the engine at its own deadlines until the retry TTL has passed.
    let mut expired_at = None;
    let mut now = 1;
    while now <= 3 * ttl && expired_at.is_none() {
        now = engine.next_deadline().max(now + 1);
        out.clear();
        engine.handle(Input::Tick { now_ms: now }, &mut out);
        assert!(
            !out.iter()
                .any(|o| matches!(o, Output::TxRejected { id: r, .. } if *r == id)),
            "a nonce gap is never reported as rejected"
        );
        if out.iter().any(|o| {
            matches!(o, Output::TxExpired { id: r, reason: TxRejection::NonceGap { expected: 1, got: 2 } } if *r == id)
        }) {
            expired_at = Some(now);
        } else {
            assert_eq!(engine.tx_status(&id), TxStatus::Pending);
        }
    }
    let expired_at = expired_at.expect("the gapped transfer expires");
    assert!(expired_at > ttl, "it waited for the retry TTL");
    assert_eq!(engine.tx_status(&id), TxStatus::Expired);
    assert_eq!(engine.metrics().transactions_expired, 1);
    assert_eq!(engine.metrics().transactions_rejected, 0);
    // Submitted again, it is pending again, no longer expired.
    out.clear();
    engine.handle(Input::SubmitTransaction(gap), &mut out);
    assert_eq!(engine.tx_status(&id), TxStatus::Pending);
}

fn dropped(outputs: &[Output]) -> Vec<(TxId, TxDropReason)> {
    outputs
        .iter()
        .filter_map(|o| match o {
            Output::TxDropped { id, reason } => Some((*id, *reason)),
            _ => None,
        })
        .collect()
}

/// A vertex signed with its own randomness (so equal contents differ).
fn vertex_signed(
    issuer: usize,
    height: u64,
    parents: Vec<VertexId>,
    txs: Vec<Arc<SignedTransfer>>,
    randomness: u8,
) -> Vertex {
    let w = world();
    VertexContent {
        chain_id: w.genesis.chain_id.clone(),
        issuer: ValidatorIndex(issuer as u16),
        height,
        parents,
        txs,
    }
    .sign(&w.relays[issuer], [randomness; 32])
    .expect("signs")
}

/// Relay 0 restored with two accepted vertices at height 0: `a` (relay 1,
/// alice's nonce 1) and `b` (relay 2, bob's nonce 1).
fn two_accepted(tuning: Tuning) -> (Engine, Vertex, Vertex) {
    let w = world();
    let a = vertex_signed(1, 0, vec![], vec![transfer(&w.alice, &w.bob, 10, 1)], 1);
    let b = vertex_signed(2, 0, vec![], vec![transfer(&w.bob, &w.alice, 10, 1)], 2);
    let state = PersistedState {
        accepted: vec![a.bytes().clone(), b.bytes().clone()],
        processing: Vec::new(),
    };
    let config = EngineConfig {
        tuning,
        ..config(0)
    };
    let engine = Engine::restore(config, &state, &mut Vec::new()).expect("restores");
    (engine, a, b)
}

fn stored(outputs: &[Output]) -> Vec<VertexId> {
    outputs
        .iter()
        .filter_map(|o| match o {
            Output::Persist(Persist::Processing { id, .. } | Persist::Accepted { id, .. }) => {
                Some(*id)
            }
            _ => None,
        })
        .collect()
}

#[test]
fn a_full_pool_evicts_the_lowest_paying_unissued_transfer_for_a_better_paying_one() {
    let w = world();
    let mut cfg = config(0);
    cfg.tuning.max_pending_txs = 2;
    let mut engine = Engine::new(cfg).expect("engine starts");
    let fee = minimum_fee();
    // Nonce gaps: neither can be issued, so both wait in the pool.
    let cheap = transfer_paying(&w.alice, &w.bob, 1_000, 2, fee);
    let dearer = transfer_paying(&w.bob, &w.alice, 1_000, 2, fee + 500);
    let mut out = Vec::new();
    engine.handle(Input::Tick { now_ms: 1 }, &mut out);
    engine.handle(Input::SubmitTransaction(cheap.clone()), &mut out);
    engine.handle(Input::SubmitTransaction(dearer.clone()), &mut out);
    assert!(dropped(&out).is_empty());
    // Paying no more than the lowest: refused, nothing leaves.
    let same_rate = transfer_paying(&w.alice, &w.bob, 1_000, 3, fee);
    out.clear();
    engine.handle(Input::SubmitTransaction(same_rate.clone()), &mut out);
    assert_eq!(
        dropped(&out),
        vec![(same_rate.id(), TxDropReason::PoolFull)]
    );
    assert_eq!(engine.tx_status(&cheap.id()), TxStatus::Pending);
    // Paying more: the cheapest leaves, as expired (never issued, nonce unused).
    let best = transfer_paying(&w.bob, &w.alice, 1_000, 3, fee + 5_000);
    out.clear();
    engine.handle(Input::SubmitTransaction(best.clone()), &mut out);
    assert_eq!(dropped(&out), vec![(cheap.id(), TxDropReason::Evicted)]);
    assert_eq!(engine.tx_status(&cheap.id()), TxStatus::Expired);
    assert_eq!(engine.tx_status(&best.id()), TxStatus::Pending);
    assert_eq!(engine.tx_status(&dearer.id()), TxStatus::Pending);
    assert_eq!(engine.metrics().transactions_evicted, 1);
    // Gossip obeys the same rule.
    let gossiped = transfer_paying(&w.alice, &w.bob, 1_000, 4, fee + 1_000);
    let out = deliver(&mut engine, 1, &Message::Transaction(gossiped.clone()));
    assert_eq!(dropped(&out), vec![(dearer.id(), TxDropReason::Evicted)]);
    assert_eq!(engine.tx_status(&gossiped.id()), TxStatus::Pending);
}

#[test]
fn a_transfer_already_in_a_vertex_is_never_evicted() {
    let w = world();
    let mut cfg = config(0);
    cfg.tuning.max_pending_txs = 1;
    let mut engine = Engine::new(cfg).expect("engine starts");
    let issued = transfer(&w.alice, &w.bob, 1_000, 1);
    let mut out = Vec::new();
    engine.handle(Input::Tick { now_ms: 1 }, &mut out);
    engine.handle(Input::SubmitTransaction(issued.clone()), &mut out);
    engine.handle(Input::Tick { now_ms: 100 }, &mut out);
    assert!(
        issued_in(&out)
            .iter()
            .any(|v| v.txs().iter().any(|t| t.id() == issued.id())),
        "the valid transfer is issued in a vertex"
    );
    let rich = transfer_paying(&w.bob, &w.alice, 1_000, 1, minimum_fee() * 100);
    out.clear();
    engine.handle(Input::SubmitTransaction(rich.clone()), &mut out);
    assert_eq!(dropped(&out), vec![(rich.id(), TxDropReason::PoolFull)]);
    assert_eq!(engine.tx_status(&issued.id()), TxStatus::Pending);
}

#[test]
fn a_gossiped_copy_of_accepted_transfers_is_turned_away_and_fetched_again_when_needed() {
    let w = world();
    let (mut engine, a, b) = two_accepted(Tuning::default());
    let alices = a.txs()[0].clone();
    // Relay 1 re-wraps alice's accepted transfer on an accepted tip that
    // does not hold it (valid: a transfer appears once in an ancestry).
    let copy = vertex_signed(1, 1, vec![b.id()], vec![alices], 3);
    let out = deliver(&mut engine, 1, &Message::Vertex(copy.bytes().clone()));
    assert!(
        stored(&out).is_empty(),
        "a doomed vertex is not stored: {out:?}"
    );
    assert_eq!(engine.vertex_status(&copy.id()), None);
    assert_eq!(engine.metrics().dropped(DropReason::Doomed), 1);
    assert_eq!(engine.doomed_count(), 1);
    assert!(!engine.virtuous_frontier().contains(&copy.id()));
    // The same bytes again cost nothing.
    deliver(&mut engine, 1, &Message::Vertex(copy.bytes().clone()));
    assert_eq!(engine.metrics().dropped(DropReason::Duplicate), 1);

    // A vertex on the copy (as relay 1's own, which accepted it): this relay
    // fetches the copy again and handles it as an ordinary ancestor.
    let child = vertex_signed(
        1,
        2,
        vec![copy.id()],
        vec![transfer(&w.alice, &w.bob, 10, 2)],
        4,
    );
    let out = deliver(&mut engine, 1, &Message::Vertex(child.bytes().clone()));
    let request_id = out
        .iter()
        .find_map(|o| match o {
            Output::Send {
                message: Message::GetAncestors { request_id, ids },
                ..
            } if ids == &[copy.id()] => Some(*request_id),
            _ => None,
        })
        .expect("the turned-away parent is fetched");
    let out = deliver(
        &mut engine,
        1,
        &Message::Ancestors {
            request_id,
            vertices: vec![copy.bytes().clone()],
        },
    );
    assert_eq!(
        engine.vertex_status(&copy.id()),
        Some(VertexStatus::Accepted),
        "a needed copy is accepted at once, as on every relay that kept it"
    );
    assert!(stored(&out).contains(&copy.id()));
    assert_eq!(
        engine.vertex_status(&child.id()),
        Some(VertexStatus::Processing)
    );
    assert_eq!(engine.doomed_count(), 0);
}

#[test]
fn a_gossiped_merge_of_decided_vertices_is_turned_away() {
    let (mut engine, a, b) = two_accepted(Tuning::default());
    let merge = vertex_signed(1, 1, vec![a.id(), b.id()], vec![], 5);
    let out = deliver(&mut engine, 1, &Message::Vertex(merge.bytes().clone()));
    assert!(stored(&out).is_empty(), "{out:?}");
    assert_eq!(engine.vertex_status(&merge.id()), None);
    assert_eq!(engine.metrics().dropped(DropReason::Doomed), 1);
    assert!(!engine.virtuous_frontier().contains(&merge.id()));
}

#[test]
fn a_gossiped_vertex_reusing_an_accepted_nonce_is_not_kept_but_its_other_transfer_is() {
    let w = world();
    let (mut engine, a, b) = two_accepted(Tuning::default());
    // Alice's nonce 1 went to bob in `a`; this one double spends it.
    let conflicting = transfer(&w.alice, &w.alice, 7, 1);
    let bobs_next = transfer(&w.bob, &w.alice, 10, 2);
    let doomed = vertex_signed(
        2,
        1,
        vec![a.id(), b.id()],
        vec![conflicting, bobs_next.clone()],
        6,
    );
    let out = deliver(&mut engine, 2, &Message::Vertex(doomed.bytes().clone()));
    assert!(stored(&out).is_empty(), "{out:?}");
    assert_eq!(engine.vertex_status(&doomed.id()), None);
    assert_eq!(engine.metrics().dropped(DropReason::Doomed), 1);
    assert_eq!(engine.tx_status(&bobs_next.id()), TxStatus::Pending);
}

#[test]
fn an_issuer_over_budget_is_refused_until_its_window_refills() {
    let w = world();
    let tuning = Tuning {
        issuer_budget_vertices: 3,
        issuer_budget_window_ms: 10_000,
        ..Tuning::default()
    };
    let (mut engine, a, b) = two_accepted(tuning);
    let alices = a.txs()[0].clone();
    // Three doomed copies use relay 1's budget although none is stored.
    for r in 10..13 {
        let copy = vertex_signed(1, 1, vec![b.id()], vec![alices.clone()], r);
        deliver(&mut engine, 1, &Message::Vertex(copy.bytes().clone()));
    }
    assert_eq!(engine.metrics().dropped(DropReason::Doomed), 3);
    assert_eq!(engine.issuer_budget_used(ValidatorIndex(1)), 3);
    // Now even a useful vertex of relay 1 is refused, before its signature
    // is checked, and counted for the operator; relay 2 is unaffected.
    let useful = vertex_signed(
        1,
        1,
        vec![a.id(), b.id()],
        vec![transfer(&w.alice, &w.bob, 10, 2)],
        20,
    );
    deliver(&mut engine, 1, &Message::Vertex(useful.bytes().clone()));
    assert_eq!(engine.vertex_status(&useful.id()), None);
    assert_eq!(engine.metrics().dropped(DropReason::IssuerBudget), 1);
    assert_eq!(engine.metrics().issuer_budget_refusals.get(&1), Some(&1));
    let others = vertex_signed(
        2,
        1,
        vec![a.id(), b.id()],
        vec![transfer(&w.bob, &w.alice, 10, 2)],
        21,
    );
    deliver(&mut engine, 2, &Message::Vertex(others.bytes().clone()));
    assert_eq!(
        engine.vertex_status(&others.id()),
        Some(VertexStatus::Processing)
    );
    // Refused is not invalid: once a third of the window passed, it is admitted.
    let mut out = Vec::new();
    engine.handle(Input::Tick { now_ms: 3_400 }, &mut out);
    deliver(&mut engine, 1, &Message::Vertex(useful.bytes().clone()));
    assert_eq!(
        engine.vertex_status(&useful.id()),
        Some(VertexStatus::Processing)
    );
}

#[test]
fn a_vertex_over_budget_that_another_needs_is_still_fetched_and_kept() {
    let w = world();
    let tuning = Tuning {
        issuer_budget_vertices: 1,
        issuer_budget_window_ms: 1_000_000,
        ..Tuning::default()
    };
    let (mut engine, a, b) = two_accepted(tuning);
    let first = vertex_signed(
        1,
        1,
        vec![a.id(), b.id()],
        vec![transfer(&w.alice, &w.bob, 10, 2)],
        30,
    );
    let second = vertex_signed(
        1,
        2,
        vec![first.id()],
        vec![transfer(&w.alice, &w.bob, 10, 3)],
        31,
    );
    deliver(&mut engine, 1, &Message::Vertex(first.bytes().clone()));
    deliver(&mut engine, 1, &Message::Vertex(second.bytes().clone()));
    assert_eq!(engine.metrics().dropped(DropReason::IssuerBudget), 1);
    assert_eq!(engine.vertex_status(&second.id()), None);
    // Relay 2 builds on `second`: this relay asks for it and keeps it.
    let third = vertex_signed(
        2,
        3,
        vec![second.id()],
        vec![transfer(&w.bob, &w.alice, 10, 2)],
        32,
    );
    let out = deliver(&mut engine, 2, &Message::Vertex(third.bytes().clone()));
    let request_id = out
        .iter()
        .find_map(|o| match o {
            Output::Send {
                message: Message::GetAncestors { request_id, ids },
                ..
            } if ids == &[second.id()] => Some(*request_id),
            _ => None,
        })
        .expect("the refused parent is fetched");
    deliver(
        &mut engine,
        2,
        &Message::Ancestors {
            request_id,
            vertices: vec![second.bytes().clone()],
        },
    );
    assert_eq!(
        engine.vertex_status(&second.id()),
        Some(VertexStatus::Processing)
    );
    assert_eq!(
        engine.vertex_status(&third.id()),
        Some(VertexStatus::Processing)
    );
}

#[test]
fn an_honest_issuers_accepted_vertices_are_refunded_to_its_budget() {
    let w = world();
    // A window so long that nothing refills during the test: only refunds
    // can bring the use back down.
    let mut net = Net::with_tuning(Tuning {
        issuer_budget_window_ms: u64::MAX / 4,
        ..Tuning::default()
    });
    let txs: Vec<_> = (1..=3)
        .map(|nonce| transfer(&w.alice, &w.bob, 100, nonce))
        .collect();
    for tx in &txs {
        net.input(1, Input::SubmitTransaction(tx.clone()));
        net.run_ms(200);
    }
    net.run_ms(1_000);
    for relay in [0, 2] {
        let engine = &net.engines[relay];
        for tx in &txs {
            assert!(matches!(
                engine.tx_status(&tx.id()),
                TxStatus::Accepted { .. }
            ));
        }
        assert!(engine.metrics().vertices_added >= 1);
        assert_eq!(engine.issuer_budget_used(ValidatorIndex(1)), 0);
        assert!(engine.metrics().issuer_budget_refusals.is_empty());
    }
}
