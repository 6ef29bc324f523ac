//! Decisions and lookups over the compiled state. `check` is the hot path: interned
//! lookups, a stack-allocated ancestor chain, bitset tests, no allocation.

use std::ops::ControlFlow;

use rustc_hash::FxHashSet;
use serde::Serialize;

use super::{AccountId, Engine, GrantSlot, MAX_DEPTH, NO_NODE, NodeId, PrincipalId, RoleRef, SubjectRef};
use crate::decision::{Basis, Decision, Explanation, RoleUse, Source, Via};
use crate::manifest::Condition;
use crate::pack::{Holding, PermIdx};
use crate::permset::PermSet;

/// Why a question cannot be answered.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    /// No such account.
    #[error("account `{0}` does not exist")]
    UnknownAccount(String),
    /// The permission is not in the account's pack.
    #[error("permission `{permission}` is not a permission of pack `{pack}`")]
    UnknownPermission {
        /// Pack id.
        pack: String,
        /// Permission id.
        permission: String,
    },
    /// No such resource.
    #[error("resource `{resource}` does not exist in account `{account}`")]
    UnknownResource {
        /// Account id.
        account: String,
        /// Resource name.
        resource: String,
    },
    /// A resource Roster does not store cannot be an account.
    #[error("resource type `{ty}` is an account type: an account must exist to be asked about")]
    TransientAccount {
        /// Type name.
        ty: String,
    },
    /// A resource Roster does not store was placed under a parent its type cannot sit under.
    #[error("a resource of type `{ty}` cannot sit under `{parent}`")]
    MisplacedResource {
        /// Type name.
        ty: String,
        /// The parent's name.
        parent: String,
    },
    /// No such resource type.
    #[error("resource type `{ty}` is not a type of pack `{pack}`")]
    UnknownResourceType {
        /// Pack id.
        pack: String,
        /// Type name.
        ty: String,
    },
}

/// Everything a principal may do on one resource.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct EffectivePermissions {
    /// Permission ids, in pack order.
    pub permissions: Vec<String>,
    /// Ids of the roles that reach the resource, sorted.
    pub roles: Vec<String>,
}

type Chain = ([NodeId; MAX_DEPTH], usize);

/// One question as an explanation names it.
pub(crate) struct Question<'q> {
    pub(crate) account: &'q str,
    pub(crate) principal: &'q str,
    pub(crate) permission: &'q str,
    pub(crate) perm: PermIdx,
    /// The resource's display name.
    pub(crate) target: &'q str,
}

/// The accounts on a chain, nearest first, and for each whether the principal is a live
/// member of it or of an account above it: what decides whether a grant there counts.
/// On the stack, so the decision path stays allocation-free.
struct MemberStanding {
    accounts: [AccountId; MAX_DEPTH],
    /// A live membership (external or not) at this account or above.
    covered: [bool; MAX_DEPTH],
    /// Any membership at all (removed or lapsed included) at this account or above.
    recorded: [bool; MAX_DEPTH],
    len: usize,
}

impl MemberStanding {
    fn on(engine: &Engine, p: PrincipalId, chain: &[NodeId], now: i64) -> MemberStanding {
        let mut standing = MemberStanding {
            accounts: [AccountId::at(0); MAX_DEPTH],
            covered: [false; MAX_DEPTH],
            recorded: [false; MAX_DEPTH],
            len: 0,
        };
        for &node in chain {
            let n = &engine.nodes[node];
            if n.is_account && standing.len < MAX_DEPTH {
                standing.accounts[standing.len] = n.account;
                standing.len += 1;
            }
        }
        let (mut live, mut any) = (false, false);
        for k in (0..standing.len).rev() {
            let membership = engine.membership_of(p, standing.accounts[k]);
            live |= membership.is_some_and(|m| m.is_live(now));
            any |= membership.is_some();
            standing.covered[k] = live;
            standing.recorded[k] = any;
        }
        standing
    }

    fn accounts(&self) -> &[AccountId] {
        &self.accounts[..self.len]
    }

    /// Whether a grant in `account` (an account on the chain) counts: its holder is a live
    /// member there or above, or holds no membership there at all and the role may go to
    /// non-members. A removed or lapsed membership suspends every grant below it.
    fn grant_counts(&self, account: AccountId, open_to_non_members: impl FnOnce() -> bool) -> bool {
        match self.accounts().iter().position(|&a| a == account) {
            Some(k) => self.covered[k] || (!self.recorded[k] && open_to_non_members()),
            None => false,
        }
    }
}

