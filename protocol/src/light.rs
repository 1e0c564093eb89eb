//! The light-client verifier: what a wallet checks before it shows anything
//! a relay said as true. Pure functions, the same natively (CLI, relays,
//! tests) and in WebAssembly (the npm package).
//!
//! # Usage
//!
//! ```text
//! let anchor = TrustAnchor::from_genesis_json(genesis_text)?;     // from the wallet's own config
//! let checkpoint = verify_checkpoint(&anchor, &certified)?;       // a relay's latest checkpoint
//! let account = verify_account_proof(&checkpoint, &proof)?;       // balance and nonce, proven
//! let included = verify_transaction_proof(&checkpoint, &proof)?;  // "final", proven
//! ```
//!
//! Trust starts from the genesis file the wallet ships with (its chain id,
//! hash, validator set and supply), never from a relay. A
//! [`VerifiedCheckpoint`] can only be made by [`verify_checkpoint`], so a
//! proof can only be checked against a header that a supermajority signed.
//!
//! What is checked, so that changing any single field of an answer fails:
//! - checkpoint: version, chain id, genesis hash, epoch, validator-set hash,
//!   next-set hash (zero while the set is fixed), `circulating + burned` =
//!   genesis supply, the stated header id, and ML-DSA-65 signatures of
//!   validators holding more than 2/3 of the stake over the header encoding
//!   (which covers every other header field);
//! - account proof: the checkpoint number, and a sparse-Merkle path from
//!   the address to the state root whose leaf is exactly (balance, nonce), or
//!   a proof of absence when both are zero;
//! - transaction proof: the checkpoint number, and a path from the id to the
//!   transaction root whose leaf is exactly (sender, nonce).
//!
//! Out of scope here: freshness (how old a checkpoint may be is the
//! caller's policy: it has the header's time) and choosing among relays.

use crate::checkpoint::{
    account_leaf_value, transaction_leaf_value, CertifiedCheckpoint, CheckpointError,
    CheckpointHeader, Hash32, ValidatorSet, CHECKPOINT_VERSION,
};
use crate::genesis::Genesis;
use crate::ledger::Account;
use crate::serde_bytes::{base64url, u64_string};
use crate::smt::{SmtError, SmtProof, TreeKind};
use crate::{Address, TxId};
use serde::{Deserialize, Serialize};

/// What a wallet trusts before it has talked to any relay: the network's
/// genesis.
#[derive(Debug, Clone)]
pub struct TrustAnchor {
    genesis: Genesis,
    genesis_hash: Hash32,
    validators: ValidatorSet,
    supply: u64,
}

impl TrustAnchor {
    /// From a parsed genesis (validated here).
    pub fn from_genesis(genesis: Genesis) -> Result<Self, VerifyError> {
        genesis
            .validate()
            .map_err(|e| VerifyError::Anchor(e.to_string()))?;
        let supply = genesis
            .total_supply()
            .map_err(|e| VerifyError::Anchor(e.to_string()))?;
        let validators =
            ValidatorSet::from_genesis(&genesis).map_err(|e| VerifyError::Anchor(e.to_string()))?;
        Ok(Self {
            genesis_hash: Hash32(genesis.hash()),
            genesis,
            validators,
            supply,
        })
    }

    /// From the genesis file's text.
    pub fn from_genesis_json(text: &str) -> Result<Self, VerifyError> {
        let genesis = Genesis::from_json(text).map_err(|e| VerifyError::Anchor(e.to_string()))?;
        Self::from_genesis(genesis)
    }

    /// The genesis.
    pub fn genesis(&self) -> &Genesis {
        &self.genesis
    }

    /// [`Genesis::hash`].
    pub fn genesis_hash(&self) -> Hash32 {
        self.genesis_hash
    }

    /// The validator set that signs certificates.
    pub fn validators(&self) -> &ValidatorSet {
        &self.validators
    }

