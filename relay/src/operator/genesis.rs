//! `ruv-relay genesis`: builds a network's genesis from the validators'
//! public keys only (no secret ever leaves an operator's machine), checks
//! every input with a typed error, binds the chain id to the result
//! ([`crate::chain_id`]) and reports the hash operators compare out of band.
//!
//! Validators are sorted by name and balances by address, so the same inputs
//! in any order give a byte-identical file: each operator can build the
//! genesis on their own machine and compare hashes.

use crate::chain_id::{self, ChainIdError};
use crate::keys::{self, KeyFileError};
use ruv_protocol::crypto::{PublicKey, SEED_LEN};
use ruv_protocol::genesis::{FeeSchedule, GenesisBalance, ValidatorEntry};
use ruv_protocol::{Address, Genesis, GenesisError};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Stake of a validator given without `:STAKE`.
pub const DEFAULT_STAKE: u64 = 100;
/// A `--validator` key argument up to this length is quoted in errors.
const MAX_SHOWN_ARGUMENT: usize = 200;
/// The longest validator name (names show in logs and dashboards).
pub const MAX_VALIDATOR_NAME_LEN: usize = 64;
/// Fee schedule when `--fees` leaves a part out: a plain transfer of about
/// 5.3 KB pays about 0.0063 rUv, half of it burned.
pub const DEFAULT_FEES: FeeSchedule = FeeSchedule {
    base: 1000,
    per_byte: 1,
    burn_percent: 50,
};

/// Arguments of `ruv-relay genesis`.
#[derive(Debug, Clone, clap::Args)]
pub struct GenesisArgs {
    /// Network name, 1 to 11 characters of [a-z0-9-]; the chain id becomes
    /// NAME-BINDING, bound to this genesis (see docs/relay.md).
    #[arg(long)]
    pub chain_id: String,
    /// A validator: NAME=PUBKEY[:STAKE], PUBKEY being a public key file
    /// written by `keygen` or the base64url key itself; STAKE defaults to 100.
    /// Repeat for each validator.
    #[arg(
        long = "validator",
        value_name = "NAME=PUBKEY[:STAKE]",
        required = true
    )]
    pub validators: Vec<String>,
    /// An initial balance: ADDRESS=AMOUNT, AMOUNT in micro-rUv (1 rUv =
    /// 1000000). Repeat for each account.
    #[arg(long = "balance", value_name = "ADDRESS=AMOUNT")]
    pub balances: Vec<String>,
    /// Fee schedule, any of base=MICRO_RUV,per-byte=MICRO_RUV,burn-percent=0..100
    /// (defaults: base=1000,per-byte=1,burn-percent=50).
    #[arg(long, value_name = "KEY=VALUE,...")]
    pub fees: Option<String>,
    /// Where to write the genesis (never overwritten).
    #[arg(long)]
    pub out: PathBuf,
}

