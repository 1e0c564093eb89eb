//! Checkpoint agreement: how relays turn the accepted DAG into a linear
//! sequence of certified checkpoints that light clients verify.
//!
//! # Overview
//!
//! Checkpoint `n` covers `S(n) = S(n-1) ∪ closure(anchor(n))`, where the
//! anchor is up to [`MAX_ANCHOR_VERTICES`] accepted vertex ids. Given the
//! anchor, every honest relay derives the same header (see `state.rs`), so
//! agreeing on a checkpoint is agreeing on its anchor and time:
//!
//! - Rounds. Number `n` is due [`CheckpointTiming::interval_ms`] after the
//!   time in header `n - 1`, on the wall clock; rounds of
//!   [`CheckpointTiming::round_timeout_ms`] count from there, and round `r`
//!   has one proposer, validator `(n + r) mod N`. Every relay agrees on
//!   header `n - 1`, so every relay agrees on whose turn it is however late
//!   it accepted the vertices, certified `n - 1` or restarted (relay clocks
//!   must agree to well within a round). In the first half of its round the
//!   proposer picks the tips of its accepted, not yet covered vertices as
//!   the anchor (or none: a heartbeat, once
//!   [`CheckpointTiming::heartbeat_ms`] passed since header `n - 1`; with
//!   neither it stays silent), derives the header and broadcasts it as its
//!   prevote for that round ([`Message::CheckpointPrevote`]). A proposer
//!   bound to a header proposes that one instead, any time in its round
//!   (Tendermint's valid-value rule): the header of the newest proof of
//!   lock it holds (and it broadcasts the proof with it), else the header it
//!   is locked on, else the checkable header with the most precommit stake
//!   in one round.
//! - Prevotes (phase 1), signed by the validator key over `round || header`
//!   (context `ruv/prevote/v1`). A validator prevotes the round's proposal
//!   once per round, once it derived the same header itself from the
//!   anchor (it waits for the anchor's vertices to be accepted), unless it
//!   is locked on another header.
//! - Proofs of lock ("POL", [`ProofOfLock`]): signed prevotes of more than
//!   2/3 of the stake for one header in one round. A validator locked on
//!   `A` with a POL of round `r` moves its lock to `B` only when shown a
//!   valid POL for `B` from a round after `r`; stale or forged proofs are
//!   refused with a [`PolError`].
//! - Precommits (phase 2), over `round || header` (context
//!   `ruv/precommit/v1`): only in the round of a POL this relay holds, only
//!   a header it derived, never two headers in one round, never in a round
//!   before its last precommit. The lock ([`SignedLock`]: number, precommit
//!   round, POL round, header) is persisted ([`CheckpointPersist::Signed`])
//!   before the precommit is released, and again when it moves.
//! - Certificates. Precommits of more than 2/3 of the stake on one header
//!   *in one round* make a certificate naming that round (the smallest set
//!   of signers that crosses the threshold). Its holder broadcasts it; every
//!   relay adopts a valid certificate for its next number once it derived
//!   the same header, and asks a peer for certificates it missed.
//! - Forwarding. Halfway through each round a validator sends the newest
//!   POL it holds to the next round's proposer, and it sends it to any peer
//!   that prevotes another header in a later round (each once per peer and
//!   POL round), so honest locks converge on the newest proof.
//! - Timeouts. A round without a certificate ends after
//!   [`CheckpointTiming::round_timeout_ms`]; the next validator proposes.
//!   Halfway through every round each validator resends its last precommit
//!   and its prevote of that round, for whoever missed them. A relay that
//!   is behind keeps precommits for its next number but one and replays
//!   them when it catches up; a restarted relay neither prevotes nor
//!   proposes in its first round (it may have prevoted before the crash).
//!
//! Safety (Tendermint's argument, Byzantine stake below 1/3): if more than
//! 2/3 precommit `A` in round `r`, the honest ones among them (more than
//! 1/3) are locked on `A` from `r` on; the first of them to prevote another
//! header after `r` would need a POL for it from a round after `r`, which
//! needs one of them to have prevoted it earlier. So no POL for another
//! header forms after `r`, and none in `r` (that needs more than 1/3 to
//! prevote twice): no certificate for another header in any round.
//!
//! Liveness: honest locks split over headers (by partitions, or by
//! Byzantine proposers showing proofs selectively: the `checkpoint-split`
//! simulator scenario) converge, because the newest POL moves every lock
//! resting on an older one and is forwarded to the next proposer, which
//! re-proposes its header; once the network delivers within a round the
//! honest stake alone certifies it. `docs/checkpoints.md` has the details.
//!
//! # Calling convention
//!
//! Like [`crate::Engine`]: `handle(input, &mut out)` with no I/O inside.
//! Inputs: [`CheckpointInput::Tick`] (monotonic and wall-clock time),
//! [`CheckpointInput::VertexAccepted`] for every vertex the engine accepts,
//! in acceptance order, and [`CheckpointInput::Peer`] for checkpoint
//! messages the engine passed through ([`crate::Output::Checkpoint`]).
//! Outputs, executed in order: persist requests (durable before anything
//! after them is sent), messages, and [`CheckpointOutput::Certified`] events.
//! Queries: [`Checkpointer::latest`], [`Checkpointer::certified`],
//! [`Checkpointer::prove_account`], [`Checkpointer::prove_transaction`].

mod pol;
mod state;
mod store;

pub use pol::{PolError, ProofOfLock};
pub use store::{SignedLock, StoredCheckpoint, SIGNED_LOCK_VERSION};

use crate::message::Message;
use crate::vertex::{ValidatorIndex, Vertex, VertexId};
use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;
use ruv_protocol::checkpoint::{
    anchor_hash, Certificate, CheckpointHeader, Hash32, ValidatorSet, MAX_ANCHOR_VERTICES,
};
use ruv_protocol::light::{AccountProof, TransactionProof};
use ruv_protocol::snapshot::StateSnapshot;
use ruv_protocol::{Address, Genesis, Ledger, Signature, SignedTransfer, SigningKey, TxId};
pub use state::{
    closure_added, CertifiedState, DeriveError, Derived, Pending, StateDelta, TxLocation,
};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;

/// How often checkpoints are proposed and how long a round lasts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckpointTiming {
    /// While vertices are being accepted, propose this long after the last
    /// certificate (the cadence target is a certificate every 500 ms).
    pub interval_ms: u64,
    /// With nothing new, propose a heartbeat this long after the last
    /// certificate (target: at most 30 s).
    pub heartbeat_ms: u64,
    /// A round without a certificate ends after this long.
    pub round_timeout_ms: u64,
    /// Headers dated further than this into this relay's future are not signed.
    pub max_clock_skew_ms: u64,
}

impl Default for CheckpointTiming {
    fn default() -> Self {
        Self {
            interval_ms: 250,
            heartbeat_ms: 5_000,
            round_timeout_ms: 2_000,
            max_clock_skew_ms: 30_000,
        }
    }
}

/// Everything a checkpointer starts from.
#[derive(Debug, Clone)]
pub struct CheckpointConfig {
    /// The network's genesis.
    pub genesis: Genesis,
    /// This relay's validator key (a genesis validator).
    pub signing_key: Arc<SigningKey>,
    /// Seed of the signing randomness.
    pub rng_seed: [u8; 32],
    /// Cadence and timeouts.
    pub timing: CheckpointTiming,
    /// How many of the latest certified checkpoints stay in memory (at
    /// least 1); older ones are answered from the driver's store
    /// ([`CheckpointOutput::SendStored`]). Relays keep
    /// [`CERTIFIED_IN_MEMORY`]; the simulator keeps fewer, so that relays
    /// back from an outage are served from the store.
    pub keep_certified: usize,
}

