//! Questions about a resource Roster does not store (AuthZEN sends resources inline): it is
//! decided as a resource of its type under a stored parent (a resource, or the account),
//! owned by the principal the caller names, with the same rules as a stored one.

use super::query::Question;
use super::{Engine, NodeId, QueryError};
use crate::decision::{Decision, Explanation};
use crate::pack::TypeIdx;

/// A resource named in a question but not stored.
#[derive(Clone, Copy, Debug)]
pub struct Transient<'a> {
    /// Its type, a non-account type of the account's pack.
    pub ty: &'a str,
    /// Its id (for explanations only).
    pub id: &'a str,
    /// The stored resource it sits under (`type:id`); `None` for the account.
    pub parent: Option<&'a str>,
    /// The principal id of its owner, if it has one.
    pub owner: Option<&'a str>,
}

/// A transient resource placed in the account's tree.
struct Placed {
    /// The parent node and its ancestors.
    chain: [NodeId; super::MAX_DEPTH],
    len: usize,
    perm: crate::pack::PermIdx,
}

impl Engine {
    /// Places `resource` under its parent: the type must exist, must not be an account
    /// type, and must sit below the parent's type in the pack's type tree.
    fn place(
        &self,
        account: &str,
        permission: Option<&str>,
        resource: &Transient<'_>,
    ) -> Result<(Placed, TypeIdx), QueryError> {
        let (a, parent, perm) = self.resolve(account, permission, resource.parent)?;
        let pack = self.account_pack_of(a);
        let unknown = || QueryError::UnknownResourceType { pack: pack.id().to_owned(), ty: resource.ty.to_owned() };
        let ty = pack.resource_type(resource.ty).ok_or_else(unknown)?;
        if pack.types()[usize::from(ty)].account {
            return Err(QueryError::TransientAccount { ty: resource.ty.to_owned() });
        }
        let parent_ty = self.nodes[parent].ty;
        if ty == parent_ty || !pack.type_within(ty, parent_ty) {
            return Err(QueryError::MisplacedResource {
                ty: resource.ty.to_owned(),
                parent: self.node_name(parent).to_owned(),
            });
        }
        let (chain, len) = self.chain_of(parent);
        Ok((Placed { chain, len, perm }, ty))
    }

    /// Whether `principal` owns the transient resource with an ownership that counts (the
    /// same standing a stored resource's owner needs).
    fn owns_transient(
        &self,
        p: super::PrincipalId,
        resource: &Transient<'_>,
        placed: &Placed,
        ty: TypeIdx,
        now: i64,
    ) -> bool {
        let owner = resource.owner.and_then(|o| self.principal_lookup(o));
        let parent = placed.chain[0];
        owner == Some(&p) && self.owner_standing(p, self.nodes[parent].account, ty, Some(parent), now)
    }

    /// May `principal` do `permission` on a resource Roster does not store?
    pub fn check_transient(
        &self,
        account: &str,
        principal: &str,
        permission: &str,
        resource: &Transient<'_>,
        now: i64,
    ) -> Result<Decision, QueryError> {
        let (placed, ty) = self.place(account, Some(permission), resource)?;
        let Some(&p) = self.principal_lookup(principal) else { return Ok(Decision::DENIED) };
        let chain = &placed.chain[..placed.len];
        if let Some(decision) = self.decide_by_membership_alone(p, chain[0], placed.perm, now) {
            return Ok(decision);
        }
        let owns = self.owns_transient(p, resource, &placed, ty, now);
        Ok(self.decide_on(p, chain, placed.perm, owns, now))
    }

    /// [`Engine::check_transient`] with every reason spelled out.
    pub fn explain_transient(
        &self,
        account: &str,
        principal: &str,
        permission: &str,
        resource: &Transient<'_>,
        now: i64,
    ) -> Result<Explanation, QueryError> {
        let (placed, ty) = self.place(account, Some(permission), resource)?;
        let owns =
            self.principal_lookup(principal).is_some_and(|&p| self.owns_transient(p, resource, &placed, ty, now));
        let target = format!("{}:{}", resource.ty, resource.id);
        let question = Question { account, principal, permission, perm: placed.perm, target: &target };
        Ok(self.explain_on(&question, &placed.chain[..placed.len], owns, now))
    }

    /// Every permission `principal` holds on a resource Roster does not store, in pack order.
    pub fn transient_permissions(
        &self,
        account: &str,
        principal: &str,
        resource: &Transient<'_>,
        now: i64,
    ) -> Result<Vec<String>, QueryError> {
        let (placed, ty) = self.place(account, None, resource)?;
        let Some(&p) = self.principal_lookup(principal) else { return Ok(Vec::new()) };
        let owns = self.owns_transient(p, resource, &placed, ty, now);
        let (held, _) = self.permissions_on_chain(p, &placed.chain[..placed.len], owns, now);
        let ids = self.account_pack_of(self.nodes[placed.chain[0]].account).permission_ids();
        Ok(held.iter().map(|i| ids[i].clone()).collect())
    }

    /// Ids of the principals for whom `permission` holds on a resource Roster does not
    /// store, sorted: everyone a role reaches its parent through, and its owner.
    pub fn transient_subjects(
        &self,
        account: &str,
        permission: &str,
        resource: &Transient<'_>,
        now: i64,
    ) -> Result<Vec<String>, QueryError> {
        let (placed, ty) = self.place(account, Some(permission), resource)?;
        let chain = &placed.chain[..placed.len];
        let mut candidates = self.subject_candidates(chain);
        candidates.extend(resource.owner.and_then(|o| self.principal_lookup(o)).copied());
        let mut found: Vec<String> = candidates
            .into_iter()
            .filter(|&p| {
                let owns = self.owns_transient(p, resource, &placed, ty, now);
                match self.decide_by_membership_alone(p, chain[0], placed.perm, now) {
                    Some(decision) => decision.allowed,
                    None => self.decide_on(p, chain, placed.perm, owns, now).allowed,
                }
            })
            .map(|p| self.principals[p].id.to_string())
            .collect();
        found.sort();
        Ok(found)
    }
}
