//! Load generator: drives a devnet's relays with signed transfers from many
//! accounts and prints, as JSON, sustained throughput (transfers that became
//! final on every relay during the measurement window — after `--warmup`,
//! before the load stops — divided by that window), finality latency of
//! admitted transfers (submit until accepted on every relay) p50/p95/p99,
//! refusals by the relay's error code apart from transport errors, and — in
//! the same run — the machine's raw ML-DSA-65 verify throughput, with ratios.
//! It asserts nothing about time; it measures.
//!
//!   ruv-loadgen --relay http://127.0.0.1:7100 [--relay ...] --devnet-dir .devnet \
//!               --accounts 64 --rate 100 --seconds 20 [--warmup 2] [--in-flight 1]
//!
//! Finality is observed through account subscriptions on every relay: when a
//! relay reports account A at nonce n, A's transaction n is accepted there.
//! Each account has up to `--in-flight` transfers in flight at a time (1 by
//! default; more, with consecutive nonces, up to the relays' per-sender
//! limit, lets few accounts offer more than the relays sustain: what an
//! overload test needs), each sent once the relay admitted the one before,
//! as a wallet does; a refused one is sent again (the same transfer:
//! signing is deterministic) when the account's turn comes.

use anyhow::{bail, Context};
use futures_util::{SinkExt, StreamExt};
use ruv_protocol::crypto::{context, SigningKey};
use ruv_protocol::tx::{SignedTransfer, Transfer};
use ruv_protocol::{Address, Genesis, TxId};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;

struct Args {
    relays: Vec<String>,
    devnet_dir: std::path::PathBuf,
    accounts: usize,
    rate: f64,
    seconds: f64,
    warmup: f64,
    in_flight: usize,
}

fn parse_args() -> anyhow::Result<Args> {
    let mut args = Args {
        relays: Vec::new(),
        devnet_dir: ".devnet".into(),
        accounts: 64,
        rate: 50.0,
        seconds: 20.0,
        warmup: 2.0,
        in_flight: 1,
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
            "--warmup" => args.warmup = value()?.parse()?,
            "--in-flight" => args.in_flight = value()?.parse()?,
            other => bail!("unknown flag {other}; see the top of tests/src/bin/ruv-loadgen.rs"),
        }
    }
    if args.relays.is_empty() {
        bail!("give at least one --relay URL");
    }
    let most = ruv_relay::admission::MAX_PENDING_PER_SENDER as usize;
    if !(1..=most).contains(&args.in_flight) {
        bail!("--in-flight must be 1 to {most} (the relays' pending transfers per sender)");
    }
    Ok(args)
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Keeps one relay's subscription requests within half its per-IP
/// WebSocket budget: over the budget a relay answers `rate_limited` and the
/// account would get no events from it (1,024 accounts exceed the burst).
struct Pacer {
    start: Instant,
    sent: f64,
}

impl Pacer {
    fn new() -> Self {
        Self {
            start: Instant::now(),
            sent: 0.0,
        }
    }

    async fn wait(&mut self) {
        use ruv_relay::http::limits::{WS_REQUESTS_PER_SECOND_PER_IP, WS_REQUEST_BURST_PER_IP};
        let rate = f64::from(WS_REQUESTS_PER_SECOND_PER_IP) / 2.0;
        let allowed =
            f64::from(WS_REQUEST_BURST_PER_IP) / 2.0 + rate * self.start.elapsed().as_secs_f64();
        if self.sent >= allowed {
            tokio::time::sleep(Duration::from_secs_f64((self.sent - allowed + 1.0) / rate)).await;
        }
        self.sent += 1.0;
    }
}

/// Opens a WebSocket to `url` and subscribes to every account of `chunk`.
async fn subscribe(url: &str, chunk: &[Address], pacer: &mut Pacer) -> anyhow::Result<Socket> {
    let (mut socket, _) = tokio_tungstenite::connect_async(url).await?;
    for (i, address) in chunk.iter().enumerate() {
        pacer.wait().await;
        let request = json!({"id": i, "method": "subscribe_account", "params": {"address": address.to_string()}});
        socket
            .send(Message::Text(request.to_string().into()))
            .await?;
    }
    Ok(socket)
}

