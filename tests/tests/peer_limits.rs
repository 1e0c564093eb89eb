//! Peer links attacked on loopback: a validator that asks for large answers
//! (`GetAncestors`) and then stops reading is disconnected once a frame
//! waits longer than `PEER_WRITE_TIMEOUT`, while the other links keep
//! working; handshakes left hanging take at most `MAX_PENDING_HANDSHAKES`
//! slots, and the next connection is refused until they time out. An
//! honest account keeps paying quiet and during each attack (the attacker
//! connects from another loopback address, see
//! `ruv_integration_tests::finality`); its finality is printed, never
//! asserted (`cargo test -p ruv-integration-tests --test peer_limits -- --nocapture --test-threads=1`).

use futures_util::StreamExt;
use ruv_consensus::Message;
use ruv_integration_tests::finality::{
    connect_from, print_finality, ATTACKER_IP, HONEST_TRANSFERS,
};
use ruv_integration_tests::validator::{devnet_with_test_validator, PeerLink, PeerSocket};
use ruv_integration_tests::{key, metric, peer_url, Devnet};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message as Frame;

/// Opens a WebSocket to the peer endpoint of the relay at `addr`, from the
/// attacker's address.
async fn dial_peer(addr: SocketAddr) -> Result<PeerSocket, tokio_tungstenite::tungstenite::Error> {
    let stream = connect_from(ATTACKER_IP, addr).await?;
    let stream = tokio_tungstenite::MaybeTlsStream::Plain(stream);
    Ok(tokio_tungstenite::client_async(peer_url(addr), stream)
        .await?
        .0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_that_stops_reading_is_disconnected() {
    // Four validators in genesis; three relays run, the test is the fourth
    // (of stake 1), and may ask for ancestors like any validator.
    let devnet = devnet_with_test_validator(3).await;
    let relays = &devnet.relays;
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
    let mut link = PeerLink::join(&devnet, 0, 3, stream).await;

    // Learn the accepted tips, then ask for their ancestors again and
    // again, and never read another byte.
    let query = Message::Query { request_id: 7 };
    link.send(&query).await;
    let accepted = loop {
        if let Some(Message::Chits {
            request_id: 7,
            accepted,
            ..
        }) = link.next_message().await
        {
            if !accepted.is_empty() {
                break accepted;
            }
            link.send(&query).await;
        }
    };
    // The honest account keeps paying while the attacker asks, until the
    // relay closes the attacker's link.
    let before = metric(&url(0), "ruv_peer_links_closed_not_reading").await;
    let attack_over = AtomicBool::new(false);
    let attack = async {
        let deadline = Instant::now() + Duration::from_secs(90);
        let mut request_id = 100;
        while metric(&url(0), "ruv_peer_links_closed_not_reading").await == before {
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
                link.send(&ask).await;
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
