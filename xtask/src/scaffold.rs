//! `cargo xtask new-pack NAME`: a new role-pack plugin that builds and validates as is.

use std::path::Path;

use anyhow::{Context, Result, bail};

/// Creates `plugins/<name>` with a Cargo.toml, a lib.rs exporting the pack and a starter
/// `pack.toml`.
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
    std::fs::create_dir_all(dir.join("src")).with_context(|| format!("cannot create {}", dir.display()))?;
    let files = [("Cargo.toml", CARGO_TOML), ("src/lib.rs", LIB_RS), ("pack.toml", PACK_TOML)];
    for (file, template) in files {
        let path = dir.join(file);
        std::fs::write(&path, template.replace("{name}", name))
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    println!("created {}", dir.display());
    println!("next: edit {}/pack.toml, then `cargo xtask build-plugins`", dir.display());
    println!("      and `cargo run -p rosterd -- packs validate target/plugins/libroster_pack_{name}.so`");
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
crate-type = ["cdylib"]

[dependencies]
roster-plugin.workspace = true

[lints]
workspace = true
"#;

const LIB_RS: &str = r#"//! The `{name}` role pack. The rules live in `pack.toml`.

fn manifest() -> Result<roster_plugin::PackManifest, roster_plugin::sdk::TomlError> {
    roster_plugin::sdk::manifest_from_toml(include_str!("../pack.toml"))
}

roster_plugin::export_pack!(manifest);
"#;

const PACK_TOML: &str = r#"# The {name} role pack. Schema: see ARCHITECTURE.md ("Pack manifest").
schema_version = 1
id = "{name}"
version = "0.1.0"
title = "{name} roles"

[[resource_types]]
name = "account"
description = "The account."

[[resource_types]]
name = "item"
parent = "account"
description = "Something the account holds."

[[permissions]]
id = "item.view"
description = "See items."
[[permissions]]
id = "item.edit"
description = "Change items."
[[permissions]]
id = "member.view"
description = "See members."
[[permissions]]
id = "member.invite"
description = "Add members."
[[permissions]]
id = "member.role.change"
description = "Change members' roles."
[[permissions]]
id = "member.remove"
description = "Remove members."

[[roles]]
id = "owner"
title = "Owner"
rank = 100
permissions = ["*"]
manages = ["member"]
single_holder = true
transferable = true

[[roles]]
id = "member"
title = "Member"
rank = 10
permissions = ["item.view", "item.edit:owner"]
default = true
"#;