/// What the driver hands the checkpointer.
#[derive(Debug, Clone)]
pub enum CheckpointInput {
    /// Time passed.
    Tick {
        /// Monotonic milliseconds (any epoch), as the engine's (unused:
        /// rounds follow header times on the wall clock).
        now_ms: u64,
        /// Milliseconds since the Unix epoch (header times and rounds).
        unix_ms: u64,
    },
    /// The engine accepted this vertex (parents before children).
    VertexAccepted(Arc<Vertex>),
    /// A checkpoint message from an authenticated validator.
    Peer {
        /// The sender.
        from: ValidatorIndex,
        /// The message.
        message: Message,
    },
}

/// What the checkpointer asks the driver to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckpointPersist {
    /// "I signed this header for its number": store before sending the
    /// vote (with the header and anchor: see [`SignedLock`]).
    Signed(Box<SignedLock>),
    /// A certified checkpoint, to serve and to restore from.
    Certified(Box<StoredCheckpoint>),
}

/// What the checkpointer asks the driver to do, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckpointOutput {
    /// Store durably before executing later outputs.
    Persist(CheckpointPersist),
    /// Send to every other validator.
    Broadcast(Message),
    /// Send to one validator.
    Send {
        /// The recipient.
        to: ValidatorIndex,
        /// The message.
        message: Message,
    },
    /// A new certified checkpoint is the latest (it follows the
    /// [`CheckpointPersist::Certified`] that stores it).
    Certified {
        /// Its number.
        number: u64,
        /// The accounts it changed, in address order (one input may adopt
        /// several checkpoints; each names its own).
        changed: Vec<Address>,
    },
    /// Send validator `to` certified checkpoint `number` (its
    /// [`StoredCheckpoint::to_message`]) read from the driver's store: it is
    /// older than those kept here ([`CheckpointConfig::keep_certified`]).
    SendStored {
        /// The recipient.
        to: ValidatorIndex,
        /// The checkpoint (persisted as [`CheckpointPersist::Certified`]).
        number: u64,
    },
}

/// Certified checkpoints a relay's checkpointer keeps in memory, the latest
/// ones ([`CheckpointConfig::keep_certified`]).
/// Each holds a certificate with more than 2/3 of the stake's ML-DSA-65
/// signatures (about 3.3 KB each); a heartbeat every few seconds made them
/// grow without bound even on an idle network. Older ones are in the
/// driver's store, which answers for them
/// ([`CheckpointOutput::SendStored`]).
pub const CERTIFIED_IN_MEMORY: usize = 64;

/// Why a checkpointer cannot start or restore.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointError {
    /// The genesis is unusable for checkpoints.
    #[error("the genesis cannot anchor checkpoints")]
    Genesis,
    /// The genesis validator set cannot sign certificates.
    #[error(transparent)]
    ValidatorSet(#[from] ruv_protocol::checkpoint::CheckpointError),
    /// The signing key is not a genesis validator's.
    #[error("the signing key is not one of the genesis validators")]
    NotAValidator,
    /// A stored checkpoint does not follow from the stored accepted vertices.
    #[error("stored checkpoint {number} does not match the accepted log: {reason}")]
    Restore {
        /// The checkpoint number.
        number: u64,
        /// Why.
        reason: String,
    },
}

/// Counters for `/metrics` and tests.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckpointMetrics {
    /// Checkpoints certified (formed here or adopted).
    pub certified: u64,
    /// Precommits this relay signed.
    pub signed: u64,
    /// Votes, proofs of lock or certificates dropped as invalid.
    pub invalid_messages: u64,
    /// Validators seen prevoting or precommitting two different headers in
    /// one round.
    pub equivocations: u64,
    /// Rounds that ended without a certificate.
    pub round_timeouts: u64,
    /// Times this relay moved its lock to a header with a newer proof of lock.
    pub locks_moved: u64,
    /// Proofs of lock this relay sent to a proposer or a peer locked on an
    /// older round.
    pub pols_forwarded: u64,
}

/// Rounds of precommits kept per validator and number (the latest ones):
/// bounds memory against a validator precommitting in many rounds.
const PRECOMMIT_ROUNDS_KEPT: usize = 4;

/// One header someone prevoted or precommitted in the current number.
#[derive(Debug)]
struct Candidate {
    header: CheckpointHeader,
    anchor: Vec<VertexId>,
    /// Precommits by round: round -> validator -> signature. Only
    /// precommits of one round add up to a certificate.
    precommits: BTreeMap<u32, BTreeMap<u16, Signature>>,
    /// Derived here and equal: signable.
    checked: Option<Derived>,
    /// Never signable (does not apply, or derives another header).
    invalid: bool,
    /// `accepted_version` of the last derivation that was still pending:
    /// derived again only once more vertices are accepted.
    pending_at: Option<u64>,
}

/// A precommit for a number this relay has not reached yet (checked on replay).
#[derive(Debug)]
struct EarlyVote {
    number: u64,
    round: u32,
    header: Vec<u8>,
    anchor: Vec<VertexId>,
    signature: Vec<u8>,
}

/// This validator's lock for a number: the header it precommitted (or
/// moved to on a newer proof of lock), the round of its last precommit and
/// the round of the proof of lock the lock rests on. Persisted as a
/// [`SignedLock`] before any precommit leaves the relay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Lock {
    number: u64,
    header: Hash32,
    round: u32,
    pol_round: u32,
}

/// The number being agreed on.
#[derive(Debug)]
struct Round {
    round: u32,
    /// When the number became due (wall clock; rounds count from here),
    /// once this relay saw it due.
    due_ms: Option<u64>,
    /// This relay proposed in `round` (it is the proposer).
    proposed: bool,
    /// The round in which this relay last resent its vote and prevote.
    resent: Option<u32>,
    candidates: BTreeMap<Hash32, Candidate>,
    /// The header each validator precommitted, by (validator, round)
    /// (equivocation check), and the rounds kept per validator.
    precommitted: HashMap<(u16, u32), Hash32>,
    precommit_rounds: HashMap<u16, BTreeSet<u32>>,
    /// Signed prevotes of the current round and the next (clocks differ a
    /// little): round -> validator -> (header, signature).
    prevotes: BTreeMap<u32, HashMap<u16, (Hash32, Signature)>>,
    /// The header the proposer of a round proposed, by round.
    proposals: BTreeMap<u32, Hash32>,
    /// The round this relay prevoted in, for what, and its signature.
    prevoted: Option<(u32, Hash32, Signature)>,
    /// The latest proof of lock this relay holds (formed here or
    /// forwarded): Tendermint's valid value, what it proposes when its turn
    /// comes and what it precommits in that proof's round.
    valid: Option<ProofOfLock>,
    /// Proofs of lock forwarded, by (peer, proof round): each at most once.
    pols_sent: HashSet<(u16, u32)>,
}

/// The checkpoint state machine of one relay. See the module docs.
#[derive(Debug)]
pub struct Checkpointer {
    me: ValidatorIndex,
    key: Arc<SigningKey>,
    validators: ValidatorSet,
    timing: CheckpointTiming,
    /// [`CheckpointConfig::keep_certified`].
    keep_certified: usize,
    rng: ChaCha20Rng,
    unix_ms: u64,

