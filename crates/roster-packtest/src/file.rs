//! The `*.test.yaml` format: what a pack test file may say, read with the line of every
//! fixture and case so that each problem points at its place in the file.

use std::collections::BTreeMap;

use roster_core::manifest::PermissionRule;
use serde::Deserialize;
use serde_saphyr::Spanned;

/// One test file: a pack, fixtures built from it, and the cases it must pass.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestFile {
    /// A pack file (`../pack.toml`, a plugin library) relative to the test file, or the id
    /// of a pack the daemon's configuration loads.
    pub pack: Spanned<String>,
    /// The time the cases run at, in unix seconds (memberships and grants with an earlier
    /// `expires_at` count as expired).
    #[serde(default = "default_now")]
    pub now: i64,
    /// Accounts with their members, resources, groups, custom roles and grants, built in
    /// file order (a child account names a parent above it).
    #[serde(default)]
    pub accounts: Vec<Spanned<AccountFixture>>,
    /// A matrix snapshot the pack must render exactly: a `.csv`, `.md` or `.json` file
    /// relative to the test file.
    #[serde(default)]
    pub matrix: Option<Spanned<String>>,
    /// The assertions.
    #[serde(default)]
    pub cases: Vec<Spanned<Case>>,
}

/// The default time of a file: 2027-01-15 08:00 UTC.
pub const DEFAULT_NOW: i64 = 1_800_000_000;

fn default_now() -> i64 {
    DEFAULT_NOW
}

/// An account and what it holds.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountFixture {
    /// Account id.
    pub id: String,
    /// The parent account, for a child account (an agency's client organisation).
    #[serde(default)]
    pub parent: Option<String>,
    /// Custom roles of the account, as `role.manage` would define them.
    #[serde(default)]
    pub custom_roles: Vec<Spanned<CustomRoleFixture>>,
    /// Principal id → role id, or the long form with flags.
    #[serde(default)]
    pub members: BTreeMap<String, Spanned<MemberFixture>>,
    /// Resources, parents before children.
    #[serde(default)]
    pub resources: Vec<Spanned<ResourceFixture>>,
    /// Group id → its members.
    #[serde(default)]
    pub groups: BTreeMap<String, Spanned<Vec<String>>>,
    /// Roles given on the account or on one resource, to a principal or a group.
    #[serde(default)]
    pub grants: Vec<Spanned<GrantFixture>>,
}

/// A membership: a role id, or the long form.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum MemberFixture {
    /// `alice: admin`.
    Role(String),
    /// `carl: {role: user, external: true}`.
    Long(LongMember),
}

/// A membership with its flags.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LongMember {
    /// Role id (pack or custom).
    pub role: String,
    /// An external consultant: the role gives nothing, only grants do.
    #[serde(default)]
    pub external: bool,
    /// Soft-removed (in packs whose removal policy keeps removed members).
    #[serde(default)]
    pub removed: bool,
    /// Unix seconds after which the membership counts as absent.
    #[serde(default)]
    pub expires_at: Option<i64>,
    /// Shorthand for an `expires_at` one second before the file's `now`.
    #[serde(default)]
    pub expired: bool,
}

/// A resource of the account.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResourceFixture {
    /// `<type>:<id>`.
    pub name: String,
    /// The parent resource; the account when absent.
    #[serde(default)]
    pub parent: Option<String>,
    /// The owning principal.
    #[serde(default)]
    pub owner: Option<String>,
}

/// A custom role: the shape `role.manage` accepts.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomRoleFixture {
    /// Role id.
    pub id: String,
    /// Human title (the id when absent).
    #[serde(default)]
    pub title: Option<String>,
    /// Rank.
    pub rank: u32,
    /// Permission rules (`perm`, `prefix.*`, `perm:owner`, …).
    pub permissions: Vec<PermissionRule>,
}

/// A grant.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GrantFixture {
    /// Grant id; `g<N>` in file order when absent.
    #[serde(default)]
    pub id: Option<String>,
    /// The grantee principal (or `group`).
    #[serde(default)]
    pub principal: Option<String>,
    /// The grantee group (or `principal`).
    #[serde(default)]
    pub group: Option<String>,
    /// Role id.
    pub role: String,
    /// The resource; the account when absent.
    #[serde(default)]
    pub resource: Option<String>,
    /// Unix seconds after which the grant counts as absent.
    #[serde(default)]
    pub expires_at: Option<i64>,
    /// Shorthand for an `expires_at` one second before the file's `now`.
    #[serde(default)]
    pub expired: bool,
}

