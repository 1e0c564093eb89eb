//! Sealed peer links attacked on loopback. Two relays (both validators, so
//! nothing is final unless they talk) are linked through a TCP proxy that
//! plays an on-path attacker: on the first connection it flips one bit of
//! the first sealed frame, on the second it sends the first sealed frame
//! twice, and after that it only records. The relay must drop each
//! attacked link, the dialer must reconnect, transfers must still become
//! final, and a transfer's bytes must not appear on the wire. Then an
//! honest account pays quiet and while the proxy flips a bit of one sealed
//! frame every second (each costs the link and a reconnect): its finality
//! is printed, never asserted
//! (`cargo test -p ruv-integration-tests --test peer_encryption -- --nocapture`).

use ruv_integration_tests::finality::{print_finality, HONEST_TRANSFERS};
use ruv_integration_tests::{metric, peer_url, relay_config, Devnet};
use ruv_protocol::Genesis;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

/// What the proxy does to the first sealed frame of a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Attack {
    /// Flips the frame's last bit (inside the AEAD tag).
    FlipBit,
    /// Delivers the frame, then delivers it again.
    Replay,
    /// Forwards everything untouched and records it.
    Record,
}

/// While set, the proxy flips the last bit of one sealed frame (on
/// whichever connection carries it) every `every`.
#[derive(Debug, Clone, Copy)]
struct Tamper {
    every: Duration,
    next: Instant,
    /// Frames tampered with so far.
    count: u64,
}

type SharedTamper = Arc<Mutex<Option<Tamper>>>;

/// The proxy saw the relay (server side) close a connection.
#[derive(Debug)]
struct Closed {
    attack: Attack,
    /// Whether the attack had been carried out before the close.
    attacked: bool,
}

/// Length of the first complete WebSocket frame in `buf`, and where its
/// payload starts; `None` until the whole frame is buffered.
fn frame_bounds(buf: &[u8]) -> Option<(usize, usize)> {
    let second = *buf.get(1)?;
    let (payload_len, mut header_len) = match second & 0x7f {
        126 => (
            u16::from_be_bytes(buf.get(2..4)?.try_into().ok()?) as usize,
            4,
        ),
        127 => (
            u64::from_be_bytes(buf.get(2..10)?.try_into().ok()?) as usize,
            10,
        ),
        n => (n as usize, 2),
    };
    if second & 0x80 != 0 {
        header_len += 4; // the client's masking key
    }
    let total = header_len + payload_len;
    (buf.len() >= total).then_some((total, header_len))
}

/// The unmasked payload of a client frame.
fn unmasked_payload(frame: &[u8], header_len: usize) -> Vec<u8> {
    let mask = &frame[header_len - 4..header_len];
    frame[header_len..]
        .iter()
        .enumerate()
        .map(|(i, b)| b ^ mask[i % 4])
        .collect()
}

/// Dialer to relay: the HTTP upgrade as is, then WebSocket frames one by
/// one; the first binary frame is the handshake's hello, the next ones are
/// sealed.
async fn dialer_to_relay(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    attack: Attack,
    attacked: Arc<Mutex<bool>>,
    recorded: Arc<Mutex<Vec<u8>>>,
    tamper: SharedTamper,
) {
    let mut buf = Vec::new();
    let mut upgraded = false;
    let mut binary_frames = 0;
    loop {
        match from.read_buf(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
        if !upgraded {
            let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
                continue;
            };
            let request: Vec<u8> = buf.drain(..end + 4).collect();
            if to.write_all(&request).await.is_err() {
                break;
            }
            upgraded = true;
        }
        while let Some((total, header_len)) = frame_bounds(&buf) {
            let mut frame: Vec<u8> = buf.drain(..total).collect();
            let binary = frame[0] & 0x0f == 2;
            binary_frames += usize::from(binary);
            let sealed = binary && binary_frames >= 2;
            let first_sealed = sealed && binary_frames == 2;
            let mut copies = 1;
            if first_sealed && attack != Attack::Record {
                match attack {
                    Attack::FlipBit => *frame.last_mut().unwrap() ^= 1,
                    Attack::Replay => copies = 2,
                    Attack::Record => unreachable!(),
                }
                *attacked.lock().unwrap() = true;
            } else if sealed {
                if let Some(tamper) = tamper.lock().unwrap().as_mut() {
                    if Instant::now() >= tamper.next {
                        *frame.last_mut().unwrap() ^= 1;
                        tamper.next = Instant::now() + tamper.every;
                        tamper.count += 1;
                    }
                }
            }
            if attack == Attack::Record && sealed {
                recorded
                    .lock()
                    .unwrap()
                    .extend(unmasked_payload(&frame, header_len));
            }
            for _ in 0..copies {
                if to.write_all(&frame).await.is_err() {
                    return;
                }
            }
        }
    }
    let _ = to.shutdown().await;
}

