//! `ruv-relay init`: a relay folder ready to fill in: `relay.toml` (the
//! documented example, its paths relative to the folder) and a fresh
//! validator key (`validator.key`, `validator.key.pub`). Nothing existing is
//! ever overwritten. The genesis comes later from the network's operators.

use super::keygen::{self, KeygenArgs, NewKey};
use crate::keys::KeyFileError;
use std::path::{Path, PathBuf};

/// The commented configuration `init` writes (also `relay/relay.example.toml`).
pub const CONFIG_TEMPLATE: &str = include_str!("../../relay.example.toml");
/// File name of the configuration in a relay folder.
pub const CONFIG_FILE: &str = "relay.toml";
/// File name of the validator seed in a relay folder (the template names it).
pub const KEY_FILE: &str = "validator.key";

/// Arguments of `ruv-relay init`.
#[derive(Debug, Clone, clap::Args)]
pub struct InitArgs {
    /// The relay folder (created with mode 0700 if missing).
    #[arg(long)]
    pub dir: PathBuf,
}

/// What `init` wrote.
#[derive(Debug, Clone)]
pub struct InitDone {
    /// The configuration file.
    pub config: PathBuf,
    /// The validator key.
    pub key: NewKey,
}

/// Why `init` failed.
#[derive(Debug, thiserror::Error)]
pub enum InitError {
    /// The folder or the config could not be written, or the config exists.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The key could not be made.
    #[error(transparent)]
    Key(#[from] KeyFileError),
}

/// Writes the folder.
pub fn init(args: &InitArgs) -> Result<InitDone, InitError> {
    let io = |path: &Path| {
        let path = path.display().to_string();
        move |source| InitError::Io { path, source }
    };
    create_private_dir(&args.dir).map_err(io(&args.dir))?;
    let config = args.dir.join(CONFIG_FILE);
    // Claim the config file first: a second `init` stops here, before a key.
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&config)
        .map_err(io(&config))?;
    let key = keygen::keygen(&KeygenArgs {
        out: args.dir.join(KEY_FILE),
    });
    let key = match key {
        Ok(key) => key,
        Err(e) => {
            drop(file);
            let _ = std::fs::remove_file(&config);
            return Err(e.into());
        }
    };
    std::io::Write::write_all(&mut file, CONFIG_TEMPLATE.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(io(&config))?;
    Ok(InitDone { config, key })
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)
}

impl std::fmt::Display for InitDone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "config: {}", self.config.display())?;
        writeln!(f, "{}", self.key)?;
        write!(
            f,
            "next: send the public key file to the operator building the genesis, put the \
             genesis.json beside relay.toml, set `peers`, then `ruv-relay run --config {}`",
            self.config.display()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::RunOptions;

    #[test]
    fn init_writes_a_config_naming_its_key_and_never_overwrites() {
        let dir = tempfile::tempdir().unwrap();
        let args = InitArgs {
            dir: dir.path().join("relay"),
        };
        let done = init(&args).unwrap();
        let options = RunOptions::from_file(&done.config).unwrap();
        assert_eq!(options.key_file, Some(args.dir.join(KEY_FILE)));
        crate::keys::load(&args.dir.join(KEY_FILE)).unwrap();
        let err = init(&args).unwrap_err();
        assert!(matches!(err, InitError::Io { .. }), "{err}");
        assert_eq!(
            std::fs::read_to_string(&done.config).unwrap(),
            CONFIG_TEMPLATE
        );
    }
}