impl Engine {
    pub(crate) fn resolve(
        &self,
        account: &str,
        permission: Option<&str>,
        resource: Option<&str>,
    ) -> Result<(AccountId, NodeId, PermIdx), QueryError> {
        let &a = self.account_index.get(account).ok_or_else(|| QueryError::UnknownAccount(account.to_owned()))?;
        let pack = self.account_pack_of(a);
        let perm = match permission {
            Some(permission) => pack.permission(permission).ok_or_else(|| QueryError::UnknownPermission {
                pack: pack.id().to_owned(),
                permission: permission.to_owned(),
            })?,
            None => 0,
        };
        let node = self.node_of(a, resource).ok_or_else(|| QueryError::UnknownResource {
            account: account.to_owned(),
            resource: resource.unwrap_or_default().to_owned(),
        })?;
        Ok((a, node, perm))
    }

    pub(crate) fn chain_of(&self, node: NodeId) -> Chain {
        let mut chain = [NO_NODE; MAX_DEPTH];
        let len = self.chain(node, &mut chain);
        (chain, len)
    }

    /// May `principal` do `permission` on `resource` (`None` = the account) at time `now`?
    pub fn check(
        &self,
        account: &str,
        principal: &str,
        permission: &str,
        resource: Option<&str>,
        now: i64,
    ) -> Result<Decision, QueryError> {
        let (_, node, perm) = self.resolve(account, Some(permission), resource)?;
        Ok(match self.principal_lookup(principal) {
            Some(&p) => self.decide(p, node, perm, now),
            None => Decision::DENIED,
        })
    }

    /// Visits every live role reaching the chain: memberships of the accounts on it, then
    /// direct grants, then group grants. A grant counts only while the principal is a live
    /// member (external members included) of the grant's account or one of its ancestors,
    /// or, for a role open to non-members, while they hold no membership there at all:
    /// removing, expiring or suspending a member takes their grants' effect with them.
    pub(crate) fn visit_roles<B>(
        &self,
        p: PrincipalId,
        chain: &[NodeId],
        now: i64,
        mut visit: impl FnMut(Source, AccountId, RoleRef) -> ControlFlow<B>,
    ) -> Option<B> {
        let principal = &self.principals[p];
        let standing = MemberStanding::on(self, p, chain, now);
        for &account in standing.accounts() {
            if let Some(m) = self.membership_of(p, account)
                && m.is_live(now)
                && !m.external
                && let ControlFlow::Break(b) = visit(Source::Membership(account), account, m.role)
            {
                return Some(b);
            }
        }
        let direct = principal.grants.iter().filter(|(_, node)| chain.contains(node)).map(|&(slot, _)| slot);
        let group_grants = self
            .groups_of(p)
            .iter()
            .flat_map(|&g| self.groups[g].grants.iter().copied())
            .filter(|&slot| chain.contains(&self.grants[slot].node));
        for slot in direct.chain(group_grants) {
            let grant = &self.grants[slot];
            let account = self.nodes[grant.node].account;
            if grant.is_live(now)
                && standing.grant_counts(account, || self.role(account, grant.role).grantable_to_non_members)
                && let ControlFlow::Break(b) = visit(Source::Grant(slot), account, grant.role)
            {
                return Some(b);
            }
        }
        None
    }

