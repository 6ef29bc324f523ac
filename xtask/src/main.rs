//! `cargo xtask …`: Roster's developer workflows, so a newcomer needs only cargo.
//!
//! * `build-plugins` — every pack cdylib into `target/plugins/`, test fixtures into
//!   `target/plugin-fixtures/`.
//! * `test` — build-plugins, then every test of the workspace (nextest when installed).
//! * `ci` — `cargo fmt --check`, clippy with `-D warnings`, then `test`.
//! * `new-pack NAME` — scaffold `plugins/NAME`, a pack that builds and validates as is.
//! * `run` — build the plugins and the daemon, then `rosterd serve` on the embedded SQLite.
//! * `bench [--quick] [--scale N]` — the decision benchmark, in release mode.

mod scaffold;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "cargo xtask", about = "Roster developer workflows")]
struct Cli {
    #[command(subcommand)]
    command: Task,
}

#[derive(Subcommand)]
enum Task {
    /// Build every pack plugin (and the loader's test fixtures) into target/plugins/.
    BuildPlugins {
        /// Build in release mode.
        #[arg(long)]
        release: bool,
    },
    /// Build the plugins, then run every test of the workspace.
    Test {
        /// Extra arguments for the test runner (after `--`).
        #[arg(last = true)]
        args: Vec<String>,
    },
    /// Format check, clippy with -D warnings, then the tests.
    Ci,
    /// Build the plugins and the daemon, then serve on the embedded SQLite default.
    Run {
        /// Extra arguments for `rosterd serve` (after `--`).
        #[arg(last = true)]
        args: Vec<String>,
    },
    /// Decision benchmarks against casbin-rs and cedar-policy (release build; not part of
    /// `test`). The full run also sweeps sizes, times snapshot builds, drives the daemon
    /// with wrk and writes docs/benchmarks.md.
    Bench {
        /// A small comparison that finishes in seconds and prints the summary line.
        #[arg(long)]
        quick: bool,
        /// Accounts to generate (each: 105 resources, 100 memberships and grants).
        #[arg(long)]
        scale: Option<usize>,
        /// More arguments for roster-bench (after `--`; see `-- --help`).
        #[arg(last = true)]
        args: Vec<String>,
    },
    /// Write docs/openapi.json from the code (`rosterd openapi`).
    Openapi,
    /// Fuzz the HTTP API with Schemathesis (pip package `schemathesis`) against a live
    /// daemon: no 5xx, every answer as the OpenAPI document says, no rejected call that
    /// changes the database. SQLite unless `--postgres`.
    FuzzApi {
        /// Admin URL of a PostgreSQL server (a fresh database is created and dropped).
        #[arg(long)]
        postgres: Option<String>,
        /// Most examples per operation.
        #[arg(long, default_value_t = 25)]
        examples: u32,
        /// Schemathesis's random seed.
        #[arg(long, default_value_t = 20261124)]
        seed: u64,
    },
    /// Scaffold plugins/NAME: a role pack that builds and validates out of the box.
    NewPack {
        /// Pack id: lower-case letters, digits, `_`, starting with a letter.
        name: String,
    },
}

