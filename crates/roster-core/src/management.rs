//! The management rules: which actor may make which change. [`Engine::plan`] checks one
//! [`Operation`] against the current state and returns the [`Change`]s that carry it out;
//! the daemon commits them and applies them. Every refusal is a typed [`ManagementError`].

use crate::engine::{Change, ChangeError, Engine, MembershipStatus, RoleRef, Subject};
use crate::manifest::{RemovalPolicy, RoleChangePolicy, RoleDef};
use crate::pack::{Pack, TypeIdx};

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
    /// Revokes a grant.
    RevokeGrant { id: String },
    /// Moves the single-holder role to another member.
    TransferOwnership { account: String, to: String },
    /// Defines a custom account role.
    DefineRole { account: String, role: RoleDef },
    /// Deletes a custom role.
    RemoveRole { account: String, role: String },
    /// Creates a resource (`<type>.create` on the parent); a principal becomes its owner
    /// unless another is named.
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
    /// Changes nothing: refuses unless the actor holds `permission` on the scope (for reads).
    Require { account: String, resource: Option<String>, permission: String },
}

/// The class of a refusal, for mapping to API error codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// The request itself is malformed.
    InvalidInput,
    /// Something named does not exist.
    NotFound,
    /// The actor may not do this.
    Forbidden,
    /// The state does not allow it (already exists, not removed, …).
    Conflict,
    /// A pack policy forbids it whoever asks.
    PolicyViolation,
}

/// Why a management operation is refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ManagementError {
    /// The change does not fit the state.
    #[error(transparent)]
    Change(#[from] ChangeError),
    /// The principal has no membership in the account.
    #[error("`{principal}` is not a member of account `{account}`")]
    NotAMember {
        /// Account id.
        account: String,
        /// Principal id.
        principal: String,
    },
    /// The actor lacks the operation's permission at the scope.
    #[error("`{actor}` lacks `{permission}` on `{scope}`")]
    MissingPermission {
        /// Actor id.
        actor: String,
        /// The permission.
        permission: String,
        /// `account/resource`.
        scope: String,
    },
    /// None of the actor's roles there manages the role.
    #[error("none of `{actor}`'s roles on `{scope}` manages role `{role}`")]
    RoleNotManaged {
        /// Actor id.
        actor: String,
        /// The role.
        role: String,
        /// `account/resource`.
        scope: String,
    },
    /// Nobody changes their own role or removes themselves.
    #[error("nobody may change their own role or remove themselves; ask another member who manages `{role}`")]
    OwnMembership {
        /// The actor's current role.
        role: String,
    },
    /// The member holds a protected role.
    #[error("`{principal}` holds the protected role `{role}`: nobody else may view or edit their membership")]
    Protected {
        /// Principal id.
        principal: String,
        /// The protected role.
        role: String,
    },
    /// Single-holder roles move only by ownership transfer.
    #[error("role `{role}` has exactly one holder per account and moves only by ownership transfer")]
    SingleHolderByTransferOnly {
        /// The role.
        role: String,
    },
    /// Demotion on a promotion-only ladder.
    #[error(
        "roles in pack `{pack}` only go up the ladder; `{from}` to `{to}` goes down: remove the member and re-add them as `{to}`"
    )]
    Demotion {
        /// Pack id.
        pack: String,
        /// Current role.
        from: String,
        /// Requested role.
        to: String,
    },
    /// The single-holder role cannot be transferred.
    #[error("role `{role}` is not transferable: its holder cannot be changed")]
    NotTransferable {
        /// The role.
        role: String,
    },
    /// The pack has no single-holder role to transfer.
    #[error("pack `{0}` has no single-holder role, so there is no ownership to transfer")]
    NoOwnership(String),
    /// Only the current holder may hand over ownership.
    #[error("only the current holder of `{role}` may transfer it")]
    NotTheHolder {
        /// The role.
        role: String,
    },
    /// The role cannot be handed to this member.
    #[error("`{principal}` cannot take role `{role}`: {reason}")]
    IneligibleMember {
        /// Principal id.
        principal: String,
        /// The role.
        role: String,
        /// Why.
        reason: &'static str,
    },
    /// After a transfer the old holder needs a role.
    #[error("role `{role}` manages no lower account role for the previous holder to take")]
    NoRoleForPreviousHolder {
        /// The single-holder role.
        role: String,
    },
    /// The principal is already a member.
    #[error("`{principal}` is already a {state} member of account `{account}`{hint}", hint = if *removed { "; restore them instead" } else { "" }, state = if *removed { "removed" } else { "" })]
    AlreadyMember {
        /// Account id.
        account: String,
        /// Principal id.
        principal: String,
        /// Whether the membership is soft-removed.
        removed: bool,
    },
    /// Restore or purge of a member who is not removed.
    #[error("`{principal}` is an active member; only removed members can be restored or purged")]
    NotRemoved {
        /// Principal id.
        principal: String,
    },
    /// Restore in a hard-removal pack.
    #[error("pack `{0}` removes members outright; there is nothing to restore")]
    HardRemoval(String),
    /// The member already holds the role.
    #[error("`{principal}` already holds role `{role}`")]
    SameRole {
        /// Principal id.
        principal: String,
        /// The role.
        role: String,
    },
    /// No role named and the pack has no usable default.
    #[error("no role given and pack `{pack}` has no default role for a `{ty}`; name a role")]
    NoDefaultRole {
        /// Pack id.
        pack: String,
        /// The account type.
        ty: String,
    },
    /// The grantee lacks a permission the role requires.
    #[error("`{principal}` cannot be given role `{role}`: it requires `{permission}` there, which they do not hold")]
    GranteeLacks {
        /// Principal id.
        principal: String,
        /// The role.
        role: String,
        /// The required permission.
        permission: String,
    },
    /// Roles with a grantee requirement go to principals only.
    #[error(
        "role `{role}` requires its grantee to hold `{permission}`, so it can be granted to principals only, not groups"
    )]
    RequirementNeedsPrincipal {
        /// The role.
        role: String,
        /// The required permission.
        permission: String,
    },
    /// A custom role would exceed its creator.
    #[error("`{actor}` cannot define or hand out role `{role}`: {reason}")]
    ExceedsActor {
        /// Actor id.
        actor: String,
        /// The role.
        role: String,
        /// What exceeds the actor.
        reason: String,
    },
    /// Masquerade refused.
    #[error("`{actor}` may not masquerade as `{target}`: {reason}")]
    Masquerade {
        /// Actor id.
        actor: String,
        /// Target id.
        target: String,
        /// Why.
        reason: String,
    },
    /// The operation needs the platform.
    #[error("{0} is reserved to the platform (a service token without Roster-Act-As)")]
    PlatformOnly(&'static str),
}

