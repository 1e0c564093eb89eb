//! `/metrics` in Prometheus text format (prometheus-client, the Prometheus
//! project's own Rust client). Counters the relay updates as it works, plus
//! gauges sampled at scrape time.

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

/// Every series the relay exports.
pub struct Metrics {
    registry: Registry,
    /// Transactions received from clients.
    pub transactions_submitted: Counter,
    /// Transactions accepted (final).
    pub transactions_accepted: Counter,
    /// Transactions rejected (final, or refused on submission).
    pub transactions_rejected: Counter,
    /// Transactions expired undecided (failed to issue for the retry TTL).
    pub transactions_expired: Counter,
    /// Transfers refused by admission control (clients' and peers').
    pub admission_refused: Counter,
    /// Of those, submissions shed because the engine held more undecided
    /// transfers than it decides in `backpressure::QUEUE_TARGET`.
    pub admission_shed: Counter,
    /// Undecided transfers held before submissions are shed (see
    /// `backpressure`).
    pub admission_pending_limit: Gauge,
    /// Vertices accepted by consensus.
    pub vertices_accepted: Counter,
    /// Vertices rejected by consensus.
    pub vertices_rejected: Counter,
    /// Checkpoints certified (formed here or adopted from peers).
    pub checkpoints_certified: Counter,
    /// Consensus queries sent to peers.
    pub queries_sent: Gauge,
    /// Consensus queries answered by peers.
    pub queries_answered: Gauge,
    /// Consensus polls completed.
    pub polls: Gauge,
    /// Gossiped vertices turned away unstored as doomed (they could add
    /// nothing undecided; fetched again if ever needed).
    pub vertices_doomed: Gauge,
    /// Own undecided vertices sent again to a peer whose link came up.
    pub vertices_resent: Gauge,
    /// Accepted vertices settled: covered by a certified checkpoint, their
    /// transfers and signature dropped from memory (read from the database
    /// when a peer asks).
    pub vertices_settled: Gauge,
    /// Gossiped vertices refused because their issuer used up its budget
    /// of vertices and bytes (the engine's metrics name the issuer).
    pub vertices_over_issuer_budget: Gauge,
    /// Checkpoint rounds that ended without a certificate.
    pub checkpoint_round_timeouts: Gauge,
    /// Times this relay moved its checkpoint lock on a newer proof of lock.
    pub checkpoint_locks_moved: Gauge,
    /// Proofs of lock this relay forwarded to a proposer or a peer locked
    /// on an older round.
    pub checkpoint_pols_forwarded: Gauge,
    /// Checkpoint votes, proofs of lock or certificates dropped as invalid.
    pub checkpoint_invalid_messages: Gauge,
    /// Validators seen voting for two headers in one round.
    pub checkpoint_equivocations: Gauge,
    /// Peer messages dropped (unknown or unauthenticated senders, malformed, full queues).
    pub peer_messages_dropped: Gauge,
    /// Seconds from submission to acceptance on this relay.
    pub finality_seconds: Histogram,
    /// Authenticated peer links.
    pub peers_connected: Gauge,
    /// Peer links closed because the peer stopped reading.
    pub peer_links_closed_not_reading: Gauge,
    /// Transfer bytes peer links did not send because the peer had them.
    pub peer_transfer_bytes_elided: Gauge,
    /// Peer frames that failed to expand (each closed its link).
    pub peer_frames_dropped_unexpandable: Gauge,
    /// Open client WebSocket connections.
    pub websocket_connections: Gauge,
    /// Frames waiting in the peer inbound queue.
    pub peer_inbound_queue: Gauge,
    /// Inputs waiting for the consensus engine.
    pub engine_queue: Gauge,
    /// Transactions known but not yet decided.
    pub pending_transactions: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Registers every series under the `ruv_` prefix.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("ruv");
        let metrics = Self {
            transactions_submitted: Counter::default(),
            transactions_accepted: Counter::default(),
            transactions_rejected: Counter::default(),
            transactions_expired: Counter::default(),
            admission_refused: Counter::default(),
            admission_shed: Counter::default(),
            admission_pending_limit: Gauge::default(),
            vertices_accepted: Counter::default(),
            vertices_rejected: Counter::default(),
            checkpoints_certified: Counter::default(),
            queries_sent: Gauge::default(),
            queries_answered: Gauge::default(),
            polls: Gauge::default(),
            vertices_doomed: Gauge::default(),
            vertices_resent: Gauge::default(),
            vertices_settled: Gauge::default(),
            vertices_over_issuer_budget: Gauge::default(),
            checkpoint_round_timeouts: Gauge::default(),
            checkpoint_locks_moved: Gauge::default(),
            checkpoint_pols_forwarded: Gauge::default(),
            checkpoint_invalid_messages: Gauge::default(),
            checkpoint_equivocations: Gauge::default(),
            peer_messages_dropped: Gauge::default(),
            // 1 ms .. ~16 s
            finality_seconds: Histogram::new(exponential_buckets(0.001, 2.0, 15)),
            peers_connected: Gauge::default(),
            peer_links_closed_not_reading: Gauge::default(),
            peer_transfer_bytes_elided: Gauge::default(),
            peer_frames_dropped_unexpandable: Gauge::default(),
            websocket_connections: Gauge::default(),
            peer_inbound_queue: Gauge::default(),
            engine_queue: Gauge::default(),
            pending_transactions: Gauge::default(),
            registry: Registry::default(),
        };
        let r = &mut registry;
        r.register(
            "transactions_submitted",
            "Transactions received from clients",
            metrics.transactions_submitted.clone(),
        );
        r.register(
            "transactions_accepted",
            "Transactions accepted (final)",
            metrics.transactions_accepted.clone(),
        );
        r.register(
            "transactions_rejected",
            "Transactions rejected (final or refused)",
            metrics.transactions_rejected.clone(),
        );
        r.register(
            "transactions_expired",
            "Transactions expired undecided, their nonce unused (e.g. a nonce gap that never closed)",
            metrics.transactions_expired.clone(),
        );
        r.register(
            "admission_refused",
            "Transfers refused at ingress by admission control (clients' and peers')",
            metrics.admission_refused.clone(),
        );
        r.register(
            "admission_shed",
            "Submissions shed (mempool_full) because the relay held more undecided transfers than the network decides in its queue target (docs/relay.md, Admission control)",
            metrics.admission_shed.clone(),
        );
        r.register(
            "admission_pending_limit",
            "Undecided transfers held before new submissions are shed",
            metrics.admission_pending_limit.clone(),
        );
        r.register(
            "vertices_accepted",
            "Vertices accepted by consensus",
            metrics.vertices_accepted.clone(),
        );
        r.register(
            "vertices_rejected",
            "Vertices rejected by consensus",
            metrics.vertices_rejected.clone(),
        );
        r.register(
            "checkpoints_certified",
            "Checkpoints certified by more than 2/3 of the stake",
            metrics.checkpoints_certified.clone(),
        );
        r.register(
            "consensus_queries_sent",
            "Consensus queries sent to peers (total)",
            metrics.queries_sent.clone(),
        );
        r.register(
            "consensus_queries_answered",
            "Consensus queries answered by peers (total)",
            metrics.queries_answered.clone(),
        );
        r.register(
            "consensus_polls",
            "Consensus polls completed (total)",
            metrics.polls.clone(),
        );
        r.register(
            "consensus_vertices_doomed",
            "Gossiped vertices turned away unstored as doomed (total)",
            metrics.vertices_doomed.clone(),
        );
        r.register(
            "consensus_vertices_resent",
            "Own undecided vertices sent again to a peer whose link came up (total)",
            metrics.vertices_resent.clone(),
        );
        r.register(
            "consensus_vertices_settled",
            "Accepted vertices covered by a certified checkpoint whose transfers left memory (read from the database when a peer asks)",
            metrics.vertices_settled.clone(),
        );
        r.register(
            "consensus_vertices_over_issuer_budget",
            "Gossiped vertices refused because their issuer is over its budget (total)",
            metrics.vertices_over_issuer_budget.clone(),
        );
        r.register(
            "checkpoint_round_timeouts",
            "Checkpoint rounds that ended without a certificate (total)",
            metrics.checkpoint_round_timeouts.clone(),
        );
        r.register(
            "checkpoint_locks_moved",
            "Checkpoint locks moved to a header with a newer proof of lock (total)",
            metrics.checkpoint_locks_moved.clone(),
        );
        r.register(
            "checkpoint_pols_forwarded",
            "Proofs of lock forwarded to a proposer or a peer locked on an older round (total)",
            metrics.checkpoint_pols_forwarded.clone(),
        );
        r.register(
            "checkpoint_invalid_messages",
            "Checkpoint votes, proofs of lock or certificates dropped as invalid (total)",
            metrics.checkpoint_invalid_messages.clone(),
        );
        r.register(
            "checkpoint_equivocations",
            "Validators seen voting for two headers in one round (total)",
            metrics.checkpoint_equivocations.clone(),
        );
        r.register("peer_messages_dropped", "Peer messages dropped: unknown or unauthenticated senders, malformed, full queues (total)", metrics.peer_messages_dropped.clone());
        r.register(
            "finality_seconds",
            "Seconds from submission to acceptance on this relay",
            metrics.finality_seconds.clone(),
        );
        r.register(
            "peers_connected",
            "Authenticated peer links",
            metrics.peers_connected.clone(),
        );
        r.register(
            "peer_links_closed_not_reading",
            "Peer links closed because the peer stopped reading (total)",
            metrics.peer_links_closed_not_reading.clone(),
        );
        r.register(
            "peer_transfer_bytes_elided",
            "Transfer bytes peer links left out of vertices because the peer had them as gossip (total; docs/peer-links.md)",
            metrics.peer_transfer_bytes_elided.clone(),
        );
        r.register(
            "peer_frames_dropped_unexpandable",
            "Compact vertex frames from peers that failed to expand; each closed its link (total)",
            metrics.peer_frames_dropped_unexpandable.clone(),
        );
        r.register(
            "websocket_connections",
            "Open client WebSocket connections",
            metrics.websocket_connections.clone(),
        );
        r.register(
            "peer_inbound_queue_depth",
            "Frames waiting in the peer inbound queue",
            metrics.peer_inbound_queue.clone(),
        );
        r.register(
            "engine_queue_depth",
            "Inputs waiting for the consensus engine",
            metrics.engine_queue.clone(),
        );
        r.register(
            "pending_transactions",
            "Transactions known but not decided",
            metrics.pending_transactions.clone(),
        );
        Self {
            registry,
            ..metrics
        }
    }

    /// The text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_prometheus_text() {
        let m = Metrics::new();
        m.transactions_accepted.inc();
        m.finality_seconds.observe(0.05);
        let text = m.render();
        assert!(text.contains("ruv_transactions_accepted_total 1"), "{text}");
        assert!(text.contains("ruv_finality_seconds_bucket"), "{text}");
        assert!(text.contains("# EOF"));
    }
}
