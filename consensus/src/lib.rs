//! `ruv-consensus`: QR-Avalanche DAG consensus among rUv relays, as a pure
//! state machine. The deterministic simulator that drives many copies of it
//! over a faulty simulated network is its own crate, `ruv-sim`
//! (`consensus/sim/`).
//!
//! The protocol follows the Avalanche paper ("Scalable and Probabilistic
//! Leaderless BFT Consensus through Metastability") and avalanchego's DAG
//! engine; `docs/consensus.md` explains the design, the fault bound and how
//! the simulator checks it.
//!
//! # Driving the engine
//!
//! [`Engine`] does no I/O: no sockets, clocks, threads or OS randomness. A
//! driver (the relay's tokio runtime, or the `ruv-sim` simulator) owns it and loops:
//!
//! ```text
//! let mut engine = Engine::new(config)?;            // or Engine::restore(config, &persisted, &mut out)?
//! loop {
//!     let input = next_event();                     // a peer message, a client submission, or a tick at engine.next_deadline()
//!     let mut out = Vec::new();
//!     engine.handle(input, &mut out);
//!     for output in out { execute(output); }        // in order
//! }
//! ```
//!
//! Inputs ([`Input`]):
//! - `Tick { now_ms }` at [`Engine::next_deadline`] (earlier is harmless)
//!   with a monotonic clock. Time only enters the engine here; polls time
//!   out, batches are issued and missing vertices are re-requested on ticks.
//! - `SubmitTransaction(tx)` when a client submits a signed transfer, or
//!   `SubmitCheckedTransaction(tx)` when the driver already checked its
//!   signature (a `CheckedTransfer`, off the engine's thread): the engine
//!   then does not check it again.
//! - `PeerTransaction { from, tx }` instead of a `PeerMessage` holding a
//!   gossiped transaction, when the driver decoded it and checked its
//!   signature (a `CheckedTransfer`) itself, in parallel with others.
//! - `PeerConnected { peer }` when the link to validator `peer` comes up.
//! - `PeerMessage { from, bytes }` when a frame arrives on the authenticated
//!   link of validator `from` (its index in the genesis validator list). The
//!   engine decodes and checks it; bad bytes are counted, never fatal.
//! - `Covered { vertices }` after a certified checkpoint covered accepted
//!   vertices and their `Persist::Accepted` is durable: the engine *settles*
//!   them (their transfers and signatures leave memory; `body.rs`) and from
//!   then on names them in `SendAncestors` for the driver to read back.
//!
//! Outputs ([`Output`]), to execute in order:
//! - `Send { to, message }` / `Broadcast { message }`: encode with
//!   [`Message::encode`] and send on the peer link(s). These carry vertex
//!   and transaction gossip, queries and chits, and requests for missing
//!   ancestors and their answers.
//! - `SendAncestors { to, request_id, vertices }`: an answer to a peer's
//!   request for ancestors that holds settled vertices; the driver reads
//!   those ([`AncestorVertex::Stored`]) from its store and sends
//!   [`Message::Ancestors`].
//! - `Persist(..)`: [`Persist::Processing`] stores an undecided vertex,
//!   [`Persist::Accepted`] appends to the accepted log (in order),
//!   [`Persist::Forget`] deletes a rejected one. Write these before sending
//!   later messages if you want "nothing acknowledged is lost".
//! - `TxAccepted` / `TxRejected` (with the ledger's [`TxRejection`] reason,
//!   `Conflict` when a double spend lost) / `TxExpired` (failed to issue for
//!   the retry TTL, e.g. a nonce gap: dropped undecided, its nonce unused) /
//!   `TxDropped`, and `VertexAccepted`
//!   / `VertexRejected`: status events for clients and dashboards.
//!
//! Reading state: [`Engine::ledger`] (the accepted state), [`Engine::tx_status`],
//! [`Engine::metrics`] (counters for `/metrics`), frontiers and counts.
//!
//! Restart: [`Engine::restore`] takes a [`PersistedState`] (the accepted log
//! in order and the stored undecided vertices) and rebuilds the ledger.
//!
//! Randomness comes from [`EngineConfig::rng_seed`] (ChaCha20): the driver
//! seeds it from the OS, the simulator from its run seed, so the same seed
//! and the same inputs give the same outputs.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod ancestry;
mod body;
pub mod checkpoint;
mod dag;
mod engine;
pub mod message;
pub mod metrics;
mod snowball;
pub mod vertex;

pub use checkpoint::{
    CheckpointConfig, CheckpointInput, CheckpointOutput, CheckpointPersist, CheckpointTiming,
    Checkpointer, StoredCheckpoint, CERTIFIED_IN_MEMORY,
};
pub use dag::VertexStatus;
pub use engine::{
    AncestorVertex, ConfigError, Engine, EngineConfig, Input, Output, Persist, PersistedState,
    RestoreBase, RestoreError, Tuning, TxDropReason, TxStatus, MAX_RESENT_ON_CONNECT,
    REMEMBERED_EXPIRED_TXS,
};
pub use message::Message;
pub use metrics::{DropReason, Metrics};
pub use ruv_protocol::TxRejection;
pub use vertex::{transaction_bytes_at, ValidatorIndex, Vertex, VertexContent, VertexId};
