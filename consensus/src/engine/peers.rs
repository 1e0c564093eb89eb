//! Incoming peer messages: decoding, per-peer rate limits ([`RequestLimits`]),
//! routing to the owner each message is for, and the answers that need no
//! consensus state change (chits for queries, ancestors for requests).

use super::{AncestorVertex, Engine, Output};
use crate::dag::VertexStatus;
use crate::message::{Message, MAX_ANCESTORS, MAX_CHITS, MAX_MESSAGE_LEN};
use crate::metrics::DropReason;
use crate::vertex::{ValidatorIndex, VertexId};
use rand_chacha::rand_core::RngCore;
use ruv_protocol::CheckedTransfer;
use std::collections::{BTreeSet, BinaryHeap};
use std::sync::Arc;

/// Room left in an ancestors answer for its header and length prefixes.
const ANCESTORS_OVERHEAD: usize = 64 + 4 * MAX_ANCESTORS;

/// Per-peer request counter over one-second windows.
#[derive(Debug, Clone, Copy, Default)]
struct RateWindow {
    start_ms: u64,
    count: u32,
}

impl RateWindow {
    fn allow(&mut self, now_ms: u64, limit: u32) -> bool {
        if now_ms >= self.start_ms.saturating_add(1_000) {
            self.start_ms = now_ms;
            self.count = 0;
        }
        self.count = self.count.saturating_add(1);
        self.count <= limit
    }
}

/// Queries and ancestor requests answered per peer per second, at most.
#[derive(Debug)]
pub(crate) struct RequestLimits {
    windows: Vec<RateWindow>,
    per_second: u32,
}

impl RequestLimits {
    pub(crate) fn new(validator_count: usize, per_second: u32) -> Self {
        Self {
            windows: vec![RateWindow::default(); validator_count],
            per_second,
        }
    }

    /// Counts one request from `from`; false if it is over its limit.
    fn allow(&mut self, from: ValidatorIndex, now_ms: u64) -> bool {
        let limit = self.per_second;
        self.windows
            .get_mut(from.0 as usize)
            .is_some_and(|window| window.allow(now_ms, limit))
    }
}

impl Engine {
    /// A gossiped transaction the driver decoded and checked the signature of.
    pub(super) fn on_peer_transaction(
        &mut self,
        from: ValidatorIndex,
        tx: CheckedTransfer,
        out: &mut Vec<Output>,
    ) {
        if !self.validators.contains(from) {
            self.metrics.drop(DropReason::UnknownSender);
            return;
        }
        self.on_gossip_transaction(tx.into_shared(), true, out);
    }

