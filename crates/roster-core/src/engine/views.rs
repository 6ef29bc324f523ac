//! Read-only views of the engine's state for listings (the API's GET endpoints): plain,
//! serialisable values with string ids, built on demand (never on the decision path).

use serde::Serialize;

use super::{Engine, MembershipStatus, SubjectRef};

/// One grant, by name.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct GrantView {
    /// Grant id.
    pub id: String,
    /// `principal:<id>` or `group:<id>`.
    pub subject: String,
    /// The resource (`"account"` for the account itself).
    pub resource: String,
    /// Role id.
    pub role: String,
    /// Unix seconds.
    pub expires_at: Option<i64>,
}

/// One resource, by name.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ResourceView {
    /// `"type:id"`.
    pub resource: String,
    /// Parent resource (`"account"` at the top).
    pub parent: String,
    /// Owning principal.
    pub owner: Option<String>,
    /// Direct children.
    pub children: Vec<String>,
}

/// One group.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct GroupView {
    /// Group id.
    pub id: String,
    /// Member principal ids, sorted.
    pub members: Vec<String>,
}

/// One role available in an account.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RoleView {
    /// Role id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Rank.
    pub rank: u32,
    /// Whether it was defined for this account at run time.
    pub custom: bool,
    /// Permissions it can give (conditions shown as `perm:condition`).
    pub permissions: Vec<String>,
    /// Pack roles a holder may hand out or take away.
    pub manages: Vec<String>,
}

impl Engine {
    /// The account's grants, filtered by resource and/or subject, sorted by id. Reads the
    /// account's own grant list: the cost is what the account holds, not the platform.
    pub fn grants(&self, account: &str, resource: Option<&str>, subject: Option<&str>) -> Vec<GrantView> {
        let Some(&a) = self.account_index.get(account) else { return Vec::new() };
        // The account's list is in grant id order.
        self.accounts[a]
            .grants
            .iter()
            .map(|&slot| self.grant_view(a, slot))
            .filter(|v| resource.is_none_or(|r| v.resource == r) && subject.is_none_or(|s| v.subject == s))
            .collect()
    }

    pub(crate) fn grant_view(&self, a: super::AccountId, slot: super::GrantSlot) -> GrantView {
        let g = &self.grants[slot];
        GrantView {
            id: g.id.to_string(),
            subject: match g.subject {
                SubjectRef::Principal(p) => format!("principal:{}", self.principals[p].id),
                SubjectRef::Group(x) => format!("group:{}", self.groups[x].name),
            },
            resource: self.node_name(g.node).to_owned(),
            role: self.role(a, g.role).id.clone(),
            expires_at: g.expires_at(),
        }
    }

    /// One grant of an account by id.
    pub fn grant(&self, account: &str, id: &str) -> Option<GrantView> {
        let &a = self.account_index.get(account)?;
        self.grant_lookup(a, id)?;
        self.grants(account, None, None).into_iter().find(|g| g.id == id)
    }

    /// One resource of an account.
    pub fn resource(&self, account: &str, resource: &str) -> Option<ResourceView> {
        let &a = self.account_index.get(account)?;
        let node = self.resource_node(a, resource)?;
        let n = &self.nodes[node];
        let mut children: Vec<String> =
            self.children.get(&node).into_iter().flatten().map(|&c| self.nodes[c].name.to_string()).collect();
        children.sort();
        Some(ResourceView {
            resource: n.name.to_string(),
            parent: self.parent_of(node).map(|p| self.node_name(p).to_owned()).unwrap_or_default(),
            owner: n.owner.map(|p| self.principals[p].id.to_string()),
            children,
        })
    }

    /// The account's groups, sorted.
    pub fn group_views(&self, account: &str) -> Vec<GroupView> {
        let Some(&a) = self.account_index.get(account) else { return Vec::new() };
        self.accounts[a].group_list.iter().map(|&g| self.group_view(g)).collect()
    }

    pub(crate) fn group_view(&self, g: super::GroupId) -> GroupView {
        let mut members: Vec<String> =
            self.groups[g].members.iter().map(|&p| self.principals[p].id.to_string()).collect();
        members.sort();
        GroupView { id: self.groups[g].name.clone(), members }
    }

    /// Whether the account has this group.
    pub fn has_group(&self, account: &str, group: &str) -> bool {
        self.account_index.get(account).is_some_and(|&a| self.accounts[a].groups.contains_key(group))
    }

    /// The roles usable in an account: the pack's, then its custom roles, by rank.
    pub fn role_views(&self, account: &str) -> Vec<RoleView> {
        let Some(&a) = self.account_index.get(account) else { return Vec::new() };
        let acc = &self.accounts[a];
        let pack = &self.packs[acc.pack];
        let ids = pack.permission_ids();
        let describe = |role: &crate::pack::CompiledRole| {
            let mut permissions: Vec<String> = role.always.iter().map(|i| ids[i].clone()).collect();
            permissions.extend(role.if_owner.iter().map(|i| format!("{}:owner", ids[i])));
            permissions.extend(role.if_assigned.iter().map(|i| format!("{}:assigned", ids[i])));
            RoleView {
                id: role.id.clone(),
                title: role.title.clone(),
                rank: role.rank,
                custom: role.custom,
                permissions,
                manages: role.manages.iter().map(|&m| pack.roles()[usize::from(m)].id.clone()).collect(),
            }
        };
        let live_custom = acc.custom_index.values().map(|&i| &acc.custom_roles[usize::from(i)]);
        let mut views: Vec<RoleView> = pack.roles().iter().chain(live_custom).map(describe).collect();
        views.sort_by(|x, y| y.rank.cmp(&x.rank).then_with(|| x.id.cmp(&y.id)));
        views
    }

    /// Every membership of a principal, by account id.
    pub fn principal_memberships(&self, principal: &str) -> Vec<(String, super::MembershipView)> {
        let Some(&p) = self.principal_lookup(principal) else { return Vec::new() };
        let mut views: Vec<(String, super::MembershipView)> = self.principals[p]
            .accounts
            .iter()
            .map(|(a, m)| (self.accounts[*a].id.clone(), self.membership_view(*a, p, m)))
            .collect();
        views.sort_by(|x, y| x.0.cmp(&y.0));
        views
    }

    /// Whether `principal` holds anything in `account`: a live membership there or in an
    /// ancestor account, or a live grant on something in it.
    pub fn reaches_account(&self, account: &str, principal: &str, now: i64) -> bool {
        let (Some(&a), Some(&p)) = (self.account_index.get(account), self.principal_lookup(principal)) else {
            return false;
        };
        let mut current = Some(a);
        while let Some(acc) = current {
            let account = &self.accounts[acc];
            if self.membership_of(p, acc).is_some_and(|m| m.is_live(now) && m.status == MembershipStatus::Active) {
                return true;
            }
            current = account.parent;
        }
        self.grant_slots_of(p).any(|slot| {
            let grant = &self.grants[slot];
            grant.is_live(now) && self.nodes[grant.node].account == a && self.visit_grant_counts(p, slot, now)
        })
    }
}
