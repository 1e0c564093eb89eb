//! What the examples that replay a stopped relay's database share: the
//! command line (`<genesis.json> <data-dir> <relay key file>`), the engine
//! and checkpointer configurations such a relay had, and its database.

use anyhow::Context;
use ruv_consensus::checkpoint::CheckpointTiming;
use ruv_consensus::{CheckpointConfig, EngineConfig, Tuning};
use ruv_protocol::Genesis;
use ruv_relay::storage::Storage;
use std::path::PathBuf;
use std::sync::Arc;

/// A stopped relay, opened for replay.
pub struct StoppedRelay {
    pub engine_config: EngineConfig,
    pub checkpoint_config: CheckpointConfig,
    pub storage: Storage,
}

/// Reads the command line of example `name` and opens the relay it names.
pub fn open_stopped_relay(name: &str) -> anyhow::Result<StoppedRelay> {
    let args: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    let [genesis, data_dir, key_file] = args.as_slice() else {
        anyhow::bail!("usage: {name} <genesis.json> <data-dir> <relay key file>");
    };
    let genesis = Genesis::from_json(&std::fs::read_to_string(genesis)?)?;
    let key = Arc::new(ruv_relay::keys::load(key_file)?);
    let storage = Storage::open(data_dir, genesis.hash()).context("open the database")?;
    Ok(StoppedRelay {
        engine_config: EngineConfig {
            genesis: genesis.clone(),
            signing_key: key.clone(),
            rng_seed: [1; 32],
            tuning: Tuning::default(),
        },
        checkpoint_config: CheckpointConfig {
            genesis,
            signing_key: key,
            rng_seed: [2; 32],
            timing: CheckpointTiming::default(),
            keep_certified: ruv_consensus::CERTIFIED_IN_MEMORY,
        },
        storage,
    })
}
