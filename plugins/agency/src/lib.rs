//! The `agency` role pack: an agency's roles (Administrator … Creator) reaching every
//! client organisation, and client roles (Collaborator, Viewer) inside one
//! (`docs/seeds/agency-client-roles.txt`). The rules live in `pack.toml`;
//! the build turns it into typed names (`Permission`, `Role`, `ResourceType`, `Pack`)
//! that Rust code and tests use instead of strings.

include!(concat!(env!("OUT_DIR"), "/pack.rs"));

roster_plugin::export_pack!(pack = Pack);
