//! The `mods` role pack: team roles Admin / Manager / Developer / Member / Restricted over
//! mods, integrations, deployments, campaigns and databases, with group grants
//! (`docs/seeds/mods-deployment-team-roles.txt`). The rules live in `pack.toml`;
//! the build turns it into typed names (`Permission`, `Role`, `ResourceType`, `Pack`)
//! that Rust code and tests use instead of strings.

include!(concat!(env!("OUT_DIR"), "/pack.rs"));

roster_plugin::export_pack!(pack = Pack);
