//! Accounts and resources: creating a child account (`account.create` on the parent) or
//! a top-level one (the platform), creating and deleting resources (`<type>.create` on
//! the parent, `<type>.delete` on the resource).

use super::members::owner_role_for;
use super::{Actor, ManagementError, Result};
use crate::engine::{Change, ChangeError, Engine, MembershipStatus};

impl Engine {
    pub(super) fn plan_create_account(
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
            // `.` separates a child's label from its parent's id, so a top-level id has
            // none: no child id anyone creates can be one the platform will want.
            None if id.contains('.') => return Err(ManagementError::TopLevelIdWithDot { id: id.to_owned() }),
            None => {}
            Some(parent) => {
                let pa = self.account_id(parent)?;
                self.require(actor, pa, None, "account.create", now)?;
                // Account ids are global; a principal names a child account inside its
                // parent's name space, so it can neither squat an id the platform will
                // want nor learn from a clash which ids other tenants use.
                // The label is one level: `ag.c1.x` is `ag.c1`'s to create, not `ag`'s.
                let label = id.strip_prefix(parent).and_then(|rest| rest.strip_prefix('.'));
                let one_level = label.is_some_and(|label| !label.is_empty() && !label.contains('.'));
                if matches!(actor, Actor::Principal(_)) && !one_level {
                    return Err(ManagementError::ChildIdOutsideParent { id: id.to_owned(), parent: parent.to_owned() });
                }
            }
        }
        let (pack_index, ty) = self.resolve_new_account(id, pack, parent)?;
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

    /// Creates a resource. A principal creates it as its own owner and may name nobody
    /// else: an owner named by someone else would hold access no grant shows.
    pub(super) fn plan_create_resource(
        &self,
        actor: &Actor,
        account: &str,
        resource: &str,
        parent: Option<&str>,
        owner: Option<&str>,
        now: i64,
    ) -> Result<Vec<Change>> {
        let a = self.account_id(account)?;
        self.require(actor, a, parent, &format!("{}.create", resource_type(resource)?), now)?;
        let owner = match (actor, owner) {
            (Actor::Principal(me), Some(other)) if other != me => {
                return Err(ManagementError::OwnerNotSelf { actor: me.clone(), owner: other.to_owned() });
            }
            (Actor::Principal(me), _) => Some(me.clone()),
            (Actor::Service, owner) => owner.map(str::to_owned),
        };
        Ok(vec![Change::AddResource {
            account: account.to_owned(),
            resource: resource.to_owned(),
            parent: parent.map(str::to_owned),
            owner,
        }])
    }

    pub(super) fn plan_delete_resource(
        &self,
        actor: &Actor,
        account: &str,
        resource: &str,
        now: i64,
    ) -> Result<Vec<Change>> {
        let a = self.account_id(account)?;
        self.require(actor, a, Some(resource), &format!("{}.delete", resource_type(resource)?), now)?;
        Ok(vec![Change::RemoveResource { account: account.to_owned(), resource: resource.to_owned() }])
    }
}

/// The type part of `type:id`.
fn resource_type(resource: &str) -> Result<&str> {
    crate::ids::split_resource(resource)
        .map(|(ty, _)| ty)
        .ok_or_else(|| ChangeError::BadResourceName(resource.to_owned()).into())
}