/// Listens on loopback and forwards each connection to `upstream`,
/// attacking connection `i` with `plan[i]` (and recording after the plan).
async fn start_proxy(
    upstream: SocketAddr,
    plan: Vec<Attack>,
) -> (
    SocketAddr,
    mpsc::UnboundedReceiver<Closed>,
    Arc<Mutex<Vec<u8>>>,
    SharedTamper,
) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (closed_tx, closed_rx) = mpsc::unbounded_channel();
    let recorded = Arc::new(Mutex::new(Vec::new()));
    let recorded_out = recorded.clone();
    let tamper: SharedTamper = Arc::default();
    let tamper_out = tamper.clone();
    tokio::spawn(async move {
        for connection in 0.. {
            let Ok((dialer, _)) = listener.accept().await else {
                return;
            };
            let Ok(relay) = TcpStream::connect(upstream).await else {
                continue;
            };
            let attack = plan.get(connection).copied().unwrap_or(Attack::Record);
            let attacked = Arc::new(Mutex::new(false));
            let (dialer_read, mut dialer_write) = dialer.into_split();
            let (mut relay_read, relay_write) = relay.into_split();
            tokio::spawn(dialer_to_relay(
                dialer_read,
                relay_write,
                attack,
                attacked.clone(),
                recorded.clone(),
                tamper.clone(),
            ));
            let closed_tx = closed_tx.clone();
            let recorded = recorded.clone();
            tokio::spawn(async move {
                let mut chunk = vec![0u8; 64 * 1024];
                loop {
                    match relay_read.read(&mut chunk).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => {
                            if attack == Attack::Record {
                                recorded.lock().unwrap().extend_from_slice(&chunk[..n]);
                            }
                            if dialer_write.write_all(&chunk[..n]).await.is_err() {
                                break;
                            }
                        }
                    }
                }
                let _ = dialer_write.shutdown().await;
                let attacked = *attacked.lock().unwrap();
                let _ = closed_tx.send(Closed { attack, attacked });
            });
        }
    });
    (addr, closed_rx, recorded_out, tamper_out)
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_on_path_attacker_can_neither_inject_nor_read() {
    let dir = tempfile::tempdir().unwrap();
    let files = ruv_relay::devnet::init(dir.path(), 2).unwrap();
    let genesis = Genesis::from_json(&std::fs::read_to_string(&files.genesis).unwrap()).unwrap();
    let first = ruv_relay::start(relay_config(&files, dir.path(), 0, true, Vec::new()))
        .await
        .unwrap();
    let (proxy, mut closed, recorded, tamper) =
        start_proxy(first.addr, vec![Attack::FlipBit, Attack::Replay]).await;
    let second = ruv_relay::start(relay_config(
        &files,
        dir.path(),
        1,
        false,
        vec![peer_url(proxy)],
    ))
    .await
    .unwrap();
    let devnet = Devnet {
        dir,
        files,
        genesis,
        relays: vec![first, second],
    };
    let faucet = devnet.faucet_key();
    let recipient = ruv_integration_tests::key(9);

    // A payment makes the relays talk; the first two links carry one
    // attacked frame each, and the relay that receives it hangs up.
    let tx = devnet.transfer(
        &faucet,
        ruv_integration_tests::address(&recipient),
        1_000,
        1,
    );
    let (status, body) =
        ruv_integration_tests::post(format!("{}/api/v1/transactions", devnet.url(1)), &tx).await;
    assert_eq!(status, 202, "{body}");
    let mut seen = Vec::new();
    while seen.len() < 2 {
        let close = tokio::time::timeout(Duration::from_secs(60), closed.recv())
            .await
            .expect("an attacked link was not closed within 60 s")
            .unwrap();
        assert!(
            close.attack == Attack::Record || close.attacked,
            "a link was closed before it was attacked: {close:?}"
        );
        if close.attack != Attack::Record {
            seen.push(close.attack);
        }
    }
    assert_eq!(seen, [Attack::FlipBit, Attack::Replay]);
    assert!(
        metric(&devnet.url(0), "ruv_peer_messages_dropped").await >= 2,
        "the refused frames were not counted"
    );

    // The dialer reconnects (through the proxy, which now only records),
    // and payments become final over the sealed link.
    assert_eq!(
        devnet.wait_final(0, &tx.id().to_string()).await["status"],
        "accepted"
    );
    assert_eq!(
        devnet.wait_final(1, &tx.id().to_string()).await["status"],
        "accepted"
    );
    let recorded_before = recorded.lock().unwrap().len();
    let tx = devnet.transfer(
        &faucet,
        ruv_integration_tests::address(&recipient),
        2_000,
        2,
    );
    let (status, body) =
        ruv_integration_tests::post(format!("{}/api/v1/transactions", devnet.url(1)), &tx).await;
    assert_eq!(status, 202, "{body}");
    for relay in 0..2 {
        assert_eq!(
            devnet.wait_final(relay, &tx.id().to_string()).await["status"],
            "accepted"
        );
    }

    // The transfer crossed the recorded link (relay 0 could not vote on it
    // otherwise), yet none of its bytes are on the wire in the clear.
    let wire = recorded.lock().unwrap().clone();
    let encoded = tx.to_bytes();
    assert!(
        wire.len() - recorded_before >= encoded.len(),
        "less than a transfer crossed the recorded link"
    );
    for window in [
        &tx.signature.as_bytes()[..48],
        &tx.signature.as_bytes()[2000..2048],
        &faucet.public_key().as_bytes()[..48],
        &encoded[encoded.len() - 48..],
    ] {
        assert!(
            !contains(&wire, window),
            "transfer bytes in the clear on the wire"
        );
    }

    // Honest finality, quiet, then with one sealed frame tampered with
    // every second: each is refused, its link dropped and dialed again.
    let honest = ruv_integration_tests::key(50);
    devnet.fund(&honest, 1_000_000_000, 3).await;
    let http = reqwest::Client::new();
    let mut nonce = 1;
    let quiet = devnet
        .honest_finality(&http, &honest, &mut nonce, HONEST_TRANSFERS)
        .await;
    let dropped_before = metric(&devnet.url(0), "ruv_peer_messages_dropped").await;
    *tamper.lock().unwrap() = Some(Tamper {
        every: Duration::from_secs(1),
        next: Instant::now(),
        count: 0,
    });
    let attacked = devnet
        .honest_finality(&http, &honest, &mut nonce, HONEST_TRANSFERS)
        .await;
    let tampered = tamper.lock().unwrap().take().unwrap().count;
    let dropped = metric(&devnet.url(0), "ruv_peer_messages_dropped").await - dropped_before;
    println!("on-path tampering: {tampered} frames tampered with, {dropped} refused by relay 0");
    print_finality(
        "an on-path attacker flipping a bit every second",
        &quiet,
        &attacked,
    );
    assert!(tampered > 0, "no frame was tampered with");
    assert!(dropped > 0, "relay 0 refused no tampered frame");
    for relay in devnet.relays {
        relay.shutdown().await;
    }
}
