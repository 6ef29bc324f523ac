//! A validated pack compiled for fast decisions: interned permissions, types and roles,
//! each role's permissions as bitsets per condition.

use rustc_hash::FxHashMap;

use crate::manifest::{Condition, PackManifest, RoleDef};
use crate::permset::PermSet;

/// Index of a permission within its pack.
pub type PermIdx = u16;
/// Index of a resource type within its pack.
pub type TypeIdx = u8;

/// A resource type, compiled.
#[derive(Clone, Debug)]
pub struct TypeInfo {
    /// Type name.
    pub name: String,
    /// Parent type.
    pub parent: Option<TypeIdx>,
    /// Whether resources of this type are accounts.
    pub account: bool,
    /// The pack's `<type>.create` permission, if it has one: ownership of a resource of
    /// this type counts only while its owner still holds it on the resource's parent.
    pub create: Option<PermIdx>,
}

/// A role (pack-defined or custom), compiled.
#[derive(Clone, Debug)]
pub struct CompiledRole {
    /// Role id.
    pub id: String,
    /// Human title.
    pub title: String,
    /// Rank; higher is more powerful.
    pub rank: u32,
    /// Permissions that hold unconditionally.
    pub always: PermSet,
    /// Permissions that hold when the principal owns the resource.
    pub if_owner: PermSet,
    /// Permissions that hold when the principal is assigned to the resource.
    pub if_assigned: PermSet,
    /// Pack role indices this role may hand out or take away.
    pub manages: Vec<u16>,
    /// Bit `t` set when the role may be granted on type `t`.
    pub grantable_on: u64,
    /// Given when no role is named.
    pub default: bool,
    /// One holder per account.
    pub single_holder: bool,
    /// Moves by ownership transfer.
    pub transferable: bool,
    /// Invisible to others' member views and edits.
    pub protected: bool,
    /// Permission the grantee must already hold at the grant's scope.
    pub grantee_requires: Option<PermIdx>,
    /// Grants of it count for principals with no membership in the account.
    pub grantable_to_non_members: bool,
    /// Defined at run time for one account.
    pub custom: bool,
}

/// How a role holds one permission, as a matrix cell shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Holding {
    /// Always.
    Yes,
    /// Only under a condition.
    If(Condition),
    /// Not at all.
    No,
}

impl Holding {
    /// The matrix spelling: `yes`, `no`, `if owner`, `if assigned`.
    pub fn as_str(self) -> &'static str {
        match self {
            Holding::Yes => "yes",
            Holding::No => "no",
            Holding::If(Condition::Owner) => "if owner",
            Holding::If(Condition::Assigned) => "if assigned",
        }
    }
}

impl CompiledRole {
    /// How this role holds permission `perm`.
    pub fn holding(&self, perm: PermIdx) -> Holding {
        let perm = usize::from(perm);
        if self.always.contains(perm) {
            Holding::Yes
        } else if self.if_owner.contains(perm) {
            Holding::If(Condition::Owner)
        } else if self.if_assigned.contains(perm) {
            Holding::If(Condition::Assigned)
        } else {
            Holding::No
        }
    }

    /// Whether the role may be granted on type `ty`.
    pub fn grantable_on_type(&self, ty: TypeIdx) -> bool {
        self.grantable_on & (1 << ty) != 0
    }

    /// Every permission the role can ever give, whatever the conditions.
    pub fn reachable(&self) -> PermSet {
        let mut all = self.always.clone();
        all.union_with(&self.if_owner);
        all.union_with(&self.if_assigned);
        all
    }
}

/// A validated, compiled role pack.
#[derive(Clone, Debug)]
pub struct Pack {
    manifest: PackManifest,
    permission_ids: Vec<String>,
    permission_index: FxHashMap<compact_str::CompactString, PermIdx>,
    types: Vec<TypeInfo>,
    type_index: FxHashMap<compact_str::CompactString, TypeIdx>,
    root_type: TypeIdx,
    roles: Vec<CompiledRole>,
    role_index: FxHashMap<compact_str::CompactString, u16>,
    masquerade_permission: Option<PermIdx>,
}

