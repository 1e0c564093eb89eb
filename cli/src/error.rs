//! What went wrong, and the exit code that says so.

use ruv_client::vault::codes as vault_codes;
use ruv_client::ClientError;
use ruv_protocol::api::{self, ApiError};

/// Exit codes (docs/cli.md; scripts depend on them).
pub mod exit {
    /// Success.
    pub const SUCCESS: u8 = 0;
    /// The command failed (wrong password, insufficient funds, a relay refused, …).
    pub const FAILURE: u8 = 1;
    /// The command line is wrong (unknown option, bad amount or address, …).
    pub const USAGE: u8 = 2;
    /// A relay's answer failed verification and no relay gave a verified one.
    pub const VERIFICATION_FAILED: u8 = 3;
    /// No configured relay could be reached.
    pub const NO_RELAY: u8 = 4;
}

/// Error codes of the CLI itself (relay and vault codes pass through).
pub mod codes {
    /// The command line is wrong.
    pub const USAGE: &str = "usage";
    /// `ruv init` has not been run for this home.
    pub const NOT_INITIALIZED: &str = "not_initialized";
    /// A configuration or data file is unreadable or malformed.
    pub const BAD_FILE: &str = "bad_file";
    /// Reading or writing a file failed.
    pub const IO: &str = "io";
    /// An amount is not rUv with at most 6 decimals.
    pub const INVALID_AMOUNT: &str = "invalid_amount";
    /// No account with that name (or several).
    pub const UNKNOWN_ACCOUNT: &str = "unknown_account";
    /// An account with that name exists already.
    pub const ACCOUNT_EXISTS: &str = "account_exists";
    /// The verified balance does not cover amount + fee.
    pub const INSUFFICIENT_FUNDS: &str = "insufficient_funds";
    /// The user declined at the confirmation prompt.
    pub const CANCELLED: &str = "cancelled";
    /// A prompt is needed but there is no terminal.
    pub const NO_TERMINAL: &str = "no_terminal";
    /// The two passwords typed differ.
    pub const PASSWORD_MISMATCH: &str = "password_mismatch";
    /// No relay could be reached.
    pub const NO_RELAY_REACHABLE: &str = "no_relay_reachable";
    /// Waiting for a verified final status ran out of time.
    pub const TIMEOUT: &str = "timeout";
    /// The relay says the transaction was rejected (not provable).
    pub const RELAY_REJECTED: &str = "relay_rejected";
    /// The relay says the transaction expired before it was issued (not
    /// provable): its nonce was not used by it.
    pub const RELAY_EXPIRED: &str = "relay_expired";
    pub use ruv_protocol::api::codes::VERIFICATION_FAILED;
}

/// Which exit code an error maps to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Exit 1.
    Failure,
    /// Exit 2.
    Usage,
    /// Exit 3.
    Verification,
    /// Exit 4.
    NoRelay,
}

/// An error the CLI reports: a stable code, a message that says what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CliError {
    /// Exit code class.
    pub kind: Kind,
    /// Stable machine-readable code.
    pub code: String,
    /// What happened and what to do.
    pub message: String,
    /// The command already printed its report (`ruv node status`): only
    /// the exit code is left to give.
    pub reported: bool,
}

impl CliError {
    fn new(kind: Kind, code: &str, message: impl Into<String>) -> Self {
        Self {
            kind,
            code: code.to_owned(),
            message: message.into(),
            reported: false,
        }
    }

    /// Exit 1.
    pub fn failure(code: &str, message: impl Into<String>) -> Self {
        Self::new(Kind::Failure, code, message)
    }

    /// Exit 2.
    pub fn usage(code: &str, message: impl Into<String>) -> Self {
        Self::new(Kind::Usage, code, message)
    }

    /// Exit 3.
    pub fn verification(message: impl Into<String>) -> Self {
        Self::new(Kind::Verification, codes::VERIFICATION_FAILED, message)
    }

    /// Exit 4.
    pub fn no_relay(message: impl Into<String>) -> Self {
        Self::new(Kind::NoRelay, codes::NO_RELAY_REACHABLE, message)
    }

    /// An I/O failure on `path`.
    pub fn io(what: &str, path: &std::path::Path, e: std::io::Error) -> Self {
        Self::failure(codes::IO, format!("{what} {}: {e}", path.display()))
    }

    /// The process exit code.
    pub fn exit_code(&self) -> u8 {
        match self.kind {
            Kind::Failure => exit::FAILURE,
            Kind::Usage => exit::USAGE,
            Kind::Verification => exit::VERIFICATION_FAILED,
            Kind::NoRelay => exit::NO_RELAY,
        }
    }
}

impl From<ClientError> for CliError {
    fn from(e: ClientError) -> Self {
        let kind = match e.code.as_str() {
            api::codes::VERIFICATION_FAILED => Kind::Verification,
            ruv_client::error::codes::INVALID_ADDRESS => Kind::Usage,
            vault_codes::INVALID_LABEL | vault_codes::INVALID_PASSWORD => Kind::Usage,
            _ => Kind::Failure,
        };
        let message = match e.code.as_str() {
            vault_codes::VAULT_NOT_FOUND => {
                "there is no vault yet: create one with `ruv account create --name NAME`, \
                 or `ruv account restore` / `ruv vault import FILE`"
                    .to_owned()
            }
            _ => e.message,
        };
        Self {
            kind,
            code: e.code,
            message,
            reported: false,
        }
    }
}

impl From<ApiError> for CliError {
    fn from(e: ApiError) -> Self {
        Self::failure(&e.code, e.message)
    }
}

/// Result of a command.
pub type CliResult<T> = Result<T, CliError>;