impl ManagementError {
    /// The class of the refusal.
    pub fn kind(&self) -> ErrorKind {
        use ManagementError as E;
        match self {
            E::Change(change) => match change {
                ChangeError::UnknownPack(_)
                | ChangeError::UnknownAccount(_)
                | ChangeError::UnknownResource { .. }
                | ChangeError::UnknownRole { .. }
                | ChangeError::UnknownMember { .. }
                | ChangeError::UnknownGroup { .. }
                | ChangeError::UnknownGrant(_) => ErrorKind::NotFound,
                ChangeError::AccountExists(_)
                | ChangeError::ResourceExists { .. }
                | ChangeError::GroupExists { .. }
                | ChangeError::GrantExists(_)
                | ChangeError::RoleInUse(_) => ErrorKind::Conflict,
                _ => ErrorKind::InvalidInput,
            },
            E::NotAMember { .. } => ErrorKind::NotFound,
            E::MissingPermission { .. }
            | E::RoleNotManaged { .. }
            | E::OwnMembership { .. }
            | E::Protected { .. }
            | E::NotTheHolder { .. }
            | E::ExceedsActor { .. }
            | E::Masquerade { .. }
            | E::PlatformOnly(_) => ErrorKind::Forbidden,
            E::AlreadyMember { .. } | E::NotRemoved { .. } | E::SameRole { .. } => ErrorKind::Conflict,
            E::NoDefaultRole { .. } => ErrorKind::InvalidInput,
            E::SingleHolderByTransferOnly { .. }
            | E::Demotion { .. }
            | E::NotTransferable { .. }
            | E::NoOwnership(_)
            | E::IneligibleMember { .. }
            | E::NoRoleForPreviousHolder { .. }
            | E::HardRemoval(_)
            | E::GranteeLacks { .. }
            | E::RequirementNeedsPrincipal { .. } => ErrorKind::PolicyViolation,
        }
    }
}

type Result<T> = std::result::Result<T, ManagementError>;

