//! Relay configuration: the options of `ruv-relay run`, given as flags, in a
//! TOML file (`--config`), or both; flags override the file. See
//! `docs/relay.md` and the documented example `relay/relay.example.toml`.
//!
//! Every option has one spelling: the flag without its `--` is the file's key
//! (`--data-dir` / `data-dir = ...`), except the repeatable `--peer`, which is
//! the list `peers = [...]` in the file. Unknown keys are refused. A relative
//! path in the file is resolved against the file's folder, so a config folder
//! can move as a whole; a relative path given as a flag is resolved against
//! the working directory, as usual on a command line.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// Client API address when none is given.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:7100";
/// Relay name when none is given.
pub const DEFAULT_NAME: &str = "relay";
/// How long a transaction that cannot be issued yet waits, when not given.
pub const DEFAULT_TX_RETRY_TTL_MS: u64 = 120_000;
/// Default of `keep-checkpoints`: the stored ledger state lags the latest
/// certified checkpoint by this many, which a restart re-derives from the
/// accepted vertices (so their inclusion proofs and history survive it).
pub const DEFAULT_KEEP_CHECKPOINTS: u64 = 4;
/// Largest `max-pending-txs` accepted: a pending transfer costs about 6 KB
/// of memory (the signed transfer and its indexes), so this is about 6 GB.
pub const MAX_PENDING_TXS_LIMIT: usize = 1_000_000;

/// How a follower with an empty database starts (`--sync`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StateSync {
    /// From the stored state of an upstream's certified checkpoint, checked
    /// against its certificate and state root, then checkpoint by checkpoint.
    #[default]
    Snapshot,
    /// By replaying every certified checkpoint from genesis.
    Genesis,
}

/// Everything a relay needs to start (the options with defaults applied).
#[derive(Debug, Clone)]
pub struct RelayConfig {
    /// Address for the client API (HTTP + WebSocket). Port 0 picks a free port.
    pub listen: SocketAddr,
    /// The network's genesis file (JSON).
    pub genesis: PathBuf,
    /// Folder for the database; created if missing.
    pub data_dir: PathBuf,
    /// File holding this relay's validator seed (64 hex digits, mode
    /// 0600); None: this relay is a follower of `upstreams`.
    pub key_file: Option<PathBuf>,
    /// A follower's upstream validators, REST base URLs (`http://host:port`).
    pub upstreams: Vec<String>,
    /// Name shown in network status and logs.
    pub name: String,
    /// Devnet only: seed file of the genesis faucet account; enables `POST /api/v1/faucet`.
    pub faucet_key_file: Option<PathBuf>,
    /// Leading zero bits of the faucet's proof of work (0: none asked).
    pub faucet_pow_bits: u8,
    /// Peer relays to dial: `ws://host:port/peer/v1`. Links are authenticated
    /// both ways against genesis; dialing in one direction per pair is enough.
    pub peers: Vec<String>,
    /// A transaction that cannot be issued yet (nonce gap, funds still
    /// arriving) is rejected after this many milliseconds.
    pub tx_retry_ttl_ms: u64,
    /// Undecided transactions the engine holds at most (its pool); above
    /// it the lowest fee rate not yet issued is evicted, or the newcomer
    /// refused with `mempool_full`.
    pub max_pending_txs: usize,
    /// Web origins allowed to call the REST API from a browser (CORS); empty: none.
    pub cors_origins: Vec<String>,
    /// Certified checkpoints whose transactions keep their proofs across a
    /// restart: the stored state lags the latest checkpoint by this many.
    pub keep_checkpoints: u64,
    /// How a follower with an empty database starts.
    pub sync: StateSync,
    /// Per-IP limits of the client API (not options: a relay runs the
    /// documented defaults; tests lower them).
    pub client_limits: crate::http::limits::ClientLimits,
}

