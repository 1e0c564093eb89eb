//! Relays restart from the ledger state they stored at a certified
//! checkpoint (not from genesis) and still agree with the others, prove
//! balances a wallet verifies from genesis, and keep deciding payments.

use ruv_integration_tests::{
    address, error_code, json_response, key, peer_url, post, relay_config, Devnet,
};
use ruv_protocol::checkpoint::CertifiedCheckpoint;
use ruv_protocol::light::{
    verify_account_proof, verify_checkpoint, verify_transaction_proof, AccountProof,
    TransactionProof, VerifiedCheckpoint,
};
use ruv_protocol::{Address, Genesis};
use ruv_relay::storage::Storage;
use serde_json::Value;
use std::time::{Duration, Instant};

/// Polls `url` until it answers 200 (fails after 60 s).
async fn get_ok(url: &str) -> Value {
    ruv_integration_tests::get_ok(url, Duration::from_secs(60)).await
}

/// Checkpoints the stored state lags the latest one in this test.
const KEEP: u64 = 1;

async fn checkpoint(devnet: &Devnet, relay: usize, number: u64) -> VerifiedCheckpoint {
    let url = format!("{}/api/v1/checkpoints/{number}", devnet.url(relay));
    let certified: CertifiedCheckpoint = serde_json::from_value(get_ok(&url).await).unwrap();
    verify_checkpoint(&devnet.trust_anchor(), &certified).unwrap()
}

async fn latest(devnet: &Devnet, relay: usize) -> VerifiedCheckpoint {
    let body = get_ok(&format!("{}/api/v1/checkpoints/latest", devnet.url(relay))).await;
    let certified: CertifiedCheckpoint = serde_json::from_value(body).unwrap();
    verify_checkpoint(&devnet.trust_anchor(), &certified).unwrap()
}