/// What the actor's roles at one scope add up to.
struct Standing {
    manages: Vec<u16>,
    held: crate::permset::PermSet,
    top_rank: Option<u32>,
}

impl Engine {
    /// Checks `operation` for `actor` at time `now` and returns the changes that carry it
    /// out. Every change returned applies: each is checked against the state (a membership
    /// in an account the same plan creates is checked by construction).
    pub fn plan(&self, actor: &Actor, operation: &Operation, now: i64) -> Result<Vec<Change>> {
        let changes = self.plan_unchecked(actor, operation, now)?;
        for change in &changes {
            let in_new_account = match change {
                Change::PutMembership { account, principal, .. } => {
                    crate::engine::check_id("principal", principal)?;
                    changes.iter().any(|c| matches!(c, Change::CreateAccount { id, .. } if id == account))
                }
                _ => false,
            };
            if !in_new_account {
                self.check_change(change)?;
            }
        }
        Ok(changes)
    }

    fn plan_unchecked(&self, actor: &Actor, operation: &Operation, now: i64) -> Result<Vec<Change>> {
        use Operation as Op;
        match operation {
            Op::CreateAccount { id, pack, parent, owner } => {
                self.plan_create_account(actor, id, pack, parent.as_deref(), owner, now)
            }
            Op::AddMember { account, principal, role, external, expires_at } => {
                let a = self.account_id(account)?;
                self.require(actor, a, None, "member.invite", now)?;
                self.plan_join(actor, a, principal, role.as_deref(), *external, *expires_at, now).map(|c| vec![c])
            }
            Op::ChangeRole { account, principal, role } => self.plan_change_role(actor, account, principal, role, now),
            Op::RemoveMember { account, principal } => {
                let (a, current) = self.editable_member(actor, account, principal, "member.remove", now)?;
                let pack = self.account_pack_of(a);
                Ok(vec![match pack.manifest().policies.removal {
                    RemovalPolicy::Hard => {
                        Change::RemoveMembership { account: account.clone(), principal: principal.clone() }
                    }
                    RemovalPolicy::Soft => self.put(a, principal, current, MembershipStatus::Removed),
                }])
            }
            Op::RestoreMember { account, principal } | Op::PurgeMember { account, principal } => {
                let restore = matches!(operation, Op::RestoreMember { .. });
                let a = self.account_id(account)?;
                let pack = self.account_pack_of(a);
                if pack.manifest().policies.removal == RemovalPolicy::Hard {
                    return Err(ManagementError::HardRemoval(pack.id().to_owned()));
                }
                let permission = if restore { "member.restore" } else { "member.remove" };
                self.require(actor, a, None, permission, now)?;
                let membership = self.member(a, principal)?;
                if membership.status != MembershipStatus::Removed {
                    return Err(ManagementError::NotRemoved { principal: principal.clone() });
                }
                self.require_manages(actor, a, None, membership.role, now)?;
                Ok(vec![if restore {
                    self.put(a, principal, membership, MembershipStatus::Active)
                } else {
                    Change::RemoveMembership { account: account.clone(), principal: principal.clone() }
                }])
            }
            Op::MoveMember { from, to, principal, role } => {
                let (a, current) = self.editable_member(actor, from, principal, "member.move", now)?;
                let target = self.account_id(to)?;
                self.require(actor, target, None, "member.move", now)?;
                let mut joined = self.plan_join(
                    actor,
                    target,
                    principal,
                    role.as_deref(),
                    current.external,
                    current.expires_at(),
                    now,
                )?;
                if let Change::PutMembership { status, .. } = &mut joined {
                    *status = MembershipStatus::Active;
                }
                let leave = Change::RemoveMembership {
                    account: self.accounts[a as usize].id.clone(),
                    principal: principal.clone(),
                };
                Ok(vec![leave, joined])
            }
            Op::Grant { id, account, subject, resource, role, expires_at } => {
                self.plan_grant(actor, id, account, subject, resource.as_deref(), role, *expires_at, now)
            }
            Op::RevokeGrant { id } => {
                let &slot = self.grant_lookup(id.as_str()).ok_or_else(|| ChangeError::UnknownGrant(id.clone()))?;
                let grant = &self.grants[slot as usize];
                let node = &self.nodes[grant.node as usize];
                let resource = (!node.is_account).then(|| node.name.clone());
                self.require(actor, node.account, resource.as_deref(), "grant.manage", now)?;
                self.require_manages(actor, node.account, resource.as_deref(), grant.role, now)?;
                Ok(vec![Change::RemoveGrant { id: id.clone() }])
            }
            Op::TransferOwnership { account, to } => self.plan_transfer(actor, account, to, now),
            Op::DefineRole { account, role } => {
                let a = self.account_id(account)?;
                self.require(actor, a, None, "role.manage", now)?;
                let compiled = self.compile_custom_role(a, role)?;
                if let Some(standing) = self.standing(actor, a, None, now) {
                    self.within_standing(actor, &standing, &compiled, a)?;
                }
                Ok(vec![Change::DefineRole { account: account.clone(), role: role.clone() }])
            }
            Op::RemoveRole { account, role } => {
                let a = self.account_id(account)?;
                self.require(actor, a, None, "role.manage", now)?;
                Ok(vec![Change::RemoveRole { account: account.clone(), role: role.clone() }])
            }
            Op::CreateResource { account, resource, parent, owner } => {
                let a = self.account_id(account)?;
                let ty = crate::ids::split_resource(resource)
                    .map(|(ty, _)| ty)
                    .ok_or_else(|| ChangeError::BadResourceName(resource.clone()))?;
                self.require(actor, a, parent.as_deref(), &format!("{ty}.create"), now)?;
                let owner = owner.clone().or_else(|| match actor {
                    Actor::Principal(p) => Some(p.clone()),
                    Actor::Service => None,
                });
                Ok(vec![Change::AddResource {
                    account: account.clone(),
                    resource: resource.clone(),
                    parent: parent.clone(),
                    owner,
                }])
            }
            Op::DeleteResource { account, resource } => {
                let a = self.account_id(account)?;
                let ty = crate::ids::split_resource(resource)
                    .map(|(ty, _)| ty)
                    .ok_or_else(|| ChangeError::BadResourceName(resource.clone()))?;
                self.require(actor, a, Some(resource), &format!("{ty}.delete"), now)?;
                Ok(vec![Change::RemoveResource { account: account.clone(), resource: resource.clone() }])
            }
            Op::CreateGroup { account, group } => self.plan_group(
                actor,
                account,
                now,
                Change::AddGroup { account: account.clone(), group: group.clone() },
            ),
            Op::DeleteGroup { account, group } => self.plan_group(
                actor,
                account,
                now,
                Change::RemoveGroup { account: account.clone(), group: group.clone() },
            ),
            Op::AddGroupMember { account, group, principal } => self.plan_group(
                actor,
                account,
                now,
                Change::AddGroupMember { account: account.clone(), group: group.clone(), principal: principal.clone() },
            ),
            Op::RemoveGroupMember { account, group, principal } => self.plan_group(
                actor,
                account,
                now,
                Change::RemoveGroupMember {
                    account: account.clone(),
                    group: group.clone(),
                    principal: principal.clone(),
                },
            ),
            Op::ViewMember { account, principal } => {
                let a = self.account_id(account)?;
                self.require(actor, a, None, "member.view", now)?;
                let membership = self.member(a, principal)?;
                self.not_protected(actor, a, principal, membership.role)?;
                Ok(Vec::new())
            }
            Op::Masquerade { account, target } => self.plan_masquerade(actor, account, target, now),
            Op::Require { account, resource, permission } => {
                let a = self.account_id(account)?;
                self.require(actor, a, resource.as_deref(), permission, now)?;
                Ok(Vec::new())
            }
        }
    }