    pub(super) fn on_peer_message(
        &mut self,
        from: ValidatorIndex,
        bytes: &[u8],
        out: &mut Vec<Output>,
    ) {
        if !self.validators.contains(from) {
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
            Message::Transaction(tx) => self.on_gossip_transaction(tx, false, out),
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
            | Message::CheckpointPol { .. }
            | Message::CheckpointCertified { .. }
            | Message::GetCheckpoint { .. }) => out.push(Output::Checkpoint { from, message }),
        }
    }

    fn allow_request(&mut self, from: ValidatorIndex) -> bool {
        let allowed = self.request_limits.allow(from, self.now_ms);
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
        // A restarted relay abstains (an empty vote) until its own poll
        // showed it what the network prefers; see `Polls::abstain`.
        let preferred = if self.polls.abstaining() {
            Vec::new()
        } else {
            self.chits()
        };
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

    /// This relay's accepted tips, highest first; when more than
    /// [`MAX_CHITS`], a fresh random choice of them each time, so every tip
    /// is reported to relays catching up (a fixed choice would hide the
    /// rest for ever when many vertices were accepted on the same parents).
    pub(super) fn accepted_tips(&mut self) -> Vec<VertexId> {
        let mut tips: Vec<(u64, VertexId)> = self
            .dag
            .accepted_tips()
            .iter()
            .filter_map(|id| Some((self.dag.height(id)?, *id)))
            .collect();
        tips.sort_by(|a, b| b.cmp(a));
        let tips: Vec<VertexId> = tips.into_iter().map(|(_, id)| id).collect();
        random_choice(tips, MAX_CHITS, &mut self.rng)
    }

    /// This relay's vote: its preferred frontier, capped at [`MAX_CHITS`],
    /// undecided vertices first. When more vertices are on it than fit, a
    /// fresh random choice each time (of the undecided ones, then of the
    /// accepted tips for the room left), so no cap starves a vertex of votes
    /// for ever: a fixed choice would let 65 preferred tips, honest or
    /// Byzantine, keep the rest out of every answer, and would hide from a
    /// relay that still polls a vertex the votes of relays that accepted it
    /// among many accepted tips.
    pub(super) fn chits(&mut self) -> Vec<VertexId> {
        let frontier = self.dag.preferred_frontier();
        let undecided = frontier
            .iter()
            .take_while(|id| self.dag.status(id) == Some(VertexStatus::Processing))
            .count();
        let (undecided, accepted) = frontier.split_at(undecided);
        let (undecided, accepted) = (undecided.to_vec(), accepted.to_vec());
        let mut chits = random_choice(undecided, MAX_CHITS, &mut self.rng);
        let room = MAX_CHITS - chits.len();
        chits.extend(random_choice(accepted, room, &mut self.rng));
        chits
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
        let mut chosen: Vec<(u64, AncestorVertex)> = Vec::new();
        let mut budget = MAX_MESSAGE_LEN - ANCESTORS_OVERHEAD;
        while let Some((height, id)) = heap.pop() {
            if chosen.len() >= MAX_ANCESTORS {
                break;
            }
            let Some(node) = self.dag.get(&id) else {
                continue;
            };
            // Sized before it is encoded (the encoding is rebuilt, not kept).
            let len = node.vertex().encoded_len();
            if len > budget {
                break;
            }
            budget -= len;
            let body = match node.vertex().whole() {
                Some(vertex) => AncestorVertex::Bytes(vertex.bytes()),
                None => AncestorVertex::Stored(id),
            };
            chosen.push((height, body));
            // Rejected vertices have no descendants worth sending their ancestry for.
            if node.status() != VertexStatus::Rejected {
                for parent in node.vertex().parents() {
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
        let in_memory: Option<Vec<Arc<[u8]>>> = chosen
            .iter()
            .map(|(_, body)| match body {
                AncestorVertex::Bytes(bytes) => Some(bytes.clone()),
                AncestorVertex::Stored(_) => None,
            })
            .collect();
        match in_memory {
            Some(vertices) => out.push(Output::Send {
                to: from,
                message: Message::Ancestors {
                    request_id,
                    vertices,
                },
            }),
            // Settled vertices among them: the driver reads those.
            None => out.push(Output::SendAncestors {
                to: from,
                request_id,
                vertices: chosen.into_iter().map(|(_, body)| body).collect(),
            }),
        }
    }

    fn on_ancestors(
        &mut self,
        from: ValidatorIndex,
        request_id: u32,
        vertices: Vec<Arc<[u8]>>,
        out: &mut Vec<Output>,
    ) {
        if !self.fetcher.take_request(request_id, from) {
            self.metrics.drop(DropReason::Unsolicited);
            return;
        }
        for bytes in vertices {
            self.on_vertex_bytes(from, &bytes, true, out);
        }
    }
}

/// All of `ids` if at most `limit` (in their order), otherwise a uniform
/// random choice of `limit` of them.
pub(super) fn random_choice(
    mut ids: Vec<VertexId>,
    limit: usize,
    rng: &mut impl RngCore,
) -> Vec<VertexId> {
    if ids.len() <= limit {
        return ids;
    }
    // A partial Fisher-Yates shuffle: the first `limit` are a uniform choice.
    for i in 0..limit {
        let j = i + (rng.next_u64() % (ids.len() - i) as u64) as usize;
        ids.swap(i, j);
    }
    ids.truncate(limit);
    ids
}