/// One of an account's transfers in flight: its nonce, when it was submitted, and
/// which relays reported it accepted (a bit per relay, so a relay's repeated
/// account event — the account as a recipient, or a resubscription's
/// snapshot — counts once).
struct Flight {
    nonce: u64,
    id: TxId,
    submitted: Instant,
    seen: u64,
    /// The relay admitted it (answered 2xx).
    admitted: bool,
}

/// Where a transfer that is not final everywhere stands at each relay that
/// did not report it: `relay-R <status>` (`pending`, `accepted` — accepted
/// there but its account event never reached us —, `rejected: <code>`,
/// `not_found`, ...). Tells a relay that is behind from an event missed.
async fn diagnose(http: &reqwest::Client, relays: &[String], id: TxId, seen: u64) -> Vec<String> {
    let mut out = Vec::new();
    for (r, relay) in relays.iter().enumerate() {
        if seen & (1 << r) != 0 {
            continue;
        }
        let answer = match http
            .get(format!("{relay}/api/v1/transactions/{id}"))
            .send()
            .await
        {
            Ok(response) => response.json::<Value>().await.unwrap_or_default(),
            Err(_) => Value::Null,
        };
        let status = match (answer["status"].as_str(), answer["error"]["code"].as_str()) {
            (Some(status), _) => match answer["reason"]["code"].as_str() {
                Some(code) => format!("{status}: {code}"),
                None => status.to_owned(),
            },
            (None, Some(code)) => code.to_owned(),
            (None, None) => "no answer".to_owned(),
        };
        out.push(format!("relay-{r} {status}"));
    }
    out
}

/// What the load loop, the submit tasks and the watchers share. One lock,
/// held briefly; never across an await.
struct Tracker {
    /// By account index: its transfers in flight, by nonce (at most
    /// `--in-flight`).
    in_flight: Vec<VecDeque<Flight>>,
    /// By account index: the nonce its next transfer carries.
    next_nonce: Vec<u64>,
    /// By account index: re-read the accepted nonce before the next transfer
    /// (a refusal said the nonce is not the next one).
    resync: Vec<bool>,
    /// Transfers final on every relay: (when that happened, submit → final).
    finals: Vec<(Instant, Duration)>,
    /// Submissions refused by a relay, by the error code of its JSON body.
    refused: BTreeMap<String, u64>,
    /// Submissions that got no relay answer (connection or timeout) or an
    /// answer that is not the API's error body.
    transport_errors: u64,
    /// Submissions the relay answered 2xx (admitted: pending or accepted).
    admitted: u64,
    /// Stale transfers by where they stood at the relays that had not
    /// reported them (see [`diagnose`]).
    stale_where: BTreeMap<String, u64>,
}

impl Tracker {
    /// The submission of `account`'s transfer `nonce` failed before it was
    /// admitted: it and the account's later transfers (which wait for it)
    /// are no longer in flight, and the account's next transfer reuses the
    /// nonce (signing is deterministic, so it is the same transfer), or
    /// first re-reads the accepted nonce if the refusal was about the nonce.
    fn not_admitted(&mut self, account: usize, nonce: u64, code: Option<&str>) {
        match code {
            Some(code) => *self.refused.entry(code.to_owned()).or_default() += 1,
            None => self.transport_errors += 1,
        }
        let flights = &mut self.in_flight[account];
        if flights.iter().any(|f| f.nonce == nonce) {
            flights.retain(|f| f.nonce < nonce);
            self.next_nonce[account] = nonce;
            self.resync[account] = matches!(code, Some("stale_nonce" | "nonce_gap"));
        }
    }
}

