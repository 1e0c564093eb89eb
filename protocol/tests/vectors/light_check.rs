//! Checks the light-client vectors (`light.json`, made by `light_build.rs`):
//! everything in the file verifies, and changing any single field of the
//! checkpoint or of a proof, or replaying the certificate against another
//! genesis, is rejected. Included by the native test
//! (`protocol/tests/light.rs`) and the wasm tests (`client-wasm/tests/browser.rs`
//! and `node.rs`), so both targets run the same checks. Depends only on
//! `ruv_protocol` and `serde_json`.
#![allow(dead_code)]

use ruv_protocol::api::codes;
use ruv_protocol::checkpoint::{
    CertifiedCheckpoint, CheckpointError, CheckpointHeader, Hash32, ValidatorSet,
};
use ruv_protocol::crypto::SigningKey;
use ruv_protocol::light::{
    verify_account_proof, verify_checkpoint, verify_transaction_proof, AccountProof,
    TransactionProof, TrustAnchor, VerifiedCheckpoint, VerifyError,
};
use ruv_protocol::smt::SmtProof;
use ruv_protocol::{Address, Genesis, TxId};
use serde_json::Value;

/// The parsed fixture.
#[derive(Debug, Clone)]
pub struct Vectors {
    /// The genesis file's text.
    pub genesis: String,
    /// The certified checkpoint.
    pub checkpoint: CertifiedCheckpoint,
    /// A proof of a present account.
    pub account_present: AccountProof,
    /// A proof of an absent account.
    pub account_absent: AccountProof,
    /// A transaction inclusion proof.
    pub transaction: TransactionProof,
    /// Validator 2's precommit from the round after the certificate's.
    pub precommit_other_round: Vec<u8>,
    /// Validator 2's prevote from the certificate's round.
    pub prevote_same_round: Vec<u8>,
}

/// How many rejections each part checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Summary {
    /// Single-field changes of the certified checkpoint.
    pub checkpoint: usize,
    /// Replays against other genesis files or validator sets.
    pub replay: usize,
    /// Single-field changes of the present-account proof.
    pub account_present: usize,
    /// Single-field changes of the absent-account proof.
    pub account_absent: usize,
    /// Single-field changes of the transaction proof.
    pub transaction: usize,
}

/// What the vectors in `light.json` give (the same on every target). The
/// proof counts include one change per proof byte, so they move with the
/// proofs' lengths after `RUV_BLESS=1` rewrites the file.
pub const EXPECTED: Summary = Summary {
    checkpoint: 88,
    replay: 9,
    account_present: 195,
    account_absent: 158,
    transaction: 153,
};

/// Parses `light.json`. Panics if it is not the documented shape.
pub fn parse(fixture: &str) -> Vectors {
    let doc: Value = serde_json::from_str(fixture).expect("light.json is JSON");
    let object = doc.as_object().expect("light.json is an object");
    let keys: Vec<&str> = object.keys().map(String::as_str).collect();
    let mut sorted = keys.clone();
    sorted.sort_unstable();
    assert_eq!(
        sorted,
        [
            "account_absent",
            "account_present",
            "checkpoint",
            "genesis",
            "precommit_other_round",
            "prevote_same_round",
            "transaction"
        ],
        "light.json fields"
    );
    let field = |name: &str| doc[name].clone();
    let vectors = Vectors {
        genesis: doc["genesis"]
            .as_str()
            .expect("genesis is a JSON string")
            .to_owned(),
        checkpoint: serde_json::from_value(field("checkpoint")).expect("checkpoint"),
        account_present: serde_json::from_value(field("account_present")).expect("account_present"),
        account_absent: serde_json::from_value(field("account_absent")).expect("account_absent"),
        transaction: serde_json::from_value(field("transaction")).expect("transaction"),
        precommit_other_round: signature(&doc, "precommit_other_round"),
        prevote_same_round: signature(&doc, "prevote_same_round"),
    };
    // Every value has one JSON spelling: re-serializing gives the file back.
    for (name, again) in [
        ("checkpoint", serde_json::to_value(&vectors.checkpoint)),
        (
            "account_present",
            serde_json::to_value(&vectors.account_present),
        ),
        (
            "account_absent",
            serde_json::to_value(&vectors.account_absent),
        ),
        ("transaction", serde_json::to_value(&vectors.transaction)),
    ] {
        assert_eq!(
            again.expect(name),
            doc[name],
            "{name} re-serializes exactly"
        );
    }
    vectors
}

