//! Incoming peer messages: decoding, rate limits, and the answers that need
//! no consensus state change (chits for queries, ancestors for requests).

use super::{Engine, Output};
use crate::dag::VertexStatus;
use crate::message::{Message, MAX_ANCESTORS, MAX_CHITS, MAX_MESSAGE_LEN};
use crate::metrics::DropReason;
use crate::vertex::{ValidatorIndex, VertexId};
use std::collections::{BTreeSet, BinaryHeap};
use std::sync::Arc;

/// Room left in an ancestors answer for its header and length prefixes.
const ANCESTORS_OVERHEAD: usize = 64 + 4 * MAX_ANCESTORS;

impl Engine {
    pub(super) fn on_peer_message(
        &mut self,
        from: ValidatorIndex,
        bytes: &[u8],
        out: &mut Vec<Output>,
    ) {
        if from.0 as usize >= self.validators.len() {
            self.metrics.drop(DropReason::UnknownSender);
            return;
        }
        let message = match Message::decode(bytes) {
            Ok(message) => message,
            Err(error) => {
                tracing::debug!(%from, %error, "undecodable peer message");
                self.metrics.drop(DropReason::Decode);
                return;
            }
        };
        match message {
            Message::Transaction(tx) => self.on_gossip_transaction(tx),
            Message::Vertex(bytes) => self.on_vertex_bytes(from, &bytes, false, out),
            Message::Query { request_id } => self.on_query(from, request_id, out),
            Message::Chits {
                request_id,
                preferred,
                accepted,
            } => self.on_chits(from, request_id, preferred, accepted, out),
            Message::GetAncestors { request_id, ids } => {
                self.on_get_ancestors(from, request_id, &ids, out)
            }
            Message::Ancestors {
                request_id,
                vertices,
            } => self.on_ancestors(from, request_id, vertices, out),
            // Not the DAG's business: the driver hands these to its checkpointer.
            message @ (Message::CheckpointVote { .. }
            | Message::CheckpointPrevote { .. }
            | Message::CheckpointCertified { .. }
            | Message::GetCheckpoint { .. }) => out.push(Output::Checkpoint { from, message }),
        }
    }

    fn allow_request(&mut self, from: ValidatorIndex) -> bool {
        let limit = self.tuning.max_requests_per_peer_per_second;
        let now = self.now_ms;
        let allowed = self
            .request_limits
            .get_mut(from.0 as usize)
            .is_some_and(|window| window.allow(now, limit));
        if !allowed {
            self.metrics.drop(DropReason::RateLimited);
        }
        allowed
    }

    fn on_query(&mut self, from: ValidatorIndex, request_id: u32, out: &mut Vec<Output>) {
        if !self.allow_request(from) {
            return;
        }
        self.settle(out);
        let preferred = self.chits();
        let accepted = self.accepted_tips();
        self.metrics.queries_answered += 1;
        out.push(Output::Send {
            to: from,
            message: Message::Chits {
                request_id,
                preferred,
                accepted,
            },
        });
    }

    /// This relay's accepted tips, highest first, capped.
    pub(super) fn accepted_tips(&self) -> Vec<VertexId> {
        let mut tips: Vec<(u64, VertexId)> = self
            .dag
            .accepted_tips
            .iter()
            .filter_map(|id| Some((self.dag.height(id)?, *id)))
            .collect();
        tips.sort_by(|a, b| b.cmp(a));
        tips.into_iter().take(MAX_CHITS).map(|(_, id)| id).collect()
    }

    /// This relay's vote: its preferred frontier, capped.
    pub(super) fn chits(&self) -> Vec<VertexId> {
        self.preferred_frontier
            .iter()
            .take(MAX_CHITS)
            .copied()
            .collect()
    }

    /// Answers with the requested vertices and as many of their ancestors as
    /// fit, highest first from each, sent parents-first.
    fn on_get_ancestors(
        &mut self,
        from: ValidatorIndex,
        request_id: u32,
        ids: &[VertexId],
        out: &mut Vec<Output>,
    ) {
        if !self.allow_request(from) {
            return;
        }
        let mut heap: BinaryHeap<(u64, VertexId)> = BinaryHeap::new();
        let mut seen = BTreeSet::new();
        for id in ids {
            if let Some(height) = self.dag.height(id) {
                if seen.insert(*id) {
                    heap.push((height, *id));
                }
            }
        }
        let mut chosen: Vec<(u64, Arc<[u8]>)> = Vec::new();
        let mut budget = MAX_MESSAGE_LEN - ANCESTORS_OVERHEAD;
        while let Some((height, id)) = heap.pop() {
            if chosen.len() >= MAX_ANCESTORS {
                break;
            }
            let Some(node) = self.dag.get(&id) else {
                continue;
            };
            let bytes = node.vertex.bytes().clone();
            if bytes.len() > budget {
                break;
            }
            budget -= bytes.len();
            chosen.push((height, bytes));
            // Rejected vertices have no descendants worth sending their ancestry for.
            if node.status != VertexStatus::Rejected {
                for parent in node.vertex.parents() {
                    if seen.insert(*parent) {
                        if let Some(h) = self.dag.height(parent) {
                            heap.push((h, *parent));
                        }
                    }
                }
            }
        }
        if chosen.is_empty() {
            return;
        }
        chosen.sort_by_key(|(height, _)| *height);
        self.metrics.ancestors_served += 1;
        let vertices = chosen.into_iter().map(|(_, bytes)| bytes).collect();
        out.push(Output::Send {
            to: from,
            message: Message::Ancestors {
                request_id,
                vertices,
            },
        });
    }

    fn on_ancestors(
        &mut self,
        from: ValidatorIndex,
        request_id: u32,
        vertices: Vec<Arc<[u8]>>,
        out: &mut Vec<Output>,
    ) {
        match self.fetch_requests.get(&request_id) {
            Some((asked, _)) if *asked == from => {
                self.fetch_requests.remove(&request_id);
            }
            _ => {
                self.metrics.drop(DropReason::Unsolicited);
                return;
            }
        }
        for bytes in vertices {
            self.on_vertex_bytes(from, &bytes, true, out);
        }
    }
}
