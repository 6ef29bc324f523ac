//! Roster's plugin boundary: the C-ABI descriptor a role-pack cdylib exports ([`abi`]),
//! the SDK that lets pack authors export one without writing `unsafe` ([`export_pack!`]),
//! and the loader that opens, checks and validates plugins and TOML packs ([`loader`]).
//!
//! This is the only crate in the workspace allowed to use `unsafe`; every block says why
//! it is sound.
#![allow(unsafe_code)]

pub mod abi;
pub mod loader;
pub mod sdk;

pub use loader::{LoadedPack, LoaderConfig, PackLoader, PackSource, PluginError, PluginErrorKind, VerifiedPlugin};
pub use roster_core;
pub use roster_core::manifest::PackManifest;
pub use roster_core::{Permission, Role, RolePack};
pub use sdk::TomlPack;