fn signature(doc: &Value, name: &str) -> Vec<u8> {
    let text = doc[name].as_str().expect("a base64url string");
    ruv_protocol::serde_bytes::from_base64url(text).expect("base64url")
}

/// The trust anchor of the vectors' genesis.
pub fn anchor(vectors: &Vectors) -> TrustAnchor {
    TrustAnchor::from_genesis_json(&vectors.genesis).expect("the vectors' genesis is an anchor")
}

/// Runs every check; panics on the first failure.
pub fn check(fixture: &str) -> Summary {
    assert_eq!(VerifyError::CODE, codes::VERIFICATION_FAILED);
    let vectors = parse(fixture);
    let anchor = anchor(&vectors);
    let checkpoint = verify_checkpoint(&anchor, &vectors.checkpoint)
        .unwrap_or_else(|e| panic!("the vectors' checkpoint: {e}"));
    assert_eq!(checkpoint.header(), &vectors.checkpoint.header);
    assert_eq!(checkpoint.id(), vectors.checkpoint.header_id);
    assert_eq!(checkpoint.number(), 1);

    let summary = Summary {
        checkpoint: checkpoint_changes(&anchor, &vectors.checkpoint)
            + round_changes(&anchor, &vectors),
        replay: replays(&vectors),
        account_present: account_changes(&checkpoint, &vectors.account_present, true),
        account_absent: account_changes(&checkpoint, &vectors.account_absent, false),
        transaction: transaction_changes(&checkpoint, &vectors.transaction),
    };

    // A proof of one kind is no proof of the other.
    let swapped = TransactionProof {
        proof: vectors.account_present.proof.clone(),
        ..vectors.transaction.clone()
    };
    assert!(verify_transaction_proof(&checkpoint, &swapped).is_err());
    let swapped = AccountProof {
        proof: vectors.transaction.proof.clone(),
        ..vectors.account_present.clone()
    };
    assert!(verify_account_proof(&checkpoint, &swapped).is_err());

    // An unusable genesis is an anchor error.
    for text in ["", "{", "{}", "[]"] {
        assert!(matches!(
            TrustAnchor::from_genesis_json(text),
            Err(VerifyError::Anchor(_))
        ));
    }
    summary
}

fn flip(hash: &mut Hash32) {
    hash.0[0] ^= 1;
}

