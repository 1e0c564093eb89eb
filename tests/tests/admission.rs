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
use ruv_integration_tests::{address, error_code, get, key, post, Devnet};
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

/// A full pool makes room by fee rate, on loopback: every relay holds at
/// most `POOL` undecided transfers; one account fills them with transfers
/// that cannot be issued (nonce 1 is withheld); a newcomer paying the same
/// rate is refused `mempool_full`, one paying twice the rate evicts one of
/// them (its sender then reads `expired` with `mempool_full`: never sent,
/// nonce unused) and becomes final everywhere.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_full_pool_evicts_the_lowest_fee_rate_not_yet_issued_and_refuses_the_rest() {
    const POOL: usize = 4;
    let devnet = Devnet::start_with(4, |config| {
        config.max_pending_txs = POOL;
        // The waiting transfers must outlive the test's steps.
        config.tx_retry_ttl_ms = 60_000;
    })
    .await;
    let (waiting, payer) = (key(70), key(71));
    for (nonce, who) in [(1, &waiting), (2, &payer)] {
        let funding = devnet.transfer(&devnet.faucet_key(), address(who), 1_000_000_000, nonce);
        let (status, body) = post(format!("{}/api/v1/transactions", devnet.url(0)), &funding).await;
        assert_eq!(status, 202, "{body}");
        for i in 0..4 {
            let verdict = devnet.wait_final(i, &funding.id().to_string()).await;
            assert_eq!(verdict["status"], "accepted", "relay {i}: {verdict}");
        }
    }

    // Nonces 2..=5 wait for nonce 1, which never comes: they fill the pool.
    let submit = |tx: ruv_protocol::tx::SignedTransfer| {
        let url = format!("{}/api/v1/transactions", devnet.url(0));
        async move { post(url, &tx).await }
    };
    let minimum = devnet.min_fee();
    let mut held = Vec::new();
    for nonce in 2..2 + POOL as u64 {
        let tx = devnet.transfer(&waiting, address(&key(72)), 1_000, nonce);
        let (status, body) = submit(tx.clone()).await;
        assert_eq!(
            (status, body["status"].as_str()),
            (202, Some("pending")),
            "{body}"
        );
        held.push(tx.id().to_string());
    }

    // Same fee rate: nothing in the pool pays less, so the newcomer is refused.
    let same_rate = devnet.transfer(&waiting, address(&key(72)), 1_000, 2 + POOL as u64);
    let (status, body) = submit(same_rate).await;
    assert_eq!(error_code(&body), "mempool_full", "{status} {body}");

    // Twice the rate: one waiting transfer leaves, the newcomer is final everywhere.
    let richer = devnet.transfer_with_fee(&payer, address(&key(72)), 1_000, 2 * minimum, 1);
    let (status, body) = submit(richer.clone()).await;
    assert_eq!(status, 202, "{body}");
    for i in 0..4 {
        let verdict = devnet.wait_final(i, &richer.id().to_string()).await;
        assert_eq!(verdict["status"], "accepted", "relay {i}: {verdict}");
    }
    let mut evicted = Vec::new();
    for id in &held {
        let status = get(format!("{}/api/v1/transactions/{id}", devnet.url(0))).await;
        match status["status"].as_str() {
            Some("pending") => {}
            Some("expired") => {
                assert_eq!(status["reason"]["code"], "mempool_full", "{status}");
                evicted.push(id.clone());
            }
            other => panic!("waiting transfer {id} is {other:?}: {status}"),
        }
    }
    assert_eq!(
        evicted.len(),
        1,
        "exactly one transfer made room: {evicted:?}"
    );
}
