//! Manifest validation: every way a pack can be wrong, as one typed error each.
//!
//! [`validate`] either returns a [`ValidatedPack`] (compiled, ready for the engine) or every
//! problem it found, so a pack author fixes them in one round.

use std::fmt;

use rustc_hash::{FxHashMap, FxHashSet};

use crate::manifest::{PackManifest, RESERVED_PERMISSIONS, SCHEMA_VERSION};
use crate::pack::Pack;

/// A pack that passed validation, compiled for the engine.
pub type ValidatedPack = Pack;

/// Most resource types a pack may define (type sets are 64-bit masks).
pub const MAX_RESOURCE_TYPES: usize = 64;

/// One problem in a manifest.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ValidationError {
    /// The manifest was written for another schema.
    #[error("schema_version {found} is not supported (this core reads {supported})")]
    UnsupportedSchema {
        /// Version in the manifest.
        found: u32,
        /// Version this core reads.
        supported: u32,
    },
    /// A required text field is empty.
    #[error("`{field}` must not be empty")]
    Empty {
        /// Field path.
        field: String,
    },
    /// An id has characters outside its allowed set.
    #[error("{what} id `{id}` is not valid: {rule}")]
    BadId {
        /// What kind of id.
        what: &'static str,
        /// The id.
        id: String,
        /// The rule it breaks.
        rule: &'static str,
    },
    /// Two resource types share a name.
    #[error("resource type `{0}` is defined twice")]
    DuplicateResourceType(String),
    /// Two permissions share an id.
    #[error("permission `{0}` is defined twice")]
    DuplicatePermission(String),
    /// Two roles share an id.
    #[error("role `{0}` is defined twice")]
    DuplicateRole(String),
    /// No type lacks a parent.
    #[error("no root resource type (one type must have no parent: the account type)")]
    NoRootType,
    /// More than one type lacks a parent.
    #[error("more than one root resource type: {0:?}")]
    MultipleRootTypes(Vec<String>),
    /// Too many types.
    #[error("{0} resource types; at most {MAX_RESOURCE_TYPES} are supported")]
    TooManyResourceTypes(usize),
    /// A type names a parent that does not exist.
    #[error("resource type `{ty}` names unknown parent `{parent}`")]
    UnknownParentType {
        /// The type.
        ty: String,
        /// Its missing parent.
        parent: String,
    },
    /// Parent links loop.
    #[error("resource types form a cycle: {0:?}")]
    ResourceTypeCycle(Vec<String>),
    /// An account type sits below a non-account type.
    #[error("account type `{ty}` must sit under an account type, not under `{parent}`")]
    AccountTypeUnderResource {
        /// The account type.
        ty: String,
        /// Its non-account parent.
        parent: String,
    },
    /// A pack has no roles.
    #[error("the pack defines no roles")]
    NoRoles,
    /// A role uses a permission the pack does not define.
    #[error("role `{role}` uses unknown permission `{permission}`")]
    UnknownPermission {
        /// The role.
        role: String,
        /// The permission.
        permission: String,
    },
    /// An `[[authzen.action_properties]]` entry names a permission the pack does not define.
    #[error("authzen.action_properties: the entry for action `{action}` names unknown permission `{permission}`")]
    AuthzenPropertiesUnknownPermission {
        /// The AuthZEN action name.
        action: String,
        /// The permission it names.
        permission: String,
    },
    /// The `[authzen]` table maps an action to a permission the pack does not define.
    #[error("authzen.actions: action `{action}` maps to unknown permission `{permission}`")]
    AuthzenUnknownPermission {
        /// The AuthZEN action name.
        action: String,
        /// The permission it names.
        permission: String,
    },
    /// A wildcard covers nothing.
    #[error("role `{role}`: wildcard `{pattern}` matches no permission of the pack")]
    WildcardMatchesNothing {
        /// The role.
        role: String,
        /// The wildcard.
        pattern: String,
    },
    /// A role manages a role that does not exist.
    #[error("role `{role}` manages unknown role `{managed}`")]
    UnknownManagedRole {
        /// The role.
        role: String,
        /// The missing role.
        managed: String,
    },
    /// A role is grantable on a type that does not exist.
    #[error("role `{role}` is grantable on unknown resource type `{ty}`")]
    UnknownGrantableType {
        /// The role.
        role: String,
        /// The missing type.
        ty: String,
    },
    /// More than one default role.
    #[error("more than one default role: {0:?}")]
    MultipleDefaultRoles(Vec<String>),
    /// A default or single-holder role cannot be an account role.
    #[error("role `{role}` is {flag} but not grantable on any account type")]
    NotAnAccountRole {
        /// The role.
        role: String,
        /// Which flag needs an account role.
        flag: &'static str,
    },
    /// More than one single-holder role.
    #[error("more than one single-holder role: {0:?}")]
    MultipleSingleHolderRoles(Vec<String>),
    /// `transferable` without `single_holder`.
    #[error("role `{0}` is transferable but not single_holder (only single-holder roles move by transfer)")]
    TransferableWithoutSingleHolder(String),
    /// An account type no role can be held on.
    #[error("account type `{0}` has no role grantable on it, so it could have no members")]
    AccountTypeWithoutRoles(String),
    /// A policy or `grantee_requires` names an unknown permission.
    #[error("{field} names unknown permission `{permission}`")]
    UnknownPolicyPermission {
        /// Field path.
        field: String,
        /// The permission.
        permission: String,
    },
    /// A `member.*`-style permission that is not one of the reserved ones.
    #[error("permission `{0}` uses a reserved namespace but is not a reserved permission ({reserved})", reserved = RESERVED_PERMISSIONS.join(", "))]
    UnknownReservedPermission(String),
}

