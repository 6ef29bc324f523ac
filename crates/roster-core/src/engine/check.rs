//! Checking a [`Change`] against the state without applying it. `apply` runs this first,
//! and the management planner runs it on every change it proposes, so a change the daemon
//! commits to its database always applies to the engine too.

use super::apply::{ChangeError, check_id};
use super::{AccountId, Change, Engine, NodeId, RoleRef, Subject};
use crate::ids::split_resource;
use crate::pack::TypeIdx;

type Result<T> = std::result::Result<T, ChangeError>;

impl Engine {
    /// Whether `change` would apply to the current state; the error it would fail with.
    pub fn check_change(&self, change: &Change) -> Result<()> {
        match change {
            Change::CreateAccount { id, pack, parent } => {
                self.resolve_new_account(id, pack, parent.as_deref()).map(drop)
            }
            Change::PutMembership { account, principal, role, .. } => {
                let a = self.account_id(account)?;
                check_id("principal", principal)?;
                self.grantable_role(a, role, self.accounts[a].node).map(drop)
            }
            Change::RemoveMembership { account, principal } => {
                let a = self.account_id(account)?;
                let member =
                    self.principal_lookup(principal.as_str()).is_some_and(|p| self.accounts[a].members.contains(p));
                if member {
                    Ok(())
                } else {
                    Err(ChangeError::UnknownMember { account: account.clone(), principal: principal.clone() })
                }
            }
            Change::AddResource { account, resource, parent, owner } => {
                self.resolve_new_resource(account, resource, parent.as_deref(), owner.as_deref()).map(drop)
            }
            Change::RemoveResource { account, resource } => {
                let a = self.account_id(account)?;
                if self.resource_node(a, resource).is_some() {
                    Ok(())
                } else {
                    Err(ChangeError::UnknownResource { account: account.clone(), resource: resource.clone() })
                }
            }
            Change::AddGrant { id, account, subject, resource, role, .. } => {
                self.resolve_new_grant(id, account, subject, resource.as_deref(), role).map(drop)
            }
            Change::RemoveGrant { account, id } => {
                let a = self.account_id(account)?;
                if self.grant_lookup(a, id).is_some() {
                    Ok(())
                } else {
                    Err(ChangeError::UnknownGrant { account: account.clone(), id: id.clone() })
                }
            }
            Change::AddGroup { account, group } => {
                let a = self.account_id(account)?;
                check_id("group", group)?;
                if self.accounts[a].groups.contains_key(group.as_str()) {
                    return Err(ChangeError::GroupExists { account: account.clone(), group: group.clone() });
                }
                Ok(())
            }
            Change::RemoveGroup { account, group } => self.group_id(account, group).map(drop),
            Change::AddGroupMember { account, group, principal } => {
                self.group_id(account, group)?;
                check_id("principal", principal)
            }
            Change::RemoveGroupMember { account, group, principal } => {
                let (_, g) = self.group_id(account, group)?;
                let member =
                    self.principal_lookup(principal.as_str()).is_some_and(|p| self.groups[g].members.contains(p));
                if member {
                    Ok(())
                } else {
                    Err(ChangeError::UnknownMember {
                        account: format!("{account}/group:{group}"),
                        principal: principal.clone(),
                    })
                }
            }
            Change::DefineRole { account, role } => {
                let a = self.account_id(account)?;
                self.compile_custom_role(a, role)?;
                let acc = &self.accounts[a];
                if acc.free_custom_slots.is_empty() && acc.custom_roles.len() > usize::from(u16::MAX) {
                    return Err(ChangeError::InvalidCustomRole {
                        role: role.id.clone(),
                        reason: "the account has 65,536 custom roles; delete one first".into(),
                    });
                }
                Ok(())
            }
            Change::RemoveRole { account, role } => {
                let a = self.account_id(account)?;
                let Some(&index) = self.accounts[a].custom_index.get(role.as_str()) else {
                    return Err(ChangeError::UnknownRole { account: account.clone(), role: role.clone() });
                };
                let held = RoleRef::Custom(index);
                let in_members = self.account_members(a).any(|(_, m)| m.role == held);
                let in_grants = self.accounts[a].grants.iter().any(|&slot| self.grants[slot].role == held);
                if in_members || in_grants { Err(ChangeError::RoleInUse(role.clone())) } else { Ok(()) }
            }
        }
    }