    /// Total supply at genesis (= circulating + burned forever after).
    pub fn supply(&self) -> u64 {
        self.supply
    }
}

/// A checkpoint header a supermajority of the anchor's validators signed.
/// Only [`verify_checkpoint`] makes one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedCheckpoint {
    header: CheckpointHeader,
    id: Hash32,
}

impl VerifiedCheckpoint {
    /// The verified header.
    pub fn header(&self) -> &CheckpointHeader {
        &self.header
    }

    /// Its id.
    pub fn id(&self) -> Hash32 {
        self.id
    }

    /// Its number.
    pub fn number(&self) -> u64 {
        self.header.number
    }
}

/// Checks a certified checkpoint against the trust anchor.
pub fn verify_checkpoint(
    anchor: &TrustAnchor,
    certified: &CertifiedCheckpoint,
) -> Result<VerifiedCheckpoint, VerifyError> {
    let header = &certified.header;
    let fail = |reason: &'static str| Err(VerifyError::Checkpoint(reason.into()));
    if header.version != CHECKPOINT_VERSION {
        return fail("unknown header version");
    }
    if header.chain_id != anchor.genesis.chain_id {
        return fail("the checkpoint is for another chain id");
    }
    if header.genesis_hash != anchor.genesis_hash {
        return fail("the checkpoint is for another genesis");
    }
    if header.epoch != 0 {
        return fail("epochs after 0 are not supported by this network's genesis");
    }
    if header.next_validator_set_hash != Hash32::ZERO {
        return fail("the checkpoint announces a validator set change");
    }
    if header.number == 0 {
        return fail("checkpoint 0 is genesis: it is not certified");
    }
    let total = (header.circulating as u128) + (header.burned as u128);
    if total != anchor.supply as u128 {
        return fail("circulating + burned is not the genesis supply");
    }
    let id = header.id();
    if certified.header_id != id {
        return fail("the stated header id is not the header's");
    }
    let certificate = certified.to_certificate()?;
    certificate.verify(&anchor.validators)?;
    Ok(VerifiedCheckpoint {
        header: header.clone(),
        id,
    })
}

/// What an encoded Merkle proof against one of `checkpoint`'s roots says
/// about `key`: its value, or `None` for proven absence.
fn prove_in(
    checkpoint: &VerifiedCheckpoint,
    claimed_number: u64,
    encoded: &[u8],
    tree: TreeKind,
    key: &[u8; 32],
) -> Result<Option<Vec<u8>>, VerifyError> {
    if claimed_number != checkpoint.number() {
        return Err(VerifyError::Proof(
            "the proof is for another checkpoint".into(),
        ));
    }
    let root = match tree {
        TreeKind::State => &checkpoint.header.state_root,
        TreeKind::Transactions => &checkpoint.header.transaction_root,
    };
    Ok(SmtProof::decode(encoded)?.verify(tree, &root.0, key)?)
}

/// A relay's answer to "what is this account at checkpoint n, and prove it".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountProof {
    /// The account.
    pub address: Address,
    /// Balance, micro-rUv.
    #[serde(with = "u64_string")]
    pub balance: u64,
    /// Last used nonce.
    #[serde(with = "u64_string")]
    pub nonce: u64,
    /// The checkpoint whose state root the proof is against.
    #[serde(with = "u64_string")]
    pub checkpoint: u64,
    /// The encoded [`SmtProof`] (base64url).
    #[serde(with = "base64url")]
    pub proof: Vec<u8>,
}

/// An account state a certified checkpoint proves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct VerifiedAccount {
    /// The account.
    pub address: Address,
    /// Balance, micro-rUv.
    #[serde(with = "u64_string")]
    pub balance: u64,
    /// Last used nonce.
    #[serde(with = "u64_string")]
    pub nonce: u64,
    /// The checkpoint that proves it.
    #[serde(with = "u64_string")]
    pub checkpoint: u64,
}

