//! casbin-rs as its users set it up for this shape of problem: RBAC with domains (the
//! account is the domain), the resource hierarchy as a `g2` grouping inside the domain,
//! roles held on the account as `g` links to shared role policies, and a resource grant
//! as a role scoped to its resource (`role@resource`) with its own policy lines. The
//! owner condition travels in the request, as casbin's ABAC examples do.

use std::collections::BTreeSet;

use anyhow::{Context, Result};
use casbin::{CoreApi, DefaultModel, Enforcer, MemoryAdapter, MgmtApi};
use rustc_hash::FxHashMap;

use super::{Peer, RoleRules, chain_owner};
use crate::generate::{Grantee, Question, Tenant};

const MODEL: &str = r#"
[request_definition]
r = sub, dom, obj, act, owner

[policy_definition]
p = sub, dom, obj, act, cond

[role_definition]
g = _, _, _
g2 = _, _, _

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = r.act == p.act && r.dom == p.dom && g(r.sub, p.sub, r.dom) && g2(r.obj, p.obj, r.dom) && (p.cond == "" || r.owner == r.sub)
"#;

/// The account's own node, as `g2` names it.
const ACCOUNT_OBJECT: &str = "account";

struct TenantEnforcer {
    enforcer: Enforcer,
    /// Owner of each resource or its nearest owned ancestor: what the request carries.
    owners: FxHashMap<String, String>,
}

/// One enforcer per account.
pub(crate) struct Casbin {
    tenants: Vec<TenantEnforcer>,
}

fn row(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

fn policies_for(role: &RoleRules, subject: &str, account: &str, object: &str) -> Vec<Vec<String>> {
    let always = role.always.iter().map(|perm| row(&[subject, account, object, perm, ""]));
    let owned = role.if_owner.iter().map(|perm| row(&[subject, account, object, perm, "owner"]));
    always.chain(owned).collect()
}

async fn build_tenant(tenant: &Tenant, roles: &[RoleRules]) -> Result<TenantEnforcer> {
    let model = DefaultModel::from_str(MODEL).await.context("casbin model")?;
    let mut enforcer = Enforcer::new(model, MemoryAdapter::default()).await.context("casbin enforcer")?;
    let account = tenant.account.as_str();
    let role = |id: &str| roles.iter().find(|r| r.id == id).with_context(|| format!("no role {id}"));

    let mut policies = Vec::new();
    for id in ["owner", "admin", "manager", "user"] {
        policies.extend(policies_for(role(id)?, id, account, ACCOUNT_OBJECT));
    }
    let mut scoped = BTreeSet::new();
    let mut links = Vec::new();
    for member in tenant.members.iter().filter(|m| !m.external) {
        links.push(row(&[&member.principal, member.role, account]));
    }
    for group in &tenant.groups {
        let group_subject = format!("group:{}", group.name);
        for member in &group.members {
            links.push(row(&[member, &group_subject, account]));
        }
    }
    for grant in &tenant.grants {
        let scoped_role = format!("{}@{}", grant.role, grant.resource);
        if scoped.insert(scoped_role.clone()) {
            policies.extend(policies_for(role(grant.role)?, &scoped_role, account, &grant.resource));
        }
        let subject = match &grant.subject {
            Grantee::Principal(p) => p.clone(),
            Grantee::Group(g) => format!("group:{g}"),
        };
        links.push(row(&[&subject, &scoped_role, account]));
    }
    let hierarchy: Vec<Vec<String>> = tenant
        .resources
        .iter()
        .map(|r| row(&[&r.name, r.parent.as_deref().unwrap_or(ACCOUNT_OBJECT), account]))
        .collect();
    enforcer.add_policies(policies).await.context("casbin policies")?;
    enforcer.add_grouping_policies(links).await.context("casbin role links")?;
    enforcer.add_named_grouping_policies("g2", hierarchy).await.context("casbin resource hierarchy")?;
    let owners = tenant
        .resources
        .iter()
        .filter_map(|r| chain_owner(&tenant.resources, &r.name).map(|o| (r.name.clone(), o.to_owned())))
        .collect();
    Ok(TenantEnforcer { enforcer, owners })
}

impl Casbin {
    /// Builds every account's enforcer.
    pub(crate) fn build(tenants: impl Iterator<Item = Tenant>, roles: &[RoleRules]) -> Result<Casbin> {
        let runtime = tokio::runtime::Builder::new_current_thread().build().context("tokio runtime")?;
        let tenants =
            tenants.map(|tenant| runtime.block_on(build_tenant(&tenant, roles))).collect::<Result<Vec<_>>>()?;
        Ok(Casbin { tenants })
    }
}

impl Peer for Casbin {
    fn name(&self) -> &'static str {
        "casbin-rs"
    }

    fn check(&self, q: &Question) -> Result<bool> {
        let tenant = self.tenants.get(q.tenant).context("question about an unknown account")?;
        let object = q.resource.as_deref().unwrap_or(ACCOUNT_OBJECT);
        let owner = q.resource.as_ref().and_then(|r| tenant.owners.get(r)).map_or("", String::as_str);
        tenant
            .enforcer
            .enforce((q.principal.as_str(), q.account.as_str(), object, q.permission, owner))
            .context("casbin enforce")
    }
}
