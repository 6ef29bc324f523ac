//! The management rules: which actor may make which change. [`Engine::plan`] checks one
//! [`Operation`] against the current state and returns the [`Change`]s that carry it out;
//! the daemon commits them and applies them. Every refusal is a typed [`ManagementError`].
//!
//! The rules live here and only here, one module per concern: `standing` (what an actor's
//! roles add up to at a scope), `visibility` (protected members), `members`, `grants`
//! (grants and groups), `invites`, `custom_roles`, `masquerade` and `resources`.

mod custom_roles;
mod error;
mod grants;
mod invites;
mod masquerade;
mod members;
mod resources;
mod standing;
mod visibility;

pub use error::{ErrorKind, ManagementError};

use crate::engine::{Change, Engine, Plan, Subject};
use crate::manifest::RoleDef;

/// Who asks for a management operation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Actor {
    /// The platform itself (a service token without `Roster-Act-As`): every permission,
    /// but still bound by the packs' policies.
    Service,
    /// A principal, judged by their roles.
    Principal(String),
}

/// A management operation, as the API names it.
#[derive(Clone, Debug, PartialEq)]
#[allow(missing_docs)]
pub enum Operation {
    /// A top-level account (platform only) or a child account (`account.create` on the parent).
    CreateAccount { id: String, pack: String, parent: Option<String>, owner: String },
    /// Adds a member with a role (the pack's default when `None`).
    AddMember { account: String, principal: String, role: Option<String>, external: bool, expires_at: Option<i64> },
    /// Changes a member's role.
    ChangeRole { account: String, principal: String, role: String },
    /// Removes a member (soft in `removal = "soft"` packs).
    RemoveMember { account: String, principal: String },
    /// Restores a soft-removed member.
    RestoreMember { account: String, principal: String },
    /// Deletes a removed member for good.
    PurgeMember { account: String, principal: String },
    /// Moves a member between accounts atomically.
    MoveMember { from: String, to: String, principal: String, role: Option<String> },
    /// Grants a role on a resource.
    Grant {
        id: String,
        account: String,
        subject: Subject,
        resource: Option<String>,
        role: String,
        expires_at: Option<i64>,
    },
    /// Revokes a grant of the account.
    RevokeGrant { account: String, id: String },
    /// Moves the single-holder role to another member.
    TransferOwnership { account: String, to: String },
    /// Defines a custom account role.
    DefineRole { account: String, role: RoleDef },
    /// Deletes a custom role.
    RemoveRole { account: String, role: String },
    /// Creates a resource (`<type>.create` on the parent). A principal becomes its owner and
    /// may name no one else; the platform may name any owner.
    CreateResource { account: String, resource: String, parent: Option<String>, owner: Option<String> },
    /// Deletes a resource and its descendants (`<type>.delete`).
    DeleteResource { account: String, resource: String },
    /// Creates a group.
    CreateGroup { account: String, group: String },
    /// Deletes a group.
    DeleteGroup { account: String, group: String },
    /// Adds a principal to a group.
    AddGroupMember { account: String, group: String, principal: String },
    /// Removes a principal from a group.
    RemoveGroupMember { account: String, group: String, principal: String },
    /// Reads one membership.
    ViewMember { account: String, principal: String },
    /// Masquerades as another member.
    Masquerade { account: String, target: String },
    /// Changes nothing: refuses unless the actor may make an invite that adds
    /// a member with `role` (the pack's default when `None`), or grants `role` on `resource`.
    Invite { account: String, role: Option<String>, resource: Option<String> },
    /// Changes nothing: refuses unless the actor may revoke a pending invite of `role` (on
    /// `resource`): the standing making it needs.
    RevokeInvite { account: String, role: Option<String>, resource: Option<String> },
}

type Result<T> = std::result::Result<T, ManagementError>;

