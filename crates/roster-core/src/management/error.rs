//! Refusals of the management rules: one typed variant per reason, each with its class.

use crate::engine::ChangeError;

/// The class of a refusal, for mapping to API error codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// The request itself is malformed.
    InvalidInput,
    /// Something named does not exist.
    NotFound,
    /// The actor may not do this.
    Forbidden,
    /// The state does not allow it (already exists, not removed, …).
    Conflict,
    /// A pack policy forbids it whoever asks.
    PolicyViolation,
}

impl ErrorKind {
    /// The API's `code` for this class (`invalid_input`, `not_found`, `forbidden`,
    /// `conflict`, `policy_violation`), which pack test files name too.
    pub fn code(self) -> &'static str {
        match self {
            ErrorKind::InvalidInput => "invalid_input",
            ErrorKind::NotFound => "not_found",
            ErrorKind::Forbidden => "forbidden",
            ErrorKind::Conflict => "conflict",
            ErrorKind::PolicyViolation => "policy_violation",
        }
    }
}

/// Why a management operation is refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ManagementError {
    /// The change does not fit the state.
    #[error(transparent)]
    Change(#[from] ChangeError),
    /// The principal has no membership in the account.
    #[error("`{principal}` is not a member of account `{account}`")]
    NotAMember {
        /// Account id.
        account: String,
        /// Principal id.
        principal: String,
    },
    /// The actor lacks the operation's permission at the scope.
    #[error("`{actor}` lacks `{permission}` on `{scope}`")]
    MissingPermission {
        /// Actor id.
        actor: String,
        /// The permission.
        permission: String,
        /// `account/resource`.
        scope: String,
    },
    /// None of the actor's roles there manages the role.
    #[error("none of `{actor}`'s roles on `{scope}` manages role `{role}`")]
    RoleNotManaged {
        /// Actor id.
        actor: String,
        /// The role.
        role: String,
        /// `account/resource`.
        scope: String,
    },
    /// Nobody changes their own role or removes themselves.
    #[error("nobody may change their own role or remove themselves; ask another member who manages `{role}`")]
    OwnMembership {
        /// The actor's current role.
        role: String,
    },
    /// Single-holder roles move only by ownership transfer.
    #[error("role `{role}` has exactly one holder per account and moves only by ownership transfer")]
    SingleHolderByTransferOnly {
        /// The role.
        role: String,
    },
    /// Demotion on a promotion-only ladder.
    #[error(
        "roles in pack `{pack}` only go up the ladder; `{from}` to `{to}` goes down: remove the member and re-add them as `{to}`"
    )]
    Demotion {
        /// Pack id.
        pack: String,
        /// Current role.
        from: String,
        /// Requested role.
        to: String,
    },
    /// The single-holder role cannot be transferred.
    #[error("role `{role}` is not transferable: its holder cannot be changed")]
    NotTransferable {
        /// The role.
        role: String,
    },
    /// The pack has no single-holder role to transfer.
    #[error("pack `{0}` has no single-holder role, so there is no ownership to transfer")]
    NoOwnership(String),
    /// Only the current holder may hand over ownership.
    #[error("only the current holder of `{role}` may transfer it")]
    NotTheHolder {
        /// The role.
        role: String,
    },
    /// The role cannot be handed to this member.
    #[error("`{principal}` cannot take role `{role}`: {reason}")]
    IneligibleMember {
        /// Principal id.
        principal: String,
        /// The role.
        role: String,
        /// Why.
        reason: &'static str,
    },
    /// After a transfer the old holder needs a role.
    #[error("role `{role}` manages no lower account role for the previous holder to take")]
    NoRoleForPreviousHolder {
        /// The single-holder role.
        role: String,
    },
    /// The principal is already a member.
    #[error("`{principal}` is already a {state} member of account `{account}`{hint}", hint = if *removed { "; restore them instead" } else { "" }, state = if *removed { "removed" } else { "" })]
    AlreadyMember {
        /// Account id.
        account: String,
        /// Principal id.
        principal: String,
        /// Whether the membership is soft-removed.
        removed: bool,
    },
    /// Restore or purge of a member who is not removed.
    #[error("`{principal}` is an active member; only removed members can be restored or purged")]
    NotRemoved {
        /// Principal id.
        principal: String,
    },
    /// Restore in a hard-removal pack.
    #[error("pack `{0}` removes members outright; there is nothing to restore")]
    HardRemoval(String),
    /// The member already holds the role.
    #[error("`{principal}` already holds role `{role}`")]
    SameRole {
        /// Principal id.
        principal: String,
        /// The role.
        role: String,
    },
    /// No role named and the pack has no usable default.
    #[error("no role given and pack `{pack}` has no default role for a `{ty}`; name a role")]
    NoDefaultRole {
        /// Pack id.
        pack: String,
        /// The account type.
        ty: String,
    },
    /// The grantee lacks a permission the role requires.
    #[error("`{principal}` cannot be given role `{role}`: it requires `{permission}` there, which they do not hold")]
    GranteeLacks {
        /// Principal id.
        principal: String,
        /// The role.
        role: String,
        /// The required permission.
        permission: String,
    },
    /// Roles with a grantee requirement go to principals only.
    #[error(
        "role `{role}` requires its grantee to hold `{permission}`, so it can be granted to principals only, not groups"
    )]
    RequirementNeedsPrincipal {
        /// The role.
        role: String,
        /// The required permission.
        permission: String,
    },
    /// A custom role would exceed its creator.
    #[error("`{actor}` cannot define or hand out role `{role}`: {reason}")]
    ExceedsActor {
        /// Actor id.
        actor: String,
        /// The role.
        role: String,
        /// What exceeds the actor.
        reason: String,
    },
    /// Masquerade refused.
    #[error("`{actor}` may not masquerade as `{target}`: {reason}")]
    Masquerade {
        /// Actor id.
        actor: String,
        /// Target id.
        target: String,
        /// Why.
        reason: String,
    },
    /// The operation needs the platform.
    #[error("{0} is reserved to the platform (a service token without Roster-Act-As)")]
    PlatformOnly(&'static str),
    /// An invite to a resource must say which role it grants.
    #[error("an invite to a resource must name the role it grants")]
    InviteNeedsRole,
    /// A principal names a child account outside its parent's id name space.
    #[error("a child account created by a principal is named `{parent}.<label>` (a label without `.`), not `{id}`")]
    ChildIdOutsideParent {
        /// The id asked for.
        id: String,
        /// The parent account.
        parent: String,
    },
    /// A principal asked a decision question about someone else.
    #[error("`{actor}` may only ask about their own permissions, not `{principal}`")]
    OthersPermissions {
        /// Who asked.
        actor: String,
        /// Whom they asked about.
        principal: String,
    },
    /// A top-level account id with a `.` (the separator of child labels).
    #[error("a top-level account id has no `.` (it separates a child account's label from its parent), `{id}` does")]
    TopLevelIdWithDot {
        /// The id asked for.
        id: String,
    },
    /// Nobody hands a role to themselves.
    #[error(
        "nobody grants roles to themselves (directly, through a group they are in, or by joining a group that carries roles); ask another member who manages `{role}`"
    )]
    SelfGrant {
        /// The role that would be handed out.
        role: String,
    },
    /// Nobody changes their own membership of a group that carries roles.
    #[error(
        "nobody changes their own membership of group `{group}`, which carries roles; ask another member who manages them"
    )]
    OwnGroupMembership {
        /// Group id.
        group: String,
    },
    /// The role goes to live members of the account only.
    #[error(
        "`{principal}` is not an active member of account `{account}` (or an account above it), and role `{role}` is for members only"
    )]
    GranteeNotMember {
        /// Principal id.
        principal: String,
        /// Account id.
        account: String,
        /// Role id.
        role: String,
    },
    /// Groups hold live members of the account only.
    #[error("`{principal}` is not an active member of account `{account}`, so they cannot join its group `{group}`")]
    GroupMemberNotMember {
        /// Principal id.
        principal: String,
        /// Account id.
        account: String,
        /// Group id.
        group: String,
    },
    /// A principal creates resources as their own.
    #[error("`{actor}` cannot name `{owner}` as the owner: a principal creates resources as their own owner")]
    OwnerNotSelf {
        /// Actor id.
        actor: String,
        /// The owner asked for.
        owner: String,
    },
    /// On a promotion-only ladder a role change takes no permission away.
    #[error(
        "roles in pack `{pack}` only go up the ladder; `{from}` to `{to}` takes away `{permission}`: remove the member and re-add them as `{to}`"
    )]
    DemotionByPermission {
        /// Pack id.
        pack: String,
        /// Current role.
        from: String,
        /// Requested role.
        to: String,
        /// A permission the member would lose.
        permission: String,
    },
}

