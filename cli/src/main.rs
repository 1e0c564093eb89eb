//! `ruv`: the rUv command line. A thin shell over the code the browser
//! runs: the vault (`ruv_client::vault`), transfer signing and the light
//! client core; every balance and every "final" is verified against
//! certified checkpoints of the configured genesis. See docs/cli.md.
#![forbid(unsafe_code)]

mod amount;
mod args;
mod commands;
mod error;
mod files;
mod history;
mod home;
mod light;
mod output;
mod rest;
mod secrets;
mod vault;
mod vault_file;

use clap::error::ErrorKind;
use clap::Parser;
use error::{codes, exit, CliError};
use output::Output;
use std::process::ExitCode;

fn main() -> ExitCode {
    let argv: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let json = argv.iter().any(|a| a == "--json");
    let cli = match args::Cli::try_parse_from(&argv) {
        Ok(cli) => cli,
        Err(e) => {
            let informational =
                matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion);
            if json && !informational {
                let message = e.render().to_string();
                Output { json: true }.error(&CliError::usage(codes::USAGE, message.trim()));
                return ExitCode::from(exit::USAGE);
            }
            let _ = e.print();
            return ExitCode::from(if informational {
                exit::SUCCESS
            } else {
                exit::USAGE
            });
        }
    };
    let out = Output { json: cli.json };
    match commands::run(cli, out) {
        Ok(()) => ExitCode::from(exit::SUCCESS),
        Err(e) => {
            if !e.reported {
                out.error(&e);
            }
            ExitCode::from(e.exit_code())
        }
    }
}
