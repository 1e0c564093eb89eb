//! Where secrets come from: a prompt on the terminal (no echo) or a file
//! named with `--password-file`. Never from arguments or the environment.
//! Every secret is held in `Zeroizing` memory and wiped when dropped.

use crate::error::{codes, CliError, CliResult};
use crate::files;
use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

/// How the vault password is obtained.
#[derive(Debug, Clone, Default)]
pub struct PasswordSource {
    /// `--password-file`.
    pub file: Option<PathBuf>,
}

/// Reads a password file: its text without one trailing newline.
pub fn read_password_file(path: &Path) -> CliResult<Zeroizing<String>> {
    let text = Zeroizing::new(files::read_text(path)?.ok_or_else(|| {
        CliError::usage(
            codes::USAGE,
            format!("password file {} does not exist", path.display()),
        )
    })?);
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

/// Reads a recovery phrase from stdin (all of it; words separated by any
/// whitespace), normalized to single spaces.
pub fn read_phrase() -> CliResult<Zeroizing<String>> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprintln!("Type or paste the recovery phrase, then press Enter:");
        let mut line = Zeroizing::new(String::new());
        stdin
            .lock()
            .read_line(&mut line)
            .map_err(|e| CliError::failure(codes::IO, format!("cannot read the phrase: {e}")))?;
        return Ok(Zeroizing::new(
            line.split_whitespace().collect::<Vec<_>>().join(" "),
        ));
    }
    let mut text = Zeroizing::new(String::new());
    std::io::Read::read_to_string(
        &mut std::io::Read::take(stdin.lock(), files::MAX_FILE_BYTES),
        &mut text,
    )
    .map_err(|e| CliError::failure(codes::IO, format!("cannot read the phrase: {e}")))?;
    Ok(Zeroizing::new(
        text.split_whitespace().collect::<Vec<_>>().join(" "),
    ))
}
