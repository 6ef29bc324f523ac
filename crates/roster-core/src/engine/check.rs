//! Validating changes, the one place it happens: [`Engine::validate`] resolves each
//! [`Change`] of a sequence against the state as the sequence's earlier changes leave it
//! (a small overlay of their pending effects, not a copy of the engine) into a [`Step`] of
//! resolved indexes, and returns them as a [`Plan`]. Committing a plan checks nothing again
//! and cannot fail, so a plan the daemon wrote to its database always reaches the engine.

use std::sync::atomic::{AtomicU64, Ordering};

use super::apply::{ChangeError, check_id, compile_custom_role_for};
use super::{AccountId, Change, Engine, GrantSlot, GroupId, MAX_DEPTH, Membership, NO_NODE, NodeId, RoleRef, Subject};
use crate::ids::split_resource;
use crate::pack::{CompiledRole, TypeIdx};

type Result<T> = std::result::Result<T, ChangeError>;

/// Which engine, in which state: a plan commits only onto the state it was validated
/// against. Every engine (and every clone) gets its own `instance`; every commit bumps
/// `generation`.
#[derive(Debug)]
pub(crate) struct Stamp {
    instance: u64,
    pub(crate) generation: u64,
}

fn next_instance() -> u64 {
    static INSTANCES: AtomicU64 = AtomicU64::new(0);
    INSTANCES.fetch_add(1, Ordering::Relaxed)
}

impl Default for Stamp {
    fn default() -> Self {
        Stamp { instance: next_instance(), generation: 0 }
    }
}

impl Clone for Stamp {
    /// A clone is another engine: plans of the original do not commit onto it.
    fn clone(&self) -> Self {
        Stamp::default()
    }
}

/// A sequence of changes validated in order against one state of an engine; commit it
/// with [`Engine::commit`]. Only the engine makes plans.
#[derive(Debug)]
pub struct Plan {
    changes: Vec<Change>,
    steps: Vec<Step>,
    instance: u64,
    generation: u64,
}

impl Plan {
    /// The changes, in order: what the daemon stores and audits.
    pub fn changes(&self) -> &[Change] {
        &self.changes
    }

    /// Whether the plan changes nothing (a permitted read, say).
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    pub(crate) fn into_steps(self) -> Vec<Step> {
        self.steps
    }
}

/// A plan offered to an engine in another state than the one it was validated against
/// (another engine, or after another commit). Nothing was changed; plan again.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the plan was validated against another state of the engine; nothing was applied")]
pub struct StalePlan;

/// An account a step refers to: one that exists, or the `i`-th its plan creates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AccountRef {
    Existing(AccountId),
    New(usize),
}

/// A node a step refers to: one that exists, the `i`-th resource its plan creates, or the
/// own node of the `i`-th account its plan creates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum NodeRef {
    Existing(NodeId),
    New(usize),
    NewAccount(usize),
}

/// A group a step refers to: one that exists, or the `i`-th its plan creates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum GroupRef {
    Existing(GroupId),
    New(usize),
}

/// A grantee as committed: principals are interned by id at commit.
#[derive(Clone, Debug)]
pub(crate) enum SubjectStep {
    Principal(String),
    Group(GroupRef),
}

/// One validated change with everything it names resolved; committing it cannot fail.
/// Removals name existing records only (a plan never removes what it creates).
#[derive(Clone, Debug)]
pub(crate) enum Step {
    CreateAccount { id: String, pack: usize, parent: Option<AccountRef>, ty: TypeIdx },
    PutMembership { account: AccountRef, principal: String, membership: Membership },
    RemoveMembership { account: AccountRef, principal: String },
    AddResource { account: AccountRef, name: String, ty: TypeIdx, parent: NodeRef, owner: Option<String> },
    RemoveResource { node: NodeId },
    AddGrant { id: String, subject: SubjectStep, node: NodeRef, role: RoleRef, expires_at: Option<i64> },
    RemoveGrant { slot: GrantSlot },
    AddGroup { account: AccountRef, group: String },
    RemoveGroup { account: AccountRef, group: GroupId },
    AddGroupMember { group: GroupRef, principal: String },
    RemoveGroupMember { group: GroupRef, principal: String },
    DefineRole { account: AccountRef, id: String, role: CompiledRole },
    RemoveRole { account: AccountId, id: String, index: u16 },
}