impl Engine {
    /// Checks `operation` for `actor` at time `now` and returns the plan that carries it
    /// out: its changes validated in sequence, each against the state the ones before it
    /// leave, so [`Engine::commit`] applies the whole plan and cannot fail half-way. A
    /// principal's refusal is the one it may see (see `visibility`).
    pub fn plan(&self, actor: &Actor, operation: &Operation, now: i64) -> Result<Plan> {
        self.plan_checked(actor, operation, now).map_err(|error| self.as_seen_by(actor, operation, error, now))
    }

    fn plan_checked(&self, actor: &Actor, operation: &Operation, now: i64) -> Result<Plan> {
        let changes = self.plan_unchecked(actor, operation, now)?;
        Ok(self.validate(changes)?)
    }

    fn plan_unchecked(&self, actor: &Actor, operation: &Operation, now: i64) -> Result<Vec<Change>> {
        use Operation as Op;
        match operation {
            Op::CreateAccount { id, pack, parent, owner } => {
                self.plan_create_account(actor, id, pack, parent.as_deref(), owner, now)
            }
            Op::AddMember { account, principal, role, external, expires_at } => {
                self.plan_add_member(actor, account, principal, role.as_deref(), *external, *expires_at, now)
            }
            Op::ChangeRole { account, principal, role } => self.plan_change_role(actor, account, principal, role, now),
            Op::RemoveMember { account, principal } => self.plan_remove_member(actor, account, principal, now),
            Op::RestoreMember { account, principal } => {
                self.plan_restore_or_purge(actor, account, principal, true, now)
            }
            Op::PurgeMember { account, principal } => self.plan_restore_or_purge(actor, account, principal, false, now),
            Op::MoveMember { from, to, principal, role } => {
                self.plan_move_member(actor, from, to, principal, role.as_deref(), now)
            }
            Op::Grant { id, account, subject, resource, role, expires_at } => {
                self.plan_grant(actor, id, account, subject, resource.as_deref(), role, *expires_at, now)
            }
            Op::RevokeGrant { account, id } => self.plan_revoke_grant(actor, account, id, now),
            Op::TransferOwnership { account, to } => self.plan_transfer(actor, account, to, now),
            Op::DefineRole { account, role } => self.plan_define_role(actor, account, role, now),
            Op::RemoveRole { account, role } => self.plan_remove_role(actor, account, role, now),
            Op::CreateResource { account, resource, parent, owner } => {
                self.plan_create_resource(actor, account, resource, parent.as_deref(), owner.as_deref(), now)
            }
            Op::DeleteResource { account, resource } => self.plan_delete_resource(actor, account, resource, now),
            Op::CreateGroup { account, group } => self.plan_create_group(actor, account, group, now),
            Op::DeleteGroup { account, group } => self.plan_delete_group(actor, account, group, now),
            Op::AddGroupMember { account, group, principal } => {
                self.plan_group_member(actor, account, group, principal, true, now)
            }
            Op::RemoveGroupMember { account, group, principal } => {
                self.plan_group_member(actor, account, group, principal, false, now)
            }
            Op::ViewMember { account, principal } => {
                self.plan_view_member(actor, account, principal, now).map(|()| Vec::new())
            }
            Op::Masquerade { account, target } => self.plan_masquerade(actor, account, target, now),
            Op::Invite { account, role, resource } => {
                self.plan_invite(actor, account, role.as_deref(), resource.as_deref(), now).map(|()| Vec::new())
            }
            Op::RevokeInvite { account, role, resource } => {
                self.plan_revoke_invite(actor, account, role.as_deref(), resource.as_deref(), now).map(|()| Vec::new())
            }
        }
    }

    /// Plans and applies an operation; returns the new revision. For tests and embedders;
    /// the daemon commits the plan's changes to its database first.
    pub fn execute(&mut self, actor: &Actor, operation: &Operation, now: i64) -> Result<u64> {
        let plan = self.plan(actor, operation, now)?;
        // Validated against this very state a moment ago: committing cannot fail.
        Ok(self.commit_steps(plan.into_steps()))
    }
}
