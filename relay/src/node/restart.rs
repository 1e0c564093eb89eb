//! Rebuilding a validator relay's engine and checkpointer from its database:
//! from the stored state snapshot (checked against its certified header)
//! plus the accepted vertices, so the ledger is not replayed from genesis
//! and the checkpoints up to the snapshot are not re-derived.

use crate::storage::{Storage, StorageError};
use ruv_consensus::checkpoint::{closure_added, CertifiedState};
use ruv_consensus::{
    CheckpointConfig, Checkpointer, Engine, EngineConfig, Input, Output, RestoreBase, Vertex,
    VertexId,
};
use ruv_protocol::checkpoint::ValidatorSet;
use ruv_protocol::snapshot::StateSnapshot;
use ruv_protocol::Ledger;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Instant;

/// Why the stored state cannot be restored.
#[derive(Debug, thiserror::Error)]
pub enum RestartError {
    /// The database failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// The stored accepted log does not restore.
    #[error("stored consensus state does not restore: {0}")]
    Engine(#[from] ruv_consensus::RestoreError),
    /// The stored checkpoints or state do not restore.
    #[error("stored checkpoints do not restore: {0}")]
    Checkpoints(#[from] ruv_consensus::checkpoint::CheckpointError),
}

/// A restored validator relay, with what the restart did.
pub struct Restored {
    /// The engine.
    pub engine: Engine,
    /// The checkpointer.
    pub checkpoints: Checkpointer,
    /// Certified checkpoints stored.
    pub certified: usize,
    /// Accepted vertices stored.
    pub accepted: usize,
    /// Undecided vertices stored.
    pub processing: usize,
    /// The checkpoint the stored state was at (0: genesis, a full replay).
    pub snapshot_checkpoint: u64,
    /// How long restoring took.
    pub elapsed: std::time::Duration,
}

/// Restores the engine and checkpointer from `storage`. The first start
/// stores the genesis state; a database from before states were stored gets
/// the restored checkpointer's state.
pub fn restore(
    storage: &Storage,
    engine_config: EngineConfig,
    checkpoint_config: CheckpointConfig,
) -> Result<Restored, RestartError> {
    let started = Instant::now();
    let genesis = engine_config.genesis.clone();
    let persisted = storage.load()?;
    let stored = storage.load_checkpoints()?;
    let snapshot = storage.load_snapshot()?;
    let accepted: Vec<Arc<Vertex>> = persisted
        .accepted
        .iter()
        .map(|bytes| Vertex::decode(bytes).map(Arc::new))
        .collect::<Result<_, _>>()
        .map_err(|_| StorageError::Corrupt("accepted vertex"))?;

    // The engine's base: the snapshot's ledger, checked against its header.
    let base = match &snapshot {
        Some(snapshot) if snapshot.checkpoint > 0 => Some(engine_base(
            &genesis,
            snapshot,
            &stored.certified,
            &accepted,
        )?),
        _ => None,
    };
    let mut restored_out = Vec::new();
    let engine = Engine::restore_from(engine_config, base, &persisted, &mut restored_out)?;
    storage.apply(restored_out.iter().filter_map(|o| match o {
        Output::Persist(p) => Some(p),
        _ => None,
    }))?;
    // Vertices the engine accepted while restoring (now appended to the
    // log) follow, so the checkpointer knows every accepted vertex.
    let accepted_while_restoring = restored_out.iter().filter_map(|o| match o {
        Output::VertexAccepted { id, .. } => engine.vertex(id).cloned(),
        _ => None,
    });
    let all_accepted: Vec<Arc<Vertex>> = accepted
        .iter()
        .cloned()
        .chain(accepted_while_restoring)
        .collect();
    let accepted_ids: Vec<VertexId> = all_accepted.iter().map(|v| v.id()).collect();
    let certified = stored.certified.len();
    let (checkpoints, snapshot_checkpoint) = match snapshot {
        Some(snapshot) => {
            let at = snapshot.checkpoint;
            let checkpoints = Checkpointer::restore_from_snapshot(
                checkpoint_config,
                &snapshot,
                all_accepted,
                stored.certified,
                stored.signed,
            )?;
            (checkpoints, at)
        }
        None => {
            let mut checkpoints = Checkpointer::restore(
                checkpoint_config,
                all_accepted,
                stored.certified,
                stored.signed,
            )?;
            // A first start, or a database from before states were stored:
            // store the state of the latest checkpoint; the changes the
            // replay recorded up to it are in it already.
            storage.write_snapshot(&checkpoints.state_snapshot())?;
            checkpoints.take_state_delta(0);
            (checkpoints, 0)
        }
    };
    // What certified checkpoints cover is in the log: it leaves memory.
    let mut engine = engine;
    let covered = accepted_ids
        .into_iter()
        .filter(|id| checkpoints.is_covered(id))
        .collect();
    let mut settle_out = Vec::new();
    engine.handle(Input::Covered { vertices: covered }, &mut settle_out);
    debug_assert!(settle_out.is_empty(), "settling produced outputs");
    Ok(Restored {
        engine,
        checkpoints,
        certified,
        accepted: persisted.accepted.len(),
        processing: persisted.processing.len(),
        snapshot_checkpoint,
        elapsed: started.elapsed(),
    })
}

/// The engine's restore base from a stored snapshot: the ledger it holds,
/// once it matches its certified header, and the vertices covered up to it
/// (the closures of the stored anchors over the accepted log).
fn engine_base(
    genesis: &ruv_protocol::Genesis,
    snapshot: &StateSnapshot,
    certified: &[ruv_consensus::StoredCheckpoint],
    accepted: &[Arc<Vertex>],
) -> Result<RestoreBase, RestartError> {
    let at = snapshot.checkpoint;
    let fail =
        |reason: String| ruv_consensus::checkpoint::CheckpointError::Restore { number: at, reason };
    let header = certified
        .iter()
        .find(|c| c.certificate.header.number == at)
        .map(|c| &c.certificate.header)
        .ok_or_else(|| fail("the stored state's checkpoint is not stored".into()))?;
    let validators = ValidatorSet::from_genesis(genesis)
        .map_err(ruv_consensus::checkpoint::CheckpointError::from)?;
    // Checks the snapshot against the header (state root, supply, id).
    CertifiedState::from_snapshot(genesis, &validators, header, snapshot, HashSet::new())
        .map_err(|e| fail(e.to_string()))?;
    let by_id: HashMap<VertexId, Arc<Vertex>> =
        accepted.iter().map(|v| (v.id(), v.clone())).collect();
    let mut covered = HashSet::new();
    for checkpoint in certified
        .iter()
        .take_while(|c| c.certificate.header.number <= at)
    {
        let added = closure_added(&checkpoint.anchor, &by_id, &covered);
        covered.extend(added);
    }
    Ok(RestoreBase {
        ledger: Ledger::from_snapshot(genesis, snapshot),
        covered,
    })
}
