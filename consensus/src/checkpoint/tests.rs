//! The round-bound lock rules, unit by unit: a lock moves only on a newer
//! proof of lock, forged or stale proofs are refused with typed errors, and
//! precommits of different rounds never add up to a certificate.

use super::*;
use ruv_protocol::genesis::{GenesisBalance, ValidatorEntry};
use ruv_protocol::FeeSchedule;

const VALIDATORS: usize = 4;
const STAKE: u64 = 100;

fn keys() -> Vec<Arc<SigningKey>> {
    (0..VALIDATORS)
        .map(|i| Arc::new(SigningKey::from_seed(&[60 + i as u8; 32])))
        .collect()
}

fn genesis(keys: &[Arc<SigningKey>]) -> Genesis {
    let user = SigningKey::from_seed(&[70; 32]);
    let genesis = Genesis {
        chain_id: "ruv-locks".into(),
        balances: vec![GenesisBalance {
            address: Address::from_public_key(user.public_key()),
            amount: 1_000_000,
        }],
        fees: FeeSchedule {
            base: 1_000,
            per_byte: 1,
            burn_percent: 50,
        },
        validators: keys
            .iter()
            .enumerate()
            .map(|(i, k)| ValidatorEntry {
                name: format!("v{i}"),
                public_key: k.public_key().as_bytes().to_vec(),
                stake: STAKE,
            })
            .collect(),
        consensus: None,
    };
    genesis.validate().expect("valid genesis");
    genesis
}

/// Validator 0's checkpointer, restored with `lock`, ticked into round 2
/// of number 1.
struct Setup {
    keys: Vec<Arc<SigningKey>>,
    checkpointer: Checkpointer,
    /// Two headers for number 1 every relay derives (empty anchor).
    h1: CheckpointHeader,
    h2: CheckpointHeader,
}

/// Validator 0's checkpointer configuration.
fn config(keys: &[Arc<SigningKey>]) -> CheckpointConfig {
    CheckpointConfig {
        genesis: genesis(keys),
        signing_key: keys[0].clone(),
        rng_seed: [1; 32],
        timing: CheckpointTiming::default(),
        keep_certified: CERTIFIED_IN_MEMORY,
    }
}

fn setup(lock: impl FnOnce(&CheckpointHeader) -> Option<SignedLock>) -> Setup {
    let keys = keys();
    let config = config(&keys);
    let mut probe = Checkpointer::new(config.clone()).expect("checkpointer");
    let h1 = probe.derive_header(&[], 100).expect("derives");
    let h2 = probe.derive_header(&[], 101).expect("derives");
    let mut checkpointer =
        Checkpointer::restore(config, Vec::new(), Vec::new(), lock(&h1)).expect("restores");
    let timing = CheckpointTiming::default();
    let unix_ms = checkpointer.due_unix_ms() + 2 * timing.round_timeout_ms + 100;
    let mut out = Vec::new();
    checkpointer.handle(
        CheckpointInput::Tick {
            now_ms: unix_ms,
            unix_ms,
        },
        &mut out,
    );
    assert_eq!(checkpointer.current_round(), 2);
    Setup {
        keys,
        checkpointer,
        h1,
        h2,
    }
}

fn locked_on(header: &CheckpointHeader, round: u32) -> SignedLock {
    SignedLock {
        number: header.number,
        round,
        pol_round: round,
        header_id: header.id(),
        header: header.clone(),
        anchor: Vec::new(),
    }
}

/// A proof of lock for `header` in `round` signed by `signers`.
fn pol(
    keys: &[Arc<SigningKey>],
    header: &CheckpointHeader,
    round: u32,
    signers: &[u16],
) -> ProofOfLock {
    ProofOfLock {
        round,
        header: header.clone(),
        anchor: Vec::new(),
        prevotes: signers
            .iter()
            .map(|i| {
                let signature = header
                    .sign_prevote(round, &keys[*i as usize], [*i as u8; 32])
                    .expect("signs");
                (*i, signature)
            })
            .collect(),
    }
}

fn persisted_locks(out: &[CheckpointOutput]) -> Vec<&SignedLock> {
    out.iter()
        .filter_map(|o| match o {
            CheckpointOutput::Persist(CheckpointPersist::Signed(lock)) => Some(lock.as_ref()),
            _ => None,
        })
        .collect()
}

