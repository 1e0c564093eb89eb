//! Peer links attacked on loopback: a validator that asks for large answers
//! (`GetAncestors`) and then stops reading is disconnected once a frame
//! waits longer than `PEER_WRITE_TIMEOUT`, while the other links keep
//! working; handshakes left hanging take at most `MAX_PENDING_HANDSHAKES`
//! slots, and the next connection is refused until they time out. An
//! honest account keeps paying quiet and during each attack (the attacker
//! connects from another loopback address, see
//! `ruv_integration_tests::finality`); its finality is printed, never
//! asserted (`cargo test -p ruv-integration-tests --test peer_limits -- --nocapture --test-threads=1`).

use futures_util::{SinkExt, StreamExt};
use ruv_consensus::Message;
use ruv_integration_tests::finality::{
    connect_from, print_finality, ATTACKER_IP, HONEST_TRANSFERS,
};
use ruv_integration_tests::{key, peer_url, relay_config, Devnet};
use ruv_protocol::Genesis;
use ruv_relay::peer::handshake::{Challenge, HandshakeRandom, Identity, Welcome};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message as Frame;

type PeerSocket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Opens a WebSocket to the peer endpoint of the relay at `addr`, from the
/// attacker's address.
async fn dial_peer(addr: SocketAddr) -> Result<PeerSocket, tokio_tungstenite::tungstenite::Error> {
    let stream = connect_from(ATTACKER_IP, addr).await?;
    let stream = tokio_tungstenite::MaybeTlsStream::Plain(stream);
    Ok(tokio_tungstenite::client_async(peer_url(addr), stream)
        .await?
        .0)
}

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
    // It holds a sliver of the stake: polls seldom sample it, so its
    // silence does not slow consensus down (a quarter of the stake silent
    // would, quiet or not), yet it may ask for ancestors like any validator.
    let dir = tempfile::tempdir().unwrap();
    let files = ruv_relay::devnet::init(dir.path(), 4).unwrap();
    let mut genesis =
        Genesis::from_json(&std::fs::read_to_string(&files.genesis).unwrap()).unwrap();
    genesis.validators[3].stake = 1;
    ruv_relay::chain_id::bind(&mut genesis, ruv_relay::devnet::DEVNET_NAME).unwrap();
    std::fs::write(
        &files.genesis,
        serde_json::to_string_pretty(&genesis).unwrap(),
    )
    .unwrap();
    let mut relays: Vec<ruv_relay::RunningRelay> = Vec::new();
    for i in 0..3 {
        let peers = relays.iter().map(|r| peer_url(r.addr)).collect();
        let config = relay_config(&files, dir.path(), i, i == 0, peers);
        relays.push(ruv_relay::start(config).await.unwrap());
    }
    let devnet = Devnet {
        dir,
        files,
        genesis,
        relays,
    };
    devnet.wait_for_mesh().await;
    let (files, genesis, relays) = (&devnet.files, &devnet.genesis, &devnet.relays);
    let url = |i: usize| devnet.url(i);

    // A DAG worth asking for: the quiet run's chain of honest payments,
    // each final everywhere before the next.
    let http = reqwest::Client::new();
    let honest = key(50);
    devnet.fund(&honest, 1_000_000_000, 1).await;
    let mut nonce = 1;
    let quiet = devnet
        .honest_finality(&http, &honest, &mut nonce, HONEST_TRANSFERS)
        .await;

    // Join as validator 3 with a tiny receive buffer.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    socket.bind(SocketAddr::new(ATTACKER_IP, 0)).unwrap();
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
    // The honest account keeps paying while the attacker asks, until the
    // relay closes the attacker's link.
    let before = links_closed_not_reading(&url(0)).await;
    let attack_over = AtomicBool::new(false);
    let attack = async {
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
        attack_over.store(true, Ordering::Relaxed);
    };
    let honest_payments = async {
        let mut attacked = ruv_integration_tests::finality::Finality::default();
        while !attack_over.load(Ordering::Relaxed) {
            attacked.extend(devnet.honest_finality(&http, &honest, &mut nonce, 1).await);
        }
        attacked
    };
    let ((), attacked) = tokio::join!(attack, honest_payments);
    print_finality(
        "a validator asking for ancestors and not reading",
        &quiet,
        &attacked,
    );

    // The honest links are untouched.
    assert_eq!(relays[0].state.node().peer_count(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hanging_handshakes_are_bounded() {
    let devnet = Devnet::start(4).await;
    let addr = devnet.relays[0].addr;
    let http = reqwest::Client::new();
    let honest = key(50);
    devnet.fund(&honest, 1_000_000_000, 1).await;
    let mut nonce = 1;
    let quiet = devnet
        .honest_finality(&http, &honest, &mut nonce, HONEST_TRANSFERS)
        .await;

    // Each of these gets its challenge and never answers.
    let mut hanging = Vec::new();
    for _ in 0..ruv_relay::peer::MAX_PENDING_HANDSHAKES {
        let mut link = dial_peer(addr).await.unwrap();
        assert!(matches!(link.next().await, Some(Ok(Frame::Binary(_)))));
        hanging.push(link);
    }
    let refused = dial_peer(addr).await;
    let Err(tokio_tungstenite::tungstenite::Error::Http(response)) = refused else {
        panic!("one handshake too many was accepted: {refused:?}");
    };
    assert_eq!(response.status(), 503);
    // They time out and free their slots.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(mut link) = dial_peer(addr).await {
            assert!(matches!(link.next().await, Some(Ok(Frame::Binary(_)))));
            break;
        }
        assert!(
            Instant::now() < deadline,
            "handshake slots were never freed"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    drop(hanging);

    // The attack kept up: more attackers than slots, each leaving its
    // handshake hanging until it times out and then starting another, so
    // every slot stays taken and the others are refused, while the honest
    // account pays.
    let (held, refused) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let mut attackers = Vec::new();
    for _ in 0..2 * ruv_relay::peer::MAX_PENDING_HANDSHAKES {
        let (held, refused) = (held.clone(), refused.clone());
        attackers.push(tokio::spawn(async move {
            loop {
                match dial_peer(addr).await {
                    Ok(mut link) => {
                        held.fetch_add(1, Ordering::Relaxed);
                        // The challenge, then whatever ends the handshake.
                        while let Some(Ok(_)) = link.next().await {}
                    }
                    Err(_) => {
                        refused.fetch_add(1, Ordering::Relaxed);
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    }
                }
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
    let (held, refused) = (
        held.load(Ordering::Relaxed),
        refused.load(Ordering::Relaxed),
    );
    println!("hanging handshakes: {held} held until they timed out, {refused} refused");
    print_finality(
        &format!(
            "hanging peer handshakes ({} at once, {} slots)",
            2 * ruv_relay::peer::MAX_PENDING_HANDSHAKES,
            ruv_relay::peer::MAX_PENDING_HANDSHAKES
        ),
        &quiet,
        &attacked,
    );
    assert!(held > 0 && refused > 0, "held {held}, refused {refused}");
    // The honest links are untouched.
    for relay in &devnet.relays {
        assert_eq!(relay.state.node().peer_count(), 3);
    }
}
