//! Prints how long a validator relay's restart takes on a stopped relay's
//! database, both ways: replaying the accepted log from genesis (how relays
//! restarted before states were stored) and from the stored state snapshot.
//! Neither run changes what the database holds for the network: the replay
//! writes nothing, the snapshot restart stores what any restart stores.
//!
//!   cargo run --release -p ruv-relay --example restart_time -- \
//!       <genesis.json> <data-dir> <relay key file>

use anyhow::Context;
use ruv_consensus::checkpoint::CheckpointTiming;
use ruv_consensus::{CheckpointConfig, Checkpointer, Engine, EngineConfig, Tuning, Vertex};
use ruv_protocol::Genesis;
use ruv_relay::storage::Storage;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

fn main() -> anyhow::Result<()> {
    let args: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    let [genesis, data_dir, key_file] = args.as_slice() else {
        anyhow::bail!("usage: restart_time <genesis.json> <data-dir> <relay key file>");
    };
    let genesis = Genesis::from_json(&std::fs::read_to_string(genesis)?)?;
    let key = Arc::new(ruv_relay::keys::load(key_file)?);
    let engine_config = EngineConfig {
        genesis: genesis.clone(),
        signing_key: key.clone(),
        rng_seed: [1; 32],
        tuning: Tuning::default(),
    };
    let checkpoint_config = CheckpointConfig {
        genesis: genesis.clone(),
        signing_key: key,
        rng_seed: [2; 32],
        timing: CheckpointTiming::default(),
    };
    let storage = Storage::open(data_dir, genesis.hash()).context("open the database")?;

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