/// Why a genesis could not be built.
#[derive(Debug, thiserror::Error)]
pub enum GenesisBuildError {
    /// A `--validator` is not `NAME=PUBKEY[:STAKE]`.
    #[error("--validator {0:?}: expected NAME=PUBKEY[:STAKE]")]
    ValidatorSyntax(String),
    /// A validator name is empty, too long or uses other characters.
    #[error(
        "validator name {0:?} must be 1 to {MAX_VALIDATOR_NAME_LEN} characters of [A-Za-z0-9._-]"
    )]
    ValidatorName(String),
    /// Two validators share a name.
    #[error("validator name {0:?} appears twice")]
    DuplicateName(String),
    /// Two validators share a key.
    #[error("validators {0:?} and {1:?} have the same public key")]
    DuplicateKey(String, String),
    /// A stake is zero or not a number.
    #[error("validator {name:?}: stake {stake:?} must be a positive integer")]
    Stake {
        /// The validator.
        name: String,
        /// What was given.
        stake: String,
    },
    /// A public key file or value is unusable.
    #[error("validator {name:?}: {source}")]
    PublicKey {
        /// The validator.
        name: String,
        /// Why.
        source: KeyFileError,
    },
    /// A secret seed file was given where a public key belongs.
    #[error(
        "validator {name:?}: {path} holds a secret seed; pass its public key file (the .pub that keygen wrote) instead, and never send a seed file to anyone"
    )]
    SecretKeyGiven {
        /// The validator.
        name: String,
        /// The file.
        path: String,
    },
    /// A `--balance` is not `ADDRESS=AMOUNT`.
    #[error("--balance {0:?}: expected ADDRESS=AMOUNT")]
    BalanceSyntax(String),
    /// An address does not parse.
    #[error("--balance: {address:?} is not an rUv address: {reason}")]
    Address {
        /// What was given.
        address: String,
        /// Why.
        reason: String,
    },
    /// An amount is zero or not a number.
    #[error("--balance {address}: amount {amount:?} must be a positive integer of micro-rUv")]
    Amount {
        /// The account.
        address: String,
        /// What was given.
        amount: String,
    },
    /// The same address is funded twice.
    #[error("address {0} is given two balances")]
    DuplicateBalance(String),
    /// The balances add up to more than 2^64 - 1 micro-rUv.
    #[error("the balances add up to more than {} micro-rUv", u64::MAX)]
    SupplyOverflow,
    /// `--fees` is malformed.
    #[error("--fees {0:?}: expected base=N,per-byte=N,burn-percent=0..100")]
    Fees(String),
    /// The network name cannot be bound.
    #[error(transparent)]
    ChainId(#[from] ChainIdError),
    /// The genesis breaks a rule of the protocol.
    #[error("the genesis is invalid: {0}")]
    Invalid(#[from] GenesisError),
    /// The output file exists.
    #[error("{0} already exists; a genesis is never overwritten (move it away first)")]
    Exists(String),
    /// Writing the output failed.
    #[error("writing {path}: {source}")]
    Write {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
}

/// Builds and validates the genesis described by `args` (writes nothing).
pub fn build(args: &GenesisArgs) -> Result<Genesis, GenesisBuildError> {
    let mut validators = args
        .validators
        .iter()
        .map(|text| parse_validator(text))
        .collect::<Result<Vec<_>, _>>()?;
    validators.sort_by(|a, b| a.name.cmp(&b.name));
    for pair in validators.windows(2) {
        if pair[0].name == pair[1].name {
            return Err(GenesisBuildError::DuplicateName(pair[0].name.clone()));
        }
    }
    for (i, a) in validators.iter().enumerate() {
        if let Some(b) = validators[i + 1..]
            .iter()
            .find(|b| b.public_key == a.public_key)
        {
            return Err(GenesisBuildError::DuplicateKey(
                a.name.clone(),
                b.name.clone(),
            ));
        }
    }
    let mut balances = args
        .balances
        .iter()
        .map(|text| parse_balance(text))
        .collect::<Result<Vec<_>, _>>()?;
    balances.sort_by_key(|b| b.address);
    let mut seen = BTreeSet::new();
    let mut supply: u64 = 0;
    for balance in &balances {
        if !seen.insert(balance.address) {
            return Err(GenesisBuildError::DuplicateBalance(
                balance.address.to_string(),
            ));
        }
        supply = supply
            .checked_add(balance.amount)
            .ok_or(GenesisBuildError::SupplyOverflow)?;
    }
    let fees = match &args.fees {
        Some(text) => parse_fees(text)?,
        None => DEFAULT_FEES,
    };
    let mut genesis = Genesis {
        chain_id: String::new(),
        balances,
        fees,
        validators,
        consensus: None,
    };
    chain_id::bind(&mut genesis, &args.chain_id)?;
    genesis.validate()?;
    Ok(genesis)
}

/// Writes `genesis` as pretty JSON to a new file `out`.
pub fn write(genesis: &Genesis, out: &Path) -> Result<(), GenesisBuildError> {
    let shown = || out.display().to_string();
    let text = serde_json::to_string_pretty(genesis).map_err(|e| GenesisBuildError::Write {
        path: shown(),
        source: std::io::Error::other(e),
    })? + "\n";
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(out)
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::AlreadyExists => GenesisBuildError::Exists(shown()),
            _ => GenesisBuildError::Write {
                path: shown(),
                source: e,
            },
        })?;
    std::io::Write::write_all(&mut file, text.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|source| GenesisBuildError::Write {
            path: shown(),
            source,
        })
}

