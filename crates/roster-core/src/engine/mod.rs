//! The compiled in-memory state: accounts, resource trees, memberships, grants, groups and
//! custom roles, interned and linked for allocation-free decisions. Writes arrive as
//! [`Change`]s ([`apply`](Engine::apply)) and update only what they touch.

mod apply;
mod check;
mod keyed_hash;
mod name_index;
mod ordered;
mod pages;
mod query;
mod transient;
mod views;

use std::sync::Arc;

use rustc_hash::{FxHashMap, FxHashSet};

use self::keyed_hash::IdMap;
use smallvec::SmallVec;

use crate::pack::{CompiledRole, Pack, TypeIdx};

pub use apply::{Change, ChangeError, MembershipStatus, Subject};
pub use check::{Plan, StalePlan};
pub use pages::{Page, PageRequest};
pub use query::{EffectivePermissions, QueryError};
pub use transient::Transient;
pub use views::{GrantView, GroupView, ResourceView, RoleView};

/// An id as the engine's maps key it: stored inline up to 24 bytes.
pub(crate) type Key = compact_str::CompactString;

/// Declares a table index: a distinct `u32` newtype that indexes only its own table
/// (`Index<AccountId> for Vec<Account>` and so on), so the compiler refuses an index of one
/// table used on another.
macro_rules! table_index {
    ($(#[$doc:meta])* $name:ident => $record:ty) => {
        $(#[$doc])*
        #[repr(transparent)]
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub(crate) struct $name(u32);

        impl $name {
            /// The position in its table.
            #[inline]
            pub(crate) fn index(self) -> usize {
                self.0 as usize
            }

            /// The index of the next record pushed onto a table of `len` records. Tables
            /// stay far below `u32::MAX` entries (ids are capped by memory long before).
            #[inline]
            pub(crate) fn at(len: usize) -> Self {
                $name(len as u32)
            }
        }

        impl std::ops::Index<$name> for Vec<$record> {
            type Output = $record;

            #[inline]
            fn index(&self, index: $name) -> &$record {
                &self[index.index()]
            }
        }

        impl std::ops::IndexMut<$name> for Vec<$record> {
            #[inline]
            fn index_mut(&mut self, index: $name) -> &mut $record {
                &mut self[index.index()]
            }
        }
    };
}

table_index!(
    /// Index of an account in the engine.
    AccountId => Account
);
table_index!(
    /// Index of a resource node (accounts have one too).
    NodeId => Node
);
table_index!(
    /// Index of an interned principal.
    PrincipalId => Principal
);
table_index!(
    /// Index of a group.
    GroupId => Group
);
table_index!(
    /// Index of a grant slot.
    GrantSlot => GrantRec
);

/// Most nodes on any chain from a resource or account up to its top account (resources and
/// accounts together): deeper resources and child accounts are refused, so the ancestor
/// walk never stops short.
pub const MAX_DEPTH: usize = 32;

/// A role as memberships and grants refer to it: one of the pack's, or one of the
/// account's custom roles.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RoleRef {
    /// Index into the pack's roles.
    Pack(u16),
    /// Index into the account's custom roles.
    Custom(u16),
}

/// A resource or an account's own node, 48 bytes: its name (inline), its parent (read
/// on the same cache line as the name a lookup just compared), its account. Children
/// live in a side map (most nodes are leaves), grants in the account's list.
#[derive(Clone, Debug)]
pub(crate) struct Node {
    pub(crate) name: Key,
    /// The parent node, or [`NO_NODE`].
    pub(crate) parent: NodeId,
    pub(crate) account: AccountId,
    pub(crate) ty: TypeIdx,
    pub(crate) owner: Option<PrincipalId>,
    pub(crate) alive: bool,
    /// Set on an account's own node.
    pub(crate) is_account: bool,
}

/// A membership, 16 bytes: it is stored once per member, inline in the principal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Membership {
    pub(crate) role: RoleRef,
    pub(crate) external: bool,
    pub(crate) status: MembershipStatus,
    lapses: Lapse,
}