/// What one subscription task needs to time finality from account events.
struct Watch {
    tracker: Arc<Mutex<Tracker>>,
    index_of: Arc<HashMap<String, usize>>,
    /// This watcher's relay (its bit in [`Flight::seen`]).
    relay: usize,
    relay_count: usize,
}

impl Watch {
    /// An account event at nonce n: the account's transfers up to n are
    /// accepted on that relay; once on every relay, their latency is recorded.
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
        let mut tracker = self.tracker.lock().unwrap();
        let tracker = &mut *tracker;
        let now = Instant::now();
        let everywhere = (1u64 << self.relay_count) - 1;
        for flight in tracker.in_flight[account].iter_mut() {
            if flight.nonce <= nonce {
                flight.seen |= 1 << self.relay;
            }
        }
        // Nonces are accepted in order: the final ones are at the front.
        while let Some(flight) = tracker.in_flight[account].front() {
            if flight.seen != everywhere {
                break;
            }
            tracker.finals.push((now, flight.submitted.elapsed()));
            tracker.in_flight[account].pop_front();
        }
    }
}

/// How long the load generator waits for the last transfers after the load.
const DRAIN: Duration = Duration::from_secs(15);

/// A submission without an answer after this long is a transport error.
const SUBMIT_TIMEOUT: Duration = Duration::from_secs(10);

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

/// A transfer's id and its JSON body, ready to post.
type SignedBody = (TxId, axum::body::Bytes);

fn json_body(tx: &SignedTransfer) -> SignedBody {
    let json = serde_json::to_vec(tx).expect("a transfer serialises");
    (tx.id(), axum::body::Bytes::from(json))
}

