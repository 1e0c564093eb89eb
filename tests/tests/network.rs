//! Four relays on loopback running QR-Avalanche: double spends, a relay
//! killed with SIGKILL under load, and a key that is not in genesis.

use ruv_integration_tests::{
    address, error_code, free_port, get, key, metric, peer_url, post, relay_config, Devnet,
    WsClient,
};
use ruv_protocol::crypto::SigningKey;
use serde_json::json;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_double_spend_on_two_relays_ends_with_exactly_one_accepted_everywhere() {
    let devnet = Devnet::start(4).await;
    let faucet = devnet.faucet_key();
    let (bob, carol) = (key(2), key(3));
    // Same sender, same nonce, two recipients: one conflict set.
    let to_bob = devnet.transfer(&faucet, address(&bob), 1_000, 1);
    let to_carol = devnet.transfer(&faucet, address(&carol), 2_000, 1);
    let (ids, urls) = (
        [to_bob.id().to_string(), to_carol.id().to_string()],
        [devnet.url(0), devnet.url(1)],
    );

    // The client of each relay watches its own transaction.
    let mut watchers = Vec::new();
    for (id, url) in ids.iter().zip(&urls) {
        let mut ws = WsClient::connect(url).await;
        let reply = ws.request("subscribe_transaction", json!({"id": id})).await;
        assert!(reply["result"]["subscription"].is_u64(), "{reply}");
        watchers.push(ws);
    }
    let (a, b) = tokio::join!(
        post(format!("{}/api/v1/transactions", urls[0]), &to_bob),
        post(format!("{}/api/v1/transactions", urls[1]), &to_carol),
    );
    assert_eq!((a.0, b.0), (202, 202), "{a:?} {b:?}");

    // Every relay decides both, and they agree.
    let mut winners = Vec::new();
    for relay in 0..4 {
        let verdicts = [
            devnet.wait_final(relay, &ids[0]).await,
            devnet.wait_final(relay, &ids[1]).await,
        ];
        let accepted: Vec<usize> = (0..2)
            .filter(|&i| verdicts[i]["status"] == "accepted")
            .collect();
        assert_eq!(accepted.len(), 1, "relay {relay}: {verdicts:?}");
        let loser = 1 - accepted[0];
        assert_eq!(
            verdicts[loser]["reason"]["code"], "conflict",
            "relay {relay}: {verdicts:?}"
        );
        winners.push(accepted[0]);
    }
    assert!(
        winners.iter().all(|w| *w == winners[0]),
        "relays disagree: {winners:?}"
    );

    // The loser's client was told, live, that it lost.
    let loser = 1 - winners[0];
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let event = watchers[loser].recv().await;
        if event["event"]["status"] == "rejected" {
            assert_eq!(event["event"]["reason"]["code"], "conflict", "{event}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no rejection event for the loser"
        );
    }
    // Balances agree everywhere: the winner's recipient got paid, the loser's did not.
    let (paid, unpaid) = if winners[0] == 0 {
        (&bob, &carol)
    } else {
        (&carol, &bob)
    };
    for relay in 0..4 {
        let paid_account = get(format!(
            "{}/api/v1/accounts/{}",
            devnet.url(relay),
            address(paid)
        ))
        .await;
        let unpaid_account = get(format!(
            "{}/api/v1/accounts/{}",
            devnet.url(relay),
            address(unpaid)
        ))
        .await;
        assert_ne!(paid_account["balance"], "0", "relay {relay}");
        assert_eq!(unpaid_account["balance"], "0", "relay {relay}");
    }
}

fn spawn_relay_process(
    devnet: &Devnet,
    i: usize,
    port: u16,
    peers: &[String],
) -> tokio::process::Child {
    let config = relay_config(&devnet.files, devnet.dir.path(), i, false, Vec::new());
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_ruv-test-relay"));
    command
        .arg("--listen")
        .arg(format!("127.0.0.1:{port}"))
        .arg("--genesis")
        .arg(&config.genesis)
        .arg("--data-dir")
        .arg(&config.data_dir)
        .arg("--key-file")
        .arg(config.key_file.as_ref().expect("a validator config"))
        .arg("--name")
        .arg(&config.name)
        .arg("--tx-retry-ttl-ms")
        .arg(config.tx_retry_ttl_ms.to_string())
        .kill_on_drop(true);
    for peer in peers {
        command.arg("--peer").arg(peer);
    }
    command.spawn().expect("starting the relay process")
}