/// When a membership or grant lapses, in 8 bytes: unix seconds, `i64::MAX` for never
/// (an `Option<i64>` would take 16).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Lapse(i64);

impl Lapse {
    const NEVER: i64 = i64::MAX;

    fn new(expires_at: Option<i64>) -> Self {
        Lapse(expires_at.unwrap_or(Self::NEVER))
    }

    fn expires_at(self) -> Option<i64> {
        Some(self.0).filter(|&at| at != Self::NEVER)
    }

    /// Whether it still holds at `now` (it lapses at its second, not after).
    #[inline]
    fn holds_at(self, now: i64) -> bool {
        self.0 > now
    }
}

impl Membership {
    pub(crate) fn new(role: RoleRef, external: bool, status: MembershipStatus, expires_at: Option<i64>) -> Self {
        Membership { role, external, status, lapses: Lapse::new(expires_at) }
    }

    /// When it lapses, if ever.
    pub(crate) fn expires_at(&self) -> Option<i64> {
        self.lapses.expires_at()
    }

    #[inline]
    pub(crate) fn is_live(&self, now: i64) -> bool {
        self.status == MembershipStatus::Active && self.lapses.holds_at(now)
    }
}

#[derive(Clone, Debug)]
pub(crate) struct Account {
    pub(crate) id: String,
    pub(crate) pack: usize,
    pub(crate) parent: Option<AccountId>,
    pub(crate) node: NodeId,
    /// Child accounts, in id order.
    pub(crate) children: Vec<AccountId>,
    /// The account's resource nodes by name.
    pub(crate) resources: name_index::NameIndex<NodeId>,
    /// Principals with a membership (any status), in principal id order; the membership
    /// itself sits on the principal ([`Principal::accounts`]).
    pub(crate) members: Vec<PrincipalId>,
    pub(crate) groups: IdMap<Key, GroupId>,
    /// The live groups, in id order.
    pub(crate) group_list: Vec<GroupId>,
    pub(crate) custom_roles: Vec<CompiledRole>,
    pub(crate) custom_index: IdMap<Key, u16>,
    /// Slots of deleted custom roles, reused by the next definition (nobody holds them).
    pub(crate) free_custom_slots: Vec<u16>,
    /// Live grants on the account's node and resources, in grant id order.
    pub(crate) grants: Vec<GrantSlot>,
    /// The account's live grants by id: grant ids are scoped per account, so an id taken
    /// in one tenant says nothing about another.
    pub(crate) grant_ids: name_index::NameIndex<GrantSlot>,
}

#[derive(Clone, Debug, Default)]
pub(crate) struct Principal {
    pub(crate) id: Key,
    /// The principal's memberships (the only copy: an account keeps just the set of its
    /// members), inline so a check reads them with the principal record.
    pub(crate) accounts: SmallVec<[(AccountId, Membership); 1]>,
    /// Direct grants with the node each is on, so a check skips grants off the chain
    /// without loading them.
    pub(crate) grants: SmallVec<[(GrantSlot, NodeId); 2]>,
    /// Whether [`Engine::principal_groups`] has an entry (most principals are in no group).
    pub(crate) in_groups: bool,
}

/// "No node" in [`Node::parent`].
pub(crate) const NO_NODE: NodeId = NodeId(u32::MAX);

#[derive(Clone, Debug)]
pub(crate) struct Group {
    pub(crate) name: String,
    pub(crate) members: FxHashSet<PrincipalId>,
    pub(crate) grants: Vec<GrantSlot>,
    pub(crate) alive: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SubjectRef {
    Principal(PrincipalId),
    Group(GroupId),
}

#[derive(Clone, Debug)]
pub(crate) struct GrantRec {
    pub(crate) id: Key,
    pub(crate) subject: SubjectRef,
    pub(crate) node: NodeId,
    pub(crate) role: RoleRef,
    lapses: Lapse,
    pub(crate) alive: bool,
}

impl GrantRec {
    pub(crate) fn new(id: &str, subject: SubjectRef, node: NodeId, role: RoleRef, expires_at: Option<i64>) -> Self {
        GrantRec { id: id.into(), subject, node, role, lapses: Lapse::new(expires_at), alive: true }
    }

