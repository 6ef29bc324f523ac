//! Who may see what. A protected member (the staff pack's Super Admin) is invisible and
//! untouchable to everyone but themselves and the platform: to anyone else they look
//! exactly like a principal who is not a member (same refusals, same texts). An account a
//! principal holds nothing in does not exist for them, and a resource is read only with
//! its type's `.view` permission.

use super::{Actor, ManagementError, Result};
use crate::engine::{AccountId, Engine, Membership};

impl Engine {
    /// Whether `principal` holds a protected role in `account` (or an account above it)
    /// and `actor` is another principal, so the membership must stay out of sight.
    pub(super) fn hidden_from(&self, actor: &Actor, account: AccountId, principal: &str) -> bool {
        if !matches!(actor, Actor::Principal(id) if id != principal) {
            return false;
        }
        let Some(&p) = self.principal_lookup(principal) else { return false };
        let mut current = Some(account);
        while let Some(a) = current {
            if self.membership_of(p, a).is_some_and(|m| self.role(a, m.role).protected) {
                return true;
            }
            current = self.accounts[a].parent;
        }
        false
    }

    /// The membership of `principal` in `account` as `actor` may see it: a protected
    /// member the actor may not see is reported exactly like a non-member.
    pub(super) fn visible_member(&self, actor: &Actor, account: AccountId, principal: &str) -> Result<Membership> {
        let not_a_member = || ManagementError::NotAMember {
            account: self.accounts[account].id.clone(),
            principal: principal.to_owned(),
        };
        if self.hidden_from(actor, account, principal) {
            return Err(not_a_member());
        }
        self.principal_lookup(principal).and_then(|&p| self.membership_of(p, account)).copied().ok_or_else(not_a_member)
    }

    /// Whether `actor` may see `principal`'s membership (protected members are invisible).
    pub fn member_visible_to(&self, actor: &Actor, account: &str, principal: &str) -> bool {
        let Ok(a) = self.account_id(account) else { return false };
        self.visible_member(actor, a, principal).is_ok()
    }

    /// Whether `principal` is hidden from `actor` in `account` (a protected member seen by
    /// someone else): read paths leave such principals out of every answer.
    pub fn is_hidden_from(&self, actor: &Actor, account: &str, principal: &str) -> bool {
        self.account_id(account).is_ok_and(|a| self.hidden_from(actor, a, principal))
    }
}

impl Engine {
    /// Whether `actor` may learn anything about `account`: the platform always; a principal
    /// only while they hold something there (a live membership there or above, or a grant
    /// that counts). Everyone else must get the answer a nonexistent account gets.
    pub fn may_read_account(&self, actor: &Actor, account: &str, now: i64) -> bool {
        match actor {
            Actor::Service => self.has_account(account),
            Actor::Principal(id) => self.reaches_account(account, id, now),
        }
    }

    /// Whether `actor` may read `resource` of `account` (its owner, its children): the
    /// platform always; a principal with the pack's `<type>.view` on it.
    pub fn may_view_resource(&self, actor: &Actor, account: &str, resource: &str, now: i64) -> bool {
        let Ok(a) = self.account_id(account) else { return false };
        let Some(node) = self.resource_node(a, resource) else { return false };
        let Actor::Principal(id) = actor else { return true };
        let pack = self.account_pack_of(a);
        let ty = &pack.types()[usize::from(self.nodes[node].ty)].name;
        let (Some(view), Some(&p)) = (pack.permission(&format!("{ty}.view")), self.principal_lookup(id)) else {
            return false;
        };
        self.decide(p, node, view, now).allowed
    }
}