    state: CertifiedState,
    /// Accepted vertices not yet covered by a certified checkpoint.
    accepted: HashMap<VertexId, Arc<Vertex>>,
    /// Bumped when `accepted` grows: waiting candidates retry then.
    accepted_version: u64,
    /// Certified checkpoints, by number.
    certified: BTreeMap<u64, StoredCheckpoint>,
    /// The vertices each certified checkpoint added, in application order
    /// (served to follower relays; 32 bytes a vertex).
    covered_by: BTreeMap<u64, Vec<VertexId>>,
    /// Certificates received ahead of the next number.
    ahead: BTreeMap<u64, StoredCheckpoint>,
    /// While behind: the latest peer that showed a certified number above
    /// ours (a certificate, or a vote for a later number), and that number.
    /// Each adoption asks it for the next one, so a relay back from an
    /// outage catches up one round trip per checkpoint instead of one
    /// network round (a heartbeat, when idle) per checkpoint.
    catch_up: Option<(ValidatorIndex, u64)>,
    /// No fresh proposals before this wall-clock time (set to one round
    /// after the first tick following a restore).
    quiet_until: u64,
    restored: bool,
    /// Precommits for the number after the next one (this relay is
    /// behind), at most one per validator: replayed once this relay catches
    /// up, so a relay that certifies late still sees what others precommitted.
    early_votes: BTreeMap<u16, EarlyVote>,
    /// This relay's lock for the number being agreed on, if any (persisted).
    lock: Option<Lock>,
    round: Round,
    metrics: CheckpointMetrics,
}

impl Checkpointer {
    /// A checkpointer at genesis.
    pub fn new(config: CheckpointConfig) -> Result<Self, CheckpointError> {
        let validators = ValidatorSet::from_genesis(&config.genesis)?;
        let me = (0..validators.len())
            .find(|i| {
                validators
                    .get(*i)
                    .is_some_and(|(k, _)| k == config.signing_key.public_key())
            })
            .ok_or(CheckpointError::NotAValidator)?;
        let state = CertifiedState::genesis(&config.genesis, &validators)?;
        Ok(Self {
            me: ValidatorIndex(me as u16),
            key: config.signing_key,
            validators,
            timing: config.timing,
            keep_certified: config.keep_certified.max(1),
            rng: ChaCha20Rng::from_seed(config.rng_seed),
            unix_ms: 0,
            state,
            accepted: HashMap::new(),
            accepted_version: 0,
            certified: BTreeMap::new(),
            covered_by: BTreeMap::new(),
            ahead: BTreeMap::new(),
            catch_up: None,
            early_votes: BTreeMap::new(),
            quiet_until: 0,
            restored: false,
            lock: None,
            round: Round::new(),
            metrics: CheckpointMetrics::default(),
        })
    }

    /// Rebuilds a checkpointer after a restart: the accepted vertices in
    /// acceptance order (the engine's accepted log), the stored certified
    /// checkpoints in order, and the last persisted signature (its lock).
    pub fn restore(
        config: CheckpointConfig,
        accepted: impl IntoIterator<Item = Arc<Vertex>>,
        stored: impl IntoIterator<Item = StoredCheckpoint>,
        signed: Option<SignedLock>,
    ) -> Result<Self, CheckpointError> {
        let mut this = Self::new(config)?;
        for vertex in accepted {
            this.accepted.insert(vertex.id(), vertex);
        }
        for checkpoint in stored {
            this.restore_next(checkpoint)?;
        }
        this.finish_restore(signed);
        Ok(this)
    }

    /// Rebuilds a checkpointer after a restart from a state snapshot at a
    /// stored certified checkpoint instead of from genesis: the checkpoints
    /// up to the snapshot are not re-derived (their covered vertices are
    /// found from their anchors, a walk over parent links), the ones after
    /// it are, from the accepted vertices. Transactions included up to the
    /// snapshot have no inclusion proofs or history here (see
    /// `docs/checkpoints.md`, "Snapshots and restarts").
    pub fn restore_from_snapshot(
        config: CheckpointConfig,
        snapshot: &StateSnapshot,
        accepted: impl IntoIterator<Item = Arc<Vertex>>,
        stored: Vec<StoredCheckpoint>,
        signed: Option<SignedLock>,
    ) -> Result<Self, CheckpointError> {
        let base = snapshot.checkpoint;
        let fail = |number: u64, reason: String| CheckpointError::Restore { number, reason };
        let mut this = Self::new(config.clone())?;
        for vertex in accepted {
            this.accepted.insert(vertex.id(), vertex);
        }
        let mut covered: HashSet<VertexId> = HashSet::new();
        let mut later = Vec::new();
        let mut header = None;
        for (expected, checkpoint) in (1..).zip(stored) {
            let number = checkpoint.certificate.header.number;
            if number != expected {
                return Err(fail(number, "not the next number".into()));
            }
            if number > base {
                later.push(checkpoint);
                continue;
            }
            let added = closure_added(&checkpoint.anchor, &this.accepted, &covered);
            covered.extend(added.iter().copied());
            this.covered_by.insert(number, added);
            if number == base {
                header = Some(checkpoint.certificate.header.clone());
            }
            this.certified.insert(number, checkpoint);
        }
        if base > 0 {
            let header = header.ok_or_else(|| fail(base, "no stored certificate".into()))?;
            this.state = CertifiedState::from_snapshot(
                &config.genesis,
                &this.validators,
                &header,
                snapshot,
                covered,
            )
            .map_err(|e| fail(base, e.to_string()))?;
            for id in this.covered_by.values().flatten() {
                this.accepted.remove(id);
            }
        }
        for checkpoint in later {
            this.restore_next(checkpoint)?;
        }
        this.finish_restore(signed);
        Ok(this)
    }

    /// Re-derives a stored checkpoint from the accepted vertices and adopts it.
    fn restore_next(&mut self, checkpoint: StoredCheckpoint) -> Result<(), CheckpointError> {
        let number = checkpoint.certificate.header.number;
        let fail = |reason: String| CheckpointError::Restore { number, reason };
        if number != self.state.latest().number + 1 {
            return Err(fail("not the next number".into()));
        }
        let derived = self
            .state
            .derive(
                &checkpoint.anchor,
                checkpoint.certificate.header.time_ms,
                &self.accepted,
            )
            .map_err(|e| fail(format!("{e:?}")))?;
        if derived.header != checkpoint.certificate.header {
            return Err(fail("derives another header".into()));
        }
        self.adopt_derived(derived, checkpoint);
        Ok(())
    }

    fn finish_restore(&mut self, signed: Option<SignedLock>) {
        self.forget_old_certified();
        self.round = Round::new();
        if let Some(lock) = signed {
            self.lock = Some(Lock {
                number: lock.number,
                header: lock.header_id,
                round: lock.round,
                pol_round: lock.pol_round,
            });
            // The locked header, so this relay can propose and prevote it
            // again however many relays restarted since.
            if lock.number == self.next_number() && lock.header.id() == lock.header_id {
                self.round
                    .candidates
                    .insert(lock.header_id, Candidate::new(lock.header, lock.anchor));
            }
        }
        self.restored = true;
    }

    /// The full state as of the latest certified checkpoint.
    pub fn state_snapshot(&self) -> StateSnapshot {
        self.state.snapshot()
    }

    /// What changed in the state persisted `lag` checkpoints behind the
    /// latest (see [`CertifiedState::take_delta`]); a driver that persists
    /// state calls this after each batch and stores the delta in the same
    /// commit as the batch's certificates.
    pub fn take_state_delta(&mut self, lag: u64) -> Option<StateDelta> {
        self.state.take_delta(lag)
    }

    /// Feeds one input; appends what the driver must do to `out`, in order.
    pub fn handle(&mut self, input: CheckpointInput, out: &mut Vec<CheckpointOutput>) {
        self.forget_old_certified();
        match input {
            // Rounds follow header times on the wall clock (see the module
            // docs); the monotonic clock is not needed.
            CheckpointInput::Tick { unix_ms, .. } => {
                self.unix_ms = self.unix_ms.max(unix_ms);
                if self.restored {
                    self.restored = false;
                    self.quiet_until = self.unix_ms.saturating_add(self.timing.round_timeout_ms);
                }
                self.on_tick(out);
            }
            CheckpointInput::VertexAccepted(vertex) => {
                if !self.state.is_covered(&vertex.id()) {
                    self.accepted.insert(vertex.id(), vertex);
                    self.accepted_version += 1;
                }
            }
            CheckpointInput::Peer { from, message } => self.on_message(from, message, out),
        }
        self.progress(out);
    }

