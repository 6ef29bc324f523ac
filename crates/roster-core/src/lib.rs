//! Roster's model and decision engine: role-pack manifests and their validation, the
//! compiled in-memory state, permission decisions with explanations, and the management
//! rules every write must pass. Pure by design: no I/O, no async, no SQL, no HTTP.
#![forbid(unsafe_code)]

pub mod decision;
pub mod diff;
pub mod engine;
pub mod ids;
pub mod management;
pub mod manifest;
pub mod matrix;
pub mod pack;
pub mod permset;
pub mod rolepack;
pub mod validate;

pub use decision::{Basis, Decision, Explanation, Via};
pub use engine::{Change, ChangeError, Engine, Plan, QueryError, StalePlan, Subject};
pub use management::{Actor, ManagementError, Operation};
pub use manifest::{Condition, PackManifest, PermissionRule, Policies, RoleDef, SCHEMA_VERSION};
pub use pack::Pack;
pub use rolepack::{CompileError, ManifestError, Permission, Role, RolePack, consistent_manifest};
pub use validate::{ValidatedPack, ValidationError, ValidationErrors, validate};

/// The version of `roster-core` a plugin was built against; the loader compares majors.
pub const CORE_VERSION: &str = env!("CARGO_PKG_VERSION");
