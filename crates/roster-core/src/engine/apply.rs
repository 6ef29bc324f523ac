//! Incremental updates: the [`Change`] type, and committing validated [`Step`]s. Each step
//! touches only the entries it names and bumps the revision; it was resolved to indexes
//! by validation (`check`), so committing checks nothing and cannot fail.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::check::{AccountRef, GroupRef, NodeRef, Step, SubjectStep};
use super::{
    Account, AccountId, Engine, GrantRec, GrantSlot, Group, GroupId, Node, NodeId, Principal, PrincipalId, RoleRef,
    SubjectRef,
};
use crate::ids::is_valid_id;
use crate::manifest::RoleDef;
use crate::pack::{CompiledRole, Pack, TypeIdx};

/// Whether a membership counts.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MembershipStatus {
    /// The member holds their role.
    Active,
    /// Soft-removed: kept for restore or purge, counts as absent.
    Removed,
}

/// Who a grant is for: `principal:<id>` or `group:<id>`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Subject {
    /// One principal.
    Principal(String),
    /// Every member of a group of the grant's account.
    Group(String),
}

impl Change {
    /// The accounts this change writes in (a new child account: itself and its parent).
    pub fn accounts(&self) -> Vec<&str> {
        match self {
            Change::CreateAccount { id, parent, .. } => std::iter::once(id).chain(parent).map(String::as_str).collect(),
            Change::PutMembership { account, .. }
            | Change::RemoveMembership { account, .. }
            | Change::AddResource { account, .. }
            | Change::RemoveResource { account, .. }
            | Change::AddGrant { account, .. }
            | Change::RemoveGrant { account, .. }
            | Change::AddGroup { account, .. }
            | Change::RemoveGroup { account, .. }
            | Change::AddGroupMember { account, .. }
            | Change::RemoveGroupMember { account, .. }
            | Change::DefineRole { account, .. }
            | Change::RemoveRole { account, .. } => vec![account],
        }
    }

    /// The principals this change names (a member, a grant's subject, a resource's owner).
    pub fn principals(&self) -> Vec<&str> {
        match self {
            Change::PutMembership { principal, .. }
            | Change::RemoveMembership { principal, .. }
            | Change::AddGroupMember { principal, .. }
            | Change::RemoveGroupMember { principal, .. } => vec![principal],
            Change::AddGrant { subject: Subject::Principal(principal), .. } => vec![principal],
            Change::AddResource { owner: Some(owner), .. } => vec![owner],
            _ => Vec::new(),
        }
    }
}

impl std::str::FromStr for Subject {
    type Err = String;

    fn from_str(text: &str) -> std::result::Result<Self, Self::Err> {
        match text.split_once(':') {
            Some(("principal", id)) if is_valid_id(id) => Ok(Subject::Principal(id.to_owned())),
            Some(("group", id)) if is_valid_id(id) => Ok(Subject::Group(id.to_owned())),
            _ => Err(format!("subject `{text}` must be `principal:<id>` or `group:<id>`")),
        }
    }
}

impl TryFrom<String> for Subject {
    type Error = String;

    fn try_from(text: String) -> std::result::Result<Self, Self::Error> {
        text.parse()
    }
}

impl From<Subject> for String {
    fn from(subject: Subject) -> Self {
        subject.to_string()
    }
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Subject::Principal(id) => write!(f, "principal:{id}"),
            Subject::Group(id) => write!(f, "group:{id}"),
        }
    }
}

