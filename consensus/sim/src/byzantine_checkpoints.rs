//! Byzantine checkpointers. A Byzantine relay whose plan sets
//! [`CheckpointMode`] other than `Silent` runs a real [`Checkpointer`]
//! (driven like an honest relay's, so it follows rounds, derives headers and
//! adopts certificates), and its outputs are rewritten by the plan before
//! they reach the network: withheld, equivocated (a different prevote or
//! signature to each half of the honest relays), or replaced by the
//! lock-splitting attack of `docs/checkpoints.md`.
//!
//! [`Checkpointer`]: ruv_consensus::checkpoint::Checkpointer

use crate::report::FailureKind;
use crate::workload::keys;
use crate::{sim_checkpoint_timing, sim_unix_epoch_ms, SimFailure, Simulation};
use rand_chacha::rand_core::RngCore;
use ruv_consensus::checkpoint::CheckpointOutput;
use ruv_consensus::message::Message;
use ruv_consensus::vertex::VertexId;
use ruv_protocol::checkpoint::{CheckpointHeader, Hash32};
use std::collections::BTreeMap;
use std::sync::Arc;

/// What a Byzantine relay does in checkpoint agreement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckpointMode {
    /// Runs no checkpointer: never prevotes, proposes or signs (the
    /// default, and what drawn plans do).
    Silent,
    /// Runs an honest checkpointer (its prevotes and signatures count).
    Honest,
    /// Runs a checkpointer but withholds its prevotes (proposals included)
    /// and/or its signatures (and every certificate it could serve).
    Withhold {
        /// Never sends a prevote or a proposal.
        prevotes: bool,
        /// Never sends a signature or a certificate.
        signatures: bool,
    },
    /// Equivocates: each prevote (and so each proposal) and each signature
    /// its checkpointer sends goes as it is to every other honest relay,
    /// and for a conflicting header (same anchor, 1 ms later: one that
    /// honest relays derive too) to the rest; it signs both headers.
    Equivocate,
    /// Splits honest locks (needs two Byzantine relays that propose
    /// consecutive rounds, both with this mode; otherwise it only
    /// withholds). When it proposes round `r` and its partner round
    /// `r + 1`, it proposes header `H1` (empty anchor) to just enough
    /// honest relays `G1` that their prevotes plus both Byzantine ones
    /// cross 2/3 while `G1` plus its own do not, and its partner prevotes
    /// `H1` only to a few honest relays `L1` (holding at least the honest
    /// stake minus 2/3, under 1/3): `L1` alone sees the proof of lock and
    /// signs `H1`. In round `r + 1` both prevote `H2` (same anchor, 1 ms
    /// later) to every other honest relay, which then sees a proof of lock
    /// for `H2` and signs it. It never releases a signature, so neither
    /// header can reach 2/3 and the number stalls for good. Its own
    /// checkpointer's prevotes, signatures and certificates are withheld.
    SplitLocks,
}

/// A lock-splitting attack in progress: round `round` done, `round + 1`
/// to come.
#[derive(Debug, Clone)]
struct Split {
    number: u64,
    round: u32,
    partner: usize,
    second: CheckpointHeader,
    /// Honest relays outside `L1`.
    free: Vec<usize>,
}

/// A Byzantine relay's checkpoint attack state.
#[derive(Debug, Default)]
pub(crate) struct CheckpointAttack {
    /// Conflicting twin of each header it prevoted or signed.
    twins: BTreeMap<Hash32, CheckpointHeader>,
    /// Numbers it attacked (or found it could not).
    attacked: Vec<u64>,
    split: Option<Split>,
    /// Splits started (both rounds sent).
    pub(crate) splits: u32,
    /// Conflicting twin prevotes and signatures sent.
    pub(crate) twins_sent: u64,
}

/// Where a checkpoint message goes: everyone, or one validator.
enum Target {
    All,
    One(usize),
}