/// The options of `run`, each optional: as flags, and as keys of the file.
#[derive(Debug, Clone, Default, clap::Args, serde::Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RunOptions {
    /// Address for the client API (HTTP + WebSocket) and the peer endpoint;
    /// port 0 picks a free port [default: 127.0.0.1:7100].
    #[arg(long)]
    pub listen: Option<SocketAddr>,
    /// The network's genesis file (JSON) [required].
    #[arg(long)]
    pub genesis: Option<PathBuf>,
    /// Folder for the database; created if missing [required].
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// This relay's validator seed file (64 hex digits, mode 0600); without
    /// one the relay is a follower [required for a validator].
    #[arg(long)]
    pub key_file: Option<PathBuf>,
    /// Run as a follower even with a `key-file`: verify certified
    /// checkpoints from `upstream` validators, never vote or sign.
    #[arg(long)]
    #[serde(default)]
    pub follow: bool,
    /// A follower's upstream validator, its client API base URL
    /// `http://host:port` (repeat the flag; the file's key is the list
    /// `upstreams`, which flags replace). Several give failover.
    #[arg(long = "upstream", value_name = "URL")]
    #[serde(default)]
    pub upstreams: Vec<String>,
    /// Name shown in network status and logs [default: relay].
    #[arg(long)]
    pub name: Option<String>,
    /// Devnet only: seed file of the genesis faucet account; enables `POST /api/v1/faucet`.
    #[arg(long)]
    pub faucet_key_file: Option<PathBuf>,
    /// Leading zero bits of the proof of work a faucet request carries
    /// (`GET /api/v1/faucet/challenge`; 0: none asked; at most 32). A
    /// public faucet should ask 16 or more [default: 0].
    #[arg(long)]
    pub faucet_pow_bits: Option<u8>,
    /// A peer relay to dial: `ws://host:port/peer/v1` (repeat the flag; the
    /// file's key is the list `peers`, which flags replace). Links are
    /// authenticated both ways against genesis; one direction per pair is enough.
    #[arg(long = "peer", value_name = "URL")]
    #[serde(default)]
    pub peers: Vec<String>,
    /// A transaction that cannot be issued yet (nonce gap, funds still
    /// arriving) is rejected after this many milliseconds [default: 120000].
    #[arg(long)]
    pub tx_retry_ttl_ms: Option<u64>,
    /// Undecided transactions held at most (the pool, about 6 KB each).
    /// When it is full, a transfer paying a higher fee rate evicts the
    /// lowest-paying one not yet issued (its sender sees `expired`,
    /// `mempool_full`); otherwise the newcomer is refused with
    /// `mempool_full`. At least 1, at most 1000000 [default: 100000].
    #[arg(long)]
    pub max_pending_txs: Option<usize>,
    /// A web origin (`https://host[:port]`) whose pages may call the REST
    /// API from a browser (CORS); repeat the flag (the file's key is a list,
    /// which flags replace). None by default: no cross-origin access.
    #[arg(long = "cors-origin", value_name = "ORIGIN")]
    #[serde(default)]
    pub cors_origin: Vec<String>,
    /// Certified checkpoints a restart re-derives from the accepted
    /// vertices (the stored ledger state lags the latest one by this many),
    /// so their transactions keep inclusion proofs and history across a
    /// restart; older ones answer `pruned` after it [default: 4].
    #[arg(long)]
    pub keep_checkpoints: Option<u64>,
    /// How a follower with an empty database starts: `snapshot` fetches an
    /// upstream's stored state at a certified checkpoint (checked against
    /// its certificate and state root) and follows from there; `genesis`
    /// replays every certified checkpoint. Proofs of transactions before
    /// the synced checkpoint answer `pruned` on this relay. Example:
    /// `ruv-relay run --genesis genesis.json --data-dir data --upstream
    /// http://10.0.0.1:7100 --sync genesis` [default: snapshot].
    #[arg(long, value_enum)]
    pub sync: Option<StateSync>,
}

/// Arguments of `ruv-relay run`.
#[derive(Debug, Clone, clap::Args)]
pub struct RunArgs {
    /// A TOML file with any of the options below (keys are the flags without
    /// `--`; relative paths are relative to the file's folder). Flags override it.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// The options.
    #[command(flatten)]
    pub options: RunOptions,
}

/// Why a configuration is unusable.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("config file {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The file is not valid TOML of the expected keys (names an unknown key).
    #[error("config file {path}: {message}")]
    Parse {
        /// The file.
        path: String,
        /// The parser's message (line, column, expected keys).
        message: String,
    },
    /// An option's value is unusable.
    #[error("`{option}`: {reason}")]
    Invalid {
        /// The option.
        option: &'static str,
        /// Why.
        reason: String,
    },
    /// A required option is in neither the flags nor the file (a relay
    /// without `key-file` is a follower and needs an `upstream` instead).
    #[error("`{0}` is required: pass `--{0}` or set `{0} = ...` in the config file (a follower relay gives `--upstream URL` instead of a key)")]
    Missing(&'static str),
}

impl RunArgs {
    /// Reads the file (if any), lays the flags over it and applies defaults.
    pub fn resolve(self) -> Result<RelayConfig, ConfigError> {
        let file = match &self.config {
            Some(path) => RunOptions::from_file(path)?,
            None => RunOptions::default(),
        };
        self.options.over(file).into_config()
    }
}

