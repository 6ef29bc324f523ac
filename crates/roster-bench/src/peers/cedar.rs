//! cedar-policy as its documentation sets up role-based access: entities with parents
//! (users in their role and groups, pickaxes in studios in the account), one static
//! policy per account role and condition, and one template per grantable role, linked
//! once per grant (`principal in ?principal … resource in ?resource`). The owner
//! condition reads the resource's `owner` attribute.

use std::collections::{HashMap, HashSet};
use std::str::FromStr;

use anyhow::{Context, Result, anyhow};
use cedar_policy::{
    Authorizer, Context as RequestContext, Decision, Entities, Entity, EntityId, EntityTypeName, EntityUid, PolicyId,
    PolicySet, Request, RestrictedExpression, SlotId, Template,
};

use super::{Peer, RoleRules};
use crate::generate::{Grantee, Question, Tenant};

/// Roles held on the account through membership.
const ACCOUNT_ROLES: [&str; 4] = ["owner", "admin", "manager", "user"];
/// Roles given on one resource through grants.
const GRANTABLE_ROLES: [&str; 2] = ["studio_client", "pickaxe_user"];

struct Types {
    user: EntityTypeName,
    group: EntityTypeName,
    role: EntityTypeName,
    action: EntityTypeName,
    account: EntityTypeName,
    studio: EntityTypeName,
    pickaxe: EntityTypeName,
}

impl Types {
    fn new() -> Result<Types> {
        let name = |n: &str| EntityTypeName::from_str(n).map_err(|e| anyhow!("cedar type {n}: {e}"));
        Ok(Types {
            user: name("User")?,
            group: name("Group")?,
            role: name("Role")?,
            action: name("Action")?,
            account: name("Account")?,
            studio: name("Studio")?,
            pickaxe: name("Pickaxe")?,
        })
    }

    fn uid(&self, ty: &EntityTypeName, id: &str) -> EntityUid {
        EntityUid::from_type_name_and_id(ty.clone(), EntityId::new(id))
    }

    /// A resource of the studio pack by its Roster name (`None` = the account).
    fn resource(&self, name: Option<&str>) -> EntityUid {
        match name {
            None => self.uid(&self.account, "account"),
            Some(name) if name.starts_with("studio:") => self.uid(&self.studio, name),
            Some(name) => self.uid(&self.pickaxe, name),
        }
    }
}

fn action_list(perms: &[String]) -> String {
    let actions: Vec<String> = perms.iter().map(|p| format!("Action::\"{p}\"")).collect();
    format!("[{}]", actions.join(", "))
}

/// The static policies every account shares (its roles), and one template per
/// grantable role and condition.
fn shared_policies(roles: &[RoleRules]) -> Result<(PolicySet, Vec<(String, PolicyId)>)> {
    let role = |id: &str| roles.iter().find(|r| r.id == id).with_context(|| format!("no role {id}"));
    let owner_condition = "when { resource has owner && resource.owner == principal }";
    let mut text = String::new();
    for id in ACCOUNT_ROLES {
        let rules = role(id)?;
        if !rules.always.is_empty() {
            text +=
                &format!("permit(principal in Role::\"{id}\", action in {}, resource);\n", action_list(&rules.always));
        }
        if !rules.if_owner.is_empty() {
            text += &format!(
                "permit(principal in Role::\"{id}\", action in {}, resource) {owner_condition};\n",
                action_list(&rules.if_owner)
            );
        }
    }
    let mut set = PolicySet::from_str(&text).map_err(|e| anyhow!("cedar policies: {e}"))?;
    let mut templates = Vec::new();
    for id in GRANTABLE_ROLES {
        let rules = role(id)?;
        for (perms, condition, suffix) in [(&rules.always, "", "always"), (&rules.if_owner, owner_condition, "owner")] {
            if perms.is_empty() {
                continue;
            }
            let template_id = PolicyId::new(format!("{id}-{suffix}"));
            let source = format!(
                "permit(principal in ?principal, action in {}, resource in ?resource) {condition};",
                action_list(perms)
            );
            let template =
                Template::parse(Some(template_id.clone()), source).map_err(|e| anyhow!("cedar template: {e}"))?;
            set.add_template(template).map_err(|e| anyhow!("cedar template: {e}"))?;
            templates.push((id.to_owned(), template_id));
        }
    }
    Ok((set, templates))
}

