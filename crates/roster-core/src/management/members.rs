//! Memberships: adding, changing, removing, restoring, purging and moving members, and
//! handing over a single-holder role. A member who leaves an account (hard removal, purge,
//! move) takes their grants and group places in it with them.

use super::standing::earlier;
use super::{Actor, ManagementError, Result};
use crate::engine::{AccountId, Change, Engine, Membership, MembershipStatus, RoleRef};
use crate::manifest::{RemovalPolicy, RoleChangePolicy};
use crate::pack::{Pack, TypeIdx};

impl Engine {
    pub(super) fn account_type(&self, account: AccountId) -> TypeIdx {
        self.nodes[self.accounts[account].node].ty
    }

    pub(super) fn put(&self, account: AccountId, principal: &str, m: Membership, status: MembershipStatus) -> Change {
        Change::PutMembership {
            account: self.accounts[account].id.clone(),
            principal: principal.to_owned(),
            role: self.role(account, m.role).id.clone(),
            external: m.external,
            status,
            expires_at: m.expires_at(),
        }
    }

    /// Adds a member (`member.invite`).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn plan_add_member(
        &self,
        actor: &Actor,
        account: &str,
        principal: &str,
        role: Option<&str>,
        external: bool,
        expires_at: Option<i64>,
        now: i64,
    ) -> Result<Vec<Change>> {
        let a = self.account_id(account)?;
        self.require(actor, a, None, "member.invite", now)?;
        self.plan_join(actor, a, principal, role, external, expires_at, now).map(|c| vec![c])
    }

    /// The membership change for `principal` joining `account`.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn plan_join(
        &self,
        actor: &Actor,
        a: AccountId,
        principal: &str,
        role: Option<&str>,
        external: bool,
        expires_at: Option<i64>,
        now: i64,
    ) -> Result<Change> {
        let account = &self.accounts[a].id;
        if let Ok(existing) = self.visible_member(actor, a, principal) {
            return Err(ManagementError::AlreadyMember {
                account: account.clone(),
                principal: principal.to_owned(),
                removed: existing.status == MembershipStatus::Removed,
            });
        }
        if self.hidden_from(actor, a, principal) {
            // A protected member is not there for the actor, yet cannot be overwritten:
            // refuse exactly as for a role the actor may not hand out.
            return Err(self.refuse_unseen(actor, a, role));
        }
        let role_ref = self.joining_role(a, role)?;
        let role_id = self.role(a, role_ref).id.clone();
        if Self::actor_is(actor, principal) {
            // Joining an account (a child account, say) is handing oneself a role.
            return Err(ManagementError::SelfGrant { role: role_id });
        }
        if self.role(a, role_ref).single_holder {
            return Err(ManagementError::SingleHolderByTransferOnly { role: role_id });
        }
        self.require_manages(actor, a, None, role_ref, now)?;
        let node = self.accounts[a].node;
        Ok(Change::PutMembership {
            account: account.clone(),
            principal: principal.to_owned(),
            role: role_id,
            external,
            status: MembershipStatus::Active,
            expires_at: self.cap_to_standing(actor, node, expires_at, now),
        })
    }

    /// The role a joining member gets: the one named, or the pack's default.
    pub(super) fn joining_role(&self, a: AccountId, role: Option<&str>) -> Result<RoleRef> {
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
        Ok(self.grantable_role(a, &role_id, self.accounts[a].node)?)
    }

    /// The refusal for touching a member the actor cannot see: the one they would get for a
    /// role they do not manage, so nothing tells a protected member apart.
    fn refuse_unseen(&self, actor: &Actor, a: AccountId, role: Option<&str>) -> ManagementError {
        let id = match actor {
            Actor::Principal(id) => id.clone(),
            Actor::Service => String::new(),
        };
        ManagementError::RoleNotManaged {
            actor: id,
            role: role.unwrap_or_default().to_owned(),
            scope: self.scope_name(a, None),
        }
    }

    /// Common checks before editing someone's membership: permission, visibility, not
    /// oneself, not a single-holder role, and the current role is managed by the actor.
    pub(super) fn editable_member(
        &self,
        actor: &Actor,
        account: &str,
        principal: &str,
        permission: &str,
        now: i64,
    ) -> Result<(AccountId, Membership)> {
        let a = self.account_id(account)?;
        self.require(actor, a, None, permission, now)?;
        let current = self.visible_member(actor, a, principal)?;
        let role = self.role(a, current.role);
        if Self::actor_is(actor, principal) {
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

    pub(super) fn plan_change_role(
        &self,
        actor: &Actor,
        account: &str,
        principal: &str,
        role: &str,
        now: i64,
    ) -> Result<Vec<Change>> {
        let (a, current) = self.editable_member(actor, account, principal, "member.role.change", now)?;
        let next = self.grantable_role(a, role, self.accounts[a].node)?;
        let (from, to) = (self.role(a, current.role), self.role(a, next));
        if next == current.role {
            return Err(ManagementError::SameRole { principal: principal.to_owned(), role: role.to_owned() });
        }
        if to.single_holder {
            return Err(ManagementError::SingleHolderByTransferOnly { role: role.to_owned() });
        }
        let pack = self.account_pack_of(a);
        if pack.manifest().policies.role_changes == RoleChangePolicy::PromotionOnly {
            if to.rank < from.rank {
                return Err(ManagementError::Demotion {
                    pack: pack.id().to_owned(),
                    from: from.id.clone(),
                    to: to.id.clone(),
                });
            }
            // Rank alone is not the ladder: a change that takes away any permission (or
            // makes one conditional) is a demotion too, whatever the new role's rank.
            let mut kept_if_owner = to.always.clone();
            kept_if_owner.union_with(&to.if_owner);
            let mut kept_if_assigned = to.always.clone();
            kept_if_assigned.union_with(&to.if_assigned);
            let lost = from
                .always
                .iter()
                .find(|&i| !to.always.contains(i))
                .or_else(|| from.if_owner.iter().find(|&i| !kept_if_owner.contains(i)))
                .or_else(|| from.if_assigned.iter().find(|&i| !kept_if_assigned.contains(i)));
            if let Some(lost) = lost {
                return Err(ManagementError::DemotionByPermission {
                    pack: pack.id().to_owned(),
                    from: from.id.clone(),
                    to: to.id.clone(),
                    permission: pack.permission_ids()[lost].clone(),
                });
            }
        }
        self.require_manages(actor, a, None, next, now)?;
        let node = self.accounts[a].node;
        Ok(vec![Change::PutMembership {
            account: account.to_owned(),
            principal: principal.to_owned(),
            role: role.to_owned(),
            external: current.external,
            status: MembershipStatus::Active,
            expires_at: self.cap_to_standing(actor, node, current.expires_at(), now),
        }])
    }

    pub(super) fn plan_remove_member(
        &self,
        actor: &Actor,
        account: &str,
        principal: &str,
        now: i64,
    ) -> Result<Vec<Change>> {
        let (a, current) = self.editable_member(actor, account, principal, "member.remove", now)?;
        let pack = self.account_pack_of(a);
        Ok(match pack.manifest().policies.removal {
            RemovalPolicy::Hard => self.leave(a, principal),
            // A soft-removed member keeps their grants and group places, which count for
            // nothing until they are restored: "Restore Staff" brings the user back as they were.
            RemovalPolicy::Soft => vec![self.put(a, principal, current, MembershipStatus::Removed)],
        })
    }

    pub(super) fn plan_restore_or_purge(
        &self,
        actor: &Actor,
        account: &str,
        principal: &str,
        restore: bool,
        now: i64,
    ) -> Result<Vec<Change>> {
        let a = self.account_id(account)?;
        let pack = self.account_pack_of(a);
        if pack.manifest().policies.removal == RemovalPolicy::Hard {
            return Err(ManagementError::HardRemoval(pack.id().to_owned()));
        }
        let permission = if restore { "member.restore" } else { "member.remove" };
        self.require(actor, a, None, permission, now)?;
        let membership = self.visible_member(actor, a, principal)?;
        if membership.status != MembershipStatus::Removed {
            return Err(ManagementError::NotRemoved { principal: principal.to_owned() });
        }
        if Self::actor_is(actor, principal) {
            return Err(ManagementError::OwnMembership { role: self.role(a, membership.role).id.clone() });
        }
        self.require_manages(actor, a, None, membership.role, now)?;
        Ok(if restore {
            vec![self.put(a, principal, membership, MembershipStatus::Active)]
        } else {
            self.leave(a, principal)
        })
    }

    pub(super) fn plan_move_member(
        &self,
        actor: &Actor,
        from: &str,
        to: &str,
        principal: &str,
        role: Option<&str>,
        now: i64,
    ) -> Result<Vec<Change>> {
        let (a, current) = self.editable_member(actor, from, principal, "member.move", now)?;
        let target = self.account_id(to)?;
        self.require(actor, target, None, "member.move", now)?;
        let joined = self.plan_join(actor, target, principal, role, current.external, current.expires_at(), now)?;
        let mut changes = self.leave(a, principal);
        changes.push(joined);
        Ok(changes)
    }

    /// The changes for `principal` leaving account `a` for good: the membership, their
    /// direct grants and group places in it, and in the child accounts below it where they
    /// hold no membership of their own (those grants depended on this membership).
    pub(super) fn leave(&self, a: AccountId, principal: &str) -> Vec<Change> {
        let mut changes =
            vec![Change::RemoveMembership { account: self.accounts[a].id.clone(), principal: principal.to_owned() }];
        let Some(&p) = self.principal_lookup(principal) else { return changes };
        let mut reached = vec![a];
        let mut stack = vec![a];
        while let Some(acc) = stack.pop() {
            for &child in &self.accounts[acc].children {
                if self.membership_of(p, child).is_none() {
                    reached.push(child);
                    stack.push(child);
                }
            }
        }
        let mut grants: Vec<(&str, &str)> = self.principals[p]
            .grants
            .iter()
            .filter(|&&(_, node)| reached.contains(&self.nodes[node].account))
            .map(|&(slot, node)| {
                let account = &self.accounts[self.nodes[node].account].id;
                (account.as_str(), self.grants[slot].id.as_str())
            })
            .collect();
        grants.sort_unstable();
        changes.extend(
            grants
                .into_iter()
                .map(|(account, id)| Change::RemoveGrant { account: account.to_owned(), id: id.to_owned() }),
        );
        for &acc in &reached {
            let account = &self.accounts[acc];
            let mut groups: Vec<&str> = account
                .groups
                .iter()
                .filter(|&(_, &g)| self.groups[g].members.contains(&p))
                .map(|(name, _)| name.as_str())
                .collect();
            groups.sort_unstable();
            changes.extend(groups.into_iter().map(|group| Change::RemoveGroupMember {
                account: account.id.clone(),
                group: group.to_owned(),
                principal: principal.to_owned(),
            }));
        }
        changes
    }

    pub(super) fn plan_view_member(&self, actor: &Actor, account: &str, principal: &str, now: i64) -> Result<()> {
        let a = self.account_id(account)?;
        self.require(actor, a, None, "member.view", now)?;
        self.visible_member(actor, a, principal).map(drop)
    }

    pub(super) fn plan_transfer(&self, actor: &Actor, account: &str, to: &str, now: i64) -> Result<Vec<Change>> {
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
            .map(|(p, &m)| (self.principals[p].id.to_string(), m));
        if let Actor::Principal(id) = actor
            && holder.as_ref().is_none_or(|(h, m)| h != id || !m.is_live(now))
        {
            return Err(ManagementError::NotTheHolder { role: owner_role.id.clone() });
        }
        let target = self.visible_member(actor, a, to)?;
        let ineligible = |reason| ManagementError::IneligibleMember {
            principal: to.to_owned(),
            role: owner_role.id.clone(),
            reason,
        };
        if !target.is_live(now) {
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
            // The new holder keeps no more than the old one had: a lapsing Owner hands
            // over a lapsing ownership.
            expires_at: earlier(target.expires_at(), holder.as_ref().and_then(|(_, m)| m.expires_at())),
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
}

/// The role a new account's owner gets: the single-holder role if it fits the account
/// type, else the top-ranked role grantable there.
pub(super) fn owner_role_for(pack: &Pack, ty: TypeIdx) -> Option<u16> {
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