    /// The latest certified checkpoint.
    pub fn latest(&self) -> Option<&StoredCheckpoint> {
        self.certified.values().next_back()
    }

    /// A certified checkpoint by number, if it is one of the latest
    /// [`CheckpointConfig::keep_certified`]; older ones are in the driver's
    /// store.
    pub fn certified(&self, number: u64) -> Option<&StoredCheckpoint> {
        self.certified.get(&number)
    }

    /// Sends checkpoint `number` to `to`, from memory or (older, but
    /// certified here) from the driver's store.
    fn send_certified(&self, to: ValidatorIndex, number: u64, out: &mut Vec<CheckpointOutput>) {
        match self.certified.get(&number) {
            Some(stored) => out.push(CheckpointOutput::Send {
                to,
                message: stored.to_message(),
            }),
            None if number >= 1 && number < self.next_number() => {
                out.push(CheckpointOutput::SendStored { to, number })
            }
            None => {}
        }
    }

    /// Keeps the latest [`CheckpointConfig::keep_certified`] certified
    /// checkpoints (and, until the next input, those the last one adopted).
    fn forget_old_certified(&mut self) {
        while self.certified.len() > self.keep_certified {
            self.certified.pop_first();
        }
    }

    /// The vertices certified checkpoint `number` added (the closure of its
    /// anchor minus what earlier checkpoints covered), in application order.
    pub fn covered_vertices(&self, number: u64) -> Option<&[VertexId]> {
        self.covered_by.get(&number).map(Vec::as_slice)
    }

    /// The ledger as of the latest certified checkpoint.
    pub fn certified_ledger(&self) -> &Ledger {
        self.state.ledger()
    }

    /// An account with its proof against the latest certified checkpoint
    /// (None before the first certificate).
    pub fn prove_account(&mut self, address: &Address) -> Option<AccountProof> {
        self.latest()?;
        Some(self.state.prove_account(address))
    }

    /// A transaction's inclusion proof, once a certified checkpoint holds it.
    pub fn prove_transaction(&mut self, id: &TxId) -> Option<TransactionProof> {
        self.state.prove_transaction(id)
    }

    /// The inclusion proof of the transaction that used `nonce` of `from`
    /// (how a client proves its own transaction lost: another one took the nonce).
    pub fn prove_nonce(&mut self, from: &Address, nonce: u64) -> Option<TransactionProof> {
        self.state.prove_nonce(from, nonce)
    }

    /// A page of an account's verified history, newest first: the included
    /// transactions it sent or received at positions below `before`, at most
    /// `limit`, each with its inclusion proof (see `CertifiedState::history`).
    pub fn history<E>(
        &mut self,
        address: &Address,
        before: Option<u64>,
        limit: usize,
        bodies: impl FnOnce(&[Option<TxLocation>]) -> Result<Vec<Option<SignedTransfer>>, E>,
    ) -> Result<ruv_protocol::api::AccountHistory, E> {
        self.state
            .history(address, before, limit, &self.covered_by, bodies)
    }

    /// The first checkpoint whose transactions have proofs here (see
    /// [`CertifiedState::proofs_from`]).
    pub fn proofs_from(&self) -> u64 {
        self.state.proofs_from()
    }

    /// Whether accepted vertex `vertex`'s transactions were included before
    /// [`Self::proofs_from`]: their proofs are not served here.
    pub fn proof_pruned(&self, vertex: &VertexId) -> bool {
        self.state.proof_pruned(vertex)
    }

    /// Whether an accepted vertex is covered by a certified checkpoint.
    pub fn is_covered(&self, vertex: &VertexId) -> bool {
        self.state.is_covered(vertex)
    }

    /// Whether the transaction that used `(from, nonce)` was included
    /// before [`Self::proofs_from`]: its proof is not served here.
    pub fn nonce_proof_pruned(&self, from: &Address, nonce: u64) -> bool {
        self.state.nonce_proof_pruned(from, nonce)
    }

    /// Accounts whose state changed in the latest certified checkpoint.
    pub fn latest_changes(&self) -> &[Address] {
        self.state.latest_changes()
    }

    /// The checkpoint a transaction was first included in.
    pub fn included_in(&self, id: &TxId) -> Option<u64> {
        self.state.included_in(id)
    }

    /// The header `anchor` and `time_ms` give for the next number here
    /// (a query: nothing is stored). Simulated Byzantine validators use it
    /// to forge headers honest relays derive too.
    pub fn derive_header(
        &mut self,
        anchor: &[VertexId],
        time_ms: u64,
    ) -> Result<CheckpointHeader, DeriveError> {
        self.state
            .derive(anchor, time_ms, &self.accepted)
            .map(|derived| derived.header)
    }

    /// Counters since start.
    pub fn metrics(&self) -> &CheckpointMetrics {
        &self.metrics
    }

    /// The number being agreed on now.
    pub fn next_number(&self) -> u64 {
        self.state.latest().number + 1
    }

    /// The proposer of `round` of `number`.
    pub fn proposer(&self, number: u64, round: u32) -> ValidatorIndex {
        let n = self.validators.len() as u64;
        ValidatorIndex(((number + round as u64) % n.max(1)) as u16)
    }

    /// When the next number is due, on the wall clock: the latest certified
    /// header's time plus the interval. Every relay agrees on that header,
    /// so every relay counts the same rounds from the same moment, however
    /// late it accepted the vertices, certified the latest number or
    /// restarted.
    pub fn due_unix_ms(&self) -> u64 {
        self.state
            .latest()
            .time_ms
            .saturating_add(self.timing.interval_ms)
    }

    /// The round of the next number at this relay's wall-clock time (0
    /// before it is due).
    pub fn current_round(&self) -> u32 {
        (self.unix_ms.saturating_sub(self.due_unix_ms()) / self.timing.round_timeout_ms.max(1))
            .min(u32::MAX as u64) as u32
    }