/// One committed write, as the engine applies it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Change {
    /// A new account; with `parent`, a child account of the parent's pack.
    CreateAccount {
        /// Account id.
        id: String,
        /// Pack id.
        pack: String,
        /// Parent account id.
        parent: Option<String>,
    },
    /// Creates or replaces a principal's membership.
    PutMembership {
        /// Account id.
        account: String,
        /// Principal id.
        principal: String,
        /// Role id (pack or custom).
        role: String,
        /// External consultant: the role gives nothing, only grants do.
        external: bool,
        /// Active or soft-removed.
        status: MembershipStatus,
        /// Unix seconds after which the membership counts as absent.
        expires_at: Option<i64>,
    },
    /// Deletes a membership outright.
    RemoveMembership {
        /// Account id.
        account: String,
        /// Principal id.
        principal: String,
    },
    /// A resource under `parent` (default: the account).
    AddResource {
        /// Account id.
        account: String,
        /// `"<type>:<id>"`.
        resource: String,
        /// Parent resource name.
        parent: Option<String>,
        /// Owning principal.
        owner: Option<String>,
    },
    /// Deletes a resource, its descendants and grants on them.
    RemoveResource {
        /// Account id.
        account: String,
        /// `"<type>:<id>"`.
        resource: String,
    },
    /// A role on a resource (or the account) for a principal or group.
    AddGrant {
        /// Grant id, unique within the account.
        id: String,
        /// Account id.
        account: String,
        /// Grantee.
        subject: Subject,
        /// Resource name; `None` or `"account"` for the account.
        resource: Option<String>,
        /// Role id.
        role: String,
        /// Unix seconds after which the grant counts as absent.
        expires_at: Option<i64>,
    },
    /// Deletes a grant.
    RemoveGrant {
        /// Account id.
        account: String,
        /// Grant id, unique within the account.
        id: String,
    },
    /// A new, empty group.
    AddGroup {
        /// Account id.
        account: String,
        /// Group id.
        group: String,
    },
    /// Deletes a group and its grants.
    RemoveGroup {
        /// Account id.
        account: String,
        /// Group id.
        group: String,
    },
    /// Puts a principal in a group.
    AddGroupMember {
        /// Account id.
        account: String,
        /// Group id.
        group: String,
        /// Principal id.
        principal: String,
    },
    /// Takes a principal out of a group.
    RemoveGroupMember {
        /// Account id.
        account: String,
        /// Group id.
        group: String,
        /// Principal id.
        principal: String,
    },
    /// A custom account-level role.
    DefineRole {
        /// Account id.
        account: String,
        /// The role; `grantable_on` and the flags must be left empty.
        role: RoleDef,
    },
    /// Deletes a custom role nobody holds.
    RemoveRole {
        /// Account id.
        account: String,
        /// Role id.
        role: String,
    },
}

