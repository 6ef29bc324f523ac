//! An actor's standing at a scope: the permissions their live roles there add up to, the
//! roles those roles manage, their top rank and when that standing lapses. Every other
//! rule asks through here ("may the actor do X here", "does the actor manage role Y here").

use std::ops::ControlFlow;

use super::{Actor, ManagementError, Result};
use crate::decision::Source;
use crate::engine::{AccountId, ChangeError, Engine, MAX_DEPTH, NO_NODE, NodeId, PrincipalId, RoleRef};
use crate::pack::CompiledRole;
use crate::permset::PermSet;

/// What the actor's roles at one scope add up to.
pub(super) struct Standing {
    pub(super) manages: Vec<u16>,
    pub(super) held: PermSet,
    pub(super) top_rank: Option<u32>,
    /// When the last of the roles giving this standing lapses (`None`: never).
    pub(super) lapses: Option<i64>,
}

/// The earlier of two lapse times, `None` standing for never.
pub(super) fn earlier(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, None) => a,
        (None, b) => b,
    }
}

impl Engine {
    /// The node of `resource` (`None`: the account itself).
    pub(super) fn scope_node(&self, account: AccountId, resource: Option<&str>) -> Result<NodeId> {
        self.node_of(account, resource).ok_or_else(|| {
            ManagementError::Change(ChangeError::UnknownResource {
                account: self.accounts[account].id.clone(),
                resource: resource.unwrap_or_default().to_owned(),
            })
        })
    }

    /// `account/resource`, for messages.
    pub(super) fn scope_name(&self, account: AccountId, resource: Option<&str>) -> String {
        format!("{}/{}", self.accounts[account].id, resource.unwrap_or(crate::ids::ACCOUNT_RESOURCE))
    }

    /// Whether the actor is this principal.
    pub(super) fn actor_is(actor: &Actor, principal: &str) -> bool {
        matches!(actor, Actor::Principal(id) if id == principal)
    }

    /// Refuses unless `actor` holds `permission` on the scope.
    pub(super) fn require(
        &self,
        actor: &Actor,
        account: AccountId,
        resource: Option<&str>,
        permission: &str,
        now: i64,
    ) -> Result<()> {
        let node = self.scope_node(account, resource)?;
        self.require_at(actor, node, permission, now)
    }

    /// Refuses unless `actor` holds `permission` on `node`.
    pub(super) fn require_at(&self, actor: &Actor, node: NodeId, permission: &str, now: i64) -> Result<()> {
        let Actor::Principal(id) = actor else { return Ok(()) };
        let account = self.nodes[node].account;
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
                scope: self.qualified_node_name(node),
            })
        }
    }

    /// The actor's roles on a scope, added up; `None` for the platform.
    pub(super) fn standing(
        &self,
        actor: &Actor,
        account: AccountId,
        resource: Option<&str>,
        now: i64,
    ) -> Option<Standing> {
        let node = self.node_of(account, resource)?;
        self.standing_at(actor, node, now)
    }

    /// The actor's roles on `node`, added up; `None` for the platform.
    pub(super) fn standing_at(&self, actor: &Actor, node: NodeId, now: i64) -> Option<Standing> {
        let Actor::Principal(id) = actor else { return None };
        let pack = self.account_pack_of(self.nodes[node].account);
        let mut standing = Standing {
            manages: Vec::new(),
            held: PermSet::empty(pack.permission_ids().len()),
            top_rank: None,
            lapses: Some(i64::MIN),
        };
        let Some(&p) = self.principal_lookup(id.as_str()) else { return Some(standing) };
        let (held, roles) = self.permissions_on(p, node, now);
        standing.held = held;
        for (acc, role_ref) in roles {
            let role = self.role(acc, role_ref);
            standing.manages.extend(role.manages.iter().copied());
            standing.top_rank = standing.top_rank.max(Some(role.rank));
        }
        let mut chain = [NO_NODE; MAX_DEPTH];
        let len = self.chain(node, &mut chain);
        let mut lapses: Option<Option<i64>> = None;
        self.visit_roles::<()>(p, &chain[..len], now, |source, _, _| {
            let source_lapses = self.source_lapses(p, source, now);
            lapses = Some(match (lapses, source_lapses) {
                (None, x) => x,
                (Some(None), _) | (_, None) => None,
                (Some(Some(a)), Some(b)) => Some(a.max(b)),
            });
            ControlFlow::Continue(())
        });
        standing.lapses = lapses.unwrap_or(Some(now));
        Some(standing)
    }

    /// When one source of a role lapses: a membership at its expiry; a grant at its own
    /// expiry or when the memberships it depends on lapse, whichever comes first.
    fn source_lapses(&self, p: PrincipalId, source: Source, now: i64) -> Option<i64> {
        match source {
            Source::Membership(account) => self.membership_of(p, account).and_then(|m| m.expires_at()),
            Source::Grant(slot) => {
                let grant = &self.grants[slot];
                let account = self.nodes[grant.node].account;
                earlier(grant.expires_at(), self.memberships_lapse(p, account, now))
            }
        }
    }

    /// When the last of `p`'s live memberships at `account` or above lapses (`None`: never,
    /// or no membership: a grant to a non-member depends on none).
    fn memberships_lapse(&self, p: PrincipalId, account: AccountId, now: i64) -> Option<i64> {
        let mut latest = None;
        let mut current = Some(account);
        while let Some(a) = current {
            if let Some(m) = self.membership_of(p, a).filter(|m| m.is_live(now)) {
                match m.expires_at() {
                    None => return None,
                    Some(at) => latest = latest.max(Some(at)),
                }
            }
            current = self.accounts[a].parent;
        }
        latest
    }

    /// Caps what an actor hands out at the moment their own standing there lapses:
    /// nothing an actor gives outlives the standing that let them give it.
    pub(super) fn cap_to_standing(
        &self,
        actor: &Actor,
        node: NodeId,
        expires_at: Option<i64>,
        now: i64,
    ) -> Option<i64> {
        match self.standing_at(actor, node, now) {
            Some(standing) => earlier(expires_at, standing.lapses),
            None => expires_at,
        }
    }

    /// Refuses unless a role the actor holds on the scope manages `role` (or, for a custom
    /// role, the actor holds everything it gives and outranks it).
    pub(super) fn require_manages(
        &self,
        actor: &Actor,
        account: AccountId,
        resource: Option<&str>,
        role: RoleRef,
        now: i64,
    ) -> Result<()> {
        let node = self.scope_node(account, resource)?;
        self.require_manages_at(actor, node, role, now)
    }

    /// [`Engine::require_manages`] on a node; `role` is a role of the node's account.
    pub(super) fn require_manages_at(&self, actor: &Actor, node: NodeId, role: RoleRef, now: i64) -> Result<()> {
        let Some(standing) = self.standing_at(actor, node, now) else { return Ok(()) };
        let account = self.nodes[node].account;
        let compiled = self.role(account, role);
        let managed = match role {
            RoleRef::Pack(index) => standing.manages.contains(&index),
            RoleRef::Custom(_) => self.within_standing(actor, &standing, compiled, account).is_ok(),
        };
        match actor {
            Actor::Principal(id) if !managed => Err(ManagementError::RoleNotManaged {
                actor: id.clone(),
                role: compiled.id.clone(),
                scope: self.qualified_node_name(node),
            }),
            _ => Ok(()),
        }
    }

    /// A custom role may not give more than its creator holds, outrank them, or manage
    /// roles they do not manage.
    pub(super) fn within_standing(
        &self,
        actor: &Actor,
        standing: &Standing,
        role: &CompiledRole,
        account: AccountId,
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
}
