//! Light-client vectors (`vectors/light.json`), natively: the file is exactly
//! what `vectors/light_build.rs` makes from fixed seeds, everything in it
//! verifies and every single-field change is rejected (`vectors/light_check.rs`,
//! which the wasm tests run too), and the binary decoders are total.
//!
//! After a deliberate change to the encoding or to the builder, rewrite the
//! file and commit it:
//!
//! ```text
//! RUV_BLESS=1 cargo test -p ruv-protocol --test light
//! ```
//!
//! (The checks in the same run still read the old file, which is compiled
//! in; run the tests again afterwards.)

#[path = "vectors/light_build.rs"]
mod light_build;
#[path = "vectors/light_check.rs"]
mod light_check;

use proptest::prelude::*;
use ruv_protocol::checkpoint::{Certificate, CheckpointHeader};
use ruv_protocol::light::verify_checkpoint;
use ruv_protocol::smt::SmtProof;

const FIXTURE: &str = include_str!("vectors/light.json");

fn fixture_path() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/light.json")
}

#[test]
fn the_fixture_is_what_the_builder_makes() {
    let built = light_build::build().to_json();
    let path = fixture_path();
    if std::env::var_os("RUV_BLESS").is_some_and(|v| v == "1") {
        std::fs::write(&path, &built).expect("write light.json");
        eprintln!("rewrote {}", path.display());
        return;
    }
    let committed = std::fs::read_to_string(&path).expect("read light.json");
    assert!(
        committed == built,
        "{} differs from what light_build.rs makes; if the change is intended, \
         rerun with RUV_BLESS=1 and commit the file",
        path.display()
    );
}

#[test]
fn vectors_verify_and_every_single_change_is_rejected() {
    assert_eq!(light_check::check(FIXTURE), light_check::EXPECTED);
}

#[test]
fn certificate_binary_and_json_forms_agree() {
    let vectors = light_check::parse(FIXTURE);
    let certificate = vectors.checkpoint.to_certificate().unwrap();
    let bytes = certificate.encode();
    assert_eq!(Certificate::decode(&bytes).unwrap(), certificate);
    assert_eq!(certificate.to_json(), vectors.checkpoint);
    let header = certificate.header.encode();
    assert_eq!(
        CheckpointHeader::decode(&header).unwrap(),
        certificate.header
    );
    // 2 + header + 4-byte round + 2 + 1-byte bitmap + 3 signatures.
    assert_eq!(bytes.len(), 2 + header.len() + 4 + 2 + 1 + 3 * 3309);
    let json = serde_json::to_string(&vectors.checkpoint).unwrap();
    eprintln!(
        "4 validators, 3 signers: certificate {} bytes binary, {} bytes JSON; header {} bytes",
        bytes.len(),
        json.len(),
        header.len()
    );
}

fn encoded_certificate() -> Vec<u8> {
    light_check::parse(FIXTURE)
        .checkpoint
        .to_certificate()
        .unwrap()
        .encode()
}

proptest! {
    #[test]
    fn decoders_never_panic_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..1200)) {
        let _ = SmtProof::decode(&bytes);
        let _ = Certificate::decode(&bytes);
        let _ = CheckpointHeader::decode(&bytes);
    }

    #[test]
    fn decoders_never_panic_on_damaged_encodings(
        cut in any::<prop::sample::Index>(),
        at in any::<prop::sample::Index>(),
        xor in 1u8..,
    ) {
        let vectors = light_check::parse(FIXTURE);
        let header = vectors.checkpoint.header.encode();
        for good in [
            vectors.account_present.proof.clone(),
            vectors.account_absent.proof.clone(),
            vectors.transaction.proof.clone(),
            header,
        ] {
            let mut bad = good.clone();
            let i = at.index(bad.len());
            bad[i] ^= xor;
            bad.truncate(cut.index(bad.len() + 1));
            let _ = SmtProof::decode(&bad);
            let _ = CheckpointHeader::decode(&bad);
            let _ = Certificate::decode(&bad);
        }
    }

    #[test]
    fn single_byte_changes_of_the_certificate_never_verify(
        at in any::<prop::sample::Index>(),
        xor in 1u8..,
    ) {
        let vectors = light_check::parse(FIXTURE);
        let anchor = light_check::anchor(&vectors);
        let good = encoded_certificate();
        let mut bad = good.clone();
        let i = at.index(bad.len());
        bad[i] ^= xor;
        if let Ok(certificate) = Certificate::decode(&bad) {
            // One encoding per certificate: a changed byte is a changed certificate.
            prop_assert_ne!(certificate.encode(), good);
            prop_assert!(certificate.verify(anchor.validators()).is_err(), "byte {} ^ {}", i, xor);
            prop_assert!(verify_checkpoint(&anchor, &certificate.to_json()).is_err());
        }
    }
}

#[test]
fn every_header_byte_change_of_the_certificate_is_rejected() {
    // The header part exhaustively (the proptest samples the signatures).
    let vectors = light_check::parse(FIXTURE);
    let anchor = light_check::anchor(&vectors);
    let good = encoded_certificate();
    let header_end = 2 + vectors.checkpoint.header.encode().len() + 2 + 1;
    for i in 0..header_end {
        for xor in [0x01, 0x80, 0xff] {
            let mut bad = good.clone();
            bad[i] ^= xor;
            if let Ok(certificate) = Certificate::decode(&bad) {
                assert!(
                    verify_checkpoint(&anchor, &certificate.to_json()).is_err(),
                    "byte {i} ^ {xor:#x}"
                );
            }
        }
    }
}

#[test]
fn a_genesis_no_certificate_can_serve_is_an_anchor_error() {
    // 257 validators: valid as a genesis, but a certificate's bitmap names
    // at most 256, so it cannot be a light client's trust anchor.
    let mut genesis = light_build::genesis();
    genesis.validators = (0..=256u16)
        .map(|i| {
            let mut seed = [0u8; 32];
            seed[..2].copy_from_slice(&i.to_le_bytes());
            ruv_protocol::genesis::ValidatorEntry {
                name: format!("v{i}"),
                public_key: ruv_protocol::crypto::SigningKey::from_seed(&seed)
                    .public_key()
                    .as_bytes()
                    .to_vec(),
                stake: 1,
            }
        })
        .collect();
    genesis.validate().unwrap();
    let error = ruv_protocol::light::TrustAnchor::from_genesis(genesis).unwrap_err();
    assert!(
        matches!(error, ruv_protocol::light::VerifyError::Anchor(_)),
        "{error:?}"
    );
    assert!(error.to_string().starts_with("trust anchor: "), "{error}");
}
