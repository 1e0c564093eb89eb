//! Where secrets come from: a prompt on the terminal (no echo) or a file
//! named with `--password-file`. Never from arguments or the environment.
//! Every secret is held in `Zeroizing` memory and wiped when dropped.

use crate::error::{codes, CliError, CliResult};
use ruv_client::vault::session::MAX_PASSWORD_BYTES;
use std::io::{BufRead, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

/// How the vault password is obtained.
#[derive(Debug, Clone, Default)]
pub struct PasswordSource {
    /// `--password-file`.
    pub file: Option<PathBuf>,
}

/// Most bytes read from a password file or as a phrase: a password is at
/// most `MAX_PASSWORD_BYTES` after normalization, a phrase far shorter; a
/// little slack for newlines and NFKC shrinking.
pub const MAX_SECRET_INPUT_BYTES: usize = 4 * MAX_PASSWORD_BYTES;

/// Reads at most [`MAX_SECRET_INPUT_BYTES`] into a buffer allocated once
/// (no reallocation leaves copies behind) and wiped on drop.
fn read_secret(mut source: impl Read, what: &str) -> CliResult<Zeroizing<String>> {
    let mut bytes = Zeroizing::new(Vec::with_capacity(MAX_SECRET_INPUT_BYTES + 1));
    source
        .by_ref()
        .take(MAX_SECRET_INPUT_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| CliError::failure(codes::IO, format!("cannot read {what}: {e}")))?;
    if bytes.len() > MAX_SECRET_INPUT_BYTES {
        return Err(CliError::usage(
            codes::USAGE,
            format!("{what} is longer than {MAX_SECRET_INPUT_BYTES} bytes"),
        ));
    }
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| CliError::usage(codes::USAGE, format!("{what} is not UTF-8")))?;
    Ok(Zeroizing::new(text.to_owned()))
}

/// Reads a password file: its text without one trailing newline.
pub fn read_password_file(path: &Path) -> CliResult<Zeroizing<String>> {
    let file = std::fs::File::open(path).map_err(|e| {
        CliError::usage(
            codes::USAGE,
            format!("cannot open password file {}: {e}", path.display()),
        )
    })?;
    let text = read_secret(file, &format!("password file {}", path.display()))?;
    let password = text
        .strip_suffix("\r\n")
        .or_else(|| text.strip_suffix('\n'))
        .unwrap_or(&text);
    if password.is_empty() {
        return Err(CliError::usage(
            codes::USAGE,
            format!("password file {} is empty", path.display()),
        ));
    }
    Ok(Zeroizing::new(password.to_owned()))
}

fn prompt(text: &str) -> CliResult<Zeroizing<String>> {
    rpassword::prompt_password(text)
        .map(Zeroizing::new)
        .map_err(|e| {
            CliError::usage(
                codes::NO_TERMINAL,
                format!("cannot ask for the password ({e}): run in a terminal or pass --password-file FILE"),
            )
        })
}

impl PasswordSource {
    /// The password of an existing vault.
    pub fn existing(&self, what: &str) -> CliResult<Zeroizing<String>> {
        match &self.file {
            Some(path) => read_password_file(path),
            None => prompt(&format!("{what}: ")),
        }
    }

    /// A new password: typed twice at the prompt (they must match), or
    /// read once from the file.
    pub fn new_password(&self, what: &str) -> CliResult<Zeroizing<String>> {
        if let Some(path) = &self.file {
            return read_password_file(path);
        }
        let first = prompt(&format!("{what}: "))?;
        let second = prompt(&format!("{what} (again): "))?;
        if *first != *second {
            return Err(CliError::failure(
                codes::PASSWORD_MISMATCH,
                "the two passwords differ; nothing was changed",
            ));
        }
        Ok(first)
    }
}

/// Asks "question [y/N]" on stderr and reads the answer from the
/// terminal on stdin. Without a terminal the answer cannot be given.
pub fn confirm(question: &str) -> CliResult<bool> {
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        return Err(CliError::usage(
            codes::NO_TERMINAL,
            "confirmation needed but stdin is not a terminal: review the details and pass --yes",
        ));
    }
    eprint!("{question} [y/N] ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    stdin
        .lock()
        .read_line(&mut answer)
        .map_err(|e| CliError::failure(codes::IO, format!("cannot read the answer: {e}")))?;
    Ok(matches!(
        answer.trim().to_ascii_lowercase().as_str(),
        "y" | "yes"
    ))
}

/// Reads a recovery phrase from stdin (one line on a terminal, else all of
/// it; words separated by any whitespace), normalized to single spaces.
pub fn read_phrase() -> CliResult<Zeroizing<String>> {
    let stdin = std::io::stdin();
    let text = if stdin.is_terminal() {
        eprintln!("Type or paste the recovery phrase, then press Enter:");
        let mut line = Zeroizing::new(String::with_capacity(MAX_SECRET_INPUT_BYTES + 1));
        stdin
            .lock()
            .take(MAX_SECRET_INPUT_BYTES as u64 + 1)
            .read_line(&mut line)
            .map_err(|e| CliError::failure(codes::IO, format!("cannot read the phrase: {e}")))?;
        line
    } else {
        read_secret(stdin.lock(), "the phrase on stdin")?
    };
    let mut normalized = Zeroizing::new(String::with_capacity(text.len()));
    for word in text.split_whitespace() {
        if !normalized.is_empty() {
            normalized.push(' ');
        }
        normalized.push_str(word);
    }
    Ok(normalized)
}
