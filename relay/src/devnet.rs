//! Generates a local devnet: one seed file per relay, a faucet account, and a
//! genesis file naming them. Real keys from the OS random source; nothing here
//! is usable outside a devnet because the seeds sit in plain files.

use crate::operator::genesis::DEFAULT_FEES;
use crate::{chain_id, keys};
use ruv_protocol::crypto::SigningKey;
use ruv_protocol::genesis::{GenesisBalance, ValidatorEntry};
use ruv_protocol::{Address, Genesis, UNITS_PER_RUV};
use std::path::{Path, PathBuf};

/// The devnet's network name: its chain id is `ruv-devnet-BINDING`, bound to
/// its genesis like every network's ([`crate::chain_id`]), so two devnets
/// never share a chain id either.
pub const DEVNET_NAME: &str = "ruv-devnet";
/// The faucet account's genesis balance: 1 billion rUv.
pub const FAUCET_SUPPLY: u64 = 1_000_000_000 * UNITS_PER_RUV;

/// Paths of a generated devnet.
#[derive(Debug, Clone)]
pub struct DevnetFiles {
    /// The genesis file.
    pub genesis: PathBuf,
    /// One seed file per relay.
    pub relay_keys: Vec<PathBuf>,
    /// The faucet's seed file.
    pub faucet_key: PathBuf,
}

/// The file layout of a devnet in `dir` with `relays` relays.
pub fn files(dir: &Path, relays: usize) -> DevnetFiles {
    DevnetFiles {
        genesis: dir.join("genesis.json"),
        relay_keys: (0..relays)
            .map(|i| dir.join(format!("relay-{i}.key")))
            .collect(),
        faucet_key: dir.join("faucet.key"),
    }
}

/// Writes fresh keys and a genesis for `relays` relays into `dir` (key
/// files are never overwritten: `dir` must not hold a devnet yet).
pub fn init(dir: &Path, relays: usize) -> Result<DevnetFiles, DevnetError> {
    std::fs::create_dir_all(dir)?;
    let files = files(dir, relays);
    let mut validators = Vec::new();
    for (i, path) in files.relay_keys.iter().enumerate() {
        let seed = keys::random_seed();
        keys::save(path, &seed)?;
        validators.push(ValidatorEntry {
            name: format!("relay-{i}"),
            public_key: SigningKey::from_seed(&seed)
                .public_key()
                .as_bytes()
                .to_vec(),
            stake: 100,
        });
    }
    let faucet_seed = keys::random_seed();
    keys::save(&files.faucet_key, &faucet_seed)?;
    let faucet = Address::from_public_key(SigningKey::from_seed(&faucet_seed).public_key());
    let mut genesis = Genesis {
        chain_id: String::new(),
        balances: vec![GenesisBalance {
            address: faucet,
            amount: FAUCET_SUPPLY,
        }],
        fees: DEFAULT_FEES,
        validators,
        consensus: None,
    };
    chain_id::bind(&mut genesis, DEVNET_NAME)?;
    genesis.validate()?;
    let text = serde_json::to_string_pretty(&genesis).map_err(std::io::Error::other)?;
    std::fs::write(&files.genesis, text)?;
    Ok(files)
}

/// Why a devnet could not be generated.
#[derive(Debug, thiserror::Error)]
pub enum DevnetError {
    /// Writing files failed.
    #[error("devnet files: {0}")]
    Io(#[from] std::io::Error),
    /// A key file failed.
    #[error(transparent)]
    Key(#[from] keys::KeyFileError),
    /// The generated genesis is invalid (a bug).
    #[error("generated genesis is invalid: {0}")]
    Genesis(#[from] ruv_protocol::GenesisError),
    /// The devnet's chain id cannot be bound (a bug).
    #[error(transparent)]
    ChainId(#[from] chain_id::ChainIdError),
}
