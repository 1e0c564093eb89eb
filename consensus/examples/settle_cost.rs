//! What one relay's engine spends per input and per accepted transfer as
//! its backlog of undecided vertices grows, with the incremental settle
//! (issue 9) and with the full rescans it replaced, in the same run.
//!
//! ```text
//! cargo run --release -p ruv-consensus --example settle_cost [-- B ...]
//! ```
//!
//! Four engines over an in-process network (every message arrives 5 ms
//! after it was sent, in order). Relay 0, the one measured, holds stake 1
//! against 100 for each other relay, and nothing it sends arrives except
//! its queries (and other relays' queries to it come back undeliverable at
//! once): its own vertices stay undecided for ever (the others never see
//! them, and its own answers are too few for alpha), while it follows the
//! network's decisions through its polls. First relay 0 issues `B` vertices
//! of one transfer each (the backlog, not timed); then 600 transfers are
//! submitted to the other relays at 1,000 per second, and the run goes on
//! until relay 0 has accepted all of them. Timed: relay 0's `Engine::handle`
//! calls during that phase only. Both modes see the same inputs and give
//! the same outputs (the digest printed per run must match).

use ruv_consensus::Message;
use ruv_consensus::{Engine, EngineConfig, Input, Output, Tuning, ValidatorIndex};
use ruv_protocol::genesis::{GenesisBalance, ValidatorEntry};
use ruv_protocol::tx::SIGNED_TRANSFER_FIXED_LEN;
use ruv_protocol::{Address, FeeSchedule, Genesis, SignedTransfer, SigningKey, Transfer};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

const RELAYS: usize = 4;
const LATENCY_MS: u64 = 5;
const TICK_MS: u64 = 5;
const WORKLOAD_TXS: usize = 600;
const WORKLOAD_SENDERS: usize = 60;
const CHAIN_ID: &str = "ruv-settle-cost";

fn key(kind: u8, index: usize) -> SigningKey {
    let mut seed = [kind; 32];
    seed[..8].copy_from_slice(&(index as u64).to_le_bytes());
    SigningKey::from_seed(&seed)
}

fn address(key: &SigningKey) -> Address {
    Address::from_public_key(key.public_key())
}

fn transfer(genesis: &Genesis, from: &SigningKey, nonce: u64, tag: u64) -> Arc<SignedTransfer> {
    let size = SIGNED_TRANSFER_FIXED_LEN + genesis.chain_id.len();
    let fee = genesis.fees.minimum_fee(size).expect("fee") + 1_000;
    let t = Transfer {
        chain_id: genesis.chain_id.clone(),
        from: address(from),
        to: address(from),
        amount: 1,
        fee,
        nonce,
        memo: String::new(),
        public_key: from.public_key().clone(),
    };
    let mut randomness = [0u8; 32];
    randomness[..8].copy_from_slice(&tag.to_le_bytes());
    Arc::new(t.sign(from, randomness).expect("signs"))
}

struct Net {
    engines: Vec<Engine>,
    /// (time, sequence) -> (relay, input).
    queue: BTreeMap<(u64, u64), (usize, Input)>,
    seq: u64,
    now: u64,
    last_tick: u64,
    /// Timing and counts of relay 0 while `measuring`.
    measuring: bool,
    busy: Duration,
    inputs: u64,
    accepted: u64,
    /// Folded from relay 0's outputs: both modes must agree.
    digest: u64,
}

impl Net {
    fn schedule(&mut self, at: u64, node: usize, input: Input) {
        self.seq += 1;
        self.queue.insert((at, self.seq), (node, input));
    }