#[test]
fn a_lock_moves_only_on_a_newer_proof_of_lock() {
    let Setup {
        keys,
        mut checkpointer,
        h1,
        h2,
    } = setup(|h1| Some(locked_on(h1, 1)));
    let me = ValidatorIndex(1);
    let mut out = Vec::new();
    // A proof for another header from the lock's own round or an older one
    // moves nothing.
    for round in [0, 1] {
        assert_eq!(
            checkpointer.on_pol(me, pol(&keys, &h2, round, &[1, 2, 3]), &mut out),
            Err(PolError::Stale { round, held: 1 })
        );
    }
    assert!(persisted_locks(&out).is_empty());
    assert_eq!(checkpointer.lock.map(|l| l.header), Some(h1.id()));
    assert!(!checkpointer.may_prevote(&h2.id()));
    // A valid proof from a later round moves the lock, persisted first.
    checkpointer
        .on_pol(me, pol(&keys, &h2, 2, &[1, 2, 3]), &mut out)
        .expect("a newer proof of lock");
    let persisted = persisted_locks(&out);
    assert_eq!(persisted.len(), 1);
    assert_eq!(
        (
            persisted[0].header_id,
            persisted[0].round,
            persisted[0].pol_round
        ),
        (h2.id(), 1, 2)
    );
    assert_eq!(checkpointer.metrics().locks_moved, 1);
    assert!(checkpointer.may_prevote(&h2.id()));
    assert!(!checkpointer.may_prevote(&h1.id()));
    // And it does not move back on a proof that is no newer.
    out.clear();
    assert_eq!(
        checkpointer.on_pol(me, pol(&keys, &h1, 2, &[0, 1, 2]), &mut out),
        Err(PolError::Stale { round: 2, held: 2 })
    );
    assert_eq!(checkpointer.lock.map(|l| l.header), Some(h2.id()));
    // The proposer of a round holding that proof re-proposes its header.
    assert_eq!(checkpointer.backed_header(), Some(h2.id()));
}

#[test]
fn forged_and_stale_proofs_of_lock_are_refused_with_typed_errors() {
    let Setup {
        keys,
        mut checkpointer,
        h1: _,
        h2,
    } = setup(|_| None);
    let validators = checkpointer.validators.clone();
    let from = ValidatorIndex(1);
    let mut out = Vec::new();

    // One signature made by another validator's key.
    let mut forged = pol(&keys, &h2, 2, &[0, 1, 2]);
    forged.prevotes[1].1 = h2.sign_prevote(2, &keys[3], [9; 32]).expect("signs");
    assert_eq!(
        forged.verify(&validators),
        Err(PolError::BadSignature {
            validator: 1,
            round: 2
        })
    );
    // Prevotes of round 1 presented as round 2's.
    let mut wrong_round = pol(&keys, &h2, 1, &[0, 1, 2]);
    wrong_round.round = 2;
    assert_eq!(
        checkpointer.on_pol(from, wrong_round, &mut out),
        Err(PolError::BadSignature {
            validator: 0,
            round: 2
        })
    );
    // Precommits are no prevotes.
    let mut precommits = pol(&keys, &h2, 2, &[0, 1, 2]);
    for (i, signature) in precommits.prevotes.iter_mut() {
        *signature = h2
            .sign_precommit(2, &keys[*i as usize], [3; 32])
            .expect("signs");
    }
    assert!(matches!(
        precommits.verify(&validators),
        Err(PolError::BadSignature { validator: 0, .. })
    ));
    // Two of four equal stakes.
    assert_eq!(
        checkpointer.on_pol(from, pol(&keys, &h2, 2, &[1, 2]), &mut out),
        Err(PolError::BelowQuorum {
            signed: 200,
            total: 400
        })
    );
    // One validator counted twice to reach the quorum.
    assert_eq!(
        pol(&keys, &h2, 2, &[1, 2, 2]).verify(&validators),
        Err(PolError::DuplicateValidator { validator: 2 })
    );
    assert_eq!(
        pol(&keys, &h2, 2, &[2, 1, 3]).verify(&validators),
        Err(PolError::Unordered)
    );
    let mut unknown = pol(&keys, &h2, 2, &[0, 1, 2]);
    unknown.prevotes.push((9, unknown.prevotes[0].1.clone()));
    assert_eq!(
        unknown.verify(&validators),
        Err(PolError::UnknownValidator { validator: 9 })
    );
    // A round nobody reached.
    assert_eq!(
        checkpointer.on_pol(from, pol(&keys, &h2, 7, &[0, 1, 2]), &mut out),
        Err(PolError::FutureRound {
            round: 7,
            current: 2
        })
    );
    // A header for another number.
    let mut later = h2.clone();
    later.number = 2;
    assert_eq!(
        checkpointer.on_pol(from, pol(&keys, &later, 2, &[0, 1, 2]), &mut out),
        Err(PolError::NotCurrent { expected: 1 })
    );
    // A decode failure is typed too.
    assert!(matches!(
        ProofOfLock::from_parts(2, &[1, 2, 3], Vec::new(), &[]),
        Err(PolError::Decode(_))
    ));
    // None of that was held; the genuine proof is.
    assert!(checkpointer.round.valid.is_none());
    checkpointer
        .on_pol(from, pol(&keys, &h2, 2, &[0, 1, 2]), &mut out)
        .expect("a genuine proof of lock");
    assert_eq!(
        checkpointer
            .round
            .valid
            .as_ref()
            .map(ProofOfLock::header_id),
        Some(h2.id())
    );
}

