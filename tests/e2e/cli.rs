//! The `rosterd` binary's offline verbs, run as a real process.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use roster_core::matrix::{Matrix, MatrixFormat};
use roster_e2e::{fixture_dir, library_file, pack, plugin_dir};

pub(crate) fn rosterd_path() -> PathBuf {
    let exe = std::env::current_exe().expect("test exe");
    let debug_dir = exe.parent().and_then(Path::parent).expect("target/<profile>");
    let path = debug_dir.join(format!("rosterd{}", std::env::consts::EXE_SUFFIX));
    assert!(path.exists(), "{} is not built (run the tests with `cargo xtask test`)", path.display());
    path
}

/// Runs rosterd in an empty directory (so no default config applies) with the built plugins.
pub(crate) fn rosterd(args: &[&str], env: &[(&str, &str)]) -> Output {
    let cwd = tempfile::tempdir().expect("tempdir");
    let mut command = Command::new(rosterd_path());
    command.current_dir(cwd.path()).arg("--plugin-dir").arg(plugin_dir()).args(args);
    for (key, value) in env {
        command.env(key, value);
    }
    command.output().expect("rosterd runs")
}

pub(crate) fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub(crate) fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn packs_list_shows_the_five_packs() {
    let output = rosterd(&["packs", "list", "--format", "json"], &[]);
    assert!(output.status.success(), "{}", stderr(&output));
    let listed: serde_json::Value = serde_json::from_str(&stdout(&output)).expect("JSON list");
    let mut ids: Vec<&str> = listed.as_array().expect("array").iter().filter_map(|p| p["id"].as_str()).collect();
    ids.sort();
    assert_eq!(ids, ["agency", "mods", "staff", "studio", "workspace"]);
    assert!(listed.as_array().expect("array").iter().all(|p| p["source"] == "plugin"));
}

#[test]
fn packs_matrix_prints_csv_markdown_and_json() {
    let csv = rosterd(&["packs", "matrix", "studio", "--format", "csv"], &[]);
    assert!(csv.status.success(), "{}", stderr(&csv));
    assert_eq!(stdout(&csv), Matrix::of(&pack("studio")).render(MatrixFormat::Csv));
    assert!(stdout(&csv).starts_with("permission,owner,admin,manager,"));
    let markdown = rosterd(&["packs", "matrix", "staff", "--format", "markdown"], &[]);
    assert!(stdout(&markdown).contains("| `project.view` |"));
    let json = rosterd(&["packs", "matrix", "mods"], &[]);
    let parsed: serde_json::Value = serde_json::from_str(&stdout(&json)).expect("json by default");
    assert_eq!(parsed["pack"], "mods");
}

#[test]
fn packs_show_prints_a_manifest_that_validates_again() {
    let output = rosterd(&["packs", "show", "agency", "--format", "toml"], &[]);
    assert!(output.status.success(), "{}", stderr(&output));
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("agency-copy.toml");
    std::fs::write(&file, stdout(&output)).expect("write");
    let validated = rosterd(&["packs", "validate", file.to_str().expect("utf-8 path")], &[]);
    assert!(validated.status.success(), "{}", stderr(&validated));
    let unknown = rosterd(&["packs", "show", "nope"], &[]);
    assert!(!unknown.status.success());
    assert!(stderr(&unknown).contains("no pack `nope`"), "{}", stderr(&unknown));
}

#[test]
fn packs_validate_accepts_a_good_plugin_and_names_the_problem_of_a_bad_one() {
    let good = plugin_dir().join(library_file("roster_pack_staff"));
    let output = rosterd(&["packs", "validate", good.to_str().expect("utf-8 path")], &[]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stdout(&output).contains("valid: pack `staff`"), "{}", stdout(&output));
    let bad = fixture_dir().join(library_file("roster_fixture_missing_permission"));
    let output = rosterd(&["packs", "validate", bad.to_str().expect("utf-8 path")], &[]);
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("role `boss` uses unknown permission `thing.launch`"), "{}", stderr(&output));
}

#[test]
fn a_missing_required_pack_fails_naming_it() {
    let output = rosterd(&["packs", "list"], &[("ROSTER_PACKS__REQUIRED", "[\"studio\", \"billing\"]")]);
    assert!(!output.status.success());
    assert!(stderr(&output).contains("required pack(s) not loaded: billing"), "{}", stderr(&output));
}

#[test]
fn invalid_configuration_exits_naming_the_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("rosterd.toml");
    std::fs::write(&config, "[packs]\nplugin_dirs = 5\n").expect("write");
    let output = rosterd(&["--config", config.to_str().expect("utf-8 path"), "packs", "list"], &[]);
    assert!(!output.status.success());
    assert!(stderr(&output).contains("plugin_dirs"), "{}", stderr(&output));
    std::fs::write(&config, "[packs]\nplugin_dirz = []\n").expect("write");
    let output = rosterd(&["--config", config.to_str().expect("utf-8 path"), "packs", "list"], &[]);
    assert!(stderr(&output).contains("plugin_dirz"), "{}", stderr(&output));
}

#[test]
fn serve_refuses_an_invalid_listen_address_naming_the_key() {
    let output = rosterd(&["serve"], &[("ROSTER_SERVER__LISTEN", "not-an-address")]);
    assert!(!output.status.success());
    assert!(stderr(&output).to_lowercase().contains("server.listen"), "{}", stderr(&output));
}

#[test]
fn zero_limits_and_intervals_are_refused_naming_the_key() {
    for (variable, key) in [
        ("ROSTER_SERVER__REQUEST_TIMEOUT_S", "server.request_timeout_s"),
        ("ROSTER_SERVER__MAX_CONNECTIONS", "server.max_connections"),
        ("ROSTER_TELEMETRY__METRICS_INTERVAL_S", "telemetry.metrics_interval_s"),
        ("ROSTER_REPLICATION__POLL_INTERVAL_MS", "replication.poll_interval_ms"),
    ] {
        let output = rosterd(&["packs", "list"], &[(variable, "0")]);
        assert!(!output.status.success(), "{variable}=0 was accepted");
        assert!(stderr(&output).contains(key), "{variable}: {}", stderr(&output));
    }
}
