//! `cargo xtask new-pack NAME`: a new role-pack plugin that builds and validates as is.

use std::path::Path;

use anyhow::{Context, Result, bail};

/// Creates `plugins/<name>` with a Cargo.toml, a lib.rs exporting the pack, a starter
/// `pack.toml` and a test file stating what it decides.
pub(crate) fn new_pack(root: &Path, name: &str) -> Result<()> {
    let valid = name.len() <= 40
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !valid {
        bail!("pack name `{name}` must be 1-40 characters of a-z, 0-9 and _, starting with a letter");
    }
    let dir = root.join("plugins").join(name);
    if dir.exists() {
        bail!("{} already exists", dir.display());
    }
    for sub in ["src", "tests"] {
        std::fs::create_dir_all(dir.join(sub)).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let test_file = format!("tests/{name}.test.yaml");
    let files = [
        ("Cargo.toml", CARGO_TOML),
        ("build.rs", BUILD_RS),
        ("src/lib.rs", LIB_RS),
        ("pack.toml", PACK_TOML),
        (&test_file, TEST_YAML),
    ];
    for (file, template) in files {
        let path = dir.join(file);
        std::fs::write(&path, template.replace("{name}", name))
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    println!("created {}", dir.display());
    println!("next: edit {}/pack.toml, then `cargo xtask build-plugins`", dir.display());
    println!("      and `cargo run -p rosterd -- packs validate target/plugins/libroster_pack_{name}.so`");
    println!("      state what the pack must decide in {}/{test_file}", dir.display());
    println!("      and run it: `cargo run -p rosterd -- packs test {}/tests`", dir.display());
    Ok(())
}

const CARGO_TOML: &str = r#"[package]
name = "roster-pack-{name}"
description = "The {name} role pack."
version.workspace = true
edition.workspace = true
rust-version.workspace = true
license.workspace = true
publish.workspace = true

[lib]
# The cdylib the daemon loads; the rlib gives Rust code and tests the typed names.
crate-type = ["cdylib", "rlib"]

[dependencies]
roster-plugin.workspace = true

[build-dependencies]
roster-packgen.workspace = true

[lints]
workspace = true
"#;

const BUILD_RS: &str = r#"//! Generates the pack's typed names from `pack.toml` (and fails the build if it is invalid).

fn main() {
    roster_packgen::build_script("pack.toml");
}
"#;

const LIB_RS: &str = r#"//! The `{name}` role pack. The rules live in `pack.toml`; the build turns it into typed
//! names (`Permission`, `Role`, `ResourceType`, `Pack`) for Rust code and tests.

include!(concat!(env!("OUT_DIR"), "/pack.rs"));

roster_plugin::export_pack!(pack = Pack);
"#;

const PACK_TOML: &str = include_str!("../templates/pack.toml");

const TEST_YAML: &str = include_str!("../templates/pack.test.yaml");
