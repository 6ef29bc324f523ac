//! Pack test files: a pack author states, in YAML beside the pack, what the pack must
//! decide (checks with their reasons, management outcomes, effective permissions,
//! lookups, a matrix snapshot) over fixtures (accounts, members, resources, groups,
//! grants, custom roles), and [`run`] checks every statement against the real engine.
//! `rosterd packs test` is the command; the format is in `docs/packs.md`. For a pack's
//! Rust tests, [`sandbox`] does the same through the pack's typed names.

pub mod cases;
pub mod file;
pub mod fixtures;
pub mod report;
pub mod sandbox;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use roster_core::Pack;
use roster_core::matrix::{Matrix, MatrixFormat};
use roster_plugin::{LoaderConfig, PackLoader};

pub use cases::Outcome;
pub use report::{CaseReport, FileReport, Report};

/// The suffix of a test file.
pub const SUFFIX: &str = ".test.yaml";

/// Finds the packs test files name: a path (relative to the test file) to a TOML pack or a
/// plugin library, or the id of an already loaded pack.
#[derive(Clone, Debug, Default)]
pub struct PackResolver {
    loaded: Vec<Arc<Pack>>,
}

impl PackResolver {
    /// A resolver that also knows these loaded packs by id.
    pub fn with_loaded(loaded: Vec<Arc<Pack>>) -> PackResolver {
        PackResolver { loaded }
    }

    /// The pack `reference` names, from a file in `base` (the test file's directory).
    pub fn resolve(&self, reference: &str, base: &Path) -> Result<Arc<Pack>, String> {
        let is_path = reference.contains('/')
            || [".toml", ".so", ".dylib", ".dll"].iter().any(|suffix| reference.ends_with(suffix));
        if !is_path {
            return self.loaded.iter().find(|p| p.id() == reference).cloned().ok_or_else(|| {
                let known: Vec<&str> = self.loaded.iter().map(|p| p.id()).collect();
                format!(
                    "no pack `{reference}` is loaded (loaded: {}); name a pack file instead, e.g. `../pack.toml`",
                    if known.is_empty() { "none".to_owned() } else { known.join(", ") }
                )
            });
        }
        let path = base.join(reference);
        let loaded = if reference.ends_with(".toml") {
            PackLoader::new(LoaderConfig::default()).load_toml(&path)
        } else {
            let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
            PackLoader::new(LoaderConfig { plugin_dirs: vec![dir], ..LoaderConfig::default() }).load_plugin(&path)
        };
        loaded.map(|l| l.pack).map_err(|e| e.to_string())
    }
}

/// The test files under `paths`: each file as given, each directory searched for
/// `*.test.yaml`, sorted within it.
pub fn discover(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut found = Vec::new();
            collect(path, &mut found).map_err(|e| format!("{}: {e}", path.display()))?;
            found.sort();
            files.extend(found);
        } else if path.exists() {
            files.push(path.clone());
        } else {
            return Err(format!("{}: no such file or directory", path.display()));
        }
    }
    Ok(files)
}

fn collect(dir: &Path, found: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            // Build output holds no tests and can be large.
            if path.file_name().is_some_and(|n| n == "target" || n == ".git") {
                continue;
            }
            collect(&path, found)?;
        } else if path.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.ends_with(SUFFIX)) {
            found.push(path);
        }
    }
    Ok(())
}

/// Runs every file; one file's problem never stops the others.
pub fn run(files: &[PathBuf], packs: &PackResolver) -> Report {
    Report { files: files.iter().map(|f| run_file(f, packs)).collect() }
}

/// Runs one file.
pub fn run_file(path: &Path, packs: &PackResolver) -> FileReport {
    let mut report = FileReport { path: path.to_owned(), pack: None, error: None, cases: Vec::new() };
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) => {
            report.error = Some(format!("cannot read the file: {e}"));
            return report;
        }
    };
    let file = match file::parse(&text) {
        Ok(file) => file,
        Err(e) => {
            report.error = Some(yaml_error(&e));
            return report;
        }
    };
    let base = path.parent().unwrap_or(Path::new("."));
    let pack = match packs.resolve(&file.pack.value, base) {
        Ok(pack) => pack,
        Err(e) => {
            report.error = Some(fixtures::Located::at(&file.pack, e).to_string());
            return report;
        }
    };
    report.pack = Some(format!("{} {}", pack.id(), pack.manifest().version));
    if let Some(snapshot) = &file.matrix {
        report.cases.push(CaseReport {
            name: format!("matrix snapshot {}", snapshot.value),
            line: snapshot.referenced.line(),
            outcome: matrix_outcome(&pack, &base.join(&snapshot.value)),
        });
    }
    let engine = match fixtures::build(&pack, &file) {
        Ok(engine) => engine,
        Err(e) => {
            report.error = Some(format!("the fixtures do not build: {e}"));
            return report;
        }
    };
    if file.cases.is_empty() && file.matrix.is_none() {
        report.error = Some("the file has no cases".to_owned());
    }
    let default_account = file.accounts.first().map(|a| a.value.id.as_str());
    let setting = cases::Setting { pack: pack.id(), default_account, now: file.now };
    for case in &file.cases {
        report.cases.push(CaseReport {
            name: cases::name_of(&case.value),
            line: case.referenced.line(),
            outcome: cases::run(&engine, &case.value, setting),
        });
    }
    report
}

/// A YAML error with its line, as the rest of the report gives lines.
fn yaml_error(error: &serde_saphyr::Error) -> String {
    let text = error.to_string();
    match error.location() {
        Some(at) if !text.contains("line") => format!("line {}: {text}", at.line()),
        _ => text,
    }
}

/// Compares the pack's matrix with a snapshot file, in the file's format.
fn matrix_outcome(pack: &Pack, snapshot: &Path) -> Outcome {
    let format = match snapshot.extension().and_then(|e| e.to_str()) {
        Some("csv") => MatrixFormat::Csv,
        Some("md") => MatrixFormat::Markdown,
        Some("json") => MatrixFormat::Json,
        _ => return Outcome::Invalid("a matrix snapshot is a .csv, .md or .json file".to_owned()),
    };
    let expected = match std::fs::read_to_string(snapshot) {
        Ok(text) => text,
        Err(e) => {
            return Outcome::Invalid(format!(
                "cannot read {}: {e} (write it with `rosterd packs matrix PACK --format …`)",
                snapshot.display()
            ));
        }
    };
    let actual = Matrix::of(pack).render(format);
    if actual == expected {
        Outcome::Passed
    } else {
        Outcome::Failed {
            expected: format!("the matrix in {}", snapshot.display()),
            actual: "a different matrix".to_owned(),
            diff: Some(report::line_diff(&expected, &actual)),
        }
    }
}