#[test]
fn precommits_of_different_rounds_never_make_a_certificate() {
    let Setup {
        keys,
        mut checkpointer,
        h1,
        h2: _,
    } = setup(|_| None);
    let precommit = |from: u16, round: u32| Message::CheckpointVote {
        round,
        header: h1.encode().into(),
        anchor: Vec::new(),
        signature: h1
            .sign_precommit(round, &keys[from as usize], [from as u8; 32])
            .expect("signs")
            .as_bytes()
            .to_vec()
            .into(),
    };
    let mut out = Vec::new();
    let mut deliver = |c: &mut Checkpointer, from: u16, message: Message| {
        c.handle(
            CheckpointInput::Peer {
                from: ValidatorIndex(from),
                message,
            },
            &mut out,
        );
    };
    // Three of four stakes precommit, but in rounds 1, 1 and 2.
    deliver(&mut checkpointer, 1, precommit(1, 1));
    deliver(&mut checkpointer, 2, precommit(2, 1));
    deliver(&mut checkpointer, 3, precommit(3, 2));
    assert!(
        checkpointer.latest().is_none(),
        "no quorum in any one round"
    );
    // A precommit whose signature is for another round than it names.
    let mut mislabeled = precommit(3, 2);
    if let Message::CheckpointVote { round, .. } = &mut mislabeled {
        *round = 1;
    }
    let invalid = checkpointer.metrics().invalid_messages;
    deliver(&mut checkpointer, 3, mislabeled);
    assert_eq!(checkpointer.metrics().invalid_messages, invalid + 1);
    assert!(checkpointer.latest().is_none());
    // A certificate assembled from those mixed rounds does not verify.
    let sign = |i: usize, round: u32| {
        h1.sign_precommit(round, &keys[i], [i as u8; 32])
            .expect("signs")
    };
    let mixed = Certificate {
        header: h1.clone(),
        round: 1,
        validator_count: VALIDATORS as u16,
        signers: vec![1, 2, 3],
        signatures: vec![sign(1, 1), sign(2, 1), sign(3, 2)],
    };
    assert_eq!(
        mixed.verify(&checkpointer.validators),
        Err(ruv_protocol::checkpoint::CheckpointError::BadSignature { signer: 3 })
    );
    // Validator 3's precommit in round 1 completes round 1's quorum.
    deliver(&mut checkpointer, 3, precommit(3, 1));
    let certified = checkpointer.latest().expect("certified");
    assert_eq!(certified.certificate.round, 1);
    assert_eq!(certified.certificate.header, h1);
    certified
        .certificate
        .verify(&checkpointer.validators)
        .expect("a one-round certificate verifies");
}

/// Certifies heartbeats (empty anchors) 1..=`total` at `checkpointer`,
/// signed by validators 1-3 and adopted in order from validator 1.
fn certify_heartbeats(checkpointer: &mut Checkpointer, keys: &[Arc<SigningKey>], total: u64) {
    certify(checkpointer, keys, &vec![Vec::new(); total as usize]);
}

