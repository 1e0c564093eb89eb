//! The relay's state machine: the ledger plus an index of transaction
//! statuses. Pure: no sockets, clocks or storage. The driver checks a
//! transaction, persists it, then applies it, so memory and disk never
//! disagree.

use ruv_protocol::api::{AccountInfo, ApiError, TxState, TxStatus};
use ruv_protocol::ledger::{Ledger, TxRejection};
use ruv_protocol::{Address, Genesis, SignedTransfer, TxId};
use std::collections::{HashMap, VecDeque};

/// How many recent rejections are remembered for status queries.
pub const REMEMBERED_REJECTIONS: usize = 10_000;

/// Something a subscriber may want to hear about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeEvent {
    /// An account changed.
    Account(AccountInfo),
    /// A transaction's status changed.
    Transaction(TxStatus),
}

/// The outcome of checking a submission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admission {
    /// Already known; here is its status (submissions are idempotent).
    Known(TxStatus),
    /// Valid against the current state: persist it, then [`Node::apply_admitted`].
    Admit,
}

/// The relay's in-memory state.
#[derive(Debug, Clone)]
pub struct Node {
    ledger: Ledger,
    accepted: HashMap<TxId, u64>,
    rejected: HashMap<TxId, TxRejection>,
    rejected_order: VecDeque<TxId>,
}

impl Node {
    /// The state at genesis.
    pub fn new(genesis: &Genesis) -> Self {
        Self {
            ledger: Ledger::from_genesis(genesis),
            accepted: HashMap::new(),
            rejected: HashMap::new(),
            rejected_order: VecDeque::new(),
        }
    }

    /// Rebuilds the state from the accepted transactions in acceptance order.
    pub fn restore<'a>(
        genesis: &Genesis,
        accepted: impl IntoIterator<Item = &'a SignedTransfer>,
    ) -> Result<Self, (TxId, TxRejection)> {
        let mut node = Self::new(genesis);
        for tx in accepted {
            // Signatures were verified before these were first accepted.
            node.ledger
                .apply_checked_signature(tx)
                .map_err(|e| (tx.id(), e))?;
            let seq = node.accepted.len() as u64;
            node.accepted.insert(tx.id(), seq);
        }
        Ok(node)
    }

    /// The ledger.
    pub fn ledger(&self) -> &Ledger {
        &self.ledger
    }

    /// Number of accepted transactions.
    pub fn accepted_count(&self) -> u64 {
        self.accepted.len() as u64
    }

    /// An account's current state.
    pub fn account(&self, address: Address) -> AccountInfo {
        AccountInfo::new(address, self.ledger.account(&address))
    }

    /// A transaction's status, if known.
    pub fn tx_status(&self, id: &TxId) -> Option<TxStatus> {
        if self.accepted.contains_key(id) {
            return Some(TxStatus {
                id: *id,
                status: TxState::Accepted,
                reason: None,
            });
        }
        self.rejected.get(id).map(|r| TxStatus {
            id: *id,
            status: TxState::Rejected,
            reason: Some(ApiError::from(r)),
        })
    }

    /// Checks a submission whose signature the caller verified. A rejection
    /// is remembered for status queries and returned.
    pub fn admit(&mut self, tx: &SignedTransfer) -> Result<Admission, TxRejection> {
        let id = tx.id();
        if self.accepted.contains_key(&id) {
            return Ok(Admission::Known(TxStatus {
                id,
                status: TxState::Accepted,
                reason: None,
            }));
        }
        let check = self.ledger.check_checked_signature(tx);
        match check {
            Ok(()) => Ok(Admission::Admit),
            Err(rejection) => {
                self.remember_rejection(id, rejection.clone());
                Err(rejection)
            }
        }
    }

    /// Applies an admitted, persisted transaction and returns the events it causes.
    pub fn apply_admitted(&mut self, tx: &SignedTransfer) -> Result<Vec<NodeEvent>, TxRejection> {
        let applied = self.ledger.apply_checked_signature(tx)?;
        let seq = self.accepted.len() as u64;
        self.accepted.insert(applied.id, seq);
        self.rejected.remove(&applied.id);
        let mut events = vec![NodeEvent::Transaction(TxStatus {
            id: applied.id,
            status: TxState::Accepted,
            reason: None,
        })];
        events.extend(
            applied
                .touched
                .into_iter()
                .map(|a| NodeEvent::Account(self.account(a))),
        );
        Ok(events)
    }

    fn remember_rejection(&mut self, id: TxId, rejection: TxRejection) {
        if self.rejected.insert(id, rejection).is_none() {
            self.rejected_order.push_back(id);
            if self.rejected_order.len() > REMEMBERED_REJECTIONS {
                if let Some(old) = self.rejected_order.pop_front() {
                    self.rejected.remove(&old);
                }
            }
        }
    }
}
