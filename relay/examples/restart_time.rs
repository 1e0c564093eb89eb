//! Prints how long a validator relay's restart takes on a stopped relay's
//! database, both ways: replaying the accepted log from genesis (how relays
//! restarted before states were stored) and from the stored state snapshot.
//! Neither run changes what the database holds for the network: the replay
//! writes nothing, the snapshot restart stores what any restart stores.
//!
//!   cargo run --release -p ruv-relay --example restart_time -- \
//!       <genesis.json> <data-dir> <relay key file>

mod common;

use common::{open_stopped_relay, StoppedRelay};
use ruv_consensus::{Checkpointer, Engine, Vertex};
use std::sync::Arc;
use std::time::Instant;

fn main() -> anyhow::Result<()> {
    let StoppedRelay {
        engine_config,
        checkpoint_config,
        storage,
    } = open_stopped_relay("restart_time")?;

    // From genesis: the whole accepted log into the ledger, every stored
    // checkpoint re-derived.
    let started = Instant::now();
    let persisted = storage.load()?;
    let stored = storage.load_checkpoints()?;
    let (accepted, certified) = (persisted.accepted.len(), stored.certified.len());
    let engine = Engine::restore(engine_config.clone(), &persisted, &mut Vec::new())?;
    let vertices: Vec<Arc<Vertex>> = persisted
        .accepted
        .iter()
        .map(|bytes| Vertex::decode(bytes).map(Arc::new))
        .collect::<Result<_, _>>()?;
    let replayed = Checkpointer::restore(
        checkpoint_config.clone(),
        vertices,
        stored.certified,
        stored.signed,
    )?;
    let from_genesis = started.elapsed();
    let root = replayed.latest().map(|c| c.certificate.header.state_root);
    drop((engine, replayed, persisted));

    let restored = ruv_relay::node::restart::restore(&storage, engine_config, checkpoint_config)?;
    let same_root = restored
        .checkpoints
        .latest()
        .map(|c| c.certificate.header.state_root)
        == root;
    println!(
        "accepted vertices {accepted}, certified checkpoints {certified}, stored state at checkpoint {}",
        restored.snapshot_checkpoint
    );
    println!(
        "restart: from genesis {} ms, from the stored state {} ms (same latest state root: {same_root})",
        from_genesis.as_millis(),
        restored.elapsed.as_millis()
    );
    Ok(())
}
