//! `ruv account create | restore | list`.

use super::Context;
use crate::args::AccountCommand;
use crate::error::{codes, CliError, CliResult};
use crate::light::now_ms;
use crate::output::table;
use crate::secrets;
use crate::vault::{Account, CliVault};
use serde_json::json;
use zeroize::Zeroizing;

pub fn run(ctx: &Context, command: AccountCommand) -> CliResult<()> {
    match command {
        AccountCommand::Create { name } => create(ctx, &name),
        AccountCommand::Restore { name } => restore(ctx, &name),
        AccountCommand::List => list(ctx),
    }
}

fn check_name(name: &str) -> CliResult<()> {
    // Names and addresses share the NAME|ADDRESS arguments.
    if name.starts_with("ruv1") {
        return Err(CliError::usage(
            codes::USAGE,
            "an account name cannot start with \"ruv1\" (it would read as an address)",
        ));
    }
    ruv_client::vault::record::validate_label(name)?;
    Ok(())
}

fn print_account(ctx: &Context, account: &Account, verb: &str) {
    ctx.out.result(
        json!({"name": account.name, "index": account.index, "address": account.address}),
        || format!("{verb} account {}: {}", account.name, account.address),
    );
}

fn create(ctx: &Context, name: &str) -> CliResult<()> {
    check_name(name)?;
    ctx.home.create()?;
    let vault = CliVault::open(&ctx.home)?;
    let driver = vault.driver();
    let account = if vault.exists() {
        vault.unlock(&ctx.passwords)?;
        if vault.accounts()?.iter().any(|a| a.name == name) {
            return Err(CliError::failure(
                codes::ACCOUNT_EXISTS,
                format!("an account named {name:?} exists already (see `ruv account list`)"),
            ));
        }
        Account::from(pollster::block_on(
            driver.add_account(Some(name), now_ms()),
        )?)
    } else {
        eprintln!(
            "Creating the vault in {} (the password encrypts it; at least {} characters).",
            ctx.home.dir().display(),
            ruv_client::vault::session::MIN_PASSWORD_CHARS
        );
        let password = ctx.passwords.new_password("New vault password")?;
        pollster::block_on(driver.create(&password, now_ms()))?;
        // A new vault holds account 0; it takes the name asked for.
        pollster::block_on(driver.rename_account(0, name, now_ms()))?;
        let phrase = pollster::block_on(driver.reveal_phrase(&password, now_ms()))?;
        show_phrase(&phrase);
        vault.account(name)?
    };
    vault.save_address_book()?;
    print_account(ctx, &account, "Created");
    Ok(())
}

/// The one time the phrase is shown: on stderr, never on stdout (which
/// scripts capture) and never again.
fn show_phrase(phrase: &Zeroizing<String>) {
    eprintln!(
        "\nRecovery phrase: write these 24 words down, in order, and keep them offline.\n\
         Anyone who has them can spend from every account of this vault; it is shown only now.\n\n  {}\n",
        phrase.as_str()
    );
}

fn restore(ctx: &Context, name: &str) -> CliResult<()> {
    check_name(name)?;
    ctx.home.create()?;
    let vault = CliVault::open(&ctx.home)?;
    if vault.exists() {
        return Err(CliError::failure(
            ruv_client::vault::codes::VAULT_EXISTS,
            format!(
                "{} already holds a vault: restore into another --home, or export and remove it first",
                ctx.home.dir().display()
            ),
        ));
    }
    let password = ctx.passwords.new_password("New vault password")?;
    let phrase = secrets::read_phrase()?;
    let driver = vault.driver();
    pollster::block_on(driver.restore(&phrase, &password, now_ms()))?;
    pollster::block_on(driver.rename_account(0, name, now_ms()))?;
    vault.save_address_book()?;
    print_account(ctx, &vault.account(name)?, "Restored");
    Ok(())
}

fn list(ctx: &Context) -> CliResult<()> {
    let vault = CliVault::open(&ctx.home)?;
    vault.unlock(&ctx.passwords)?;
    let accounts = vault.accounts()?;
    ctx.out.result(json!({ "accounts": accounts }), || {
        let rows: Vec<Vec<String>> = accounts
            .iter()
            .map(|a| vec![a.name.clone(), a.index.to_string(), a.address.clone()])
            .collect();
        table(&["NAME", "INDEX", "ADDRESS"], &rows, &[1])
    });
    Ok(())
}