    /// Plans and applies an operation; returns the new revision. For tests and embedders;
    /// the daemon commits the planned changes to its database first.
    pub fn execute(&mut self, actor: &Actor, operation: &Operation, now: i64) -> Result<u64> {
        let mut changes = self.plan(actor, operation, now)?;
        if changes.len() <= 1 {
            // `apply` checks everything before it mutates, so one change is all or nothing.
            if let Some(change) = changes.pop() {
                self.apply(change)?;
            }
            return Ok(self.revision);
        }
        // Several changes (transfer, move, new account) are applied to a copy, so a plan
        // that still failed half-way would leave nothing half-written. These are rare.
        let mut next = self.clone();
        for change in changes {
            next.apply(change)?;
        }
        *self = next;
        Ok(self.revision)
    }

    /// Whether `actor` may see `principal`'s membership (protected roles are invisible).
    pub fn member_visible_to(&self, actor: &Actor, account: &str, principal: &str) -> bool {
        let Ok(a) = self.account_id(account) else { return false };
        match self.member(a, principal) {
            Ok(m) => self.not_protected(actor, a, principal, m.role).is_ok(),
            Err(_) => false,
        }
    }

    fn member(&self, account: u32, principal: &str) -> Result<crate::engine::Membership> {
        self.principal_lookup(principal).and_then(|&p| self.membership_of(p, account)).copied().ok_or_else(|| {
            ManagementError::NotAMember {
                account: self.accounts[account as usize].id.clone(),
                principal: principal.to_owned(),
            }
        })
    }

