//! `rosterd`, the Roster admin daemon: `serve` the HTTP API, `migrate` the database,
//! `token create`, and the offline `packs list|show|matrix|validate`.

mod cli;
mod config;
mod daemon;
mod fd_limit;
mod http;
mod metrics;
mod packs;
mod replica;
mod telemetry;
#[cfg(test)]
mod test_server;
mod transfer;

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

use cli::{Command, TokenCommand};

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let result = config::Config::load(&cli.global).and_then(|config| {
        // Before any async runtime: the OTLP exporter's HTTP client is a blocking one.
        let telemetry = telemetry::init(&config.telemetry)?;
        let result = run(&cli, &config);
        telemetry.shutdown();
        result
    });
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: &cli::Cli, config: &config::Config) -> anyhow::Result<ExitCode> {
    let runtime = || tokio::runtime::Builder::new_multi_thread().enable_all().build();
    match &cli.command {
        Command::Packs(command) => packs::run(config, command),
        Command::Serve { listen } => {
            runtime()?.block_on(daemon::serve(config, *listen))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Openapi => {
            let mut stdout = std::io::stdout();
            write!(stdout, "{}", http::openapi::generate()?)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Export { account, out } => {
            runtime()?.block_on(transfer::export(config, account.as_deref(), out.as_deref()))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Import { file } => {
            runtime()?.block_on(transfer::import(config, file))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Migrate => {
            runtime()?.block_on(daemon::open_store(config))?;
            println!("database is up to date");
            Ok(ExitCode::SUCCESS)
        }
        Command::Token(TokenCommand::Create { service, principal }) => {
            let text = runtime()?.block_on(async {
                let store = daemon::open_store(config).await?;
                match (service, principal) {
                    (Some(name), _) => daemon::create_token(&store, name, None, "cli").await,
                    (None, Some(principal)) => {
                        daemon::create_token(&store, &format!("principal-{principal}"), Some(principal.clone()), "cli")
                            .await
                    }
                    (None, None) => anyhow::bail!("name --service NAME or --principal ID"),
                }
            })?;
            let mut stdout = std::io::stdout();
            writeln!(stdout, "{text}")?;
            Ok(ExitCode::SUCCESS)
        }
    }
}