struct NewAccount {
    id: String,
    pack: usize,
    ty: TypeIdx,
    /// Nodes on the chain from the account's node to the top, its own included.
    depth: usize,
}

struct NewNode {
    account: AccountRef,
    name: String,
    parent: NodeRef,
    ty: TypeIdx,
    depth: usize,
}

struct NewGrant {
    account: AccountRef,
    id: String,
    node: NodeRef,
    role: RoleRef,
    group: Option<GroupRef>,
}

/// What the plan's earlier changes did, as later changes must see it. Lookups read the
/// overlay first (latest entry wins), then the engine minus what the overlay removed.
#[derive(Default)]
struct Pending {
    accounts: Vec<NewAccount>,
    /// Memberships put (`Some(role)`) or removed (`None`).
    members: Vec<(AccountRef, String, Option<RoleRef>)>,
    nodes: Vec<NewNode>,
    /// Existing nodes removed with their subtrees.
    removed_nodes: Vec<NodeId>,
    grants: Vec<NewGrant>,
    removed_grants: Vec<GrantSlot>,
    groups: Vec<(AccountRef, String)>,
    removed_groups: Vec<GroupId>,
    /// Group places given (`true`) or taken (`false`).
    group_members: Vec<(GroupRef, String, bool)>,
    /// Custom roles defined by the plan (later changes of the plan cannot use them yet).
    defined_roles: Vec<(AccountRef, String)>,
    removed_roles: Vec<(AccountId, u16)>,
}

/// The engine as a plan's next change sees it.
struct Overlay<'e> {
    engine: &'e Engine,
    pending: Pending,
}