    fn put(&self, account: u32, principal: &str, m: crate::engine::Membership, status: MembershipStatus) -> Change {
        Change::PutMembership {
            account: self.accounts[account as usize].id.clone(),
            principal: principal.to_owned(),
            role: self.role(account, m.role).id.clone(),
            external: m.external,
            status,
            expires_at: m.expires_at(),
        }
    }

    fn scope_name(&self, account: u32, resource: Option<&str>) -> String {
        format!("{}/{}", self.accounts[account as usize].id, resource.unwrap_or(crate::ids::ACCOUNT_RESOURCE))
    }

    fn scope_node(&self, account: u32, resource: Option<&str>) -> Result<crate::engine::NodeId> {
        self.node_of(account, resource).ok_or_else(|| {
            ManagementError::Change(ChangeError::UnknownResource {
                account: self.accounts[account as usize].id.clone(),
                resource: resource.unwrap_or_default().to_owned(),
            })
        })
    }

    /// Refuses unless `actor` holds `permission` on the scope.
    fn require(&self, actor: &Actor, account: u32, resource: Option<&str>, permission: &str, now: i64) -> Result<()> {
        let node = self.scope_node(account, resource)?;
        let Actor::Principal(id) = actor else { return Ok(()) };
        let perm = self.account_pack_of(account).permission(permission);
        let holds = match (perm, self.principal_lookup(id.as_str())) {
            (Some(perm), Some(&p)) => self.decide(p, node, perm, now).allowed,
            _ => false,
        };
        if holds {
            Ok(())
        } else {
            Err(ManagementError::MissingPermission {
                actor: id.clone(),
                permission: permission.to_owned(),
                scope: self.scope_name(account, resource),
            })
        }
    }

    /// The actor's roles on a scope, added up; `None` for the platform.
    fn standing(&self, actor: &Actor, account: u32, resource: Option<&str>, now: i64) -> Option<Standing> {
        let Actor::Principal(id) = actor else { return None };
        let pack = self.account_pack_of(account);
        let empty = Standing {
            manages: Vec::new(),
            held: crate::permset::PermSet::empty(pack.permission_ids().len()),
            top_rank: None,
        };
        let (Some(&p), Some(node)) = (self.principal_lookup(id.as_str()), self.node_of(account, resource)) else {
            return Some(empty);
        };
        let (held, roles) = self.permissions_on(p, node, now);
        let mut standing = Standing { held, ..empty };
        for (acc, role_ref) in roles {
            let role = self.role(acc, role_ref);
            standing.manages.extend(role.manages.iter().copied());
            standing.top_rank = standing.top_rank.max(Some(role.rank));
        }
        Some(standing)
    }

    /// Refuses unless a role the actor holds on the scope manages `role` (or, for a custom
    /// role, the actor holds everything it gives and outranks it).
    fn require_manages(
        &self,
        actor: &Actor,
        account: u32,
        resource: Option<&str>,
        role: RoleRef,
        now: i64,
    ) -> Result<()> {
        let Some(standing) = self.standing(actor, account, resource, now) else { return Ok(()) };
        let compiled = self.role(account, role);
        let managed = match role {
            RoleRef::Pack(index) => standing.manages.contains(&index),
            RoleRef::Custom(_) => self.within_standing(actor, &standing, compiled, account).is_ok(),
        };
        if managed {
            Ok(())
        } else {
            let Actor::Principal(id) = actor else { return Ok(()) };
            Err(ManagementError::RoleNotManaged {
                actor: id.clone(),
                role: compiled.id.clone(),
                scope: self.scope_name(account, resource),
            })
        }
    }