    /// Pack index, parent account and type of a new account.
    pub(crate) fn resolve_new_account(
        &self,
        id: &str,
        pack: &str,
        parent: Option<&str>,
    ) -> Result<(usize, Option<AccountId>, TypeIdx)> {
        check_id("account", id)?;
        if self.account_index.contains_key(id) {
            return Err(ChangeError::AccountExists(id.to_owned()));
        }
        match parent {
            None => {
                let &p = self.pack_index.get(pack).ok_or_else(|| ChangeError::UnknownPack(pack.to_owned()))?;
                Ok((p, None, self.packs[p].root_type()))
            }
            Some(parent) => {
                let pa = self.account_id(parent)?;
                let p = self.accounts[pa].pack;
                if self.packs[p].id() != pack {
                    return Err(ChangeError::ChildPackMismatch {
                        pack: pack.to_owned(),
                        parent_pack: self.packs[p].id().to_owned(),
                    });
                }
                // One limit for the whole tree: accounts and resources share the chain a
                // decision walks, so a child account may not push it past `MAX_DEPTH`.
                let mut chain = [super::NO_NODE; super::MAX_DEPTH];
                if self.chain(self.accounts[pa].node, &mut chain) >= super::MAX_DEPTH {
                    return Err(ChangeError::AccountTooDeep(id.to_owned()));
                }
                let parent_ty = self.nodes[self.accounts[pa].node].ty;
                let ty = self.packs[p]
                    .types()
                    .iter()
                    .position(|t| t.account && t.parent == Some(parent_ty))
                    .and_then(|t| TypeIdx::try_from(t).ok())
                    .ok_or_else(|| ChangeError::NoChildAccountType {
                        pack: pack.to_owned(),
                        parent_type: self.packs[p].types()[usize::from(parent_ty)].name.clone(),
                    })?;
                Ok((p, Some(pa), ty))
            }
        }
    }

    /// Account, type and parent node of a new resource.
    pub(crate) fn resolve_new_resource(
        &self,
        account: &str,
        resource: &str,
        parent: Option<&str>,
        owner: Option<&str>,
    ) -> Result<(AccountId, TypeIdx, NodeId)> {
        let a = self.account_id(account)?;
        let (ty_name, id) =
            split_resource(resource).ok_or_else(|| ChangeError::BadResourceName(resource.to_owned()))?;
        check_id("resource", id)?;
        let pack = self.account_pack_of(a);
        let ty = pack
            .resource_type(ty_name)
            .filter(|&t| !pack.types()[usize::from(t)].account)
            .ok_or_else(|| ChangeError::UnknownResourceType { pack: pack.id().to_owned(), ty: ty_name.to_owned() })?;
        if self.resource_node(a, resource).is_some() {
            return Err(ChangeError::ResourceExists { account: account.to_owned(), resource: resource.to_owned() });
        }
        let parent_node = self.node_of(a, parent).ok_or_else(|| ChangeError::UnknownResource {
            account: account.to_owned(),
            resource: parent.unwrap_or_default().to_owned(),
        })?;
        let parent_ty = self.nodes[parent_node].ty;
        let expected = pack.types()[usize::from(ty)].parent;
        if expected != Some(parent_ty) {
            let name = |t: Option<TypeIdx>| t.map(|t| pack.types()[usize::from(t)].name.clone()).unwrap_or_default();
            return Err(ChangeError::WrongParentType {
                ty: ty_name.to_owned(),
                expected: name(expected),
                found: name(Some(parent_ty)),
            });
        }
        let mut chain = [super::NO_NODE; super::MAX_DEPTH];
        if self.chain(parent_node, &mut chain) >= super::MAX_DEPTH {
            return Err(ChangeError::TooDeep(resource.to_owned()));
        }
        if let Some(owner) = owner {
            check_id("owner", owner)?;
        }
        Ok((a, ty, parent_node))
    }

    /// Account, node and role of a new grant (the subject is checked, not interned).
    pub(crate) fn resolve_new_grant(
        &self,
        id: &str,
        account: &str,
        subject: &Subject,
        resource: Option<&str>,
        role: &str,
    ) -> Result<(AccountId, NodeId, RoleRef)> {
        check_id("grant", id)?;
        let a = self.account_id(account)?;
        if self.grant_lookup(a, id).is_some() {
            return Err(ChangeError::GrantExists { account: account.to_owned(), id: id.to_owned() });
        }
        let node = self.node_of(a, resource).ok_or_else(|| ChangeError::UnknownResource {
            account: account.to_owned(),
            resource: resource.unwrap_or_default().to_owned(),
        })?;
        let role_ref = self.grantable_role(a, role, node)?;
        if self.role(a, role_ref).single_holder {
            return Err(ChangeError::SingleHolderNotGrantable(role.to_owned()));
        }
        let role = role_ref;
        match subject {
            Subject::Principal(p) => check_id("principal", p)?,
            Subject::Group(g) => {
                self.group_id(account, g)?;
            }
        }
        Ok((a, node, role))
    }
}
