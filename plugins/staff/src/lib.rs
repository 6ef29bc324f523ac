//! The `staff` role pack: a promotion-only ladder under one protected Super Admin, with
//! assigned-project and owner conditions and soft removal
//! (`docs/seeds/staff-role-ladder.txt`). The rules live in `pack.toml`.

fn manifest() -> Result<roster_plugin::PackManifest, roster_plugin::sdk::TomlError> {
    roster_plugin::sdk::manifest_from_toml(include_str!("../pack.toml"))
}

roster_plugin::export_pack!(manifest);
