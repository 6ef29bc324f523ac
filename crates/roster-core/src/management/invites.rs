//! Invites, checked when made and when revoked: may the actor do what the invite will do
//! (add a member with the role, or grant the role on the resource) for someone not yet
//! known? Checked again, as the inviter, when it is accepted. No stand-in principal or
//! grant id is used, so no id anyone can take changes the answer.

use super::{Actor, ManagementError, Result};
use crate::engine::{ChangeError, Engine};

impl Engine {
    pub(super) fn plan_invite(
        &self,
        actor: &Actor,
        account: &str,
        role: Option<&str>,
        resource: Option<&str>,
        now: i64,
    ) -> Result<()> {
        let a = self.account_id(account)?;
        match resource {
            None => {
                self.require(actor, a, None, "member.invite", now)?;
                let role_ref = self.joining_role(a, role)?;
                let compiled = self.role(a, role_ref);
                if compiled.single_holder {
                    return Err(ManagementError::SingleHolderByTransferOnly { role: compiled.id.clone() });
                }
                self.require_manages(actor, a, None, role_ref, now)
            }
            Some(resource) => {
                let node = self.scope_node(a, Some(resource))?;
                let role = role.ok_or(ManagementError::InviteNeedsRole)?;
                let role_ref = self.grantable_role(a, role, node)?;
                self.require_at(actor, node, "grant.manage", now)?;
                if self.role(a, role_ref).single_holder {
                    return Err(ManagementError::SingleHolderByTransferOnly { role: role.to_owned() });
                }
                self.require_manages_at(actor, node, role_ref, now)
            }
        }
    }

    /// Revoking an invite needs the standing that making it needs, judged now. An invite
    /// whose role or resource is gone can no longer be accepted; revoking it then needs
    /// `member.invite` on the account.
    pub(super) fn plan_revoke_invite(
        &self,
        actor: &Actor,
        account: &str,
        role: Option<&str>,
        resource: Option<&str>,
        now: i64,
    ) -> Result<()> {
        match self.plan_invite(actor, account, role, resource, now) {
            Err(ManagementError::Change(ChangeError::UnknownRole { .. } | ChangeError::UnknownResource { .. })) => {
                let a = self.account_id(account)?;
                self.require(actor, a, None, "member.invite", now)
            }
            other => other,
        }
    }
}
