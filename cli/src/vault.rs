//! The vault as the CLI uses it: the browser's [`VaultDriver`] over a
//! backup-format file in the home folder, and a public address book
//! (`accounts.json`: names and addresses only) so that commands which only
//! read the network do not need the password.

use crate::error::{codes, CliError, CliResult};
use crate::files;
use crate::home::Home;
use crate::light::now_ms;
use crate::secrets::PasswordSource;
use crate::vault_file::BackupFileStorage;
use ruv_client::transfer::parse_address;
use ruv_client::vault::session::AccountInfo;
use ruv_client::vault::{VaultConfig, VaultDriver};
use ruv_protocol::Address;
use serde::{Deserialize, Serialize};

/// The vault file's name in the home folder.
pub const VAULT_FILE: &str = "vault.json";

/// An account as the CLI shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Account {
    /// Its name (the vault's label).
    pub name: String,
    /// Derivation index.
    pub index: u32,
    /// Its address.
    pub address: String,
}

impl From<AccountInfo> for Account {
    fn from(a: AccountInfo) -> Self {
        Self {
            name: a.label,
            index: a.index,
            address: a.address,
        }
    }
}

/// The vault of one command.
pub struct CliVault {
    driver: VaultDriver<BackupFileStorage>,
    home: Home,
}

impl CliVault {
    /// Opens the vault file of `home` (locked; it may not exist yet).
    pub fn open(home: &Home) -> CliResult<Self> {
        let storage = BackupFileStorage::new(home.file(VAULT_FILE), home.file("vault.lock"));
        // Default Argon2id parameters: the CLI never weakens them.
        let driver = pollster::block_on(VaultDriver::open(storage, VaultConfig::default()))?;
        Ok(Self {
            driver,
            home: home.clone(),
        })
    }

    /// The driver (the browser's code).
    pub fn driver(&self) -> &VaultDriver<BackupFileStorage> {
        &self.driver
    }

    /// Whether a vault exists.
    pub fn exists(&self) -> bool {
        self.driver.revision().is_some()
    }

    /// Asks for the password and unlocks.
    pub fn unlock(&self, passwords: &PasswordSource) -> CliResult<()> {
        if !self.exists() {
            return Err(ruv_client::ClientError::new(
                ruv_client::vault::codes::VAULT_NOT_FOUND,
                "",
            )
            .into());
        }
        let password = passwords.existing("Vault password")?;
        let outcome = pollster::block_on(self.driver.unlock(&password, now_ms()))?;
        if let Some(code) = outcome.upgrade_error {
            eprintln!("warning: the vault's key derivation could not be strengthened ({code}); it is retried next time");
        }
        self.save_address_book()?;
        Ok(())
    }

    /// The accounts (unlocked).
    pub fn accounts(&self) -> CliResult<Vec<Account>> {
        Ok(self
            .driver
            .accounts(now_ms())?
            .into_iter()
            .map(Account::from)
            .collect())
    }

    /// The account named `name` (unlocked).
    pub fn account(&self, name: &str) -> CliResult<Account> {
        find(self.accounts()?, name)
    }

    /// Writes the names and addresses (public) for password-less lookups.
    pub fn save_address_book(&self) -> CliResult<()> {
        let accounts = self.accounts()?;
        let text = serde_json::to_string_pretty(&accounts)
            .map_err(|e| CliError::failure(codes::IO, e.to_string()))?;
        files::write_private(&self.home.file(ADDRESS_BOOK), text.as_bytes())
    }
}

/// The address book's file name.
pub const ADDRESS_BOOK: &str = "accounts.json";

fn find(accounts: Vec<Account>, name: &str) -> CliResult<Account> {
    let mut matches = accounts.into_iter().filter(|a| a.name == name);
    match (matches.next(), matches.next()) {
        (Some(a), None) => Ok(a),
        (Some(_), Some(_)) => Err(CliError::failure(
            codes::UNKNOWN_ACCOUNT,
            format!("several accounts are named {name:?}: use the address instead"),
        )),
        (None, _) => Err(CliError::failure(
            codes::UNKNOWN_ACCOUNT,
            format!("no account named {name:?} (see `ruv account list`)"),
        )),
    }
}

/// The accounts in the address book (empty if there is none yet).
pub fn address_book(home: &Home) -> CliResult<Vec<Account>> {
    let path = home.file(ADDRESS_BOOK);
    match files::read_text(&path)? {
        None => Ok(Vec::new()),
        Some(text) => serde_json::from_str(&text)
            .map_err(|e| CliError::failure(codes::BAD_FILE, format!("{}: {e}", path.display()))),
    }
}

/// `NAME|ADDRESS` as an address: an address as given, a name looked up in
/// the address book (no password needed).
pub fn resolve(home: &Home, name_or_address: &str) -> CliResult<(Address, Option<String>)> {
    if name_or_address.starts_with("ruv1") {
        return Ok((parse_address(name_or_address)?, None));
    }
    let account = find(address_book(home)?, name_or_address)?;
    Ok((parse_address(&account.address)?, Some(account.name)))
}
