//! Files in the home folder: written atomically (temporary file, fsync,
//! rename), readable by the owner only, and guarded by a lock file when
//! several `ruv` processes may change them at once.

use crate::error::{codes, CliError, CliResult};
use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

/// Largest file the CLI reads from its home (the genesis, the vault, the
/// history): anything larger is not one of ours.
pub const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// Creates `dir` (and parents) readable by the owner only.
pub fn create_private_dir(dir: &Path) -> CliResult<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder
        .create(dir)
        .map_err(|e| CliError::io("cannot create", dir, e))
}

fn private_options() -> fs::OpenOptions {
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options
}

/// Replaces `path` with `bytes` atomically: a crash leaves the old file or
/// the new one. The file is readable by the owner only.
pub fn write_private(path: &Path, bytes: &[u8]) -> CliResult<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".tmp-{}", std::process::id()));
    let tmp = PathBuf::from(tmp);
    let result = (|| {
        let mut file = private_options().open(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if let Err(e) = result {
        let _ = fs::remove_file(&tmp);
        return Err(CliError::io("cannot write", path, e));
    }
    // Makes the rename durable (Linux); the rename itself is atomic already.
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        if let Ok(d) = fs::File::open(dir) {
            let _ = d.sync_all();
        }
    }
    Ok(())
}

/// Writes a new file that must not exist yet (owner-only, synced).
pub fn create_private(path: &Path, bytes: &[u8]) -> CliResult<()> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).map_err(|e| {
        if e.kind() == io::ErrorKind::AlreadyExists {
            CliError::failure(
                codes::IO,
                format!("{} exists already; choose another file", path.display()),
            )
        } else {
            CliError::io("cannot create", path, e)
        }
    })?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(|e| CliError::io("cannot write", path, e))
}

/// The text of `path`, or `None` if it does not exist.
pub fn read_text(path: &Path) -> CliResult<Option<String>> {
    let file = match fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(CliError::io("cannot read", path, e)),
    };
    let mut text = String::new();
    file.take(MAX_FILE_BYTES + 1)
        .read_to_string(&mut text)
        .map_err(|e| CliError::io("cannot read", path, e))?;
    if text.len() as u64 > MAX_FILE_BYTES {
        return Err(CliError::failure(
            codes::BAD_FILE,
            format!("{} is larger than {MAX_FILE_BYTES} bytes", path.display()),
        ));
    }
    Ok(Some(text))
}

/// An exclusive lock on a lock file, held until dropped: one `ruv` process
/// at a time changes the file it guards.
pub struct FileLock {
    _file: fs::File,
}

impl FileLock {
    /// Waits for the lock on `path` (created if missing).
    pub fn acquire(path: &Path) -> io::Result<Self> {
        let file = private_options().truncate(false).open(path)?;
        file.lock()?;
        Ok(Self { _file: file })
    }
}
