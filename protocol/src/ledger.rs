//! The ledger state transition: a pure function from (state, transaction) to
//! a new state or a typed rejection. Checked arithmetic only; a rejected
//! transaction leaves the state exactly as it was.
//!
//! Fees: `fee >= base + per_byte * encoded_len` (genesis schedule).
//! `burn_percent` of each fee is burned; the rest is paid to the validators'
//! addresses in proportion to stake, and the rounding remainder is burned too.
//! So `sum(balances) + burned == genesis supply` always holds.

use crate::address::Address;
use crate::genesis::{FeeSchedule, Genesis};
use crate::tx::{SignedTransfer, TxId};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// An account's state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    /// Balance in micro-rUv.
    pub balance: u64,
    /// Nonce of the last applied transaction from this account (0 = none yet).
    pub nonce: u64,
}

/// Why a transaction cannot be applied. Each variant has a stable [`code`](TxRejection::code).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum TxRejection {
    /// Signed for another network.
    #[error("transaction is for chain {got:?}, this is {expected:?}")]
    WrongChain {
        /// This network.
        expected: String,
        /// The transaction's.
        got: String,
    },
    /// `from` is not the address of the embedded public key.
    #[error("sender address does not match the public key")]
    SenderKeyMismatch,
    /// The ML-DSA-65 signature does not verify.
    #[error("signature does not verify")]
    BadSignature,
    /// Zero-amount transfers are refused.
    #[error("amount must be positive")]
    ZeroAmount,
    /// The fee is below the schedule's minimum for this size.
    #[error("fee {offered} is below the minimum {minimum}")]
    FeeTooLow {
        /// Required.
        minimum: u64,
        /// Offered.
        offered: u64,
    },
    /// The nonce was already used.
    #[error("nonce {got} already used; next is {expected}")]
    StaleNonce {
        /// The next valid nonce.
        expected: u64,
        /// The transaction's.
        got: u64,
    },
    /// The nonce skips ahead.
    #[error("nonce {got} skips ahead; next is {expected}")]
    NonceGap {
        /// The next valid nonce.
        expected: u64,
        /// The transaction's.
        got: u64,
    },
    /// Balance below amount + fee.
    #[error("balance {balance} is below amount + fee = {needed}")]
    InsufficientFunds {
        /// Sender's balance.
        balance: u64,
        /// amount + fee.
        needed: u64,
    },
    /// amount + fee, or the recipient's balance, would overflow.
    #[error("arithmetic overflow")]
    Overflow,
    /// Lost a conflict (same sender and nonce) in consensus.
    #[error("a conflicting transaction was accepted instead")]
    Conflict,
}

impl TxRejection {
    /// The stable machine-readable code (also the JSON `code` tag).
    pub fn code(&self) -> &'static str {
        match self {
            Self::WrongChain { .. } => "wrong_chain",
            Self::SenderKeyMismatch => "sender_key_mismatch",
            Self::BadSignature => "bad_signature",
            Self::ZeroAmount => "zero_amount",
            Self::FeeTooLow { .. } => "fee_too_low",
            Self::StaleNonce { .. } => "stale_nonce",
            Self::NonceGap { .. } => "nonce_gap",
            Self::InsufficientFunds { .. } => "insufficient_funds",
            Self::Overflow => "overflow",
            Self::Conflict => "conflict",
        }
    }
}

/// The stateful rules of a transfer, given the sender's account and the
/// recipient's balance: nonce = previous + 1, balance >= amount + fee, and no
/// overflow at the recipient. Shared by the ledger and by consensus, which
/// checks transfers against the state of a vertex's ancestry.
pub fn check_against_accounts(
    tx: &SignedTransfer,
    sender: Account,
    recipient_balance: u64,
) -> Result<(), TxRejection> {
    let t = &tx.transfer;
    let expected = sender.nonce.checked_add(1).ok_or(TxRejection::Overflow)?;
    if t.nonce < expected {
        return Err(TxRejection::StaleNonce {
            expected,
            got: t.nonce,
        });
    }
    if t.nonce > expected {
        return Err(TxRejection::NonceGap {
            expected,
            got: t.nonce,
        });
    }
    let needed = t.amount.checked_add(t.fee).ok_or(TxRejection::Overflow)?;
    if sender.balance < needed {
        return Err(TxRejection::InsufficientFunds {
            balance: sender.balance,
            needed,
        });
    }
    if t.to != t.from {
        recipient_balance
            .checked_add(t.amount)
            .ok_or(TxRejection::Overflow)?;
    }
    Ok(())
}