/// One assertion: exactly one question (`check`, `do`, `permissions`, `roles`,
/// `lookup`, `subjects`) and what its answer must be.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Case {
    /// What the case states; generated from the question when absent.
    pub name: Option<String>,
    /// Operations carried out first, on a copy of the fixtures (each must be allowed).
    pub given: Vec<Step>,
    /// May a principal do a permission on a resource? `expect: allowed | denied`.
    pub check: Option<CheckSpec>,
    /// The management operation to try, as `as` (the platform when absent):
    /// `expect: allowed | refused`, with the refusal's `code` and `message`.
    #[serde(rename = "do")]
    pub operation: Option<OperationSpec>,
    /// The actor of `do`: a principal id; the platform (a service token) when absent.
    #[serde(rename = "as")]
    pub actor: Option<String>,
    /// A principal's effective permissions on a resource.
    pub permissions: Option<PermissionsSpec>,
    /// The roles that reach a principal on a resource (memberships and grants).
    pub roles: Option<PermissionsSpec>,
    /// The resources of a type on which a principal holds a permission.
    pub lookup: Option<LookupSpec>,
    /// The principals holding a permission on a resource.
    pub subjects: Option<SubjectsSpec>,
    /// `allowed` or `denied` for a check; `allowed` or `refused` for an operation.
    pub expect: Option<String>,
    /// The refusal's code (`forbidden`, `policy_violation`, `not_found`, `conflict`,
    /// `invalid_input`), as the API answers it.
    pub code: Option<String>,
    /// Text the refusal's message must contain.
    pub message: Option<String>,
    /// Texts the check's explanation must mention (roles, grants, accounts, words of its
    /// summary).
    pub because: Vec<String>,
    /// The whole answer of `permissions`, `roles`, `lookup` or `subjects`, in any order.
    pub exactly: Option<Vec<String>>,
    /// Items the answer must contain.
    pub includes: Vec<String>,
    /// Items the answer must not contain.
    pub excludes: Vec<String>,
}

/// An operation carried out before a case's question.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// The actor: a principal id; the platform when absent.
    #[serde(default, rename = "as")]
    pub actor: Option<String>,
    /// The operation.
    #[serde(rename = "do")]
    pub operation: OperationSpec,
}

/// `check: {principal, permission, resource?, account?}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckSpec {
    /// The account; the file's first account when absent.
    #[serde(default)]
    pub account: Option<String>,
    /// Principal id.
    pub principal: String,
    /// Permission id.
    pub permission: String,
    /// `<type>:<id>`; the account when absent.
    #[serde(default)]
    pub resource: Option<String>,
}

/// `permissions: {principal, resource?, account?}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PermissionsSpec {
    /// The account; the file's first account when absent.
    #[serde(default)]
    pub account: Option<String>,
    /// Principal id.
    pub principal: String,
    /// `<type>:<id>`; the account when absent.
    #[serde(default)]
    pub resource: Option<String>,
}

/// `lookup: {principal, permission, type, account?}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LookupSpec {
    /// The account; the file's first account when absent.
    #[serde(default)]
    pub account: Option<String>,
    /// Principal id.
    pub principal: String,
    /// Permission id.
    pub permission: String,
    /// Resource type.
    #[serde(rename = "type")]
    pub ty: String,
}

/// `subjects: {permission, resource?, account?}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubjectsSpec {
    /// The account; the file's first account when absent.
    #[serde(default)]
    pub account: Option<String>,
    /// Permission id.
    pub permission: String,
    /// `<type>:<id>`; the account when absent.
    #[serde(default)]
    pub resource: Option<String>,
}

/// A management operation, as the API names it. `account` defaults to the file's first
/// account everywhere.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
#[allow(missing_docs)]
pub enum OperationSpec {
    /// A child account (`account.create` on the parent) or a top-level one (platform).
    CreateAccount {
        id: String,
        parent: Option<String>,
        owner: String,
    },
    AddMember {
        account: Option<String>,
        principal: String,
        role: Option<String>,
        #[serde(default)]
        external: bool,
        expires_at: Option<i64>,
    },
    ChangeRole {
        account: Option<String>,
        principal: String,
        role: String,
    },
    RemoveMember {
        account: Option<String>,
        principal: String,
    },
    RestoreMember {
        account: Option<String>,
        principal: String,
    },
    PurgeMember {
        account: Option<String>,
        principal: String,
    },
    MoveMember {
        from: String,
        to: String,
        principal: String,
        role: Option<String>,
    },
    Grant {
        account: Option<String>,
        id: Option<String>,
        principal: Option<String>,
        group: Option<String>,
        resource: Option<String>,
        role: String,
        expires_at: Option<i64>,
    },
    RevokeGrant {
        account: Option<String>,
        id: String,
    },
    TransferOwnership {
        account: Option<String>,
        to: String,
    },
    DefineRole {
        account: Option<String>,
        role: CustomRoleFixture,
    },
    RemoveRole {
        account: Option<String>,
        role: String,
    },
    CreateResource {
        account: Option<String>,
        resource: String,
        parent: Option<String>,
        owner: Option<String>,
    },
    DeleteResource {
        account: Option<String>,
        resource: String,
    },
    CreateGroup {
        account: Option<String>,
        group: String,
    },
    DeleteGroup {
        account: Option<String>,
        group: String,
    },
    AddGroupMember {
        account: Option<String>,
        group: String,
        principal: String,
    },
    RemoveGroupMember {
        account: Option<String>,
        group: String,
        principal: String,
    },
    ViewMember {
        account: Option<String>,
        principal: String,
    },
    Masquerade {
        account: Option<String>,
        target: String,
    },
    Invite {
        account: Option<String>,
        role: Option<String>,
        resource: Option<String>,
    },
    RevokeInvite {
        account: Option<String>,
        role: Option<String>,
        resource: Option<String>,
    },
}

/// Reads a test file's text.
pub fn parse(text: &str) -> Result<TestFile, serde_saphyr::Error> {
    serde_saphyr::from_str(text)
}
