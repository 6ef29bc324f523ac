//! What a run of test files found, rendered for people (one line per case, a diff per
//! failure, a summary line) or as JUnit XML for CI systems.

use std::fmt::Write as _;
use std::path::PathBuf;

use quick_junit::{NonSuccessKind, TestCase, TestCaseStatus, TestSuite};

use crate::cases::Outcome;

/// One case's result.
#[derive(Clone, Debug)]
pub struct CaseReport {
    /// The case's name.
    pub name: String,
    /// Its line in the file.
    pub line: u64,
    /// What became of it.
    pub outcome: Outcome,
}

/// One file's results.
#[derive(Clone, Debug)]
pub struct FileReport {
    /// The file.
    pub path: PathBuf,
    /// `id version` of its pack, once loaded.
    pub pack: Option<String>,
    /// A problem that stopped the file before its cases (unreadable, bad YAML, unknown
    /// pack, a fixture the engine refuses), with its line when it has one.
    pub error: Option<String>,
    /// The cases, in file order (the matrix snapshot, when the file has one, first).
    pub cases: Vec<CaseReport>,
}

impl FileReport {
    /// Cases that passed.
    pub fn passed(&self) -> usize {
        self.cases.iter().filter(|c| c.outcome == Outcome::Passed).count()
    }

    /// Cases that did not pass, and the file itself when it could not run.
    pub fn failed(&self) -> usize {
        self.cases.len() - self.passed() + usize::from(self.error.is_some())
    }
}

/// Every file's results.
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// The files, in the order they ran.
    pub files: Vec<FileReport>,
}

impl Report {
    /// Cases that passed.
    pub fn passed(&self) -> usize {
        self.files.iter().map(FileReport::passed).sum()
    }

    /// Cases (and files) that failed.
    pub fn failed(&self) -> usize {
        self.files.iter().map(FileReport::failed).sum()
    }

    /// Whether everything passed (and something ran).
    pub fn success(&self) -> bool {
        self.failed() == 0 && !self.files.is_empty()
    }

    /// The report as a test runner prints it.
    pub fn text(&self) -> String {
        let mut out = String::new();
        for file in &self.files {
            let pack = file.pack.as_deref().map_or(String::new(), |p| format!(" (pack {p})"));
            let _ = writeln!(out, "{}{pack}", file.path.display());
            if let Some(error) = &file.error {
                let _ = writeln!(out, "  ERROR {}: {error}", file.path.display());
            }
            for case in &file.cases {
                let word = match case.outcome {
                    Outcome::Passed => "ok  ",
                    Outcome::Failed { .. } | Outcome::Invalid(_) => "FAIL",
                };
                let _ = writeln!(out, "  {word} {}:{}  {}", file.path.display(), case.line, case.name);
                match &case.outcome {
                    Outcome::Passed => {}
                    Outcome::Failed { expected, actual, diff } => {
                        let _ = writeln!(out, "         expected: {expected}");
                        let _ = writeln!(out, "         actual:   {actual}");
                        if let Some(diff) = diff {
                            for line in diff.lines() {
                                let _ = writeln!(out, "         {line}");
                            }
                        }
                    }
                    Outcome::Invalid(message) => {
                        let _ = writeln!(out, "         the case cannot run: {message}");
                    }
                }
            }
        }
        let files = self.files.len();
        let _ = writeln!(
            out,
            "{} passed, {} failed ({files} file{})",
            self.passed(),
            self.failed(),
            if files == 1 { "" } else { "s" }
        );
        out
    }

    /// The report as JUnit XML: a suite per file, a test case per case.
    pub fn junit(&self) -> String {
        let mut report = quick_junit::Report::new("roster pack tests");
        for file in &self.files {
            let mut suite = TestSuite::new(file.path.display().to_string());
            if let Some(error) = &file.error {
                let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
                status.set_message(error.clone());
                suite.add_test_case(TestCase::new("(file)", status));
            }
            for case in &file.cases {
                let status = match &case.outcome {
                    Outcome::Passed => TestCaseStatus::success(),
                    Outcome::Failed { expected, actual, diff } => {
                        let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
                        status.set_message(format!("expected {expected}, got {actual}"));
                        if let Some(diff) = diff {
                            status.set_description(diff.clone());
                        }
                        status
                    }
                    Outcome::Invalid(message) => {
                        let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
                        status.set_message(message.clone());
                        status
                    }
                };
                let mut test = TestCase::new(format!("{} (line {})", case.name, case.line), status);
                test.set_classname(file.pack.clone().unwrap_or_default());
                suite.add_test_case(test);
            }
            report.add_test_suite(suite);
        }
        // Writing XML into memory fails only on a writer error, which a String never gives.
        report.to_string().unwrap_or_default()
    }
}

/// A unified line diff of `expected` against `actual` (`-` expected, `+` actual).
pub fn line_diff(expected: &str, actual: &str) -> String {
    similar::TextDiff::from_lines(expected, actual)
        .unified_diff()
        .context_radius(2)
        .header("expected", "actual")
        .to_string()
}
