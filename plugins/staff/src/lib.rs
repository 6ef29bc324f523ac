//! The `staff` role pack: a promotion-only ladder under one protected Super Admin, with
//! assigned-project and owner conditions and soft removal
//! (`docs/seeds/staff-role-ladder.txt`). The rules live in `pack.toml`;
//! the build turns it into typed names (`Permission`, `Role`, `ResourceType`, `Pack`)
//! that Rust code and tests use instead of strings.

include!(concat!(env!("OUT_DIR"), "/pack.rs"));

roster_plugin::export_pack!(pack = Pack);