    /// The principal's grants: direct ones, then those of their groups.
    pub(crate) fn grant_slots_of(&self, p: PrincipalId) -> impl Iterator<Item = GrantSlot> + '_ {
        let principal = &self.principals[p];
        let group_grants = self.groups_of(p).iter().flat_map(|&g| self.groups[g].grants.iter().copied());
        principal.grants.iter().map(|&(slot, _)| slot).chain(group_grants)
    }

    /// Whether `p` owns a node of the chain with an ownership that still counts.
    pub(crate) fn owns(&self, p: PrincipalId, chain: &[NodeId], now: i64) -> bool {
        chain.iter().any(|&n| self.nodes[n].owner == Some(p) && self.ownership_counts(p, n, now))
    }

    /// Owning a resource counts only while its owner still holds the pack's
    /// `<type>.create` on the resource's parent (the standing that let them create it
    /// there), or, in a pack without that permission, while they are a live member of the
    /// resource's account or an account above it. Ownership outlives nothing it came from.
    fn ownership_counts(&self, p: PrincipalId, node: NodeId, now: i64) -> bool {
        let n = &self.nodes[node];
        self.owner_standing(p, n.account, n.ty, self.parent_of(node), now)
    }

    /// Whether owning a resource of type `ty` under `parent` in `account` counts for `p`
    /// (see [`Engine::ownership_counts`]); shared with resources Roster does not store.
    pub(crate) fn owner_standing(
        &self,
        p: PrincipalId,
        account: AccountId,
        ty: crate::pack::TypeIdx,
        parent: Option<NodeId>,
        now: i64,
    ) -> bool {
        let create = self.account_pack_of(account).types()[usize::from(ty)].create;
        match (parent, create) {
            (Some(parent), Some(create)) => self.decide(p, parent, create, now).allowed,
            _ => self.live_member_at_or_above(p, account, now),
        }
    }

    /// Whether one of `p`'s live grants counts under the membership rule of
    /// [`Engine::visit_roles`].
    pub(crate) fn visit_grant_counts(&self, p: PrincipalId, slot: GrantSlot, now: i64) -> bool {
        let grant = &self.grants[slot];
        let (chain, len) = self.chain_of(grant.node);
        let account = self.nodes[grant.node].account;
        MemberStanding::on(self, p, &chain[..len], now)
            .grant_counts(account, || self.role(account, grant.role).grantable_to_non_members)
    }

    /// Whether `p` holds a live membership (external or not) in `account` or an ancestor.
    pub(crate) fn live_member_at_or_above(&self, p: PrincipalId, account: AccountId, now: i64) -> bool {
        let mut current = Some(account);
        while let Some(a) = current {
            if self.membership_of(p, a).is_some_and(|m| m.is_live(now)) {
                return true;
            }
            current = self.accounts[a].parent;
        }
        false
    }

    /// Assignment is a live grant on a resource of the chain (direct or through a group),
    /// never one on an account: an account-level grant is a role, not an assignment.
    pub(crate) fn assigned(&self, p: PrincipalId, chain: &[NodeId], now: i64) -> bool {
        self.visit_roles(p, chain, now, |source, _, _| match source {
            Source::Grant(slot) if !self.nodes[self.grants[slot].node].is_account => ControlFlow::Break(()),
            _ => ControlFlow::Continue(()),
        })
        .is_some()
    }

    /// Whether `condition` holds for `p` on `chain`; `owns_leaf` when `p` owns a resource
    /// below the chain that Roster does not store (the one asked about).
    fn condition_met(&self, condition: Condition, p: PrincipalId, chain: &[NodeId], owns_leaf: bool, now: i64) -> bool {
        match condition {
            Condition::Owner => owns_leaf || self.owns(p, chain, now),
            Condition::Assigned => self.assigned(p, chain, now),
        }
    }

    /// The decision for interned ids.
    pub(crate) fn decide(&self, p: PrincipalId, node: NodeId, perm: PermIdx, now: i64) -> Decision {
        if let Some(decision) = self.decide_by_membership_alone(p, node, perm, now) {
            return decision;
        }
        let (chain, len) = self.chain_of(node);
        self.decide_on(p, &chain[..len], perm, false, now)
    }

    /// The full walk over `chain` (a node and its ancestors); `owns_leaf` when `p` owns a
    /// resource below the chain that Roster does not store (the one asked about).
    pub(crate) fn decide_on(
        &self,
        p: PrincipalId,
        chain: &[NodeId],
        perm: PermIdx,
        owns_leaf: bool,
        now: i64,
    ) -> Decision {
        let index = usize::from(perm);
        let mut conditional = false;
        let unconditional = self.visit_roles(p, chain, now, |source, account, role_ref| {
            let role = self.role(account, role_ref);
            if role.always.contains(index) {
                return ControlFlow::Break(Basis { source, account, role: role_ref, condition: None });
            }
            conditional |= role.if_owner.contains(index) || role.if_assigned.contains(index);
            ControlFlow::Continue(())
        });
        if let Some(basis) = unconditional {
            return Decision::allow(basis);
        }
        if !conditional {
            return Decision::DENIED;
        }
        let (mut owns, mut assigned) = (None, None);
        self.visit_roles(p, chain, now, |source, account, role_ref| {
            let role = self.role(account, role_ref);
            let basis = |condition| Basis { source, account, role: role_ref, condition: Some(condition) };
            if role.if_owner.contains(index) && *owns.get_or_insert_with(|| owns_leaf || self.owns(p, chain, now)) {
                return ControlFlow::Break(basis(Condition::Owner));
            }
            if role.if_assigned.contains(index) && *assigned.get_or_insert_with(|| self.assigned(p, chain, now)) {
                return ControlFlow::Break(basis(Condition::Assigned));
            }
            ControlFlow::Continue(())
        })
        .map_or(Decision::DENIED, Decision::allow)
    }

    /// The common case without walking the resource's ancestors: a principal with no
    /// grants (direct or through a group) is reached only by memberships of the node's
    /// account and its parent accounts, visited in the same order as the full walk
    /// visits them. `None` when that does not settle it (grants, or a condition to check).
    pub(crate) fn decide_by_membership_alone(
        &self,
        p: PrincipalId,
        node: NodeId,
        perm: PermIdx,
        now: i64,
    ) -> Option<Decision> {
        let principal = &self.principals[p];
        if !principal.grants.is_empty() || principal.in_groups {
            return None;
        }
        if principal.accounts.is_empty() {
            return Some(Decision::DENIED);
        }
        let index = usize::from(perm);
        let mut account = Some(self.nodes[node].account);
        while let Some(a) = account {
            if let Some(m) = self.membership_of(p, a)
                && m.is_live(now)
                && !m.external
            {
                let role = self.role(a, m.role);
                if role.always.contains(index) {
                    let basis = Basis { source: Source::Membership(a), account: a, role: m.role, condition: None };
                    return Some(Decision::allow(basis));
                }
                if role.if_owner.contains(index) || role.if_assigned.contains(index) {
                    return None;
                }
            }
            account = self.accounts[a].parent;
        }
        Some(Decision::DENIED)
    }

    /// Every permission `p` holds on the chain, conditions evaluated.
    pub(crate) fn permissions_on(
        &self,
        p: PrincipalId,
        node: NodeId,
        now: i64,
    ) -> (PermSet, Vec<(AccountId, RoleRef)>) {
        let (chain, len) = self.chain_of(node);
        self.permissions_on_chain(p, &chain[..len], false, now)
    }

    /// Every permission `p` holds on `chain` (a node and its ancestors); `owns_leaf` when
    /// `p` owns a resource below it that Roster does not store (the one asked about).
    pub(crate) fn permissions_on_chain(
        &self,
        p: PrincipalId,
        chain: &[NodeId],
        owns_leaf: bool,
        now: i64,
    ) -> (PermSet, Vec<(AccountId, RoleRef)>) {
        let pack = self.account_pack_of(self.nodes[chain[0]].account);
        let mut held = PermSet::empty(pack.permission_ids().len());
        let mut roles = Vec::new();
        let owns = owns_leaf || self.owns(p, chain, now);
        let assigned = self.assigned(p, chain, now);
        self.visit_roles::<()>(p, chain, now, |_, account, role_ref| {
            let role = self.role(account, role_ref);
            held.union_with(&role.always);
            if owns {
                held.union_with(&role.if_owner);
            }
            if assigned {
                held.union_with(&role.if_assigned);
            }
            roles.push((account, role_ref));
            ControlFlow::Continue(())
        });
        (held, roles)
    }

    /// Every permission `principal` holds on `resource`, and the roles that reach it.
    pub fn effective_permissions(
        &self,
        account: &str,
        principal: &str,
        resource: Option<&str>,
        now: i64,
    ) -> Result<EffectivePermissions, QueryError> {
        let (a, node, _) = self.resolve(account, None, resource)?;
        let Some(&p) = self.principal_lookup(principal) else {
            return Ok(EffectivePermissions { permissions: Vec::new(), roles: Vec::new() });
        };
        let (held, roles) = self.permissions_on(p, node, now);
        let ids = self.account_pack_of(a).permission_ids();
        let mut role_ids: Vec<String> = roles.into_iter().map(|(acc, r)| self.role(acc, r).id.clone()).collect();
        role_ids.sort();
        role_ids.dedup();
        Ok(EffectivePermissions { permissions: held.iter().map(|i| ids[i].clone()).collect(), roles: role_ids })
    }

    /// Names of the resources of type `ty` in `account` on which `permission` holds for
    /// `principal`, sorted. For an account type, the matching child accounts' ids.
    pub fn lookup_resources(
        &self,
        account: &str,
        principal: &str,
        permission: &str,
        ty: &str,
        now: i64,
    ) -> Result<Vec<String>, QueryError> {
        let (a, _, perm) = self.resolve(account, Some(permission), None)?;
        let pack = self.account_pack_of(a);
        let t = pack
            .resource_type(ty)
            .ok_or_else(|| QueryError::UnknownResourceType { pack: pack.id().to_owned(), ty: ty.to_owned() })?;
        let Some(&p) = self.principal_lookup(principal) else { return Ok(Vec::new()) };
        let acc = &self.accounts[a];
        let candidates: Vec<(NodeId, &str)> = if pack.types()[usize::from(t)].account {
            let mut nodes = Vec::new();
            let mut stack = acc.children.clone();
            while let Some(c) = stack.pop() {
                let child = &self.accounts[c];
                stack.extend(child.children.iter().copied());
                nodes.push((child.node, child.id.as_str()));
            }
            nodes
        } else {
            acc.resources.ids().map(|n| (n, self.nodes[n].name.as_str())).collect()
        };
        let mut found: Vec<String> = candidates
            .into_iter()
            .filter(|&(n, _)| self.nodes[n].ty == t && self.decide(p, n, perm, now).allowed)
            .map(|(_, name)| name.to_owned())
            .collect();
        found.sort();
        Ok(found)
    }

    /// Ids of the principals for whom `permission` holds on `resource`, sorted.
    pub fn lookup_subjects(
        &self,
        account: &str,
        permission: &str,
        resource: Option<&str>,
        now: i64,
    ) -> Result<Vec<String>, QueryError> {
        let (_, node, perm) = self.resolve(account, Some(permission), resource)?;
        let (chain, len) = self.chain_of(node);
        let mut found: Vec<String> = self
            .subject_candidates(&chain[..len])
            .into_iter()
            .filter(|&p| self.decide(p, node, perm, now).allowed)
            .map(|p| self.principals[p].id.to_string())
            .collect();
        found.sort();
        Ok(found)
    }

    /// Everyone a role can reach `chain` through: members of its accounts, holders of
    /// grants on its nodes (groups' members included).
    pub(crate) fn subject_candidates(&self, chain: &[NodeId]) -> FxHashSet<PrincipalId> {
        let mut candidates = FxHashSet::default();
        for &on in chain {
            let n = &self.nodes[on];
            if n.is_account {
                candidates.extend(self.accounts[n.account].members.iter().copied());
            }
            for slot in self.grants_on(on) {
                match self.grants[slot].subject {
                    SubjectRef::Principal(p) => {
                        candidates.insert(p);
                    }
                    SubjectRef::Group(g) => candidates.extend(self.groups[g].members.iter().copied()),
                }
            }
        }
        candidates
    }

    /// The decision with every reason spelled out.
    pub fn explain(
        &self,
        account: &str,
        principal: &str,
        permission: &str,
        resource: Option<&str>,
        now: i64,
    ) -> Result<Explanation, QueryError> {
        let (_, node, perm) = self.resolve(account, Some(permission), resource)?;
        let (chain, len) = self.chain_of(node);
        let question = Question { account, principal, permission, perm, target: self.node_name(node) };
        Ok(self.explain_on(&question, &chain[..len], false, now))
    }

    /// [`Engine::explain`] over `chain`; `owns_leaf` as for [`Engine::decide_on`].
    pub(crate) fn explain_on(
        &self,
        question: &Question<'_>,
        chain: &[NodeId],
        owns_leaf: bool,
        now: i64,
    ) -> Explanation {
        let &Question { account, principal, permission, perm, target } = question;
        let Some(&p) = self.principal_lookup(principal) else {
            return Explanation {
                allowed: false,
                granted_by: None,
                considered: Vec::new(),
                ignored: Vec::new(),
                summary: format!("denied: `{principal}` holds no membership or grant in account `{account}`"),
            };
        };
        let decision = match self.decide_by_membership_alone(p, chain[0], perm, now) {
            Some(decision) => decision,
            None => self.decide_on(p, chain, perm, owns_leaf, now),
        };
        let mut considered = Vec::new();
        self.visit_roles::<()>(p, chain, now, |source, acc, role_ref| {
            considered.push(self.role_use(p, chain, owns_leaf, now, source, acc, role_ref, perm));
            ControlFlow::Continue(())
        });
        let granted_by =
            decision.basis.map(|b| self.role_use(p, chain, owns_leaf, now, b.source, b.account, b.role, perm));
        let ignored = self.ignored_sources(p, chain, now);
        let summary = match (&granted_by, considered.is_empty()) {
            (Some(used), _) => {
                let condition =
                    used.holds.strip_prefix("if ").map(|c| format!(" (condition `{c}` met)")).unwrap_or_default();
                format!("allowed: role `{}` from {} grants `{permission}`{condition}", used.role, describe(&used.via))
            }
            (None, true) => {
                format!("denied: `{principal}` holds no active membership or live grant that reaches `{target}`")
            }
            (None, false) => {
                let unmet: Vec<String> = considered
                    .iter()
                    .filter(|u| u.condition_met == Some(false))
                    .map(|u| format!("role `{}` grants it only {} and that does not hold", u.role, u.holds))
                    .collect();
                if unmet.is_empty() {
                    let roles: Vec<&str> = considered.iter().map(|u| u.role.as_str()).collect();
                    format!("denied: no role reaching `{target}` includes `{permission}` (roles: {})", roles.join(", "))
                } else {
                    format!("denied: {}", unmet.join("; "))
                }
            }
        };
        Explanation { allowed: decision.allowed, granted_by, considered, ignored, summary }
    }

    #[allow(clippy::too_many_arguments)]
    fn role_use(
        &self,
        p: PrincipalId,
        chain: &[NodeId],
        owns_leaf: bool,
        now: i64,
        source: Source,
        account: AccountId,
        role_ref: RoleRef,
        perm: PermIdx,
    ) -> RoleUse {
        let role = self.role(account, role_ref);
        let holding = role.holding(perm);
        let condition_met = match holding {
            Holding::If(condition) => Some(self.condition_met(condition, p, chain, owns_leaf, now)),
            _ => None,
        };
        RoleUse { role: role.id.clone(), via: self.via(source), holds: holding.as_str(), condition_met }
    }

    pub(crate) fn via(&self, source: Source) -> Via {
        match source {
            Source::Membership(a) => Via::Membership { account: self.accounts[a].id.clone() },
            Source::Grant(slot) => {
                let grant = &self.grants[slot];
                let node = &self.nodes[grant.node];
                let subject = match grant.subject {
                    SubjectRef::Principal(p) => format!("principal:{}", self.principals[p].id),
                    SubjectRef::Group(g) => format!("group:{}", self.groups[g].name),
                };
                Via::Grant {
                    grant: grant.id.to_string(),
                    account: self.accounts[node.account].id.clone(),
                    resource: self.node_name(grant.node).to_owned(),
                    subject,
                }
            }
        }
    }

    fn ignored_sources(&self, p: PrincipalId, chain: &[NodeId], now: i64) -> Vec<String> {
        let mut ignored = Vec::new();
        for &node in chain {
            let n = &self.nodes[node];
            if !n.is_account {
                continue;
            }
            let account = &self.accounts[n.account];
            let Some(m) = self.membership_of(p, n.account) else { continue };
            let role = &self.role(n.account, m.role).id;
            if m.status != super::MembershipStatus::Active {
                ignored.push(format!("membership in `{}` (role `{role}`) is removed", account.id));
            } else if m.expires_at().is_some_and(|at| at <= now) {
                ignored.push(format!("membership in `{}` (role `{role}`) has expired", account.id));
            } else if m.external {
                ignored.push(format!(
                    "membership in `{}` is external: its role `{role}` gives nothing, only grants do",
                    account.id
                ));
            }
        }
        for slot in self.grant_slots_of(p) {
            let grant = &self.grants[slot];
            if !grant.alive || !chain.contains(&grant.node) {
                continue;
            }
            let where_ = self.qualified_node_name(grant.node);
            if !grant.is_live(now) {
                ignored.push(format!("grant `{}` on `{where_}` has expired", grant.id));
            } else if !self.visit_grant_counts(p, slot, now) {
                ignored.push(format!(
                    "grant `{}` on `{where_}` counts only while its holder is a live member of that account",
                    grant.id
                ));
            }
        }
        ignored
    }
}

fn describe(via: &Via) -> String {
    match via {
        Via::Membership { account } => format!("membership in account `{account}`"),
        Via::Grant { grant, account, resource, subject } => {
            format!("grant `{grant}` to {subject} on `{account}/{resource}`")
        }
    }
}
