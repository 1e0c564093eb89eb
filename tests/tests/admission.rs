//! Admission control under attack, on loopback: 16 unfunded keys flood all
//! four relays with transfers while an honest account keeps paying. The
//! flood is refused at ingress (before any signature check: most of its
//! transfers carry signatures that do not even verify) and never reaches
//! consensus; the honest transfers still become final everywhere. Honest
//! finality is measured quiet and during the flood and printed, never
//! asserted (`cargo test -p ruv-integration-tests --test admission -- --nocapture`).

use ruv_integration_tests::finality::{
    http_client_from, print_finality, ATTACKER_IP, HONEST_TRANSFERS,
};
use ruv_integration_tests::{address, error_code, key, Devnet};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const FLOOD_KEYS: u8 = 16;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_unfunded_flood_is_refused_at_ingress_while_honest_transfers_become_final() {
    let devnet = Devnet::start(4).await;
    let honest = key(50);
    devnet.fund(&honest, 1_000_000_000, 1).await;
    let http = reqwest::Client::new();
    let mut nonce = 1;
    let quiet = devnet
        .honest_finality(&http, &honest, &mut nonce, HONEST_TRANSFERS)
        .await;

    // The flood (from another loopback address than the honest client's,
    // as from another host): every key signs one transfer, then keeps
    // sending it with ever new nonces (so the signature no longer
    // verifies) to every relay.
    let stop = Arc::new(AtomicBool::new(false));
    let answers: Arc<Mutex<BTreeMap<(u16, String), u64>>> = Arc::default();
    let urls: Vec<String> = (0..4).map(|i| devnet.url(i)).collect();
    let flood_started = Instant::now();
    let mut flooders = Vec::new();
    for k in 0..FLOOD_KEYS {
        let signed = devnet.transfer(&key(100 + k), address(&key(61)), 1_000, 1);
        let (stop, answers, urls) = (stop.clone(), answers.clone(), urls.clone());
        flooders.push(tokio::spawn(async move {
            let http = http_client_from(ATTACKER_IP);
            let mut tx = signed;
            let mut sent = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let url = format!("{}/api/v1/transactions", urls[sent as usize % urls.len()]);
                let response = http.post(url).json(&tx).send().await.unwrap();
                let status = response.status().as_u16();
                let body: serde_json::Value = response.json().await.unwrap_or_default();
                *answers
                    .lock()
                    .unwrap()
                    .entry((status, error_code(&body).to_owned()))
                    .or_default() += 1;
                sent += 1;
                tx.transfer.nonce = 1 + sent % ruv_relay::admission::NONCE_WINDOW;
                tx.transfer.amount = 1_000 + sent;
            }
            sent
        }));
    }
    // Let the flood build up before measuring.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let flooded = devnet
        .honest_finality(&http, &honest, &mut nonce, HONEST_TRANSFERS)
        .await;
    stop.store(true, Ordering::Relaxed);
    let mut flood_sent = 0;
    for flooder in flooders {
        flood_sent += flooder.await.unwrap();
    }
    let flood_seconds = flood_started.elapsed().as_secs_f64();

    let answers = answers.lock().unwrap().clone();
    println!(
        "flood: {flood_sent} transfers from {FLOOD_KEYS} unfunded keys in {flood_seconds:.1} s \
         ({:.0}/s), answered {answers:?}",
        flood_sent as f64 / flood_seconds
    );
    print_finality("an unfunded transfer flood", &quiet, &flooded);

    // Every flood transfer was refused at ingress with the admission code,
    // none as a bad signature: the balance check came first.
    assert!(flood_sent > 0);
    assert_eq!(
        answers.keys().collect::<Vec<_>>(),
        [&(422, "insufficient_funds".to_owned())],
        "{answers:?}"
    );
    // Nothing of the flood reached consensus on any relay.
    let flood_tx = devnet.transfer(&key(100), address(&key(61)), 1_000, 1);
    for i in 0..4 {
        let (status, _) = ruv_integration_tests::json_response(
            reqwest::get(format!(
                "{}/api/v1/transactions/{}",
                devnet.url(i),
                flood_tx.id()
            ))
            .await
            .unwrap(),
        )
        .await;
        assert_eq!(status, 404, "relay {i} knows a flood transfer");
        let metrics = reqwest::get(format!("{}/metrics", devnet.url(i)))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let refused: u64 = metrics
            .lines()
            .find_map(|l| l.strip_prefix("ruv_admission_refused_total "))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0);
        assert!(refused > 0, "relay {i} counted no refusal:\n{metrics}");
    }
}