/// Waits until `relay` has certified a checkpoint above `number`.
async fn wait_past(devnet: &Devnet, relay: usize, number: u64) -> VerifiedCheckpoint {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let now = latest(devnet, relay).await;
        if now.number() > number {
            return now;
        }
        assert!(
            Instant::now() < deadline,
            "relay {relay} certified nothing past {number}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// `who`'s (balance, nonce) as `relay` proves it, verified from genesis.
async fn proven_account(devnet: &Devnet, relay: usize, who: Address) -> (u64, u64) {
    let url = format!("{}/api/v1/accounts/{who}/proof", devnet.url(relay));
    let proof: AccountProof = serde_json::from_value(get_ok(&url).await).unwrap();
    let checkpoint = checkpoint(devnet, relay, proof.checkpoint).await;
    let account = verify_account_proof(&checkpoint, &proof).unwrap();
    (account.balance, account.nonce)
}

/// Pays and waits until `relay` proves the payment included (verified).
async fn pay_and_prove(
    devnet: &Devnet,
    relay: usize,
    from: &ruv_protocol::SigningKey,
    to: Address,
    amount: u64,
    nonce: u64,
) -> u64 {
    let tx = devnet.transfer(from, to, amount, nonce);
    let id = tx.id().to_string();
    let (code, body) = post(format!("{}/api/v1/transactions", devnet.url(relay)), &tx).await;
    assert_eq!(code, 202, "{body}");
    devnet.wait_final(relay, &id).await;
    let url = format!("{}/api/v1/transactions/{id}/proof", devnet.url(relay));
    let proof: TransactionProof = serde_json::from_value(get_ok(&url).await).unwrap();
    let checkpoint = checkpoint(devnet, relay, proof.checkpoint).await;
    verify_transaction_proof(&checkpoint, &proof).unwrap();
    proof.checkpoint
}

/// Stops relay `i`, checks what its database holds, and starts it again on it.
async fn restart(devnet: &mut Devnet, i: usize) -> Option<u64> {
    let relay = devnet.relays.remove(i);
    relay.shutdown().await;
    let genesis: Genesis =
        Genesis::from_json(&std::fs::read_to_string(&devnet.files.genesis).unwrap()).unwrap();
    let data_dir = devnet.dir.path().join(format!("data-{i}"));
    let stored_state = {
        let storage = Storage::open(&data_dir, genesis.hash()).unwrap();
        storage.state_checkpoint().unwrap()
    };
    let peers = devnet.relays.iter().map(|r| peer_url(r.addr)).collect();
    let mut config = relay_config(&devnet.files, devnet.dir.path(), i, i == 0, peers);
    config.keep_checkpoints = KEEP;
    devnet
        .relays
        .insert(i, ruv_relay::start(config).await.unwrap());
    stored_state
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relays_restarted_from_their_stored_state_agree_and_prove_balances() {
    let mut devnet = Devnet::start_with(4, |c| c.keep_checkpoints = KEEP).await;
    let faucet = devnet.faucet_key();
    let (alice, bob) = (key(31), key(32));
    let follower = devnet.start_follower("follower", false).await;

    // History: a few payments, each in some certified checkpoint, and
    // several checkpoints after them so the stored state moves past them.
    let first_tx = devnet.transfer(&faucet, address(&alice), 40_000_000, 1);
    let first_id = first_tx.id().to_string();
    let first = pay_and_prove(&devnet, 0, &faucet, address(&alice), 40_000_000, 1).await;
    pay_and_prove(&devnet, 1, &alice, address(&bob), 1_000_000, 1).await;
    let last = pay_and_prove(&devnet, 2, &alice, address(&bob), 2_000_000, 2).await;
    let before = wait_past(&devnet, 3, last + KEEP + 2).await;
    wait_past(&devnet, 0, last).await;
    let alice_before = proven_account(&devnet, 0, address(&alice)).await;
    let bob_before = proven_account(&devnet, 0, address(&bob)).await;
    assert_eq!(bob_before, (3_000_000, 0));
    assert_eq!(alice_before.1, 2);

    // Two relays restart, one after the other, each from its stored state.
    for relay in [3, 2] {
        let stored = restart(&mut devnet, relay)
            .await
            .expect("a relay stores its state");
        assert!(
            stored > first,
            "relay {relay}'s stored state is at checkpoint {stored}, not past the history"
        );
        devnet.wait_for_mesh().await;
        // It serves the checkpoints it had, and the same balances, proven.
        let served = checkpoint(&devnet, relay, before.number()).await;
        assert_eq!(served.id(), before.id());
        assert_eq!(
            proven_account(&devnet, relay, address(&alice)).await,
            alice_before
        );
        assert_eq!(
            proven_account(&devnet, relay, address(&bob)).await,
            bob_before
        );
        // Proofs of transactions included up to the stored state are gone
        // here, with a typed answer; the certificates are not.
        let http = reqwest::Client::new();
        let url = format!("{}/api/v1/transactions/{first_id}/proof", devnet.url(relay));
        let (status, body) = json_response(http.get(url).send().await.unwrap()).await;
        assert_eq!((status, error_code(&body)), (410, "pruned"), "{body}");
        let url = format!(
            "{}/api/v1/accounts/{}/nonces/1/proof",
            devnet.url(relay),
            address(&faucet)
        );
        let (status, body) = json_response(http.get(url).send().await.unwrap()).await;
        assert_eq!((status, error_code(&body)), (410, "pruned"), "{body}");
        checkpoint(&devnet, relay, first).await;
        let url = format!(
            "{}/api/v1/accounts/{}/history",
            devnet.url(relay),
            address(&alice)
        );
        let history = get_ok(&url).await;
        assert_eq!(history["pruned_through"], stored.to_string(), "{history}");
    }

    // They keep deciding with the others: a payment through a restarted
    // relay (checked against its restored ledger) is final and proven on it.
    let after = pay_and_prove(&devnet, 3, &alice, address(&bob), 3_000_000, 3).await;
    assert!(after > before.number());
    let now = wait_past(&devnet, 3, after).await;
    let mut ids = Vec::new();
    for relay in 0..4 {
        wait_past(&devnet, relay, now.number()).await;
        ids.push(checkpoint(&devnet, relay, now.number()).await.id());
        assert_eq!(
            proven_account(&devnet, relay, address(&bob)).await,
            (6_000_000, 0),
            "relay {relay}"
        );
    }
    assert!(ids.iter().all(|id| *id == ids[0]), "{ids:?}");

    // A follower restarts from the state it stored too (default lag).
    let follower_url = format!("http://{}", follower.addr);
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let body = get_ok(&format!("{follower_url}/api/v1/checkpoints/latest")).await;
        let certified: CertifiedCheckpoint = serde_json::from_value(body).unwrap();
        let number = verify_checkpoint(&devnet.trust_anchor(), &certified)
            .unwrap()
            .number();
        if number > now.number() + ruv_relay::config::DEFAULT_KEEP_CHECKPOINTS {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the follower stopped at {number}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    follower.shutdown().await;
    let genesis: Genesis =
        Genesis::from_json(&std::fs::read_to_string(&devnet.files.genesis).unwrap()).unwrap();
    let follower_dir = devnet.dir.path().join("data-follower");
    let stored = Storage::open(&follower_dir, genesis.hash())
        .unwrap()
        .state_checkpoint()
        .unwrap()
        .expect("a follower stores its state");
    assert!(stored > after, "the follower's state is at {stored}");
    let follower = devnet.start_follower("follower", false).await;
    let follower_url = format!("http://{}", follower.addr);
    let proof: AccountProof = serde_json::from_value(
        get_ok(&format!(
            "{follower_url}/api/v1/accounts/{}/proof",
            address(&bob)
        ))
        .await,
    )
    .unwrap();
    let body = get_ok(&format!(
        "{follower_url}/api/v1/checkpoints/{}",
        proof.checkpoint
    ))
    .await;
    let certified: CertifiedCheckpoint = serde_json::from_value(body).unwrap();
    let checkpoint = verify_checkpoint(&devnet.trust_anchor(), &certified).unwrap();
    let account = verify_account_proof(&checkpoint, &proof).unwrap();
    assert_eq!((account.balance, account.nonce), (6_000_000, 0));
    let http = reqwest::Client::new();
    let url = format!("{follower_url}/api/v1/transactions/{first_id}/proof");
    let (status, body) = json_response(http.get(url).send().await.unwrap()).await;
    assert_eq!((status, error_code(&body)), (410, "pruned"), "{body}");
    follower.shutdown().await;

    // A stored state that does not match its certified header is refused
    // at start (value moved between two accounts: same supply, other root).
    let relay = devnet.relays.remove(3);
    relay.shutdown().await;
    let data_dir = devnet.dir.path().join("data-3");
    {
        let storage = Storage::open(&data_dir, genesis.hash()).unwrap();
        let mut snapshot = storage.load_snapshot().unwrap().expect("stored state");
        let funded: Vec<usize> = (0..snapshot.accounts.len())
            .filter(|i| snapshot.accounts[*i].1.balance > 0)
            .collect();
        assert!(funded.len() >= 2);
        snapshot.accounts[funded[0]].1.balance += 1;
        snapshot.accounts[funded[1]].1.balance -= 1;
        storage.write_snapshot(&snapshot).unwrap();
    }
    let mut config = relay_config(&devnet.files, devnet.dir.path(), 3, false, Vec::new());
    config.keep_checkpoints = KEEP;
    let error = ruv_relay::start(config)
        .await
        .err()
        .expect("a tampered state is refused");
    assert!(error.to_string().contains("state root"), "{error}");
}