/// Certifies the next checkpoints at `checkpointer`, one per anchor (of
/// vertices it accepted), signed by validators 1-3 and adopted in order
/// from validator 1.
fn certify(checkpointer: &mut Checkpointer, keys: &[Arc<SigningKey>], anchors: &[Vec<VertexId>]) {
    let mut out = Vec::new();
    for anchor in anchors {
        let number = checkpointer.next_number();
        let header = checkpointer
            .derive_header(anchor, 1_000 * number)
            .expect("derives");
        let signers = vec![1u16, 2, 3];
        let signatures = signers
            .iter()
            .map(|i| {
                header
                    .sign_precommit(0, &keys[*i as usize], [*i as u8; 32])
                    .expect("signs")
            })
            .collect();
        let stored = StoredCheckpoint {
            certificate: Certificate {
                header,
                round: 0,
                validator_count: VALIDATORS as u16,
                signers,
                signatures,
            },
            anchor: anchor.clone(),
        };
        checkpointer.handle(
            CheckpointInput::Peer {
                from: ValidatorIndex(1),
                message: stored.to_message(),
            },
            &mut out,
        );
        assert_eq!(checkpointer.next_number(), number + 1, "adopted {number}");
    }
}

#[test]
fn only_the_latest_certificates_stay_in_memory_older_ones_are_sent_from_the_store() {
    let keys = keys();
    let mut checkpointer = Checkpointer::new(config(&keys)).expect("checkpointer");
    let total = CERTIFIED_IN_MEMORY as u64 + 6;
    certify_heartbeats(&mut checkpointer, &keys, total);
    // The next input trims what the last one adopted.
    checkpointer.handle(
        CheckpointInput::Tick {
            now_ms: 0,
            unix_ms: 0,
        },
        &mut Vec::new(),
    );
    assert_eq!(
        checkpointer.latest().map(|c| c.certificate.header.number),
        Some(total)
    );
    let oldest_kept = total - CERTIFIED_IN_MEMORY as u64 + 1;
    assert!(checkpointer.certified(oldest_kept - 1).is_none());
    assert!(checkpointer.certified(oldest_kept).is_some());

    // A lagging peer asks for checkpoints: recent ones from memory, older
    // ones named for the driver to read from its store, unknown ones not at all.
    let ask = |checkpointer: &mut Checkpointer, number: u64| {
        let mut out = Vec::new();
        checkpointer.handle(
            CheckpointInput::Peer {
                from: ValidatorIndex(2),
                message: Message::GetCheckpoint { number },
            },
            &mut out,
        );
        out
    };
    let recent = ask(&mut checkpointer, total - 1);
    assert!(matches!(
        recent.as_slice(),
        [CheckpointOutput::Send {
            to: ValidatorIndex(2),
            message: Message::CheckpointCertified { .. }
        }]
    ));
    assert_eq!(
        ask(&mut checkpointer, 2),
        vec![CheckpointOutput::SendStored {
            to: ValidatorIndex(2),
            number: 2
        }]
    );
    assert!(ask(&mut checkpointer, total + 1).is_empty());
    assert!(ask(&mut checkpointer, 0).is_empty());
}

/// Hands `to` certified checkpoint `number` as `holder` has it, sent by
/// validator `from`.
fn pass_certificate(
    holder: &Checkpointer,
    to: &mut Checkpointer,
    from: ValidatorIndex,
    number: u64,
    out: &mut Vec<CheckpointOutput>,
) {
    let message = holder.certified(number).expect("certified").to_message();
    to.handle(CheckpointInput::Peer { from, message }, out);
}

/// The GetCheckpoint requests in `out`, as (recipient, number).
fn requests(out: &[CheckpointOutput]) -> Vec<(u16, u64)> {
    out.iter()
        .filter_map(|o| match o {
            CheckpointOutput::Send {
                to,
                message: Message::GetCheckpoint { number },
            } => Some((to.0, *number)),
            _ => None,
        })
        .collect()
}

