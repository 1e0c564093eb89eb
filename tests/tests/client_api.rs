//! The client API of one real relay on an ephemeral port: signed transfers
//! from a native client, and every bad input answered with its own code.

use ruv_integration_tests::{
    address, error_code, json_response, key, post, solved_faucet_request, Devnet, WsClient,
    TEST_FAUCET_POW_BITS,
};
use ruv_protocol::api::{limits, FaucetProof};
use ruv_protocol::faucet_pow;
use serde_json::{json, Value};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transfers_are_accepted_and_bad_input_gets_its_code() {
    let devnet = Devnet::start(1).await;
    let http = reqwest::Client::new();
    let url = devnet.url(0);
    let faucet = devnet.faucet_key();
    let bob = key(2);

    // A valid transfer is accepted and moves the money.
    let tx = devnet.transfer(&faucet, address(&bob), 5_000_000, 1);
    let (status, body) = post(format!("{url}/api/v1/transactions"), &tx).await;
    assert_eq!(status, 202, "{body}");
    assert!(
        matches!(body["status"].as_str(), Some("pending" | "accepted")),
        "{body}"
    );
    assert_eq!(body["id"], tx.id().to_string());
    let final_status = devnet.wait_final(0, &tx.id().to_string()).await;
    assert_eq!(final_status["status"], "accepted", "{final_status}");
    let (_, account) = json_response(
        http.get(format!("{url}/api/v1/accounts/{}", address(&bob)))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(account["balance"], "5000000");
    let (status, body) = json_response(
        http.get(format!("{url}/api/v1/transactions/{}", tx.id()))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, body["status"].as_str()), (200, Some("accepted")));
    // Submitting the same transaction again is idempotent.
    let (status, body) = post(format!("{url}/api/v1/transactions"), &tx).await;
    assert_eq!((status, body["status"].as_str()), (202, Some("accepted")));

    let post_tx = |value: Value| {
        let url = format!("{url}/api/v1/transactions");
        async move { post(url, &value).await }
    };
    let valid = serde_json::to_value(devnet.transfer(&faucet, address(&bob), 1, 2)).unwrap();

    // Each bad transaction gets its own code and changes nothing.
    let mut bad_signature = valid.clone();
    bad_signature["amount"] = json!("2");
    let mut wrong_chain_tx = devnet.transfer(&faucet, address(&bob), 1, 2);
    wrong_chain_tx.transfer.chain_id = "other-chain".into();
    let wrong_chain = serde_json::to_value(
        wrong_chain_tx
            .transfer
            .clone()
            .sign(&faucet, [0; 32])
            .unwrap(),
    )
    .unwrap();
    let mut bad_address = valid.clone();
    bad_address["to"] = json!("ruv1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqq");
    let mut short_key = valid.clone();
    short_key["public_key"] = json!("AAAA");
    let mut low_fee_tx = devnet.transfer(&faucet, address(&bob), 1, 2);
    low_fee_tx.transfer.fee = 1;
    let low_fee =
        serde_json::to_value(low_fee_tx.transfer.clone().sign(&faucet, [0; 32]).unwrap()).unwrap();
    let cases = [
        (bad_signature, 400, "bad_signature"),
        (wrong_chain, 400, "wrong_chain"),
        (bad_address, 400, "invalid_address"),
        (short_key, 400, "invalid_transaction"),
        (low_fee, 400, "fee_too_low"),
        (
            serde_json::to_value(devnet.transfer(&faucet, address(&bob), 1, 1)).unwrap(),
            409,
            "stale_nonce",
        ),
    ];
    for (body, want_status, want_code) in cases {
        let (status, reply) = post_tx(body).await;
        assert_eq!(
            (status, error_code(&reply)),
            (want_status, want_code),
            "{reply}"
        );
    }
    // Admission control: an unfunded sender, or a nonce too far ahead, is
    // refused at once, before the signature is even checked.
    let far = ruv_relay::admission::NONCE_WINDOW + 2;
    for (tx, want_status, want_code) in [
        (
            devnet.transfer(&key(3), address(&bob), 1, 1),
            422,
            "insufficient_funds",
        ),
        (
            devnet.transfer(&faucet, address(&bob), 1, far),
            409,
            "nonce_gap",
        ),
    ] {
        let (status, reply) = post_tx(serde_json::to_value(&tx).unwrap()).await;
        assert_eq!(
            (status, error_code(&reply)),
            (want_status, want_code),
            "{reply}"
        );
    }
    // A nonce gap within the window may still resolve (an earlier transfer
    // may be in flight), so consensus holds it for the retry window, then
    // lets it expire, with its own reason: "expired" (its nonce unused, a new
    // transfer may take it), never "rejected".
    for (tx, want_code) in [(devnet.transfer(&faucet, address(&bob), 1, 9), "nonce_gap")] {
        let (status, reply) = post_tx(serde_json::to_value(&tx).unwrap()).await;
        assert_eq!(
            (status, reply["status"].as_str()),
            (202, Some("pending")),
            "{reply}"
        );
        // A subscriber hears the same: at expiry, or at once if it came late.
        let mut ws = WsClient::connect(&url).await;
        let reply = ws
            .request("subscribe_transaction", json!({"id": tx.id().to_string()}))
            .await;
        let subscription = reply["result"]["subscription"].as_u64();
        let verdict = devnet.wait_final(0, &tx.id().to_string()).await;
        assert_eq!(
            (
                verdict["status"].as_str(),
                verdict["reason"]["code"].as_str()
            ),
            (Some("expired"), Some(want_code)),
            "{verdict}"
        );
        let event = loop {
            let event = ws.recv().await;
            // The subscription's first event is the status at subscription time.
            if subscription.is_some()
                && event["subscription"].as_u64() == subscription
                && event["event"]["status"] != "pending"
            {
                break event;
            }
        };
        assert_eq!(
            (
                event["event"]["status"].as_str(),
                event["event"]["reason"]["code"].as_str()
            ),
            (Some("expired"), Some(want_code)),
            "{event}"
        );
    }
    let (_, account) = json_response(
        http.get(format!("{url}/api/v1/accounts/{}", address(&bob)))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        account["balance"], "5000000",
        "rejected transactions changed state"
    );

    // Malformed JSON, oversized bodies, bad paths.
    let (status, reply) = json_response(
        http.post(format!("{url}/api/v1/transactions"))
            .body("{not json")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, error_code(&reply)), (400, "malformed_json"));
    let huge = "x".repeat(limits::MAX_BODY_BYTES + 1);
    let (status, reply) = json_response(
        http.post(format!("{url}/api/v1/transactions"))
            .body(huge)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, error_code(&reply)), (413, "payload_too_large"));
    let (status, reply) = json_response(
        http.get(format!("{url}/api/v1/accounts/ruv1nope"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, error_code(&reply)), (400, "invalid_address"));
    let (status, reply) = json_response(
        http.get(format!("{url}/api/v1/transactions/xyz"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, error_code(&reply)),
        (400, "invalid_transaction_id")
    );
    let (status, reply) = json_response(
        http.get(format!("{url}/api/v1/transactions/{}", "0".repeat(64)))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, error_code(&reply)), (404, "not_found"));
    let (status, reply) = json_response(
        http.get(format!("{url}/api/v1/no/such/thing"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, error_code(&reply)), (404, "not_found"));
    let (status, reply) = json_response(
        http.get(format!("{url}/api/v1/fees/estimate?memo_bytes=10"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(reply["minimum_fee"], (devnet.min_fee() + 10).to_string());

    // The faucet asks for a proof of work bound to the address, pays
    // through a real transfer once it is solved, and rate-limits an address.
    let carol = key(4);
    let faucet_url = format!("{url}/api/v1/faucet");
    let (status, reply) = post(
        faucet_url.clone(),
        &json!({"address": address(&carol).to_string()}),
    )
    .await;
    assert_eq!((status, error_code(&reply)), (400, "faucet_pow_required"));
    let solved = solved_faucet_request(&url, address(&carol)).await;
    let proof = solved.proof.unwrap();
    let mut wrong = solved.clone();
    wrong.proof = Some(FaucetProof {
        nonce: (0..)
            .find(|n| {
                !faucet_pow::is_solution(
                    &proof.challenge,
                    &address(&carol),
                    *n,
                    TEST_FAUCET_POW_BITS,
                )
            })
            .unwrap(),
        ..proof
    });
    let (status, reply) = post(faucet_url.clone(), &wrong).await;
    assert_eq!((status, error_code(&reply)), (400, "faucet_pow_invalid"));
    let (status, reply) = post(faucet_url.clone(), &solved).await;
    assert_eq!(status, 202, "{reply}");
    let paid = devnet.wait_final(0, reply["id"].as_str().unwrap()).await;
    assert_eq!(paid["status"], "accepted", "{paid}");
    let (status, reply) = post(faucet_url.clone(), &solved).await;
    assert_eq!((status, error_code(&reply)), (400, "faucet_pow_reused"));
    let (status, reply) = post(
        faucet_url.clone(),
        &solved_faucet_request(&url, address(&carol)).await,
    )
    .await;
    assert_eq!((status, error_code(&reply)), (429, "faucet_cooldown"));
    let (status, reply) = post(faucet_url, &json!({"address": "ruv1bad"})).await;
    assert_eq!((status, error_code(&reply)), (400, "invalid_address"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_requests_subscriptions_and_errors() {
    let devnet = Devnet::start(1).await;
    let faucet = devnet.faucet_key();
    let bob = key(2);
    let mut ws = WsClient::connect(&devnet.url(0)).await;

    let status = ws.request("network_status", Value::Null).await;
    assert_eq!(
        status["result"]["chain_id"],
        devnet.genesis.chain_id.as_str()
    );

    // Subscribe to Bob's account: a snapshot comes first.
    let sub = ws
        .request(
            "subscribe_account",
            json!({"address": address(&bob).to_string()}),
        )
        .await;
    let account_sub = sub["result"]["subscription"].as_u64().unwrap();
    let snapshot = ws.recv().await;
    assert_eq!(
        (
            snapshot["subscription"].as_u64(),
            snapshot["event"]["balance"].as_str()
        ),
        (Some(account_sub), Some("0"))
    );

    // Submit over the socket; the account event is pushed.
    let tx = devnet.transfer(&faucet, address(&bob), 777, 1);
    let reply = ws
        .request("submit_transaction", json!({"transaction": tx}))
        .await;
    assert!(
        matches!(
            reply["result"]["status"].as_str(),
            Some("pending" | "accepted")
        ),
        "{reply}"
    );
    let mut saw_balance = false;
    for _ in 0..20 {
        let event = ws.recv().await;
        if event["subscription"].as_u64() == Some(account_sub) && event["event"]["balance"] == "777"
        {
            saw_balance = true;
            break;
        }
    }
    assert!(saw_balance, "no account event after the transfer");

    // A transaction subscription on a final transaction gets its status at once.
    devnet.wait_final(0, &tx.id().to_string()).await;
    let reply = ws
        .request("subscribe_transaction", json!({"id": tx.id().to_string()}))
        .await;
    let tx_sub = reply["result"]["subscription"].as_u64().unwrap();
    let event = ws.recv().await;
    assert_eq!(
        (
            event["subscription"].as_u64(),
            event["event"]["status"].as_str()
        ),
        (Some(tx_sub), Some("accepted"))
    );

    // Bad messages get error replies and the connection stays usable.
    ws.send_text("{nope".into()).await;
    let reply = ws.recv().await;
    assert_eq!(
        (reply["id"].clone(), error_code(&reply)),
        (Value::Null, "malformed_json")
    );
    let reply = ws.request("fly_to_the_moon", json!({})).await;
    assert_eq!(error_code(&reply), "unknown_method");
    let reply = ws
        .request("get_account", json!({"address": "ruv1zzz"}))
        .await;
    assert_eq!(error_code(&reply), "invalid_address");
    let reply = ws.request("get_transaction", json!({"id": "beef"})).await;
    assert_eq!(error_code(&reply), "invalid_transaction_id");
    let reply = ws
        .request(
            "submit_transaction",
            json!({"transaction": {"amount": "1"}}),
        )
        .await;
    assert_eq!(error_code(&reply), "invalid_transaction");
    let mut bad_sig = serde_json::to_value(devnet.transfer(&faucet, address(&bob), 1, 2)).unwrap();
    bad_sig["amount"] = json!("2");
    let reply = ws
        .request("submit_transaction", json!({"transaction": bad_sig}))
        .await;
    assert_eq!(error_code(&reply), "bad_signature");
    let reply = ws
        .request("unsubscribe", json!({"subscription": 999}))
        .await;
    assert_eq!(error_code(&reply), "not_found");
    ws.send_text(format!(
        "{{\"id\":1,\"method\":\"network_status\",\"pad\":\"{}\"}}",
        "x".repeat(limits::MAX_WS_FRAME_BYTES)
    ))
    .await;
    let reply = ws.recv().await;
    assert_eq!(error_code(&reply), "frame_too_large");
    let reply = ws
        .request("get_account", json!({"address": address(&bob).to_string()}))
        .await;
    assert_eq!(
        reply["result"]["balance"], "777",
        "connection unusable after errors: {reply}"
    );

    // Subscription limit per connection.
    let mut ws2 = WsClient::connect(&devnet.url(0)).await;
    let mut last = Value::Null;
    for _ in 0..=limits::MAX_SUBSCRIPTIONS_PER_CONNECTION {
        last = ws2
            .request(
                "subscribe_account",
                json!({"address": address(&bob).to_string()}),
            )
            .await;
    }
    assert_eq!(error_code(&last), "too_many_subscriptions");

    // Rate limit: a burst far above the allowance gets rate_limited replies.
    let mut ws3 = WsClient::connect(&devnet.url(0)).await;
    let burst = limits::WS_REQUEST_BURST as u64 * 2;
    for id in 0..burst {
        ws3.send_text(json!({"id": id, "method": "network_status"}).to_string())
            .await;
    }
    let mut limited = 0;
    for _ in 0..burst {
        if error_code(&ws3.recv().await) == "rate_limited" {
            limited += 1;
        }
    }
    assert!(limited > 0, "no request was rate limited");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accepted_transactions_survive_a_restart() {
    let mut devnet = Devnet::start(1).await;
    let http = reqwest::Client::new();
    let faucet = devnet.faucet_key();
    for nonce in 1..=3 {
        let tx = devnet.transfer(&faucet, address(&key(9)), 100, nonce);
        let (status, _) = post(format!("{}/api/v1/transactions", devnet.url(0)), &tx).await;
        assert_eq!(status, 202);
        assert_eq!(
            devnet.wait_final(0, &tx.id().to_string()).await["status"],
            "accepted"
        );
    }
    let relay = devnet.relays.remove(0);
    relay.shutdown().await;
    let config =
        ruv_integration_tests::relay_config(&devnet.files, devnet.dir.path(), 0, true, Vec::new());
    devnet.relays.push(ruv_relay::start(config).await.unwrap());
    let (_, account) = json_response(
        http.get(format!(
            "{}/api/v1/accounts/{}",
            devnet.url(0),
            address(&key(9))
        ))
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(account["balance"], "300");
    let (_, faucet_account) = json_response(
        http.get(format!(
            "{}/api/v1/accounts/{}",
            devnet.url(0),
            address(&faucet)
        ))
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(faucet_account["nonce"], "3");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_prometheus_text() {
    let devnet = Devnet::start(1).await;
    let http = reqwest::Client::new();
    let tx = devnet.transfer(&devnet.faucet_key(), address(&key(5)), 10, 1);
    http.post(format!("{}/api/v1/transactions", devnet.url(0)))
        .json(&tx)
        .send()
        .await
        .unwrap();
    devnet.wait_final(0, &tx.id().to_string()).await;
    let text = http
        .get(format!("{}/metrics", devnet.url(0)))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(text.contains("ruv_transactions_accepted_total 1"), "{text}");
    assert!(text.contains("ruv_finality_seconds_count 1"), "{text}");
    // The checkpointer's counters are exported too (one honest relay: no
    // lock ever moves, nobody equivocates).
    assert!(text.contains("ruv_checkpoint_locks_moved 0"), "{text}");
    assert!(text.contains("ruv_checkpoint_equivocations 0"), "{text}");
    assert!(text.contains("ruv_checkpoint_pols_forwarded "), "{text}");
}
