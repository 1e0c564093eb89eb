//! What sealed peer links cost: the handshake (ML-DSA-65 signatures plus
//! ML-KEM-768 both ways) beside a signatures-only handshake, and sealing +
//! opening frames beside copying them as a plaintext link would. Prints a
//! table (median of several rounds).
//!
//!   cargo run --release -p ruv-relay --example peer_link_bench

use ruv_protocol::crypto::{context, PublicKey, SigningKey};
use ruv_relay::peer::handshake::{HandshakeRandom, Identity};
use ruv_relay::peer::seal::{Direction, FrameOpener, FrameSealer};
use std::hint::black_box;
use std::time::Instant;
use zeroize::Zeroizing;

const ROUNDS: usize = 7;

/// Median over rounds of the mean time per call, in microseconds.
fn per_op_micros(iterations: usize, mut op: impl FnMut(usize)) -> f64 {
    let mut rounds: Vec<f64> = (0..ROUNDS)
        .map(|_| {
            let start = Instant::now();
            for i in 0..iterations {
                op(i);
            }
            start.elapsed().as_secs_f64() * 1e6 / iterations as f64
        })
        .collect();
    rounds.sort_by(f64::total_cmp);
    rounds[ROUNDS / 2]
}

fn random(i: usize, side: u8) -> HandshakeRandom {
    let byte = (i as u8).wrapping_mul(2).wrapping_add(side);
    HandshakeRandom {
        nonce: [byte; 32],
        kem_seed: [byte; 64],
        encapsulation: [byte ^ 0x55; 32],
        signing: [byte ^ 0xaa; 32],
    }
}

fn main() {
    let keys: Vec<SigningKey> = (0..2u8).map(|i| SigningKey::from_seed(&[i; 32])).collect();
    let publics: Vec<PublicKey> = keys.iter().map(|k| k.public_key().clone()).collect();
    let identity = |i: usize| Identity {
        key: &keys[i],
        validator: i as u16,
        genesis_hash: [9; 32],
        validators: &publics,
    };
    let (acceptor, dialer) = (identity(0), identity(1));

    // Both sides' work for one link, in one thread.
    let handshake = per_op_micros(50, |i| {
        let pending_a = acceptor.challenge(random(i, 0));
        let (pending_d, hello) = dialer.hello(pending_a.challenge(), random(i, 1)).unwrap();
        let (at_acceptor, welcome) = pending_a.welcome(&acceptor, &hello).unwrap();
        let at_dialer = pending_d.finish(&dialer, &welcome).unwrap();
        black_box((at_acceptor, at_dialer));
    });
    // The same two signatures and two verifications without the KEM.
    let transcript = [7u8; 64];
    let signatures_only = per_op_micros(50, |i| {
        let sig_d = keys[1]
            .sign(&transcript, context::PEER, [i as u8; 32])
            .unwrap();
        publics[1]
            .verify(&transcript, context::PEER, &sig_d)
            .unwrap();
        let sig_a = keys[0]
            .sign(&transcript, context::PEER, [i as u8; 32])
            .unwrap();
        publics[0]
            .verify(&transcript, context::PEER, &sig_a)
            .unwrap();
    });
    println!("handshake (both sides, one thread)   µs");
    println!("  ML-DSA + ML-KEM-768 (v2)       {handshake:>10.1}");
    println!("  ML-DSA only (v1 baseline)      {signatures_only:>10.1}");

    println!();
    println!("frame bytes   seal+open µs  MB/s   | plaintext copy µs  MB/s");
    let key = Zeroizing::new([3u8; 32]);
    for size in [200usize, 5_300, 170_000, 2_000_000] {
        let frame = vec![0x42u8; size];
        let iterations = (20_000_000 / size).clamp(20, 20_000);
        let mut sealer = FrameSealer::new(&key, Direction::DialerToAcceptor);
        let mut opener = FrameOpener::new(&key, Direction::DialerToAcceptor);
        let sealed = per_op_micros(iterations, |_| {
            let wire = sealer.seal(black_box(&frame)).unwrap();
            black_box(opener.open(&wire).unwrap());
        });
        // A plaintext link hands the frame bytes on: one copy each way.
        let copied = per_op_micros(iterations, |_| {
            let wire = black_box(&frame).to_vec();
            black_box(black_box(&wire).to_vec());
        });
        let mb_per_s = |micros: f64| size as f64 / micros;
        println!(
            "{size:>11}   {sealed:>11.2}  {:>6.0}  | {copied:>17.2}  {:>6.0}",
            mb_per_s(sealed),
            mb_per_s(copied)
        );
    }
}
