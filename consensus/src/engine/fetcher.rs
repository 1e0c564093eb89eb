//! Vertices not in the DAG yet: checked vertices parked until their parents
//! arrive, outstanding requests for missing vertices, and the ids of vertices
//! found invalid (so they are not fetched or checked again).
//!
//! Invariants kept here: `waiting_on` is exactly the reverse of the parked
//! vertices' missing sets; `waiting_bytes` is the size of the parked vertices
//! and stays within the configured bound.

use crate::metrics::{DropReason, Metrics};
use crate::vertex::{ValidatorIndex, Vertex, VertexId};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// Invalid vertex ids remembered at most (then the memory starts over).
const MAX_REMEMBERED_INVALID: usize = 100_000;

/// A checked vertex whose parents are not all in the DAG yet.
#[derive(Debug)]
struct WaitingVertex {
    vertex: Arc<Vertex>,
    missing: BTreeSet<VertexId>,
    since_ms: u64,
}

/// An outstanding request for a missing vertex.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Fetch {
    pub(crate) asked: ValidatorIndex,
    pub(crate) sent_ms: u64,
    pub(crate) attempts: u32,
}

#[derive(Debug, Default)]
pub(crate) struct Fetcher {
    waiting: BTreeMap<VertexId, WaitingVertex>,
    /// Missing parent to the parked vertices that wait for it.
    waiting_on: BTreeMap<VertexId, BTreeSet<VertexId>>,
    waiting_bytes: usize,
    fetching: BTreeMap<VertexId, Fetch>,
    /// Request id of each outstanding `GetAncestors`, whom it went to and when.
    requests: BTreeMap<u32, (ValidatorIndex, u64)>,
    invalid: BTreeSet<VertexId>,
}

impl Fetcher {
    pub(crate) fn is_waiting(&self, id: &VertexId) -> bool {
        self.waiting.contains_key(id)
    }

    pub(crate) fn is_fetching(&self, id: &VertexId) -> bool {
        self.fetching.contains_key(id)
    }

    /// Whether a parked vertex waits for `id` (it is a missing parent).
    pub(crate) fn waited_for(&self, id: &VertexId) -> bool {
        self.waiting_on.contains_key(id)
    }

    pub(crate) fn is_invalid(&self, id: &VertexId) -> bool {
        self.invalid.contains(id)
    }

    /// The parents of a parked vertex (None if it is not parked).
    pub(crate) fn parked_parents(&self, id: &VertexId) -> Option<&[VertexId]> {
        self.waiting.get(id).map(|w| w.vertex.parents())
    }

    pub(crate) fn waiting_count(&self) -> usize {
        self.waiting.len()
    }

    /// The vertex's bytes arrived: whatever they are, it is no longer fetched.
    pub(crate) fn arrived(&mut self, id: &VertexId) {
        self.fetching.remove(id);
    }

    pub(crate) fn remember_invalid(&mut self, id: VertexId) {
        if self.invalid.len() >= MAX_REMEMBERED_INVALID {
            self.invalid.clear();
        }
        self.invalid.insert(id);
    }

    /// Parks a checked vertex until `missing` arrive. Returns the missing
    /// parents nobody fetches or parks yet, or None if the parking is full.
    pub(crate) fn park(
        &mut self,
        vertex: Arc<Vertex>,
        missing: BTreeSet<VertexId>,
        now_ms: u64,
        max_waiting_bytes: usize,
    ) -> Option<Vec<VertexId>> {
        let size = vertex.encoded_len();
        if self.waiting_bytes + size > max_waiting_bytes {
            return None;
        }
        let id = vertex.id();
        for parent in &missing {
            self.waiting_on.entry(*parent).or_default().insert(id);
        }
        let to_fetch: Vec<VertexId> = missing
            .iter()
            .filter(|p| !self.waiting.contains_key(p) && !self.fetching.contains_key(p))
            .copied()
            .collect();
        self.waiting_bytes += size;
        self.waiting.insert(
            id,
            WaitingVertex {
                vertex,
                missing,
                since_ms: now_ms,
            },
        );
        Some(to_fetch)
    }

    /// Vertex `id` left the arrival path: into the DAG if `added`, else it
    /// was invalid and so is everything parked on it. Returns the parked
    /// vertices it completed (now unparked), in id order.
    pub(crate) fn resolved(
        &mut self,
        id: &VertexId,
        added: bool,
        metrics: &mut Metrics,
    ) -> Vec<Arc<Vertex>> {
        let mut ready = Vec::new();
        let Some(children) = self.waiting_on.remove(id) else {
            return ready;
        };
        for child in children {
            if !added {
                self.drop_waiting(&child, DropReason::InvalidAncestor, true, metrics);
                continue;
            }
            let Some(entry) = self.waiting.get_mut(&child) else {
                continue;
            };
            entry.missing.remove(id);
            if entry.missing.is_empty() {
                if let Some(entry) = self.waiting.remove(&child) {
                    self.waiting_bytes = self
                        .waiting_bytes
                        .saturating_sub(entry.vertex.encoded_len());
                    ready.push(entry.vertex);
                }
            }
        }
        ready
    }