/// Every transfer the schedule can send, signed on every core: per account,
/// nonce n at index n - 1. An account gets at most one turn in
/// `accounts / rate` seconds and each turn sends at most one transfer with
/// the next nonce, so it never needs more than its turns plus the ones in
/// flight; one resent after a refusal is the same transfer.
fn presign(
    accounts: &[SigningKey],
    addresses: &[Address],
    args: &Args,
    transfer: &(impl Fn(&SigningKey, Address, u64, u64) -> SignedTransfer + Sync),
) -> Vec<Vec<SignedBody>> {
    let turns = (args.rate * args.seconds / accounts.len() as f64).ceil() as usize + 1;
    let per_account = (turns + args.in_flight) as u64;
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = accounts.len().div_ceil(threads).max(1);
    std::thread::scope(|s| {
        let handles: Vec<_> = accounts
            .chunks(chunk)
            .enumerate()
            .map(|(c, keys)| {
                s.spawn(move || {
                    keys.iter()
                        .enumerate()
                        .map(|(i, key)| {
                            let to = addresses[(c * chunk + i + 1) % addresses.len()];
                            (1..=per_account)
                                .map(|nonce| json_body(&transfer(key, to, 1, nonce)))
                                .collect::<Vec<_>>()
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("a signing thread"))
            .collect()
    })
}

/// CPU time this process has used (all its threads, user and system), from
/// /proc/self/stat in clock ticks of 1/100 s; None off Linux.
fn own_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which may hold spaces) start at state.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(ticks as f64 / 100.0)
}

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

    // Sign every transfer the schedule can send before the load starts: the
    // load generator shares the cores with the relays, and what a wallet
    // spends signing on its own machine is not the relays' cost.
    let presign_start = Instant::now();
    let presigned = presign(&accounts, &addresses, &args, &transfer);
    let presign_seconds = presign_start.elapsed().as_secs_f64();
    eprintln!(
        "signed {} transfers in {presign_seconds:.1} s",
        presigned.iter().map(Vec::len).sum::<usize>()
    );

    // Watch every account on every relay.
    let n = accounts.len();
    let tracker = Arc::new(Mutex::new(Tracker {
        in_flight: (0..n).map(|_| VecDeque::new()).collect(),
        next_nonce: vec![1; n],
        resync: vec![false; n],
        finals: Vec::new(),
        refused: BTreeMap::new(),
        transport_errors: 0,
        admitted: 0,
        stale_where: BTreeMap::new(),
    }));
    let index_of: Arc<HashMap<String, usize>> = Arc::new(
        addresses
            .iter()
            .enumerate()
            .map(|(i, a)| (a.to_string(), i))
            .collect(),
    );
    let relay_count = args.relays.len();
    if relay_count > 64 {
        bail!("at most 64 relays (one bit each)");
    }
    let reconnects = Arc::new(AtomicU64::new(0));
    // Why watchers' sockets ended: the relay's close reason, or how it ended.
    let disconnects: Arc<Mutex<BTreeMap<String, u64>>> = Arc::default();
    for (relay_index, relay) in args.relays.iter().enumerate() {
        let mut pacer = Pacer::new();
        for chunk in addresses.chunks(ruv_protocol::api::limits::MAX_SUBSCRIPTIONS_PER_CONNECTION) {
            let url = format!("{}/api/v1/ws", relay.replacen("http", "ws", 1));
            let chunk: Vec<Address> = chunk.to_vec();
            let mut socket = subscribe(&url, &chunk, &mut pacer).await?;
            let watch = Watch {
                tracker: tracker.clone(),
                index_of: index_of.clone(),
                relay: relay_index,
                relay_count,
            };
            let (reconnects, disconnects) = (reconnects.clone(), disconnects.clone());
            // A relay disconnects a subscriber that falls too far behind its
            // event stream (`too slow`): reconnect and subscribe again (the
            // subscription's first event is the account as it is now, so
            // nothing accepted meanwhile is missed), and count it.
            tokio::spawn(async move {
                loop {
                    let ended = loop {
                        match socket.next().await {
                            Some(Ok(Message::Text(text))) => watch.seen(&text),
                            Some(Ok(Message::Close(frame))) => {
                                break frame.map_or("closed without a reason".into(), |f| {
                                    format!("closed: {}", f.reason)
                                })
                            }
                            Some(Ok(_)) => {}
                            Some(Err(e)) => break format!("error: {e}"),
                            None => break "ended".into(),
                        }
                    };
                    *disconnects.lock().unwrap().entry(ended).or_default() += 1;
                    reconnects.fetch_add(1, Ordering::Relaxed);
                    socket = loop {
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        if let Ok(socket) = subscribe(&url, &chunk, &mut Pacer::new()).await {
                            break socket;
                        }
                    };
                }
            });
        }
    }
    tokio::time::sleep(Duration::from_millis(500)).await;

    // Open-loop load: one transfer every 1/rate seconds, round-robin over
    // accounts (an account with `--in-flight` transfers in flight waits) and relays.
    eprintln!(
        "driving {} tx/s for {} s over {} relay(s)...",
        args.rate, args.seconds, relay_count
    );
    // Submissions time out rather than hang: a relay that answers nothing
    // in this long counts as a transport error (the transfer is resent).
    let submit_http = reqwest::Client::builder().timeout(SUBMIT_TIMEOUT).build()?;
    let interval = Duration::from_secs_f64(1.0 / args.rate);
    let start = Instant::now();
    let mut next_send = start;
    let (mut submitted, mut skipped_busy, mut stale) = (0u64, 0u64, 0u64);
    let mut signed_during_load = 0u64;
    let cpu_at_start = own_cpu_seconds();
    let mut cursor = 0usize;
    while start.elapsed().as_secs_f64() < args.seconds {
        tokio::time::sleep_until(next_send.into()).await;
        next_send += interval;
        let account = cursor % n;
        cursor += 1;
        let resync = {
            let mut t = tracker.lock().unwrap();
            let flights = &t.in_flight[account];
            match flights.front() {
                // As a wallet does, the next transfer goes only once the
                // relay admitted the previous one: a refused one then
                // leaves no later nonces waiting for it.
                Some(f) if f.submitted.elapsed() < STALE_AFTER => (flights.len() < args.in_flight
                    && flights.back().is_some_and(|f| f.admitted))
                .then_some(false),
                Some(_) => {
                    // Not final everywhere after that long (lost, or an
                    // event missed): resume from relay 0's accepted nonce,
                    // so one lost transfer does not stop the account; ask
                    // the relays that did not report it where it stands
                    // (the account's later ones wait for it).
                    let flights = std::mem::take(&mut t.in_flight[account]);
                    stale += flights.len() as u64;
                    if let Some(f) = flights.front().map(|f| (f.id, f.seen)) {
                        let (http, relays, tracker) =
                            (http.clone(), args.relays.clone(), tracker.clone());
                        tokio::spawn(async move {
                            let found = diagnose(&http, &relays, f.0, f.1).await;
                            let mut t = tracker.lock().unwrap();
                            for at in found {
                                *t.stale_where.entry(at).or_default() += 1;
                            }
                        });
                    }
                    Some(true)
                }
                None => Some(std::mem::take(&mut t.resync[account])),
            }
        };
        let Some(resync) = resync else {
            skipped_busy += 1;
            continue;
        };
        if resync {
            match account_nonce(&http, &args.relays[0], &addresses[account]).await {
                Ok(accepted) => tracker.lock().unwrap().next_nonce[account] = accepted + 1,
                // An overloaded relay may not answer: try again on the
                // account's next turn.
                Err(_) => {
                    let mut t = tracker.lock().unwrap();
                    t.transport_errors += 1;
                    t.resync[account] = true;
                    continue;
                }
            }
        }
        let nonce = {
            let mut t = tracker.lock().unwrap();
            let nonce = t.next_nonce[account];
            t.next_nonce[account] += 1;
            nonce
        };
        let (id, body) = match presigned[account].get(nonce as usize - 1) {
            Some(signed) => signed.clone(),
            None => {
                signed_during_load += 1;
                let to = addresses[(account + 1) % n];
                json_body(&transfer(&accounts[account], to, 1, nonce))
            }
        };
        tracker.lock().unwrap().in_flight[account].push_back(Flight {
            nonce,
            id,
            submitted: Instant::now(),
            seen: 0,
            admitted: false,
        });
        submitted += 1;
        // Submit concurrently: the schedule above, not the round trip, sets the rate.
        let (http, url) = (
            submit_http.clone(),
            format!("{}/api/v1/transactions", args.relays[cursor % relay_count]),
        );
        let tracker = tracker.clone();
        tokio::spawn(async move {
            let request = http
                .post(url)
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body);
            let outcome = match request.send().await {
                Err(_) => Err(None),
                Ok(response) => {
                    let ok = response.status().is_success();
                    let body = response.json::<Value>().await.unwrap_or_default();
                    let code = |error: &Value| error["code"].as_str().map(str::to_owned);
                    match (ok, body["status"].as_str()) {
                        (true, Some("rejected")) => Err(Some(
                            code(&body["reason"]).unwrap_or_else(|| "rejected".into()),
                        )),
                        (true, _) => Ok(()),
                        (false, _) => Err(code(&body["error"])),
                    }
                }
            };
            let mut t = tracker.lock().unwrap();
            match outcome {
                Ok(()) => {
                    t.admitted += 1;
                    if let Some(f) = t.in_flight[account].iter_mut().find(|f| f.nonce == nonce) {
                        f.admitted = true;
                    }
                }
                Err(code) => t.not_admitted(account, nonce, code.as_deref()),
            }
        });
    }
    let load_end = Instant::now();
    let load_seconds = (load_end - start).as_secs_f64();
    let own_cpu = own_cpu_seconds()
        .zip(cpu_at_start)
        .map(|(end, start)| end - start);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    // Let the last transfers finish (bounded wait).
    let drain_deadline = load_end + DRAIN;
    while tracker
        .lock()
        .unwrap()
        .in_flight
        .iter()
        .any(|flights| !flights.is_empty())
        && Instant::now() < drain_deadline
    {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let total_seconds = start.elapsed().as_secs_f64();
    let stuck: Vec<(TxId, u64)> = tracker
        .lock()
        .unwrap()
        .in_flight
        .iter()
        .flatten()
        .map(|f| (f.id, f.seen))
        .collect();
    let mut not_final_where = BTreeMap::<String, u64>::new();
    for (id, seen) in &stuck {
        for at in diagnose(&http, &args.relays, *id, *seen).await {
            *not_final_where.entry(at).or_default() += 1;
        }
    }
    let t = tracker.lock().unwrap();

    // Sustained throughput: transfers that became final on every relay
    // inside the measurement window (after the warm-up, before the load
    // stopped) divided by the window. The drain is reported apart.
    let warmup = args.warmup.min(args.seconds / 2.0);
    let window_start = start + Duration::from_secs_f64(warmup);
    let window_seconds = (load_end - window_start).as_secs_f64();
    let final_in_window = t
        .finals
        .iter()
        .filter(|(at, _)| *at >= window_start && *at <= load_end)
        .count();
    let sustained = final_in_window as f64 / window_seconds;
    let incl_drain = t.finals.len() as f64 / total_seconds;
    // Latency of admitted transfers: ranks over every admitted one, those
    // never final on every relay counting as slower than any final one (a
    // percentile that falls on them is null).
    let mut lat: Vec<f64> = t
        .finals
        .iter()
        .map(|(_, l)| l.as_secs_f64() * 1e3)
        .collect();
    lat.sort_by(f64::total_cmp);
    let admitted = t.admitted.max(lat.len() as u64) as usize;
    let percentile = |p: f64| -> Option<f64> {
        if admitted == 0 {
            return None;
        }
        lat.get(((admitted - 1) as f64 * p).round() as usize)
            .copied()
    };
    let not_final: usize = t.in_flight.iter().map(VecDeque::len).sum();
    let bound = verify_per_second / relay_count as f64;
    let report = json!({
        "relays": relay_count,
        "accounts": n,
        "in_flight_per_account": args.in_flight,
        "offered_rate_tps": args.rate,
        "load_seconds": load_seconds,
        "warmup_seconds": warmup,
        "window_seconds": window_seconds,
        "submitted": submitted,
        "submitted_tps": submitted as f64 / load_seconds,
        "skipped_account_busy": skipped_busy,
        "presigned": presigned.iter().map(Vec::len).sum::<usize>(),
        "presign_seconds": presign_seconds,
        "signed_during_load": signed_during_load,
        "loadgen_cpu_seconds_during_load": own_cpu,
        "loadgen_share_of_cores_during_load": own_cpu.map(|cpu| cpu / (load_seconds * cores as f64)),
        "admitted": t.admitted,
        "refused": t.refused,
        "refused_total": t.refused.values().sum::<u64>(),
        "transport_errors": t.transport_errors,
        "stale_in_flight": stale,
        "stale_where": t.stale_where,
        "not_final_where": not_final_where,
        "event_reconnects": reconnects.load(Ordering::Relaxed),
        "event_disconnects": *disconnects.lock().unwrap(),
        "final_on_every_relay": t.finals.len(),
        "final_in_window": final_in_window,
        "not_final_after_drain": not_final,
        "drain_seconds": total_seconds - load_seconds,
        "sustained_tps": sustained,
        "final_incl_drain_tps": incl_drain,
        "finality_ms": {
            "of": "admitted transfers (never final = slower than all)",
            "p50": percentile(0.50), "p95": percentile(0.95), "p99": percentile(0.99),
            "max_final": lat.last().copied(),
        },
        "mldsa65_verify_per_second_all_cores": verify_per_second,
        "verify_bound_per_relay_tps": bound,
        "ratio_tps_to_verify_bound": sustained / bound,
    });
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}
