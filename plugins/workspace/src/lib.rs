//! The `workspace` role pack: tenant Admins and Users who see only workspaces they own or
//! were invited to (`docs/seeds/tenant-workspace-roles.txt`). The rules live in `pack.toml`.

fn manifest() -> Result<roster_plugin::PackManifest, roster_plugin::sdk::TomlError> {
    roster_plugin::sdk::manifest_from_toml(include_str!("../pack.toml"))
}

roster_plugin::export_pack!(manifest);
