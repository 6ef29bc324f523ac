//! `rosterd`, the Roster admin daemon. For now the offline verbs: inspecting, rendering
//! and validating role packs (`rosterd packs list|show|matrix|validate`).

mod cli;
mod config;
mod packs;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let result = config::Config::load(&cli.global).and_then(|config| match &cli.command {
        cli::Command::Packs(command) => packs::run(&config, command),
    });
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