    fn on_tick(&mut self, out: &mut Vec<CheckpointOutput>) {
        if self.unix_ms < self.due_unix_ms() {
            return;
        }
        let round = self.current_round();
        if self.round.due_ms.is_none() {
            // First tick with this number due: join the round in progress.
            self.round.due_ms = Some(self.due_unix_ms());
            self.round.round = round;
        }
        if round > self.round.round {
            let number = self.next_number();
            // Rounds in which nobody proposed (an idle network waiting for
            // its heartbeat) are not timeouts.
            if self.lock_for(number).is_some() || !self.round.candidates.is_empty() {
                self.metrics.round_timeouts += 1;
                tracing::warn!(
                    number,
                    round = self.round.round,
                    candidates = ?self
                        .round
                        .candidates
                        .iter()
                        .map(|(id, c)| (*id, c.best_precommit_stake(&self.validators), c.checked.is_some(), c.invalid))
                        .collect::<Vec<_>>(),
                    lock = ?self.lock,
                    "checkpoint round ended without a certificate"
                );
            }
            self.round.round = round;
            self.round.proposed = false;
            // Prevotes count only in their own round.
            self.round.prevotes.retain(|r, _| *r >= round);
            self.round.proposals.retain(|r, _| *r >= round);
        }
        // Halfway through each round, resend this relay's last precommit
        // and this round's prevote, for whoever missed them, and hand the
        // latest proof of lock it holds to the next round's proposer, so
        // that one re-proposes the locked header with its proof (honest
        // locks on different headers then converge on the newest proof).
        let timeout = self.timing.round_timeout_ms.max(1);
        let into_round = self.unix_ms.saturating_sub(self.due_unix_ms()) % timeout;
        if into_round >= timeout / 2 && self.round.resent != Some(round) {
            self.round.resent = Some(round);
            if let Some(lock) = self.lock_for(self.next_number()) {
                if let Some(vote) = self.own_vote(lock.round, &lock.header) {
                    out.push(CheckpointOutput::Broadcast(vote));
                }
            }
            if let Some((r, id, _)) = &self.round.prevoted {
                if *r == round {
                    if let Some(prevote) = self.own_prevote(round, &id.clone()) {
                        out.push(CheckpointOutput::Broadcast(prevote));
                    }
                }
            }
            let next = self.proposer(self.next_number(), round.saturating_add(1));
            if next != self.me {
                self.forward_pol(next, out);
            }
        }
        if self.proposer(self.next_number(), self.round.round) != self.me || self.round.proposed {
            return;
        }
        if self.unix_ms < self.quiet_until {
            return; // a restarted relay prevotes nothing in its first round
        }
        // Re-proposing what it holds a proof of lock for, is locked on, or
        // saw some validator precommit never adds a header: any time in the
        // round.
        if self.backed_header().is_some() {
            self.propose(out);
            return;
        }
        // A fresh header needs new accepted vertices or the heartbeat, and
        // only in the first half of the round (so it reaches everyone, and
        // the votes are resent, before the next proposer's turn), and not
        // in the first round after a restart (votes sent while this relay
        // was down are resent meanwhile). A proposer that cannot propose
        // stays silent and may speak later in its round.
        let heartbeat = self.unix_ms
            >= self
                .state
                .latest()
                .time_ms
                .saturating_add(self.timing.heartbeat_ms);
        let first_half = into_round < timeout / 2;
        if (!self.accepted.is_empty() || heartbeat) && first_half {
            self.propose(out);
        }
    }

    /// This relay's lock, if it is for `number`.
    fn lock_for(&self, number: u64) -> Option<Lock> {
        self.lock.filter(|l| l.number == number)
    }

    /// Sends the latest proof of lock held here to `to`, once per (peer,
    /// proof round).
    fn forward_pol(&mut self, to: ValidatorIndex, out: &mut Vec<CheckpointOutput>) {
        let Some(pol) = &self.round.valid else {
            return;
        };
        if self.round.pols_sent.insert((to.0, pol.round)) {
            self.metrics.pols_forwarded += 1;
            out.push(CheckpointOutput::Send {
                to,
                message: pol.to_message(),
            });
        }
    }

    /// The header this relay must propose instead of a fresh one, if any
    /// (Tendermint's valid-value rule): the header of the latest proof of
    /// lock it holds; else the one it is locked on; else the checkable one
    /// with the most precommit stake in one round (an honest precommitter
    /// saw a proof of lock for it).
    fn backed_header(&self) -> Option<Hash32> {
        if let Some(pol) = &self.round.valid {
            return Some(pol.header_id());
        }
        if let Some(lock) = self.lock_for(self.next_number()) {
            return Some(lock.header);
        }
        self.round
            .candidates
            .iter()
            .filter(|(_, c)| !c.invalid)
            .map(|(id, c)| (c.best_precommit_stake(&self.validators), *id))
            .filter(|(stake, _)| *stake > 0)
            .max()
            .map(|(_, id)| id)
    }

    /// This relay's turn: propose the header it is bound to (see
    /// [`Self::backed_header`]), with the proof of lock it holds for it, or
    /// a fresh one. The proposal is the proposer's prevote.
    fn propose(&mut self, out: &mut Vec<CheckpointOutput>) {
        let round = self.round.round;
        if let Some(id) = self.backed_header() {
            self.round.proposed = true;
            self.round.proposals.entry(round).or_insert(id);
            if let Some(pol) = &self.round.valid {
                if pol.header_id() == id && pol.round < round {
                    self.metrics.pols_forwarded += 1;
                    out.push(CheckpointOutput::Broadcast(pol.to_message()));
                }
            }
            // Prevoted in `progress` once derived here.
            return;
        }
        let anchor = self.fresh_anchor();
        let time_ms = self.unix_ms.max(self.state.latest().time_ms + 1);
        match self.state.derive(&anchor, time_ms, &self.accepted) {
            Ok(derived) => {
                self.round.proposed = true;
                let header = derived.header.clone();
                let id = header.id();
                let mut candidate = Candidate::new(header, derived.anchor.clone());
                candidate.checked = Some(derived);
                self.round.candidates.insert(id, candidate);
                self.round.proposals.entry(round).or_insert(id);
            }
            Err(error) => {
                // Our own accepted set always derives; say so if it does not.
                tracing::error!(
                    ?error,
                    "cannot derive a checkpoint from this relay's accepted vertices"
                );
            }
        }
    }

    /// The tips of the accepted, not yet covered vertices (highest first,
    /// at most [`MAX_ANCHOR_VERTICES`]).
    pub fn fresh_anchor(&self) -> Vec<VertexId> {
        let parents: HashSet<&VertexId> = self
            .accepted
            .values()
            .flat_map(|v| v.parents().iter())
            .collect();
        let mut tips: Vec<(u64, VertexId)> = self
            .accepted
            .values()
            .filter(|v| !parents.contains(&v.id()))
            .map(|v| (v.height(), v.id()))
            .collect();
        tips.sort_by(|a, b| b.cmp(a));
        tips.truncate(MAX_ANCHOR_VERTICES);
        tips.into_iter().map(|(_, id)| id).collect()
    }

    fn own_vote(&self, round: u32, id: &Hash32) -> Option<Message> {
        let candidate = self.round.candidates.get(id)?;
        let signature = candidate.precommits.get(&round)?.get(&self.me.0)?;
        Some(Message::CheckpointVote {
            round,
            header: candidate.header.encode().into(),
            anchor: candidate.anchor.clone(),
            signature: signature.as_bytes().to_vec().into(),
        })
    }

    fn own_prevote(&self, round: u32, id: &Hash32) -> Option<Message> {
        let candidate = self.round.candidates.get(id)?;
        let (_, _, signature) = self
            .round
            .prevoted
            .as_ref()
            .filter(|(r, h, _)| *r == round && h == id)?;
        Some(Message::CheckpointPrevote {
            round,
            header: candidate.header.encode().into(),
            anchor: candidate.anchor.clone(),
            signature: signature.as_bytes().to_vec().into(),
        })
    }

    /// Signs and sends a prevote for a checked candidate in the current
    /// round (once per round).
    fn prevote(&mut self, id: Hash32, out: &mut Vec<CheckpointOutput>) {
        let round = self.round.round;
        let mut randomness = [0u8; 32];
        self.rng.fill_bytes(&mut randomness);
        let Some(candidate) = self.round.candidates.get(&id) else {
            return;
        };
        let Ok(signature) = candidate.header.sign_prevote(round, &self.key, randomness) else {
            return; // retried on the next progress
        };
        self.round.prevoted = Some((round, id, signature.clone()));
        self.round
            .prevotes
            .entry(round)
            .or_default()
            .insert(self.me.0, (id, signature));
        if let Some(prevote) = self.own_prevote(round, &id) {
            out.push(CheckpointOutput::Broadcast(prevote));
        }
    }

    /// Whether this relay may prevote `id` now: not locked for this
    /// number, or locked on `id` (a lock moves only on a newer proof of
    /// lock, in [`Self::hold_pol`]).
    fn may_prevote(&self, id: &Hash32) -> bool {
        self.lock_for(self.next_number())
            .is_none_or(|lock| lock.header == *id)
    }