/// Why a change does not fit the state.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ChangeError {
    /// An id breaks the id alphabet.
    #[error("{what} id `{id}` is not valid: 1-128 characters of A-Z a-z 0-9 _ . : @ -")]
    BadId {
        /// What kind of id.
        what: &'static str,
        /// The id.
        id: String,
    },
    /// No such pack is loaded.
    #[error("pack `{0}` is not loaded")]
    UnknownPack(String),
    /// A child account names another pack than its parent's.
    #[error("a child account uses its parent's pack `{parent_pack}`, not `{pack}`")]
    ChildPackMismatch {
        /// The pack asked for.
        pack: String,
        /// The parent account's pack.
        parent_pack: String,
    },
    /// The account tree is too deep.
    #[error("account `{0}` would sit deeper than {max} levels of accounts and resources", max = super::MAX_DEPTH)]
    AccountTooDeep(String),
    /// No such account.
    #[error("account `{0}` does not exist")]
    UnknownAccount(String),
    /// The account id is taken.
    #[error("account `{0}` already exists")]
    AccountExists(String),
    /// The parent's pack has no account type under the parent's type.
    #[error("pack `{pack}` has no child account type under `{parent_type}`")]
    NoChildAccountType {
        /// Pack id.
        pack: String,
        /// The parent's type.
        parent_type: String,
    },
    /// No such resource.
    #[error("resource `{resource}` does not exist in account `{account}`")]
    UnknownResource {
        /// Account id.
        account: String,
        /// Resource name.
        resource: String,
    },
    /// The resource name is taken.
    #[error("resource `{resource}` already exists in account `{account}`")]
    ResourceExists {
        /// Account id.
        account: String,
        /// Resource name.
        resource: String,
    },
    /// A resource name that is not `type:id`.
    #[error("resource `{0}` must be `<type>:<id>`")]
    BadResourceName(String),
    /// The type is not in the pack (or is an account type).
    #[error("resource type `{ty}` is not a resource type of pack `{pack}`")]
    UnknownResourceType {
        /// Pack id.
        pack: String,
        /// Type name.
        ty: String,
    },
    /// The parent has the wrong type.
    #[error("a `{ty}` must sit under a `{expected}`, not under `{found}`")]
    WrongParentType {
        /// The child type.
        ty: String,
        /// The type its parent must have.
        expected: String,
        /// The parent's type.
        found: String,
    },
    /// The chain is too deep.
    #[error("resource `{0}` would sit deeper than {max} levels", max = super::MAX_DEPTH)]
    TooDeep(String),
    /// No such role in the account.
    #[error("role `{role}` does not exist in account `{account}`")]
    UnknownRole {
        /// Account id.
        account: String,
        /// Role id.
        role: String,
    },
    /// The role may not be held there.
    #[error("role `{role}` cannot be granted on a `{ty}`")]
    RoleNotGrantable {
        /// Role id.
        role: String,
        /// Type name.
        ty: String,
    },
    /// No such membership.
    #[error("`{principal}` is not a member of account `{account}`")]
    UnknownMember {
        /// Account id.
        account: String,
        /// Principal id.
        principal: String,
    },
    /// No such group.
    #[error("group `{group}` does not exist in account `{account}`")]
    UnknownGroup {
        /// Account id.
        account: String,
        /// Group id.
        group: String,
    },
    /// The group id is taken.
    #[error("group `{group}` already exists in account `{account}`")]
    GroupExists {
        /// Account id.
        account: String,
        /// Group id.
        group: String,
    },
    /// No such grant.
    #[error("grant `{id}` does not exist in account `{account}`")]
    UnknownGrant {
        /// Account id.
        account: String,
        /// Grant id.
        id: String,
    },
    /// The grant id is taken in the account.
    #[error("grant `{id}` already exists in account `{account}`")]
    GrantExists {
        /// Account id.
        account: String,
        /// Grant id.
        id: String,
    },
    /// A custom role's id is taken by a pack role or another custom role of the account.
    #[error("custom role `{0}`: a role with this id already exists in the account or its pack")]
    CustomRoleExists(String),
    /// A custom role without a title.
    #[error("custom role `{0}`: the title must not be empty")]
    EmptyRoleTitle(String),
    /// A custom role that sets a flag only pack roles may set.
    #[error(
        "custom role `{0}`: custom roles cannot set default, single_holder, transferable, protected, \
         grantee_requires or grantable_to_non_members"
    )]
    CustomRoleFlags(String),
    /// A custom role naming types it may be granted on.
    #[error("custom role `{0}`: custom roles are account roles; leave grantable_on empty")]
    CustomRoleGrantableOn(String),
    /// A custom role giving a permission the pack does not have.
    #[error("custom role `{role}`: permission `{permission}` is not a permission of pack `{pack}`")]
    UnknownRolePermission {
        /// Role id.
        role: String,
        /// The permission (pattern) asked for.
        permission: String,
        /// Pack id.
        pack: String,
    },
    /// A custom role managing a role the pack does not have.
    #[error("custom role `{role}`: manages unknown role `{managed}`")]
    UnknownManagedRole {
        /// Role id.
        role: String,
        /// The managed role asked for.
        managed: String,
    },
    /// The account has as many custom roles as role references can name.
    #[error("account `{account}` has 65,536 custom roles; delete one before defining `{role}`")]
    TooManyCustomRoles {
        /// Account id.
        account: String,
        /// Role id.
        role: String,
    },
    /// No such member in a group.
    #[error("`{principal}` is not a member of group `{group}` in account `{account}`")]
    UnknownGroupMember {
        /// Account id.
        account: String,
        /// Group id.
        group: String,
        /// Principal id.
        principal: String,
    },
    /// A plan that removes a record one of its own earlier changes creates: plans never
    /// need to, and refusing it keeps validation in sequence exact.
    #[error("a plan cannot remove the {what} `{id}` that it creates itself")]
    RemovesOwnCreation {
        /// What kind of record.
        what: &'static str,
        /// Its id.
        id: String,
    },
    /// A custom role still held.
    #[error("role `{0}` is still held by members or grants")]
    RoleInUse(String),
    /// Single-holder roles are held through the account membership only.
    #[error("role `{0}` has exactly one holder per account: it is never granted, it moves only by ownership transfer")]
    SingleHolderNotGrantable(String),
}

type Result<T> = std::result::Result<T, ChangeError>;

