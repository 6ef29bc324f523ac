//! Who may see what. A protected member (the staff pack's Super Admin) is invisible and
//! untouchable to everyone but themselves and the platform: to anyone else they look
//! exactly like a principal who is not a member (same refusals, same texts). An account a
//! principal holds nothing in does not exist for them, and a resource is read only with
//! its type's `.view` permission.

use super::{Actor, ManagementError, Operation, Result};
use crate::engine::{
    AccountId, ChangeError, Engine, GrantView, GroupView, Membership, MembershipStatus, MembershipView, Page,
    PageRequest,
};
use crate::ids::ACCOUNT_RESOURCE;

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

impl Engine {
    /// Refuses unless `actor` may read `account` and, when given, holds `permission` there
    /// (on `resource`). An account the principal holds nothing in is refused exactly like
    /// a missing one; so is a resource they may not view.
    pub fn require_read(
        &self,
        actor: &Actor,
        account: &str,
        resource: Option<&str>,
        permission: Option<&str>,
        now: i64,
    ) -> Result<()> {
        if !self.may_read_account(actor, account, now) {
            return Err(ChangeError::UnknownAccount(account.to_owned()).into());
        }
        let Some(permission) = permission else { return Ok(()) };
        let a = self.account_id(account)?;
        self.require(actor, a, resource, permission, now).map_err(|error| {
            let named = resource.map(|r| (account, r));
            self.disguised(actor, Some(account).into_iter().collect(), named, error, now)
        })
    }

    /// Refuses unless `actor` may ask a decision question (check, effective permissions,
    /// lookups) in `account`, about `principal` when given, on `resource` when given: a
    /// principal asks only about themselves, only in an account they hold something in,
    /// only about a resource they may view. The last two refusals are exactly those a
    /// missing account or resource gets.
    pub fn may_ask(
        &self,
        actor: &Actor,
        account: &str,
        principal: Option<&str>,
        resource: Option<&str>,
        now: i64,
    ) -> Result<()> {
        let Actor::Principal(me) = actor else { return Ok(()) };
        if let Some(principal) = principal
            && principal != me
        {
            return Err(ManagementError::OthersPermissions { actor: me.clone(), principal: principal.to_owned() });
        }
        match self.out_of_sight(actor, vec![account], resource.map(|r| (account, r)), now) {
            Some(refusal) => Err(refusal),
            None => Ok(()),
        }
    }

    /// A page of the memberships of `account` with `status` that `actor` may see: members
    /// hidden from the actor (a protected member) are left out, and the page stays full.
    pub fn members_page_for(
        &self,
        actor: &Actor,
        account: &str,
        status: MembershipStatus,
        request: PageRequest<'_>,
    ) -> Page<MembershipView> {
        self.memberships_page(account, status, request, |p| self.member_visible_to(actor, account, p))
    }

    /// A page of the grants of `account` (optionally on one resource, or of one subject)
    /// `actor` may see: all of them for the platform and for holders of `member.view`,
    /// otherwise only the actor's own; never one held by a member hidden from the actor.
    pub fn grants_page_for(
        &self,
        actor: &Actor,
        account: &str,
        filter: (Option<&str>, Option<&str>),
        request: PageRequest<'_>,
        now: i64,
    ) -> Page<GrantView> {
        let (resource, subject) = filter;
        let sees_all = self.require_read(actor, account, None, Some("member.view"), now).is_ok();
        let own = match actor {
            Actor::Principal(me) => Some(format!("principal:{me}")),
            Actor::Service => None,
        };
        self.grants_page(account, request, |g| {
            resource.is_none_or(|r| g.resource == r)
                && subject.is_none_or(|s| g.subject == s)
                && (sees_all || own.as_deref() == Some(g.subject.as_str()))
                && g.subject.strip_prefix("principal:").is_none_or(|p| !self.is_hidden_from(actor, account, p))
        })
    }

    /// A page of the groups of `account` as `actor` may see them: members hidden from the
    /// actor (a protected member) are left out.
    pub fn groups_page_for(&self, actor: &Actor, account: &str, request: PageRequest<'_>) -> Page<GroupView> {
        self.groups_page(account, request).map(|mut group| {
            group.members.retain(|p| !self.is_hidden_from(actor, account, p));
            group
        })
    }

