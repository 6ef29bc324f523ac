//! Project hygiene as a test: module docs, where `unsafe` may live, the crate arrows of
//! ARCHITECTURE.md, no stubs or ignored tests, no pack names in the generic crates.

use std::path::{Path, PathBuf};

use roster_e2e::workspace_root;

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.file_name().is_some_and(|n| n == "target" || n.to_string_lossy().starts_with('.')) {
            continue;
        }
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn sources() -> Vec<(PathBuf, String)> {
    let root = workspace_root();
    let mut files = Vec::new();
    for dir in ["crates", "plugins", "xtask", "tests", "migrations"] {
        rust_files(&root.join(dir), &mut files);
    }
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            (p.strip_prefix(&root).map(Path::to_path_buf).unwrap_or(p), text)
        })
        .collect()
}

fn code_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines().enumerate().map(|(i, l)| (i + 1, l)).filter(|(_, l)| !l.trim_start().starts_with("//"))
}

#[test]
fn every_module_starts_with_a_doc_comment() {
    let missing: Vec<String> =
        sources().into_iter().filter(|(_, t)| !t.starts_with("//!")).map(|(p, _)| p.display().to_string()).collect();
    assert!(missing.is_empty(), "files without a leading `//!` module doc: {missing:?}");
}

#[test]
fn unsafe_lives_only_in_the_plugin_crate_and_says_why() {
    let word = format!("un{}", "safe");
    for (path, text) in sources() {
        let in_plugin_crate = path.starts_with("crates/roster-plugin");
        let lines: Vec<&str> = text.lines().collect();
        for (number, line) in code_lines(&text) {
            let uses = line.contains(&format!("{word} {{"))
                || line.contains(&format!("{word} fn"))
                || line.contains(&format!("{word} impl"));
            if !uses {
                continue;
            }
            assert!(in_plugin_crate, "{}:{number}: `{word}` outside crates/roster-plugin", path.display());
            let start = number.saturating_sub(6);
            let justified = lines[start..number].iter().any(|l| l.contains("// SAFETY:"));
            assert!(justified, "{}:{number}: `{word}` block without a `// SAFETY:` comment above", path.display());
        }
    }
}

#[test]
fn no_stubs_ignored_tests_or_trailing_whitespace() {
    let banned = [format!("#[{}]", "ignore"), format!("{}!(", "todo"), format!("{}!(", "unimplemented")];
    for (path, text) in sources() {
        for (number, line) in text.lines().enumerate() {
            for word in &banned {
                assert!(!line.contains(word.as_str()), "{}:{}: {word}", path.display(), number + 1);
            }
            assert_eq!(line, line.trim_end(), "{}:{}: trailing whitespace", path.display(), number + 1);
        }
    }
}

fn dependencies(manifest: &str) -> Vec<String> {
    let text = std::fs::read_to_string(workspace_root().join(manifest)).unwrap_or_else(|e| panic!("{manifest}: {e}"));
    let mut in_deps = false;
    let mut deps = Vec::new();
    for line in text.lines() {
        if line.starts_with('[') {
            in_deps = line == "[dependencies]";
            continue;
        }
        if in_deps
            && let Some((name, _)) = line.split_once(['.', ' ', '='])
            && !name.is_empty()
        {
            deps.push(name.to_owned());
        }
    }
    deps
}

#[test]
fn crate_arrows_point_one_way() {
    let core = dependencies("crates/roster-core/Cargo.toml");
    for forbidden in ["roster-plugin", "roster-store", "rosterd", "tokio", "hyper", "sea-orm", "libloading", "sqlx"] {
        assert!(!core.iter().any(|d| d == forbidden), "roster-core must not depend on {forbidden}");
    }
    let plugin = dependencies("crates/roster-plugin/Cargo.toml");
    for forbidden in ["roster-store", "rosterd", "tokio", "sea-orm"] {
        assert!(!plugin.iter().any(|d| d == forbidden), "roster-plugin must not depend on {forbidden}");
    }
    let store = dependencies("crates/roster-store/Cargo.toml");
    for forbidden in ["rosterd", "roster-plugin", "hyper", "hyper-util", "matchit", "libloading"] {
        assert!(!store.iter().any(|d| d == forbidden), "roster-store must not depend on {forbidden}");
    }
    let packtest = dependencies("crates/roster-packtest/Cargo.toml");
    for forbidden in ["roster-store", "rosterd", "tokio", "sea-orm", "hyper"] {
        assert!(!packtest.iter().any(|d| d == forbidden), "roster-packtest must not depend on {forbidden}");
    }
    let root = workspace_root().join("plugins");
    for entry in std::fs::read_dir(&root).expect("plugins/").flatten() {
        let manifest = format!("plugins/{}/Cargo.toml", entry.file_name().to_string_lossy());
        assert_eq!(dependencies(&manifest), ["roster-plugin"], "{manifest}: plugins depend on the SDK only");
    }
}

#[test]
fn generic_crates_never_name_a_pack() {
    for (path, text) in sources() {
        // Fixtures and the benchmark, like tests, work on a named pack's data.
        let generic = path.starts_with("crates")
            && !path.starts_with("crates/roster-plugin/fixtures")
            && !path.starts_with("crates/roster-bench")
            && path.components().any(|c| c.as_os_str() == "src");
        if !generic {
            continue;
        }
        for pack in ["studio", "agency", "mods", "workspace", "staff"] {
            let quoted = format!("\"{pack}\"");
            for (number, line) in code_lines(&text) {
                assert!(!line.contains(&quoted), "{}:{number}: names pack {quoted}; packs are data", path.display());
            }
        }
    }
}
