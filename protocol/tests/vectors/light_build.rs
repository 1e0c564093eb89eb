//! Builds the light-client vectors (`light.json`) deterministically: every
//! key comes from a fixed seed and every signature uses fixed randomness, so
//! the same bytes come out on every machine. Native only (it signs and keeps
//! the trees); `light_check.rs` is the part the wasm tests share.
//!
//! What it makes:
//! - a genesis `ruv-vectors`: 4 validators (`SigningKey::from_seed(&[i + 1; 32])`,
//!   stake 1 each), 5 funded users (seeds `[0xa0 + i; 32]`), a fee schedule;
//! - 3 signed transfers applied to `Ledger::from_genesis` (two from user 0,
//!   nonces 1 and 2, one from user 2; one pays an address not in genesis);
//! - checkpoint 0 (the genesis state, never certified) and checkpoint 1 (the
//!   state after the 3 transfers, their transaction tree, an anchor over 2
//!   fixed vertex ids, a fixed time), certified by validators 0, 1 and 2
//!   (3 of 4 equal stakes: a quorum) precommitting in round 1, with signing
//!   randomness `[7; 32]`;
//! - two signatures of validator 2 on checkpoint 1 that must not count in
//!   its certificate: its precommit from round 2 and its prevote from round 1;
//! - proofs against checkpoint 1: user 0's account (present), an address
//!   that never held anything (absent), and the second transfer's inclusion.

use ruv_protocol::checkpoint::{
    account_leaf_value, anchor_hash, transaction_leaf_value, Certificate, CertifiedCheckpoint,
    CheckpointHeader, Hash32, ValidatorSet, CHECKPOINT_VERSION,
};
use ruv_protocol::crypto::SigningKey;
use ruv_protocol::genesis::{GenesisBalance, ValidatorEntry};
use ruv_protocol::light::{AccountProof, TransactionProof};
use ruv_protocol::smt::{SparseMerkleTree, TreeKind, EMPTY_ROOT};
use ruv_protocol::{Address, FeeSchedule, Genesis, Ledger, Transfer, UNITS_PER_RUV};
use serde::Serialize;

/// The vectors' network.
pub const CHAIN_ID: &str = "ruv-vectors";
/// Checkpoint 1's time: 2026-01-01T00:00:00Z.
pub const TIME_MS: u64 = 1_767_225_600_000;
/// The signers' FIPS 204 `rnd`.
pub const SIGNING_RANDOMNESS: [u8; 32] = [7; 32];
/// Validators that sign checkpoint 1.
pub const SIGNERS: [u16; 3] = [0, 1, 2];
/// The agreement round checkpoint 1 is certified in (not 0, so a zeroed
/// round is a change the verifier must catch).
pub const ROUND: u32 = 1;

/// Validator `i`'s key.
pub fn validator_key(i: u8) -> SigningKey {
    SigningKey::from_seed(&[i + 1; 32])
}

/// User `i`'s key.
pub fn user_key(i: u8) -> SigningKey {
    SigningKey::from_seed(&[0xa0 + i; 32])
}

fn address(key: &SigningKey) -> Address {
    Address::from_public_key(key.public_key())
}

/// The genesis of the vectors.
pub fn genesis() -> Genesis {
    let amounts = [
        50 * UNITS_PER_RUV,
        20 * UNITS_PER_RUV,
        7 * UNITS_PER_RUV + 500_000,
        UNITS_PER_RUV,
        250_000,
    ];
    Genesis {
        chain_id: CHAIN_ID.into(),
        balances: amounts
            .iter()
            .enumerate()
            .map(|(i, amount)| GenesisBalance {
                address: address(&user_key(i as u8)),
                amount: *amount,
            })
            .collect(),
        fees: FeeSchedule {
            base: 1_000,
            per_byte: 1,
            burn_percent: 50,
        },
        validators: (0..4u8)
            .map(|i| ValidatorEntry {
                name: format!("validator-{i}"),
                public_key: validator_key(i).public_key().as_bytes().to_vec(),
                stake: 1,
            })
            .collect(),
        consensus: None,
    }
}

/// The fixture file's content, in file order.
#[derive(Debug, Clone, Serialize)]
pub struct Fixture {
    /// The genesis file's text (what a wallet ships with).
    pub genesis: String,
    /// Checkpoint 1, certified.
    pub checkpoint: CertifiedCheckpoint,
    /// User 0 at checkpoint 1.
    pub account_present: AccountProof,
    /// An address with no state at checkpoint 1.
    pub account_absent: AccountProof,
    /// The second transfer's inclusion in checkpoint 1.
    pub transaction: TransactionProof,
    /// Validator 2's precommit for checkpoint 1 in round `ROUND + 1`
    /// (base64url): mixed into the certificate, it must be refused.
    pub precommit_other_round: String,
    /// Validator 2's prevote for checkpoint 1 in round `ROUND` (base64url):
    /// a prevote is no precommit.
    pub prevote_same_round: String,
}

impl Fixture {
    /// The text of `light.json`.
    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).expect("fixture serializes");
        text.push('\n');
        text
    }
}

fn state_tree(ledger: &Ledger) -> SparseMerkleTree {
    let mut tree = SparseMerkleTree::new(TreeKind::State);
    for (address, account) in ledger.accounts() {
        if account.balance == 0 && account.nonce == 0 {
            continue; // empty accounts are absent
        }
        tree.insert(*address.as_bytes(), &account_leaf_value(account))
            .expect("16-byte leaf");
    }
    tree
}

