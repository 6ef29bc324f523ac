//! Shared helpers for the end-to-end tests: locating the plugins `cargo xtask
//! build-plugins` built, loading them through the real loader, and a small [`World`] for
//! driving the engine and the management rules as the seeds' people.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use roster_core::engine::MembershipStatus;
use roster_core::matrix::Matrix;
use roster_core::{Actor, Change, Engine, ManagementError, Operation, Pack, Subject};
use roster_plugin::{LoadedPack, LoaderConfig, PackLoader};

pub mod daemon;
pub mod http;

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(Path::to_path_buf).unwrap_or_default()
}

fn built_dir(variable: &str, default: &str) -> PathBuf {
    let dir =
        std::env::var_os(variable).map(PathBuf::from).unwrap_or_else(|| workspace_root().join("target").join(default));
    assert!(
        dir.is_dir(),
        "{} does not exist: run the tests with `cargo xtask test` (or `cargo xtask build-plugins` first)",
        dir.display()
    );
    dir
}

/// Where the pack plugins were built.
pub fn plugin_dir() -> PathBuf {
    built_dir("ROSTER_TEST_PLUGIN_DIR", "plugins")
}

/// Where the bad-plugin fixtures were built.
pub fn fixture_dir() -> PathBuf {
    built_dir("ROSTER_TEST_FIXTURE_DIR", "plugin-fixtures")
}

/// The file name of a cdylib on this platform (`libroster_pack_studio.so` on Linux).
pub fn library_file(crate_name: &str) -> String {
    format!("{}{crate_name}{}", std::env::consts::DLL_PREFIX, std::env::consts::DLL_SUFFIX)
}

/// A seed document's text.
pub fn seed(name: &str) -> String {
    let path = workspace_root().join("docs/seeds").join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// The five packs, loaded once per test process from the built cdylibs.
pub fn loaded_packs() -> &'static [LoadedPack] {
    static PACKS: OnceLock<Vec<LoadedPack>> = OnceLock::new();
    PACKS.get_or_init(|| {
        let loader = PackLoader::new(LoaderConfig { plugin_dirs: vec![plugin_dir()], ..LoaderConfig::default() });
        let (packs, errors) = loader.load_all();
        assert!(errors.is_empty(), "the seed packs must load cleanly: {errors:?}");
        packs
    })
}

/// One loaded pack by id.
pub fn pack(id: &str) -> Arc<Pack> {
    loaded_packs()
        .iter()
        .find(|p| p.pack.id() == id)
        .map(|p| Arc::clone(&p.pack))
        .unwrap_or_else(|| panic!("pack `{id}` was not built"))
}

/// A pack's matrix.
pub fn matrix(id: &str) -> Matrix {
    Matrix::of(&pack(id))
}

/// The permissions a pack role holds unconditionally, and those under each condition.
pub fn role_cells(pack_id: &str, role: &str) -> Vec<(String, &'static str)> {
    let m = matrix(pack_id);
    m.rows
        .iter()
        .filter_map(|row| m.cell(role, &row.permission).map(|cell| (row.permission.clone(), cell)))
        .filter(|(_, cell)| *cell != "no")
        .collect()
}

/// The time every scenario runs at (unix seconds).
pub const NOW: i64 = 1_800_000_000;

/// An engine with all five packs, and helpers to act in it.
pub struct World {
    /// The engine under test.
    pub engine: Engine,
}

impl Default for World {
    fn default() -> Self {
        Self::new()
    }
}

impl World {
    /// An empty engine that knows the five packs.
    pub fn new() -> World {
        World { engine: Engine::new(loaded_packs().iter().map(|p| Arc::clone(&p.pack))) }
    }

    /// Runs an operation as `actor` (`None` = the platform).
    pub fn act(&mut self, actor: Option<&str>, operation: Operation) -> Result<u64, ManagementError> {
        let actor = actor.map_or(Actor::Service, |a| Actor::Principal(a.to_owned()));
        self.engine.execute(&actor, &operation, NOW)
    }

    /// Runs an operation as the platform and panics with the refusal if there is one.
    pub fn setup(&mut self, operation: Operation) {
        let described = format!("{operation:?}");
        if let Err(error) = self.act(None, operation) {
            panic!("setup step {described} failed: {error}");
        }
    }

    /// Creates a top-level account owned by `owner`.
    pub fn account(&mut self, id: &str, pack: &str, owner: &str) {
        self.setup(Operation::CreateAccount { id: id.into(), pack: pack.into(), parent: None, owner: owner.into() });
    }

    /// Adds a member with a role, as the platform.
    pub fn member(&mut self, account: &str, principal: &str, role: &str) {
        self.setup(add_member(account, principal, Some(role)));
    }

    /// Adds an external member, as the platform.
    pub fn external(&mut self, account: &str, principal: &str, role: &str) {
        self.setup(Operation::AddMember {
            account: account.into(),
            principal: principal.into(),
            role: Some(role.into()),
            external: true,
            expires_at: None,
        });
    }

    /// Creates a resource, as the platform.
    pub fn resource(&mut self, account: &str, resource: &str, parent: Option<&str>, owner: Option<&str>) {
        self.setup(Operation::CreateResource {
            account: account.into(),
            resource: resource.into(),
            parent: parent.map(Into::into),
            owner: owner.map(Into::into),
        });
    }

    /// Grants a role, as the platform.
    pub fn grant(&mut self, id: &str, account: &str, subject: &str, resource: Option<&str>, role: &str) {
        self.setup(grant(id, account, subject, resource, role));
    }

    /// Applies a raw change (for states management would not produce directly).
    pub fn apply(&mut self, change: Change) {
        let described = format!("{change:?}");
        if let Err(error) = self.engine.apply(change) {
            panic!("change {described} failed: {error}");
        }
    }

    /// May `principal` do `permission` on `resource` of `account`?
    pub fn can(&self, account: &str, principal: &str, permission: &str, resource: Option<&str>) -> bool {
        match self.engine.check(account, principal, permission, resource, NOW) {
            Ok(decision) => decision.allowed,
            Err(error) => panic!("check {principal} {permission} on {account}/{resource:?} failed: {error}"),
        }
    }

    /// A member's current role and status.
    pub fn role_of(&self, account: &str, principal: &str) -> Option<(String, MembershipStatus)> {
        self.engine.membership(account, principal).map(|m| (m.role, m.status))
    }
}

/// The operation adding a member.
pub fn add_member(account: &str, principal: &str, role: Option<&str>) -> Operation {
    Operation::AddMember {
        account: account.into(),
        principal: principal.into(),
        role: role.map(Into::into),
        external: false,
        expires_at: None,
    }
}

/// The operation changing a role.
pub fn change_role(account: &str, principal: &str, role: &str) -> Operation {
    Operation::ChangeRole { account: account.into(), principal: principal.into(), role: role.into() }
}

/// The operation granting a role; `subject` is `principal:ID` or `group:ID`.
pub fn grant(id: &str, account: &str, subject: &str, resource: Option<&str>, role: &str) -> Operation {
    let subject: Subject = subject.parse().unwrap_or_else(|e| panic!("{e}"));
    Operation::Grant {
        id: id.into(),
        account: account.into(),
        subject,
        resource: resource.map(Into::into),
        role: role.into(),
        expires_at: None,
    }
}