fn parse_validator(text: &str) -> Result<ValidatorEntry, GenesisBuildError> {
    let (name, rest) = text
        .split_once('=')
        .ok_or_else(|| GenesisBuildError::ValidatorSyntax(text.to_owned()))?;
    let valid_name = !name.is_empty()
        && name.len() <= MAX_VALIDATOR_NAME_LEN
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if !valid_name {
        return Err(GenesisBuildError::ValidatorName(name.to_owned()));
    }
    // base64url has no ':', so a trailing `:digits` is the stake.
    let (key, stake) = match rest.rsplit_once(':') {
        Some((key, stake)) if !stake.is_empty() && stake.bytes().all(|b| b.is_ascii_digit()) => {
            let value = stake
                .parse::<u64>()
                .ok()
                .filter(|s| *s > 0)
                .ok_or_else(|| GenesisBuildError::Stake {
                    name: name.to_owned(),
                    stake: stake.to_owned(),
                })?;
            (key, value)
        }
        _ => (rest, DEFAULT_STAKE),
    };
    if key.is_empty() {
        return Err(GenesisBuildError::ValidatorSyntax(text.to_owned()));
    }
    let public_key = read_public_key(name, key)?;
    Ok(ValidatorEntry {
        name: name.to_owned(),
        public_key: public_key.as_bytes().to_vec(),
        stake,
    })
}

/// A public key from a file (as `keygen` writes it) or given inline.
fn read_public_key(name: &str, key: &str) -> Result<PublicKey, GenesisBuildError> {
    let path = Path::new(key);
    if !path.is_file() {
        // Name a mistyped path in the error, not a 2,600-character key.
        let shown = if key.len() <= MAX_SHOWN_ARGUMENT {
            format!("{key:?} (no such file)")
        } else {
            "the key given".to_owned()
        };
        return keys::decode_public(key, &shown).map_err(|source| GenesisBuildError::PublicKey {
            name: name.to_owned(),
            source,
        });
    }
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| GenesisBuildError::PublicKey {
        name: name.to_owned(),
        source: KeyFileError::Io {
            path: shown.clone(),
            source,
        },
    })?;
    let trimmed = text.trim();
    if trimmed.len() == SEED_LEN * 2 && trimmed.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(GenesisBuildError::SecretKeyGiven {
            name: name.to_owned(),
            path: shown,
        });
    }
    keys::decode_public(trimmed, &shown).map_err(|source| GenesisBuildError::PublicKey {
        name: name.to_owned(),
        source,
    })
}

fn parse_balance(text: &str) -> Result<GenesisBalance, GenesisBuildError> {
    let (address, amount) = text
        .split_once('=')
        .ok_or_else(|| GenesisBuildError::BalanceSyntax(text.to_owned()))?;
    let parsed: Address =
        address
            .parse()
            .map_err(|e: ruv_protocol::AddressError| GenesisBuildError::Address {
                address: address.to_owned(),
                reason: e.to_string(),
            })?;
    let value = amount
        .parse::<u64>()
        .ok()
        .filter(|a| *a > 0)
        .ok_or_else(|| GenesisBuildError::Amount {
            address: address.to_owned(),
            amount: amount.to_owned(),
        })?;
    Ok(GenesisBalance {
        address: parsed,
        amount: value,
    })
}

