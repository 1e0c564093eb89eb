//! Light-client sizes and verify times: certificates for 4, 20 and 100
//! equal-stake validators, and sparse-Merkle state proofs for 10^3 to 10^6
//! accounts. Prints Markdown tables; asserts nothing about time (only that
//! everything it built verifies).
//!
//!   cargo run --release -p ruv-protocol --example checkpoint_sizes

use ruv_protocol::checkpoint::{
    account_leaf_value, Certificate, CertifiedCheckpoint, CheckpointHeader, Hash32, ValidatorSet,
    CHECKPOINT_VERSION,
};
use ruv_protocol::crypto::{hash, Signature, SigningKey};
use ruv_protocol::genesis::{GenesisBalance, ValidatorEntry};
use ruv_protocol::light::{
    verify_account_proof, verify_checkpoint, AccountProof, TrustAnchor, VerifiedCheckpoint,
};
use ruv_protocol::smt::{SparseMerkleTree, TreeKind};
use ruv_protocol::{Account, Address, FeeSchedule, Genesis};
use std::hint::black_box;
use std::time::Instant;

/// Runs of `verify_checkpoint` per validator-set size.
const CERT_RUNS: usize = 31;
/// Present keys sampled per tree (all of them if the tree is smaller).
const PRESENT_SAMPLE: usize = 2_000;
/// Absent keys sampled per tree.
const ABSENT_SAMPLE: usize = 1_000;
/// "64 KB" target for certificate JSON (up to 20 validators), as 64 KiB.
const CERT_JSON_TARGET: f64 = 65_536.0;
/// "~1 KB" target for a state proof at 10^6 accounts.
const PROOF_TARGET: f64 = 1_024.0;
/// Context for the benchmark's account keys (any string will do).
const KEY_CONTEXT: &str = "rUv 2026-12 checkpoint_sizes example account key";
const SUPPLY: u64 = 21_000_000_000_000;

/// Validator `i`'s key: the u16 index spread over the seed bytes.
fn validator_key(i: u16) -> SigningKey {
    let bytes = i.to_le_bytes();
    let mut seed = [0u8; 32];
    for (j, b) in seed.iter_mut().enumerate() {
        *b = bytes[j % 2];
    }
    SigningKey::from_seed(&seed)
}

fn genesis_with(keys: &[SigningKey]) -> Genesis {
    Genesis {
        chain_id: "ruv-bench".into(),
        balances: vec![GenesisBalance {
            address: Address::from_bytes([1; 32]),
            amount: SUPPLY,
        }],
        fees: FeeSchedule {
            base: 10,
            per_byte: 1,
            burn_percent: 50,
        },
        validators: keys
            .iter()
            .enumerate()
            .map(|(i, key)| ValidatorEntry {
                name: format!("relay-{i}"),
                public_key: key.public_key().as_bytes().to_vec(),
                stake: 100,
            })
            .collect(),
        consensus: None,
    }
}

/// Smallest number of equal-stake signers with `3 * signed > 2 * total`.
fn quorum_size(validators: &ValidatorSet) -> usize {
    (1..=validators.len())
        .find(|&k| {
            let signed: u128 = (0..k)
                .map(|i| validators.get(i).map_or(0, |(_, s)| *s as u128))
                .sum();
            validators.is_quorum(signed)
        })
        .expect("all validators together are a quorum")
}

fn sign(header: &CheckpointHeader, key: &SigningKey, index: u16) -> Signature {
    // Signing can fail by running out of rejection-sampling attempts; retry
    // with other randomness.
    (0u8..=255)
        .find_map(|attempt| {
            let mut randomness = [attempt; 32];
            randomness[..2].copy_from_slice(&index.to_le_bytes());
            header.sign_precommit(0, key, randomness).ok()
        })
        .expect("signing succeeds with some randomness")
}

