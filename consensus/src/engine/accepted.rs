//! The accepted state: the ledger after every accepted vertex, and which
//! accepted vertices hold each accepted transaction (a transaction may be in
//! several; it is applied once, from the first). Only grows.
//!
//! After a restart from a state snapshot the ledger starts at the snapshot
//! and the transactions of the vertices it covers are only recorded.

use crate::vertex::VertexId;
use ruv_protocol::{Genesis, Ledger, SignedTransfer, TxId, TxRejection};
use std::collections::HashMap;

/// What an accepted vertex's transaction did to the accepted state.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Recorded {
    /// First accepted copy: applied to the ledger.
    New,
    /// Already accepted from an earlier vertex: only the copy is recorded.
    Copy,
}

#[derive(Debug)]
pub(crate) struct Accepted {
    ledger: Ledger,
    /// Looked up by key only (ancestry walks, issue checks), never iterated.
    txs: HashMap<TxId, Vec<VertexId>>,
}

impl Accepted {
    pub(crate) fn new(genesis: &Genesis) -> Self {
        Self {
            ledger: Ledger::from_genesis(genesis),
            txs: HashMap::new(),
        }
    }

    /// The accepted state of a verified snapshot: `ledger` already holds the
    /// effects of the vertices it covers (see [`Self::record_covered`]).
    pub(crate) fn from_ledger(ledger: Ledger) -> Self {
        Self {
            ledger,
            txs: HashMap::new(),
        }
    }

    /// Records `tx` of accepted vertex `vertex`, which the ledger already
    /// holds (the vertex is covered by the snapshot the ledger came from).
    pub(crate) fn record_covered(&mut self, vertex: VertexId, tx_id: TxId) {
        self.txs.entry(tx_id).or_default().push(vertex);
    }

    pub(crate) fn ledger(&self) -> &Ledger {
        &self.ledger
    }

    /// Accepted transactions and the accepted vertices holding them.
    pub(crate) fn txs(&self) -> &HashMap<TxId, Vec<VertexId>> {
        &self.txs
    }

    pub(crate) fn contains(&self, tx: &TxId) -> bool {
        self.txs.contains_key(tx)
    }

    /// The first accepted vertex holding `tx`.
    pub(crate) fn vertex_of(&self, tx: &TxId) -> Option<VertexId> {
        self.txs.get(tx).and_then(|v| v.first()).copied()
    }

    /// The accepted ledger already used the transfer's (sender, nonce): a
    /// transaction not accepted itself can never be.
    pub(crate) fn nonce_used(&self, tx: &SignedTransfer) -> bool {
        self.ledger.account(&tx.transfer.from).nonce >= tx.transfer.nonce
    }

    /// Records `tx` of accepted vertex `vertex`, applying it if it is the
    /// first copy. On error nothing changed.
    pub(crate) fn apply(
        &mut self,
        vertex: VertexId,
        tx_id: TxId,
        tx: &SignedTransfer,
    ) -> Result<Recorded, TxRejection> {
        if let Some(copies) = self.txs.get_mut(&tx_id) {
            copies.push(vertex);
            return Ok(Recorded::Copy);
        }
        self.ledger.apply_checked_signature(tx)?;
        self.txs.insert(tx_id, vec![vertex]);
        Ok(Recorded::New)
    }
}
