//! Certified checkpoints on four real relays, checked by the light-client
//! verifier exactly as a wallet checks them: from genesis, trusting no relay.

use ruv_integration_tests::{address, error_code, get, key, post, Devnet, WsClient};
use ruv_protocol::checkpoint::CertifiedCheckpoint;
use ruv_protocol::light::{
    verify_account_proof, verify_checkpoint, verify_transaction_proof, AccountProof,
    TransactionProof, TrustAnchor, VerifiedCheckpoint, VerifiedInclusion,
};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// Polls `url` until it answers 200 (fails after 30 s).
async fn get_ok(url: &str) -> Value {
    ruv_integration_tests::get_ok(url, Duration::from_secs(30)).await
}

/// Certified checkpoint `number` from `relay`, verified.
async fn checkpoint(
    devnet: &Devnet,
    relay: usize,
    anchor: &TrustAnchor,
    number: u64,
) -> VerifiedCheckpoint {
    let url = format!("{}/api/v1/checkpoints/{number}", devnet.url(relay));
    verify_checkpoint(anchor, &serde_json::from_value(get_ok(&url).await).unwrap()).unwrap()
}

/// Waits until `relay` proves transaction `id` final, and verifies the proof.
async fn proven_final(
    devnet: &Devnet,
    relay: usize,
    anchor: &TrustAnchor,
    id: &str,
) -> VerifiedInclusion {
    let url = format!("{}/api/v1/transactions/{id}/proof", devnet.url(relay));
    let proof: TransactionProof = serde_json::from_value(get_ok(&url).await).unwrap();
    let checkpoint = checkpoint(devnet, relay, anchor, proof.checkpoint).await;
    verify_transaction_proof(&checkpoint, &proof).unwrap()
}