impl Overlay<'_> {
    fn account(&self, id: &str) -> Result<AccountRef> {
        if let Some(&a) = self.engine.account_index.get(id) {
            return Ok(AccountRef::Existing(a));
        }
        self.pending
            .accounts
            .iter()
            .position(|n| n.id == id)
            .map(AccountRef::New)
            .ok_or_else(|| ChangeError::UnknownAccount(id.to_owned()))
    }

    fn pack_of(&self, account: AccountRef) -> usize {
        match account {
            AccountRef::Existing(a) => self.engine.accounts[a].pack,
            AccountRef::New(i) => self.pending.accounts[i].pack,
        }
    }

    fn account_node(&self, account: AccountRef) -> NodeRef {
        match account {
            AccountRef::Existing(a) => NodeRef::Existing(self.engine.accounts[a].node),
            AccountRef::New(i) => NodeRef::NewAccount(i),
        }
    }

    fn node_ty(&self, node: NodeRef) -> TypeIdx {
        match node {
            NodeRef::Existing(n) => self.engine.nodes[n].ty,
            NodeRef::New(i) => self.pending.nodes[i].ty,
            NodeRef::NewAccount(i) => self.pending.accounts[i].ty,
        }
    }

    fn node_depth(&self, node: NodeRef) -> usize {
        match node {
            NodeRef::Existing(n) => {
                let mut chain = [NO_NODE; MAX_DEPTH];
                self.engine.chain(n, &mut chain)
            }
            NodeRef::New(i) => self.pending.nodes[i].depth,
            NodeRef::NewAccount(i) => self.pending.accounts[i].depth,
        }
    }

    /// Whether an existing node went with a subtree the plan removes.
    fn node_removed(&self, node: NodeId) -> bool {
        if self.pending.removed_nodes.is_empty() {
            return false;
        }
        let mut chain = [NO_NODE; MAX_DEPTH];
        let len = self.engine.chain(node, &mut chain);
        chain[..len].iter().any(|n| self.pending.removed_nodes.contains(n))
    }

    /// Whether a node goes with a subtree the plan removes (new nodes too: a resource the
    /// plan adds under one it then removes is gone).
    fn gone(&self, node: NodeRef) -> bool {
        match node {
            NodeRef::Existing(n) => self.node_removed(n),
            NodeRef::New(i) => self.gone(self.pending.nodes[i].parent),
            NodeRef::NewAccount(_) => false,
        }
    }

    /// A resource of the account by name (`type:id`).
    fn resource(&self, account: AccountRef, name: &str) -> Option<NodeRef> {
        if let Some(i) = self.pending.nodes.iter().rposition(|n| n.account == account && n.name == name)
            && !self.gone(NodeRef::New(i))
        {
            return Some(NodeRef::New(i));
        }
        match account {
            AccountRef::Existing(a) => {
                self.engine.resource_node(a, name).filter(|&n| !self.node_removed(n)).map(NodeRef::Existing)
            }
            AccountRef::New(_) => None,
        }
    }

    /// `None`/`"account"` is the account's own node, anything else a resource.
    fn scope(&self, account: AccountRef, resource: Option<&str>) -> Option<NodeRef> {
        match resource {
            None | Some(crate::ids::ACCOUNT_RESOURCE) => Some(self.account_node(account)),
            Some(name) => self.resource(account, name),
        }
    }

    /// The role of a principal's membership (any status) in the account.
    fn membership_role(&self, account: AccountRef, principal: &str) -> Option<RoleRef> {
        if let Some((_, _, role)) = self.pending.members.iter().rev().find(|(a, p, _)| *a == account && p == principal)
        {
            return *role;
        }
        let AccountRef::Existing(a) = account else { return None };
        let &p = self.engine.principal_lookup(principal)?;
        self.engine.membership_of(p, a).map(|m| m.role)
    }

    fn group_removed(&self, group: GroupRef) -> bool {
        matches!(group, GroupRef::Existing(g) if self.pending.removed_groups.contains(&g))
    }

    fn group(&self, account: AccountRef, name: &str) -> Option<GroupRef> {
        if let Some(i) = self.pending.groups.iter().rposition(|(a, g)| *a == account && g == name) {
            return Some(GroupRef::New(i));
        }
        let AccountRef::Existing(a) = account else { return None };
        let &g = self.engine.accounts[a].groups.get(name)?;
        (!self.pending.removed_groups.contains(&g)).then_some(GroupRef::Existing(g))
    }

    fn in_group(&self, group: GroupRef, principal: &str) -> bool {
        if let Some((_, _, present)) =
            self.pending.group_members.iter().rev().find(|(g, p, _)| *g == group && p == principal)
        {
            return *present;
        }
        let GroupRef::Existing(g) = group else { return false };
        self.engine.principal_lookup(principal).is_some_and(|p| self.engine.groups[g].members.contains(p))
    }

    /// Whether an existing grant is still there after the plan's earlier changes.
    fn existing_grant_stays(&self, slot: GrantSlot) -> bool {
        let grant = &self.engine.grants[slot];
        let group_gone = match grant.subject {
            super::SubjectRef::Group(g) => self.pending.removed_groups.contains(&g),
            super::SubjectRef::Principal(_) => false,
        };
        !self.pending.removed_grants.contains(&slot) && !group_gone && !self.node_removed(grant.node)
    }

    fn new_grant_stays(&self, grant: &NewGrant) -> bool {
        !self.gone(grant.node) && !grant.group.is_some_and(|g| self.group_removed(g))
    }

    /// A grant of the account by id: `Ok` for an existing one, `Err(())` for one the plan
    /// added.
    fn grant(&self, account: AccountRef, id: &str) -> Option<std::result::Result<GrantSlot, ()>> {
        if self.pending.grants.iter().any(|g| g.account == account && g.id == id && self.new_grant_stays(g)) {
            return Some(Err(()));
        }
        let AccountRef::Existing(a) = account else { return None };
        let &slot = self.engine.grant_lookup(a, id)?;
        self.existing_grant_stays(slot).then_some(Ok(slot))
    }

    /// A role usable in the account: the pack's, or an existing custom role the plan has
    /// not removed (custom roles the plan defines are usable once it is committed).
    fn role(&self, account: AccountRef, id: &str) -> Option<RoleRef> {
        if let Some(i) = self.engine.packs[self.pack_of(account)].role(id) {
            return Some(RoleRef::Pack(i));
        }
        let AccountRef::Existing(a) = account else { return None };
        let &index = self.engine.accounts[a].custom_index.get(id)?;
        (!self.pending.removed_roles.contains(&(a, index))).then_some(RoleRef::Custom(index))
    }

    fn role_def(&self, account: AccountRef, role: RoleRef) -> &CompiledRole {
        match (account, role) {
            (AccountRef::Existing(a), _) => self.engine.role(a, role),
            // A new account has no custom roles yet: `role` resolved to a pack role.
            (AccountRef::New(i), RoleRef::Pack(r) | RoleRef::Custom(r)) => {
                &self.engine.packs[self.pending.accounts[i].pack].roles()[usize::from(r)]
            }
        }
    }

    fn type_name(&self, account: AccountRef, ty: TypeIdx) -> String {
        self.engine.packs[self.pack_of(account)].types()[usize::from(ty)].name.clone()
    }

    /// A role id that may be held on `node`.
    fn grantable_role(&self, account: AccountRef, account_id: &str, role: &str, node: NodeRef) -> Result<RoleRef> {
        let role_ref = self
            .role(account, role)
            .ok_or_else(|| ChangeError::UnknownRole { account: account_id.to_owned(), role: role.to_owned() })?;
        let ty = self.node_ty(node);
        if !self.role_def(account, role_ref).grantable_on_type(ty) {
            return Err(ChangeError::RoleNotGrantable { role: role.to_owned(), ty: self.type_name(account, ty) });
        }
        Ok(role_ref)
    }

    /// Whether anyone holds the custom role after the plan's earlier changes.
    fn role_in_use(&self, a: AccountId, held: RoleRef) -> bool {
        let account = AccountRef::Existing(a);
        let members = &self.pending.members;
        let pending_member = |name: &str| members.iter().rev().find(|(x, p, _)| *x == account && p == name);
        let by_existing =
            self.engine.account_members(a).any(|(p, m)| match pending_member(&self.engine.principals[p].id) {
                Some((_, _, role)) => *role == Some(held),
                None => m.role == held,
            });
        let by_pending = members.iter().enumerate().any(|(i, (x, p, role))| {
            *x == account && *role == Some(held) && !members[i + 1..].iter().any(|(y, q, _)| y == x && q == p)
        });
        let by_grant = self.engine.accounts[a]
            .grants
            .iter()
            .any(|&slot| self.engine.grants[slot].role == held && self.existing_grant_stays(slot))
            || self.pending.grants.iter().any(|g| g.account == account && g.role == held && self.new_grant_stays(g));
        by_existing || by_pending || by_grant
    }

    /// Pack, parent, type and depth of a new account.
    fn new_account(
        &self,
        id: &str,
        pack: &str,
        parent: Option<&str>,
    ) -> Result<(usize, Option<AccountRef>, TypeIdx, usize)> {
        check_id("account", id)?;
        if self.account(id).is_ok() {
            return Err(ChangeError::AccountExists(id.to_owned()));
        }
        Ok(match parent {
            None => {
                let &p = self.engine.pack_index.get(pack).ok_or_else(|| ChangeError::UnknownPack(pack.to_owned()))?;
                (p, None, self.engine.packs[p].root_type(), 1)
            }
            Some(parent) => {
                let pa = self.account(parent)?;
                let p = self.pack_of(pa);
                let pack_def = &self.engine.packs[p];
                if pack_def.id() != pack {
                    return Err(ChangeError::ChildPackMismatch {
                        pack: pack.to_owned(),
                        parent_pack: pack_def.id().to_owned(),
                    });
                }
                // One limit for the whole tree: accounts and resources share the
                // chain a decision walks, so a child account may not push it past
                // `MAX_DEPTH`.
                let parent_node = self.account_node(pa);
                let depth = self.node_depth(parent_node);
                if depth >= MAX_DEPTH {
                    return Err(ChangeError::AccountTooDeep(id.to_owned()));
                }
                let parent_ty = self.node_ty(parent_node);
                let ty = pack_def
                    .types()
                    .iter()
                    .position(|t| t.account && t.parent == Some(parent_ty))
                    .and_then(|t| TypeIdx::try_from(t).ok())
                    .ok_or_else(|| ChangeError::NoChildAccountType {
                        pack: pack.to_owned(),
                        parent_type: pack_def.types()[usize::from(parent_ty)].name.clone(),
                    })?;
                (p, Some(pa), ty, depth + 1)
            }
        })
    }

    /// Resolves one change against the overlay and records its effects there.
    fn resolve(&mut self, change: &Change) -> Result<Step> {
        match change {
            Change::CreateAccount { id, pack, parent } => {
                let (pack_index, parent_ref, ty, depth) = self.new_account(id, pack, parent.as_deref())?;
                self.pending.accounts.push(NewAccount { id: id.clone(), pack: pack_index, ty, depth });
                Ok(Step::CreateAccount { id: id.clone(), pack: pack_index, parent: parent_ref, ty })
            }
            Change::PutMembership { account, principal, role, external, status, expires_at } => {
                let a = self.account(account)?;
                check_id("principal", principal)?;
                let role = self.grantable_role(a, account, role, self.account_node(a))?;
                self.pending.members.push((a, principal.clone(), Some(role)));
                let membership = Membership::new(role, *external, *status, *expires_at);
                Ok(Step::PutMembership { account: a, principal: principal.clone(), membership })
            }
            Change::RemoveMembership { account, principal } => {
                let a = self.account(account)?;
                if self.membership_role(a, principal).is_none() {
                    return Err(ChangeError::UnknownMember { account: account.clone(), principal: principal.clone() });
                }
                self.pending.members.push((a, principal.clone(), None));
                Ok(Step::RemoveMembership { account: a, principal: principal.clone() })
            }
            Change::AddResource { account, resource, parent, owner } => {
                let a = self.account(account)?;
                let (ty_name, id) =
                    split_resource(resource).ok_or_else(|| ChangeError::BadResourceName(resource.clone()))?;
                check_id("resource", id)?;
                let pack = &self.engine.packs[self.pack_of(a)];
                let ty = pack.resource_type(ty_name).filter(|&t| !pack.types()[usize::from(t)].account).ok_or_else(
                    || ChangeError::UnknownResourceType { pack: pack.id().to_owned(), ty: ty_name.to_owned() },
                )?;
                if self.resource(a, resource).is_some() {
                    return Err(ChangeError::ResourceExists { account: account.clone(), resource: resource.clone() });
                }
                let parent_node = self.scope(a, parent.as_deref()).ok_or_else(|| ChangeError::UnknownResource {
                    account: account.clone(),
                    resource: parent.clone().unwrap_or_default(),
                })?;
                let parent_ty = self.node_ty(parent_node);
                let expected = pack.types()[usize::from(ty)].parent;
                if expected != Some(parent_ty) {
                    let name =
                        |t: Option<TypeIdx>| t.map(|t| pack.types()[usize::from(t)].name.clone()).unwrap_or_default();
                    return Err(ChangeError::WrongParentType {
                        ty: ty_name.to_owned(),
                        expected: name(expected),
                        found: name(Some(parent_ty)),
                    });
                }
                let depth = self.node_depth(parent_node);
                if depth >= MAX_DEPTH {
                    return Err(ChangeError::TooDeep(resource.clone()));
                }
                if let Some(owner) = owner {
                    check_id("owner", owner)?;
                }
                self.pending.nodes.push(NewNode {
                    account: a,
                    name: resource.clone(),
                    parent: parent_node,
                    ty,
                    depth: depth + 1,
                });
                Ok(Step::AddResource {
                    account: a,
                    name: resource.clone(),
                    ty,
                    parent: parent_node,
                    owner: owner.clone(),
                })
            }
            Change::RemoveResource { account, resource } => {
                let a = self.account(account)?;
                match self.resource(a, resource) {
                    Some(NodeRef::Existing(node)) => {
                        self.pending.removed_nodes.push(node);
                        Ok(Step::RemoveResource { node })
                    }
                    Some(NodeRef::New(_) | NodeRef::NewAccount(_)) => {
                        Err(ChangeError::RemovesOwnCreation { what: "resource", id: resource.clone() })
                    }
                    None => Err(ChangeError::UnknownResource { account: account.clone(), resource: resource.clone() }),
                }
            }
            Change::AddGrant { id, account, subject, resource, role, expires_at } => {
                check_id("grant", id)?;
                let a = self.account(account)?;
                if self.grant(a, id).is_some() {
                    return Err(ChangeError::GrantExists { account: account.clone(), id: id.clone() });
                }
                let node = self.scope(a, resource.as_deref()).ok_or_else(|| ChangeError::UnknownResource {
                    account: account.clone(),
                    resource: resource.clone().unwrap_or_default(),
                })?;
                let role_ref = self.grantable_role(a, account, role, node)?;
                if self.role_def(a, role_ref).single_holder {
                    return Err(ChangeError::SingleHolderNotGrantable(role.clone()));
                }
                let (subject, group) = match subject {
                    Subject::Principal(p) => {
                        check_id("principal", p)?;
                        (SubjectStep::Principal(p.clone()), None)
                    }
                    Subject::Group(g) => {
                        let group = self
                            .group(a, g)
                            .ok_or_else(|| ChangeError::UnknownGroup { account: account.clone(), group: g.clone() })?;
                        (SubjectStep::Group(group), Some(group))
                    }
                };
                self.pending.grants.push(NewGrant { account: a, id: id.clone(), node, role: role_ref, group });
                Ok(Step::AddGrant { id: id.clone(), subject, node, role: role_ref, expires_at: *expires_at })
            }
            Change::RemoveGrant { account, id } => {
                let a = self.account(account)?;
                match self.grant(a, id) {
                    Some(Ok(slot)) => {
                        self.pending.removed_grants.push(slot);
                        Ok(Step::RemoveGrant { slot })
                    }
                    Some(Err(())) => Err(ChangeError::RemovesOwnCreation { what: "grant", id: id.clone() }),
                    None => Err(ChangeError::UnknownGrant { account: account.clone(), id: id.clone() }),
                }
            }
            Change::AddGroup { account, group } => {
                let a = self.account(account)?;
                check_id("group", group)?;
                if self.group(a, group).is_some() {
                    return Err(ChangeError::GroupExists { account: account.clone(), group: group.clone() });
                }
                self.pending.groups.push((a, group.clone()));
                Ok(Step::AddGroup { account: a, group: group.clone() })
            }
            Change::RemoveGroup { account, group } => {
                let a = self.account(account)?;
                match self.group(a, group) {
                    Some(GroupRef::Existing(g)) => {
                        self.pending.removed_groups.push(g);
                        Ok(Step::RemoveGroup { account: a, group: g })
                    }
                    Some(GroupRef::New(_)) => Err(ChangeError::RemovesOwnCreation { what: "group", id: group.clone() }),
                    None => Err(ChangeError::UnknownGroup { account: account.clone(), group: group.clone() }),
                }
            }
            Change::AddGroupMember { account, group, principal } => {
                let a = self.account(account)?;
                let g = self
                    .group(a, group)
                    .ok_or_else(|| ChangeError::UnknownGroup { account: account.clone(), group: group.clone() })?;
                check_id("principal", principal)?;
                self.pending.group_members.push((g, principal.clone(), true));
                Ok(Step::AddGroupMember { group: g, principal: principal.clone() })
            }
            Change::RemoveGroupMember { account, group, principal } => {
                let a = self.account(account)?;
                let g = self
                    .group(a, group)
                    .ok_or_else(|| ChangeError::UnknownGroup { account: account.clone(), group: group.clone() })?;
                if !self.in_group(g, principal) {
                    return Err(ChangeError::UnknownGroupMember {
                        account: account.clone(),
                        group: group.clone(),
                        principal: principal.clone(),
                    });
                }
                self.pending.group_members.push((g, principal.clone(), false));
                Ok(Step::RemoveGroupMember { group: g, principal: principal.clone() })
            }
            Change::DefineRole { account, role } => {
                let a = self.account(account)?;
                check_id("role", &role.id)?;
                let defined = self.pending.defined_roles.iter().filter(|(x, _)| *x == a).count();
                if self.role(a, &role.id).is_some()
                    || self.pending.defined_roles.iter().any(|(x, id)| *x == a && *id == role.id)
                {
                    return Err(ChangeError::CustomRoleExists(role.id.clone()));
                }
                let ty = self.node_ty(self.account_node(a));
                let compiled = compile_custom_role_for(&self.engine.packs[self.pack_of(a)], ty, role)?;
                // Role references hold a `u16`: an account has at most 65,536 custom roles.
                let (held, free) = match a {
                    AccountRef::Existing(x) => {
                        let acc = &self.engine.accounts[x];
                        let removed = self.pending.removed_roles.iter().filter(|(y, _)| *y == x).count();
                        (acc.custom_roles.len(), acc.free_custom_slots.len() + removed)
                    }
                    AccountRef::New(_) => (0, 0),
                };
                if held + (defined + 1).saturating_sub(free) > usize::from(u16::MAX) + 1 {
                    return Err(ChangeError::TooManyCustomRoles { account: account.clone(), role: role.id.clone() });
                }
                self.pending.defined_roles.push((a, role.id.clone()));
                Ok(Step::DefineRole { account: a, id: role.id.clone(), role: compiled })
            }
            Change::RemoveRole { account, role } => {
                let a = self.account(account)?;
                let unknown = || ChangeError::UnknownRole { account: account.clone(), role: role.clone() };
                let (AccountRef::Existing(x), Some(RoleRef::Custom(index))) = (a, self.role(a, role)) else {
                    return Err(unknown());
                };
                if self.role_in_use(x, RoleRef::Custom(index)) {
                    return Err(ChangeError::RoleInUse(role.clone()));
                }
                self.pending.removed_roles.push((x, index));
                Ok(Step::RemoveRole { account: x, id: role.clone(), index })
            }
        }
    }
}

