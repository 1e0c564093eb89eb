//! What a command prints: with `--json`, exactly one JSON object on stdout;
//! otherwise text for people (aligned tables). Progress, prompts and
//! warnings go to stderr in both modes.

use crate::error::CliError;
use serde_json::{json, Value};
use std::io::{IsTerminal, Write};

/// How results are printed.
#[derive(Debug, Clone, Copy)]
pub struct Output {
    /// `--json`.
    pub json: bool,
}

impl Output {
    /// Prints a command's result: `value` with `--json`, else `human`.
    pub fn result(&self, value: Value, human: impl FnOnce() -> String) {
        let mut stdout = std::io::stdout().lock();
        let _ = if self.json {
            writeln!(stdout, "{value}")
        } else {
            let text = human();
            if text.ends_with('\n') {
                write!(stdout, "{text}")
            } else {
                writeln!(stdout, "{text}")
            }
        };
    }

    /// Prints an error: `{"error": {"code", "message"}}` on stdout with
    /// `--json` (so a script reads one object either way), else on stderr.
    pub fn error(&self, e: &CliError) {
        if self.json {
            println!(
                "{}",
                json!({"error": {"code": e.code, "message": e.message}})
            );
        } else {
            eprintln!("error: {}", e.message);
        }
    }
}

/// Rows as an aligned table with a header row. Columns listed in
/// `right` are right-aligned (numbers).
pub fn table(header: &[&str], rows: &[Vec<String>], right: &[usize]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(cell.chars().count());
            }
        }
    }
    let line = |cells: Vec<&str>| {
        let mut out = String::new();
        for (i, cell) in cells.iter().enumerate() {
            let pad = widths[i].saturating_sub(cell.chars().count());
            if i > 0 {
                out.push_str("  ");
            }
            if right.contains(&i) {
                out.push_str(&" ".repeat(pad));
                out.push_str(cell);
            } else {
                out.push_str(cell);
                if i + 1 < cells.len() {
                    out.push_str(&" ".repeat(pad));
                }
            }
        }
        out.push('\n');
        out
    };
    let mut out = line(header.to_vec());
    for row in rows {
        out.push_str(&line(row.iter().map(String::as_str).collect()));
    }
    out
}

/// An age in words: "4 s", "3 min", "2 h".
pub fn age(ms: u64) -> String {
    let s = ms / 1000;
    match s {
        0..=119 => format!("{s} s"),
        120..=7199 => format!("{} min", s / 60),
        _ => format!("{} h", s / 3600),
    }
}

/// A one-line progress indicator on stderr, shown only when stderr is a
/// terminal; cleared when dropped.
pub struct Progress {
    active: bool,
}

impl Progress {
    /// Starts one (inactive unless stderr is a terminal).
    pub fn new() -> Self {
        Self {
            active: std::io::stderr().is_terminal(),
        }
    }

    /// Replaces the line with `text`.
    pub fn update(&self, text: &str) {
        if self.active {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r\x1b[2K{text}");
            let _ = err.flush();
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.update("");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_align() {
        let t = table(
            &["NAME", "BALANCE"],
            &[
                vec!["alice".into(), "1.000000".into()],
                vec!["bo".into(), "1000.000000".into()],
            ],
            &[1],
        );
        assert_eq!(
            t,
            "NAME       BALANCE\nalice     1.000000\nbo     1000.000000\n"
        );
    }
}