impl Pack {
    /// Compiles a manifest that [`crate::validate::validate`] accepted.
    pub(crate) fn compile(manifest: PackManifest) -> Pack {
        let permission_ids: Vec<String> = manifest.permissions.iter().map(|p| p.id.clone()).collect();
        let permission_index = index_of(&permission_ids);
        let type_names: Vec<String> = manifest.resource_types.iter().map(|t| t.name.clone()).collect();
        let type_index: FxHashMap<compact_str::CompactString, TypeIdx> = index_of(&type_names);
        let types: Vec<TypeInfo> = manifest
            .resource_types
            .iter()
            .map(|t| TypeInfo {
                name: t.name.clone(),
                parent: t.parent.as_ref().and_then(|p| type_index.get(p.as_str()).copied()),
                account: t.account || t.parent.is_none(),
                create: permission_index.get(format!("{}.create", t.name).as_str()).copied(),
            })
            .collect();
        let root_type =
            types.iter().position(|t| t.parent.is_none()).and_then(|i| TypeIdx::try_from(i).ok()).unwrap_or(0);
        let role_ids: Vec<String> = manifest.roles.iter().map(|r| r.id.clone()).collect();
        let role_index: FxHashMap<compact_str::CompactString, u16> = index_of(&role_ids);
        let mut pack = Pack {
            permission_ids,
            permission_index,
            types,
            type_index,
            root_type,
            roles: Vec::new(),
            role_index,
            masquerade_permission: None,
            manifest: manifest.clone(),
        };
        pack.masquerade_permission =
            manifest.policies.masquerade_permission.as_deref().and_then(|p| pack.permission(p));
        pack.roles = manifest.roles.iter().map(|role| pack.compile_role(role, false)).collect();
        pack
    }

    /// Compiles a role against this pack's permissions and types. Unknown names are
    /// skipped, so callers validate first (pack roles by [`crate::validate::validate`],
    /// custom roles by the engine).
    pub(crate) fn compile_role(&self, role: &RoleDef, custom: bool) -> CompiledRole {
        let count = self.permission_ids.len();
        let (mut always, mut if_owner, mut if_assigned) =
            (PermSet::empty(count), PermSet::empty(count), PermSet::empty(count));
        for rule in &role.permissions {
            let set = match rule.condition {
                None => &mut always,
                Some(Condition::Owner) => &mut if_owner,
                Some(Condition::Assigned) => &mut if_assigned,
            };
            for (index, id) in self.permission_ids.iter().enumerate() {
                if rule.matches(id) {
                    set.insert(index);
                }
            }
        }
        let grantable_on = if role.grantable_on.is_empty() {
            1u64 << self.root_type
        } else {
            role.grantable_on
                .iter()
                .filter_map(|t| self.type_index.get(t.as_str()))
                .fold(0, |mask, t| mask | (1u64 << t))
        };
        CompiledRole {
            id: role.id.clone(),
            title: role.title.clone(),
            rank: role.rank,
            always,
            if_owner,
            if_assigned,
            manages: role.manages.iter().filter_map(|m| self.role_index.get(m.as_str()).copied()).collect(),
            grantable_on,
            default: role.default,
            single_holder: role.single_holder,
            transferable: role.transferable,
            protected: role.protected,
            grantee_requires: role.grantee_requires.as_deref().and_then(|p| self.permission(p)),
            grantable_to_non_members: role.grantable_to_non_members,
            custom,
        }
    }