    /// Removes a parked vertex (and, if `invalid`, everything parked on it).
    fn drop_waiting(
        &mut self,
        id: &VertexId,
        reason: DropReason,
        invalid: bool,
        metrics: &mut Metrics,
    ) {
        let mut stack = vec![*id];
        while let Some(id) = stack.pop() {
            let Some(entry) = self.waiting.remove(&id) else {
                continue;
            };
            self.waiting_bytes = self
                .waiting_bytes
                .saturating_sub(entry.vertex.encoded_len());
            metrics.drop(reason);
            for parent in &entry.missing {
                if let Some(children) = self.waiting_on.get_mut(parent) {
                    children.remove(&id);
                    if children.is_empty() {
                        self.waiting_on.remove(parent);
                    }
                }
            }
            if invalid {
                self.remember_invalid(id);
                if let Some(children) = self.waiting_on.remove(&id) {
                    stack.extend(children);
                }
            }
        }
    }

    /// Drops parked vertices whose parents never came.
    pub(crate) fn expire_waiting(&mut self, now_ms: u64, ttl_ms: u64, metrics: &mut Metrics) {
        let expired: Vec<VertexId> = self
            .waiting
            .iter()
            .filter(|(_, w)| w.since_ms.saturating_add(ttl_ms) <= now_ms)
            .map(|(id, _)| *id)
            .collect();
        for id in expired {
            self.drop_waiting(&id, DropReason::WaitingExpired, false, metrics);
        }
    }

    /// Records a `GetAncestors` request for `ids` sent to `to`.
    pub(crate) fn requested(
        &mut self,
        request_id: u32,
        to: ValidatorIndex,
        ids: &[VertexId],
        attempts: u32,
        now_ms: u64,
    ) {
        self.requests.insert(request_id, (to, now_ms));
        for id in ids {
            self.fetching.insert(
                *id,
                Fetch {
                    asked: to,
                    sent_ms: now_ms,
                    attempts,
                },
            );
        }
    }

    /// An `Ancestors` answer came from `from`: true if it answers our
    /// outstanding request to `from` (which is then closed).
    pub(crate) fn take_request(&mut self, request_id: u32, from: ValidatorIndex) -> bool {
        match self.requests.get(&request_id) {
            Some((asked, _)) if *asked == from => {
                self.requests.remove(&request_id);
                true
            }
            _ => false,
        }
    }

    /// Forgets requests older than `timeout_ms` and returns (and stops
    /// tracking) the fetches that timed out, in id order.
    pub(crate) fn take_timed_out(
        &mut self,
        now_ms: u64,
        timeout_ms: u64,
    ) -> Vec<(VertexId, Fetch)> {
        self.requests
            .retain(|_, (_, sent)| sent.saturating_add(timeout_ms) > now_ms);
        let due: Vec<(VertexId, Fetch)> = self
            .fetching
            .iter()
            .filter(|(_, f)| f.sent_ms.saturating_add(timeout_ms) <= now_ms)
            .map(|(id, f)| (*id, *f))
            .collect();
        for (id, _) in &due {
            self.fetching.remove(id);
        }
        due
    }

    /// When the next fetch times out or the next parked vertex expires.
    pub(crate) fn next_deadline(&self, fetch_timeout_ms: u64, waiting_ttl_ms: u64) -> Option<u64> {
        let fetch = self
            .fetching
            .values()
            .map(|f| f.sent_ms.saturating_add(fetch_timeout_ms))
            .min();
        let waiting = self
            .waiting
            .values()
            .map(|w| w.since_ms.saturating_add(waiting_ttl_ms))
            .min();
        fetch.into_iter().chain(waiting).min()
    }

    /// The invariants above, checked in full (debug builds).
    #[cfg(debug_assertions)]
    pub(crate) fn assert_consistent(&self, max_waiting_bytes: usize) {
        let bytes: usize = self.waiting.values().map(|w| w.vertex.encoded_len()).sum();
        debug_assert_eq!(bytes, self.waiting_bytes);
        debug_assert!(self.waiting_bytes <= max_waiting_bytes);
        for (id, entry) in &self.waiting {
            for parent in &entry.missing {
                debug_assert!(self.waiting_on.get(parent).is_some_and(|c| c.contains(id)));
            }
        }
    }
}
