//! Peer links attacked on loopback: a validator that asks for large answers
//! (`GetAncestors`) and then stops reading is disconnected once a frame
//! waits longer than `PEER_WRITE_TIMEOUT`, while the other links keep
//! working; handshakes left hanging take at most `MAX_PENDING_HANDSHAKES`
//! slots, and the next connection is refused until they time out.

use futures_util::{SinkExt, StreamExt};
use ruv_consensus::Message;
use ruv_integration_tests::{address, key, peer_url, post, relay_config};
use ruv_protocol::Genesis;
use ruv_relay::peer::handshake::{Challenge, HandshakeRandom, Identity, Welcome};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message as Frame;

/// `ruv_peer_links_closed_not_reading` of the relay at `url`.
async fn links_closed_not_reading(url: &str) -> i64 {
    reqwest::get(format!("{url}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("ruv_peer_links_closed_not_reading "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_that_stops_reading_is_disconnected() {
    // Four validators in genesis; three relays run, the test is the fourth.
    let dir = tempfile::tempdir().unwrap();
    let files = ruv_relay::devnet::init(dir.path(), 4).unwrap();
    let genesis = Genesis::from_json(&std::fs::read_to_string(&files.genesis).unwrap()).unwrap();
    let mut relays: Vec<ruv_relay::RunningRelay> = Vec::new();
    for i in 0..3 {
        let peers = relays.iter().map(|r| peer_url(r.addr)).collect();
        let config = relay_config(&files, dir.path(), i, i == 0, peers);
        relays.push(ruv_relay::start(config).await.unwrap());
    }
    let url = |i: usize| format!("http://{}", relays[i].addr);

    // A DAG worth asking for: a chain of payments, each final before the next.
    let faucet = ruv_relay::keys::load(&files.faucet_key).unwrap();
    let fee = genesis
        .fees
        .minimum_fee(ruv_protocol::tx::SIGNED_TRANSFER_FIXED_LEN + genesis.chain_id.len())
        .unwrap();
    for nonce in 1..=12u64 {
        let tx = ruv_protocol::tx::Transfer {
            chain_id: genesis.chain_id.clone(),
            from: address(&faucet),
            to: address(&key(9)),
            amount: 1_000 + nonce,
            fee,
            nonce,
            memo: String::new(),
            public_key: faucet.public_key().clone(),
        }
        .sign(&faucet, [0; 32])
        .unwrap();
        let (status, body) = post(format!("{}/api/v1/transactions", url(0)), &tx).await;
        assert_eq!(status, 202, "{body}");
        let deadline = Instant::now() + Duration::from_secs(60);
        while ruv_integration_tests::get(format!("{}/api/v1/transactions/{}", url(0), tx.id()))
            .await["status"]
            != "accepted"
        {
            assert!(Instant::now() < deadline, "payment {nonce} not final");
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    // Join as validator 3 with a tiny receive buffer.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let stream = socket.connect(relays[0].addr).await.unwrap();
    let (mut link, _) = tokio_tungstenite::client_async(peer_url(relays[0].addr), stream)
        .await
        .unwrap();
    let Some(Ok(Frame::Binary(challenge))) = link.next().await else {
        panic!("no challenge")
    };
    let challenge = Challenge::from_bytes(&challenge).unwrap();
    let our_key = ruv_relay::keys::load(&files.relay_keys[3]).unwrap();
    let validators: Vec<_> = genesis
        .validator_keys()
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    let us = Identity {
        key: &our_key,
        validator: 3,
        genesis_hash: genesis.hash(),
        validators: &validators,
    };
    let random = HandshakeRandom {
        nonce: [3; 32],
        kem_seed: [4; 64],
        encapsulation: [5; 32],
        signing: [6; 32],
    };
    let (pending, hello) = us.hello(&challenge, random).unwrap();
    link.send(Frame::Binary(hello.to_bytes().into()))
        .await
        .unwrap();
    let Some(Ok(Frame::Binary(welcome))) = link.next().await else {
        panic!("no welcome")
    };
    let mut keys = pending
        .finish(&us, &Welcome::from_bytes(&welcome).unwrap())
        .unwrap();

    // Learn the accepted tips, then ask for their ancestors again and
    // again, and never read another byte.
    let query = Message::Query { request_id: 7 };
    link.send(Frame::Binary(
        keys.sealer.seal(&query.encode()).unwrap().into(),
    ))
    .await
    .unwrap();
    let accepted = loop {
        let Some(Ok(Frame::Binary(bytes))) = link.next().await else {
            continue;
        };
        let bytes = keys.opener.open(&bytes).unwrap();
        if let Ok(Message::Chits {
            request_id: 7,
            accepted,
            ..
        }) = Message::decode(&bytes)
        {
            if !accepted.is_empty() {
                break accepted;
            }
            link.send(Frame::Binary(
                keys.sealer.seal(&query.encode()).unwrap().into(),
            ))
            .await
            .unwrap();
        }
    };
    let before = links_closed_not_reading(&url(0)).await;
    let deadline = Instant::now() + Duration::from_secs(90);
    let mut request_id = 100;
    while links_closed_not_reading(&url(0)).await == before {
        assert!(
            Instant::now() < deadline,
            "a peer that stopped reading was not disconnected within 90 s"
        );
        for _ in 0..20 {
            request_id += 1;
            let ask = Message::GetAncestors {
                request_id,
                ids: accepted.clone(),
            };
            // The relay closes the link at some point: a failed send is fine.
            let sealed = keys.sealer.seal(&ask.encode()).unwrap();
            let _ = link.send(Frame::Binary(sealed.into())).await;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // The honest links are untouched.
    assert_eq!(relays[0].state.node().peer_count(), 2);
    for relay in relays {
        relay.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hanging_handshakes_are_bounded() {
    let devnet = ruv_integration_tests::Devnet::start(1).await;
    let url = peer_url(devnet.relays[0].addr);
    // Each of these gets its challenge and never answers.
    let mut hanging = Vec::new();
    for _ in 0..ruv_relay::peer::MAX_PENDING_HANDSHAKES {
        let (mut link, _) = tokio_tungstenite::connect_async(url.as_str())
            .await
            .unwrap();
        assert!(matches!(link.next().await, Some(Ok(Frame::Binary(_)))));
        hanging.push(link);
    }
    let refused = tokio_tungstenite::connect_async(url.as_str()).await;
    let Err(tokio_tungstenite::tungstenite::Error::Http(response)) = refused else {
        panic!("one handshake too many was accepted: {refused:?}");
    };
    assert_eq!(response.status(), 503);
    // They time out and free their slots.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok((mut link, _)) = tokio_tungstenite::connect_async(url.as_str()).await {
            assert!(matches!(link.next().await, Some(Ok(Frame::Binary(_)))));
            break;
        }
        assert!(
            Instant::now() < deadline,
            "handshake slots were never freed"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
