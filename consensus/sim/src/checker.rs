//! Every invariant the simulator checks: safety (one accepted transfer per
//! sender and nonce), vertex order, ledger agreement and supply, checkpoint
//! agreement and locks, restored checkpoints, and at the end transfer and
//! checkpoint liveness (with the split-lock diagnosis).

use crate::network::Event;
use crate::report::{FailureKind, ResourcePeak};
use crate::{
    sim_checkpoint_timing, xor_into, SimFailure, Simulation, CHECKPOINT_QUIET_MS, CHECK_MS,
    SETTLE_QUIET_MS, SIM_CERTIFIED_IN_MEMORY, TRACE_CONTEXT,
};
use ruv_consensus::vertex::VertexId;
use ruv_consensus::{TxStatus, VertexStatus};
use ruv_protocol::checkpoint::Hash32;
use ruv_protocol::crypto::hash;
use ruv_protocol::TxId;
use std::collections::{BTreeMap, BTreeSet};

impl Simulation<'_> {
    /// After a restart: the re-derived checkpoints are the certified ones
    /// (the latest [`SIM_CERTIFIED_IN_MEMORY`] are kept in memory; the
    /// restore checked the older ones against the store and let them go).
    pub(crate) fn check_restored_checkpoints(&self, node: usize) -> Result<(), SimFailure> {
        let Some(checkpointer) = self.nodes[node].checkpointer.as_ref() else {
            return Ok(());
        };
        let certified = &self.nodes[node].store.certified;
        let kept = certified.len().saturating_sub(SIM_CERTIFIED_IN_MEMORY);
        for (index, stored) in certified.iter().enumerate() {
            let number = stored.certificate.header.number;
            let restored = checkpointer
                .certified(number)
                .map(|c| &c.certificate.header);
            let expected = (index >= kept).then_some(&stored.certificate.header);
            if restored != expected {
                return Err(self.fail(
                    FailureKind::Harness,
                    format!(
                        "relay {node}: checkpoint {number} restored as {:?}, stored {}",
                        restored.map(|h| h.id().to_string()),
                        stored.certificate.header.id()
                    ),
                ));
            }
        }
        Ok(())
    }

    pub(crate) fn check_liveness(&mut self) -> Result<(), SimFailure> {
        if self.live_at.is_none() {
            self.check_transfer_liveness()?;
        }
        let Some(live_at) = self.live_at else {
            return Ok(()); // the next check is scheduled
        };
        if !self.scenario.checkpoint_liveness {
            self.finished_at = Some(self.now);
            return Ok(());
        }
        let unsettled = self.unsettled_relays();
        if !unsettled.is_empty() {
            self.settled_at = None;
        }
        if self.settled_at.is_none() {
            if unsettled.is_empty() {
                self.settled_at = Some(self.now);
                self.settle_ms = self.now - live_at;
            } else if self.now >= live_at + SETTLE_QUIET_MS {
                let mut detail = format!(
                    "the honest relays' accepted vertex sets still differ {} ms after liveness (checkpoint signers need every anchor vertex accepted):",
                    self.now - live_at
                );
                for line in unsettled.iter().take(12) {
                    detail.push_str(&format!("\n    {line}"));
                }
                return Err(self.fail(FailureKind::CheckpointLiveness, detail));
            } else {
                self.schedule(self.now + CHECK_MS, Event::Check);
                return Ok(());
            }
        }
        let settled_at = self.settled_at.unwrap_or(live_at);
        let missing = self.missing_checkpoints();
        if missing.is_empty() {
            self.checkpoint_ms = self.now - settled_at;
            self.finished_at = Some(self.now);
            return Ok(());
        }
        if self.now >= settled_at + CHECKPOINT_QUIET_MS {
            let mut detail = format!(
                "checkpoints stopped: nothing certified for {} ms after the honest relays' accepted vertex sets became equal:",
                self.now - settled_at
            );
            for line in missing.iter().take(12) {
                detail.push_str(&format!("\n    {line}"));
            }
            for node in &self.honest {
                if let Some(checkpointer) = self.nodes[*node].checkpointer.as_ref() {
                    detail.push_str(&format!(
                        "\n    relay {node}: latest checkpoint {} metrics {:?}",
                        checkpointer
                            .latest()
                            .map_or(0, |c| c.certificate.header.number),
                        checkpointer.metrics()
                    ));
                }
            }
            if let Some(split) = self.split_lock() {
                detail.push_str(&format!("\n    {split}"));
            }
            return Err(self.fail(FailureKind::CheckpointLiveness, detail));
        }
        self.schedule(self.now + CHECK_MS, Event::Check);
        Ok(())
    }

    /// Whether the next number can never be certified because the honest
    /// relays' sign-once locks are split over headers none of which can
    /// reach the quorum without Byzantine signatures (which Byzantine relays
    /// withhold or, by default, never give).
    fn split_lock(&self) -> Option<String> {
        let number = self
            .honest
            .iter()
            .filter_map(|n| self.nodes[*n].checkpointer.as_ref())
            .map(|c| c.latest().map_or(0, |c| c.certificate.header.number))
            .max()?
            + 1;
        let total: u128 = self.scenario.stakes.iter().map(|s| *s as u128).sum();
        let stake = |n: &usize| self.scenario.stakes.get(*n).copied().unwrap_or(0) as u128;
        let mut locks: BTreeMap<Hash32, Vec<usize>> = BTreeMap::new();
        let mut free = 0u128;
        let mut in_partition = false;
        for node in &self.honest {
            match self.nodes[*node].store.signed {
                Some((n, header)) if n == number => {
                    locks.entry(header).or_default().push(*node);
                    in_partition |= self.cut_by_partition(self.nodes[*node].lock_signed_at);
                }
                _ => free += stake(node),
            }
        }
        let dead = locks.len() >= 2
            && locks
                .values()
                .all(|signers| 3 * (signers.iter().map(stake).sum::<u128>() + free) <= 2 * total);
        if !dead {
            return None;
        }
        let mut describe = format!(
            "split lock on checkpoint {number}: honest relays signed different headers and none can reach 2/3 of the stake {total} (unlocked honest stake {free}):"
        );
        for (header, signers) in &locks {
            describe.push_str(&format!(
                " header {header} signed by relays {signers:?} (stake {});",
                signers.iter().map(stake).sum::<u128>()
            ));
        }
        describe.push_str(if in_partition {
            " a partition cut some of those votes off"
        } else {
            " no partition cut those votes off"
        });
        Some(describe)
    }

    /// Whether a partition may have kept a vote signed at `at` from the
    /// other side: it was in place at some point between the signature and
    /// the first resend of the vote arriving (a round later at most).
    fn cut_by_partition(&self, at: u64) -> bool {
        let window = sim_checkpoint_timing().round_timeout_ms + self.scenario.latency_ms.1;
        self.partitions
            .iter()
            .any(|(start, heal)| *start <= at + window && *heal >= at)
    }

    /// Honest relays whose accepted vertex sets differ (a checkpoint's
    /// signers need every vertex of its anchor's closure accepted).
    fn unsettled_relays(&self) -> Vec<String> {
        let sets: BTreeSet<([u8; 32], u64)> = self
            .honest
            .iter()
            .map(|n| self.nodes[*n].accepted_set)
            .collect();
        if sets.len() <= 1 {
            return Vec::new();
        }
        self.honest
            .iter()
            .map(|n| {
                let set = self.nodes[*n].accepted_set;
                format!("relay {n}: {} vertices accepted", set.1)
            })
            .collect()
    }

    /// What is not certified yet: honest relays (all are up by now) without
    /// a certificate since the last accepted transfer, and accepted
    /// transfers in no honest relay's certified checkpoints.
    fn missing_checkpoints(&self) -> Vec<String> {
        let mut missing = Vec::new();
        // Every running honest relay catches up with the latest certificate.
        let latest = |node: &usize| {
            let n = &self.nodes[*node];
            n.engine.as_ref()?;
            let checkpointer = n.checkpointer.as_ref()?;
            Some(
                checkpointer
                    .latest()
                    .map_or(0, |c| c.certificate.header.number),
            )
        };
        let newest = self.honest.iter().filter_map(latest).max().unwrap_or(0);
        for node in &self.honest {
            if let Some(number) = latest(node).filter(|n| *n < newest) {
                missing.push(format!(
                    "relay {node} is at checkpoint {number}, behind the honest relays' {newest}"
                ));
            }
        }
        for node in &self.honest {
            let n = &self.nodes[*node];
            if n.engine.is_some() && !n.certified_since_last_tx {
                missing.push(format!(
                    "relay {node} certified no checkpoint after the last transfer was accepted"
                ));
            }
        }
        for id in self.accepted_by_key.values() {
            let included = self.honest.iter().any(|node| {
                self.nodes[*node]
                    .checkpointer
                    .as_ref()
                    .is_some_and(|c| c.included_in(id).is_some())
            });
            if !included {
                let honest = self
                    .tx_index
                    .get(id)
                    .is_some_and(|index| self.txs[*index].honest);
                let accepted_by: Vec<usize> =
                    self.honest
                        .iter()
                        .copied()
                        .filter(|node| {
                            self.nodes[*node].engine.as_ref().is_some_and(|e| {
                                matches!(e.tx_status(id), TxStatus::Accepted { .. })
                            })
                        })
                        .collect();
                missing.push(format!(
                    "accepted {} transfer {id:?} is in no certified checkpoint (accepted by honest relays {accepted_by:?})",
                    if honest { "honest" } else { "conflicting" }
                ));
            }
        }
        missing
    }

    fn check_transfer_liveness(&mut self) -> Result<(), SimFailure> {
        let missing = self.missing_honest_txs();
        if missing.is_empty() {
            self.liveness_ms = self.now - self.scenario.workload_ms;
            self.live_at = Some(self.now);
            return Ok(());
        }
        if self.now >= self.scenario.workload_ms + self.scenario.max_quiet_ms {
            let mut detail = format!(
                "{} honest transfers not accepted everywhere after the quiet period:",
                missing.len()
            );
            for (node, id) in missing.iter().take(8) {
                let status = self.nodes[*node].engine.as_ref().map(|e| e.tx_status(id));
                let client = self.tx_index.get(id).map(|i| &self.txs[*i]).map(|t| {
                    let relay = t.submitted_to;
                    let crashes = relay.map(|r| self.nodes[r].crashes);
                    format!(
                        "nonce {} submitted to {relay:?} at its crash count {} (now {crashes:?})",
                        t.tx.transfer.nonce, t.crashes_at_submit
                    )
                });
                detail.push_str(&format!("\n    relay {node}: {id:?} {status:?} {client:?}"));
            }
            for node in &self.honest {
                if let Some(engine) = self.nodes[*node].engine.as_ref() {
                    detail.push_str(&format!(
                        "\n    relay {node}: processing {} waiting {} pending txs {} accepted vertices {} metrics {:?}",
                        engine.processing_count(),
                        engine.waiting_count(),
                        engine.pending_tx_count(),
                        engine.metrics().vertices_accepted,
                        engine.metrics()
                    ));
                    detail.push_str(&engine.pending_report());
                }
            }
            return Err(self.fail(FailureKind::Liveness, detail));
        }
        self.schedule(self.now + CHECK_MS, Event::Check);
        Ok(())
    }

    /// (relay, transfer) pairs where an honest transfer is not accepted yet.
    fn missing_honest_txs(&self) -> Vec<(usize, TxId)> {
        let mut missing = Vec::new();
        for node in &self.honest {
            for tracked in self.txs.iter().filter(|t| t.honest) {
                let id = tracked.tx.id();
                let accepted = self.nodes[*node]
                    .engine
                    .as_ref()
                    .is_some_and(|e| matches!(e.tx_status(&id), TxStatus::Accepted { .. }));
                if !accepted {
                    missing.push((*node, id));
                }
            }
        }
        missing
    }

    /// Agreement on checkpoints: every honest relay that certified `number`
    /// certified the identical header.
    pub(crate) fn check_certified(&mut self, node: usize, number: u64) -> Result<(), SimFailure> {
        let Some(header) = self.nodes[node]
            .checkpointer
            .as_ref()
            .and_then(|c| c.certified(number))
            .map(|c| c.certificate.header.clone())
        else {
            return Err(self.fail(
                FailureKind::Harness,
                format!("relay {node} reported checkpoint {number} certified but does not have it"),
            ));
        };
        self.nodes[node].certified_since_last_tx = true;
        let Some((first, recorded)) = self.certified_headers.get(&number) else {
            self.certified_headers.insert(number, (node, header));
            return Ok(());
        };
        if *recorded == header {
            return Ok(());
        }
        let same_input = recorded.previous == header.previous
            && recorded.anchor == header.anchor
            && recorded.time_ms == header.time_ms;
        let (kind, what) = if same_input {
            (
                FailureKind::CheckpointDivergence,
                "from the same previous header, anchor and time",
            )
        } else {
            (FailureKind::CheckpointFork, "two certified headers")
        };
        Err(self.fail(
            kind,
            format!(
                "checkpoint {number}: relay {node} certified header {} but relay {first} certified header {} ({what}); state roots {} vs {}, previous {} vs {}, anchors {} vs {}, times {} vs {}",
                header.id(),
                recorded.id(),
                header.state_root,
                recorded.state_root,
                header.previous,
                recorded.previous,
                header.anchor,
                recorded.anchor,
                header.time_ms,
                recorded.time_ms,
            ),
        ))
    }

    /// Safety: one accepted transfer per (sender, nonce) across honest relays.
    pub(crate) fn check_conflicts(&mut self, node: usize, id: TxId) -> Result<(), SimFailure> {
        let Some(index) = self.tx_index.get(&id) else {
            return Err(self.fail(
                FailureKind::Safety,
                format!("relay {node} accepted unknown transfer {id:?}"),
            ));
        };
        let t = &self.txs[*index].tx.transfer;
        let key = (t.from, t.nonce);
        match self.accepted_by_key.get(&key) {
            Some(other) if *other != id => Err(self.fail(
                FailureKind::Safety,
                format!("relay {node} accepted {id:?} but an honest relay accepted the conflicting {other:?}"),
            )),
            Some(_) => Ok(()),
            None => {
                self.accepted_by_key.insert(key, id);
                Ok(())
            }
        }
    }

    pub(crate) fn check_vertex_order(
        &mut self,
        node: usize,
        id: VertexId,
    ) -> Result<(), SimFailure> {
        let Some(engine) = self.nodes[node].engine.as_ref() else {
            return Ok(());
        };
        let parents: Vec<VertexId> = engine
            .vertex(&id)
            .map(|v| v.parents().to_vec())
            .unwrap_or_default();
        for parent in parents {
            if engine.vertex_status(&parent) != Some(VertexStatus::Accepted) {
                return Err(self.fail(
                    FailureKind::Order,
                    format!("relay {node} accepted {id:?} before its parent {parent:?}"),
                ));
            }
        }
        let n = &mut self.nodes[node];
        xor_into(&mut n.accepted_set.0, &id.0);
        n.accepted_set.1 += 1;
        n.state_dirty = true;
        Ok(())
    }

    /// Counts the accepted copies of each transfer of an accepted vertex at
    /// an honest relay, against the scenario's limit.
    pub(crate) fn check_accepted_copies(
        &mut self,
        node: usize,
        vertex: VertexId,
    ) -> Result<(), SimFailure> {
        if !self.counted_vertices.insert((node, vertex)) {
            // Accepted again after a restart: already counted.
            return Ok(());
        }
        let Some(ids) = self.nodes[node]
            .engine
            .as_ref()
            .and_then(|e| e.vertex(&vertex))
            .map(|v| v.tx_ids().to_vec())
        else {
            return Ok(());
        };
        for id in ids {
            let copies = self.accepted_copies.entry((node, id)).or_insert(0);
            *copies += 1;
            let copies = *copies;
            self.peak.accepted_copies = self.peak.accepted_copies.max(copies);
            if copies > self.scenario.resource_limits.accepted_copies {
                return Err(self.fail(
                    FailureKind::Resource,
                    format!("relay {node} accepted transfer {id} in {copies} vertices"),
                ));
            }
        }
        Ok(())
    }

    /// Counts a vertex an honest relay stored or kept (persisted undecided,
    /// or rejected in memory) if a Byzantine relay issued it, against the
    /// scenario's `byzantine_stored`.
    pub(crate) fn check_byzantine_stored(
        &mut self,
        node: usize,
        id: VertexId,
    ) -> Result<(), SimFailure> {
        let issuer = self.nodes[node]
            .engine
            .as_ref()
            .and_then(|engine| engine.vertex(&id))
            .map(|vertex| vertex.issuer().0 as usize);
        let Some(issuer) = issuer else {
            return Ok(());
        };
        if !self.scenario.byzantine.contains(&issuer) || !self.byzantine_stored.insert((node, id)) {
            return Ok(());
        }
        let count = self.byzantine_stored_count.entry(node).or_insert(0);
        *count += 1;
        let count = *count;
        self.peak.byzantine_stored = self.peak.byzantine_stored.max(count);
        let limit = self.scenario.resource_limits.byzantine_stored;
        if count > limit {
            return Err(self.fail(
                FailureKind::Resource,
                format!("relay {node} stored {count} vertices of Byzantine relays (limit {limit})"),
            ));
        }
        Ok(())
    }

    /// Processing vertices, pending transactions and waiting vertices of an
    /// honest relay stay within the scenario's limits.
    fn check_resources(&mut self, node: usize) -> Result<(), SimFailure> {
        let Some(engine) = self.nodes[node].engine.as_ref() else {
            return Ok(());
        };
        let now = ResourcePeak {
            processing: engine.processing_count(),
            pending_txs: engine.pending_tx_count(),
            waiting: engine.waiting_count(),
            accepted_copies: 0,
            byzantine_stored: 0,
        };
        self.peak = self.peak.max(now);
        // Issuer budgets are sized so honest issuers never reach them.
        let refused_honest = engine
            .metrics()
            .issuer_budget_refusals
            .keys()
            .find(|issuer| !self.scenario.byzantine.contains(&(**issuer as usize)));
        if let Some(issuer) = refused_honest {
            return Err(self.fail(
                FailureKind::Resource,
                format!(
                    "relay {node} refused vertices of honest relay {issuer} for its issuer budget"
                ),
            ));
        }
        let limits = &self.scenario.resource_limits;
        if now.processing > limits.processing
            || now.pending_txs > limits.pending_txs
            || now.waiting > limits.waiting
        {
            return Err(self.fail(
                FailureKind::Resource,
                format!(
                    "relay {node} holds {} processing vertices, {} pending transactions, {} waiting vertices (limits {limits:?})",
                    now.processing, now.pending_txs, now.waiting
                ),
            ));
        }
        Ok(())
    }

    /// Resources; then supply, apply failures, and same accepted set =>
    /// same state.
    pub(crate) fn check_node(&mut self, node: usize) -> Result<(), SimFailure> {
        if self.nodes[node].byzantine.is_some() {
            return Ok(());
        }
        self.check_resources(node)?;
        if !self.nodes[node].state_dirty {
            return Ok(());
        }
        let Some(engine) = self.nodes[node].engine.as_ref() else {
            return Ok(());
        };
        if engine.metrics().apply_failures > 0 {
            return Err(self.fail(
                FailureKind::Apply,
                format!("relay {node}: an accepted transfer did not apply"),
            ));
        }
        let ledger = engine.ledger();
        let total = ledger.circulating() + ledger.burned() as u128;
        if total != self.genesis_supply {
            return Err(self.fail(
                FailureKind::Supply,
                format!(
                    "relay {node}: circulating + burned = {total}, genesis supply {}",
                    self.genesis_supply
                ),
            ));
        }
        let mut state = Vec::new();
        for (address, account) in ledger.accounts() {
            state.extend_from_slice(address.as_bytes());
            state.extend_from_slice(&account.balance.to_le_bytes());
            state.extend_from_slice(&account.nonce.to_le_bytes());
        }
        state.extend_from_slice(&ledger.burned().to_le_bytes());
        let digest = hash(TRACE_CONTEXT, &[&state]);
        let set = self.nodes[node].accepted_set;
        for other in &self.honest {
            let o = &self.nodes[*other];
            if *other != node
                && o.engine.is_some()
                && !o.state_dirty
                && o.accepted_set == set
                && o.state_digest != digest
            {
                return Err(self.fail(
                    FailureKind::Divergence,
                    format!("relays {node} and {other} accepted the same {} vertices but have different states", set.1),
                ));
            }
        }
        let n = &mut self.nodes[node];
        n.state_digest = digest;
        n.state_dirty = false;
        Ok(())
    }
}
