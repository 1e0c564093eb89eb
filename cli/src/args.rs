//! The command line: names, options and help texts (scripts depend on the
//! names; docs/cli.md lists them).

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// rUv from the command line: every balance and every "final" is verified
/// against certified checkpoints of the network's genesis.
#[derive(Debug, Parser)]
#[command(name = "ruv", version, propagate_version = true)]
#[command(after_help = "\
Examples:
  ruv init --genesis genesis.json --relay http://127.0.0.1:8080
  ruv account create --name alice
  ruv faucet alice
  ruv balance alice
  ruv transfer --from alice --to ruv1... --amount 12.5
  ruv --json history alice

Exit codes: 0 success, 1 failure, 2 usage, 3 verification failed (a relay lied
and no relay gave a verified answer), 4 no relay reachable.")]
pub struct Cli {
    /// Folder for the configuration, vault and history [default: $RUV_HOME, else ~/.ruv]
    #[arg(long, global = true, env = "RUV_HOME", value_name = "DIR")]
    pub home: Option<PathBuf>,
    /// Print one JSON object on stdout and nothing else (errors too: {"error": {"code", "message"}})
    #[arg(long, global = true)]
    pub json: bool,
    /// Relay base URL; repeat for several (replaces the configured relays)
    #[arg(long = "relay", global = true, value_name = "URL")]
    pub relays: Vec<String>,
    /// Read the vault password from FILE instead of prompting (the only other way to give it)
    #[arg(long, global = true, value_name = "FILE")]
    pub password_file: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write the configuration: the network's genesis (trust anchor) and its relays
    #[command(after_help = "\
Examples:
  ruv init --genesis devnet/genesis.json --relay http://127.0.0.1:8080
  ruv init --genesis genesis.json --relay https://relay-a.example --relay https://relay-b.example

The genesis file is copied into the home folder: it is the only thing trusted.")]
    Init {
        /// The network's genesis file
        #[arg(long, value_name = "FILE")]
        genesis: PathBuf,
    },
    /// Create, restore and list accounts
    #[command(subcommand)]
    #[command(after_help = "\
Examples:
  ruv account create --name alice
  ruv account restore --name alice < phrase.txt
  ruv account list")]
    Account(AccountCommand),
    /// Show the verified balance and nonce of an account
    #[command(after_help = "\
Examples:
  ruv balance alice
  ruv --json balance ruv1...

JSON: {\"address\", \"balance\", \"nonce\", \"checkpoint\", \"checkpoint_age_ms\", \"stale\"},
amounts as decimal strings of micro-rUv.")]
    Balance {
        /// Account name or address
        #[arg(value_name = "NAME|ADDRESS")]
        account: String,
    },
    /// Ask a devnet relay's faucet for funds (devnet networks only)
    #[command(after_help = "\
Examples:
  ruv faucet alice
  ruv faucet ruv1... --no-wait")]
    Faucet {
        /// Account name or address
        #[arg(value_name = "NAME|ADDRESS")]
        account: String,
        #[command(flatten)]
        wait: WaitArgs,
    },
    /// Sign and send rUv
    #[command(after_help = "\
Examples:
  ruv transfer --from alice --to ruv1... --amount 12.5
  ruv transfer --from alice --to bob --amount 0.000001 --memo rent --yes
  ruv --json --password-file pw.txt transfer --from alice --to ruv1... --amount 5 --yes

Shows recipient, amount, fee, total and network and asks before signing
unless --yes. The nonce comes from a verified account proof; the chain id
and fee schedule from the genesis. JSON: {\"id\", \"status\"}.")]
    Transfer {
        /// Sending account (its name in the vault)
        #[arg(long, value_name = "NAME")]
        from: String,
        /// Recipient: an address, or the name of an account of this vault
        #[arg(long, value_name = "ADDRESS|NAME")]
        to: String,
        /// Amount in rUv, up to 6 decimals (e.g. 12.5)
        #[arg(long, value_name = "AMOUNT")]
        amount: String,
        /// Memo (at most 128 bytes of UTF-8; public)
        #[arg(long, value_name = "TEXT")]
        memo: Option<String>,
        /// Sign without asking
        #[arg(long)]
        yes: bool,
        #[command(flatten)]
        wait: WaitArgs,
    },
    /// Show the verified status of a transaction
    #[command(after_help = "\
Examples:
  ruv tx 3f9c...e1
  ruv --json tx 3f9c...e1

status: final (a certified checkpoint includes it), rejected (a certified
checkpoint includes another transaction with its nonce), pending (nothing
proven yet; relay_status is the relay's unverified word: pending, accepted,
rejected, or expired = dropped before it was issued, its nonce unused by it).")]
    Tx {
        /// Transaction id (64 hex digits)
        id: String,
    },
    /// List the account's transactions, verified, newest first
    #[command(after_help = "\
Examples:
  ruv history alice
  ruv --json history ruv1...

The relays' history of the account (every entry's inclusion proof verified
against a certified checkpoint), plus what this home sent or asked for that
no certified checkpoint holds yet, each with its status verified now.")]
    History {
        /// Account name or address
        #[arg(value_name = "NAME|ADDRESS")]
        account: String,
        /// Show at most this many (the newest; each costs a few requests to verify)
        #[arg(long, value_name = "N", default_value_t = 50, value_parser = clap::value_parser!(u64).range(1..=10_000))]
        limit: u64,
    },
    /// Export, import and re-key the vault
    #[command(subcommand)]
    #[command(after_help = "\