impl Engine {
    /// Pack index and type of a new account, refused as creating it would be.
    pub(crate) fn resolve_new_account(&self, id: &str, pack: &str, parent: Option<&str>) -> Result<(usize, TypeIdx)> {
        let overlay = Overlay { engine: self, pending: Pending::default() };
        overlay.new_account(id, pack, parent).map(|(pack, _, ty, _)| (pack, ty))
    }

    /// Validates `changes` in order, each against the state the ones before it leave,
    /// and returns them as a plan that [`commit`](Engine::commit) applies whole. The first
    /// change that does not fit is the error; nothing changes either way.
    pub fn validate(&self, changes: Vec<Change>) -> Result<Plan> {
        let mut overlay = Overlay { engine: self, pending: Pending::default() };
        let steps = changes.iter().map(|change| overlay.resolve(change)).collect::<Result<Vec<_>>>()?;
        Ok(Plan { changes, steps, instance: self.stamp.instance, generation: self.stamp.generation })
    }

    /// Applies a plan validated against this engine in its current state and returns the
    /// new revision. Applying cannot fail; the one refusal is a plan from another state
    /// ([`StalePlan`]: another engine, or one that changed since), and then nothing
    /// changes. The daemon plans and commits under one writer lock, so it never sees it.
    pub fn commit(&mut self, plan: Plan) -> std::result::Result<u64, StalePlan> {
        if plan.instance != self.stamp.instance || plan.generation != self.stamp.generation {
            return Err(StalePlan);
        }
        if plan.steps.is_empty() {
            return Ok(self.revision);
        }
        Ok(self.commit_steps(plan.steps))
    }
}