    fn feed(&mut self, node: usize, input: Input) {
        let mut out = Vec::new();
        if node == 0 && self.measuring {
            let started = Instant::now();
            self.engines[0].handle(input, &mut out);
            self.busy += started.elapsed();
            self.inputs += 1;
        } else {
            self.engines[node].handle(input, &mut out);
        }
        for output in out {
            if node == 0 {
                let text = format!("{output:?}");
                for b in text.bytes() {
                    self.digest = (self.digest ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
                }
            }
            match output {
                Output::Send { to, message } => {
                    let to = to.0 as usize;
                    if to == node || to >= RELAYS {
                        continue;
                    }
                    let is_query = matches!(message, Message::Query { .. });
                    if to == 0 && is_query {
                        // Relay 0 answers nobody: its link is down.
                        self.schedule(
                            self.now,
                            node,
                            Input::Undeliverable {
                                to: ValidatorIndex(0),
                                message,
                            },
                        );
                    } else if node != 0 || is_query {
                        let bytes = message.encode();
                        self.schedule(
                            self.now + LATENCY_MS,
                            to,
                            Input::PeerMessage {
                                from: ValidatorIndex(node as u16),
                                bytes,
                            },
                        );
                    }
                }
                Output::Broadcast { message } if node != 0 => {
                    let bytes = message.encode();
                    for to in 0..RELAYS {
                        if to != node {
                            self.schedule(
                                self.now + LATENCY_MS,
                                to,
                                Input::PeerMessage {
                                    from: ValidatorIndex(node as u16),
                                    bytes: bytes.clone(),
                                },
                            );
                        }
                    }
                }
                Output::TxAccepted { .. } if node == 0 && self.measuring => self.accepted += 1,
                _ => {}
            }
        }
    }

    /// Runs events (and a tick for every relay every `TICK_MS`) up to `until`.
    fn run_until(&mut self, until: u64) {
        loop {
            let next_tick = self.last_tick + TICK_MS;
            let next_event = self.queue.keys().next().map(|(t, _)| *t);
            match next_event {
                Some(t) if t < next_tick && t <= until => {
                    let Some((_, (node, input))) = self.queue.pop_first() else {
                        break;
                    };
                    self.now = self.now.max(t);
                    self.feed(node, input);
                }
                _ if next_tick <= until => {
                    self.now = next_tick;
                    self.last_tick = next_tick;
                    for node in 0..RELAYS {
                        self.feed(node, Input::Tick { now_ms: self.now });
                    }
                }
                _ => break,
            }
        }
        self.now = self.now.max(until);
    }
}

struct Figures {
    busy: Duration,
    inputs: u64,
    accepted: u64,
    backlog: usize,
    sim_ms: u64,
    digest: u64,
}

fn run(backlog: usize, full: bool) -> Figures {
    let validators: Vec<Arc<SigningKey>> = (0..RELAYS).map(|i| Arc::new(key(1, i))).collect();
    let stuck: Vec<SigningKey> = (0..backlog).map(|i| key(2, i)).collect();
    let senders: Vec<SigningKey> = (0..WORKLOAD_SENDERS).map(|i| key(3, i)).collect();
    let genesis = Genesis {
        chain_id: CHAIN_ID.into(),
        balances: stuck
            .iter()
            .chain(&senders)
            .map(|k| GenesisBalance {
                address: address(k),
                amount: 1_000_000_000,
            })
            .collect(),
        fees: FeeSchedule {
            base: 1_000,
            per_byte: 1,
            burn_percent: 50,
        },
        validators: validators
            .iter()
            .enumerate()
            .map(|(i, k)| ValidatorEntry {
                name: format!("relay-{i}"),
                public_key: k.public_key().as_bytes().to_vec(),
                stake: if i == 0 { 1 } else { 100 },
            })
            .collect(),
        consensus: None,
    };
    let engines = validators
        .iter()
        .enumerate()
        .map(|(i, k)| {
            let mut rng_seed = [7u8; 32];
            rng_seed[0] = i as u8;
            Engine::new(EngineConfig {
                genesis: genesis.clone(),
                signing_key: k.clone(),
                rng_seed,
                tuning: Tuning::default(),
            })
            .expect("engine starts")
        })
        .collect();
    let mut net = Net {
        engines,
        queue: BTreeMap::new(),
        seq: 0,
        now: 0,
        last_tick: 0,
        measuring: false,
        busy: Duration::ZERO,
        inputs: 0,
        accepted: 0,
        digest: 0xcbf2_9ce4_8422_2325,
    };
    // The backlog: one vertex per transfer at relay 0 (a batch goes out
    // after the batch delay), in the incremental mode (not timed).
    for (i, k) in stuck.iter().enumerate() {
        let tx = transfer(&genesis, k, 1, i as u64);
        net.feed(0, Input::SubmitTransaction(tx));
        let until = net.now + 25;
        net.run_until(until);
    }
    let backlog_now = net.engines[0].processing_count();
    net.engines[0].set_full_rescan(full);
    net.measuring = true;
    let start = net.now;
    let mut nonces = vec![0u64; WORKLOAD_SENDERS];
    for i in 0..WORKLOAD_TXS {
        let s = i % WORKLOAD_SENDERS;
        nonces[s] += 1;
        let tx = transfer(&genesis, &senders[s], nonces[s], 1_000_000 + i as u64);
        let relay = 1 + s % (RELAYS - 1);
        net.schedule(start + i as u64, relay, Input::SubmitTransaction(tx));
    }
    let deadline = start + 120_000;
    while (net.accepted as usize) < WORKLOAD_TXS && net.now < deadline {
        let until = net.now + 100;
        net.run_until(until);
    }
    Figures {
        busy: net.busy,
        inputs: net.inputs,
        accepted: net.accepted,
        backlog: backlog_now,
        sim_ms: net.now - start,
        digest: net.digest,
    }
}

fn main() {
    let backlogs: Vec<usize> = {
        let args: Vec<usize> = std::env::args()
            .skip(1)
            .filter_map(|a| a.parse().ok())
            .collect();
        if args.is_empty() {
            vec![64, 512, 4096]
        } else {
            args
        }
    };
    println!(
        "relay 0 of {RELAYS}, {WORKLOAD_TXS} transfers at 1,000/s submitted to the others; timed: relay 0's Engine::handle"
    );
    println!(
        "{:>8} {:>11} {:>8} {:>8} {:>9} {:>12} {:>14} {:>18}",
        "backlog", "mode", "inputs", "accepted", "sim ms", "us/input", "us/accepted tx", "digest"
    );
    let mut per_tx: BTreeMap<(bool, usize), f64> = BTreeMap::new();
    for &b in &backlogs {
        for full in [true, false] {
            let f = run(b, full);
            let us_input = f.busy.as_secs_f64() * 1e6 / f.inputs.max(1) as f64;
            let us_tx = f.busy.as_secs_f64() * 1e6 / f.accepted.max(1) as f64;
            per_tx.insert((full, b), us_tx);
            println!(
                "{:>8} {:>11} {:>8} {:>8} {:>9} {:>12.1} {:>14.1} {:>18x}",
                f.backlog,
                if full { "full rescan" } else { "incremental" },
                f.inputs,
                f.accepted,
                f.sim_ms,
                us_input,
                us_tx,
                f.digest
            );
        }
    }
    let (Some(&small), Some(&large)) = (backlogs.first(), backlogs.last()) else {
        return;
    };
    for full in [true, false] {
        let ratio = per_tx[&(full, large)] / per_tx[&(full, small)];
        println!(
            "{}: cost per accepted tx at backlog {large} / at {small}: {ratio:.2}x",
            if full { "full rescan" } else { "incremental" }
        );
    }
    for &b in &backlogs {
        println!(
            "backlog {b}: full rescan / incremental per accepted tx: {:.2}x",
            per_tx[&(true, b)] / per_tx[&(false, b)]
        );
    }
}