pub(crate) fn check_id(what: &'static str, id: &str) -> Result<()> {
    if is_valid_id(id) { Ok(()) } else { Err(ChangeError::BadId { what, id: id.to_owned() }) }
}

/// What the steps of one plan created so far, in order: a step naming the `i`-th record
/// its plan creates reads its index here (validation hands out only `i`s already made).
#[derive(Default)]
struct Made {
    accounts: Vec<AccountId>,
    nodes: Vec<NodeId>,
    groups: Vec<GroupId>,
}

impl Made {
    fn account(&self, account: AccountRef) -> AccountId {
        match account {
            AccountRef::Existing(a) => a,
            AccountRef::New(i) => self.accounts[i],
        }
    }

    fn group(&self, group: GroupRef) -> GroupId {
        match group {
            GroupRef::Existing(g) => g,
            GroupRef::New(i) => self.groups[i],
        }
    }
}

impl Engine {
    /// Applies one change and returns the new revision; on error nothing changed. For
    /// replaying stored changes; management goes through [`Engine::plan`].
    pub fn apply(&mut self, change: Change) -> Result<u64> {
        let plan = self.validate(vec![change])?;
        Ok(self.commit_steps(plan.into_steps()))
    }

    /// Commits validated steps in order; returns the new revision. Infallible: every
    /// index in a step was resolved against the state the earlier steps leave.
    pub(crate) fn commit_steps(&mut self, steps: Vec<Step>) -> u64 {
        let mut made = Made::default();
        for step in steps {
            self.commit_step(step, &mut made);
            self.revision += 1;
        }
        self.stamp.generation += 1;
        self.revision
    }

    fn node_ref(&self, node: NodeRef, made: &Made) -> NodeId {
        match node {
            NodeRef::Existing(n) => n,
            NodeRef::New(i) => made.nodes[i],
            NodeRef::NewAccount(i) => self.accounts[made.accounts[i]].node,
        }
    }

    fn commit_step(&mut self, step: Step, made: &mut Made) {
        match step {
            Step::CreateAccount { id, pack, parent, ty } => {
                let parent = parent.map(|p| made.account(p));
                made.accounts.push(self.create_account(id, pack, parent, ty));
            }
            Step::PutMembership { account, principal, membership } => {
                let a = made.account(account);
                let p = self.intern(&principal);
                self.list_member(a, p);
                let accounts = &mut self.principals[p].accounts;
                match accounts.iter_mut().find(|(x, _)| *x == a) {
                    Some((_, held)) => *held = membership,
                    None => accounts.push((a, membership)),
                }
            }
            Step::RemoveMembership { account, principal } => {
                let a = made.account(account);
                let p = self.intern(&principal);
                self.unlist_member(a, p);
                self.principals[p].accounts.retain(|(x, _)| *x != a);
            }
            Step::AddResource { account, name, ty, parent, owner } => {
                let a = made.account(account);
                let parent = self.node_ref(parent, made);
                let owner = owner.map(|o| self.intern(&o));
                let node = self.push_node(Node {
                    name: name.as_str().into(),
                    parent,
                    account: a,
                    ty,
                    owner,
                    alive: true,
                    is_account: false,
                });
                let nodes = &self.nodes;
                self.accounts[a].resources.insert(node, |id| nodes[id].name.as_str());
                made.nodes.push(node);
            }
            Step::RemoveResource { node } => self.remove_subtree(node),
            Step::AddGrant { id, subject, node, role, expires_at } => {
                let node = self.node_ref(node, made);
                let subject = match subject {
                    SubjectStep::Principal(p) => SubjectRef::Principal(self.intern(&p)),
                    SubjectStep::Group(g) => SubjectRef::Group(made.group(g)),
                };
                self.add_grant(&id, subject, node, role, expires_at);
            }
            Step::RemoveGrant { slot } => self.remove_grant(slot),
            Step::AddGroup { account, group } => {
                let a = made.account(account);
                let fresh = Group { name: group.clone(), members: Default::default(), grants: Vec::new(), alive: true };
                let g = match self.free.groups.pop() {
                    Some(g) => {
                        self.groups[g] = fresh;
                        g
                    }
                    None => {
                        self.groups.push(fresh);
                        GroupId::at(self.groups.len() - 1)
                    }
                };
                self.accounts[a].groups.insert(group.into(), g);
                self.list_group(a, g);
                made.groups.push(g);
            }
            Step::RemoveGroup { account, group } => {
                let a = made.account(account);
                for slot in std::mem::take(&mut self.groups[group].grants) {
                    self.remove_grant(slot);
                }
                for p in std::mem::take(&mut self.groups[group].members) {
                    self.leave_group(p, group);
                }
                self.unlist_group(a, group);
                self.groups[group].alive = false;
                self.free.groups.push(group);
                let name = std::mem::take(&mut self.groups[group].name);
                self.accounts[a].groups.remove(name.as_str());
            }
            Step::AddGroupMember { group, principal } => {
                let g = made.group(group);
                let p = self.intern(&principal);
                if self.groups[g].members.insert(p) {
                    self.principal_groups.entry(p).or_default().push(g);
                    self.principals[p].in_groups = true;
                }
            }
            Step::RemoveGroupMember { group, principal } => {
                let g = made.group(group);
                let p = self.intern(&principal);
                if self.groups[g].members.remove(&p) {
                    self.leave_group(p, g);
                }
            }
            Step::DefineRole { account, id, role } => {
                let acc = &mut self.accounts[made.account(account)];
                let index = match acc.free_custom_slots.pop() {
                    Some(free) => {
                        acc.custom_roles[usize::from(free)] = role;
                        free
                    }
                    None => {
                        // Validation refused a role past the last index, so this fits.
                        let index = u16::try_from(acc.custom_roles.len()).unwrap_or(u16::MAX);
                        acc.custom_roles.push(role);
                        index
                    }
                };
                acc.custom_index.insert(id.into(), index);
            }
            Step::RemoveRole { account, id, index } => {
                // Validation made sure nobody holds it, so its slot is free for the next one.
                let acc = &mut self.accounts[account];
                acc.custom_index.remove(id.as_str());
                acc.free_custom_slots.push(index);
            }
        }
    }

