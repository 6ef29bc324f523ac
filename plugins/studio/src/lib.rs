//! The `studio` role pack: Owner / Admin / Manager / User team accounts over studios and
//! pickaxes, with client access to one studio and external consultants
//! (`docs/seeds/studio-pickaxe-team-roles.txt`). The rules live in `pack.toml`.

fn manifest() -> Result<roster_plugin::PackManifest, roster_plugin::sdk::TomlError> {
    roster_plugin::sdk::manifest_from_toml(include_str!("../pack.toml"))
}

roster_plugin::export_pack!(manifest);