Examples:
  ruv vault export --out ruv-backup.json
  ruv vault import ruv-backup.json
  ruv vault change-password")]
    Vault(VaultCommand),
    /// Look at the relays
    #[command(subcommand)]
    #[command(after_help = "\
Examples:
  ruv node status
  ruv --json node status")]
    Node(NodeCommand),
}

/// Waiting for a verified final status.
#[derive(Debug, Args)]
pub struct WaitArgs {
    /// Return after submission instead of waiting for a verified final status
    #[arg(long)]
    pub no_wait: bool,
    /// Seconds to wait for a verified final status
    #[arg(long, value_name = "SECONDS", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub timeout: u64,
}

/// `ruv account ...`.
#[derive(Debug, Subcommand)]
pub enum AccountCommand {
    /// Create an account (and the vault, on first use: the recovery phrase is shown once)
    #[command(after_help = "\
Examples:
  ruv account create --name alice
  ruv --password-file pw.txt account create --name savings

On first use this creates the vault: the password is asked twice and the
24-word recovery phrase is shown once, on stderr. Write it down.")]
    Create {
        /// The account's name
        #[arg(long)]
        name: String,
    },
    /// Create the vault from a recovery phrase read from stdin
    #[command(after_help = "\
Examples:
  ruv account restore --name alice          (type the phrase, then Enter)
  ruv --password-file pw.txt account restore --name alice < phrase.txt")]
    Restore {
        /// Name of the first account
        #[arg(long)]
        name: String,
    },
    /// List the vault's accounts
    #[command(after_help = "\
Examples:
  ruv account list
  ruv --json account list")]
    List,
}

/// `ruv vault ...`.
#[derive(Debug, Subcommand)]
pub enum VaultCommand {
    /// Write the encrypted vault to a backup file the web wallet imports
    #[command(after_help = "\
Examples:
  ruv vault export --out ruv-backup.json

No password needed: the file is the encrypted vault, as the web wallet's
\"Export backup\" writes it. Keep it safe all the same.")]
    Export {
        /// The backup file to create (must not exist)
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Import a backup file (from the web wallet or `ruv vault export`)
    #[command(after_help = "\
Examples:
  ruv vault import ruv-backup.json
  ruv vault import ruv-backup.json --replace

Asks for the backup's password, which becomes the vault's.")]
    Import {
        /// The backup file
        file: PathBuf,
        /// Replace an existing vault
        #[arg(long)]
        replace: bool,
    },
    /// Change the vault password
    #[command(after_help = "\
Examples:
  ruv vault change-password
  ruv --password-file old.txt vault change-password --new-password-file new.txt")]
    ChangePassword {
        /// Read the new password from FILE instead of prompting
        #[arg(long, value_name = "FILE")]
        new_password_file: Option<PathBuf>,
    },
}

/// `ruv node ...`.
#[derive(Debug, Subcommand)]
pub enum NodeCommand {
    /// Each configured relay's status, peers, latest certified checkpoint and its age
    #[command(after_help = "\
Examples:
  ruv node status
  ruv --json node status --relay http://127.0.0.1:8080")]
    Status,
}
