//! Transfers a validator gossips: the relay checks their signatures before
//! its engine sees them (batch by batch, on every core) and admits them
//! like a client's. A forged one is dropped and counted
//! (`ruv_peer_messages_dropped`); a good one, gossiped to one relay only,
//! becomes final on every relay.

use ruv_consensus::Message;
use ruv_integration_tests::validator::{devnet_with_test_validator, PeerLink};
use ruv_integration_tests::{address, key, metric};
use std::sync::Arc;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gossiped_transfers_are_checked_before_the_engine_takes_them() {
    // Three relays; the test is the fourth validator.
    let devnet = devnet_with_test_validator(3).await;
    let payer = key(60);
    devnet.fund(&payer, 1_000_000, 1).await;
    let stream = tokio::net::TcpStream::connect(devnet.relays[0].addr)
        .await
        .unwrap();
    let mut link = PeerLink::join(&devnet, 0, 3, stream).await;
    let url = devnet.url(0);

    // The payer's transfer with its amount raised after signing.
    let good = devnet.transfer(&payer, address(&key(61)), 1_000, 1);
    let mut forged = good.clone();
    forged.transfer.amount = 2_000;
    let dropped_before = metric(&url, "ruv_peer_messages_dropped").await;
    assert!(link.send(&Message::Transaction(Arc::new(forged))).await);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while metric(&url, "ruv_peer_messages_dropped").await == dropped_before {
        assert!(
            std::time::Instant::now() < deadline,
            "a forged gossiped transfer was not dropped within 30 s"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }

    // The genuine one, told to relay 0 alone, is final everywhere; its
    // nonce was not taken by the forgery.
    assert!(
        link.send(&Message::Transaction(Arc::new(good.clone())))
            .await
    );
    for i in 0..devnet.relays.len() {
        let status = devnet.wait_final(i, &good.id().to_string()).await;
        assert_eq!(status["status"], "accepted", "relay {i}: {status}");
    }
}