/// Every problem found in one manifest.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct ValidationErrors(pub Vec<ValidationError>);

impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, error) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{error}")?;
        }
        Ok(())
    }
}

impl ValidationErrors {
    /// Whether any of the problems is `wanted`.
    pub fn contains(&self, wanted: &ValidationError) -> bool {
        self.0.contains(wanted)
    }
}

/// Checks a manifest and compiles it.
pub fn validate(manifest: PackManifest) -> Result<ValidatedPack, ValidationErrors> {
    let mut errors = Vec::new();
    check_header(&manifest, &mut errors);
    check_types(&manifest, &mut errors);
    check_permissions(&manifest, &mut errors);
    check_roles(&manifest, &mut errors);
    check_authzen(&manifest, &mut errors);
    if errors.is_empty() { Ok(Pack::compile(manifest)) } else { Err(ValidationErrors(errors)) }
}

/// Whether `id` is 1–64 chars of `[a-z0-9_-]` starting with a letter.
pub fn is_slug(id: &str) -> bool {
    let mut chars = id.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase())
        && id.len() <= 64
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
}

/// Whether `id` is dotted slugs: `billing.view`, `project.team.edit`.
fn is_permission_id(id: &str) -> bool {
    id.contains('.') && id.split('.').all(|part| is_slug(part) && !part.contains('-'))
}

fn check_header(manifest: &PackManifest, errors: &mut Vec<ValidationError>) {
    if manifest.schema_version != SCHEMA_VERSION {
        errors.push(ValidationError::UnsupportedSchema { found: manifest.schema_version, supported: SCHEMA_VERSION });
    }
    if !is_slug(&manifest.id) {
        errors.push(ValidationError::BadId { what: "pack", id: manifest.id.clone(), rule: SLUG_RULE });
    }
    for (field, value) in [("version", &manifest.version), ("title", &manifest.title)] {
        if value.trim().is_empty() {
            errors.push(ValidationError::Empty { field: field.to_owned() });
        }
    }
}

const SLUG_RULE: &str = "1-64 characters of a-z, 0-9, `_`, `-`, starting with a letter";

