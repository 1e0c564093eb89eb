//! Account history on four real relays: paged newest first, every entry a
//! signed transfer with an inclusion proof that the light-client verifier
//! accepts against a certified checkpoint.

use ruv_integration_tests::liar::{self, LiarConfig, LieMode};
use ruv_integration_tests::{address, error_code, get, json_response, key, post, Devnet, WsClient};
use ruv_protocol::api::{AccountHistory, HistoryEntry};
use ruv_protocol::light::{verify_checkpoint, verify_transaction_proof, TrustAnchor};
use ruv_protocol::{Address, TxId};
use serde_json::json;
use std::time::{Duration, Instant};

async fn history(devnet: &Devnet, relay: usize, address: &Address, query: &str) -> AccountHistory {
    let url = format!(
        "{}/api/v1/accounts/{address}/history{query}",
        devnet.url(relay)
    );
    serde_json::from_value(get(url).await).unwrap()
}

/// Checks an entry as a wallet does: the proof names this transfer and
/// verifies against the certified checkpoint it names.
async fn verify_entry(
    devnet: &Devnet,
    anchor: &TrustAnchor,
    account: &Address,
    entry: &HistoryEntry,
) -> u64 {
    let transfer = &entry.transaction.transfer;
    assert_eq!(entry.transaction.id(), entry.proof.id);
    assert_eq!(
        (transfer.from, transfer.nonce),
        (entry.proof.from, entry.proof.nonce)
    );
    assert!(transfer.from == *account || transfer.to == *account);
    let body = get(format!(
        "{}/api/v1/checkpoints/{}",
        devnet.url(1),
        entry.proof.checkpoint
    ))
    .await;
    let checkpoint = verify_checkpoint(anchor, &serde_json::from_value(body).unwrap()).unwrap();
    verify_transaction_proof(&checkpoint, &entry.proof).unwrap();
    entry.proof.checkpoint
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_pages_newest_first_with_proofs_that_verify() {
    let mut devnet = Devnet::start(4).await;
    let anchor = devnet.trust_anchor();
    let faucet = devnet.faucet_key();
    let (alice, bob) = (key(7), key(8));

    // Three payments to alice, then one from alice to bob, in this order.
    let mut sent: Vec<TxId> = Vec::new();
    for nonce in 1..=3 {
        let tx = devnet.transfer(&faucet, address(&alice), 1_000_000 * nonce, nonce);
        let (code, body) = post(format!("{}/api/v1/transactions", devnet.url(0)), &tx).await;
        assert_eq!(code, 202, "{body}");
        devnet.wait_final(0, &tx.id().to_string()).await;
        sent.push(tx.id());
    }
    let tx = devnet.transfer(&alice, address(&bob), 5_000, 1);
    let (code, body) = post(format!("{}/api/v1/transactions", devnet.url(0)), &tx).await;
    assert_eq!(code, 202, "{body}");
    devnet.wait_final(0, &tx.id().to_string()).await;
    sent.push(tx.id());

    // Wait until a certified checkpoint holds all four on relay 2.
    let alice_address = address(&alice);
    let deadline = Instant::now() + Duration::from_secs(60);
    let first = loop {
        let page = history(&devnet, 2, &alice_address, "?limit=3").await;
        if page.entries.first().map(|e| e.proof.id) == Some(sent[3]) {
            break page;
        }
        assert!(
            Instant::now() < deadline,
            "history never complete: {page:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };

    // Newest first, three per page, then the rest with no further cursor.
    assert_eq!(first.address, alice_address);
    let ids: Vec<TxId> = first.entries.iter().map(|e| e.proof.id).collect();
    assert_eq!(ids, vec![sent[3], sent[2], sent[1]]);
    let next = first.next.expect("an older page");
    let second = history(
        &devnet,
        2,
        &alice_address,
        &format!("?limit=3&before={next}"),
    )
    .await;
    let ids: Vec<TxId> = second.entries.iter().map(|e| e.proof.id).collect();
    assert_eq!(ids, vec![sent[0]]);
    assert_eq!(second.next, None);

    // Every entry verifies; checkpoints never increase down the list.
    let mut previous = u64::MAX;
    for entry in first.entries.iter().chain(&second.entries) {
        let number = verify_entry(&devnet, &anchor, &alice_address, entry).await;
        assert!(number <= previous, "not newest first");
        previous = number;
    }

    // The recipient's history holds the payment too; every relay agrees.
    for relay in 0..4 {
        let page = history(&devnet, relay, &address(&bob), "").await;
        let ids: Vec<TxId> = page.entries.iter().map(|e| e.proof.id).collect();
        if ids.is_empty() {
            continue; // this relay may not have adopted that checkpoint yet
        }
        assert_eq!(ids, vec![sent[3]], "relay {relay}");
        verify_entry(&devnet, &anchor, &address(&bob), &page.entries[0]).await;
    }

    // Nobody's history is empty; bad queries get typed errors.
    let nobody = history(&devnet, 0, &address(&key(99)), "").await;
    assert!(nobody.entries.is_empty() && nobody.next.is_none());
    let http = reqwest::Client::new();
    for (query, code) in [
        ("?limit=0", "malformed_json"),
        ("?limit=51", "malformed_json"),
        ("?before=x", "malformed_json"),
        ("?after=1", "malformed_json"),
    ] {
        let url = format!(
            "{}/api/v1/accounts/{alice_address}/history{query}",
            devnet.url(0)
        );
        let (status, body) = json_response(http.get(url).send().await.unwrap()).await;
        assert_eq!((status, error_code(&body)), (400, code), "{query}: {body}");
    }
    let url = format!("{}/api/v1/accounts/ruv1nope/history", devnet.url(0));
    let (status, body) = json_response(http.get(url).send().await.unwrap()).await;
    assert_eq!(
        (status, error_code(&body)),
        (400, "invalid_address"),
        "{body}"
    );

    // The WebSocket method answers the same page.
    let mut ws = WsClient::connect(&devnet.url(2)).await;
    let answer = ws
        .request(
            "get_history",
            json!({"address": alice_address.to_string(), "limit": 3}),
        )
        .await;
    let page: AccountHistory = serde_json::from_value(answer["result"].clone()).unwrap();
    assert_eq!(page, first);
    let answer = ws
        .request(
            "get_history",
            json!({"address": alice_address.to_string(), "before": next.to_string()}),
        )
        .await;
    let page: AccountHistory = serde_json::from_value(answer["result"].clone()).unwrap();
    assert_eq!(page, second);

    // A relay that forges its newest entry and drops the next one's proof:
    // both fail the checks a wallet makes; the entries it left alone pass.
    let forger = liar::start(
        "127.0.0.1:0".parse().unwrap(),
        LiarConfig::new(devnet.url(2), LieMode::ForgeHistory),
    )
    .await
    .unwrap();
    let url = format!("{}/api/v1/accounts/{alice_address}/history", forger.url());
    let forged: AccountHistory = serde_json::from_value(get(url).await).unwrap();
    assert_eq!(forged.entries.len(), 4);
    let newest = &forged.entries[0];
    assert_ne!(
        newest.transaction.id(),
        newest.proof.id,
        "the forgery shows"
    );
    assert_eq!(
        newest.proof, first.entries[0].proof,
        "the proof is the honest one"
    );
    let dropped = &forged.entries[1];
    let body = get(format!(
        "{}/api/v1/checkpoints/{}",
        devnet.url(2),
        dropped.proof.checkpoint
    ))
    .await;
    let checkpoint = verify_checkpoint(&anchor, &serde_json::from_value(body).unwrap()).unwrap();
    assert!(verify_transaction_proof(&checkpoint, &dropped.proof).is_err());
    for entry in &forged.entries[2..] {
        verify_entry(&devnet, &anchor, &alice_address, entry).await;
    }
    drop(forger);

    // The index is derived when checkpoints are adopted, so a restarted
    // relay rebuilds it from its stored checkpoints.
    let deadline = Instant::now() + Duration::from_secs(60);
    while history(&devnet, 3, &alice_address, "?limit=3").await != first {
        assert!(Instant::now() < deadline, "relay 3 never caught up");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    devnet.relays.remove(3).shutdown().await;
    let peers = devnet
        .relays
        .iter()
        .map(|r| ruv_integration_tests::peer_url(r.addr))
        .collect();
    let config =
        ruv_integration_tests::relay_config(&devnet.files, devnet.dir.path(), 3, false, peers);
    devnet.relays.push(ruv_relay::start(config).await.unwrap());
    assert_eq!(history(&devnet, 3, &alice_address, "?limit=3").await, first);
    let rest = history(
        &devnet,
        3,
        &alice_address,
        &format!("?limit=3&before={next}"),
    )
    .await;
    assert_eq!(rest, second);
}
