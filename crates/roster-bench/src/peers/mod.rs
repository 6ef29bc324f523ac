//! The engines Roster is measured against, built from the same [`Tenant`] records and
//! asked the same [`Question`]s. Both keep one policy store per account (casbin's
//! filtered loading per domain, Cedar's per-tenant policy stores): a single store over
//! every account would make each of them scan every account's rules on every check.

pub(crate) mod casbin;
pub(crate) mod cedar;

use roster_core::Pack;

use crate::generate::Question;

/// A role's permission ids, split by condition, as the peers' rule sets spell them.
pub(crate) struct RoleRules {
    pub(crate) id: String,
    pub(crate) always: Vec<String>,
    pub(crate) if_owner: Vec<String>,
}

/// Every role of the pack, expanded to permission ids (wildcards resolved by Roster's
/// own compiler, so the peers see exactly the pack's rules).
pub(crate) fn role_rules(pack: &Pack) -> anyhow::Result<Vec<RoleRules>> {
    let ids = pack.permission_ids();
    let expand = |set: &roster_core::permset::PermSet| set.iter().map(|i| ids[i].clone()).collect::<Vec<_>>();
    let rules: Vec<RoleRules> = pack
        .roles()
        .iter()
        .map(|role| RoleRules { id: role.id.clone(), always: expand(&role.always), if_owner: expand(&role.if_owner) })
        .collect();
    if let Some(role) = pack.roles().iter().find(|role| !role.if_assigned.is_empty()) {
        anyhow::bail!("role `{}` has `:assigned` rules, which the peer models do not express", role.id);
    }
    Ok(rules)
}

/// The owner of `resource` or of its nearest owned ancestor inside the tenant.
pub(crate) fn chain_owner<'t>(tenant_resources: &'t [crate::generate::Resource], name: &str) -> Option<&'t str> {
    let mut current = tenant_resources.iter().find(|r| r.name == name);
    while let Some(resource) = current {
        if let Some(owner) = &resource.owner {
            return Some(owner);
        }
        current = resource.parent.as_deref().and_then(|p| tenant_resources.iter().find(|r| r.name == p));
    }
    None
}

/// An engine that can answer the benchmark's questions.
pub(crate) trait Peer {
    /// The engine's name in tables.
    fn name(&self) -> &'static str;
    /// May the question's principal do it?
    fn check(&self, question: &Question) -> anyhow::Result<bool>;
}