    /// A custom role may not give more than its creator holds, outrank them, or manage
    /// roles they do not manage.
    fn within_standing(
        &self,
        actor: &Actor,
        standing: &Standing,
        role: &crate::pack::CompiledRole,
        account: u32,
    ) -> Result<()> {
        let Actor::Principal(id) = actor else { return Ok(()) };
        let fail = |reason: String| ManagementError::ExceedsActor { actor: id.clone(), role: role.id.clone(), reason };
        let ids = self.account_pack_of(account).permission_ids();
        if let Some(extra) = role.reachable().iter().find(|&i| !standing.held.contains(i)) {
            return Err(fail(format!("it gives `{}`, which they do not hold", ids[extra])));
        }
        if standing.top_rank.is_none_or(|top| role.rank >= top) {
            return Err(fail(format!("its rank {} is not below their own", role.rank)));
        }
        if let Some(&extra) = role.manages.iter().find(|m| !standing.manages.contains(m)) {
            let pack = self.account_pack_of(account);
            return Err(fail(format!(
                "it manages `{}`, which they do not manage",
                pack.roles()[usize::from(extra)].id
            )));
        }
        Ok(())
    }

    fn not_protected(&self, actor: &Actor, account: u32, principal: &str, role: RoleRef) -> Result<()> {
        let compiled = self.role(account, role);
        let is_self = matches!(actor, Actor::Principal(id) if id == principal);
        if compiled.protected && !is_self && matches!(actor, Actor::Principal(_)) {
            return Err(ManagementError::Protected { principal: principal.to_owned(), role: compiled.id.clone() });
        }
        Ok(())
    }

    /// Common checks before editing someone's membership: permission, visibility, not
    /// oneself, not a single-holder role, and the current role is managed by the actor.
    fn editable_member(
        &self,
        actor: &Actor,
        account: &str,
        principal: &str,
        permission: &str,
        now: i64,
    ) -> Result<(u32, crate::engine::Membership)> {
        let a = self.account_id(account)?;
        self.require(actor, a, None, permission, now)?;
        let current = self.member(a, principal)?;
        self.not_protected(actor, a, principal, current.role)?;
        let role = self.role(a, current.role);
        if matches!(actor, Actor::Principal(id) if id == principal) {
            return Err(ManagementError::OwnMembership { role: role.id.clone() });
        }
        if current.status != MembershipStatus::Active {
            return Err(ManagementError::NotAMember { account: account.to_owned(), principal: principal.to_owned() });
        }
        if role.single_holder {
            return Err(ManagementError::SingleHolderByTransferOnly { role: role.id.clone() });
        }
        self.require_manages(actor, a, None, current.role, now)?;
        Ok((a, current))
    }

    fn account_type(&self, account: u32) -> TypeIdx {
        self.nodes[self.accounts[account as usize].node as usize].ty
    }

    /// The membership change for `principal` joining `account`.
    #[allow(clippy::too_many_arguments)]
    fn plan_join(
        &self,
        actor: &Actor,
        a: u32,
        principal: &str,
        role: Option<&str>,
        external: bool,
        expires_at: Option<i64>,
        now: i64,
    ) -> Result<Change> {
        let account = &self.accounts[a as usize].id;
        if let Ok(existing) = self.member(a, principal) {
            return Err(ManagementError::AlreadyMember {
                account: account.clone(),
                principal: principal.to_owned(),
                removed: existing.status == MembershipStatus::Removed,
            });
        }
        let pack = self.account_pack_of(a);
        let ty = self.account_type(a);
        let role_id = match role {
            Some(role) => role.to_owned(),
            None => pack
                .default_role()
                .map(|r| &pack.roles()[usize::from(r)])
                .filter(|r| r.grantable_on_type(ty))
                .map(|r| r.id.clone())
                .ok_or_else(|| ManagementError::NoDefaultRole {
                    pack: pack.id().to_owned(),
                    ty: pack.types()[usize::from(ty)].name.clone(),
                })?,
        };
        let role_ref = self.grantable_role(a, &role_id, self.accounts[a as usize].node)?;
        if self.role(a, role_ref).single_holder {
            return Err(ManagementError::SingleHolderByTransferOnly { role: role_id });
        }
        self.require_manages(actor, a, None, role_ref, now)?;
        Ok(Change::PutMembership {
            account: account.clone(),
            principal: principal.to_owned(),
            role: role_id,
            external,
            status: MembershipStatus::Active,
            expires_at,
        })
    }