struct TenantStore {
    policies: PolicySet,
    entities: Entities,
}

fn build_tenant(
    tenant: &Tenant,
    types: &Types,
    shared: &PolicySet,
    templates: &[(String, PolicyId)],
) -> Result<TenantStore> {
    let mut parents: HashMap<&str, HashSet<EntityUid>> = HashMap::new();
    for member in tenant.members.iter().filter(|m| !m.external) {
        parents.entry(&member.principal).or_default().insert(types.uid(&types.role, member.role));
    }
    for member in tenant.members.iter().filter(|m| m.external) {
        parents.entry(&member.principal).or_default();
    }
    for group in &tenant.groups {
        for member in &group.members {
            parents.entry(member).or_default().insert(types.uid(&types.group, &group.name));
        }
    }
    let mut entities: Vec<Entity> = parents
        .into_iter()
        .map(|(user, parents)| Entity::new_no_attrs(types.uid(&types.user, user), parents))
        .collect();
    let account = types.resource(None);
    entities.push(Entity::new_no_attrs(account.clone(), HashSet::new()));
    for resource in &tenant.resources {
        let parent = resource.parent.as_deref().map_or(account.clone(), |p| types.resource(Some(p)));
        let mut attrs = HashMap::new();
        if let Some(owner) = &resource.owner {
            attrs.insert("owner".to_owned(), RestrictedExpression::new_entity_uid(types.uid(&types.user, owner)));
        }
        let entity = Entity::new(types.resource(Some(&resource.name)), attrs, HashSet::from([parent]))
            .map_err(|e| anyhow!("cedar entity {}: {e}", resource.name))?;
        entities.push(entity);
    }
    let entities = Entities::from_entities(entities, None).map_err(|e| anyhow!("cedar entities: {e}"))?;

    let mut policies = shared.clone();
    for grant in &tenant.grants {
        let principal = match &grant.subject {
            Grantee::Principal(p) => types.uid(&types.user, p),
            Grantee::Group(g) => types.uid(&types.group, g),
        };
        let resource = types.resource(Some(&grant.resource));
        for (index, (_, template)) in templates.iter().filter(|(role, _)| role == grant.role).enumerate() {
            let slots =
                HashMap::from([(SlotId::principal(), principal.clone()), (SlotId::resource(), resource.clone())]);
            policies
                .link(template.clone(), PolicyId::new(format!("{}-{index}", grant.id)), slots)
                .map_err(|e| anyhow!("cedar link for {}: {e}", grant.id))?;
        }
    }
    Ok(TenantStore { policies, entities })
}

/// One policy store per account.
pub(crate) struct Cedar {
    types: Types,
    authorizer: Authorizer,
    tenants: Vec<TenantStore>,
}

impl Cedar {
    /// Builds every account's store.
    pub(crate) fn build(tenants: impl Iterator<Item = Tenant>, roles: &[RoleRules]) -> Result<Cedar> {
        let types = Types::new()?;
        let (shared, templates) = shared_policies(roles)?;
        let tenants =
            tenants.map(|tenant| build_tenant(&tenant, &types, &shared, &templates)).collect::<Result<Vec<_>>>()?;
        Ok(Cedar { types, authorizer: Authorizer::new(), tenants })
    }
}

impl Peer for Cedar {
    fn name(&self) -> &'static str {
        "cedar-policy"
    }

    fn check(&self, q: &Question) -> Result<bool> {
        let tenant = self.tenants.get(q.tenant).context("question about an unknown account")?;
        let request = Request::new(
            self.types.uid(&self.types.user, &q.principal),
            self.types.uid(&self.types.action, q.permission),
            self.types.resource(q.resource.as_deref()),
            RequestContext::empty(),
            None,
        )
        .map_err(|e| anyhow!("cedar request: {e}"))?;
        let response = self.authorizer.is_authorized(&request, &tenant.policies, &tenant.entities);
        Ok(response.decision() == Decision::Allow)
    }
}