    /// Precommits a checked candidate in `round`, the round of a proof of
    /// lock this relay holds: never a second header in one round, never in
    /// a round before its last precommit. The lock is persisted first.
    fn precommit(&mut self, id: Hash32, round: u32, out: &mut Vec<CheckpointOutput>) {
        let number = self.next_number();
        if let Some(lock) = self.lock_for(number) {
            if lock.round > round || (lock.round == round && lock.header != id) {
                return;
            }
            // Only a proof of lock at least as new as the lock's may carry
            // a precommit for another header (hold_pol moved the lock then).
            if lock.header != id && lock.pol_round >= round {
                return;
            }
        }
        let mut randomness = [0u8; 32];
        self.rng.fill_bytes(&mut randomness);
        let Some(candidate) = self.round.candidates.get_mut(&id) else {
            return;
        };
        if candidate
            .precommits
            .get(&round)
            .is_some_and(|p| p.contains_key(&self.me.0))
        {
            return;
        }
        let Ok(signature) = candidate
            .header
            .sign_precommit(round, &self.key, randomness)
        else {
            return; // retried on the next progress
        };
        let lock = Lock {
            number,
            header: id,
            round,
            pol_round: round,
        };
        self.lock = Some(lock);
        self.metrics.signed += 1;
        out.push(CheckpointOutput::Persist(CheckpointPersist::Signed(
            Box::new(SignedLock {
                number,
                round,
                pol_round: round,
                header_id: id,
                header: candidate.header.clone(),
                anchor: candidate.anchor.clone(),
            }),
        )));
        candidate
            .precommits
            .entry(round)
            .or_default()
            .insert(self.me.0, signature);
        self.round.precommitted.insert((self.me.0, round), id);
        if let Some(vote) = self.own_vote(round, &id) {
            out.push(CheckpointOutput::Broadcast(vote));
        }
    }

    /// Takes a verified proof of lock for the current number: it becomes
    /// the valid value when newer than the one held, and a lock on another
    /// header from an older proof moves to it (persisted before anything
    /// after it is sent).
    fn hold_pol(&mut self, pol: ProofOfLock, out: &mut Vec<CheckpointOutput>) {
        let id = pol.header_id();
        let number = self.next_number();
        self.round
            .candidates
            .entry(id)
            .or_insert_with(|| Candidate::new(pol.header.clone(), pol.anchor.clone()));
        if let Some(lock) = self.lock_for(number) {
            if pol.round > lock.pol_round {
                if lock.header != id {
                    self.metrics.locks_moved += 1;
                    tracing::info!(
                        number,
                        from = ?lock.header,
                        from_round = lock.pol_round,
                        to = ?id,
                        to_round = pol.round,
                        "checkpoint lock moved to a newer proof of lock"
                    );
                }
                let moved = Lock {
                    header: id,
                    pol_round: pol.round,
                    ..lock
                };
                self.lock = Some(moved);
                out.push(CheckpointOutput::Persist(CheckpointPersist::Signed(
                    Box::new(SignedLock {
                        number,
                        round: moved.round,
                        pol_round: moved.pol_round,
                        header_id: id,
                        header: pol.header.clone(),
                        anchor: pol.anchor.clone(),
                    }),
                )));
            }
        }
        if self
            .round
            .valid
            .as_ref()
            .is_none_or(|v| pol.round > v.round)
        {
            self.round.valid = Some(pol);
        }
    }

    fn on_message(
        &mut self,
        from: ValidatorIndex,
        message: Message,
        out: &mut Vec<CheckpointOutput>,
    ) {
        match message {
            Message::CheckpointVote {
                round,
                header,
                anchor,
                signature,
            } => self.on_vote(from, round, &header, anchor, &signature, out),
            Message::CheckpointPrevote {
                round,
                header,
                anchor,
                signature,
            } => self.on_prevote(from, round, &header, anchor, &signature, out),
            Message::CheckpointPol {
                round,
                header,
                anchor,
                prevotes,
            } => {
                let result = ProofOfLock::from_parts(round, &header, anchor, &prevotes)
                    .and_then(|pol| self.on_pol(from, pol, out));
                if let Err(error) = result {
                    if !matches!(error, PolError::Stale { .. }) {
                        tracing::debug!(from = from.0, %error, "proof of lock refused");
                        self.metrics.invalid_messages += 1;
                    }
                }
            }
            Message::CheckpointCertified {
                certificate,
                anchor,
            } => self.on_certified(from, &certificate, anchor, out),
            Message::GetCheckpoint { number } => self.send_certified(from, number, out),
            _ => {}
        }
    }

    /// A forwarded proof of lock: checked (typed errors) and held.
    fn on_pol(
        &mut self,
        from: ValidatorIndex,
        pol: ProofOfLock,
        out: &mut Vec<CheckpointOutput>,
    ) -> Result<(), PolError> {
        let expected = self.next_number();
        if !self.is_current(from, &pol.header, &pol.anchor, out) {
            return Err(PolError::NotCurrent { expected });
        }
        let current = self.current_round();
        if pol.round > current.saturating_add(1) {
            return Err(PolError::FutureRound {
                round: pol.round,
                current,
            });
        }
        let held = self
            .round
            .valid
            .as_ref()
            .map(|v| v.round)
            .into_iter()
            .chain(self.lock_for(expected).map(|l| l.pol_round))
            .max();
        if let Some(held) = held {
            if pol.round <= held {
                return Err(PolError::Stale {
                    round: pol.round,
                    held,
                });
            }
        }
        pol.verify(&self.validators)?;
        self.hold_pol(pol, out);
        Ok(())
    }

    fn on_vote(
        &mut self,
        from: ValidatorIndex,
        round: u32,
        header_bytes: &[u8],
        anchor: Vec<VertexId>,
        signature: &[u8],
        out: &mut Vec<CheckpointOutput>,
    ) {
        let Some((key, _)) = self.validators.get(from.0 as usize).cloned() else {
            self.metrics.invalid_messages += 1;
            return;
        };
        let (Ok(header), Ok(signature)) = (
            CheckpointHeader::decode(header_bytes),
            Signature::from_bytes(signature),
        ) else {
            self.metrics.invalid_messages += 1;
            return;
        };
        // We may be behind: keep a precommit for the number after ours for
        // when we catch up (the relay asks the voter for what we missed).
        if header.number == self.next_number() + 1 {
            self.early_votes.insert(
                from.0,
                EarlyVote {
                    number: header.number,
                    round,
                    header: header_bytes.to_vec(),
                    anchor: anchor.clone(),
                    signature: signature.as_bytes().to_vec(),
                },
            );
        }
        if !self.is_current(from, &header, &anchor, out) {
            return;
        }
        // Precommits come only from rounds somebody reached (a sender's
        // clock may be a little ahead).
        if round > self.current_round().saturating_add(1) {
            self.metrics.invalid_messages += 1;
            return;
        }
        if !header.verify_precommit(round, &key, &signature) {
            self.metrics.invalid_messages += 1;
            return;
        }
        let id = header.id();
        match self.round.precommitted.get(&(from.0, round)) {
            Some(previous) if *previous != id => {
                self.metrics.equivocations += 1;
                return;
            }
            Some(_) => return, // a repeat
            None => {}
        }
        // Keep the latest few rounds of each validator's precommits.
        let rounds = self.round.precommit_rounds.entry(from.0).or_default();
        rounds.insert(round);
        if rounds.len() > PRECOMMIT_ROUNDS_KEPT {
            let oldest = rounds.pop_first();
            if oldest == Some(round) {
                return;
            }
            if let Some(oldest) = oldest {
                if let Some(old) = self.round.precommitted.remove(&(from.0, oldest)) {
                    if let Some(c) = self.round.candidates.get_mut(&old) {
                        if let Some(p) = c.precommits.get_mut(&oldest) {
                            p.remove(&from.0);
                        }
                    }
                }
            }
        }
        self.round.precommitted.insert((from.0, round), id);
        let candidate = self
            .round
            .candidates
            .entry(id)
            .or_insert_with(|| Candidate::new(header, anchor));
        candidate
            .precommits
            .entry(round)
            .or_default()
            .insert(from.0, signature);
    }