/// What applying one transaction changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    /// The transaction.
    pub id: TxId,
    /// Accounts whose state changed (sender, recipient, rewarded validators).
    pub touched: Vec<Address>,
    /// Micro-rUv burned by this transaction.
    pub burned: u64,
}

/// The rules a ledger applies, from genesis.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerRules {
    /// Network id.
    pub chain_id: String,
    /// Fee schedule.
    pub fees: FeeSchedule,
    /// Validator reward addresses and stakes.
    pub validators: Vec<(Address, u64)>,
}

impl LedgerRules {
    /// The rules of a genesis file.
    pub fn from_genesis(genesis: &Genesis) -> Self {
        Self {
            chain_id: genesis.chain_id.clone(),
            fees: genesis.fees.clone(),
            validators: genesis
                .validator_keys()
                .into_iter()
                .map(|(key, stake)| (Address::from_public_key(&key), stake))
                .collect(),
        }
    }

    /// Splits the non-burned share of `fee` among the validators in
    /// proportion to stake (rounded down; the remainder is burned). Public so
    /// that consensus can compute a transaction's effects on balances exactly
    /// as [`Ledger::apply`] does.
    pub fn fee_rewards(&self, fee: u64) -> Vec<(Address, u64)> {
        let reward_pool = fee as u128 * (100 - self.fees.burn_percent.min(100) as u128) / 100;
        let total_stake: u128 = self.validators.iter().map(|(_, s)| *s as u128).sum();
        if total_stake == 0 {
            return Vec::new();
        }
        self.validators
            .iter()
            .map(|(address, stake)| {
                (
                    *address,
                    (reward_pool * *stake as u128 / total_stake) as u64,
                )
            })
            .collect()
    }

    /// Checks what depends on the transaction alone: chain, sender key,
    /// amount, fee and (unless `signature_checked`) the signature.
    pub fn check_stateless(
        &self,
        tx: &SignedTransfer,
        signature_checked: bool,
    ) -> Result<(), TxRejection> {
        let t = &tx.transfer;
        if t.chain_id != self.chain_id {
            return Err(TxRejection::WrongChain {
                expected: self.chain_id.clone(),
                got: t.chain_id.clone(),
            });
        }
        if Address::from_public_key(&t.public_key) != t.from {
            return Err(TxRejection::SenderKeyMismatch);
        }
        if t.amount == 0 {
            return Err(TxRejection::ZeroAmount);
        }
        let minimum = self
            .fees
            .minimum_fee(tx.encoded_len())
            .ok_or(TxRejection::Overflow)?;
        if t.fee < minimum {
            return Err(TxRejection::FeeTooLow {
                minimum,
                offered: t.fee,
            });
        }
        t.amount.checked_add(t.fee).ok_or(TxRejection::Overflow)?;
        if !signature_checked {
            tx.verify_signature()
                .map_err(|_| TxRejection::BadSignature)?;
        }
        Ok(())
    }
}

/// Account balances and nonces, plus the running total of burned fees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ledger {
    rules: LedgerRules,
    accounts: BTreeMap<Address, Account>,
    burned: u64,
    genesis_supply: u64,
}

impl Ledger {
    /// The state at genesis. The genesis file must have been validated.
    pub fn from_genesis(genesis: &Genesis) -> Self {
        let accounts = genesis
            .balances
            .iter()
            .map(|b| {
                (
                    b.address,
                    Account {
                        balance: b.amount,
                        nonce: 0,
                    },
                )
            })
            .collect();
        Self {
            rules: LedgerRules::from_genesis(genesis),
            accounts,
            burned: 0,
            genesis_supply: genesis.total_supply().unwrap_or(u64::MAX),
        }
    }

    /// The state a verified [`crate::snapshot::StateSnapshot`] holds, under
    /// the rules of `genesis` (which must have been validated).
    pub fn from_snapshot(genesis: &Genesis, snapshot: &crate::snapshot::StateSnapshot) -> Self {
        Self {
            rules: LedgerRules::from_genesis(genesis),
            accounts: snapshot.accounts.iter().copied().collect(),
            burned: snapshot.burned,
            genesis_supply: genesis.total_supply().unwrap_or(u64::MAX),
        }
    }

    /// The rules in force.
    pub fn rules(&self) -> &LedgerRules {
        &self.rules
    }

    /// An account's state (zero if never seen).
    pub fn account(&self, address: &Address) -> Account {
        self.accounts.get(address).copied().unwrap_or_default()
    }

    /// All accounts with state, in address order.
    pub fn accounts(&self) -> impl Iterator<Item = (&Address, &Account)> {
        self.accounts.iter()
    }