async fn wait_healthy(url: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !reqwest::get(format!("{url}/healthz"))
        .await
        .map(|r| r.status().is_success())
        .unwrap_or(false)
    {
        assert!(Instant::now() < deadline, "{url} did not come up");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_killed_under_load_catches_up_and_nothing_accepted_is_lost() {
    // Relays 0-2 in this process; relay 3 is a child process we SIGKILL.
    let dir = tempfile::tempdir().unwrap();
    let files = ruv_relay::devnet::init(dir.path(), 4).unwrap();
    let genesis =
        ruv_protocol::Genesis::from_json(&std::fs::read_to_string(&files.genesis).unwrap())
            .unwrap();
    let mut devnet = Devnet {
        dir,
        files,
        genesis,
        relays: Vec::new(),
    };
    for i in 0..3 {
        let peers = devnet.relays.iter().map(|r| peer_url(r.addr)).collect();
        let config = relay_config(&devnet.files, devnet.dir.path(), i, i == 0, peers);
        devnet.relays.push(ruv_relay::start(config).await.unwrap());
    }
    let in_process_peers: Vec<String> = devnet.relays.iter().map(|r| peer_url(r.addr)).collect();
    let port = free_port();
    let killed_url = format!("http://127.0.0.1:{port}");
    let mut child = spawn_relay_process(&devnet, 3, port, &in_process_peers);
    wait_healthy(&killed_url).await;

    // Fund a few senders, then keep paying from them while relay 3 dies and returns.
    let faucet = devnet.faucet_key();
    let senders: Vec<SigningKey> = (10..14).map(key).collect();
    for (n, sender) in senders.iter().enumerate() {
        let tx = devnet.transfer(&faucet, address(sender), 100_000_000, n as u64 + 1);
        assert_eq!(
            post(format!("{}/api/v1/transactions", devnet.url(0)), &tx)
                .await
                .0,
            202
        );
    }
    // Final on every relay it will pay through: admission control counts
    // only accepted funds.
    for (n, sender) in senders.iter().enumerate() {
        let id = devnet
            .transfer(&faucet, address(sender), 100_000_000, n as u64 + 1)
            .id()
            .to_string();
        for relay in 0..3 {
            assert_eq!(devnet.wait_final(relay, &id).await["status"], "accepted");
        }
    }

    let mut accepted_ids = Vec::new();
    let mut nonces = vec![0u64; senders.len()];
    let mut round = 0;
    let mut killed_at = None;
    let mut restarted = false;
    while round < 24 {
        // Six rounds in, SIGKILL relay 3; six rounds later, start it again.
        if round == 6 {
            child.start_kill().unwrap();
            child.wait().await.unwrap();
            killed_at = Some(round);
        }
        if round == 12 {
            child = spawn_relay_process(&devnet, 3, port, &in_process_peers);
            wait_healthy(&killed_url).await;
            restarted = true;
        }
        let mut round_ids = Vec::new();
        for (s, sender) in senders.iter().enumerate() {
            nonces[s] += 1;
            let tx = devnet.transfer(sender, address(&key(99)), 1_000 + round, nonces[s]);
            let relay = devnet.url((s + round as usize) % 3);
            let (status, body) = post(format!("{relay}/api/v1/transactions"), &tx).await;
            assert_eq!(status, 202, "{body}");
            round_ids.push(tx.id().to_string());
        }
        for id in &round_ids {
            assert_eq!(devnet.wait_final(0, id).await["status"], "accepted", "{id}");
        }
        accepted_ids.extend(round_ids);
        round += 1;
    }
    assert!(killed_at.is_some() && restarted);

    // The restarted relay catches up: every accepted transaction is accepted there too,
    // and every relay holds the same balances.
    let deadline = Instant::now() + Duration::from_secs(60);
    for id in &accepted_ids {
        loop {
            let status = get(format!("{killed_url}/api/v1/transactions/{id}")).await;
            if status["status"] == "accepted" {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "restarted relay never accepted {id}: {status}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    let mut urls: Vec<String> = (0..3).map(|i| devnet.url(i)).collect();
    urls.push(killed_url.clone());
    let mut views = Vec::new();
    for url in &urls {
        let mut view = BTreeMap::new();
        for who in senders.iter().chain([&key(99), &faucet]) {
            let account = get(format!("{url}/api/v1/accounts/{}", address(who))).await;
            view.insert(
                address(who).to_string(),
                (account["balance"].clone(), account["nonce"].clone()),
            );
        }
        views.push(view);
    }
    assert!(
        views.iter().all(|v| *v == views[0]),
        "relays disagree after the restart: {views:#?}"
    );
    let _ = child.start_kill();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_outside_genesis_can_neither_start_a_relay_nor_join() {
    let devnet = Devnet::start(4).await;
    // Starting a relay with a key that is not in genesis fails.
    let outsider_key = devnet.dir.path().join("outsider.key");
    ruv_relay::keys::save(&outsider_key, &[42; 32]).unwrap();
    let mut config = relay_config(
        &devnet.files,
        devnet.dir.path(),
        0,
        false,
        vec![peer_url(devnet.relays[0].addr)],
    );
    config.key_file = Some(outsider_key);
    config.data_dir = devnet.dir.path().join("outsider-data");
    assert!(matches!(
        ruv_relay::start(config).await,
        Err(ruv_relay::http::StartError::NotAValidator)
    ));

    // Dialing a relay's peer endpoint with an outsider key, claiming a
    // validator's index, is refused at the handshake and counted.
    use futures_util::{SinkExt, StreamExt};
    use ruv_relay::peer::handshake::{Challenge, HandshakeRandom, Identity};
    use tokio_tungstenite::tungstenite::Message;
    let before = devnet.relays[0].state.node().peer_count();
    let (mut socket, _) = tokio_tungstenite::connect_async(peer_url(devnet.relays[0].addr))
        .await
        .unwrap();
    let Some(Ok(Message::Binary(challenge))) = socket.next().await else {
        panic!("no challenge")
    };
    let challenge = Challenge::from_bytes(&challenge).unwrap();
    let outsider = SigningKey::from_seed(&[42; 32]);
    let publics: Vec<_> = devnet
        .genesis
        .validator_keys()
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    let impostor = Identity {
        key: &outsider,
        validator: 1,
        genesis_hash: devnet.genesis.hash(),
        validators: &publics,
    };
    let random = HandshakeRandom {
        nonce: [5; 32],
        kem_seed: [6; 64],
        encapsulation: [7; 32],
        signing: [0; 32],
    };
    let (_, hello) = impostor.hello(&challenge, random).unwrap();
    socket
        .send(Message::Binary(hello.to_bytes().into()))
        .await
        .unwrap();
    // No welcome: the relay closes the connection.
    let answer = tokio::time::timeout(Duration::from_secs(10), socket.next())
        .await
        .unwrap();
    assert!(
        !matches!(answer, Some(Ok(Message::Binary(_)))),
        "an outsider was welcomed: {answer:?}"
    );
    assert_eq!(devnet.relays[0].state.node().peer_count(), before);
    let metrics = reqwest::get(format!("{}/metrics", devnet.url(0)))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let dropped = metrics
        .lines()
        .find_map(|l| l.strip_prefix("ruv_peer_messages_dropped "))
        .and_then(|v| v.trim().parse::<i64>().ok())
        .unwrap_or(0);
    assert!(
        dropped >= 1,
        "the refused handshake was not counted:\n{metrics}"
    );

    // The network still works without it.
    let tx = devnet.transfer(&devnet.faucet_key(), address(&key(7)), 5, 1);
    let (status, body) = post(format!("{}/api/v1/transactions", devnet.url(2)), &tx).await;
    assert_eq!(status, 202, "{}", error_code(&body));
    for relay in 0..4 {
        assert_eq!(
            devnet.wait_final(relay, &tx.id().to_string()).await["status"],
            "accepted"
        );
    }
    // Relay 2 gossiped the transfer on its links, then left it out of the
    // vertex it sent on them; the peers put it back (or none would have
    // accepted it) and none failed to.
    assert!(metric(&devnet.url(2), "ruv_peer_transfer_bytes_elided").await > 0);
    for relay in 0..4 {
        assert_eq!(
            metric(&devnet.url(relay), "ruv_peer_frames_dropped_unexpandable").await,
            0
        );
    }
}