    fn plan_change_role(
        &self,
        actor: &Actor,
        account: &str,
        principal: &str,
        role: &str,
        now: i64,
    ) -> Result<Vec<Change>> {
        let (a, current) = self.editable_member(actor, account, principal, "member.role.change", now)?;
        let next = self.grantable_role(a, role, self.accounts[a as usize].node)?;
        let (from, to) = (self.role(a, current.role), self.role(a, next));
        if next == current.role {
            return Err(ManagementError::SameRole { principal: principal.to_owned(), role: role.to_owned() });
        }
        if to.single_holder {
            return Err(ManagementError::SingleHolderByTransferOnly { role: role.to_owned() });
        }
        let pack = self.account_pack_of(a);
        if pack.manifest().policies.role_changes == RoleChangePolicy::PromotionOnly && to.rank < from.rank {
            return Err(ManagementError::Demotion {
                pack: pack.id().to_owned(),
                from: from.id.clone(),
                to: to.id.clone(),
            });
        }
        self.require_manages(actor, a, None, next, now)?;
        Ok(vec![Change::PutMembership {
            account: account.to_owned(),
            principal: principal.to_owned(),
            role: role.to_owned(),
            external: current.external,
            status: MembershipStatus::Active,
            expires_at: current.expires_at(),
        }])
    }

    #[allow(clippy::too_many_arguments)]
    fn plan_grant(
        &self,
        actor: &Actor,
        id: &str,
        account: &str,
        subject: &Subject,
        resource: Option<&str>,
        role: &str,
        expires_at: Option<i64>,
        now: i64,
    ) -> Result<Vec<Change>> {
        let a = self.account_id(account)?;
        let node = self.scope_node(a, resource)?;
        let role_ref = self.grantable_role(a, role, node)?;
        self.require(actor, a, resource, "grant.manage", now)?;
        self.require_manages(actor, a, resource, role_ref, now)?;
        let compiled = self.role(a, role_ref);
        if let Some(required) = compiled.grantee_requires {
            let permission = self.account_pack_of(a).permission_ids()[usize::from(required)].clone();
            match subject {
                Subject::Group(_) => {
                    return Err(ManagementError::RequirementNeedsPrincipal { role: role.to_owned(), permission });
                }
                Subject::Principal(p) => {
                    let holds =
                        self.principal_lookup(p.as_str()).is_some_and(|&p| self.decide(p, node, required, now).allowed);
                    if !holds {
                        return Err(ManagementError::GranteeLacks {
                            principal: p.clone(),
                            role: role.to_owned(),
                            permission,
                        });
                    }
                }
            }
        }
        Ok(vec![Change::AddGrant {
            id: id.to_owned(),
            account: account.to_owned(),
            subject: subject.clone(),
            resource: resource.map(str::to_owned),
            role: role.to_owned(),
            expires_at,
        }])
    }

    fn plan_transfer(&self, actor: &Actor, account: &str, to: &str, now: i64) -> Result<Vec<Change>> {
        let a = self.account_id(account)?;
        let pack = self.account_pack_of(a);
        let owner_index =
            pack.single_holder_role().ok_or_else(|| ManagementError::NoOwnership(pack.id().to_owned()))?;
        let owner_role = &pack.roles()[usize::from(owner_index)];
        if !owner_role.transferable {
            return Err(ManagementError::NotTransferable { role: owner_role.id.clone() });
        }
        let holder = self
            .account_members(a)
            .find(|(_, m)| m.role == RoleRef::Pack(owner_index) && m.status == MembershipStatus::Active)
            .map(|(p, &m)| (self.principals[p as usize].id.to_string(), m));
        if let Actor::Principal(id) = actor
            && holder.as_ref().is_none_or(|(h, _)| h != id)
        {
            return Err(ManagementError::NotTheHolder { role: owner_role.id.clone() });
        }
        let target = self.member(a, to)?;
        let ineligible = |reason| ManagementError::IneligibleMember {
            principal: to.to_owned(),
            role: owner_role.id.clone(),
            reason,
        };
        if target.status != MembershipStatus::Active || target.expires_at().is_some_and(|at| at <= now) {
            return Err(ineligible("they are not an active member"));
        }
        if target.external {
            return Err(ineligible("external members cannot own an account"));
        }
        if target.role == RoleRef::Pack(owner_index) {
            return Err(ManagementError::SameRole { principal: to.to_owned(), role: owner_role.id.clone() });
        }
        let mut changes = vec![Change::PutMembership {
            account: account.to_owned(),
            principal: to.to_owned(),
            role: owner_role.id.clone(),
            external: false,
            status: MembershipStatus::Active,
            expires_at: None,
        }];
        if let Some((previous, membership)) = holder {
            let next = previous_holder_role(pack, owner_index, self.account_type(a))
                .ok_or_else(|| ManagementError::NoRoleForPreviousHolder { role: owner_role.id.clone() })?;
            changes.insert(
                0,
                Change::PutMembership {
                    account: account.to_owned(),
                    principal: previous,
                    role: pack.roles()[usize::from(next)].id.clone(),
                    external: false,
                    status: MembershipStatus::Active,
                    expires_at: membership.expires_at(),
                },
            );
        }
        Ok(changes)
    }