    pub(crate) fn account_id(&self, account: &str) -> Result<AccountId> {
        self.account_index.get(account).copied().ok_or_else(|| ChangeError::UnknownAccount(account.to_owned()))
    }

    pub(crate) fn group_id(&self, account: &str, group: &str) -> Result<(AccountId, GroupId)> {
        let a = self.account_id(account)?;
        let g = self.accounts[a]
            .groups
            .get(group)
            .copied()
            .ok_or_else(|| ChangeError::UnknownGroup { account: account.to_owned(), group: group.to_owned() })?;
        Ok((a, g))
    }

    fn leave_group(&mut self, p: PrincipalId, g: GroupId) {
        if let Some(groups) = self.principal_groups.get_mut(&p) {
            groups.retain(|x| *x != g);
            if groups.is_empty() {
                self.principal_groups.remove(&p);
                self.principals[p].in_groups = false;
            }
        }
    }

    fn intern(&mut self, principal: &str) -> PrincipalId {
        if let Some(&p) = self.principal_lookup(principal) {
            return p;
        }
        let p = PrincipalId::at(self.principals.len());
        self.principals.push(Principal { id: principal.into(), ..Principal::default() });
        let principals = &self.principals;
        self.principal_index.insert(p, |id| principals[id].id.as_str());
        p
    }

    /// Resolves a role id and checks it may be held on `node`.
    pub(crate) fn grantable_role(&self, account: AccountId, role: &str, node: NodeId) -> Result<RoleRef> {
        let account_id = &self.accounts[account].id;
        let role_ref = self
            .role_ref(account, role)
            .ok_or_else(|| ChangeError::UnknownRole { account: account_id.clone(), role: role.to_owned() })?;
        let ty = self.nodes[node].ty;
        if !self.role(account, role_ref).grantable_on_type(ty) {
            let ty = self.account_pack_of(account).types()[usize::from(ty)].name.clone();
            return Err(ChangeError::RoleNotGrantable { role: role.to_owned(), ty });
        }
        Ok(role_ref)
    }

    fn push_node(&mut self, node: Node) -> NodeId {
        let parent = node.parent;
        let id = match self.free.nodes.pop() {
            Some(id) => {
                self.nodes[id] = node;
                id
            }
            None => {
                self.nodes.push(node);
                NodeId::at(self.nodes.len() - 1)
            }
        };
        if parent != super::NO_NODE {
            self.children.entry(parent).or_default().push(id);
        }
        id
    }