impl ManagementError {
    /// The class of the refusal.
    pub fn kind(&self) -> ErrorKind {
        use ManagementError as E;
        match self {
            E::Change(change) => change_kind(change),
            E::NotAMember { .. } => ErrorKind::NotFound,
            E::MissingPermission { .. }
            | E::RoleNotManaged { .. }
            | E::OwnMembership { .. }
            | E::NotTheHolder { .. }
            | E::ExceedsActor { .. }
            | E::Masquerade { .. }
            | E::PlatformOnly(_)
            | E::SelfGrant { .. }
            | E::OwnGroupMembership { .. }
            | E::OwnerNotSelf { .. }
            | E::OthersPermissions { .. } => ErrorKind::Forbidden,
            E::AlreadyMember { .. } | E::NotRemoved { .. } | E::SameRole { .. } => ErrorKind::Conflict,
            E::NoDefaultRole { .. }
            | E::InviteNeedsRole
            | E::ChildIdOutsideParent { .. }
            | E::TopLevelIdWithDot { .. } => ErrorKind::InvalidInput,
            E::SingleHolderByTransferOnly { .. }
            | E::Demotion { .. }
            | E::NotTransferable { .. }
            | E::NoOwnership(_)
            | E::IneligibleMember { .. }
            | E::NoRoleForPreviousHolder { .. }
            | E::HardRemoval(_)
            | E::GranteeLacks { .. }
            | E::RequirementNeedsPrincipal { .. }
            | E::GranteeNotMember { .. }
            | E::GroupMemberNotMember { .. }
            | E::DemotionByPermission { .. } => ErrorKind::PolicyViolation,
        }
    }
}

