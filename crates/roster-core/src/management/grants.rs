//! Grants and groups. A grant hands a role out at a scope; a group's members hold every
//! role the group's grants carry, so changing a group's members hands those roles out or
//! takes them away, and is judged exactly like granting or revoking each of them.

use super::{Actor, ManagementError, Result};
use crate::engine::{Change, ChangeError, Engine, GroupId, NodeId, RoleRef, Subject, SubjectRef};

/// One role a group's grant carries: where, and which.
struct Carried {
    node: NodeId,
    role: RoleRef,
}

impl Engine {
    #[allow(clippy::too_many_arguments)]
    pub(super) fn plan_grant(
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
        self.require_at(actor, node, "grant.manage", now)?;
        let compiled = self.role(a, role_ref);
        if compiled.single_holder {
            return Err(ManagementError::SingleHolderByTransferOnly { role: role.to_owned() });
        }
        self.require_manages_at(actor, node, role_ref, now)?;
        match subject {
            Subject::Principal(p) => {
                if Self::actor_is(actor, p) {
                    return Err(ManagementError::SelfGrant { role: role.to_owned() });
                }
                let member =
                    self.principal_lookup(p.as_str()).is_some_and(|&q| self.live_member_at_or_above(q, a, now));
                if self.hidden_from(actor, a, p) || (!member && !compiled.grantable_to_non_members) {
                    return Err(ManagementError::GranteeNotMember {
                        principal: p.clone(),
                        account: account.to_owned(),
                        role: role.to_owned(),
                    });
                }
            }
            Subject::Group(g) => {
                let (_, group) = self.group_id(account, g)?;
                if let Actor::Principal(me) = actor
                    && self.principal_lookup(me.as_str()).is_some_and(|p| self.groups[group].members.contains(p))
                {
                    return Err(ManagementError::SelfGrant { role: role.to_owned() });
                }
            }
        }
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
            expires_at: self.cap_to_standing(actor, node, expires_at, now),
        }])
    }

    pub(super) fn plan_revoke_grant(&self, actor: &Actor, account: &str, id: &str, now: i64) -> Result<Vec<Change>> {
        let unknown =
            || ManagementError::Change(ChangeError::UnknownGrant { account: account.to_owned(), id: id.to_owned() });
        let a = self.account_id(account)?;
        let &slot = self.grant_lookup(a, id).ok_or_else(unknown)?;
        let grant = &self.grants[slot];
        if let SubjectRef::Principal(p) = grant.subject
            && self.hidden_from(actor, a, &self.principals[p].id)
        {
            return Err(unknown());
        }
        self.require_at(actor, grant.node, "grant.manage", now)?;
        self.require_manages_at(actor, grant.node, grant.role, now)?;
        Ok(vec![Change::RemoveGrant { account: account.to_owned(), id: id.to_owned() }])
    }

    /// The roles a group's live grants carry.
    fn carried(&self, group: GroupId) -> Vec<Carried> {
        self.groups[group]
            .grants
            .iter()
            .map(|&slot| &self.grants[slot])
            .map(|g| Carried { node: g.node, role: g.role })
            .collect()
    }

    /// Refuses unless the actor manages every role the group carries, where it carries it.
    fn require_manages_carried(&self, actor: &Actor, carried: &[Carried], now: i64) -> Result<()> {
        for c in carried {
            self.require_at(actor, c.node, "grant.manage", now)?;
            self.require_manages_at(actor, c.node, c.role, now)?;
        }
        Ok(())
    }

    pub(super) fn plan_create_group(&self, actor: &Actor, account: &str, group: &str, now: i64) -> Result<Vec<Change>> {
        let a = self.account_id(account)?;
        self.require(actor, a, None, "group.manage", now)?;
        Ok(vec![Change::AddGroup { account: account.to_owned(), group: group.to_owned() }])
    }

    /// Deleting a group takes every role it carries from every member. It needs
    /// `group.delete` where the pack defines it (the mods seed gives Managers groups'
    /// View and Edit, and Delete only to Admins), else `group.manage`.
    pub(super) fn plan_delete_group(&self, actor: &Actor, account: &str, group: &str, now: i64) -> Result<Vec<Change>> {
        let a = self.account_id(account)?;
        let permission =
            if self.account_pack_of(a).permission("group.delete").is_some() { "group.delete" } else { "group.manage" };
        self.require(actor, a, None, permission, now)?;
        let (_, g) = self.group_id(account, group)?;
        self.require_manages_carried(actor, &self.carried(g), now)?;
        Ok(vec![Change::RemoveGroup { account: account.to_owned(), group: group.to_owned() }])
    }

    /// Adding or removing a group member hands out or takes away every role the group
    /// carries: the actor needs `group.manage`, and must manage each carried role where it
    /// is carried; nobody changes their own place in a group that carries roles; a new
    /// member must be a live member of the account (unless the pack opens roles to non-members
    /// and every carried role is one of them); protected members are out of reach.
    pub(super) fn plan_group_member(
        &self,
        actor: &Actor,
        account: &str,
        group: &str,
        principal: &str,
        add: bool,
        now: i64,
    ) -> Result<Vec<Change>> {
        let a = self.account_id(account)?;
        self.require(actor, a, None, "group.manage", now)?;
        let (_, g) = self.group_id(account, group)?;
        let carried = self.carried(g);
        let not_a_member = || ManagementError::GroupMemberNotMember {
            principal: principal.to_owned(),
            account: account.to_owned(),
            group: group.to_owned(),
        };
        if self.hidden_from(actor, a, principal) {
            return Err(if add {
                not_a_member()
            } else {
                ManagementError::Change(ChangeError::UnknownGroupMember {
                    account: account.to_owned(),
                    group: group.to_owned(),
                    principal: principal.to_owned(),
                })
            });
        }
        if Self::actor_is(actor, principal) && !carried.is_empty() {
            return Err(ManagementError::OwnGroupMembership { group: group.to_owned() });
        }
        if add {
            // A non-member joins only where the pack lets roles go to non-members and every
            // role the group carries is such a role. A non-member would get nothing from a
            // members-only role (see `visit_roles`), but joining is refused outright rather
            // than left inert.
            let pack_opens = self.account_pack_of(a).roles().iter().any(|r| r.grantable_to_non_members);
            let open = pack_opens
                && carried.iter().all(|c| self.role(self.nodes[c.node].account, c.role).grantable_to_non_members);
            let member = self.principal_lookup(principal).is_some_and(|&p| self.live_member_at_or_above(p, a, now));
            if !member && !open {
                return Err(not_a_member());
            }
        }
        self.require_manages_carried(actor, &carried, now)?;
        let (account, group, principal) = (account.to_owned(), group.to_owned(), principal.to_owned());
        Ok(vec![if add {
            Change::AddGroupMember { account, group, principal }
        } else {
            Change::RemoveGroupMember { account, group, principal }
        }])
    }
}