/// Builds everything from the fixed seeds.
pub fn build() -> Fixture {
    let genesis = genesis();
    genesis.validate().expect("the vectors' genesis is valid");
    let genesis_text = serde_json::to_string(&genesis).expect("genesis serializes");
    let supply = genesis.total_supply().expect("supply fits");
    let validators = ValidatorSet::from_genesis(&genesis).expect("validator set");
    let mut ledger = Ledger::from_genesis(&genesis);

    // Checkpoint 0: the genesis state, computable by anyone.
    let header0 = CheckpointHeader {
        version: CHECKPOINT_VERSION,
        chain_id: CHAIN_ID.into(),
        genesis_hash: Hash32(genesis.hash()),
        epoch: 0,
        number: 0,
        previous: Hash32::ZERO,
        anchor: Hash32::ZERO,
        state_root: Hash32(state_tree(&ledger).root()),
        transaction_root: Hash32(EMPTY_ROOT),
        transaction_count: 0,
        circulating: supply,
        burned: 0,
        time_ms: 0,
        validator_set_hash: validators.hash(),
        next_validator_set_hash: Hash32::ZERO,
    };

    // Three transfers: (sender, recipient, amount, nonce).
    let outsider = address(&user_key(7)); // not in genesis: gains an account
    let plan = [
        (0u8, address(&user_key(1)), UNITS_PER_RUV, 1u64),
        (0, outsider, 2 * UNITS_PER_RUV, 2),
        (2, address(&user_key(0)), 500_000, 1),
    ];
    let mut tx_tree = SparseMerkleTree::new(TreeKind::Transactions);
    let mut tx_ids = Vec::new();
    for (n, (sender, to, amount, nonce)) in plan.into_iter().enumerate() {
        let key = user_key(sender);
        let tx = Transfer {
            chain_id: CHAIN_ID.into(),
            from: address(&key),
            to,
            amount,
            fee: 10_000,
            nonce,
            memo: format!("vector {n}"),
            public_key: key.public_key().clone(),
        }
        .sign(&key, [n as u8; 32])
        .expect("signing");
        ledger.apply(&tx).expect("the vectors' transfers apply");
        let id = tx.id();
        tx_tree
            .insert(id.0, &transaction_leaf_value(&tx.transfer.from, nonce))
            .expect("40-byte leaf");
        tx_ids.push((id, tx.transfer.from, nonce));
    }
    let mut state = state_tree(&ledger);
    let burned = ledger.burned();
    assert_eq!(ledger.circulating() + burned as u128, supply as u128);

    // Checkpoint 1.
    let header = CheckpointHeader {
        version: CHECKPOINT_VERSION,
        chain_id: CHAIN_ID.into(),
        genesis_hash: Hash32(genesis.hash()),
        epoch: 0,
        number: 1,
        previous: header0.id(),
        anchor: anchor_hash(&[[0x11; 32], [0x22; 32]]),
        state_root: Hash32(state.root()),
        transaction_root: Hash32(tx_tree.root()),
        transaction_count: tx_ids.len() as u64,
        circulating: supply - burned,
        burned,
        time_ms: TIME_MS,
        validator_set_hash: validators.hash(),
        next_validator_set_hash: Hash32::ZERO,
    };
    let signatures = SIGNERS
        .iter()
        .map(|i| {
            header
                .sign_precommit(ROUND, &validator_key(*i as u8), SIGNING_RANDOMNESS)
                .expect("signing")
        })
        .collect();
    let base64 = |s: ruv_protocol::Signature| ruv_protocol::serde_bytes::to_base64url(s.as_bytes());
    let precommit_other_round = base64(
        header
            .sign_precommit(ROUND + 1, &validator_key(2), SIGNING_RANDOMNESS)
            .expect("signing"),
    );
    let prevote_same_round = base64(
        header
            .sign_prevote(ROUND, &validator_key(2), SIGNING_RANDOMNESS)
            .expect("signing"),
    );
    let certificate = Certificate {
        header,
        round: ROUND,
        validator_count: 4,
        signers: SIGNERS.to_vec(),
        signatures,
    };
    certificate
        .verify(&validators)
        .expect("the certificate verifies");

    let account_proof = |tree: &mut SparseMerkleTree, address: Address| {
        let account = ledger.account(&address);
        AccountProof {
            address,
            balance: account.balance,
            nonce: account.nonce,
            checkpoint: 1,
            proof: tree.prove(address.as_bytes()).encode(),
        }
    };
    let present = address(&user_key(0));
    let absent = address(&user_key(9));
    assert!(state.get(present.as_bytes()).is_some());
    assert!(state.get(absent.as_bytes()).is_none());
    let (id, from, nonce) = tx_ids[1];
    Fixture {
        genesis: genesis_text,
        checkpoint: certificate.to_json(),
        account_present: account_proof(&mut state, present),
        account_absent: account_proof(&mut state, absent),
        transaction: TransactionProof {
            id,
            from,
            nonce,
            checkpoint: 1,
            proof: tx_tree.prove(&id.0).encode(),
        },
        precommit_other_round,
        prevote_same_round,
    }
}