    /// The permission an AuthZEN action names: the first `[[authzen.action_properties]]`
    /// entry for it whose properties the action carries (each with the same value), else
    /// its `[authzen.actions]` entry, else the action name itself.
    pub fn authzen_permission<'a>(
        &'a self,
        action: &'a str,
        properties: Option<&serde_json::Map<String, serde_json::Value>>,
    ) -> &'a str {
        let Some(authzen) = &self.manifest.authzen else { return action };
        let carried = |entry: &&crate::manifest::ActionPropertiesDef| {
            entry.action == action
                && properties.is_some_and(|p| entry.properties.iter().all(|(k, want)| p.get(k) == Some(want)))
        };
        if let Some(entry) = authzen.action_properties.iter().find(carried) {
            return &entry.permission;
        }
        authzen.actions.get(action).map_or(action, String::as_str)
    }

    /// The AuthZEN actions that name `permission`: its `[authzen.actions]` entries, else
    /// the permission id itself (when no entry claims it).
    pub fn authzen_actions(&self, permission: &str) -> Vec<String> {
        let mapped: Vec<String> = self
            .manifest
            .authzen
            .iter()
            .flat_map(|a| a.actions.iter())
            .filter(|(_, p)| p.as_str() == permission)
            .map(|(action, _)| action.clone())
            .collect();
        if mapped.is_empty() { vec![permission.to_owned()] } else { mapped }
    }

    /// The resource property that names a transient resource's owner.
    pub fn authzen_owner_property(&self) -> &str {
        self.manifest.authzen.as_ref().map_or(crate::manifest::DEFAULT_OWNER_PROPERTY, |a| a.owner_property.as_str())
    }

    /// The manifest the pack was compiled from.
    pub fn manifest(&self) -> &PackManifest {
        &self.manifest
    }

    /// Pack id.
    pub fn id(&self) -> &str {
        &self.manifest.id
    }

    /// Index of a permission id.
    #[inline]
    pub fn permission(&self, id: &str) -> Option<PermIdx> {
        self.permission_index.get(id).copied()
    }

    /// Permission ids, by index.
    pub fn permission_ids(&self) -> &[String] {
        &self.permission_ids
    }

    /// Index of a type name.
    #[inline]
    pub fn resource_type(&self, name: &str) -> Option<TypeIdx> {
        self.type_index.get(name).copied()
    }

    /// Compiled types, by index.
    pub fn types(&self) -> &[TypeInfo] {
        &self.types
    }

    /// The root (account) type.
    pub fn root_type(&self) -> TypeIdx {
        self.root_type
    }

    /// Compiled pack roles, by index.
    pub fn roles(&self) -> &[CompiledRole] {
        &self.roles
    }

    /// Index of a pack role id.
    pub fn role(&self, id: &str) -> Option<u16> {
        self.role_index.get(id).copied()
    }

    /// The default role, if the pack has one.
    pub fn default_role(&self) -> Option<u16> {
        self.roles.iter().position(|r| r.default).and_then(|i| u16::try_from(i).ok())
    }

    /// The single-holder role, if the pack has one.
    pub fn single_holder_role(&self) -> Option<u16> {
        self.roles.iter().position(|r| r.single_holder).and_then(|i| u16::try_from(i).ok())
    }

    /// The role a new account's owner receives: the single-holder role, else the top rank.
    pub fn owner_role(&self) -> Option<u16> {
        self.single_holder_role()
            .or_else(|| (0..self.roles.len()).max_by_key(|&i| self.roles[i].rank).and_then(|i| u16::try_from(i).ok()))
    }

    /// The permission that allows masquerading, if any.
    pub fn masquerade_permission(&self) -> Option<PermIdx> {
        self.masquerade_permission
    }

    /// Pack role indices ordered by rank, highest first (ties keep manifest order).
    pub fn roles_by_rank(&self) -> Vec<u16> {
        let mut order: Vec<u16> = (0..self.roles.len()).filter_map(|i| u16::try_from(i).ok()).collect();
        order.sort_by_key(|&i| std::cmp::Reverse(self.roles[usize::from(i)].rank));
        order
    }

    /// Whether `ty` is `ancestor` or lies below it in the type tree.
    pub fn type_within(&self, mut ty: TypeIdx, ancestor: TypeIdx) -> bool {
        loop {
            if ty == ancestor {
                return true;
            }
            match self.types.get(usize::from(ty)).and_then(|t| t.parent) {
                Some(parent) => ty = parent,
                None => return false,
            }
        }
    }
}

fn index_of<I: TryFrom<usize> + Copy>(names: &[String]) -> FxHashMap<compact_str::CompactString, I> {
    names.iter().enumerate().filter_map(|(i, name)| I::try_from(i).ok().map(|i| (name.as_str().into(), i))).collect()
}
