//! The `agency` role pack: an agency's roles (Administrator … Creator) reaching every
//! client organisation, and client roles (Collaborator, Viewer) inside one
//! (`docs/seeds/agency-client-roles.txt`). The rules live in `pack.toml`.

fn manifest() -> Result<roster_plugin::PackManifest, roster_plugin::sdk::TomlError> {
    roster_plugin::sdk::manifest_from_toml(include_str!("../pack.toml"))
}

roster_plugin::export_pack!(manifest);
