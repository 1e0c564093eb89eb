//! NIST ACVP and Wycheproof ML-DSA-65 vectors, natively.
#[path = "vectors/check.rs"]
mod check;

#[test]
fn acvp_keygen() {
    assert_eq!(check::keygen(), 31);
}

#[test]
fn acvp_sigver() {
    assert_eq!(check::sigver(), 15);
}

#[test]
fn wycheproof_sign_seed() {
    let (run, skipped_internal) = check::wycheproof_sign();
    assert_eq!((run, skipped_internal), (88, 17));
}

#[test]
fn wycheproof_verify() {
    assert_eq!(check::wycheproof_verify(), 210);
}