    /// Total micro-rUv burned so far.
    pub fn burned(&self) -> u64 {
        self.burned
    }

    /// Sum of the genesis balances.
    pub fn genesis_supply(&self) -> u64 {
        self.genesis_supply
    }

    /// Sum of all balances now (u128: cannot overflow).
    pub fn circulating(&self) -> u128 {
        self.accounts.values().map(|a| a.balance as u128).sum()
    }

    /// Checks a transaction against the current state without changing it.
    pub fn check(&self, tx: &SignedTransfer) -> Result<(), TxRejection> {
        self.rules.check_stateless(tx, false)?;
        self.check_stateful(tx)
    }

    /// Like [`Ledger::check`], for a transaction whose signature the caller
    /// has already verified.
    pub fn check_checked_signature(&self, tx: &SignedTransfer) -> Result<(), TxRejection> {
        self.rules.check_stateless(tx, true)?;
        self.check_stateful(tx)
    }

    fn check_stateful(&self, tx: &SignedTransfer) -> Result<(), TxRejection> {
        check_against_accounts(
            tx,
            self.account(&tx.transfer.from),
            self.account(&tx.transfer.to).balance,
        )
    }

    /// Verifies and applies a transaction.
    pub fn apply(&mut self, tx: &SignedTransfer) -> Result<Applied, TxRejection> {
        self.rules.check_stateless(tx, false)?;
        self.apply_checked_signature(tx)
    }

    /// Applies a transaction whose signature the caller has already verified
    /// (relays verify once on receipt); every other rule is checked here.
    pub fn apply_checked_signature(&mut self, tx: &SignedTransfer) -> Result<Applied, TxRejection> {
        self.check_checked_signature(tx)?;
        let t = &tx.transfer;
        // All checks passed: the arithmetic below cannot fail except for the
        // validator rewards, which are computed before anything is written.
        let rewards = self.fee_rewards(t.fee);
        let rewarded: u64 = rewards.iter().map(|(_, r)| r).sum();
        for (address, reward) in &rewards {
            self.account(address)
                .balance
                .checked_add(*reward)
                .ok_or(TxRejection::Overflow)?;
        }
        let burned = t.fee - rewarded;

        let sender = self.accounts.entry(t.from).or_default();
        sender.balance -= t.amount + t.fee;
        sender.nonce = t.nonce;
        self.accounts.entry(t.to).or_default().balance += t.amount;
        let mut touched = vec![t.from, t.to];
        for (address, reward) in rewards {
            if reward > 0 {
                self.accounts.entry(address).or_default().balance += reward;
                touched.push(address);
            }
        }
        self.burned += burned;
        touched.sort();
        touched.dedup();
        Ok(Applied {
            id: tx.id(),
            touched,
            burned,
        })
    }