    /// Whether a vote's header is for the number being agreed on, chained
    /// to the latest certified header and with the anchor it commits to.
    /// A sender that is behind gets the certificate it missed; one that is
    /// ahead is asked for ours.
    fn is_current(
        &mut self,
        from: ValidatorIndex,
        header: &CheckpointHeader,
        anchor: &[VertexId],
        out: &mut Vec<CheckpointOutput>,
    ) -> bool {
        let number = self.next_number();
        if header.number > number {
            // Votes for a number are cast once the one before is certified.
            self.catch_up = Some((from, header.number - 1));
            out.push(CheckpointOutput::Send {
                to: from,
                message: Message::GetCheckpoint { number },
            });
            return false;
        }
        if header.number < number {
            self.send_certified(from, header.number, out);
            return false;
        }
        if header.previous != self.state.latest_id()
            || anchor_hash(&anchor.iter().map(|v| v.0).collect::<Vec<_>>()) != header.anchor
        {
            self.metrics.invalid_messages += 1;
            return false;
        }
        true
    }

    fn on_prevote(
        &mut self,
        from: ValidatorIndex,
        round: u32,
        header_bytes: &[u8],
        anchor: Vec<VertexId>,
        signature: &[u8],
        out: &mut Vec<CheckpointOutput>,
    ) {
        let Some((key, _)) = self.validators.get(from.0 as usize).cloned() else {
            self.metrics.invalid_messages += 1;
            return;
        };
        let (Ok(header), Ok(signature)) = (
            CheckpointHeader::decode(header_bytes),
            Signature::from_bytes(signature),
        ) else {
            self.metrics.invalid_messages += 1;
            return;
        };
        if !self.is_current(from, &header, &anchor, out) {
            return;
        }
        let number = self.next_number();
        // Only the current round and the next count (a sender's clock may
        // be a little ahead); older prevotes can no longer make a POL here.
        let current = self.current_round();
        if round < current || round > current.saturating_add(1) {
            return;
        }
        let id = header.id();
        match self.round.prevotes.get(&round).and_then(|p| p.get(&from.0)) {
            Some((previous, _)) if *previous != id => {
                self.metrics.equivocations += 1;
                return;
            }
            Some(_) => return, // a repeat
            None => {}
        }
        if !header.verify_prevote(round, &key, &signature) {
            self.metrics.invalid_messages += 1;
            return;
        }
        self.round
            .prevotes
            .entry(round)
            .or_default()
            .insert(from.0, (id, signature));
        if from == self.proposer(number, round) {
            self.round.proposals.entry(round).or_insert(id);
        }
        self.round
            .candidates
            .entry(id)
            .or_insert_with(|| Candidate::new(header, anchor));
        // A peer prevoting another header than the newest proof of lock
        // held here may be locked on an older round: show it the proof.
        if from != self.me
            && self
                .round
                .valid
                .as_ref()
                .is_some_and(|pol| pol.header_id() != id && pol.round < round)
        {
            self.forward_pol(from, out);
        }
    }

    /// Stake of the validators that prevoted `id` in `round`.
    fn prevote_stake(&self, round: u32, id: &Hash32) -> u128 {
        self.round.prevotes.get(&round).map_or(0, |prevotes| {
            prevotes
                .iter()
                .filter(|(_, (h, _))| h == id)
                .map(|(v, _)| {
                    self.validators
                        .get(*v as usize)
                        .map_or(0, |(_, s)| *s as u128)
                })
                .sum()
        })
    }

    /// The proof of lock the prevotes of `round` make for `id`.
    fn pol_of(&self, round: u32, id: &Hash32) -> Option<ProofOfLock> {
        let candidate = self.round.candidates.get(id)?;
        let mut prevotes: Vec<(u16, Signature)> = self
            .round
            .prevotes
            .get(&round)?
            .iter()
            .filter(|(_, (h, _))| h == id)
            .map(|(v, (_, s))| (*v, s.clone()))
            .collect();
        prevotes.sort_by_key(|(v, _)| *v);
        Some(ProofOfLock {
            round,
            header: candidate.header.clone(),
            anchor: candidate.anchor.clone(),
            prevotes,
        })
    }

    fn on_certified(
        &mut self,
        from: ValidatorIndex,
        bytes: &[u8],
        anchor: Vec<VertexId>,
        out: &mut Vec<CheckpointOutput>,
    ) {
        let Ok(certificate) = Certificate::decode(bytes) else {
            self.metrics.invalid_messages += 1;
            return;
        };
        let number = certificate.header.number;
        let next = self.next_number();
        if number < next || self.ahead.contains_key(&number) {
            return;
        }
        if certificate.verify(&self.validators).is_err()
            || anchor_hash(&anchor.iter().map(|v| v.0).collect::<Vec<_>>())
                != certificate.header.anchor
        {
            self.metrics.invalid_messages += 1;
            return;
        }
        if number > next {
            self.catch_up = Some((from, number));
            out.push(CheckpointOutput::Send {
                to: from,
                message: Message::GetCheckpoint { number: next },
            });
        }
        // Bounded: only a window of numbers ahead is kept.
        if number < next + 64 {
            self.ahead.insert(
                number,
                StoredCheckpoint {
                    certificate,
                    anchor,
                },
            );
        }
    }

    /// Prevotes, precommits, forms and adopts certificates.
    fn progress(&mut self, out: &mut Vec<CheckpointOutput>) {
        loop {
            if !self.adopt_ahead(out) {
                break;
            }
        }
        if self.round.due_ms.is_some() {
            let round = self.round.round;
            // Phase 1: prevote the round's proposal once it derives here,
            // unless locked on another header or just restarted.
            if let Some(id) = self.round.proposals.get(&round).copied() {
                let fresh = !matches!(self.round.prevoted, Some((r, _, _)) if r == round);
                if fresh
                    && self.unix_ms >= self.quiet_until
                    && self.may_prevote(&id)
                    && self.ensure_checked(&id)
                {
                    self.prevote(id, out);
                }
            }
            // Prevotes of more than 2/3 of the stake for one header in this
            // round: a proof of lock, held (it may move this relay's lock).
            let held = self.round.valid.as_ref().map(|v| v.round);
            if held.is_none_or(|h| h < round) {
                let polka = self
                    .round
                    .prevotes
                    .get(&round)
                    .into_iter()
                    .flat_map(|p| p.values().map(|(h, _)| *h))
                    .collect::<BTreeSet<Hash32>>()
                    .into_iter()
                    .find(|id| self.validators.is_quorum(self.prevote_stake(round, id)));
                if let Some(pol) = polka.and_then(|id| self.pol_of(round, &id)) {
                    self.hold_pol(pol, out);
                }
            }
            // Phase 2: precommit only in the round of a proof of lock held.
            if let Some(id) = self
                .round
                .valid
                .as_ref()
                .filter(|v| v.round == round)
                .map(ProofOfLock::header_id)
            {
                if self.ensure_checked(&id) {
                    self.precommit(id, round, out);
                }
            }
        }
        // Precommits of more than 2/3 of the stake in one round for a
        // header that derives here make a certificate.
        let formed = self.round.candidates.iter().find_map(|(id, c)| {
            if c.invalid {
                return None;
            }
            c.precommits
                .iter()
                .find(|(_, p)| self.validators.is_quorum(stake_of(&self.validators, p)))
                .map(|(round, _)| (*id, *round))
        });
        if let Some((id, round)) = formed {
            if self.ensure_checked(&id) {
                self.certify(id, round, out);
            }
        }
    }

