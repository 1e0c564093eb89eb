//! The home folder (`--home`, `$RUV_HOME`, else `~/.ruv`) and the network
//! configuration in it: the trust anchor (a copy of the genesis file) and
//! the relays.

use crate::error::{codes, CliError, CliResult};
use crate::files;
use ruv_protocol::light::TrustAnchor;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Version of `config.json`.
pub const CONFIG_VERSION: u32 = 1;
/// Most relays a configuration holds.
pub const MAX_RELAYS: usize = 32;

/// The home folder and the files in it.
#[derive(Debug, Clone)]
pub struct Home {
    dir: PathBuf,
}

impl Home {
    /// `dir` if given (from `--home` or `$RUV_HOME`), else `~/.ruv`.
    pub fn resolve(dir: Option<PathBuf>) -> CliResult<Self> {
        let dir = match dir {
            Some(d) => d,
            None => dirs::home_dir()
                .ok_or_else(|| {
                    CliError::usage(
                        codes::USAGE,
                        "cannot find the home folder: pass --home DIR or set RUV_HOME",
                    )
                })?
                .join(".ruv"),
        };
        Ok(Self { dir })
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Creates the folder (owner-only).
    pub fn create(&self) -> CliResult<()> {
        files::create_private_dir(&self.dir)
    }

    /// A file in the folder.
    pub fn file(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// `config.json`: the relays.
    pub fn config_path(&self) -> PathBuf {
        self.file("config.json")
    }

    /// `genesis.json`: the trust anchor (a copy taken by `ruv init`).
    pub fn genesis_path(&self) -> PathBuf {
        self.file("genesis.json")
    }
}

/// `config.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Format version.
    pub version: u32,
    /// Relay base URLs, in the order they are asked.
    pub relays: Vec<String>,
}

/// Checks relay URLs and normalizes them (no trailing slash).
pub fn check_relays(relays: &[String]) -> CliResult<Vec<String>> {
    if relays.len() > MAX_RELAYS {
        return Err(CliError::usage(
            codes::USAGE,
            format!("at most {MAX_RELAYS} relays"),
        ));
    }
    relays
        .iter()
        .map(|url| {
            let url = url.trim_end_matches('/');
            let rest = url
                .strip_prefix("http://")
                .or_else(|| url.strip_prefix("https://"));
            match rest {
                Some(host) if !host.is_empty() && !host.contains(char::is_whitespace) => {
                    Ok(url.to_owned())
                }
                _ => Err(CliError::usage(
                    codes::USAGE,
                    format!(
                        "relay {url:?} is not an http:// or https:// URL \
                         (e.g. --relay http://127.0.0.1:8080)"
                    ),
                )),
            }
        })
        .collect()
}

/// The configured network: the trust anchor and the relays to ask.
#[derive(Debug)]
pub struct Network {
    /// From the genesis copy in the home folder, never from a relay.
    pub anchor: TrustAnchor,
    /// Relays, from `--relay` if given, else from `config.json`.
    pub relays: Vec<String>,
}

impl Network {
    /// Reads the configuration; `relays` (from `--relay`) replaces the
    /// configured list when not empty.
    pub fn load(home: &Home, relays: &[String]) -> CliResult<Self> {
        let not_initialized = || {
            CliError::failure(
                codes::NOT_INITIALIZED,
                format!(
                    "{} holds no network configuration: run `ruv init --genesis FILE --relay URL` first",
                    home.dir().display()
                ),
            )
        };
        let genesis_path = home.genesis_path();
        let genesis = files::read_text(&genesis_path)?.ok_or_else(not_initialized)?;
        let anchor = TrustAnchor::from_genesis_json(&genesis).map_err(|e| {
            CliError::failure(codes::BAD_FILE, format!("{}: {e}", genesis_path.display()))
        })?;
        let relays = if relays.is_empty() {
            let path = home.config_path();
            let text = files::read_text(&path)?.ok_or_else(not_initialized)?;
            let config: Config = serde_json::from_str(&text).map_err(|e| {
                CliError::failure(codes::BAD_FILE, format!("{}: {e}", path.display()))
            })?;
            check_relays(&config.relays)?
        } else {
            check_relays(relays)?
        };
        if relays.is_empty() {
            return Err(CliError::usage(
                codes::USAGE,
                "no relay configured: pass --relay URL or run `ruv init` again",
            ));
        }
        Ok(Self { anchor, relays })
    }

    /// The chain id (from the genesis).
    pub fn chain_id(&self) -> &str {
        &self.anchor.genesis().chain_id
    }
}
