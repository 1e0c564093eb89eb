//! The client API's per-IP limits, each attacked on loopback against a
//! devnet of four relays whose limits are lowered (so the attack is small):
//! the connection cap, the idle timeout, the REST and WebSocket request
//! budgets (spent before parsing), the faucet budget, CORS (no cross-origin
//! access unless configured) and the security headers. The attacker
//! connects from another loopback address than the honest client (see
//! `ruv_integration_tests::finality`), and an honest account keeps paying
//! through every relay, quiet and during each attack: its finality is
//! printed, never asserted
//! (`cargo test -p ruv-integration-tests --test client_limits -- --nocapture --test-threads=1`).

use ruv_integration_tests::finality::{
    connect_from, http_client_from, print_finality, ATTACKER_IP, HONEST_TRANSFERS,
};
use ruv_integration_tests::{
    address, error_code, json_response, key, solved_faucet_request, Devnet, WsClient,
};
use ruv_relay::http::limits::ClientLimits;
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The defaults with `change` applied.
fn limits(change: impl FnOnce(&mut ClientLimits)) -> ClientLimits {
    let mut limits = ClientLimits::default();
    change(&mut limits);
    limits
}

/// Whether the relay closed `stream` (EOF or reset) within 10 s.
async fn closed_by_relay(stream: &mut TcpStream) -> bool {
    let mut byte = [0u8; 1];
    match tokio::time::timeout(Duration::from_secs(10), stream.read(&mut byte)).await {
        Ok(Ok(0)) | Ok(Err(_)) => true,
        Ok(Ok(_)) | Err(_) => false,
    }
}

/// A funded honest account (faucet nonce 1) and its quiet finality; the
/// honest client is `http`, on 127.0.0.1.
async fn quiet_run(
    devnet: &Devnet,
    http: &reqwest::Client,
    honest: &ruv_protocol::crypto::SigningKey,
    nonce: &mut u64,
) -> ruv_integration_tests::finality::Finality {
    devnet.fund(honest, 1_000_000_000, 1).await;
    devnet
        .honest_finality(http, honest, nonce, HONEST_TRANSFERS)
        .await
}

