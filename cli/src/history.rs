//! The transactions this CLI sent or asked for (`history.json` in the home
//! folder). Relays offer no per-account listing, so `ruv history` shows
//! these, each with the status verified at the time it is shown; what was
//! sent from elsewhere (another wallet, another home) is not in it.

use crate::error::{codes, CliError, CliResult};
use crate::files::{self, FileLock};
use crate::home::Home;
use ruv_protocol::serde_bytes::u64_string;
use serde::{Deserialize, Serialize};

/// Version of `history.json`.
pub const HISTORY_VERSION: u32 = 1;
/// Entries kept (the oldest are forgotten first).
pub const MAX_HISTORY_ENTRIES: usize = 10_000;

/// What kind of transaction an entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    /// A transfer signed here.
    Transfer,
    /// A devnet faucet payment asked for here.
    Faucet,
}

/// One transaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// Transaction id.
    pub id: String,
    /// Transfer or faucet.
    pub kind: EntryKind,
    /// Sender (unknown for a faucet payment until proven).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// Recipient.
    pub to: String,
    /// Amount, micro-rUv (unknown for a faucet payment).
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_u64")]
    pub amount: Option<u64>,
    /// Fee, micro-rUv.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_u64")]
    pub fee: Option<u64>,
    /// Sender's nonce (lets a rejection be proven).
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_u64")]
    pub nonce: Option<u64>,
    /// Memo.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub memo: String,
    /// When it was submitted (ms since the Unix epoch).
    pub submitted_ms: u64,
}

mod opt_u64 {
    use super::u64_string;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(value: &Option<u64>, s: S) -> Result<S::Ok, S::Error> {
        match value {
            Some(v) => u64_string::serialize(v, s),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
        Option::<String>::deserialize(d)?
            .map(|t| u64_string::parse(&t).map_err(serde::de::Error::custom))
            .transpose()
    }
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct HistoryFile {
    version: u32,
    entries: Vec<Entry>,
}

fn read(home: &Home) -> CliResult<Vec<Entry>> {
    let path = home.file("history.json");
    let Some(text) = files::read_text(&path)? else {
        return Ok(Vec::new());
    };
    let file: HistoryFile = serde_json::from_str(&text)
        .map_err(|e| CliError::failure(codes::BAD_FILE, format!("{}: {e}", path.display())))?;
    if file.version != HISTORY_VERSION {
        return Err(CliError::failure(
            codes::BAD_FILE,
            format!(
                "{}: version {} is not supported",
                path.display(),
                file.version
            ),
        ));
    }
    Ok(file.entries)
}

/// Every entry, oldest first.
pub fn entries(home: &Home) -> CliResult<Vec<Entry>> {
    read(home)
}

/// The entry with transaction id `id`, if any.
pub fn find(home: &Home, id: &str) -> CliResult<Option<Entry>> {
    Ok(read(home)?.into_iter().rev().find(|e| e.id == id))
}

/// Appends an entry (under a lock: other `ruv` processes may append too).
pub fn append(home: &Home, entry: Entry) -> CliResult<()> {
    let lock_path = home.file("history.lock");
    let _lock =
        FileLock::acquire(&lock_path).map_err(|e| CliError::io("cannot lock", &lock_path, e))?;
    let mut entries = read(home)?;
    if entries.iter().any(|e| e.id == entry.id) {
        return Ok(());
    }
    entries.push(entry);
    if entries.len() > MAX_HISTORY_ENTRIES {
        let excess = entries.len() - MAX_HISTORY_ENTRIES;
        entries.drain(..excess);
    }
    let text = serde_json::to_string_pretty(&HistoryFile {
        version: HISTORY_VERSION,
        entries,
    })
    .map_err(|e| CliError::failure(codes::IO, e.to_string()))?;
    files::write_private(&home.file("history.json"), text.as_bytes())
}