fn check_types(manifest: &PackManifest, errors: &mut Vec<ValidationError>) {
    let types = &manifest.resource_types;
    let mut seen = FxHashSet::default();
    for ty in types {
        if !is_slug(&ty.name) {
            errors.push(ValidationError::BadId { what: "resource type", id: ty.name.clone(), rule: SLUG_RULE });
        }
        if !seen.insert(ty.name.as_str()) {
            errors.push(ValidationError::DuplicateResourceType(ty.name.clone()));
        }
    }
    if types.len() > MAX_RESOURCE_TYPES {
        errors.push(ValidationError::TooManyResourceTypes(types.len()));
    }
    let roots: Vec<String> = types.iter().filter(|t| t.parent.is_none()).map(|t| t.name.clone()).collect();
    match roots.len() {
        0 => errors.push(ValidationError::NoRootType),
        1 => {}
        _ => errors.push(ValidationError::MultipleRootTypes(roots)),
    }
    let by_name: FxHashMap<&str, &crate::manifest::ResourceTypeDef> =
        types.iter().map(|t| (t.name.as_str(), t)).collect();
    let mut cyclic = Vec::new();
    for ty in types {
        let Some(parent) = &ty.parent else { continue };
        let Some(parent_def) = by_name.get(parent.as_str()) else {
            errors.push(ValidationError::UnknownParentType { ty: ty.name.clone(), parent: parent.clone() });
            continue;
        };
        if ty.account && !(parent_def.account || parent_def.parent.is_none()) {
            errors.push(ValidationError::AccountTypeUnderResource { ty: ty.name.clone(), parent: parent.clone() });
        }
        // Walk up; more steps than there are types means a loop.
        let mut current = Some(parent.as_str());
        let mut steps = 0;
        while let Some(name) = current {
            steps += 1;
            if name == ty.name || steps > types.len() {
                cyclic.push(ty.name.clone());
                break;
            }
            current = by_name.get(name).and_then(|t| t.parent.as_deref());
        }
    }
    if !cyclic.is_empty() {
        errors.push(ValidationError::ResourceTypeCycle(cyclic));
    }
}

fn check_permissions(manifest: &PackManifest, errors: &mut Vec<ValidationError>) {
    let mut seen = FxHashSet::default();
    for permission in &manifest.permissions {
        if !is_permission_id(&permission.id) {
            errors.push(ValidationError::BadId {
                what: "permission",
                id: permission.id.clone(),
                rule: "dotted lower-case words such as `pickaxe.edit` (wildcards belong in roles only)",
            });
        }
        if !seen.insert(permission.id.as_str()) {
            errors.push(ValidationError::DuplicatePermission(permission.id.clone()));
        }
        if permission.id.starts_with("member.") && !RESERVED_PERMISSIONS.contains(&permission.id.as_str()) {
            errors.push(ValidationError::UnknownReservedPermission(permission.id.clone()));
        }
    }
}

fn check_authzen(manifest: &PackManifest, errors: &mut Vec<ValidationError>) {
    let Some(authzen) = &manifest.authzen else { return };
    for (action, permission) in &authzen.actions {
        if action.trim().is_empty() {
            errors.push(ValidationError::Empty { field: "authzen.actions (an action name)".to_owned() });
        }
        if !manifest.permissions.iter().any(|p| &p.id == permission) {
            errors.push(ValidationError::AuthzenUnknownPermission {
                action: action.clone(),
                permission: permission.clone(),
            });
        }
    }
    for entry in &authzen.action_properties {
        if entry.action.trim().is_empty() {
            errors.push(ValidationError::Empty { field: "authzen.action_properties.action".to_owned() });
        }
        // With no properties to match the entry would shadow the action for every request.
        if entry.properties.is_empty() {
            errors.push(ValidationError::Empty { field: "authzen.action_properties.properties".to_owned() });
        }
        if !manifest.permissions.iter().any(|p| p.id == entry.permission) {
            errors.push(ValidationError::AuthzenPropertiesUnknownPermission {
                action: entry.action.clone(),
                permission: entry.permission.clone(),
            });
        }
    }
    if authzen.owner_property.trim().is_empty() {
        errors.push(ValidationError::Empty { field: "authzen.owner_property".to_owned() });
    }
}