impl RunOptions {
    /// Parses a config file; relative paths in it become relative to its folder.
    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let shown = || path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: shown(),
            source,
        })?;
        let options = Self::from_toml(&text).map_err(|message| ConfigError::Parse {
            path: shown(),
            message,
        })?;
        let folder = path.parent().unwrap_or(Path::new(""));
        Ok(options.relative_to(folder))
    }

    /// Parses TOML text (paths as written).
    pub fn from_toml(text: &str) -> Result<Self, String> {
        toml::from_str(text).map_err(|e| e.message().to_owned() + &location(text, &e))
    }

    /// Resolves every relative path against `folder`.
    fn relative_to(self, folder: &Path) -> Self {
        let join = |p: Option<PathBuf>| p.map(|p| folder.join(p));
        Self {
            genesis: join(self.genesis),
            data_dir: join(self.data_dir),
            key_file: join(self.key_file),
            faucet_key_file: join(self.faucet_key_file),
            ..self
        }
    }

    /// These options, falling back to `file` for what is not set here. A
    /// non-empty `peers` replaces the file's list.
    fn over(self, file: Self) -> Self {
        // Destructured so that a new option cannot be forgotten here.
        let Self {
            listen,
            genesis,
            data_dir,
            key_file,
            follow,
            upstreams,
            name,
            faucet_key_file,
            faucet_pow_bits,
            peers,
            tx_retry_ttl_ms,
            max_pending_txs,
            cors_origin,
            keep_checkpoints,
            sync,
        } = self;
        Self {
            sync: sync.or(file.sync),
            follow: follow || file.follow,
            upstreams: if upstreams.is_empty() {
                file.upstreams
            } else {
                upstreams
            },
            listen: listen.or(file.listen),
            genesis: genesis.or(file.genesis),
            data_dir: data_dir.or(file.data_dir),
            key_file: key_file.or(file.key_file),
            name: name.or(file.name),
            faucet_key_file: faucet_key_file.or(file.faucet_key_file),
            faucet_pow_bits: faucet_pow_bits.or(file.faucet_pow_bits),
            peers: if peers.is_empty() { file.peers } else { peers },
            tx_retry_ttl_ms: tx_retry_ttl_ms.or(file.tx_retry_ttl_ms),
            max_pending_txs: max_pending_txs.or(file.max_pending_txs),
            keep_checkpoints: keep_checkpoints.or(file.keep_checkpoints),
            cors_origin: if cors_origin.is_empty() {
                file.cors_origin
            } else {
                cors_origin
            },
        }
    }

    /// Applies defaults; fails on a missing required option.
    fn into_config(self) -> Result<RelayConfig, ConfigError> {
        let Self {
            listen,
            genesis,
            data_dir,
            key_file,
            follow,
            upstreams,
            name,
            faucet_key_file,
            faucet_pow_bits,
            peers,
            tx_retry_ttl_ms,
            max_pending_txs,
            cors_origin,
            keep_checkpoints,
            sync,
        } = self;
        let genesis = genesis.ok_or(ConfigError::Missing("genesis"))?;
        let data_dir = data_dir.ok_or(ConfigError::Missing("data-dir"))?;
        let key_file = if follow { None } else { key_file };
        let upstreams: Vec<String> = upstreams
            .into_iter()
            .map(|u| u.trim_end_matches('/').to_owned())
            .collect();
        if key_file.is_none() && upstreams.is_empty() {
            return Err(ConfigError::Missing("key-file"));
        }
        for upstream in &upstreams {
            // Plain HTTP only: the relay is built without a TLS client
            // (followers verify what they fetch; see docs/relay.md).
            if !upstream.starts_with("http://") {
                return Err(ConfigError::Invalid {
                    option: "upstream",
                    reason: format!("{upstream:?}: an upstream is http://host:port"),
                });
            }
        }
        let faucet_pow_bits = faucet_pow_bits.unwrap_or(crate::faucet_pow::DEFAULT_FAUCET_POW_BITS);
        if faucet_pow_bits > ruv_protocol::faucet_pow::MAX_DIFFICULTY_BITS {
            return Err(ConfigError::Invalid {
                option: "faucet-pow-bits",
                reason: format!(
                    "{faucet_pow_bits}: at most {}",
                    ruv_protocol::faucet_pow::MAX_DIFFICULTY_BITS
                ),
            });
        }
        let max_pending_txs =
            max_pending_txs.unwrap_or(ruv_consensus::Tuning::default().max_pending_txs);
        if !(1..=MAX_PENDING_TXS_LIMIT).contains(&max_pending_txs) {
            return Err(ConfigError::Invalid {
                option: "max-pending-txs",
                reason: format!("{max_pending_txs}: at least 1, at most {MAX_PENDING_TXS_LIMIT}"),
            });
        }
        for origin in &cors_origin {
            check_origin(origin).map_err(|reason| ConfigError::Invalid {
                option: "cors-origin",
                reason: format!("{origin:?}: {reason}"),
            })?;
        }
        Ok(RelayConfig {
            listen: listen.unwrap_or_else(|| {
                DEFAULT_LISTEN
                    .parse()
                    .expect("DEFAULT_LISTEN is a socket address")
            }),
            genesis,
            data_dir,
            key_file,
            upstreams,
            name: name.unwrap_or_else(|| DEFAULT_NAME.to_owned()),
            faucet_key_file,
            faucet_pow_bits,
            peers,
            tx_retry_ttl_ms: tx_retry_ttl_ms.unwrap_or(DEFAULT_TX_RETRY_TTL_MS),
            max_pending_txs,
            cors_origins: cors_origin,
            keep_checkpoints: keep_checkpoints.unwrap_or(DEFAULT_KEEP_CHECKPOINTS),
            sync: sync.unwrap_or_default(),
            client_limits: Default::default(),
        })
    }
}