    /// Whether a candidate derives to itself here, deriving it if it was
    /// not yet (or again, once more vertices were accepted while pending).
    fn ensure_checked(&mut self, id: &Hash32) -> bool {
        let Some(candidate) = self.round.candidates.get(id) else {
            return false;
        };
        if candidate.invalid {
            return false;
        }
        if candidate.checked.is_none() && candidate.pending_at != Some(self.accepted_version) {
            self.check(id);
        }
        self.round
            .candidates
            .get(id)
            .is_some_and(|c| c.checked.is_some())
    }

    /// Derives a candidate here and marks it checked or invalid.
    fn check(&mut self, id: &Hash32) {
        let Some(candidate) = self.round.candidates.get(id) else {
            return;
        };
        let header = candidate.header.clone();
        let anchor = candidate.anchor.clone();
        let too_early = header.time_ms <= self.state.latest().time_ms
            || header.time_ms > self.unix_ms.saturating_add(self.timing.max_clock_skew_ms);
        let result = if too_early {
            Err(DeriveError::Invalid("header time out of range".into()))
        } else {
            self.state.derive(&anchor, header.time_ms, &self.accepted)
        };
        let Some(candidate) = self.round.candidates.get_mut(id) else {
            return;
        };
        match result {
            Ok(derived) if derived.header == header => candidate.checked = Some(derived),
            Ok(derived) => {
                tracing::warn!(number = header.number, ours = ?derived.header, theirs = ?header, "a proposed checkpoint derives another header here");
                candidate.invalid = true;
                self.metrics.invalid_messages += 1;
            }
            Err(DeriveError::Invalid(reason)) => {
                tracing::warn!(number = header.number, %reason, "a proposed checkpoint is invalid here");
                candidate.invalid = true;
                self.metrics.invalid_messages += 1;
            }
            // Retried when more vertices are accepted.
            Err(DeriveError::Pending(_)) => candidate.pending_at = Some(self.accepted_version),
        }
    }

    /// Builds the smallest certificate from a candidate's precommits of
    /// one round and adopts it.
    fn certify(&mut self, id: Hash32, round: u32, out: &mut Vec<CheckpointOutput>) {
        let Some(mut candidate) = self.round.candidates.remove(&id) else {
            return;
        };
        let Some(derived) = candidate.checked.take() else {
            return;
        };
        let Some(shares) = candidate.precommits.remove(&round) else {
            return;
        };
        let mut by_stake: Vec<(u64, u16)> = shares
            .keys()
            .map(|i| (self.validators.get(*i as usize).map_or(0, |(_, s)| *s), *i))
            .collect();
        by_stake.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        let mut chosen = Vec::new();
        let mut stake: u128 = 0;
        for (s, i) in by_stake {
            chosen.push(i);
            stake += s as u128;
            if self.validators.is_quorum(stake) {
                break;
            }
        }
        chosen.sort();
        let signatures = chosen
            .iter()
            .filter_map(|i| shares.get(i).cloned())
            .collect();
        let certificate = Certificate {
            header: candidate.header,
            round,
            validator_count: self.validators.len() as u16,
            signers: chosen,
            signatures,
        };
        let stored = StoredCheckpoint {
            certificate,
            anchor: candidate.anchor,
        };
        out.push(CheckpointOutput::Broadcast(stored.to_message()));
        self.finish(derived, stored, out);
    }

    /// Adopts a verified certificate received for the next number, once its
    /// anchor derives the same header here. Returns whether it adopted one.
    fn adopt_ahead(&mut self, out: &mut Vec<CheckpointOutput>) -> bool {
        let next = self.next_number();
        self.ahead.retain(|n, _| *n >= next);
        let Some(stored) = self.ahead.get(&next) else {
            return false;
        };
        let header = stored.certificate.header.clone();
        match self
            .state
            .derive(&stored.anchor, header.time_ms, &self.accepted)
        {
            Ok(derived) if derived.header == header => {
                let Some(stored) = self.ahead.remove(&next) else {
                    return false;
                };
                self.finish(derived, stored, out);
                true
            }
            Ok(_) | Err(DeriveError::Invalid(_)) => {
                // Signed by a supermajority yet not what our accepted DAG
                // gives: consensus safety is broken. Never adopt it.
                tracing::error!(
                    number = next,
                    "a certified checkpoint does not match this relay's accepted DAG"
                );
                self.ahead.remove(&next);
                self.metrics.invalid_messages += 1;
                false
            }
            Err(DeriveError::Pending(_)) => false,
        }
    }

    /// After an adoption while behind: asks the peer that showed a later
    /// certified number for the next one (unless it is here already).
    fn ask_to_catch_up(&mut self, out: &mut Vec<CheckpointOutput>) {
        let next = self.next_number();
        match self.catch_up {
            Some((peer, highest)) if highest >= next => {
                if !self.ahead.contains_key(&next) {
                    out.push(CheckpointOutput::Send {
                        to: peer,
                        message: Message::GetCheckpoint { number: next },
                    });
                }
            }
            _ => self.catch_up = None,
        }
    }

    fn finish(
        &mut self,
        derived: Derived,
        stored: StoredCheckpoint,
        out: &mut Vec<CheckpointOutput>,
    ) {
        let number = stored.certificate.header.number;
        self.adopt_derived(derived, stored.clone());
        self.metrics.certified += 1;
        self.round = Round::new();
        out.push(CheckpointOutput::Persist(CheckpointPersist::Certified(
            Box::new(stored),
        )));
        out.push(CheckpointOutput::Certified {
            number,
            changed: self.state.latest_changes().to_vec(),
        });
        self.ask_to_catch_up(out);
        // Votes for the new number that arrived while this relay was behind.
        for (from, vote) in std::mem::take(&mut self.early_votes) {
            if vote.number == number + 1 {
                self.on_vote(
                    ValidatorIndex(from),
                    vote.round,
                    &vote.header,
                    vote.anchor,
                    &vote.signature,
                    out,
                );
            }
        }
    }

    fn adopt_derived(&mut self, derived: Derived, stored: StoredCheckpoint) {
        match self.state.adopt(derived) {
            Ok(covered) => {
                for id in &covered {
                    self.accepted.remove(id);
                }
                self.covered_by
                    .insert(stored.certificate.header.number, covered);
            }
            Err(error) => tracing::error!(?error, "adopting a checkpoint failed"),
        }
        // Trimmed at the next input, not here: the driver reads every
        // certificate this input's `Certified` outputs name, however many
        // were adopted at once.
        self.certified
            .insert(stored.certificate.header.number, stored);
    }
}

/// Stake of the validators in `shares`.
fn stake_of(validators: &ValidatorSet, shares: &BTreeMap<u16, Signature>) -> u128 {
    shares
        .keys()
        .map(|v| validators.get(*v as usize).map_or(0, |(_, s)| *s as u128))
        .sum()
}

impl Candidate {
    fn new(header: CheckpointHeader, anchor: Vec<VertexId>) -> Self {
        Self {
            header,
            anchor,
            precommits: BTreeMap::new(),
            checked: None,
            invalid: false,
            pending_at: None,
        }
    }

    /// The most stake that precommitted this header in any one round.
    fn best_precommit_stake(&self, validators: &ValidatorSet) -> u128 {
        self.precommits
            .values()
            .map(|p| stake_of(validators, p))
            .max()
            .unwrap_or(0)
    }
}

impl Round {
    fn new() -> Self {
        Self {
            round: 0,
            due_ms: None,
            proposed: false,
            resent: None,
            candidates: BTreeMap::new(),
            precommitted: HashMap::new(),
            precommit_rounds: HashMap::new(),
            prevotes: BTreeMap::new(),
            proposals: BTreeMap::new(),
            prevoted: None,
            valid: None,
            pols_sent: HashSet::new(),
        }
    }
}

#[cfg(test)]
mod tests;