fn main() -> std::process::ExitCode {
    match run_task(Cli::parse().command) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run_task(task: Task) -> Result<()> {
    let root = workspace_root();
    match task {
        Task::BuildPlugins { release } => {
            let dirs = build_plugins(&root, release)?;
            println!("plugins:  {}\nfixtures: {}", dirs.plugins.display(), dirs.fixtures.display());
            Ok(())
        }
        Task::Test { args } => test(&root, &args),
        Task::Ci => {
            run(cargo(&root).args(["fmt", "--all", "--", "--check"]), "cargo fmt --check")?;
            run(cargo(&root).args(["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"]), "cargo clippy")?;
            test(&root, &[])
        }
        Task::NewPack { name } => scaffold::new_pack(&root, &name),
        Task::Bench { quick, scale, args } => {
            if !quick {
                // The full run drives the release daemon with its plugins.
                build_plugins(&root, true)?;
                run(cargo(&root).args(["build", "--release", "-p", "rosterd"]), "building rosterd")?;
            }
            let mut command = cargo(&root);
            command.args(["run", "--release", "--quiet", "-p", "roster-bench", "--"]);
            if quick {
                command.arg("--quick");
            }
            if let Some(scale) = scale {
                command.args(["--scale", &scale.to_string()]);
            }
            if let Ok(url) = std::env::var("ROSTER_TEST_DATABASE_URL")
                && !args.iter().any(|a| a.starts_with("--postgres-url"))
            {
                command.args(["--postgres-url", &url]);
            }
            command.args(&args);
            run(&mut command, "the benchmark")
        }
        Task::Openapi => {
            let output = cargo(&root)
                .args(["run", "--quiet", "-p", "rosterd", "--", "openapi"])
                .output()
                .context("cannot run rosterd openapi")?;
            if !output.status.success() {
                bail!("rosterd openapi failed: {}", String::from_utf8_lossy(&output.stderr));
            }
            std::fs::write(root.join("docs/openapi.json"), output.stdout).context("cannot write docs/openapi.json")?;
            println!("wrote docs/openapi.json");
            Ok(())
        }
        Task::FuzzApi { postgres, examples, seed } => {
            let dirs = build_plugins(&root, false)?;
            run(cargo(&root).args(["build", "-p", "rosterd"]), "building rosterd")?;
            let (_, target_dir) = plugin_packages(&root)?;
            let rosterd = target_dir.join("debug").join(format!("rosterd{}", std::env::consts::EXE_SUFFIX));
            let mut command = Command::new("python3");
            command
                .current_dir(&root)
                .arg(".ci/api-fuzz/run.py")
                .arg("--rosterd")
                .arg(&rosterd)
                .arg("--plugin-dir")
                .arg(&dirs.plugins)
                .args(["--examples", &examples.to_string(), "--seed", &seed.to_string()]);
            if let Some(url) = postgres {
                command.args(["--postgres", &url]);
            }
            run(&mut command, "the API fuzzing")
        }
        Task::Run { args } => {
            build_plugins(&root, false)?;
            run(cargo(&root).args(["build", "--workspace", "--bins"]), "building rosterd")?;
            let (_, target_dir) = plugin_packages(&root)?;
            let rosterd = target_dir.join("debug").join(format!("rosterd{}", std::env::consts::EXE_SUFFIX));
            let mut command = Command::new(rosterd);
            command.current_dir(&root).args(["--config", "config/rosterd.toml", "serve"]).args(&args);
            run(&mut command, "rosterd serve")
        }
    }
}

/// Where built plugins land.
struct PluginDirs {
    plugins: PathBuf,
    fixtures: PathBuf,
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from("."))
}

fn cargo(root: &Path) -> Command {
    let mut command = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned()));
    command.current_dir(root);
    command
}

fn run(command: &mut Command, what: &str) -> Result<()> {
    let status = command.status().with_context(|| format!("cannot start {what}"))?;
    if !status.success() {
        bail!("{what} failed ({status})");
    }
    Ok(())
}

/// A cdylib package to build, and whether it is a test fixture.
struct PluginPackage {
    name: String,
    fixture: bool,
}