async fn latest(devnet: &Devnet, relay: usize, anchor: &TrustAnchor) -> VerifiedCheckpoint {
    let body = get_ok(&format!("{}/api/v1/checkpoints/latest", devnet.url(relay))).await;
    let certified: CertifiedCheckpoint = serde_json::from_value(body).unwrap();
    verify_checkpoint(anchor, &certified).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relays_certify_checkpoints_that_prove_balances_and_finality() {
    let devnet = Devnet::start(4).await;
    let anchor = devnet.trust_anchor();

    // Heartbeat checkpoints form with no traffic, and every relay serves them.
    let first = latest(&devnet, 0, &anchor).await;
    assert!(first.number() >= 1);
    let status = get(format!("{}/api/v1/network/status", devnet.url(1))).await;
    assert_eq!(status["genesis_hash"], anchor.genesis_hash().to_string());

    // A payment becomes final, then provably final.
    let faucet = devnet.faucet_key();
    let bob = key(42);
    let tx = devnet.transfer(&faucet, address(&bob), 1_234_567, 1);
    let id = tx.id().to_string();
    let (code, body) = post(format!("{}/api/v1/transactions", devnet.url(2)), &tx).await;
    assert_eq!(code, 202, "{body}");
    devnet.wait_final(2, &id).await;

    for relay in 0..4 {
        let included = proven_final(&devnet, relay, &anchor, &id).await;
        assert_eq!(included.from, address(&faucet));
        assert_eq!(included.nonce, 1);

        // Bob's balance, proven against a certified state root.
        let verified = latest(&devnet, relay, &anchor).await;
        let proof: AccountProof = serde_json::from_value(
            get_ok(&format!(
                "{}/api/v1/accounts/{}/proof",
                devnet.url(relay),
                address(&bob)
            ))
            .await,
        )
        .unwrap();
        let checkpoint = if proof.checkpoint == verified.number() {
            verified
        } else {
            let body = get_ok(&format!(
                "{}/api/v1/checkpoints/{}",
                devnet.url(relay),
                proof.checkpoint
            ))
            .await;
            verify_checkpoint(&anchor, &serde_json::from_value(body).unwrap()).unwrap()
        };
        let account = verify_account_proof(&checkpoint, &proof).unwrap();
        assert_eq!(
            (account.balance, account.nonce),
            (1_234_567, 0),
            "relay {relay}"
        );
    }

    // Every relay holds the same certified header for each number it serves.
    let number = latest(&devnet, 0, &anchor).await.number();
    let mut ids = Vec::new();
    for relay in 0..4 {
        let body = get_ok(&format!(
            "{}/api/v1/checkpoints/{number}",
            devnet.url(relay)
        ))
        .await;
        ids.push(body["header_id"].clone());
    }
    assert!(ids.iter().all(|id| *id == ids[0]), "{ids:?}");

    // An address nobody paid is proven absent.
    let nobody = key(99);
    let proof: AccountProof = serde_json::from_value(
        get_ok(&format!(
            "{}/api/v1/accounts/{}/proof",
            devnet.url(3),
            address(&nobody)
        ))
        .await,
    )
    .unwrap();
    let body = get_ok(&format!(
        "{}/api/v1/checkpoints/{}",
        devnet.url(3),
        proof.checkpoint
    ))
    .await;
    let checkpoint = verify_checkpoint(&anchor, &serde_json::from_value(body).unwrap()).unwrap();
    let account = verify_account_proof(&checkpoint, &proof).unwrap();
    assert_eq!((account.balance, account.nonce), (0, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_serves_checkpoints_proofs_and_a_checkpoint_subscription() {
    let devnet = Devnet::start(4).await;
    let anchor = devnet.trust_anchor();
    latest(&devnet, 0, &anchor).await;
    let mut ws = WsClient::connect(&devnet.url(1)).await;

    let reply = ws.request("get_checkpoint", json!({})).await;
    let certified: CertifiedCheckpoint = serde_json::from_value(reply["result"].clone()).unwrap();
    let checkpoint = verify_checkpoint(&anchor, &certified).unwrap();
    let reply = ws
        .request(
            "get_checkpoint",
            json!({"number": checkpoint.number().to_string()}),
        )
        .await;
    assert_eq!(reply["result"]["header_id"], checkpoint.id().to_string());
    let reply = ws
        .request("get_checkpoint", json!({"number": "999999"}))
        .await;
    assert_eq!(error_code(&reply), "not_found", "{reply}");

    let faucet = address(&devnet.faucet_key());
    let reply = ws
        .request("get_account_proof", json!({"address": faucet.to_string()}))
        .await;
    let proof: AccountProof = serde_json::from_value(reply["result"].clone()).unwrap();
    assert!(proof.checkpoint >= checkpoint.number());

    let unknown = "00".repeat(32);
    let reply = ws
        .request("get_transaction_proof", json!({"id": unknown}))
        .await;
    assert_eq!(error_code(&reply), "not_certified", "{reply}");

    // The subscription sends the latest checkpoint at once, then new ones.
    let reply = ws.request("subscribe_checkpoints", json!({})).await;
    assert!(reply["result"]["subscription"].is_u64(), "{reply}");
    let mut seen = Vec::new();
    while seen.len() < 2 {
        let message = ws.recv().await;
        if message["event"]["type"] == "checkpoint" {
            let mut event = message["event"].clone();
            event.as_object_mut().unwrap().remove("type");
            let certified: CertifiedCheckpoint = serde_json::from_value(event).unwrap();
            seen.push(verify_checkpoint(&anchor, &certified).unwrap().number());
        }
    }
    assert!(seen[1] > seen[0], "{seen:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_relay_keeps_its_checkpoints_and_proves_against_them() {
    let mut devnet = Devnet::start(4).await;
    let anchor = devnet.trust_anchor();
    let before = latest(&devnet, 3, &anchor).await;
    // Stop relay 3 and start it again on the same database.
    let relay = devnet.relays.remove(3);
    relay.shutdown().await;
    let peers = devnet
        .relays
        .iter()
        .map(|r| ruv_integration_tests::peer_url(r.addr))
        .collect();
    let config =
        ruv_integration_tests::relay_config(&devnet.files, devnet.dir.path(), 3, false, peers);
    devnet.relays.push(ruv_relay::start(config).await.unwrap());
    let url = devnet.url(3);
    let body = get_ok(&format!("{url}/api/v1/checkpoints/{}", before.number())).await;
    assert_eq!(body["header_id"], before.id().to_string());
    // It keeps certifying with the others after the restart.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let now = latest(&devnet, 3, &anchor).await;
        if now.number() > before.number() + 1 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no new checkpoint after a restart"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checkpoints_keep_forming_across_a_chain_of_payments() {
    let devnet = Devnet::start(4).await;
    let anchor = devnet.trust_anchor();
    let faucet = devnet.faucet_key();
    let alice = key(7);
    let bob = key(8);
    // Faucet pays Alice; Alice pays Bob three times, each proven final
    // before the next (as a wallet does), through different relays.
    let steps = [
        (&faucet, address(&alice), 50_000_000u64, 1u64),
        (&alice, address(&bob), 1_000_000, 1),
        (&alice, address(&bob), 2_000_000, 2),
        (&alice, address(&bob), 3_000_000, 3),
    ];
    let mut previous: Option<String> = None;
    for (i, (from, to, amount, nonce)) in steps.into_iter().enumerate() {
        let tx = devnet.transfer(from, to, amount, nonce);
        let id = tx.id().to_string();
        let relay = i % 4;
        // Admission control counts accepted funds only: the relay paid
        // through must have accepted the previous step too.
        if let Some(previous) = previous.replace(id.clone()) {
            devnet.wait_final(relay, &previous).await;
        }
        let (code, body) = post(format!("{}/api/v1/transactions", devnet.url(relay)), &tx).await;
        assert_eq!(code, 202, "step {i}: {body}");
        let included = proven_final(&devnet, relay, &anchor, &id).await;
        assert_eq!(included.nonce, nonce);
    }
}

/// More checkpoints than a relay keeps in memory
/// (`ruv_consensus::CERTIFIED_IN_MEMORY`): the oldest are read from its
/// database, by number and as sync pages, and still verify from genesis;
/// so does a payment's proof that names one of them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checkpoints_older_than_those_kept_in_memory_are_read_from_the_database() {
    let devnet = Devnet::start(4).await;
    let anchor = devnet.trust_anchor();
    let faucet = devnet.faucet_key();
    let bob = key(43);
    // Relays a little behind relay 1 still keep only checkpoints after 1.
    let target = ruv_consensus::CERTIFIED_IN_MEMORY as u64 + 4;
    // One payment at a time, each final before the next: a checkpoint
    // follows every few (each covers new accepted vertices).
    let mut nonce = 0;
    let mut first_payment = None;
    while latest(&devnet, 1, &anchor).await.number() < target {
        nonce += 1;
        let tx = devnet.transfer(&faucet, address(&bob), 1_000, nonce);
        let id = tx.id().to_string();
        let (code, body) = post(format!("{}/api/v1/transactions", devnet.url(0)), &tx).await;
        assert_eq!(code, 202, "payment {nonce}: {body}");
        devnet.wait_final(0, &id).await;
        first_payment.get_or_insert(id);
    }
    for relay in 0..4 {
        assert_eq!(checkpoint(&devnet, relay, &anchor, 1).await.number(), 1);
        let page = reqwest::get(format!(
            "{}/api/v1/checkpoints/1/vertices",
            devnet.url(relay)
        ))
        .await
        .unwrap();
        assert_eq!(page.status(), 200, "relay {relay}");
        assert!(!page.bytes().await.unwrap().is_empty());
    }
    let first_payment = first_payment.expect("at least one payment");
    let included = proven_final(&devnet, 2, &anchor, &first_payment).await;
    assert_eq!(included.nonce, 1);
}