/// The class of a change that does not fit the state; every variant named, so a new one
/// cannot slip into the wrong class.
fn change_kind(change: &ChangeError) -> ErrorKind {
    use ChangeError as C;
    match change {
        C::UnknownPack(_)
        | C::UnknownAccount(_)
        | C::UnknownResource { .. }
        | C::UnknownRole { .. }
        | C::UnknownMember { .. }
        | C::UnknownGroupMember { .. }
        | C::UnknownGroup { .. }
        | C::UnknownGrant { .. } => ErrorKind::NotFound,
        C::AccountExists(_)
        | C::ResourceExists { .. }
        | C::GroupExists { .. }
        | C::GrantExists { .. }
        | C::CustomRoleExists(_)
        | C::TooManyCustomRoles { .. }
        | C::RemovesOwnCreation { .. }
        | C::RoleInUse(_) => ErrorKind::Conflict,
        C::BadId { .. }
        | C::ChildPackMismatch { .. }
        | C::NoChildAccountType { .. }
        | C::BadResourceName(_)
        | C::UnknownResourceType { .. }
        | C::WrongParentType { .. }
        | C::TooDeep(_)
        | C::AccountTooDeep(_)
        | C::RoleNotGrantable { .. }
        | C::EmptyRoleTitle(_)
        | C::CustomRoleFlags(_)
        | C::CustomRoleGrantableOn(_)
        | C::UnknownRolePermission { .. }
        | C::UnknownManagedRole { .. } => ErrorKind::InvalidInput,
        C::SingleHolderNotGrantable(_) => ErrorKind::PolicyViolation,
    }
}