fn parse_fees(text: &str) -> Result<FeeSchedule, GenesisBuildError> {
    let bad = || GenesisBuildError::Fees(text.to_owned());
    let mut fees = DEFAULT_FEES;
    for part in text.split(',') {
        let (key, value) = part.split_once('=').ok_or_else(bad)?;
        match key.trim() {
            "base" => fees.base = value.trim().parse().map_err(|_| bad())?,
            "per-byte" => fees.per_byte = value.trim().parse().map_err(|_| bad())?,
            "burn-percent" => {
                fees.burn_percent = value
                    .trim()
                    .parse()
                    .ok()
                    .filter(|p| *p <= 100)
                    .ok_or_else(bad)?
            }
            _ => return Err(bad()),
        }
    }
    Ok(fees)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ruv_protocol::crypto::SigningKey;

    fn key_text(seed: u8) -> String {
        keys::encode_public(SigningKey::from_seed(&[seed; 32]).public_key())
    }

    fn address(seed: u8) -> Address {
        Address::from_public_key(SigningKey::from_seed(&[seed; 32]).public_key())
    }

    /// Whether an error is the one a case expects.
    type IsExpected = fn(&GenesisBuildError) -> bool;

    fn args(validators: Vec<String>, balances: Vec<String>) -> GenesisArgs {
        GenesisArgs {
            chain_id: "ruv-test".into(),
            validators,
            balances,
            fees: None,
            out: PathBuf::from("unused"),
        }
    }

    #[test]
    fn builds_a_bound_valid_genesis_independent_of_argument_order() {
        let validators = vec![format!("b={}:7", key_text(2)), format!("a={}", key_text(1))];
        let balances = vec![format!("{}=5", address(9)), format!("{}=6", address(8))];
        let g = build(&args(validators.clone(), balances.clone())).unwrap();
        assert_eq!(g.validators[0].name, "a");
        assert_eq!(g.validators[0].stake, DEFAULT_STAKE);
        assert_eq!(g.validators[1].stake, 7);
        assert_eq!(g.total_supply().unwrap(), 11);
        chain_id::check(&g).unwrap();
        let reversed = build(&args(
            validators.into_iter().rev().collect(),
            balances.into_iter().rev().collect(),
        ))
        .unwrap();
        assert_eq!(reversed.hash(), g.hash());
    }

    #[test]
    fn bad_inputs_get_their_typed_error() {
        let ok_v = || format!("a={}", key_text(1));
        let cases: Vec<(Vec<String>, Vec<String>, IsExpected)> = vec![
            (vec!["a".into()], vec![], |e| {
                matches!(e, GenesisBuildError::ValidatorSyntax(_))
            }),
            (vec![format!("a b={}", key_text(1))], vec![], |e| {
                matches!(e, GenesisBuildError::ValidatorName(_))
            }),
            (vec![ok_v(), format!("a={}", key_text(2))], vec![], |e| {
                matches!(e, GenesisBuildError::DuplicateName(_))
            }),
            (vec![ok_v(), format!("b={}", key_text(1))], vec![], |e| {
                matches!(e, GenesisBuildError::DuplicateKey(..))
            }),
            (vec![format!("a={}:0", key_text(1))], vec![], |e| {
                matches!(e, GenesisBuildError::Stake { .. })
            }),
            (vec!["a=AAAA".into()], vec![], |e| {
                matches!(e, GenesisBuildError::PublicKey { .. })
            }),
            (vec![ok_v()], vec!["ruv1nope=5".into()], |e| {
                matches!(e, GenesisBuildError::Address { .. })
            }),
            (vec![ok_v()], vec![format!("{}=0", address(1))], |e| {
                matches!(e, GenesisBuildError::Amount { .. })
            }),
            (
                vec![ok_v()],
                vec![format!("{}=1", address(1)), format!("{}=2", address(1))],
                |e| matches!(e, GenesisBuildError::DuplicateBalance(_)),
            ),
            (
                vec![ok_v()],
                vec![
                    format!("{}={}", address(1), u64::MAX),
                    format!("{}=1", address(2)),
                ],
                |e| matches!(e, GenesisBuildError::SupplyOverflow),
            ),
        ];
        for (validators, balances, expected) in cases {
            let err = build(&args(validators.clone(), balances.clone())).unwrap_err();
            assert!(expected(&err), "{validators:?} {balances:?}: {err}");
        }
        let mut bad_name = args(vec![ok_v()], vec![]);
        bad_name.chain_id = "Upper".into();
        assert!(matches!(
            build(&bad_name),
            Err(GenesisBuildError::ChainId(_))
        ));
    }

    #[test]
    fn fees_parse_with_defaults_and_limits() {
        assert_eq!(
            parse_fees("base=5, burn-percent=100").unwrap(),
            FeeSchedule {
                base: 5,
                per_byte: DEFAULT_FEES.per_byte,
                burn_percent: 100
            }
        );
        for bad in ["burn-percent=101", "base=-1", "tip=3", "base", ""] {
            assert!(parse_fees(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_seed_file_is_refused_as_a_public_key() {
        let dir = tempfile::tempdir().unwrap();
        let seed = dir.path().join("v.key");
        keys::save(&seed, &[3; 32]).unwrap();
        let err = build(&args(vec![format!("a={}", seed.display())], Vec::new())).unwrap_err();
        assert!(
            matches!(err, GenesisBuildError::SecretKeyGiven { .. }),
            "{err}"
        );
        let public = dir.path().join("v.pub");
        keys::save_public(&public, SigningKey::from_seed(&[3; 32]).public_key()).unwrap();
        build(&args(vec![format!("a={}:5", public.display())], Vec::new())).unwrap();
    }
}