    fn create_account(&mut self, id: String, pack: usize, parent: Option<AccountId>, ty: TypeIdx) -> AccountId {
        let a = AccountId::at(self.accounts.len());
        let parent_node = parent.map(|pa| self.accounts[pa].node);
        let node = self.push_node(Node {
            name: id.as_str().into(),
            parent: parent_node.unwrap_or(super::NO_NODE),
            account: a,
            ty,
            owner: None,
            alive: true,
            is_account: true,
        });
        self.accounts.push(Account {
            id: id.clone(),
            pack,
            parent,
            node,
            children: Vec::new(),
            resources: Default::default(),
            members: Default::default(),
            groups: Default::default(),
            group_list: Vec::new(),
            custom_roles: Vec::new(),
            custom_index: Default::default(),
            free_custom_slots: Vec::new(),
            grants: Vec::new(),
            grant_ids: Default::default(),
        });
        if let Some(pa) = parent {
            self.list_child(pa, a);
        }
        self.account_index.insert(id.into(), a);
        a
    }

    fn remove_subtree(&mut self, root: NodeId) {
        let mut stack = vec![root];
        let mut removed = rustc_hash::FxHashSet::default();
        let account = self.nodes[root].account;
        while let Some(node) = stack.pop() {
            let n = &mut self.nodes[node];
            n.alive = false;
            let name = n.name.clone();
            stack.extend(self.children.remove(&node).unwrap_or_default());
            let nodes = &self.nodes;
            self.accounts[account].resources.remove(name.as_str(), |id| nodes[id].name.as_str());
            removed.insert(node);
        }
        self.free.nodes.extend(removed.iter().copied());
        let doomed: Vec<GrantSlot> = self.accounts[account]
            .grants
            .iter()
            .copied()
            .filter(|&slot| removed.contains(&self.grants[slot].node))
            .collect();
        for slot in doomed {
            self.remove_grant(slot);
        }
        if let Some(parent) = self.parent_of(root)
            && let Some(siblings) = self.children.get_mut(&parent)
        {
            siblings.retain(|&c| c != root);
            if siblings.is_empty() {
                self.children.remove(&parent);
            }
        }
    }

    fn add_grant(&mut self, id: &str, subject: SubjectRef, node: NodeId, role: RoleRef, expires_at: Option<i64>) {
        let record = GrantRec::new(id, subject, node, role, expires_at);
        let slot = match self.free.grants.pop() {
            Some(slot) => {
                self.grants[slot] = record;
                slot
            }
            None => {
                self.grants.push(record);
                GrantSlot::at(self.grants.len() - 1)
            }
        };
        let account = self.nodes[node].account;
        let grants = &self.grants;
        self.accounts[account].grant_ids.insert(slot, |s| grants[s].id.as_str());
        self.list_grant(account, slot);
        match subject {
            SubjectRef::Principal(p) => self.principals[p].grants.push((slot, node)),
            SubjectRef::Group(g) => self.groups[g].grants.push(slot),
        }
    }

    fn remove_grant(&mut self, slot: GrantSlot) {
        if !self.grants[slot].alive {
            return;
        }
        // Out of the index and the ordered list first: they find the slot by the id the
        // grant still holds.
        let grants = &self.grants;
        let account = self.nodes[grants[slot].node].account;
        self.accounts[account].grant_ids.remove(grants[slot].id.as_str(), |s| grants[s].id.as_str());
        self.unlist_grant(account, slot);
        let grant = &mut self.grants[slot];
        grant.alive = false;
        let subject = grant.subject;
        grant.id = super::Key::default();
        match subject {
            SubjectRef::Principal(p) => self.principals[p].grants.retain(|(s, _)| *s != slot),
            SubjectRef::Group(g) => self.groups[g].grants.retain(|&s| s != slot),
        }
        self.free.grants.push(slot);
    }

    /// Compiles a custom role of an existing account, refusing an id already taken there.
    pub(crate) fn compile_custom_role(&self, account: AccountId, role: &RoleDef) -> Result<CompiledRole> {
        check_id("role", &role.id)?;
        if self.role_ref(account, &role.id).is_some() {
            return Err(ChangeError::CustomRoleExists(role.id.clone()));
        }
        let ty = self.nodes[self.accounts[account].node].ty;
        compile_custom_role_for(self.account_pack_of(account), ty, role)
    }
}

