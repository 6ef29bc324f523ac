//! The role-pack manifest: the serde schema shared by plugins and TOML packs.
//!
//! Parsing is strict (unknown fields are errors) so a typo in a pack never silently drops a
//! rule. Semantic checks (unknown permissions, cycles, …) live in [`crate::validate`].

use std::fmt;

use serde::{Deserialize, Serialize};

/// The manifest schema version this core reads and writes.
pub const SCHEMA_VERSION: u32 = 1;

/// The reserved management permissions the daemon itself checks.
pub const RESERVED_PERMISSIONS: &[&str] = &[
    "member.view",
    "member.invite",
    "member.role.change",
    "member.remove",
    "member.restore",
    "member.move",
    "grant.manage",
    "group.manage",
    "role.manage",
    "audit.view",
    "account.create",
];

/// A role pack: one product's role vocabulary.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackManifest {
    /// Manifest schema version; must equal [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// Stable pack id, e.g. `studio`.
    pub id: String,
    /// The pack's own version (semver).
    pub version: String,
    /// Human title.
    pub title: String,
    /// Where the pack's rules come from and anything a reader should know.
    #[serde(default)]
    pub description: String,
    /// Resource types; exactly one has no parent: the account type.
    pub resource_types: Vec<ResourceTypeDef>,
    /// Every permission the pack's roles may use.
    pub permissions: Vec<PermissionDef>,
    /// The roles, in any order; matrices sort them by rank.
    pub roles: Vec<RoleDef>,
    /// Pack-wide policies.
    #[serde(default)]
    pub policies: Policies,
    /// How the OpenID AuthZEN API maps onto this pack (optional).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authzen: Option<AuthzenDef>,
}

/// The pack's `[authzen]` table: how AuthZEN requests name this pack's permissions and
/// resource owners.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthzenDef {
    /// AuthZEN action name → permission id (`can_update_todo = "todo.update"`); an action
    /// with no entry is taken as a permission id itself.
    #[serde(default)]
    pub actions: std::collections::BTreeMap<String, String>,
    /// The resource property naming the owner of a resource Roster does not store (a
    /// principal id or a principal's stored email).
    #[serde(default = "default_owner_property")]
    pub owner_property: String,
    /// Actions whose properties ask for another permission (`delete` with `soft = true`
    /// asks `record.soft_delete`), tried in order before `actions`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub action_properties: Vec<ActionPropertiesDef>,
}

/// One `[[authzen.action_properties]]` entry: an action carrying these properties asks
/// for this permission.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionPropertiesDef {
    /// The AuthZEN action name.
    pub action: String,
    /// Properties the action must carry, each with exactly this JSON value.
    pub properties: std::collections::BTreeMap<String, serde_json::Value>,
    /// The permission asked instead of the action's own.
    pub permission: String,
}

/// The owner property when a pack names none.
pub const DEFAULT_OWNER_PROPERTY: &str = "owner";

fn default_owner_property() -> String {
    DEFAULT_OWNER_PROPERTY.to_owned()
}

/// A resource type in the pack's type tree.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResourceTypeDef {
    /// Type name, used as the prefix of resource names (`pickaxe:42`).
    pub name: String,
    /// Parent type; `None` only for the root (account) type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    /// Whether resources of this type are accounts of their own (an agency's clients).
    /// The root type always is.
    #[serde(default)]
    pub account: bool,
    /// What the type stands for.
    #[serde(default)]
    pub description: String,
}

/// A permission the pack defines.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PermissionDef {
    /// `"<type>.<action>"`, e.g. `pickaxe.edit`.
    pub id: String,
    /// What holding it allows, ideally in the source document's words.
    #[serde(default)]
    pub description: String,
}

/// A role: a named, ranked set of permissions plus the rules for handing it out.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleDef {
    /// Stable role id, e.g. `owner`.
    pub id: String,
    /// Human title.
    pub title: String,
    /// Higher is more powerful.
    pub rank: u32,
    /// What the role is for.
    #[serde(default)]
    pub description: String,
    /// Permissions, each `perm`, `prefix.*` or `*`, optionally `:owner` / `:assigned`.
    pub permissions: Vec<PermissionRule>,
    /// Role ids a holder may hand out or take away.
    #[serde(default)]
    pub manages: Vec<String>,
    /// Resource types the role may be granted on; empty means the root (account) type.
    #[serde(default)]
    pub grantable_on: Vec<String>,
    /// Given when an invite or member addition names no role.
    #[serde(default)]
    pub default: bool,
    /// Exactly one holder per account.
    #[serde(default)]
    pub single_holder: bool,
    /// A single-holder role that moves by ownership transfer.
    #[serde(default)]
    pub transferable: bool,
    /// Nobody else may view or edit a holder's membership.
    #[serde(default)]
    pub protected: bool,
    /// A permission the grantee must already hold where the role is granted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grantee_requires: Option<String>,
    /// The role may be granted to principals with no membership in the account (a studio's
    /// clients and collaborators from their own accounts). Otherwise a grant of it counts
    /// only while its holder is a live member of the account or an account above it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub grantable_to_non_members: bool,
}