/// A CORS origin is `http://` or `https://`, a host and maybe a port:
/// nothing else (no path, no `*`, nothing a header cannot carry).
fn check_origin(origin: &str) -> Result<(), &'static str> {
    let rest = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"))
        .ok_or("an origin starts with http:// or https://")?;
    let host_ok = !rest.is_empty()
        && rest
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'));
    if host_ok {
        Ok(())
    } else {
        Err("an origin is scheme://host[:port], without a path or wildcard")
    }
}

/// " at line L, column C" of a TOML error, when it has a position.
fn location(text: &str, error: &toml::de::Error) -> String {
    let Some(span) = error.span() else {
        return String::new();
    };
    let before = &text[..span.start.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
    format!(" (line {line}, column {column})")
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        run: RunArgs,
    }

    fn resolve(args: &[&str]) -> Result<RelayConfig, ConfigError> {
        Cli::try_parse_from(std::iter::once("ruv-relay").chain(args.iter().copied()))
            .unwrap()
            .run
            .resolve()
    }

    const EXAMPLE: &str = include_str!("../relay.example.toml");

    /// A validator's minimal flags plus `--option value` are refused as an
    /// invalid value of that option.
    fn assert_invalid(option: &'static str, value: &str) {
        let flag = format!("--{option}");
        let err = resolve(&[
            "--genesis",
            "g",
            "--data-dir",
            "d",
            "--key-file",
            "k",
            &flag,
            value,
        ])
        .unwrap_err();
        assert!(
            matches!(err, ConfigError::Invalid { option: o, .. } if o == option),
            "{option} {value}: {err}"
        );
    }

    #[test]
    fn flags_alone_work_with_defaults() {
        let c = resolve(&["--genesis", "g.json", "--data-dir", "d", "--key-file", "k"]).unwrap();
        assert_eq!(c.listen, DEFAULT_LISTEN.parse().unwrap());
        assert_eq!(c.name, DEFAULT_NAME);
        assert_eq!(c.tx_retry_ttl_ms, DEFAULT_TX_RETRY_TTL_MS);
        assert_eq!(
            c.max_pending_txs,
            ruv_consensus::Tuning::default().max_pending_txs
        );
        assert_eq!(c.genesis, PathBuf::from("g.json"));
        assert!(c.peers.is_empty());
    }

    #[test]
    fn flags_override_the_file_and_file_paths_are_relative_to_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("relay.toml");
        std::fs::write(
            &path,
            "genesis = \"genesis.json\"\ndata-dir = \"/abs/data\"\nkey-file = \"keys/v.key\"\n\
             name = \"from-file\"\ntx-retry-ttl-ms = 5\nmax-pending-txs = 7\npeers = [\"ws://a:1/peer/v1\"]\n",
        )
        .unwrap();
        let config = path.to_str().unwrap();
        let c = resolve(&["--config", config]).unwrap();
        assert_eq!(c.genesis, dir.path().join("genesis.json"));
        assert_eq!(c.data_dir, PathBuf::from("/abs/data"));
        assert_eq!(c.key_file, Some(dir.path().join("keys/v.key")));
        assert_eq!((c.name.as_str(), c.tx_retry_ttl_ms), ("from-file", 5));
        assert_eq!(c.max_pending_txs, 7);
        assert_eq!(c.peers, ["ws://a:1/peer/v1"]);

        let c = resolve(&[
            "--config",
            config,
            "--name",
            "from-flag",
            "--genesis",
            "other.json",
            "--peer",
            "ws://b:2/peer/v1",
        ])
        .unwrap();
        assert_eq!(c.name, "from-flag");
        assert_eq!(c.genesis, PathBuf::from("other.json"));
        assert_eq!(c.peers, ["ws://b:2/peer/v1"]);
        assert_eq!(c.tx_retry_ttl_ms, 5);
    }

    #[test]
    fn unknown_keys_and_missing_options_are_refused_clearly() {
        let err = RunOptions::from_toml("genesis = \"g\"\ndata_dir = \"d\"\n").unwrap_err();
        assert!(err.contains("data_dir") && err.contains("line 2"), "{err}");
        let err = RunOptions::from_toml("listen = \"not an address\"").unwrap_err();
        assert!(err.contains("line 1"), "{err}");
        let err = resolve(&["--genesis", "g", "--key-file", "k"]).unwrap_err();
        assert!(matches!(err, ConfigError::Missing("data-dir")), "{err}");
        assert!(err.to_string().contains("--data-dir"));
        for bad in ["*", "example.org", "https://example.org/wallet", "https://"] {
            assert_invalid("cors-origin", bad);
        }
        let c = resolve(&[
            "--genesis",
            "g",
            "--data-dir",
            "d",
            "--key-file",
            "k",
            "--cors-origin",
            "http://127.0.0.1:5173",
            "--cors-origin",
            "https://[::1]:8443",
        ])
        .unwrap();
        assert_eq!(
            c.cors_origins,
            ["http://127.0.0.1:5173", "https://[::1]:8443"]
        );
        for bad in ["0", "1000001"] {
            assert_invalid("max-pending-txs", bad);
        }
        let err = resolve(&["--genesis", "g", "--data-dir", "d"]).unwrap_err();
        assert!(matches!(err, ConfigError::Missing("key-file")), "{err}");
        let c = resolve(&[
            "--genesis",
            "g",
            "--data-dir",
            "d",
            "--upstream",
            "http://10.0.0.1:7100/",
        ])
        .unwrap();
        assert_eq!(
            (c.key_file, c.upstreams),
            (None, vec!["http://10.0.0.1:7100".into()])
        );
        let c = resolve(&[
            "--genesis",
            "g",
            "--data-dir",
            "d",
            "--key-file",
            "k",
            "--follow",
            "--upstream",
            "http://a:1",
        ])
        .unwrap();
        assert!(c.key_file.is_none(), "--follow ignores the key");
        let err = resolve(&["--genesis", "g", "--data-dir", "d", "--upstream", "a:1"]).unwrap_err();
        assert!(
            matches!(
                err,
                ConfigError::Invalid {
                    option: "upstream",
                    ..
                }
            ),
            "{err}"
        );
        let err = resolve(&["--config", "/nonexistent/relay.toml"]).unwrap_err();
        assert!(matches!(err, ConfigError::Read { .. }), "{err}");
    }

    #[test]
    fn the_example_parses_and_documents_every_option() {
        let options = RunOptions::from_toml(EXAMPLE).unwrap();
        assert!(options.genesis.is_some() && options.key_file.is_some());
        // Every flag of `run` appears in the example, commented out or not,
        // and parses when uncommented.
        let command = <Cli as clap::CommandFactory>::command();
        let mut uncommented = String::new();
        for line in EXAMPLE.lines() {
            let line = line.strip_prefix("# ").unwrap_or(line);
            if line.contains(" = ") && !line.starts_with(' ') {
                uncommented.push_str(line);
                uncommented.push('\n');
            }
        }
        let all = RunOptions::from_toml(&uncommented).unwrap_or_else(|e| panic!("{e}"));
        assert!(!all.peers.is_empty());
        assert!(!all.cors_origin.is_empty());
        for arg in command.get_arguments() {
            let Some(long) = arg.get_long() else { continue };
            if long == "config" {
                continue;
            }
            let key = match long {
                "peer" => "peers",
                "upstream" => "upstreams",
                other => other,
            };
            assert!(
                uncommented
                    .lines()
                    .any(|l| l.starts_with(&format!("{key} = "))),
                "option {key} is missing from relay.example.toml"
            );
        }
    }
}
