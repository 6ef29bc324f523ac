//! `rosterd packs …`: list, show, render, validate, test and diff role packs, and check an
//! upgrade against the database.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result};
use roster_core::matrix::{Matrix, MatrixFormat};
use roster_plugin::{LoadedPack, LoaderConfig, PackLoader, PackSource};

use crate::cli::{ListFormat, MatrixArg, PacksCommand, ShowFormat, TestFormat};
use crate::config::{Config, check_required};

pub(crate) fn run(config: &Config, command: &PacksCommand) -> Result<ExitCode> {
    match command {
        PacksCommand::List { format } => {
            let packs = load(config)?;
            print!("{}", render_list(&packs, *format)?);
            Ok(ExitCode::SUCCESS)
        }
        PacksCommand::Show { pack, format } => {
            let packs = load(config)?;
            let manifest = find(&packs, pack)?.pack.manifest();
            let text = match format {
                ShowFormat::Json => serde_json::to_string_pretty(manifest)? + "\n",
                ShowFormat::Toml => toml_text(manifest)?,
            };
            print!("{text}");
            Ok(ExitCode::SUCCESS)
        }
        PacksCommand::Matrix { pack, format } => {
            let packs = load(config)?;
            let format = match format {
                MatrixArg::Csv => MatrixFormat::Csv,
                MatrixArg::Markdown => MatrixFormat::Markdown,
                MatrixArg::Json => MatrixFormat::Json,
            };
            print!("{}", Matrix::of(&find(&packs, pack)?.pack).render(format));
            Ok(ExitCode::SUCCESS)
        }
        PacksCommand::Validate { path } => validate(path),
        PacksCommand::Test { paths, format } => test(config, paths, *format),
        PacksCommand::Diff { old, new, format } => {
            let (loaded, _) = PackLoader::new(config.packs.loader_config()).load_all();
            let resolver = roster_packtest::PackResolver::with_loaded(loaded.into_iter().map(|l| l.pack).collect());
            let find = |reference: &str| {
                resolver
                    .resolve(reference, Path::new("."))
                    .map_err(anyhow::Error::msg)
                    .with_context(|| format!("pack `{reference}`"))
            };
            let (old, new) = (find(old)?, find(new)?);
            let diff = roster_core::diff::PackDiff::between(&old, &new);
            match format {
                ListFormat::Text => print!("{}", diff.text()),
                ListFormat::Json => println!("{}", serde_json::to_string_pretty(&diff)?),
            }
            Ok(ExitCode::SUCCESS)
        }
        PacksCommand::CheckUpgrade => {
            tokio::runtime::Builder::new_multi_thread().enable_all().build()?.block_on(check_upgrade(config))
        }
    }
}

/// What an upgrade to the loaded packs would do to the configured database; writes nothing.
async fn check_upgrade(config: &Config) -> Result<ExitCode> {
    let packs = load(config)?;
    // A dry run leaves the schema as the running daemons know it.
    let store = crate::daemon::connect_store(config).await?;
    let pending = store.pending_migrations().await?;
    if pending > 0 {
        anyhow::bail!(
            "the database's schema is {pending} migration(s) behind this build; check the upgrade with the build the \
             database runs, or migrate it first (`rosterd migrate`)"
        );
    }
    let loaded: Vec<_> = packs.iter().map(|p| std::sync::Arc::clone(&p.pack)).collect();
    let report = store.upgrade_packs(&loaded, &config.packs.migrations, true, crate::daemon::now()).await?;
    for change in &report.changed {
        let before = change.before.as_ref().map_or("not recorded".to_owned(), |(version, _)| version.clone());
        println!("pack {}: {before} -> {} (content changed)", change.id, change.after.0);
    }
    for ((pack, account), moved) in &report.migrated {
        for (what, rows) in moved {
            println!("migrate {pack} in {account}: {what}: {rows} row(s)");
        }
    }
    if let Some(error) = &report.unloadable {
        eprintln!("{}", crate::daemon::unloadable_text(error));
        return Ok(ExitCode::FAILURE);
    }
    if report.stranded.is_empty() {
        println!(
            "ok: nothing stranded; the migrations would move {} row(s) in {} account(s)",
            report.migrated_rows(),
            report.migrated.len()
        );
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!("{}", crate::daemon::stranded_text(&report.stranded));
        Ok(ExitCode::FAILURE)
    }
}

