//! The `studio` role pack: Owner / Admin / Manager / User team accounts over studios and
//! pickaxes, with client access to one studio and external consultants
//! (`docs/seeds/studio-pickaxe-team-roles.txt`). The rules live in `pack.toml`;
//! the build turns it into typed names (`Permission`, `Role`, `ResourceType`, `Pack`)
//! that Rust code and tests use instead of strings.

include!(concat!(env!("OUT_DIR"), "/pack.rs"));

roster_plugin::export_pack!(pack = Pack);
