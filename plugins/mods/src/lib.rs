//! The `mods` role pack: team roles Admin / Manager / Developer / Member / Restricted over
//! mods, integrations, deployments, campaigns and databases, with group grants
//! (`docs/seeds/mods-deployment-team-roles.txt`). The rules live in `pack.toml`.

fn manifest() -> Result<roster_plugin::PackManifest, roster_plugin::sdk::TomlError> {
    roster_plugin::sdk::manifest_from_toml(include_str!("../pack.toml"))
}

roster_plugin::export_pack!(manifest);