const CONNECTION_CAP: usize = 8;
const IDLE_TIMEOUT: Duration = Duration::from_secs(2);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_per_ip_are_capped_and_idle_ones_closed() {
    // Relay 0 is attacked; its cap leaves room for the three peer links
    // and the honest client, which come from 127.0.0.1.
    let devnet = Devnet::start_with(4, |c| {
        if c.name == "relay-0" {
            c.client_limits = limits(|l| {
                l.max_connections_per_ip = CONNECTION_CAP;
                l.idle_timeout = IDLE_TIMEOUT;
            })
        }
    })
    .await;
    let addr = devnet.relays[0].addr;
    // Pooled connections are dropped before relay 0 would close them as idle.
    let http = reqwest::Client::builder()
        .pool_idle_timeout(IDLE_TIMEOUT / 4)
        .build()
        .unwrap();
    let honest = key(50);
    let mut nonce = 1;
    let quiet = quiet_run(&devnet, &http, &honest, &mut nonce).await;

    // The attack: twice the cap of connections at once, over and over, each
    // sending half a request head and then nothing. Those over the cap are
    // closed at once (and reopened: a connect flood), the others are held
    // until the idle timeout closes them.
    let refused = Arc::new(AtomicU64::new(0));
    let held = Arc::new(AtomicU64::new(0));
    let mut attackers = Vec::new();
    for _ in 0..2 * CONNECTION_CAP {
        let (refused, held) = (refused.clone(), held.clone());
        attackers.push(tokio::spawn(async move {
            loop {
                let opened = Instant::now();
                let Ok(mut stream) = connect_from(ATTACKER_IP, addr).await else {
                    refused.fetch_add(1, Ordering::Relaxed);
                    tokio::time::sleep(Duration::from_millis(1)).await;
                    continue;
                };
                let _ = stream.write_all(b"GET /healthz HTTP/1.1\r\n").await;
                if !closed_by_relay(&mut stream).await {
                    continue;
                }
                let counter = if opened.elapsed() < IDLE_TIMEOUT / 2 {
                    &refused
                } else {
                    &held
                };
                counter.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let attacked = devnet
        .honest_finality(&http, &honest, &mut nonce, HONEST_TRANSFERS)
        .await;
    for attacker in &attackers {
        attacker.abort();
    }
    print_finality(
        &format!(
            "a connection flood ({} at once, cap {CONNECTION_CAP})",
            2 * CONNECTION_CAP
        ),
        &quiet,
        &attacked,
    );
    let (refused, held) = (
        refused.load(Ordering::Relaxed),
        held.load(Ordering::Relaxed),
    );
    println!("connection flood: {refused} connections refused at once, {held} held until idle");
    assert!(refused > 0 && held > 0, "refused {refused}, held {held}");
    assert_eq!(
        devnet.relays[0].state.node().peer_count(),
        3,
        "relay 0 lost a peer link"
    );
    tokio::time::sleep(Duration::from_millis(200)).await;

    // Exactly: the cap of connections is taken; one more is closed before
    // it is read.
    let mut held = Vec::new();
    for _ in 0..CONNECTION_CAP {
        held.push(connect_from(ATTACKER_IP, addr).await.unwrap());
    }
    let mut one_more = connect_from(ATTACKER_IP, addr).await.unwrap();
    let _ = one_more
        .write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n")
        .await;
    assert!(
        closed_by_relay(&mut one_more).await,
        "a connection over the cap was served"
    );

    // The held ones send nothing: the idle timeout closes them, which frees
    // their slots for a connection that does talk.
    for stream in &mut held {
        assert!(
            closed_by_relay(stream).await,
            "an idle connection stayed open"
        );
    }
    let mut talker = connect_from(ATTACKER_IP, addr).await.unwrap();
    talker
        .write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut answer = String::new();
    talker.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

const REST_PER_SECOND: u32 = 100;
const REST_BURST: u32 = 200;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rest_budget_is_spent_before_parsing() {
    // The budget is still well above what the honest client needs (one
    // poll every 20 ms).
    let devnet = Devnet::start_with(4, |c| {
        c.client_limits = limits(|l| {
            l.rest_per_second = REST_PER_SECOND;
            l.rest_burst = REST_BURST;
        })
    })
    .await;
    let http = reqwest::Client::new();
    let honest = key(50);
    let mut nonce = 1;
    let quiet = quiet_run(&devnet, &http, &honest, &mut nonce).await;

    // The flood: bodies that are not JSON at all, to relay 0 (the honest
    // account pays through every relay), as fast as eight clients can send
    // them. Over budget the answer is `429 rate_limited`: the budget is
    // spent before anything is parsed.
    let stop = Arc::new(AtomicBool::new(false));
    let answers: Arc<Mutex<BTreeMap<(u16, String), u64>>> = Arc::default();
    let target = format!("{}/api/v1/transactions", devnet.url(0));
    let started = Instant::now();
    let mut flooders = Vec::new();
    for _ in 0..8 {
        let (stop, answers, target) = (stop.clone(), answers.clone(), target.clone());
        flooders.push(tokio::spawn(async move {
            let http = http_client_from(ATTACKER_IP);
            while !stop.load(Ordering::Relaxed) {
                let (status, body) =
                    json_response(http.post(&target).body("{not json").send().await.unwrap()).await;
                *answers
                    .lock()
                    .unwrap()
                    .entry((status, error_code(&body).to_owned()))
                    .or_default() += 1;
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let attacked = devnet
        .honest_finality(&http, &honest, &mut nonce, HONEST_TRANSFERS)
        .await;
    stop.store(true, Ordering::Relaxed);
    for flooder in flooders {
        flooder.await.unwrap();
    }
    let seconds = started.elapsed().as_secs_f64();
    let answers = answers.lock().unwrap().clone();
    let sent: u64 = answers.values().sum();
    println!(
        "REST flood: {sent} requests in {seconds:.1} s ({:.0}/s), answered {answers:?}",
        sent as f64 / seconds
    );
    print_finality(
        "a REST flood on one relay (malformed bodies)",
        &quiet,
        &attacked,
    );

    let limited = answers
        .get(&(429, "rate_limited".to_owned()))
        .copied()
        .unwrap_or(0);
    let parsed = answers
        .get(&(400, "malformed_json".to_owned()))
        .copied()
        .unwrap_or(0);
    assert_eq!(limited + parsed, sent, "{answers:?}");
    assert!(limited > 0, "{answers:?}");
    // At most the burst and the rate over the flood were parsed.
    let budget = f64::from(REST_BURST) + f64::from(REST_PER_SECOND) * seconds + 1.0;
    assert!(
        parsed as f64 <= budget,
        "{parsed} parsed, budget {budget:.0}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_and_faucet_budgets_are_per_ip() {
    let devnet = Devnet::start_with(4, |c| {
        c.client_limits = limits(|l| {
            l.ws_per_second = 1;
            l.ws_burst = 3;
            l.faucet_burst = 2;
            l.faucet_seconds_per_request = 3600;
        })
    })
    .await;
    let url = devnet.url(0);
    let http = reqwest::Client::new();
    let honest = key(50);
    let mut nonce = 1;
    let quiet = quiet_run(&devnet, &http, &honest, &mut nonce).await;

    // Two connections from one IP share its budget, although each stays far
    // below the per-connection rate. Refused before parsing: no request id.
    let mut first = WsClient::connect_from(ATTACKER_IP, &url).await;
    let mut second = WsClient::connect_from(ATTACKER_IP, &url).await;
    let mut answers = Vec::new();
    for n in 0..8 {
        let client = if n % 2 == 0 { &mut first } else { &mut second };
        client
            .send_text(json!({"id": n, "method": "network_status", "params": {}}).to_string())
            .await;
        answers.push(client.recv().await);
    }
    let refused: Vec<_> = answers
        .iter()
        .filter(|a| a["error"]["code"] == "rate_limited")
        .collect();
    assert!(refused.len() >= 3, "{answers:?}");
    assert!(refused.iter().all(|a| a["id"].is_null()), "{refused:?}");
    assert!(
        answers[..3].iter().all(|a| a.get("result").is_some()),
        "{answers:?}"
    );

    // Faucet: two payments per IP, then `rate_limited` (to distinct
    // addresses, so the per-address cooldown is not what refuses).
    let faucet_request = {
        let (attacker_http, url) = (http_client_from(ATTACKER_IP), url.clone());
        move |to: u8| {
            let (attacker_http, url) = (attacker_http.clone(), url.clone());
            async move {
                let (status, body) = json_response(
                    attacker_http
                        .post(format!("{url}/api/v1/faucet"))
                        .json(&solved_faucet_request(&url, address(&key(to))).await)
                        .send()
                        .await
                        .unwrap(),
                )
                .await;
                (status, error_code(&body).to_owned())
            }
        }
    };
    let mut faucet_codes = Vec::new();
    for to in 200..203u8 {
        faucet_codes.push(faucet_request(to).await);
    }
    assert!(
        faucet_codes[..2].iter().all(|(s, _)| *s == 202),
        "{faucet_codes:?}"
    );
    assert_eq!(
        faucet_codes[2],
        (429, "rate_limited".to_owned()),
        "{faucet_codes:?}"
    );

    // The flood: both sockets and two more keep asking, and faucet
    // requests keep coming, all over budget, while the honest account pays.
    let stop = Arc::new(AtomicBool::new(false));
    let ws_answers: Arc<Mutex<BTreeMap<String, u64>>> = Arc::default();
    let mut flooders = Vec::new();
    let third = WsClient::connect_from(ATTACKER_IP, &url).await;
    let fourth = WsClient::connect_from(ATTACKER_IP, &url).await;
    for mut client in [first, second, third, fourth] {
        let (stop, ws_answers) = (stop.clone(), ws_answers.clone());
        flooders.push(tokio::spawn(async move {
            let mut n = 100;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                client
                    .send_text(
                        json!({"id": n, "method": "network_status", "params": {}}).to_string(),
                    )
                    .await;
                let answer = client.recv().await;
                let kind = if answer.get("result").is_some() {
                    "served".to_owned()
                } else {
                    format!("{}, id {}", answer["error"]["code"], answer["id"])
                };
                *ws_answers.lock().unwrap().entry(kind).or_default() += 1;
            }
        }));
    }
    let faucet_flood = {
        let stop = stop.clone();
        tokio::spawn(async move {
            let mut codes: BTreeMap<(u16, String), u64> = BTreeMap::new();
            let mut to = 203u8;
            while !stop.load(Ordering::Relaxed) {
                *codes.entry(faucet_request(to).await).or_default() += 1;
                to = to.checked_add(1).unwrap_or(203);
            }
            codes
        })
    };
    let started = Instant::now();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let attacked = devnet
        .honest_finality(&http, &honest, &mut nonce, HONEST_TRANSFERS)
        .await;
    stop.store(true, Ordering::Relaxed);
    for flooder in flooders {
        flooder.await.unwrap();
    }
    let faucet_codes = faucet_flood.await.unwrap();
    let seconds = started.elapsed().as_secs_f64();
    let ws_answers = ws_answers.lock().unwrap().clone();
    println!(
        "WebSocket and faucet flood over {seconds:.1} s: WebSocket answers {ws_answers:?}, \
         faucet answers {faucet_codes:?}"
    );
    print_finality("a WebSocket request and faucet flood", &quiet, &attacked);
    // Over budget all along: at most the rate was served, the rest refused
    // before parsing (no request id); the faucet paid no more.
    let served = ws_answers.get("served").copied().unwrap_or(0);
    assert!(
        served as f64 <= 3.0 + seconds,
        "{served} served in {seconds:.1} s: {ws_answers:?}"
    );
    assert!(
        ws_answers
            .keys()
            .all(|k| k == "served" || k == "\"rate_limited\", id null"),
        "{ws_answers:?}"
    );
    assert_eq!(
        faucet_codes.keys().collect::<Vec<_>>(),
        [&(429, "rate_limited".to_owned())],
        "{faucet_codes:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cross_origin_reads_only_for_configured_origins_and_security_headers() {
    let wallet = "http://127.0.0.1:5173";
    let devnet = Devnet::start_with(2, |c| {
        if c.name == "relay-1" {
            c.cors_origins = vec![wallet.to_owned()];
        }
    })
    .await;
    let http = reqwest::Client::new();
    let allowed = |i: usize, origin: &'static str| {
        let request = http
            .get(format!("{}/api/v1/network/status", devnet.url(i)))
            .header("origin", origin);
        async move {
            let response = request.send().await.unwrap();
            let headers = response.headers().clone();
            assert_eq!(headers["x-content-type-options"], "nosniff");
            assert_eq!(headers["x-frame-options"], "DENY");
            assert_eq!(headers["referrer-policy"], "no-referrer");
            assert!(headers["content-security-policy"]
                .to_str()
                .unwrap()
                .contains("default-src 'none'"));
            headers
                .get("access-control-allow-origin")
                .map(|v| v.to_str().unwrap().to_owned())
        }
    };
    // By default no origin may read; once configured, only that origin.
    assert_eq!(allowed(0, wallet).await, None);
    assert_eq!(allowed(1, wallet).await.as_deref(), Some(wallet));
    assert_eq!(allowed(1, "http://evil.example").await, None);
    // A preflight for the configured origin is answered; for another, not.
    let preflight = |origin: &'static str| {
        http.request(
            reqwest::Method::OPTIONS,
            format!("{}/api/v1/transactions", devnet.url(1)),
        )
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type")
        .send()
    };
    let ok = preflight(wallet).await.unwrap();
    assert_eq!(ok.headers()["access-control-allow-origin"], wallet);
    let refused = preflight("http://evil.example").await.unwrap();
    assert!(refused
        .headers()
        .get("access-control-allow-origin")
        .is_none());
}
