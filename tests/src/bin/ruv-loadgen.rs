//! Load generator: drives a devnet's relays with signed transfers from many
//! accounts and prints sustained accepted transactions per second, finality
//! latency (submit until accepted on every relay) p50/p95/p99, and — in the
//! same run — the machine's raw ML-DSA-65 verify throughput, with ratios.
//! It asserts nothing about time; it measures.
//!
//!   ruv-loadgen --relay http://127.0.0.1:7100 [--relay ...] --devnet-dir .devnet \
//!               --accounts 64 --rate 100 --seconds 20
//!
//! Finality is observed through account subscriptions on every relay: when a
//! relay reports account A at nonce n, A's transaction n is accepted there.

use anyhow::{bail, Context};
use futures_util::{SinkExt, StreamExt};
use ruv_protocol::crypto::{context, SigningKey};
use ruv_protocol::tx::{SignedTransfer, Transfer};
use ruv_protocol::{Address, Genesis};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;

struct Args {
    relays: Vec<String>,
    devnet_dir: std::path::PathBuf,
    accounts: usize,
    rate: f64,
    seconds: f64,
}

fn parse_args() -> anyhow::Result<Args> {
    let mut args = Args {
        relays: Vec::new(),
        devnet_dir: ".devnet".into(),
        accounts: 64,
        rate: 50.0,
        seconds: 20.0,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().with_context(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--relay" => args.relays.push(value()?),
            "--devnet-dir" => args.devnet_dir = value()?.into(),
            "--accounts" => args.accounts = value()?.parse()?,
            "--rate" => args.rate = value()?.parse()?,
            "--seconds" => args.seconds = value()?.parse()?,
            other => bail!("unknown flag {other}; see the top of tests/src/bin/ruv-loadgen.rs"),
        }
    }
    if args.relays.is_empty() {
        bail!("give at least one --relay URL");
    }
    Ok(args)
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Opens a WebSocket to `url` and subscribes to every account of `chunk`.
async fn subscribe(url: &str, chunk: &[Address]) -> anyhow::Result<Socket> {
    let (mut socket, _) = tokio_tungstenite::connect_async(url).await?;
    for (i, address) in chunk.iter().enumerate() {
        let request = json!({"id": i, "method": "subscribe_account", "params": {"address": address.to_string()}});
        socket
            .send(Message::Text(request.to_string().into()))
            .await?;
    }
    Ok(socket)
}

/// What one subscription task needs to time finality from account events.
struct Watch {
    in_flight: InFlight,
    latencies: Arc<Mutex<Vec<f64>>>,
    index_of: Arc<HashMap<String, usize>>,
    relay_count: usize,
}

impl Watch {
    /// An account event at nonce n: the account's transfer n is accepted on
    /// that relay; once on every relay, its latency is recorded.
    fn seen(&self, text: &str) {
        let Ok(message) = serde_json::from_str::<Value>(text) else {
            return;
        };
        let event = &message["event"];
        let (Some(address), Some(nonce)) = (event["address"].as_str(), event["nonce"].as_str())
        else {
            return;
        };
        let (Some(&account), Ok(nonce)) = (self.index_of.get(address), nonce.parse::<u64>()) else {
            return;
        };
        let mut in_flight = self.in_flight.lock().unwrap();
        if let Some((submitted, seen)) = in_flight.get_mut(&(account, nonce)) {
            *seen += 1;
            if *seen == self.relay_count {
                self.latencies
                    .lock()
                    .unwrap()
                    .push(submitted.elapsed().as_secs_f64() * 1e3);
                in_flight.remove(&(account, nonce));
            }
        }
    }
}

/// An account whose transfer is not final on every relay after this long is
/// resumed from its accepted nonce (see the load loop).
const STALE_AFTER: Duration = Duration::from_secs(10);

/// An account's accepted nonce at `relay`.
async fn account_nonce(
    http: &reqwest::Client,
    relay: &str,
    address: &Address,
) -> anyhow::Result<u64> {
    Ok(http
        .get(format!("{relay}/api/v1/accounts/{address}"))
        .send()
        .await?
        .json::<Value>()
        .await?["nonce"]
        .as_str()
        .context("account nonce")?
        .parse()?)
}

/// (account index, nonce) -> (submitted at, relays that accepted it).
type InFlight = Arc<Mutex<HashMap<(usize, u64), (Instant, usize)>>>;

/// Raw ML-DSA-65 verifications per second using every core, measured now.
fn verify_throughput() -> f64 {
    let key = SigningKey::from_seed(&[1; 32]);
    let message = [7u8; 5400];
    let signature = key.sign(&message, context::TRANSACTION, [0; 32]).unwrap();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let duration = Duration::from_secs(2);
    let start = Instant::now();
    let counts: Vec<u64> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut n = 0u64;
                    while start.elapsed() < duration {
                        key.public_key()
                            .verify(&message, context::TRANSACTION, &signature)
                            .unwrap();
                        n += 1;
                    }
                    n
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    counts.iter().sum::<u64>() as f64 / start.elapsed().as_secs_f64()
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = parse_args()?;
    let genesis = Genesis::from_json(&std::fs::read_to_string(
        args.devnet_dir.join("genesis.json"),
    )?)?;
    let faucet = ruv_relay::keys::load(&args.devnet_dir.join("faucet.key"))?;
    let http = reqwest::Client::new();
    let fee = genesis
        .fees
        .minimum_fee(ruv_protocol::tx::SIGNED_TRANSFER_FIXED_LEN + genesis.chain_id.len())
        .context("fee overflow")?;
    let transfer = |from: &SigningKey, to: Address, amount: u64, nonce: u64| -> SignedTransfer {
        let mut rnd = [0u8; 32];
        rnd[..8].copy_from_slice(&nonce.to_le_bytes());
        Transfer {
            chain_id: genesis.chain_id.clone(),
            from: Address::from_public_key(from.public_key()),
            to,
            amount,
            fee,
            nonce,
            memo: String::new(),
            public_key: from.public_key().clone(),
        }
        .sign(from, rnd)
        .expect("signing")
    };

    eprintln!("measuring raw ML-DSA-65 verify throughput (2 s, all cores)...");
    let verify_per_second = verify_throughput();

    // Fresh accounts for this run (random seeds so runs do not collide).
    let run_tag = ruv_relay::keys::random_seed();
    let accounts: Vec<SigningKey> = (0..args.accounts)
        .map(|i| {
            let mut seed = *run_tag;
            seed[..8].copy_from_slice(&(i as u64).to_le_bytes());
            SigningKey::from_seed(&seed)
        })
        .collect();
    let addresses: Vec<Address> = accounts
        .iter()
        .map(|k| Address::from_public_key(k.public_key()))
        .collect();

    // Fund every account from the faucet account with ordinary transfers.
    eprintln!("funding {} accounts...", accounts.len());
    let faucet_address = Address::from_public_key(faucet.public_key());
    let faucet_nonce = account_nonce(&http, &args.relays[0], &faucet_address).await?;
    // Admission control lets one sender have only so many transfers pending
    // at a relay: fund in chunks of that size, each final before the next.
    let deadline = Instant::now() + Duration::from_secs(120);
    let chunk = ruv_relay::admission::MAX_PENDING_PER_SENDER as usize;
    let chunks = addresses.len().div_ceil(chunk);
    for (c, chunk_addresses) in addresses.chunks(chunk).enumerate() {
        // The last chunk is awaited on every relay: admission control counts
        // accepted funds only, and the load goes to all of them. (Its
        // transfers carry the faucet's highest nonces, so every earlier one
        // is accepted there too.)
        let watched = if c + 1 == chunks {
            &args.relays[..]
        } else {
            &args.relays[..1]
        };
        let mut funding_ids = Vec::new();
        for (i, to) in chunk_addresses.iter().enumerate() {
            let nonce = faucet_nonce + 1 + (c * chunk + i) as u64;
            let tx = transfer(&faucet, *to, 1_000_000_000, nonce);
            funding_ids.push(tx.id());
            let response = http
                .post(format!("{}/api/v1/transactions", args.relays[0]))
                .json(&tx)
                .send()
                .await?;
            if !response.status().is_success() {
                bail!("funding failed: {}", response.text().await?);
            }
        }
        for (id, relay) in funding_ids
            .iter()
            .flat_map(|id| watched.iter().map(move |relay| (id, relay)))
        {
            loop {
                let status: Value = http
                    .get(format!("{relay}/api/v1/transactions/{id}"))
                    .send()
                    .await?
                    .json()
                    .await?;
                match status["status"].as_str() {
                    Some("accepted") => break,
                    Some("rejected") => bail!("funding transaction rejected: {status}"),
                    _ if Instant::now() > deadline => bail!("funding not accepted within 120 s"),
                    _ => tokio::time::sleep(Duration::from_millis(20)).await,
                }
            }
        }
    }

    // Watch every account on every relay.
    let in_flight: InFlight = Arc::new(Mutex::new(HashMap::new()));
    let latencies = Arc::new(Mutex::new(Vec::<f64>::new()));
    let index_of: Arc<HashMap<String, usize>> = Arc::new(
        addresses
            .iter()
            .enumerate()
            .map(|(i, a)| (a.to_string(), i))
            .collect(),
    );
    let relay_count = args.relays.len();
    let reconnects = Arc::new(std::sync::atomic::AtomicU64::new(0));
    for relay in &args.relays {
        for chunk in addresses.chunks(ruv_protocol::api::limits::MAX_SUBSCRIPTIONS_PER_CONNECTION) {
            let url = format!("{}/api/v1/ws", relay.replacen("http", "ws", 1));
            let chunk: Vec<Address> = chunk.to_vec();
            let mut socket = subscribe(&url, &chunk).await?;
            let watch = Watch {
                in_flight: in_flight.clone(),
                latencies: latencies.clone(),
                index_of: index_of.clone(),
                relay_count,
            };
            let reconnects = reconnects.clone();
            // A relay disconnects a subscriber that falls too far behind its
            // event stream (`too slow`): reconnect and subscribe again, and
            // count it, instead of watching a closed socket for the rest of
            // the run (events missed meanwhile end as `stale_in_flight`).
            tokio::spawn(async move {
                loop {
                    while let Some(Ok(message)) = socket.next().await {
                        if let Message::Text(text) = message {
                            watch.seen(&text);
                        }
                    }
                    reconnects.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    socket = loop {
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        if let Ok(socket) = subscribe(&url, &chunk).await {
                            break socket;
                        }
                    };
                }
            });
        }
    }
    tokio::time::sleep(Duration::from_millis(500)).await;

    // Open-loop load: one transfer every 1/rate seconds, round-robin over
    // accounts (an account waits while its previous transfer is in flight) and relays.
    eprintln!(
        "driving {} tx/s for {} s over {} relay(s)...",
        args.rate, args.seconds, relay_count
    );
    let mut next_nonce = vec![1u64; accounts.len()];
    let interval = Duration::from_secs_f64(1.0 / args.rate);
    let start = Instant::now();
    let mut next_send = start;
    let (mut submitted, mut skipped_busy, mut stale) = (0u64, 0u64, 0u64);
    let submit_errors = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let mut cursor = 0usize;
    while start.elapsed().as_secs_f64() < args.seconds {
        tokio::time::sleep_until(next_send.into()).await;
        next_send += interval;
        let account = cursor % accounts.len();
        cursor += 1;
        let busy = in_flight
            .lock()
            .unwrap()
            .iter()
            .find(|((a, _), _)| *a == account)
            .map(|(key, (since, _))| (*key, *since));
        if let Some((key, since)) = busy {
            if since.elapsed() < STALE_AFTER {
                skipped_busy += 1;
                continue;
            }
            // Not final everywhere after that long (lost, or an event
            // missed): resume the account from relay 0's nonce, so one
            // lost transfer does not stop the account for the whole run.
            in_flight.lock().unwrap().remove(&key);
            stale += 1;
            next_nonce[account] =
                account_nonce(&http, &args.relays[0], &addresses[account]).await? + 1;
        }
        let nonce = next_nonce[account];
        next_nonce[account] += 1;
        let to = addresses[(account + 1) % addresses.len()];
        let tx = transfer(&accounts[account], to, 1, nonce);
        in_flight
            .lock()
            .unwrap()
            .insert((account, nonce), (Instant::now(), 0));
        submitted += 1;
        // Submit concurrently: the schedule above, not the round trip, sets the rate.
        let (http, url) = (
            http.clone(),
            format!("{}/api/v1/transactions", args.relays[cursor % relay_count]),
        );
        let (in_flight, submit_errors) = (in_flight.clone(), submit_errors.clone());
        tokio::spawn(async move {
            let ok =
                matches!(http.post(url).json(&tx).send().await, Ok(r) if r.status().is_success());
            if !ok {
                in_flight.lock().unwrap().remove(&(account, nonce));
                submit_errors.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
        });
    }
    let submit_errors = submit_errors.load(std::sync::atomic::Ordering::Relaxed);
    let load_seconds = start.elapsed().as_secs_f64();
    // Let the last transfers finish (bounded wait).
    let drain_deadline = Instant::now() + Duration::from_secs(15);
    while !in_flight.lock().unwrap().is_empty() && Instant::now() < drain_deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let total_seconds = start.elapsed().as_secs_f64();
    let mut lat = latencies.lock().unwrap().clone();
    lat.sort_by(f64::total_cmp);
    let final_everywhere = lat.len() as f64;
    let tps = final_everywhere / total_seconds;
    let bound = verify_per_second / relay_count as f64;
    let report = json!({
        "relays": relay_count,
        "accounts": accounts.len(),
        "offered_rate_tps": args.rate,
        "load_seconds": load_seconds,
        "submitted": submitted,
        "submit_errors": submit_errors,
        "skipped_account_busy": skipped_busy,
        "stale_in_flight": stale,
        "event_reconnects": reconnects.load(std::sync::atomic::Ordering::Relaxed),
        "accepted_on_every_relay": lat.len(),
        "not_final_after_drain": in_flight.lock().unwrap().len(),
        "sustained_tps": tps,
        "finality_ms": {"p50": percentile(&lat, 0.50), "p95": percentile(&lat, 0.95), "p99": percentile(&lat, 0.99), "max": lat.last().copied().unwrap_or(f64::NAN)},
        "mldsa65_verify_per_second_all_cores": verify_per_second,
        "verify_bound_per_relay_tps": bound,
        "ratio_tps_to_verify_bound": tps / bound,
    });
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}
