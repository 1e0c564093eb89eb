//! Faults: relays crash (losing everything but their store) and restart from
//! what they persisted; the network splits in two for a while and heals.

use crate::network::Event;
use crate::report::FailureKind;
use crate::{checkpoint_config, engine_config, xor_into, SimFailure, Simulation};
use ruv_consensus::checkpoint::Checkpointer;
use ruv_consensus::{Engine, Input, PersistedState, ValidatorIndex, Vertex};
use std::sync::Arc;

impl Simulation<'_> {
    /// Schedules the scenario's partition and crashes (after the workload's
    /// transfers and before the attacks, as the RNG draws go).
    pub(crate) fn plan_faults(&mut self) {
        let scenario = self.scenario;
        let workload = scenario.workload_ms;
        if let Some(plan) = &scenario.partition_plan {
            let side = (0..self.nodes.len())
                .map(|n| plan.side_a.contains(&n))
                .collect();
            self.schedule(plan.start_ms, Event::Partition { side });
            let end = (plan.start_ms + plan.length_ms).min(workload);
            self.schedule(end, Event::Heal);
        } else if scenario.partition {
            let start = 200 + self.random(workload / 2);
            let length = 500 + self.random(2_000);
            let end = (start + length).min(workload);
            let count = self.nodes.len();
            let minority = 1 + self.random((count / 2) as u64) as usize;
            let mut side = vec![false; count];
            let mut chosen = 0;
            while chosen < minority {
                let node = self.random(count as u64) as usize;
                if !side[node] {
                    side[node] = true;
                    chosen += 1;
                }
            }
            self.schedule(start, Event::Partition { side });
            self.schedule(end, Event::Heal);
        }
        if let Some(outage) = &scenario.outage {
            self.schedule(outage.start_ms, Event::Crash { node: outage.node });
            let back = (outage.start_ms + outage.down_ms).min(workload);
            self.schedule(back, Event::Restart { node: outage.node });
        }
        for _ in 0..scenario.crashes {
            let node = self.random_honest();
            let at = 100 + self.random(workload.saturating_sub(700));
            let down = 300 + self.random(1_500);
            self.schedule(at, Event::Crash { node });
            self.schedule((at + down).min(workload), Event::Restart { node });
        }
    }

    /// A relay crashes: its engine and checkpointer are gone, its store stays.
    pub(crate) fn crash(&mut self, node: usize) {
        self.nodes[node].checkpointer = None;
        if self.nodes[node].engine.take().is_some() {
            self.nodes[node].crashes += 1;
            self.crashes += 1;
            tracing::debug!(node, at = self.now, "crash");
        }
    }

    /// The network splits: messages between the two sides are lost.
    pub(crate) fn partition(&mut self, side: Vec<bool>) {
        self.partition = Some(side);
        self.partitions.push((self.now, u64::MAX));
    }

    /// The partition heals.
    /// Ends the partition; the links across it come up again, and each
    /// end is told so, as the relay's driver tells its engine.
    pub(crate) fn heal(&mut self) -> Result<(), SimFailure> {
        let n = self.nodes.len();
        let cut: Vec<(usize, usize)> = (0..n)
            .flat_map(|a| (0..n).map(move |b| (a, b)))
            .filter(|&(a, b)| a != b && self.partitioned(a, b))
            .collect();
        self.partition = None;
        if let Some(last) = self.partitions.last_mut() {
            last.1 = last.1.min(self.now);
        }
        for (a, b) in cut {
            self.feed(
                a,
                Input::PeerConnected {
                    peer: ValidatorIndex(b as u16),
                },
            )?;
        }
        Ok(())
    }

    pub(crate) fn restart(&mut self, node: usize) -> Result<(), SimFailure> {
        if self.nodes[node].engine.is_some() {
            // An armed crash that found no batch before the restart is due
            // never happened.
            self.nodes[node].crash_armed = false;
            return Ok(());
        }
        let state = PersistedState {
            accepted: self.nodes[node].store.accepted.clone(),
            processing: self.nodes[node]
                .store
                .processing
                .values()
                .cloned()
                .collect(),
        };
        let config = engine_config(&self.genesis, node, self.seed, self.nodes[node].crashes);
        let mut out = Vec::new();
        let engine = Engine::restore(config, &state, &mut out).map_err(|e| {
            self.fail(
                FailureKind::Harness,
                format!("relay {node} cannot restart: {e}"),
            )
        })?;
        let mut accepted_set = ([0u8; 32], 0u64);
        for bytes in &state.accepted {
            xor_into(&mut accepted_set.0, &Vertex::id_of(bytes).0);
            accepted_set.1 += 1;
        }
        // As the relay does at start: the checkpointer re-derives every
        // stored checkpoint from the accepted log it had on disk.
        let checkpointer = if self.nodes[node].byzantine.is_none() {
            let mut vertices = Vec::with_capacity(state.accepted.len());
            for bytes in &state.accepted {
                let vertex = Vertex::decode(bytes).map_err(|e| {
                    self.fail(
                        FailureKind::Harness,
                        format!("relay {node}: a stored vertex does not decode: {e}"),
                    )
                })?;
                vertices.push(Arc::new(vertex));
            }
            let store = &self.nodes[node].store;
            let config =
                checkpoint_config(&self.genesis, node, self.seed, self.nodes[node].crashes);
            let restored = Checkpointer::restore(
                config,
                vertices,
                store.certified.clone(),
                store.signed_lock.clone(),
            )
            .map_err(|e| {
                self.fail(
                    FailureKind::Harness,
                    format!("relay {node}: the checkpointer cannot restart: {e}"),
                )
            })?;
            Some(restored)
        } else {
            None
        };
        let n = &mut self.nodes[node];
        n.engine = Some(engine);
        n.checkpointer = checkpointer;
        n.accepted_set = accepted_set;
        n.state_dirty = true;
        tracing::debug!(node, at = self.now, "restart");
        self.check_restored_checkpoints(node)?;
        self.process(node, out)?;
        // Its links come up again: both ends are told.
        for other in 0..self.nodes.len() {
            if other == node || self.nodes[other].engine.is_none() {
                continue;
            }
            self.feed(
                node,
                Input::PeerConnected {
                    peer: ValidatorIndex(other as u16),
                },
            )?;
            self.feed(
                other,
                Input::PeerConnected {
                    peer: ValidatorIndex(node as u16),
                },
            )?;
        }
        Ok(())
    }
}