/// A genesis for `keys`, a header over `state_root` and a certificate signed by
/// the first `signers` validators.
fn certified(
    keys: &[SigningKey],
    signers: usize,
    state_root: [u8; 32],
) -> (TrustAnchor, Certificate) {
    let genesis = genesis_with(keys);
    let anchor = TrustAnchor::from_genesis(genesis).expect("valid genesis");
    let header = CheckpointHeader {
        version: CHECKPOINT_VERSION,
        chain_id: anchor.genesis().chain_id.clone(),
        genesis_hash: anchor.genesis_hash(),
        epoch: 0,
        number: 1,
        previous: Hash32([7; 32]),
        anchor: Hash32([8; 32]),
        state_root: Hash32(state_root),
        transaction_root: Hash32([9; 32]),
        transaction_count: 1_000,
        circulating: SUPPLY - 12_345,
        burned: 12_345,
        time_ms: 1_796_083_200_000,
        validator_set_hash: anchor.validators().hash(),
        next_validator_set_hash: Hash32::ZERO,
    };
    let signatures = (0..signers)
        .map(|i| sign(&header, &keys[i], i as u16))
        .collect();
    let certificate = Certificate {
        header,
        round: 0,
        validator_count: keys.len() as u16,
        signers: (0..signers as u16).collect(),
        signatures,
    };
    (anchor, certificate)
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn certificates() {
    println!("### Certificates (equal stake, 100 each)\n");
    println!(
        "verify = `light::verify_checkpoint` on the JSON form (`CertifiedCheckpoint`), median of {CERT_RUNS} runs.\n"
    );
    println!(
        "| validators | signatures | certificate bytes | JSON bytes | verify ms | µs per signature | JSON / 64 KiB |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- |");
    for n in [4usize, 20, 100] {
        let keys: Vec<SigningKey> = (0..n as u16).map(validator_key).collect();
        let validators =
            ValidatorSet::from_genesis(&genesis_with(&keys)).expect("valid validator set");
        let signers = quorum_size(&validators);
        let (anchor, certificate) = certified(&keys, signers, [3; 32]);
        let binary = certificate.encode().len();
        let json_form: CertifiedCheckpoint = certificate.to_json();
        let json = serde_json::to_vec(&json_form).expect("serializes").len();
        // One untimed run, checking the certificate is good.
        verify_checkpoint(&anchor, &json_form).expect("the certificate verifies");
        let mut times: Vec<f64> = (0..CERT_RUNS)
            .map(|_| {
                let start = Instant::now();
                black_box(verify_checkpoint(&anchor, black_box(&json_form)).is_ok());
                start.elapsed().as_secs_f64() * 1e3
            })
            .collect();
        let ms = median(&mut times);
        let ratio = if n <= 20 {
            format!("{:.2}", json as f64 / CERT_JSON_TARGET)
        } else {
            "(no target)".into()
        };
        println!(
            "| {n} | {signers} | {} | {} | {ms:.2} | {:.1} | {ratio} |",
            thousands(binary),
            thousands(json),
            ms * 1e3 / signers as f64,
        );
    }
    println!();
}

#[derive(Default)]
struct ProofStats {
    count: usize,
    bytes_sum: usize,
    bytes_max: usize,
    siblings_sum: usize,
    json_sum: usize,
    json_max: usize,
    verify_us: Vec<f64>,
}

impl ProofStats {
    fn add(&mut self, checkpoint: &VerifiedCheckpoint, proof: &AccountProof, siblings: usize) {
        let json = serde_json::to_vec(proof).expect("serializes").len();
        self.count += 1;
        self.bytes_sum += proof.proof.len();
        self.bytes_max = self.bytes_max.max(proof.proof.len());
        self.siblings_sum += siblings;
        self.json_sum += json;
        self.json_max = self.json_max.max(json);
        // Untimed check, then one timed call.
        verify_account_proof(checkpoint, proof).expect("the proof verifies");
        let start = Instant::now();
        black_box(verify_account_proof(checkpoint, black_box(proof)).is_ok());
        self.verify_us.push(start.elapsed().as_secs_f64() * 1e6);
    }

    fn bytes_mean(&self) -> f64 {
        self.bytes_sum as f64 / self.count as f64
    }

    fn row(&mut self, accounts: &str, kind: &str) {
        let verify = median(&mut self.verify_us);
        println!(
            "| {accounts} | {kind} | {} | {:.0} | {} | {:.1} | {:.0} | {} | {verify:.2} |",
            thousands(self.count),
            self.bytes_mean(),
            self.bytes_max,
            self.siblings_sum as f64 / self.count as f64,
            self.json_sum as f64 / self.count as f64,
            self.json_max,
        );
    }
}

fn account_key(i: u64) -> [u8; 32] {
    hash(KEY_CONTEXT, &[&i.to_le_bytes()])
}

fn account_of(i: u64) -> Account {
    Account {
        balance: 1_000_000 + i * 37,
        nonce: i % 50,
    }
}

fn state_proofs() {
    // The 4-validator network certifies each tree's root.
    let keys: Vec<SigningKey> = (0..4u16).map(validator_key).collect();
    let mut builds = Vec::new();
    let mut at_million = None;
    println!("### State proofs (`TreeKind::State`, 16-byte account values)\n");
    println!(
        "Up to {} present keys (evenly spaced indices) and {} absent keys per tree. \
         bytes = `SmtProof::encode()`; JSON = `AccountProof` (base64url proof); \
         verify = `light::verify_account_proof` (decode + path), one timed call per proof, median over the proofs.\n",
        thousands(PRESENT_SAMPLE),
        thousands(ABSENT_SAMPLE),
    );
    println!(
        "| accounts | keys | proofs | bytes mean | bytes max | siblings mean | JSON mean | JSON max | verify µs |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    for exponent in 3u32..=6 {
        let n = 10u64.pow(exponent);
        let label = format!("10^{exponent}");
        let mut tree = SparseMerkleTree::new(TreeKind::State);
        let start = Instant::now();
        for i in 0..n {
            tree.insert(account_key(i), &account_leaf_value(&account_of(i)))
                .expect("16-byte value");
        }
        let insert_s = start.elapsed().as_secs_f64();
        let start = Instant::now();
        let root = tree.root();
        let root_s = start.elapsed().as_secs_f64();
        builds.push((label.clone(), insert_s, root_s));

        let (anchor, certificate) = certified(&keys, 3, root);
        let checkpoint =
            verify_checkpoint(&anchor, &certificate.to_json()).expect("the certificate verifies");

        let mut present = ProofStats::default();
        let sample = (n as usize).min(PRESENT_SAMPLE) as u64;
        for s in 0..sample {
            let i = s * n / sample;
            let key = account_key(i);
            let path = tree.prove(&key);
            let account = account_of(i);
            let proof = AccountProof {
                address: Address::from_bytes(key),
                balance: account.balance,
                nonce: account.nonce,
                checkpoint: 1,
                proof: path.encode(),
            };
            present.add(&checkpoint, &proof, path.siblings.len());
        }
        let mut absent = ProofStats::default();
        for i in n..n + ABSENT_SAMPLE as u64 {
            let key = account_key(i);
            let path = tree.prove(&key);
            let proof = AccountProof {
                address: Address::from_bytes(key),
                balance: 0,
                nonce: 0,
                checkpoint: 1,
                proof: path.encode(),
            };
            absent.add(&checkpoint, &proof, path.siblings.len());
        }
        present.row(&label, "present");
        absent.row(&label, "absent");
        if exponent == 6 {
            at_million = Some((
                present.bytes_mean(),
                present.bytes_max,
                absent.bytes_mean(),
                absent.bytes_max,
            ));
        }
    }
    println!();
    println!(
        "### Tree build (insert every account, then compute the root; one run, informative)\n"
    );
    println!("| accounts | insert ms | root ms | total ms |");
    println!("| --- | --- | --- | --- |");
    for (label, insert_s, root_s) in builds {
        println!(
            "| {label} | {:.1} | {:.1} | {:.1} |",
            insert_s * 1e3,
            root_s * 1e3,
            (insert_s + root_s) * 1e3
        );
    }
    println!();
    if let Some((p_mean, p_max, a_mean, a_max)) = at_million {
        println!("### Proof at 10^6 accounts vs the ~1 KB target (1,024 B)\n");
        println!("| proof | bytes | / 1 KB |");
        println!("| --- | --- | --- |");
        for (what, bytes) in [
            ("present, mean", p_mean),
            ("present, max", p_max as f64),
            ("absent, mean", a_mean),
            ("absent, max", a_max as f64),
        ] {
            println!("| {what} | {bytes:.0} | {:.2} |", bytes / PROOF_TARGET);
        }
    }
}

fn main() {
    certificates();
    state_proofs();
}