/// A relay back from an outage hears of one later certified number (a
/// certificate, or a vote for the number after it) and catches up from
/// that one peer's answers alone: each adoption asks for the next number,
/// with no further round of the network needed, and asking stops once it
/// is caught up.
#[test]
fn a_relay_behind_catches_up_request_by_request_from_one_hint() {
    const TOTAL: u64 = 10;
    let keys = keys();
    let mut ahead = Checkpointer::new(config(&keys)).expect("checkpointer");
    certify_heartbeats(&mut ahead, &keys, TOTAL);
    let next_header = ahead
        .derive_header(&[], 1_000 * (TOTAL + 1))
        .expect("derives");
    let prevote = Message::CheckpointPrevote {
        round: 0,
        header: next_header.encode().into(),
        anchor: Vec::new(),
        signature: next_header
            .sign_prevote(0, &keys[2], [2; 32])
            .expect("signs")
            .as_bytes()
            .as_slice()
            .into(),
    };
    let hints = [
        (
            ValidatorIndex(1),
            ahead.latest().expect("certified").to_message(),
        ),
        (ValidatorIndex(2), prevote),
    ];
    for (peer, hint) in hints {
        let mut behind = Checkpointer::new(config(&keys)).expect("checkpointer");
        let mut out = Vec::new();
        behind.handle(
            CheckpointInput::Peer {
                from: peer,
                message: hint,
            },
            &mut out,
        );
        let mut asked = Vec::new();
        while let [(to, number)] = requests(&out)[..] {
            assert_eq!(to, peer.0, "asks the peer that showed the later number");
            asked.push(number);
            out.clear();
            pass_certificate(&ahead, &mut behind, peer, number, &mut out);
        }
        assert_eq!(requests(&out), Vec::new());
        let caught_up = behind.latest().map(|c| c.certificate.header.number);
        assert_eq!(caught_up, Some(TOTAL), "hint from validator {}", peer.0);
        // The certificate hint was kept ahead: it is never asked for.
        let expected_last = if peer.0 == 1 { TOTAL - 1 } else { TOTAL };
        assert_eq!(asked, (1..=expected_last).collect::<Vec<_>>());
    }
}

/// Certificates adopted by one input stay readable until the next input,
/// however many there were: the driver reads each one its `Certified`
/// outputs name. Then only `keep_certified` remain.
#[test]
fn certificates_adopted_at_once_are_all_readable_until_the_next_input() {
    const TOTAL: u64 = 6;
    let keys = keys();
    let mut ahead = Checkpointer::new(config(&keys)).expect("checkpointer");
    certify_heartbeats(&mut ahead, &keys, TOTAL);
    let mut behind = Checkpointer::new(CheckpointConfig {
        keep_certified: 2,
        ..config(&keys)
    })
    .expect("checkpointer");
    let feed = |behind: &mut Checkpointer, number: u64| {
        let mut out = Vec::new();
        pass_certificate(&ahead, behind, ValidatorIndex(1), number, &mut out);
        out
    };
    for number in (2..=TOTAL).rev() {
        feed(&mut behind, number);
    }
    assert!(behind.latest().is_none(), "nothing adopted out of order");
    let out = feed(&mut behind, 1);
    let adopted: Vec<u64> = out
        .iter()
        .filter_map(|o| match o {
            CheckpointOutput::Certified { number, .. } => Some(*number),
            _ => None,
        })
        .collect();
    assert_eq!(adopted, (1..=TOTAL).collect::<Vec<_>>());
    for number in 1..=TOTAL {
        assert!(behind.certified(number).is_some(), "checkpoint {number}");
    }
    let mut out = Vec::new();
    behind.handle(
        CheckpointInput::Tick {
            now_ms: 0,
            unix_ms: 0,
        },
        &mut out,
    );
    let kept: Vec<u64> = (1..=TOTAL)
        .filter(|n| behind.certified(*n).is_some())
        .collect();
    assert_eq!(kept, vec![TOTAL - 1, TOTAL]);
}

/// The genesis account's key (see [`genesis`]).
fn user() -> SigningKey {
    SigningKey::from_seed(&[70; 32])
}

/// A vertex of validator 1 at height `height` on `parents` carrying one
/// transfer from the genesis account to `to`.
fn paying_vertex(to: Address, nonce: u64, height: u64, parents: Vec<VertexId>) -> Arc<Vertex> {
    let genesis = genesis(&keys());
    let user = user();
    let mut transfer = ruv_protocol::Transfer {
        chain_id: genesis.chain_id.clone(),
        from: Address::from_public_key(user.public_key()),
        to,
        amount: 1_000,
        fee: 0,
        nonce,
        memo: String::new(),
        public_key: user.public_key().clone(),
    };
    let size = transfer
        .clone()
        .sign(&user, [0; 32])
        .expect("signs")
        .encoded_len();
    transfer.fee = genesis.fees.minimum_fee(size).expect("a fee");
    let tx = Arc::new(transfer.sign(&user, [nonce as u8; 32]).expect("signs"));
    let content = crate::vertex::VertexContent {
        chain_id: genesis.chain_id.clone(),
        issuer: ValidatorIndex(1),
        height,
        parents,
        txs: vec![tx],
    };
    Arc::new(content.sign(&keys()[1], [height as u8; 32]).expect("signs"))
}

