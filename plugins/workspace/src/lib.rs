//! The `workspace` role pack: tenant Admins and Users who see only workspaces they own or
//! were invited to (`docs/seeds/tenant-workspace-roles.txt`). The rules live in `pack.toml`;
//! the build turns it into typed names (`Permission`, `Role`, `ResourceType`, `Pack`)
//! that Rust code and tests use instead of strings.

include!(concat!(env!("OUT_DIR"), "/pack.rs"));

roster_plugin::export_pack!(pack = Pack);