impl RoleDef {
    /// A plain account role: these permissions, nothing handed out, no flags (the shape of
    /// a custom role).
    pub fn new(
        id: impl Into<String>,
        title: impl Into<String>,
        rank: u32,
        permissions: Vec<PermissionRule>,
    ) -> RoleDef {
        RoleDef {
            id: id.into(),
            title: title.into(),
            rank,
            description: String::new(),
            permissions,
            manages: Vec::new(),
            grantable_on: Vec::new(),
            default: false,
            single_holder: false,
            transferable: false,
            protected: false,
            grantee_requires: None,
            grantable_to_non_members: false,
        }
    }
}

/// Pack-wide policies.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policies {
    /// Whether role changes may go down as well as up.
    #[serde(default)]
    pub role_changes: RoleChangePolicy,
    /// Whether removed members can be restored.
    #[serde(default)]
    pub removal: RemovalPolicy,
    /// The permission that allows masquerading as a lower-ranked member, if the pack has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub masquerade_permission: Option<String>,
}

/// How role changes may move along the ranks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoleChangePolicy {
    /// Any direction.
    #[default]
    Any,
    /// Up the ladder only; lowering means remove and re-add.
    PromotionOnly,
}

/// What removing a member does.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RemovalPolicy {
    /// The membership is gone.
    #[default]
    Hard,
    /// The membership is kept as removed; it can be restored or purged.
    Soft,
}

/// A condition under which a role's permission holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Condition {
    /// The principal owns the resource (or a resource it sits in).
    Owner,
    /// The principal holds a resource grant (not just the account membership) on the
    /// resource or an ancestor.
    Assigned,
}

impl Condition {
    /// The manifest spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Condition::Owner => "owner",
            Condition::Assigned => "assigned",
        }
    }
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One entry of a role's permission list: `pattern[:condition]`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PermissionRule {
    /// A permission id, `prefix.*` or `*`.
    pub pattern: String,
    /// When set, the permission holds only under this condition.
    pub condition: Option<Condition>,
}

impl PermissionRule {
    /// An unconditional rule.
    pub fn always(pattern: impl Into<String>) -> Self {
        Self { pattern: pattern.into(), condition: None }
    }

    /// Whether `permission` is covered by this rule's pattern.
    pub fn matches(&self, permission: &str) -> bool {
        pattern_matches(&self.pattern, permission)
    }

    /// Whether the pattern is a wildcard.
    pub fn is_wildcard(&self) -> bool {
        self.pattern == "*" || self.pattern.ends_with(".*")
    }
}

/// Whether a permission pattern (`perm`, `prefix.*`, `*`) covers `permission`.
pub fn pattern_matches(pattern: &str, permission: &str) -> bool {
    if pattern == "*" {
        return true;
    }
    match pattern.strip_suffix('*') {
        Some(prefix) => permission.starts_with(prefix),
        None => pattern == permission,
    }
}

/// A rule string that does not parse.
#[derive(Debug, thiserror::Error)]
#[error("permission rule `{rule}`: {reason}")]
pub struct RuleParseError {
    rule: String,
    reason: &'static str,
}

impl TryFrom<String> for PermissionRule {
    type Error = RuleParseError;

    fn try_from(rule: String) -> Result<Self, Self::Error> {
        rule.parse()
    }
}

impl std::str::FromStr for PermissionRule {
    type Err = RuleParseError;

    fn from_str(rule: &str) -> Result<Self, Self::Err> {
        let fail = |reason| RuleParseError { rule: rule.to_owned(), reason };
        let (pattern, condition) = match rule.split_once(':') {
            None => (rule, None),
            Some((pattern, "owner")) => (pattern, Some(Condition::Owner)),
            Some((pattern, "assigned")) => (pattern, Some(Condition::Assigned)),
            Some(_) => return Err(fail("the condition after `:` must be `owner` or `assigned`")),
        };
        if pattern.is_empty() {
            return Err(fail("the permission is empty"));
        }
        if pattern.contains('*') && pattern != "*" && !(pattern.ends_with(".*") && pattern.matches('*').count() == 1) {
            return Err(fail("a wildcard must be `*` or end in `.*`"));
        }
        Ok(Self { pattern: pattern.to_owned(), condition })
    }
}

impl From<PermissionRule> for String {
    fn from(rule: PermissionRule) -> Self {
        rule.to_string()
    }
}

impl fmt::Display for PermissionRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.condition {
            None => f.write_str(&self.pattern),
            Some(condition) => write!(f, "{}:{}", self.pattern, condition),
        }
    }
}

impl PackManifest {
    /// Parses a manifest from JSON, rejecting unknown fields.
    pub fn from_json(text: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(text)
    }

    /// The manifest as JSON.
    pub fn to_json(&self) -> String {
        // Serialising plain strings, numbers and enums cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_round_trip_with_conditions() {
        for text in ["pickaxe.edit", "pickaxe.*", "*", "company.edit:owner", "project.view:assigned"] {
            let rule: PermissionRule = text.parse().expect("valid rule");
            assert_eq!(rule.to_string(), text);
        }
    }

    #[test]
    fn bad_rules_are_refused_with_a_reason() {
        for text in ["", "x.y:boss", "pick*axe", "a.*.*", ":owner"] {
            assert!(text.parse::<PermissionRule>().is_err(), "{text} should be refused");
        }
    }

    #[test]
    fn wildcards_cover_prefixes_only() {
        assert!(pattern_matches("studio.*", "studio.analytics.view"));
        assert!(!pattern_matches("studio.*", "studios.view"));
        assert!(pattern_matches("*", "billing.view"));
        assert!(!pattern_matches("billing.view", "billing.manage"));
    }
}