/// Every header field, with a change that keeps it well-formed.
type HeaderChange = (&'static str, fn(&mut CheckpointHeader));

pub const HEADER_CHANGES: [HeaderChange; 15] = [
    ("version", |h| h.version = h.version.wrapping_add(1)),
    ("chain_id", |h| h.chain_id.push('x')),
    ("genesis_hash", |h| flip(&mut h.genesis_hash)),
    ("epoch", |h| h.epoch += 1),
    ("number", |h| h.number += 1),
    ("previous", |h| flip(&mut h.previous)),
    ("anchor", |h| flip(&mut h.anchor)),
    ("state_root", |h| flip(&mut h.state_root)),
    ("transaction_root", |h| flip(&mut h.transaction_root)),
    ("transaction_count", |h| h.transaction_count += 1),
    ("circulating", |h| h.circulating += 1),
    ("burned", |h| h.burned += 1),
    ("time_ms", |h| h.time_ms += 1),
    ("validator_set_hash", |h| flip(&mut h.validator_set_hash)),
    ("next_validator_set_hash", |h| {
        flip(&mut h.next_validator_set_hash)
    }),
];

fn rejected(anchor: &TrustAnchor, certified: &CertifiedCheckpoint, what: &str) -> VerifyError {
    match verify_checkpoint(anchor, certified) {
        Ok(_) => panic!("{what}: a changed checkpoint verified"),
        Err(e) => e,
    }
}

fn checkpoint_changes(anchor: &TrustAnchor, good: &CertifiedCheckpoint) -> usize {
    let mut count = 0;
    let mut reject = |c: &CertifiedCheckpoint, what: &str| {
        count += 1;
        rejected(anchor, c, what)
    };

    // The list covers every header field.
    let header_json = serde_json::to_value(&good.header).expect("header serializes");
    let mut fields: Vec<&str> = header_json
        .as_object()
        .expect("header is an object")
        .keys()
        .map(String::as_str)
        .collect();
    fields.sort_unstable();
    let mut listed: Vec<&str> = HEADER_CHANGES.iter().map(|(name, _)| *name).collect();
    listed.sort_unstable();
    assert_eq!(fields, listed, "HEADER_CHANGES lists every header field");

    for (name, change) in HEADER_CHANGES {
        let mut c = good.clone();
        change(&mut c.header);
        assert_ne!(c.header, good.header, "{name}");
        // With the relay's id left as it was, and with the id recomputed (so
        // that the signatures, not the id, are what catches the change).
        reject(&c, &format!("header.{name} (stale id)"));
        c.header_id = c.header.id();
        reject(&c, &format!("header.{name} (id recomputed)"));
    }
    // Supply moved between circulating and burned: the sum still holds.
    let mut c = good.clone();
    c.header.circulating -= 1;
    c.header.burned += 1;
    c.header_id = c.header.id();
    assert!(matches!(
        reject(&c, "circulating -> burned"),
        VerifyError::Certificate(CheckpointError::BadSignature { signer: 0 })
    ));

    let mut c = good.clone();
    flip(&mut c.header_id);
    reject(&c, "header_id");

    for n in [0u16, 3, 5, 8, 256, u16::MAX] {
        let mut c = good.clone();
        c.validator_count = n;
        reject(&c, &format!("validator_count = {n}"));
    }

    // Each signer index, to every other index (in range or not).
    for i in 0..good.signers.len() {
        for to in [0u16, 1, 2, 3, 4, 255, u16::MAX] {
            if to == good.signers[i] {
                continue;
            }
            let mut c = good.clone();
            c.signers[i] = to;
            reject(&c, &format!("signers[{i}] = {to}"));
        }
    }
    // Dropping a signer (with its signature): 2 of 4 equal stakes is no quorum.
    for i in 0..good.signers.len() {
        let mut c = good.clone();
        c.signers.remove(i);
        c.signatures.remove(i);
        assert!(matches!(
            reject(&c, &format!("drop signer {i}")),
            VerifyError::Certificate(CheckpointError::BelowQuorum {
                signed: 2,
                total: 4
            })
        ));
        // Dropping only one of the two.
        let mut c = good.clone();
        c.signers.remove(i);
        reject(&c, &format!("drop signer index {i} only"));
        let mut c = good.clone();
        c.signatures.remove(i);
        reject(&c, &format!("drop signature {i} only"));
    }
    // Duplicating a signer (with its signature), to reach "quorum" twice.
    for i in 0..good.signers.len() {
        let mut c = good.clone();
        c.signers.insert(i, good.signers[i]);
        c.signatures.insert(i, good.signatures[i].clone());
        reject(&c, &format!("duplicate signer {i}"));
    }
    // The missing validator named with someone else's signature.
    let mut c = good.clone();
    c.signers.push(3);
    c.signatures.push(good.signatures[0].clone());
    assert!(matches!(
        reject(&c, "validator 3 with validator 0's signature"),
        VerifyError::Certificate(CheckpointError::BadSignature { signer: 3 })
    ));
    // Signatures swapped between signers.
    let mut c = good.clone();
    c.signatures.swap(0, 1);
    reject(&c, "signatures 0 and 1 swapped");
    // One byte of each signature (first, middle, last), and a short signature.
    for i in 0..good.signatures.len() {
        let len = good.signatures[i].len();
        for at in [0, len / 2, len - 1] {
            let mut c = good.clone();
            c.signatures[i][at] ^= 1;
            assert!(matches!(
                reject(&c, &format!("signature {i} byte {at}")),
                VerifyError::Certificate(CheckpointError::BadSignature { signer })
                    if signer == good.signers[i]
            ));
        }
        let mut c = good.clone();
        c.signatures[i].pop();
        reject(&c, &format!("signature {i} one byte short"));
    }
    count
}

/// The round is bound into every signature: another round, a precommit
/// from another round mixed in, or a prevote standing in for a precommit is
/// refused.
fn round_changes(anchor: &TrustAnchor, vectors: &Vectors) -> usize {
    let good = &vectors.checkpoint;
    let mut count = 0;
    let mut reject = |c: &CertifiedCheckpoint, what: &str| {
        count += 1;
        rejected(anchor, c, what)
    };
    for round in [0, good.round + 1, u32::MAX] {
        let mut c = good.clone();
        c.round = round;
        assert!(matches!(
            reject(&c, &format!("round = {round}")),
            VerifyError::Certificate(CheckpointError::BadSignature { signer: 0 })
        ));
    }
    // Validator 2's precommit from the next round in place of its own:
    // a certificate mixing rounds, under either round.
    let position = good.signers.iter().position(|s| *s == 2).expect("2 signed");
    let mut mixed = good.clone();
    mixed.signatures[position] = vectors.precommit_other_round.clone();
    assert!(matches!(
        reject(&mixed, "mixed rounds"),
        VerifyError::Certificate(CheckpointError::BadSignature { signer: 2 })
    ));
    mixed.round = good.round + 1;
    assert!(matches!(
        reject(&mixed, "mixed rounds, the later round named"),
        VerifyError::Certificate(CheckpointError::BadSignature { signer: 0 })
    ));
    // Validator 2's prevote of the same round in place of its precommit.
    let mut c = good.clone();
    c.signatures[position] = vectors.prevote_same_round.clone();
    assert!(matches!(
        reject(&c, "a prevote for a precommit"),
        VerifyError::Certificate(CheckpointError::BadSignature { signer: 2 })
    ));
    count
}

/// The vectors' genesis with one change.
fn changed_genesis(text: &str, change: impl FnOnce(&mut Genesis)) -> TrustAnchor {
    let mut genesis = Genesis::from_json(text).expect("the vectors' genesis");
    change(&mut genesis);
    TrustAnchor::from_genesis(genesis).expect("the changed genesis is still valid")
}

fn replays(vectors: &Vectors) -> usize {
    let good = &vectors.checkpoint;
    let original = anchor(vectors);
    let others = [
        (
            "same validators, other chain id",
            changed_genesis(&vectors.genesis, |g| g.chain_id = "ruv-vectors-2".into()),
        ),
        (
            "same validators and chain id, other balances",
            changed_genesis(&vectors.genesis, |g| {
                g.balances[0].amount -= 1;
                g.balances[1].amount += 1;
            }),
        ),
        (
            "other validator keys",
            changed_genesis(&vectors.genesis, |g| {
                g.validators[3].public_key = SigningKey::from_seed(&[0x55; 32])
                    .public_key()
                    .as_bytes()
                    .to_vec();
            }),
        ),
        (
            "other stakes",
            changed_genesis(&vectors.genesis, |g| g.validators[3].stake = 3),
        ),
    ];
    let mut count = 0;
    for (what, other) in &others {
        assert_ne!(other.genesis_hash(), original.genesis_hash(), "{what}");
        // As the relay sent it.
        rejected(other, good, what);
        // Rewritten to name the other network (chain id, genesis hash and
        // validator set hash), keeping the signatures.
        let mut c = good.clone();
        c.header.chain_id = other.genesis().chain_id.clone();
        c.header.genesis_hash = other.genesis_hash();
        c.header.validator_set_hash = other.validators().hash();
        c.header_id = c.header.id();
        rejected(other, &c, &format!("{what}, rewritten"));
        count += 2;
    }
    // The certificate itself, checked against a set it was not made for.
    let certificate = good.to_certificate().expect("certificate shape");
    let other_set = ValidatorSet::from_genesis(others[2].1.genesis()).expect("validator set");
    assert_eq!(
        certificate.verify(&other_set),
        Err(CheckpointError::WrongValidatorSet)
    );
    certificate
        .verify(original.validators())
        .expect("the right set verifies");
    count + 1
}

fn account_changes(checkpoint: &VerifiedCheckpoint, good: &AccountProof, present: bool) -> usize {
    let verified = verify_account_proof(checkpoint, good)
        .unwrap_or_else(|e| panic!("the vectors' account proof (present: {present}): {e}"));
    assert_eq!(
        (
            verified.address,
            verified.balance,
            verified.nonce,
            verified.checkpoint
        ),
        (good.address, good.balance, good.nonce, 1)
    );
    let path = SmtProof::decode(&good.proof).expect("proof decodes");
    assert!(
        !path.siblings.is_empty(),
        "the proof has siblings to change"
    );
    if present {
        assert!(good.balance > 0 && good.nonce > 0);
    } else {
        assert_eq!((good.balance, good.nonce), (0, 0));
    }
    let mut count = 0;
    let mut reject = |p: &AccountProof, what: &str| {
        count += 1;
        assert!(
            verify_account_proof(checkpoint, p).is_err(),
            "account proof (present: {present}) {what}: a changed proof verified"
        );
    };
    // The address: off the proven path (first bit), and next to the proven
    // leaf (last bit). For an absence proof, an address that shares the
    // whole proven path is absent too, so only the first is a lie there.
    let mut bits = vec![0];
    if present {
        bits.push(255);
    }
    for bit in bits {
        let mut bytes = *good.address.as_bytes();
        bytes[bit / 8] ^= 0x80 >> (bit % 8);
        let p = AccountProof {
            address: Address::from_bytes(bytes),
            ..good.clone()
        };
        reject(&p, &format!("address bit {bit}"));
    }
    let mut values = vec![
        (good.balance + 1, good.nonce),
        (good.balance, good.nonce + 1),
    ];
    if present {
        values.extend([
            (good.balance - 1, good.nonce),
            (good.balance, good.nonce - 1),
            (0, 0),
            (good.nonce, good.balance),
        ]);
    }
    for (balance, nonce) in values {
        let p = AccountProof {
            balance,
            nonce,
            ..good.clone()
        };
        reject(&p, &format!("balance {balance}, nonce {nonce}"));
    }
    for number in [0, 2, u64::MAX] {
        let p = AccountProof {
            checkpoint: number,
            ..good.clone()
        };
        reject(&p, &format!("checkpoint {number}"));
    }
    // Every byte of the proof, and the proof cut short or extended.
    for at in 0..good.proof.len() {
        let mut p = good.clone();
        p.proof[at] ^= 1;
        reject(&p, &format!("proof byte {at}"));
    }
    let mut p = good.clone();
    p.proof.pop();
    reject(&p, "proof one byte short");
    let mut p = good.clone();
    p.proof.push(0);
    reject(&p, "proof one byte long");
    let p = AccountProof {
        proof: Vec::new(),
        ..good.clone()
    };
    reject(&p, "empty proof");
    count
}

fn transaction_changes(checkpoint: &VerifiedCheckpoint, good: &TransactionProof) -> usize {
    let verified = verify_transaction_proof(checkpoint, good)
        .unwrap_or_else(|e| panic!("the vectors' transaction proof: {e}"));
    assert_eq!(
        (
            verified.id,
            verified.from,
            verified.nonce,
            verified.checkpoint
        ),
        (good.id, good.from, good.nonce, 1)
    );
    let mut count = 0;
    let mut reject = |p: &TransactionProof, what: &str| {
        count += 1;
        assert!(
            verify_transaction_proof(checkpoint, p).is_err(),
            "transaction proof {what}: a changed proof verified"
        );
    };
    for bit in [0usize, 255] {
        let mut id = good.id.0;
        id[bit / 8] ^= 0x80 >> (bit % 8);
        let p = TransactionProof {
            id: TxId(id),
            ..good.clone()
        };
        reject(&p, &format!("id bit {bit}"));
    }
    for at in [0, 31] {
        let mut from = *good.from.as_bytes();
        from[at] ^= 1;
        let p = TransactionProof {
            from: Address::from_bytes(from),
            ..good.clone()
        };
        reject(&p, &format!("from byte {at}"));
    }
    for nonce in [good.nonce - 1, good.nonce + 1, 0] {
        let p = TransactionProof {
            nonce,
            ..good.clone()
        };
        reject(&p, &format!("nonce {nonce}"));
    }
    for number in [0, 2, u64::MAX] {
        let p = TransactionProof {
            checkpoint: number,
            ..good.clone()
        };
        reject(&p, &format!("checkpoint {number}"));
    }
    for at in 0..good.proof.len() {
        let mut p = good.clone();
        p.proof[at] ^= 1;
        reject(&p, &format!("proof byte {at}"));
    }
    let mut p = good.clone();
    p.proof.pop();
    reject(&p, "proof one byte short");
    let mut p = good.clone();
    p.proof.push(0);
    reject(&p, "proof one byte long");
    count
}