fn check_roles(manifest: &PackManifest, errors: &mut Vec<ValidationError>) {
    if manifest.roles.is_empty() {
        errors.push(ValidationError::NoRoles);
    }
    let permissions: FxHashSet<&str> = manifest.permissions.iter().map(|p| p.id.as_str()).collect();
    let role_ids: FxHashSet<&str> = manifest.roles.iter().map(|r| r.id.as_str()).collect();
    let type_names: FxHashSet<&str> = manifest.resource_types.iter().map(|t| t.name.as_str()).collect();
    let account_types: Vec<&str> =
        manifest.resource_types.iter().filter(|t| t.account || t.parent.is_none()).map(|t| t.name.as_str()).collect();
    let root = manifest.resource_types.iter().find(|t| t.parent.is_none()).map(|t| t.name.as_str());
    fn grantable_on<'a>(role: &'a crate::manifest::RoleDef, root: Option<&'a str>) -> Vec<&'a str> {
        if role.grantable_on.is_empty() {
            root.into_iter().collect()
        } else {
            role.grantable_on.iter().map(String::as_str).collect()
        }
    }

    let mut seen = FxHashSet::default();
    for role in &manifest.roles {
        if !is_slug(&role.id) {
            errors.push(ValidationError::BadId { what: "role", id: role.id.clone(), rule: SLUG_RULE });
        }
        if !seen.insert(role.id.as_str()) {
            errors.push(ValidationError::DuplicateRole(role.id.clone()));
        }
        if role.title.trim().is_empty() {
            errors.push(ValidationError::Empty { field: format!("roles.{}.title", role.id) });
        }
        for rule in &role.permissions {
            if rule.is_wildcard() {
                if !manifest.permissions.iter().any(|p| rule.matches(&p.id)) {
                    errors.push(ValidationError::WildcardMatchesNothing {
                        role: role.id.clone(),
                        pattern: rule.pattern.clone(),
                    });
                }
            } else if !permissions.contains(rule.pattern.as_str()) {
                errors.push(ValidationError::UnknownPermission {
                    role: role.id.clone(),
                    permission: rule.pattern.clone(),
                });
            }
        }
        for managed in &role.manages {
            if !role_ids.contains(managed.as_str()) {
                errors.push(ValidationError::UnknownManagedRole { role: role.id.clone(), managed: managed.clone() });
            }
        }
        for ty in &role.grantable_on {
            if !type_names.contains(ty.as_str()) {
                errors.push(ValidationError::UnknownGrantableType { role: role.id.clone(), ty: ty.clone() });
            }
        }
        let is_account_role = grantable_on(role, root).iter().any(|t| account_types.contains(t));
        for (flag, set) in [("default", role.default), ("single_holder", role.single_holder)] {
            if set && !is_account_role {
                errors.push(ValidationError::NotAnAccountRole { role: role.id.clone(), flag });
            }
        }
        if role.transferable && !role.single_holder {
            errors.push(ValidationError::TransferableWithoutSingleHolder(role.id.clone()));
        }
        if let Some(required) = &role.grantee_requires
            && !permissions.contains(required.as_str())
        {
            errors.push(ValidationError::UnknownPolicyPermission {
                field: format!("roles.{}.grantee_requires", role.id),
                permission: required.clone(),
            });
        }
    }
    let defaults: Vec<String> = manifest.roles.iter().filter(|r| r.default).map(|r| r.id.clone()).collect();
    if defaults.len() > 1 {
        errors.push(ValidationError::MultipleDefaultRoles(defaults));
    }
    let holders: Vec<String> = manifest.roles.iter().filter(|r| r.single_holder).map(|r| r.id.clone()).collect();
    if holders.len() > 1 {
        errors.push(ValidationError::MultipleSingleHolderRoles(holders));
    }
    for ty in &account_types {
        if !manifest.roles.iter().any(|r| grantable_on(r, root).contains(ty)) {
            errors.push(ValidationError::AccountTypeWithoutRoles((*ty).to_owned()));
        }
    }
    if let Some(permission) = &manifest.policies.masquerade_permission
        && !permissions.contains(permission.as_str())
    {
        errors.push(ValidationError::UnknownPolicyPermission {
            field: "policies.masquerade_permission".to_owned(),
            permission: permission.clone(),
        });
    }
}