    /// When it lapses, if ever.
    pub(crate) fn expires_at(&self) -> Option<i64> {
        self.lapses.expires_at()
    }

    #[inline]
    pub(crate) fn is_live(&self, now: i64) -> bool {
        self.alive && self.lapses.holds_at(now)
    }
}

/// Reusable slots of the engine's tables.
#[derive(Clone, Debug, Default)]
pub(crate) struct FreeSlots {
    pub(crate) nodes: Vec<NodeId>,
    pub(crate) grants: Vec<GrantSlot>,
    pub(crate) groups: Vec<GroupId>,
}

/// The decision engine: the compiled snapshot of everything Roster knows.
#[derive(Clone, Debug, Default)]
pub struct Engine {
    pub(crate) packs: Vec<Arc<Pack>>,
    pub(crate) pack_index: IdMap<String, usize>,
    pub(crate) accounts: Vec<Account>,
    pub(crate) account_index: IdMap<Key, AccountId>,
    pub(crate) nodes: Vec<Node>,
    /// The groups of the principals that are in any.
    pub(crate) principal_groups: FxHashMap<PrincipalId, SmallVec<[GroupId; 2]>>,
    /// Children of the nodes that have any.
    pub(crate) children: FxHashMap<NodeId, Vec<NodeId>>,
    pub(crate) principals: Vec<Principal>,
    pub(crate) principal_index: name_index::NameIndex<PrincipalId>,
    pub(crate) groups: Vec<Group>,
    pub(crate) grants: Vec<GrantRec>,
    /// Slots of removed nodes, grants and groups, reused by the next ones: nothing live
    /// refers to them any more, so create/delete churn keeps the tables flat.
    pub(crate) free: FreeSlots,
    pub(crate) revision: u64,
    /// Which engine in which state, so a plan commits only onto the state it was
    /// validated against.
    pub(crate) stamp: check::Stamp,
    /// A snapshot is being loaded: ordered lists are sorted once at its end.
    pub(crate) bulk_loading: bool,
}

/// A read-only view of one membership, for callers outside the engine.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct MembershipView {
    /// Principal id.
    pub principal: String,
    /// Role id.
    pub role: String,
    /// Whether the member is an external consultant.
    pub external: bool,
    /// Active or removed.
    pub status: MembershipStatus,
    /// When the membership lapses (unix seconds).
    pub expires_at: Option<i64>,
}

impl Engine {
    /// An engine that knows these packs and nothing else yet.
    pub fn new(packs: impl IntoIterator<Item = Arc<Pack>>) -> Self {
        let mut engine = Engine::default();
        for pack in packs {
            engine.pack_index.insert(pack.id().to_owned(), engine.packs.len());
            engine.packs.push(pack);
        }
        engine
    }

    /// An empty engine that knows the same packs (to rebuild a snapshot into).
    pub fn empty_like(&self) -> Engine {
        Engine::new(self.packs.iter().cloned())
    }

    /// Gives back the spare capacity the tables grew while a snapshot was built (one
    /// call after loading; later changes grow them again as needed).
    pub fn shrink_to_fit(&mut self) {
        self.nodes.shrink_to_fit();
        self.principals.shrink_to_fit();
        self.grants.shrink_to_fit();
        self.accounts.shrink_to_fit();
        self.groups.shrink_to_fit();
        self.children.shrink_to_fit();
        self.principal_groups.shrink_to_fit();
        self.account_index.shrink_to_fit();
    }

    /// The revision of the last applied change.
    pub fn revision(&self) -> u64 {
        self.revision
    }

    /// Sets the revision, e.g. to the database's after loading a snapshot.
    pub fn set_revision(&mut self, revision: u64) {
        self.revision = revision;
    }