/// Two checkpoints adopted by one input each name the accounts they
/// changed, not the latest one's (subscribers to an account changed only
/// in the first would otherwise never be told).
#[test]
fn checkpoints_adopted_at_once_each_name_the_accounts_they_changed() {
    let keys = keys();
    let payer = Address::from_public_key(user().public_key());
    let bob = Address::from_public_key(SigningKey::from_seed(&[71; 32]).public_key());
    let carol = Address::from_public_key(SigningKey::from_seed(&[72; 32]).public_key());
    let first = paying_vertex(bob, 1, 0, Vec::new());
    let second = paying_vertex(carol, 2, 1, vec![first.id()]);
    let mut ahead = Checkpointer::new(config(&keys)).expect("checkpointer");
    let mut behind = Checkpointer::new(config(&keys)).expect("checkpointer");
    for checkpointer in [&mut ahead, &mut behind] {
        for vertex in [&first, &second] {
            checkpointer.handle(
                CheckpointInput::VertexAccepted(vertex.clone()),
                &mut Vec::new(),
            );
        }
    }
    certify(&mut ahead, &keys, &[vec![first.id()], vec![second.id()]]);
    let mut out = Vec::new();
    for number in [2, 1] {
        pass_certificate(&ahead, &mut behind, ValidatorIndex(1), number, &mut out);
    }
    let certified: Vec<(u64, Vec<Address>)> = out
        .iter()
        .filter_map(|o| match o {
            CheckpointOutput::Certified { number, changed } => Some((*number, changed.clone())),
            _ => None,
        })
        .collect();
    // Besides payer and payee, fees move validator accounts in both.
    assert_eq!(certified.len(), 2);
    let names = |i: usize, account: &Address| certified[i].1.contains(account);
    assert_eq!(certified[0].0, 1);
    assert!(names(0, &payer) && names(0, &bob) && !names(0, &carol));
    assert_eq!(certified[1].0, 2);
    assert!(names(1, &payer) && names(1, &carol) && !names(1, &bob));
}

/// Inclusion proofs in checkpoints whose transaction trees left memory come
/// from a tree rebuilt from the checkpoint's ids, and verify as a wallet
/// verifies them (the oldest twice: the rebuilt tree is reused).
#[test]
fn proofs_in_checkpoints_whose_trees_left_memory_still_verify() {
    use ruv_protocol::light::{verify_checkpoint, verify_transaction_proof, TrustAnchor};
    let keys = keys();
    let anchor = TrustAnchor::from_genesis(genesis(&keys)).expect("anchor");
    let mut checkpointer = Checkpointer::new(config(&keys)).expect("checkpointer");
    let total = state::TX_TREES_IN_MEMORY as u64 + 3;
    let mut vertices: Vec<Arc<Vertex>> = Vec::new();
    for n in 0..total {
        let payee = SigningKey::from_seed(&[100 + n as u8; 32]);
        let parents = vertices.last().map(|v| vec![v.id()]).unwrap_or_default();
        let vertex = paying_vertex(
            Address::from_public_key(payee.public_key()),
            n + 1,
            n,
            parents,
        );
        checkpointer.handle(
            CheckpointInput::VertexAccepted(vertex.clone()),
            &mut Vec::new(),
        );
        vertices.push(vertex);
    }
    let anchors: Vec<Vec<VertexId>> = vertices.iter().map(|v| vec![v.id()]).collect();
    certify(&mut checkpointer, &keys, &anchors);
    for (n, vertex) in vertices.iter().enumerate().chain([(0, &vertices[0])]) {
        let id = vertex.tx_ids()[0];
        let proof = checkpointer.prove_transaction(&id).expect("a proof");
        assert_eq!(proof.checkpoint, n as u64 + 1);
        let certificate = checkpointer
            .certified(proof.checkpoint)
            .expect("certified")
            .certificate
            .to_json();
        let checkpoint = verify_checkpoint(&anchor, &certificate).expect("verifies");
        let included = verify_transaction_proof(&checkpoint, &proof).expect("proven");
        assert_eq!((included.id, included.nonce), (id, n as u64 + 1));
    }
}