/// Checks an account proof against a verified checkpoint.
pub fn verify_account_proof(
    checkpoint: &VerifiedCheckpoint,
    proof: &AccountProof,
) -> Result<VerifiedAccount, VerifyError> {
    let found = prove_in(
        checkpoint,
        proof.checkpoint,
        &proof.proof,
        TreeKind::State,
        proof.address.as_bytes(),
    )?;
    let claimed = Account {
        balance: proof.balance,
        nonce: proof.nonce,
    };
    match found {
        Some(value) if value.as_slice() == account_leaf_value(&claimed).as_slice() => {}
        Some(_) => {
            return Err(VerifyError::Proof(
                "the balance or nonce is not the proven one".into(),
            ))
        }
        None if proof.balance == 0 && proof.nonce == 0 => {}
        None => {
            return Err(VerifyError::Proof(
                "the account is proven absent, yet a balance or nonce is claimed".into(),
            ))
        }
    }
    Ok(VerifiedAccount {
        address: proof.address,
        balance: proof.balance,
        nonce: proof.nonce,
        checkpoint: checkpoint.number(),
    })
}

/// A relay's answer to "in which checkpoint was this transaction first
/// included, and prove it".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransactionProof {
    /// The transaction.
    pub id: TxId,
    /// Its sender.
    pub from: Address,
    /// Its nonce.
    #[serde(with = "u64_string")]
    pub nonce: u64,
    /// The checkpoint whose transaction root includes it.
    #[serde(with = "u64_string")]
    pub checkpoint: u64,
    /// The encoded [`SmtProof`] (base64url).
    #[serde(with = "base64url")]
    pub proof: Vec<u8>,
}

/// A transaction a certified checkpoint proves final.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct VerifiedInclusion {
    /// The transaction.
    pub id: TxId,
    /// Its sender.
    pub from: Address,
    /// Its nonce.
    #[serde(with = "u64_string")]
    pub nonce: u64,
    /// The checkpoint that includes it.
    #[serde(with = "u64_string")]
    pub checkpoint: u64,
}

/// Checks a transaction inclusion proof against a verified checkpoint.
pub fn verify_transaction_proof(
    checkpoint: &VerifiedCheckpoint,
    proof: &TransactionProof,
) -> Result<VerifiedInclusion, VerifyError> {
    let found = prove_in(
        checkpoint,
        proof.checkpoint,
        &proof.proof,
        TreeKind::Transactions,
        &proof.id.0,
    )?;
    match found {
        Some(value)
            if value.as_slice() == transaction_leaf_value(&proof.from, proof.nonce).as_slice() =>
        {
            Ok(VerifiedInclusion {
                id: proof.id,
                from: proof.from,
                nonce: proof.nonce,
                checkpoint: checkpoint.number(),
            })
        }
        Some(_) => Err(VerifyError::Proof(
            "the sender or nonce is not the proven one".into(),
        )),
        None => Err(VerifyError::Proof(
            "the transaction is proven absent from this checkpoint".into(),
        )),
    }
}

/// Why a relay's answer was not believed. Every variant means "the relay
/// sent something no honest relay sends" (or the anchor is unusable).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// The genesis given as trust anchor is unusable.
    #[error("trust anchor: {0}")]
    Anchor(String),
    /// The checkpoint header does not belong to the anchor's network.
    #[error("checkpoint: {0}")]
    Checkpoint(String),
    /// The certificate does not verify.
    #[error("certificate: {0}")]
    Certificate(#[from] CheckpointError),
    /// The proof does not prove what it claims.
    #[error("proof: {0}")]
    Proof(String),
    /// The Merkle path is malformed or does not reach the root.
    #[error("merkle proof: {0}")]
    Merkle(#[from] SmtError),
}

impl VerifyError {
    /// The one error code every verification failure carries across the
    /// API line (`verification_failed`); the message says why.
    pub const CODE: &'static str = crate::api::codes::VERIFICATION_FAILED;
}