    /// A loaded pack by id.
    pub fn pack(&self, id: &str) -> Option<&Arc<Pack>> {
        self.pack_index.get(id).map(|&i| &self.packs[i])
    }

    /// The pack an account uses.
    pub fn account_pack(&self, account: &str) -> Option<&Arc<Pack>> {
        self.account_index.get(account).map(|&a| &self.packs[self.accounts[a].pack])
    }

    /// Whether a principal with this id holds anything (a membership, a grant, a group).
    pub fn has_principal(&self, id: &str) -> bool {
        self.principal_lookup(id).is_some()
    }

    /// Whether `account` is `ancestor` or lies below it.
    pub fn account_within(&self, account: &str, ancestor: &str) -> bool {
        let mut current = self.account_index.get(account).copied();
        while let Some(a) = current {
            if self.accounts[a].id == ancestor {
                return true;
            }
            current = self.accounts[a].parent;
        }
        false
    }

    /// Whether the account exists.
    pub fn has_account(&self, account: &str) -> bool {
        self.account_index.contains_key(account)
    }

    /// The parent account's id, for a child account.
    pub fn parent_account(&self, account: &str) -> Option<&str> {
        let &a = self.account_index.get(account)?;
        self.accounts[a].parent.map(|p| self.accounts[p].id.as_str())
    }

    /// Whether `resource` (`"type:id"`, or `"account"`) exists in the account.
    pub fn has_resource(&self, account: &str, resource: &str) -> bool {
        self.account_index.get(account).is_some_and(|&a| self.node_of(a, Some(resource)).is_some())
    }

    /// Ids of an account's child accounts, in id order.
    pub fn child_accounts(&self, account: &str) -> Vec<String> {
        self.account_index
            .get(account)
            .map(|&a| self.accounts[a].children.iter().map(|&c| self.accounts[c].id.clone()).collect())
            .unwrap_or_default()
    }

    /// One membership (any status) of a principal in an account.
    pub fn membership(&self, account: &str, principal: &str) -> Option<MembershipView> {
        let &a = self.account_index.get(account)?;
        let &p = self.principal_lookup(principal)?;
        let membership = self.membership_of(p, a)?;
        Some(self.membership_view(a, p, membership))
    }

    /// Every membership of an account with the given status, sorted by principal id.
    pub fn memberships(&self, account: &str, status: MembershipStatus) -> Vec<MembershipView> {
        let Some(&a) = self.account_index.get(account) else { return Vec::new() };
        // The account's member list is in principal id order.
        self.account_members(a)
            .filter(|(_, m)| m.status == status)
            .map(|(p, m)| self.membership_view(a, p, m))
            .collect()
    }

