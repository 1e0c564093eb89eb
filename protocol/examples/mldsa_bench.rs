//! Native ML-DSA-65 per-operation times, as JSON on stdout (microseconds,
//! median of several rounds). Used by `scripts/bench-mldsa.sh`, which sets
//! these beside the same operations in headless Chromium.
//!
//!   cargo run --release -p ruv-protocol --example mldsa_bench

use ruv_protocol::crypto::{context, SigningKey};
use std::hint::black_box;
use std::time::Instant;

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

fn main() {
    // Same message size as the browser bench page (web/src/bench.ts).
    let message = [0x42u8; 2048];
    let key = SigningKey::from_seed(&[7; 32]);
    let signature = key.sign(&message, context::TRANSACTION, [1; 32]).unwrap();

    let keygen = per_op_micros(200, |i| {
        black_box(SigningKey::from_seed(&[i as u8; 32]));
    });
    let sign = per_op_micros(200, |i| {
        black_box(
            key.sign(&message, context::TRANSACTION, [i as u8; 32])
                .unwrap(),
        );
    });
    let verify = per_op_micros(500, |_| {
        key.public_key()
            .verify(black_box(&message), context::TRANSACTION, &signature)
            .unwrap();
    });
    println!(
        "{}",
        serde_json::json!({
            "implementation": "ruv-protocol native (libcrux-ml-dsa 0.0.11)",
            "message_bytes": message.len(),
            "keygen_us": keygen,
            "sign_us": sign,
            "verify_us": verify,
        })
    );
}
