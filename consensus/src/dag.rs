//! The vertex DAG as one relay knows it: every vertex with its status,
//! children links, the processing set in height order and the accepted tips.

use crate::vertex::{Vertex, VertexId};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// Where a vertex stands in consensus.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum VertexStatus {
    /// Undecided.
    Processing,
    /// Final: its transactions are applied.
    Accepted,
    /// Final: it holds (or descends from) a transaction that lost a conflict.
    Rejected,
}

/// One vertex in the DAG.
#[derive(Debug)]
pub(crate) struct Node {
    pub(crate) vertex: Arc<Vertex>,
    pub(crate) status: VertexStatus,
    /// Vertices that name this one as a parent (any status).
    pub(crate) children: Vec<VertexId>,
    /// All transactions preferred and all parents preferred (or accepted).
    pub(crate) preferred: bool,
    /// All transactions without conflicts and all parents virtuous (or accepted).
    pub(crate) virtuous: bool,
}

/// The DAG store.
#[derive(Debug, Default)]
pub(crate) struct Dag {
    pub(crate) nodes: BTreeMap<VertexId, Node>,
    /// Processing vertices ordered by (height, id): parents before children.
    pub(crate) processing: BTreeSet<(u64, VertexId)>,
    /// Accepted vertices without accepted children.
    pub(crate) accepted_tips: BTreeSet<VertexId>,
    /// Bumped on every change, so callers can skip work when nothing moved.
    pub(crate) version: u64,
}

impl Dag {
    pub(crate) fn get(&self, id: &VertexId) -> Option<&Node> {
        self.nodes.get(id)
    }

    pub(crate) fn contains(&self, id: &VertexId) -> bool {
        self.nodes.contains_key(id)
    }

    pub(crate) fn status(&self, id: &VertexId) -> Option<VertexStatus> {
        self.nodes.get(id).map(|n| n.status)
    }

    pub(crate) fn height(&self, id: &VertexId) -> Option<u64> {
        self.nodes.get(id).map(|n| n.vertex.height())
    }

    /// Adds a vertex whose parents are all present.
    pub(crate) fn insert(&mut self, vertex: Arc<Vertex>, status: VertexStatus) {
        let id = vertex.id();
        for parent in vertex.parents() {
            if let Some(node) = self.nodes.get_mut(parent) {
                node.children.push(id);
            }
        }
        match status {
            VertexStatus::Processing => {
                self.processing.insert((vertex.height(), id));
            }
            VertexStatus::Accepted => self.add_accepted_tip(&vertex),
            VertexStatus::Rejected => {}
        }
        self.nodes.insert(
            id,
            Node {
                vertex,
                status,
                children: Vec::new(),
                preferred: false,
                virtuous: false,
            },
        );
        self.version += 1;
    }

    fn add_accepted_tip(&mut self, vertex: &Vertex) {
        for parent in vertex.parents() {
            self.accepted_tips.remove(parent);
        }
        self.accepted_tips.insert(vertex.id());
    }

    /// Marks a processing vertex accepted.
    pub(crate) fn set_accepted(&mut self, id: &VertexId) {
        let Some(node) = self.nodes.get_mut(id) else {
            return;
        };
        node.status = VertexStatus::Accepted;
        let vertex = node.vertex.clone();
        self.processing.remove(&(vertex.height(), *id));
        self.add_accepted_tip(&vertex);
        self.version += 1;
    }

    /// Marks a processing vertex rejected.
    pub(crate) fn set_rejected(&mut self, id: &VertexId) {
        let Some(node) = self.nodes.get_mut(id) else {
            return;
        };
        node.status = VertexStatus::Rejected;
        let height = node.vertex.height();
        self.processing.remove(&(height, *id));
        self.version += 1;
    }
}