    /// Splits the non-burned share of `fee` among validators by stake.
    fn fee_rewards(&self, fee: u64) -> Vec<(Address, u64)> {
        self.rules.fee_rewards(fee)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::SigningKey;
    use crate::genesis::{GenesisBalance, ValidatorEntry};
    use crate::tx::tests::sample_transfer;
    use proptest::prelude::*;

    fn setup(users: &[SigningKey], balance: u64) -> Ledger {
        let genesis = Genesis {
            chain_id: "ruv-test".into(),
            balances: users
                .iter()
                .map(|k| GenesisBalance {
                    address: Address::from_public_key(k.public_key()),
                    amount: balance,
                })
                .collect(),
            fees: FeeSchedule {
                base: 100,
                per_byte: 1,
                burn_percent: 30,
            },
            validators: (0..3u8)
                .map(|i| ValidatorEntry {
                    name: format!("v{i}"),
                    public_key: SigningKey::from_seed(&[100 + i; 32])
                        .public_key()
                        .as_bytes()
                        .to_vec(),
                    stake: 1 + i as u64,
                })
                .collect(),
            consensus: None,
        };
        genesis.validate().unwrap();
        Ledger::from_genesis(&genesis)
    }

    fn addr(k: &SigningKey) -> Address {
        Address::from_public_key(k.public_key())
    }

    const FEE: u64 = 10_000;

    #[test]
    fn every_rejection_is_distinct_and_leaves_state_unchanged() {
        let alice = SigningKey::from_seed(&[1; 32]);
        let bob = SigningKey::from_seed(&[2; 32]);
        let mut ledger = setup(&[SigningKey::from_seed(&[1; 32])], 1_000_000);
        let ok = sample_transfer(&alice, addr(&bob), 10, FEE, 1)
            .sign(&alice, [0; 32])
            .unwrap();
        let before = ledger.clone();

        let mut t = sample_transfer(&alice, addr(&bob), 10, FEE, 1);
        t.chain_id = "other".into();
        let cases: Vec<(SignedTransfer, &str)> = vec![
            (t.sign(&alice, [0; 32]).unwrap(), "wrong_chain"),
            (
                {
                    let mut t = sample_transfer(&alice, addr(&bob), 10, FEE, 1);
                    t.from = addr(&bob);
                    t.sign(&alice, [0; 32]).unwrap()
                },
                "sender_key_mismatch",
            ),
            (
                {
                    let mut s = ok.clone();
                    s.transfer.amount = 11;
                    s
                },
                "bad_signature",
            ),
            (
                sample_transfer(&alice, addr(&bob), 0, FEE, 1)
                    .sign(&alice, [0; 32])
                    .unwrap(),
                "zero_amount",
            ),
            (
                sample_transfer(&alice, addr(&bob), 10, 5, 1)
                    .sign(&alice, [0; 32])
                    .unwrap(),
                "fee_too_low",
            ),
            (
                sample_transfer(&alice, addr(&bob), 10, FEE, 0)
                    .sign(&alice, [0; 32])
                    .unwrap(),
                "stale_nonce",
            ),
            (
                sample_transfer(&alice, addr(&bob), 10, FEE, 2)
                    .sign(&alice, [0; 32])
                    .unwrap(),
                "nonce_gap",
            ),
            (
                sample_transfer(&alice, addr(&bob), 1_000_000, FEE, 1)
                    .sign(&alice, [0; 32])
                    .unwrap(),
                "insufficient_funds",
            ),
            (
                sample_transfer(&alice, addr(&bob), u64::MAX, FEE, 1)
                    .sign(&alice, [0; 32])
                    .unwrap(),
                "overflow",
            ),
        ];
        for (tx, code) in cases {
            assert_eq!(ledger.apply(&tx).unwrap_err().code(), code);
            assert_eq!(ledger, before, "{code} changed state");
        }
        let applied = ledger.apply(&ok).unwrap();
        assert_eq!(applied.id, ok.id());
        assert_eq!(ledger.account(&addr(&bob)).balance, 10);
        assert_eq!(
            ledger.account(&addr(&alice)),
            Account {
                balance: 1_000_000 - 10 - FEE,
                nonce: 1
            }
        );
        // Replaying the same transaction is a stale nonce.
        assert_eq!(ledger.apply(&ok).unwrap_err().code(), "stale_nonce");
    }

    #[test]
    fn fees_are_split_by_stake_and_burned() {
        let alice = SigningKey::from_seed(&[1; 32]);
        let mut ledger = setup(&[SigningKey::from_seed(&[1; 32])], 1_000_000);
        let tx = sample_transfer(&alice, Address::from_bytes([9; 32]), 10, FEE, 1)
            .sign(&alice, [0; 32])
            .unwrap();
        let applied = ledger.apply(&tx).unwrap();
        // 70% of 10_000 = 7000 split 1:2:3 -> 1166, 2333, 3500 (1 lost to rounding, burned).
        let rewards: Vec<u64> = ledger
            .rules()
            .validators
            .iter()
            .map(|(a, _)| ledger.account(a).balance)
            .collect();
        assert_eq!(rewards, vec![1166, 2333, 3500]);
        assert_eq!(applied.burned, 3000 + 1);
        assert_eq!(
            ledger.circulating() + ledger.burned() as u128,
            ledger.genesis_supply() as u128
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]
        /// Supply is conserved minus burned fees across any sequence of
        /// transfers, valid or not.
        #[test]
        fn supply_is_conserved(ops in proptest::collection::vec((0usize..3, 0usize..4, 0u64..400_000, 0u64..30_000, 0u64..4), 1..12)) {
            let keys: Vec<SigningKey> = (0..3u8).map(|i| SigningKey::from_seed(&[i + 1; 32])).collect();
            let mut ledger = setup(&keys, 1_000_000);
            let mut next_nonce = [1u64; 3];
            for (from, to, amount, fee, nonce_skew) in ops {
                let to_addr = if to == 3 { Address::from_bytes([7; 32]) } else { addr(&keys[to]) };
                let nonce = next_nonce[from] + nonce_skew / 3; // mostly right, sometimes a gap
                let tx = sample_transfer(&keys[from], to_addr, amount, fee, nonce).sign(&keys[from], [0; 32]).unwrap();
                if ledger.apply(&tx).is_ok() {
                    next_nonce[from] += 1;
                }
                prop_assert_eq!(ledger.circulating() + ledger.burned() as u128, ledger.genesis_supply() as u128);
            }
        }
    }
}