    fn plan_create_account(
        &self,
        actor: &Actor,
        id: &str,
        pack: &str,
        parent: Option<&str>,
        owner: &str,
        now: i64,
    ) -> Result<Vec<Change>> {
        match parent {
            None if matches!(actor, Actor::Principal(_)) => {
                return Err(ManagementError::PlatformOnly("creating a top-level account"));
            }
            None => {}
            Some(parent) => {
                let pa = self.account_id(parent)?;
                self.require(actor, pa, None, "account.create", now)?;
            }
        }
        let (pack_index, _, ty) = self.resolve_new_account(id, pack, parent)?;
        let pack_ref = &self.packs[pack_index];
        let owner_role = owner_role_for(pack_ref, ty).ok_or_else(|| ManagementError::NoDefaultRole {
            pack: pack.to_owned(),
            ty: pack_ref.types()[usize::from(ty)].name.clone(),
        })?;
        Ok(vec![
            Change::CreateAccount { id: id.to_owned(), pack: pack.to_owned(), parent: parent.map(str::to_owned) },
            Change::PutMembership {
                account: id.to_owned(),
                principal: owner.to_owned(),
                role: pack_ref.roles()[usize::from(owner_role)].id.clone(),
                external: false,
                status: MembershipStatus::Active,
                expires_at: None,
            },
        ])
    }

    fn plan_group(&self, actor: &Actor, account: &str, now: i64, change: Change) -> Result<Vec<Change>> {
        let a = self.account_id(account)?;
        self.require(actor, a, None, "group.manage", now)?;
        Ok(vec![change])
    }

    fn plan_masquerade(&self, actor: &Actor, account: &str, target: &str, now: i64) -> Result<Vec<Change>> {
        let a = self.account_id(account)?;
        let Actor::Principal(id) = actor else {
            return Err(ManagementError::Masquerade {
                actor: "platform".into(),
                target: target.to_owned(),
                reason: "masquerade is asked for by a principal (Roster-Act-As)".into(),
            });
        };
        let fail =
            |reason: String| ManagementError::Masquerade { actor: id.clone(), target: target.to_owned(), reason };
        let pack = self.account_pack_of(a);
        let permission = pack
            .masquerade_permission()
            .ok_or_else(|| fail(format!("pack `{}` has no masquerade permission", pack.id())))?;
        self.require(actor, a, None, &pack.permission_ids()[usize::from(permission)], now)?;
        let membership = self.member(a, target)?;
        let target_role = self.role(a, membership.role);
        if target_role.protected {
            return Err(fail(format!("they hold the protected role `{}`", target_role.id)));
        }
        if membership.status != MembershipStatus::Active {
            return Err(fail("they are not an active member".into()));
        }
        let top = self.standing(actor, a, None, now).and_then(|s| s.top_rank).unwrap_or(0);
        if target_role.rank >= top {
            return Err(fail(format!(
                "their role `{}` (rank {}) is not below the actor's (rank {top})",
                target_role.id, target_role.rank
            )));
        }
        Ok(Vec::new())
    }
}

/// The role a new account's owner gets: the single-holder role if it fits the account
/// type, else the top-ranked role grantable there.
fn owner_role_for(pack: &Pack, ty: TypeIdx) -> Option<u16> {
    let fits = |&i: &u16| pack.roles()[usize::from(i)].grantable_on_type(ty);
    pack.single_holder_role().filter(fits).or_else(|| pack.roles_by_rank().into_iter().find(fits))
}

/// After a transfer the previous holder takes the highest-ranked account role that the
/// single-holder role manages.
fn previous_holder_role(pack: &Pack, owner: u16, ty: TypeIdx) -> Option<u16> {
    let managed = &pack.roles()[usize::from(owner)].manages;
    pack.roles_by_rank()
        .into_iter()
        .find(|i| managed.contains(i) && pack.roles()[usize::from(*i)].grantable_on_type(ty))
}