/// Runs pack test files; packs they name by id come from the configured directories.
fn test(config: &Config, paths: &[std::path::PathBuf], format: TestFormat) -> Result<ExitCode> {
    let paths = if paths.is_empty() { vec![std::path::PathBuf::from(".")] } else { paths.to_vec() };
    let files = roster_packtest::discover(&paths).map_err(anyhow::Error::msg)?;
    if files.is_empty() {
        anyhow::bail!(
            "no *.test.yaml files under {}",
            paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
        );
    }
    // Packs named by id are the configured ones; a directory that fails to load only
    // matters to a file that names one of its packs, and that file says so.
    let (loaded, _) = PackLoader::new(config.packs.loader_config()).load_all();
    let resolver = roster_packtest::PackResolver::with_loaded(loaded.into_iter().map(|l| l.pack).collect());
    let report = roster_packtest::run(&files, &resolver);
    match format {
        TestFormat::Text => print!("{}", report.text()),
        TestFormat::Junit => print!("{}", report.junit()),
    }
    Ok(if report.success() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// Loads every configured pack; problems are warnings unless a required pack is missing.
fn load(config: &Config) -> Result<Vec<LoadedPack>> {
    let loader = PackLoader::new(config.packs.loader_config());
    let (packs, errors) = loader.load_all();
    for error in &errors {
        eprintln!("warning: {error}");
    }
    check_required(&config.packs.required, &packs)?;
    Ok(packs)
}

fn find<'a>(packs: &'a [LoadedPack], id: &str) -> Result<&'a LoadedPack> {
    packs.iter().find(|p| p.pack.id() == id).with_context(|| {
        let known: Vec<&str> = packs.iter().map(|p| p.pack.id()).collect();
        format!(
            "no pack `{id}` is loaded (loaded: {})",
            if known.is_empty() { "none".to_owned() } else { known.join(", ") }
        )
    })
}

fn render_list(packs: &[LoadedPack], format: ListFormat) -> Result<String> {
    Ok(match format {
        ListFormat::Json => {
            let items: Vec<serde_json::Value> = packs
                .iter()
                .map(|p| {
                    let m = p.pack.manifest();
                    serde_json::json!({"id": m.id, "version": m.version, "title": m.title, "source": p.source.kind(), "path": p.source.path()})
                })
                .collect();
            serde_json::to_string_pretty(&items)? + "\n"
        }
        ListFormat::Text => {
            let mut out = String::new();
            for p in packs {
                let m = p.pack.manifest();
                out.push_str(&format!(
                    "{:<12} {:<8} {:<7} {}  ({})\n",
                    m.id,
                    m.version,
                    p.source.kind(),
                    m.title,
                    p.source.path().display()
                ));
            }
            out
        }
    })
}

fn toml_text(manifest: &roster_core::PackManifest) -> Result<String> {
    toml::to_string_pretty(manifest).context("cannot render the manifest as TOML")
}

/// Validates one file; prints a summary (exit 0) or the precise problem (exit 1).
fn validate(path: &Path) -> Result<ExitCode> {
    let is_toml = path.extension().is_some_and(|e| e == "toml");
    let result = if is_toml {
        PackLoader::new(LoaderConfig::default()).load_toml(path)
    } else {
        let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
        PackLoader::new(LoaderConfig { plugin_dirs: vec![dir.to_owned()], ..LoaderConfig::default() }).load_plugin(path)
    };
    match result {
        Ok(loaded) => {
            let m = loaded.pack.manifest();
            println!(
                "valid: pack `{}` {} \"{}\": {} resource types, {} permissions, {} roles",
                m.id,
                m.version,
                m.title,
                m.resource_types.len(),
                m.permissions.len(),
                m.roles.len()
            );
            if let PackSource::Plugin { sha256, .. } = &loaded.source {
                println!("sha256: {sha256}");
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(error) => {
            eprintln!("invalid: {error}");
            Ok(ExitCode::FAILURE)
        }
    }
}
