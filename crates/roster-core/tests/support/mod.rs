//! Shared by the rule tests: the five seed packs read straight from `plugins/*/pack.toml`
//! (so `cargo test -p roster-core` needs no plugin build) and a small world to act in.

#![allow(dead_code, unreachable_pub)]

use std::sync::Arc;

use roster_core::engine::MembershipStatus;
use roster_core::{Actor, Change, Engine, ManagementError, Operation, PackManifest, Subject, validate};

/// The time every scenario runs at (unix seconds).
pub const NOW: i64 = 1_800_000_000;

/// One seed pack, compiled from its `pack.toml`.
pub fn pack(id: &str) -> Arc<roster_core::Pack> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../../plugins/{id}/pack.toml"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let manifest: PackManifest = toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    Arc::new(validate(manifest).unwrap_or_else(|e| panic!("{id}: {e:?}")))
}

/// An engine that knows the five seed packs.
pub struct World {
    /// The engine under test.
    pub engine: Engine,
}

impl World {
    /// An empty engine with all five packs.
    pub fn new() -> World {
        World { engine: Engine::new(["studio", "agency", "mods", "workspace", "staff"].map(pack)) }
    }

    /// Runs an operation as `actor` (`None`: the platform).
    pub fn act(&mut self, actor: Option<&str>, operation: Operation) -> Result<u64, ManagementError> {
        self.act_at(actor, operation, NOW)
    }

    /// Runs an operation as `actor` at time `now`.
    pub fn act_at(&mut self, actor: Option<&str>, operation: Operation, now: i64) -> Result<u64, ManagementError> {
        let actor = actor.map_or(Actor::Service, |a| Actor::Principal(a.to_owned()));
        self.engine.execute(&actor, &operation, now)
    }

    /// Runs an operation as the platform; panics on a refusal.
    pub fn setup(&mut self, operation: Operation) {
        let described = format!("{operation:?}");
        if let Err(error) = self.act(None, operation) {
            panic!("setup step {described} failed: {error}");
        }
    }

    /// A top-level account.
    pub fn account(&mut self, id: &str, pack: &str, owner: &str) {
        self.setup(Operation::CreateAccount { id: id.into(), pack: pack.into(), parent: None, owner: owner.into() });
    }

    /// A child account.
    pub fn child(&mut self, id: &str, parent: &str, pack: &str, owner: &str) {
        self.setup(Operation::CreateAccount {
            id: id.into(),
            pack: pack.into(),
            parent: Some(parent.into()),
            owner: owner.into(),
        });
    }

    /// Adds a member as the platform.
    pub fn member(&mut self, account: &str, principal: &str, role: &str) {
        self.setup(add_member(account, principal, role, None));
    }

    /// A resource, as the platform.
    pub fn resource(&mut self, account: &str, resource: &str, parent: Option<&str>, owner: Option<&str>) {
        self.setup(Operation::CreateResource {
            account: account.into(),
            resource: resource.into(),
            parent: parent.map(Into::into),
            owner: owner.map(Into::into),
        });
    }

    /// A grant, written straight to the engine (setting up a state, not judging who gives it).
    pub fn grant(&mut self, id: &str, account: &str, subject: &str, resource: Option<&str>, role: &str) {
        let subject: Subject = subject.parse().expect("subject");
        let change = Change::AddGrant {
            id: id.into(),
            account: account.into(),
            subject,
            resource: resource.map(Into::into),
            role: role.into(),
            expires_at: None,
        };
        self.engine.apply(change).expect("grant applies");
    }

    /// A group with members, written straight to the engine.
    pub fn group(&mut self, account: &str, group: &str, members: &[&str]) {
        self.engine.apply(Change::AddGroup { account: account.into(), group: group.into() }).expect("group");
        for m in members {
            let change =
                Change::AddGroupMember { account: account.into(), group: group.into(), principal: (*m).into() };
            self.engine.apply(change).expect("group member");
        }
    }

    /// May `principal` do `permission` on `resource` now?
    pub fn can(&self, account: &str, principal: &str, permission: &str, resource: Option<&str>) -> bool {
        self.can_at(account, principal, permission, resource, NOW)
    }

    /// May `principal` do `permission` on `resource` at `now`?
    pub fn can_at(&self, account: &str, principal: &str, permission: &str, resource: Option<&str>, now: i64) -> bool {
        self.engine.check(account, principal, permission, resource, now).expect("check").allowed
    }

    /// The membership status, if any.
    pub fn status(&self, account: &str, principal: &str) -> Option<MembershipStatus> {
        self.engine.membership(account, principal).map(|m| m.status)
    }
}

/// An `AddMember` operation.
pub fn add_member(account: &str, principal: &str, role: &str, expires_at: Option<i64>) -> Operation {
    Operation::AddMember {
        account: account.into(),
        principal: principal.into(),
        role: Some(role.into()),
        external: false,
        expires_at,
    }
}

/// A `Grant` operation to a principal or group (`principal:x` / `group:x`).
pub fn grant(id: &str, account: &str, subject: &str, resource: Option<&str>, role: &str) -> Operation {
    Operation::Grant {
        id: id.into(),
        account: account.into(),
        subject: subject.parse().expect("subject"),
        resource: resource.map(Into::into),
        role: role.into(),
        expires_at: None,
    }
}

/// A `ChangeRole` operation.
pub fn change_role(account: &str, principal: &str, role: &str) -> Operation {
    Operation::ChangeRole { account: account.into(), principal: principal.into(), role: role.into() }
}
