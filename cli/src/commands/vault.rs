//! `ruv vault export | import | change-password`.

use super::Context;
use crate::args::VaultCommand;
use crate::error::{codes, CliError, CliResult};
use crate::files;
use crate::light::now_ms;
use crate::output::table;
use crate::secrets::read_password_file;
use crate::vault::CliVault;
use ruv_client::vault::codes as vault_codes;
use serde_json::json;
use std::path::Path;

pub fn run(ctx: &Context, command: VaultCommand) -> CliResult<()> {
    match command {
        VaultCommand::Export { out } => export(ctx, &out),
        VaultCommand::Import { file, replace } => import(ctx, &file, replace),
        VaultCommand::ChangePassword { new_password_file } => {
            change_password(ctx, new_password_file.as_deref())
        }
    }
}

fn export(ctx: &Context, out: &Path) -> CliResult<()> {
    let vault = CliVault::open(&ctx.home)?;
    // The browser's export: the stored record, checked, in the backup wrapper.
    let text = pollster::block_on(vault.driver().export_backup())?;
    files::create_private(out, text.as_bytes())?;
    ctx.out
        .result(json!({"file": out.display().to_string()}), || {
            format!(
            "Wrote the encrypted vault to {} (the web wallet imports it with \"Import backup\"; \
             it opens with the vault password)",
            out.display()
        )
        });
    Ok(())
}

fn import(ctx: &Context, file: &Path, replace: bool) -> CliResult<()> {
    let text = files::read_text(file)?.ok_or_else(|| {
        CliError::usage(codes::USAGE, format!("{} does not exist", file.display()))
    })?;
    ctx.home.create()?;
    let vault = CliVault::open(&ctx.home)?;
    if vault.exists() && !replace {
        return Err(CliError::failure(
            vault_codes::VAULT_EXISTS,
            format!(
                "{} already holds a vault: pass --replace to overwrite it (export it first if unsure)",
                ctx.home.dir().display()
            ),
        ));
    }
    let password = ctx.passwords.existing("Backup password")?;
    pollster::block_on(
        vault
            .driver()
            .import_backup(&text, &password, replace, now_ms()),
    )?;
    vault.save_address_book()?;
    let accounts = vault.accounts()?;
    ctx.out.result(json!({ "accounts": accounts }), || {
        let rows: Vec<Vec<String>> = accounts
            .iter()
            .map(|a| vec![a.name.clone(), a.index.to_string(), a.address.clone()])
            .collect();
        format!(
            "Imported the vault from {}:\n{}",
            file.display(),
            table(&["NAME", "INDEX", "ADDRESS"], &rows, &[1])
        )
    });
    Ok(())
}

fn change_password(ctx: &Context, new_file: Option<&Path>) -> CliResult<()> {
    let vault = CliVault::open(&ctx.home)?;
    if !vault.exists() {
        return Err(ruv_client::ClientError::new(vault_codes::VAULT_NOT_FOUND, "").into());
    }
    let current = ctx.passwords.existing("Current vault password")?;
    pollster::block_on(vault.driver().unlock(&current, now_ms()))?;
    let new = match new_file {
        Some(path) => read_password_file(path)?,
        None => crate::secrets::PasswordSource::default().new_password("New vault password")?,
    };
    pollster::block_on(vault.driver().change_password(&current, &new, now_ms()))?;
    ctx.out.result(json!({"changed": true}), || {
        "Changed the vault password (backups exported earlier still open with the old one)."
            .to_owned()
    });
    Ok(())
}