fn plugin_packages(root: &Path) -> Result<(Vec<PluginPackage>, PathBuf)> {
    let output = cargo(root)
        .args(["metadata", "--format-version", "1", "--no-deps"])
        .stderr(Stdio::inherit())
        .output()
        .context("cannot run cargo metadata")?;
    if !output.status.success() {
        bail!("cargo metadata failed");
    }
    let metadata: serde_json::Value =
        serde_json::from_slice(&output.stdout).context("cargo metadata printed invalid JSON")?;
    let target_dir =
        PathBuf::from(metadata["target_directory"].as_str().context("no target_directory in cargo metadata")?);
    let plugins_root = root.join("plugins");
    let fixtures_root = root.join("crates/roster-plugin/fixtures");
    let mut packages = Vec::new();
    for package in metadata["packages"].as_array().context("no packages in cargo metadata")? {
        let manifest = PathBuf::from(package["manifest_path"].as_str().unwrap_or_default());
        let is_cdylib = package["targets"].as_array().is_some_and(|targets| {
            targets.iter().any(|t| t["crate_types"].as_array().is_some_and(|k| k.iter().any(|k| k == "cdylib")))
        });
        let fixture = manifest.starts_with(&fixtures_root);
        if is_cdylib && (fixture || manifest.starts_with(&plugins_root)) {
            packages.push(PluginPackage { name: package["name"].as_str().unwrap_or_default().to_owned(), fixture });
        }
    }
    packages.sort_by(|a, b| a.name.cmp(&b.name));
    Ok((packages, target_dir))
}

fn build_plugins(root: &Path, release: bool) -> Result<PluginDirs> {
    let (packages, target_dir) = plugin_packages(root)?;
    let mut command = cargo(root);
    command.args(["build", "--message-format=json-render-diagnostics"]);
    if release {
        command.arg("--release");
    }
    for package in &packages {
        command.args(["-p", &package.name]);
    }
    let output = command.stderr(Stdio::inherit()).output().context("cannot run cargo build")?;
    if !output.status.success() {
        bail!("building the plugins failed");
    }
    let dirs = PluginDirs { plugins: target_dir.join("plugins"), fixtures: target_dir.join("plugin-fixtures") };
    for dir in [&dirs.plugins, &dirs.fixtures] {
        if dir.exists() {
            std::fs::remove_dir_all(dir).with_context(|| format!("cannot clear {}", dir.display()))?;
        }
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let mut copied = 0;
    for line in output.stdout.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        let message: serde_json::Value =
            serde_json::from_slice(line).context("cargo printed a line that is not JSON")?;
        if message["reason"] != "compiler-artifact"
            || !message["target"]["crate_types"].as_array().is_some_and(|k| k.iter().any(|k| k == "cdylib"))
        {
            continue;
        }
        let name = message["package_id"].as_str().unwrap_or_default();
        let fixture = packages.iter().any(|p| p.fixture && package_id_names(name, &p.name));
        for file in message["filenames"].as_array().into_iter().flatten().filter_map(|f| f.as_str()) {
            let file = Path::new(file);
            let Some(file_name) = file.file_name() else { continue };
            let dest = if fixture { &dirs.fixtures } else { &dirs.plugins }.join(file_name);
            std::fs::copy(file, &dest)
                .with_context(|| format!("cannot copy {} to {}", file.display(), dest.display()))?;
            copied += 1;
        }
    }
    if copied < packages.len() {
        bail!("expected {} plugin libraries, cargo reported {copied}", packages.len());
    }
    Ok(dirs)
}

/// Whether a cargo package id (`path+file:///…/plugins/studio#roster-pack-studio@0.1.0`
/// or the older `name version (source)`) names `package`.
fn package_id_names(id: &str, package: &str) -> bool {
    id.split_whitespace().next() == Some(package)
        || id.contains(&format!("#{package}@"))
        || id.ends_with(&format!("/{package}"))
}

fn test(root: &Path, args: &[String]) -> Result<()> {
    let dirs = build_plugins(root, false)?;
    // The end-to-end tests run the real binaries, which no test target depends on.
    run(cargo(root).args(["build", "--workspace", "--bins"]), "building the binaries")?;
    let nextest = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned()))
        .args(["nextest", "--version"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    let mut command = cargo(root);
    if nextest {
        command.args(["nextest", "run", "--workspace", "--no-fail-fast"]);
    } else {
        command.args(["test", "--workspace", "--no-fail-fast"]);
    }
    command.args(args).env("ROSTER_TEST_PLUGIN_DIR", &dirs.plugins).env("ROSTER_TEST_FIXTURE_DIR", &dirs.fixtures);
    run(&mut command, "the tests")
}