impl Simulation<'_> {
    fn checkpoint_mode(&self, node: usize) -> CheckpointMode {
        self.nodes[node]
            .byzantine
            .as_ref()
            .map_or(CheckpointMode::Silent, |b| b.plan.checkpoints)
    }

    /// Executes a Byzantine relay's checkpointer outputs, rewritten by its
    /// plan (its persists and certifications are its own business).
    pub(crate) fn execute_byzantine_checkpoints(
        &mut self,
        node: usize,
        outputs: Vec<CheckpointOutput>,
    ) -> Result<(), SimFailure> {
        let mode = self.checkpoint_mode(node);
        for output in outputs {
            let (target, message) = match output {
                CheckpointOutput::Broadcast(message) => (Target::All, message),
                CheckpointOutput::Send { to, message } => (Target::One(to.0 as usize), message),
                // A Byzantine relay serves nothing from its store.
                CheckpointOutput::Persist(_)
                | CheckpointOutput::Certified { .. }
                | CheckpointOutput::SendStored { .. } => continue,
            };
            // A forwarded proof of lock counts as prevotes.
            let prevote = matches!(
                message,
                Message::CheckpointPrevote { .. } | Message::CheckpointPol { .. }
            );
            let signature = matches!(
                message,
                Message::CheckpointVote { .. } | Message::CheckpointCertified { .. }
            );
            let withheld = match mode {
                CheckpointMode::Silent | CheckpointMode::Honest | CheckpointMode::Equivocate => {
                    false
                }
                CheckpointMode::Withhold {
                    prevotes,
                    signatures,
                } => (prevote && prevotes) || (signature && signatures),
                CheckpointMode::SplitLocks => prevote || signature,
            };
            if withheld {
                continue;
            }
            let targets: Vec<usize> = match target {
                Target::All => (0..self.nodes.len()).collect(),
                Target::One(to) => vec![to],
            };
            let twin = match mode {
                CheckpointMode::Equivocate => self.twin_message(node, &message)?,
                _ => None,
            };
            let bytes = Arc::new(message.encode());
            let twin = twin.map(|m| Arc::new(m.encode()));
            for to in targets {
                let half_b = self
                    .honest
                    .iter()
                    .position(|h| *h == to)
                    .is_some_and(|i| i % 2 == 1);
                let chosen = match (&twin, half_b) {
                    (Some(twin), true) => {
                        if let Some(b) = self.nodes[node].byzantine.as_mut() {
                            b.checkpoint_attack.twins_sent += 1;
                        }
                        twin.clone()
                    }
                    _ => bytes.clone(),
                };
                self.record(node, &format!("byzantine checkpoint send {to}"), &chosen);
                self.send(node, to, chosen);
            }
        }
        Ok(())
    }

    /// The conflicting twin of a prevote or signature: the same anchor one
    /// millisecond later (derived here, so honest relays derive it too),
    /// signed with this relay's key for a signature.
    fn twin_message(
        &mut self,
        node: usize,
        message: &Message,
    ) -> Result<Option<Message>, SimFailure> {
        let (header_bytes, anchor, round, prevote) = match message {
            Message::CheckpointPrevote {
                round,
                header,
                anchor,
                ..
            } => (header, anchor, *round, true),
            Message::CheckpointVote {
                round,
                header,
                anchor,
                ..
            } => (header, anchor, *round, false),
            _ => return Ok(None),
        };
        let Ok(header) = CheckpointHeader::decode(header_bytes) else {
            return Ok(None);
        };
        let Some(twin) = self.twin_header(node, &header, anchor) else {
            return Ok(None);
        };
        if prevote {
            return self.signed_prevote(node, round, &twin, anchor).map(Some);
        }
        let mut randomness = [0u8; 32];
        self.rng.fill_bytes(&mut randomness);
        let signature = twin
            .sign_precommit(round, &keys().validators[node], randomness)
            .map_err(|e| self.fail(FailureKind::Harness, e.to_string()))?;
        Ok(Some(Message::CheckpointVote {
            round,
            header: twin.encode().into(),
            anchor: anchor.clone(),
            signature: signature.as_bytes().to_vec().into(),
        }))
    }

    /// A prevote for `header` in `round` signed with validator `from`'s key.
    fn signed_prevote(
        &mut self,
        from: usize,
        round: u32,
        header: &CheckpointHeader,
        anchor: &[VertexId],
    ) -> Result<Message, SimFailure> {
        let mut randomness = [0u8; 32];
        self.rng.fill_bytes(&mut randomness);
        let signature = header
            .sign_prevote(round, &keys().validators[from], randomness)
            .map_err(|e| self.fail(FailureKind::Harness, e.to_string()))?;
        Ok(Message::CheckpointPrevote {
            round,
            header: header.encode().into(),
            anchor: anchor.to_vec(),
            signature: signature.as_bytes().to_vec().into(),
        })
    }

    fn twin_header(
        &mut self,
        node: usize,
        header: &CheckpointHeader,
        anchor: &[VertexId],
    ) -> Option<CheckpointHeader> {
        let id = header.id();
        let n = &mut self.nodes[node];
        let (Some(byzantine), Some(checkpointer)) = (n.byzantine.as_mut(), n.checkpointer.as_mut())
        else {
            return None;
        };
        if let Some(twin) = byzantine.checkpoint_attack.twins.get(&id) {
            return Some(twin.clone());
        }
        if header.number != checkpointer.next_number() {
            return None;
        }
        let twin = checkpointer
            .derive_header(anchor, header.time_ms + 1)
            .ok()?;
        byzantine.checkpoint_attack.twins.insert(id, twin.clone());
        Some(twin)
    }

    /// The lock-splitting attack ([`CheckpointMode::SplitLocks`]), run after
    /// each of a Byzantine relay's batches: starts a split when it proposes
    /// this round and its partner the next, within the first quarter of the
    /// round; sends the second round's prevotes once that round began.
    pub(crate) fn split_locks(&mut self, node: usize) {
        if self.checkpoint_mode(node) != CheckpointMode::SplitLocks {
            return;
        }
        let unix_ms = sim_unix_epoch_ms(self.seed) + self.now;
        let timing = sim_checkpoint_timing();
        let n = &mut self.nodes[node];
        let (Some(byzantine), Some(checkpointer)) = (n.byzantine.as_mut(), n.checkpointer.as_mut())
        else {
            return;
        };
        let number = checkpointer.next_number();
        let round = checkpointer.current_round();
        if let Some(split) = byzantine.checkpoint_attack.split.clone() {
            if split.number != number || round > split.round + 1 {
                byzantine.checkpoint_attack.split = None;
            } else if round == split.round + 1 {
                byzantine.checkpoint_attack.split = None;
                byzantine.checkpoint_attack.splits += 1;
                for from in [split.partner, node] {
                    let Ok(prevote) = self.signed_prevote(from, round, &split.second, &[]) else {
                        return;
                    };
                    let prevote = Arc::new(prevote.encode());
                    self.record(from, "split-locks second round", &prevote);
                    for to in &split.free {
                        self.send(from, *to, prevote.clone());
                    }
                }
                return;
            } else {
                return;
            }
        }
        if byzantine.checkpoint_attack.attacked.contains(&number) {
            return;
        }
        // Rounds are counted from the latest certified header's time.
        let due = checkpointer.due_unix_ms();
        let latest_time = due.saturating_sub(timing.interval_ms);
        if unix_ms < due {
            return;
        }
        let into_round = (unix_ms - due) % timing.round_timeout_ms.max(1);
        if checkpointer.proposer(number, round).0 as usize != node
            || into_round > timing.round_timeout_ms / 4
        {
            return;
        }
        let partner = checkpointer.proposer(number, round.saturating_add(1)).0 as usize;
        byzantine.checkpoint_attack.attacked.push(number);
        let time = unix_ms.max(latest_time + 1);
        let (Ok(first), Ok(second)) = (
            checkpointer.derive_header(&[], time),
            checkpointer.derive_header(&[], time + 1),
        ) else {
            return;
        };
        let partner_splits = self.nodes.get(partner).is_some_and(|p| {
            partner != node
                && p.byzantine
                    .as_ref()
                    .is_some_and(|b| b.plan.checkpoints == CheckpointMode::SplitLocks)
        });
        if !partner_splits {
            return;
        }
        let Some((proposed_to, locked)) = self.split_groups(node, partner) else {
            return;
        };
        let free: Vec<usize> = self
            .honest
            .iter()
            .copied()
            .filter(|h| !locked.contains(h))
            .collect();
        let (Ok(prevote), Ok(partner_prevote)) = (
            self.signed_prevote(node, round, &first, &[]),
            self.signed_prevote(partner, round, &first, &[]),
        ) else {
            return;
        };
        let prevote = Arc::new(prevote.encode());
        let partner_prevote = Arc::new(partner_prevote.encode());
        self.record(node, "split-locks first round", &prevote);
        for to in &proposed_to {
            self.send(node, *to, prevote.clone());
        }
        for to in &locked {
            self.send(partner, *to, partner_prevote.clone());
        }
        tracing::debug!(
            node,
            partner,
            number,
            round,
            ?proposed_to,
            ?locked,
            "split locks"
        );
        if let Some(byzantine) = self.nodes[node].byzantine.as_mut() {
            byzantine.checkpoint_attack.split = Some(Split {
                number,
                round,
                partner,
                second,
                free,
            });
        }
    }

    /// The honest relays `G1` that get the first proposal and `L1` that get
    /// the partner's prevote too (a prefix of `G1`), or `None` where the
    /// stakes leave no such split.
    fn split_groups(&self, node: usize, partner: usize) -> Option<(Vec<usize>, Vec<usize>)> {
        let stake = |n: usize| self.scenario.stakes[n] as u128;
        let total: u128 = self.scenario.stakes.iter().map(|s| *s as u128).sum();
        let quorum = |s: u128| 3 * s > 2 * total;
        let honest: u128 = self.honest.iter().map(|n| stake(*n)).sum();
        let (mine, theirs) = (stake(node), stake(partner));
        let mut proposed_to = Vec::new();
        let mut g1 = 0u128;
        for n in &self.honest {
            if quorum(g1 + mine + theirs) {
                break;
            }
            proposed_to.push(*n);
            g1 += stake(*n);
        }
        if !quorum(g1 + mine + theirs) || quorum(g1 + mine) {
            return None;
        }
        let mut locked = Vec::new();
        let mut l1 = 0u128;
        for n in &proposed_to {
            if !quorum(honest - l1) {
                break;
            }
            locked.push(*n);
            l1 += stake(*n);
        }
        if quorum(honest - l1) || !quorum(honest - l1 + mine + theirs) {
            return None;
        }
        Some((proposed_to, locked))
    }
}