    /// The memberships of `principal` that `actor` may see: all for the platform; for a
    /// principal, their own, and others' where they hold `member.view` and the member is
    /// not hidden from them.
    pub fn memberships_visible_to(&self, actor: &Actor, principal: &str, now: i64) -> Vec<(String, MembershipView)> {
        self.principal_memberships(principal)
            .into_iter()
            .filter(|(account, _)| match actor {
                Actor::Service => true,
                Actor::Principal(me) => {
                    let may_view =
                        me == principal || self.require_read(actor, account, None, Some("member.view"), now).is_ok();
                    may_view && self.member_visible_to(actor, account, principal)
                }
            })
            .collect()
    }

    /// A refusal as a principal may see it. Whatever the rule that refused, a principal
    /// learns nothing about an account they hold nothing in, nor about a resource they may
    /// not view: the refusal becomes exactly the one a nonexistent account or resource
    /// gets, so 403-versus-404 is no oracle for other tenants' ids. Only refusals are
    /// rewritten; what a principal may do is untouched.
    pub(super) fn as_seen_by(
        &self,
        actor: &Actor,
        operation: &Operation,
        error: ManagementError,
        now: i64,
    ) -> ManagementError {
        if !matches!(actor, Actor::Principal(_)) {
            return error;
        }
        let (accounts, resource) = named_scope(operation);
        self.disguised(actor, accounts, resource, error, now)
    }

    fn disguised(
        &self,
        actor: &Actor,
        accounts: Vec<&str>,
        resource: Option<(&str, &str)>,
        error: ManagementError,
        now: i64,
    ) -> ManagementError {
        self.out_of_sight(actor, accounts, resource, now).unwrap_or(error)
    }

    /// The refusal a missing account or resource gets, when a named account is one the
    /// principal may not read (or is missing) or the named resource one they may not view
    /// (or is missing). A missing account and an unreadable one give the same refusal, and
    /// the first named one decides, whatever rule a plan tripped on first (a move names
    /// two accounts: which one failed must not tell which one exists).
    fn out_of_sight(
        &self,
        actor: &Actor,
        accounts: Vec<&str>,
        resource: Option<(&str, &str)>,
        now: i64,
    ) -> Option<ManagementError> {
        if !matches!(actor, Actor::Principal(_)) {
            return None;
        }
        if let Some(account) = accounts.into_iter().find(|a| !self.may_read_account(actor, a, now)) {
            return Some(ChangeError::UnknownAccount(account.to_owned()).into());
        }
        let (account, resource) = resource.filter(|(_, r)| *r != ACCOUNT_RESOURCE)?;
        (!self.may_view_resource(actor, account, resource, now))
            .then(|| ChangeError::UnknownResource { account: account.to_owned(), resource: resource.to_owned() }.into())
    }
}

/// The accounts an operation names, and the resource it names (with its account).
fn named_scope(operation: &Operation) -> (Vec<&str>, Option<(&str, &str)>) {
    use Operation as Op;
    match operation {
        Op::CreateAccount { parent, .. } => (parent.as_deref().into_iter().collect(), None),
        Op::MoveMember { from, to, .. } => (vec![from.as_str(), to.as_str()], None),
        Op::Grant { account, resource, .. }
        | Op::Invite { account, resource, .. }
        | Op::RevokeInvite { account, resource, .. } => {
            (vec![account.as_str()], resource.as_deref().map(|r| (account.as_str(), r)))
        }
        Op::CreateResource { account, parent, .. } => {
            (vec![account.as_str()], parent.as_deref().map(|r| (account.as_str(), r)))
        }
        Op::DeleteResource { account, resource } => {
            (vec![account.as_str()], Some((account.as_str(), resource.as_str())))
        }
        Op::AddMember { account, .. }
        | Op::ChangeRole { account, .. }
        | Op::RemoveMember { account, .. }
        | Op::RestoreMember { account, .. }
        | Op::PurgeMember { account, .. }
        | Op::RevokeGrant { account, .. }
        | Op::TransferOwnership { account, .. }
        | Op::DefineRole { account, .. }
        | Op::RemoveRole { account, .. }
        | Op::CreateGroup { account, .. }
        | Op::DeleteGroup { account, .. }
        | Op::AddGroupMember { account, .. }
        | Op::RemoveGroupMember { account, .. }
        | Op::ViewMember { account, .. }
        | Op::Masquerade { account, .. } => (vec![account.as_str()], None),
    }
}