/// Compiles a custom role for an account of `pack` whose own type is `account_ty`: the
/// checks that depend on the role alone (not on which ids the account has taken).
pub(crate) fn compile_custom_role_for(pack: &Pack, account_ty: TypeIdx, role: &RoleDef) -> Result<CompiledRole> {
    let id = || role.id.clone();
    check_id("role", &role.id)?;
    if role.title.trim().is_empty() {
        return Err(ChangeError::EmptyRoleTitle(id()));
    }
    if role.default
        || role.single_holder
        || role.transferable
        || role.protected
        || role.grantee_requires.is_some()
        || role.grantable_to_non_members
    {
        return Err(ChangeError::CustomRoleFlags(id()));
    }
    if !role.grantable_on.is_empty() {
        return Err(ChangeError::CustomRoleGrantableOn(id()));
    }
    for rule in &role.permissions {
        if !pack.permission_ids().iter().any(|p| rule.matches(p)) {
            return Err(ChangeError::UnknownRolePermission {
                role: id(),
                permission: rule.pattern.clone(),
                pack: pack.id().to_owned(),
            });
        }
    }
    for managed in &role.manages {
        if pack.role(managed).is_none() {
            return Err(ChangeError::UnknownManagedRole { role: id(), managed: managed.clone() });
        }
    }
    let mut compiled = pack.compile_role(role, true);
    compiled.grantable_on = 1u64 << account_ty;
    Ok(compiled)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::manifest::PackManifest;

    fn engine() -> Engine {
        let manifest = PackManifest::from_json(
            r#"{"schema_version":1,"id":"docs","version":"1","title":"Docs",
            "resource_types":[{"name":"account"},{"name":"folder","parent":"account"},{"name":"doc","parent":"folder"}],
            "permissions":[{"id":"doc.view"}],
            "roles":[{"id":"reader","title":"Reader","rank":5,"permissions":["doc.view"],
                      "grantable_on":["account","folder","doc"]}]}"#,
        )
        .expect("test pack parses");
        let mut engine = Engine::new([Arc::new(crate::validate(manifest).expect("valid"))]);
        engine.apply(Change::CreateAccount { id: "a".into(), pack: "docs".into(), parent: None }).expect("account");
        engine
    }

    #[test]
    fn create_delete_churn_keeps_the_tables_flat() {
        let mut engine = engine();
        let mut sizes = Vec::new();
        for round in 0..2_000 {
            let folder = format!("folder:f{round}");
            let changes = [
                Change::AddResource { account: "a".into(), resource: folder.clone(), parent: None, owner: None },
                Change::AddResource {
                    account: "a".into(),
                    resource: format!("doc:d{round}"),
                    parent: Some(folder.clone()),
                    owner: Some("p".into()),
                },
                Change::AddGroup { account: "a".into(), group: "g".into() },
                Change::AddGrant {
                    id: format!("g{round}"),
                    account: "a".into(),
                    subject: Subject::Group("g".into()),
                    resource: Some(folder.clone()),
                    role: "reader".into(),
                    expires_at: None,
                },
                Change::AddGrant {
                    id: format!("p{round}"),
                    account: "a".into(),
                    subject: Subject::Principal("p".into()),
                    resource: Some(format!("doc:d{round}")),
                    role: "reader".into(),
                    expires_at: None,
                },
                Change::RemoveGroup { account: "a".into(), group: "g".into() },
                Change::RemoveResource { account: "a".into(), resource: folder },
            ];
            for change in changes {
                engine.apply(change).unwrap_or_else(|e| panic!("round {round}: {e}"));
            }
            sizes.push((engine.nodes.len(), engine.grants.len(), engine.groups.len()));
        }
        assert_eq!(sizes[10], sizes[sizes.len() - 1], "slots are reused: no table grows with churn");
        assert!(engine.nodes.len() <= 3 && engine.grants.len() <= 2 && engine.groups.len() <= 1, "{:?}", sizes.last());
        assert_eq!(engine.counts(), (1, 0, 0, 0));
    }
}