    /// Every member of an account with their membership.
    pub(crate) fn account_members(&self, account: AccountId) -> impl Iterator<Item = (PrincipalId, &Membership)> + '_ {
        self.accounts[account].members.iter().filter_map(move |&p| Some((p, self.membership_of(p, account)?)))
    }

    /// The principal's membership in an account, from the principal's side.
    #[inline]
    pub(crate) fn membership_of(&self, principal: PrincipalId, account: AccountId) -> Option<&Membership> {
        self.principals[principal].accounts.iter().find(|(a, _)| *a == account).map(|(_, m)| m)
    }

    pub(crate) fn membership_view(
        &self,
        account: AccountId,
        principal: PrincipalId,
        membership: &Membership,
    ) -> MembershipView {
        MembershipView {
            principal: self.principals[principal].id.to_string(),
            role: self.role(account, membership.role).id.clone(),
            external: membership.external,
            status: membership.status,
            expires_at: membership.expires_at(),
        }
    }

    /// Counts of what the engine holds: accounts, resources, memberships, grants.
    pub fn counts(&self) -> (usize, usize, usize, usize) {
        let members = self.accounts.iter().map(|a| a.members.len()).sum();
        let live_grants = self.grants.iter().filter(|g| g.alive).count();
        let resources = self.nodes.iter().filter(|n| n.alive && !n.is_account).count();
        (self.accounts.len(), resources, members, live_grants)
    }

    pub(crate) fn role(&self, account: AccountId, role: RoleRef) -> &CompiledRole {
        match role {
            RoleRef::Pack(i) => &self.packs[self.accounts[account].pack].roles()[usize::from(i)],
            RoleRef::Custom(i) => &self.accounts[account].custom_roles[usize::from(i)],
        }
    }

    pub(crate) fn account_pack_of(&self, account: AccountId) -> &Pack {
        &self.packs[self.accounts[account].pack]
    }

    /// Resolves a role id in an account: pack roles first, then the account's custom roles.
    pub(crate) fn role_ref(&self, account: AccountId, id: &str) -> Option<RoleRef> {
        let acc = &self.accounts[account];
        self.packs[acc.pack]
            .role(id)
            .map(RoleRef::Pack)
            .or_else(|| acc.custom_index.get(id).map(|&i| RoleRef::Custom(i)))
    }

    /// Resolves `None`/`"account"` to the account's node, else a resource of the account.
    pub(crate) fn node_of(&self, account: AccountId, resource: Option<&str>) -> Option<NodeId> {
        let acc = &self.accounts[account];
        match resource {
            None | Some(crate::ids::ACCOUNT_RESOURCE) => Some(acc.node),
            Some(name) => self.resource_node(account, name),
        }
    }

    /// A principal by id.
    #[inline]
    pub(crate) fn principal_lookup(&self, id: &str) -> Option<&PrincipalId> {
        self.principal_index.get(id, |p| self.principals[p].id.as_str())
    }

    /// A grant's slot by account and id (live grants only: removed ones leave the index).
    pub(crate) fn grant_lookup(&self, account: AccountId, id: &str) -> Option<&GrantSlot> {
        self.accounts[account].grant_ids.get(id, |slot| self.grants[slot].id.as_str())
    }

    /// A resource of the account by name.
    #[inline]
    pub(crate) fn resource_node(&self, account: AccountId, name: &str) -> Option<NodeId> {
        self.accounts[account].resources.get(name, |id| self.nodes[id].name.as_str()).copied()
    }

    /// Fills `chain` with `node` and its ancestors (through parent accounts); returns the length.
    #[inline]
    pub(crate) fn chain(&self, node: NodeId, chain: &mut [NodeId; MAX_DEPTH]) -> usize {
        let mut len = 0;
        let mut current = node;
        while current != NO_NODE && len < MAX_DEPTH {
            chain[len] = current;
            len += 1;
            current = self.nodes[current].parent;
        }
        len
    }

    /// Live grants on exactly `node`.
    pub(crate) fn grants_on(&self, node: NodeId) -> impl Iterator<Item = GrantSlot> + '_ {
        let account = &self.accounts[self.nodes[node].account];
        account.grants.iter().copied().filter(move |&slot| self.grants[slot].node == node)
    }

    /// The groups a principal is in.
    #[inline]
    pub(crate) fn groups_of(&self, p: PrincipalId) -> &[GroupId] {
        if !self.principals[p].in_groups {
            return &[];
        }
        self.principal_groups.get(&p).map_or(&[], |groups| groups.as_slice())
    }

    /// A node's parent, if it has one.
    pub(crate) fn parent_of(&self, node: NodeId) -> Option<NodeId> {
        Some(self.nodes[node].parent).filter(|&p| p != NO_NODE)
    }

    /// The display name of a node: `"account"` for accounts, else `"type:id"`.
    pub(crate) fn node_name(&self, node: NodeId) -> &str {
        let n = &self.nodes[node];
        if n.is_account { crate::ids::ACCOUNT_RESOURCE } else { &n.name }
    }

    /// The node's name qualified by its account, for explanations that cross accounts.
    pub(crate) fn qualified_node_name(&self, node: NodeId) -> String {
        let n = &self.nodes[node];
        format!("{}/{}", self.accounts[n.account].id, self.node_name(node))
    }
}
