//! A vertex as the DAG holds it: whole while anything may still need its
//! bytes, then *settled*: once it is accepted, covered by a certified
//! checkpoint and stored by the driver ([`crate::Input::Covered`]), only
//! what the engine still reads stays in memory (its place in the DAG and
//! each transaction's id and ledger effect, about 120 bytes a transfer
//! instead of about 5.3 KB with its ML-DSA-65 key and signature). A peer
//! that asks for a settled vertex gets it from the driver's store
//! ([`crate::Output::SendAncestors`]).
//!
//! Why the effects are enough: an accepted vertex matters to validity only
//! through the ancestry walk (`ancestry.rs`), which subtracts the effects
//! of accepted transactions outside a new vertex's ancestry; signatures
//! were checked when the vertex arrived, and nothing else reads its
//! transfers once it is accepted.

use crate::vertex::{ValidatorIndex, Vertex, VertexId};
use ruv_protocol::{Address, SignedTransfer, TxId};
use std::sync::Arc;

/// What a transfer does to the ledger: all the ancestry walk reads of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TxEffect {
    pub(crate) from: Address,
    pub(crate) to: Address,
    pub(crate) amount: u64,
    pub(crate) fee: u64,
    pub(crate) nonce: u64,
}

impl TxEffect {
    pub(crate) fn of(tx: &SignedTransfer) -> Self {
        let t = &tx.transfer;
        Self {
            from: t.from,
            to: t.to,
            amount: t.amount,
            fee: t.fee,
            nonce: t.nonce,
        }
    }
}

/// What stays of a settled vertex.
#[derive(Debug)]
pub(crate) struct Skeleton {
    id: VertexId,
    issuer: ValidatorIndex,
    height: u64,
    encoded_len: usize,
    parents: Box<[VertexId]>,
    tx_ids: Box<[TxId]>,
    effects: Box<[TxEffect]>,
}

/// A vertex in the DAG, whole or settled.
#[derive(Debug)]
pub(crate) enum VertexBody {
    Whole(Arc<Vertex>),
    Settled(Box<Skeleton>),
}

impl VertexBody {
    pub(crate) fn id(&self) -> VertexId {
        match self {
            Self::Whole(v) => v.id(),
            Self::Settled(s) => s.id,
        }
    }

    pub(crate) fn issuer(&self) -> ValidatorIndex {
        match self {
            Self::Whole(v) => v.issuer(),
            Self::Settled(s) => s.issuer,
        }
    }

    pub(crate) fn height(&self) -> u64 {
        match self {
            Self::Whole(v) => v.height(),
            Self::Settled(s) => s.height,
        }
    }

    /// The length of the signed encoding (what answering with it costs).
    pub(crate) fn encoded_len(&self) -> usize {
        match self {
            Self::Whole(v) => v.encoded_len(),
            Self::Settled(s) => s.encoded_len,
        }
    }

    pub(crate) fn parents(&self) -> &[VertexId] {
        match self {
            Self::Whole(v) => v.parents(),
            Self::Settled(s) => &s.parents,
        }
    }

    pub(crate) fn tx_ids(&self) -> &[TxId] {
        match self {
            Self::Whole(v) => v.tx_ids(),
            Self::Settled(s) => &s.tx_ids,
        }
    }

    /// The ledger effect of the transaction at `index` (as in [`Self::tx_ids`]).
    pub(crate) fn effect(&self, index: usize) -> Option<TxEffect> {
        match self {
            Self::Whole(v) => v.txs().get(index).map(|tx| TxEffect::of(tx)),
            Self::Settled(s) => s.effects.get(index).copied(),
        }
    }

    /// The whole vertex, unless it is settled.
    pub(crate) fn whole(&self) -> Option<&Arc<Vertex>> {
        match self {
            Self::Whole(v) => Some(v),
            Self::Settled(_) => None,
        }
    }

    /// Drops the signed transfers and the signature; false if already settled.
    pub(crate) fn settle(&mut self) -> bool {
        let Self::Whole(vertex) = self else {
            return false;
        };
        let skeleton = Skeleton {
            id: vertex.id(),
            issuer: vertex.issuer(),
            height: vertex.height(),
            encoded_len: vertex.encoded_len(),
            parents: vertex.parents().into(),
            tx_ids: vertex.tx_ids().into(),
            effects: vertex.txs().iter().map(|tx| TxEffect::of(tx)).collect(),
        };
        *self = Self::Settled(Box::new(skeleton));
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vertex::VertexContent;
    use ruv_protocol::tx::Transfer;
    use ruv_protocol::SigningKey;

    #[test]
    fn a_settled_vertex_reads_the_same_as_the_whole_one() {
        let user = SigningKey::from_seed(&[4; 32]);
        let txs = (1..=3)
            .map(|nonce| {
                let transfer = Transfer {
                    chain_id: "ruv-test".into(),
                    from: Address::from_public_key(user.public_key()),
                    to: Address::from_bytes([9; 32]),
                    amount: 5 * nonce,
                    fee: 10_000,
                    nonce,
                    memo: String::new(),
                    public_key: user.public_key().clone(),
                };
                Arc::new(transfer.sign(&user, [0; 32]).unwrap())
            })
            .collect();
        let vertex = VertexContent {
            chain_id: "ruv-test".into(),
            issuer: ValidatorIndex(1),
            height: 4,
            parents: vec![VertexId([2; 32]), VertexId([1; 32])],
            txs,
        }
        .sign(&SigningKey::from_seed(&[3; 32]), [0; 32])
        .unwrap();
        let whole = VertexBody::Whole(Arc::new(vertex.clone()));
        let mut settled = VertexBody::Whole(Arc::new(vertex.clone()));
        assert!(settled.settle());
        assert!(!settled.settle(), "settling twice is a no-op");
        assert!(settled.whole().is_none());
        assert_eq!(whole.whole().map(|v| v.id()), Some(vertex.id()));
        assert_eq!(
            (settled.id(), settled.issuer(), settled.height()),
            (whole.id(), whole.issuer(), whole.height())
        );
        assert_eq!(settled.encoded_len(), vertex.bytes().len());
        assert_eq!(settled.parents(), whole.parents());
        assert_eq!(settled.tx_ids(), whole.tx_ids());
        for index in 0..4 {
            assert_eq!(settled.effect(index), whole.effect(index));
        }
        assert_eq!(
            settled.effect(2).map(|e| (e.amount, e.nonce)),
            Some((15, 3))
        );
        assert_eq!(settled.effect(3), None);
    }
}
