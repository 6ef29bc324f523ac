//! Decisions and their explanations: the answer to "may P do X on R, and why?".

use serde::Serialize;

use crate::engine::{AccountId, GrantSlot, RoleRef};
use crate::manifest::Condition;

/// What made a decision an allow, as cheap indices (no strings on the hot path).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Basis {
    pub(crate) source: Source,
    pub(crate) account: AccountId,
    pub(crate) role: RoleRef,
    pub(crate) condition: Option<Condition>,
}

impl Basis {
    /// The condition the allowing permission was under, if any.
    pub fn condition(&self) -> Option<Condition> {
        self.condition
    }
}

/// Where a role that reaches a resource comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Source {
    /// The principal's membership in this account.
    Membership(AccountId),
    /// A grant slot.
    Grant(GrantSlot),
}

/// The answer to one check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Decision {
    /// Whether the permission holds.
    pub allowed: bool,
    /// Why, when it does.
    pub basis: Option<Basis>,
}

impl Decision {
    pub(crate) const DENIED: Decision = Decision { allowed: false, basis: None };

    pub(crate) fn allow(basis: Basis) -> Decision {
        Decision { allowed: true, basis: Some(basis) }
    }
}

/// Where a role came from, by name.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Via {
    /// An account membership (possibly of an ancestor account).
    Membership {
        /// The account.
        account: String,
    },
    /// A grant on the resource or an ancestor.
    Grant {
        /// Grant id.
        grant: String,
        /// The account the granted resource is in.
        account: String,
        /// The granted resource.
        resource: String,
        /// `principal:<id>` or `group:<id>`.
        subject: String,
    },
}

/// One role that reaches the resource, and what it says about the permission.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RoleUse {
    /// Role id.
    pub role: String,
    /// Where it comes from.
    pub via: Via,
    /// `yes`, `no`, `if owner` or `if assigned`.
    pub holds: &'static str,
    /// For a conditional holding, whether the condition is met.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub condition_met: Option<bool>,
}

/// A decision with its reasons, for humans and audit.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Explanation {
    /// The answer.
    pub allowed: bool,
    /// The role that allowed it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub granted_by: Option<RoleUse>,
    /// Every role that reaches the resource.
    pub considered: Vec<RoleUse>,
    /// Memberships and grants that were ignored, and why.
    pub ignored: Vec<String>,
    /// One sentence.
    pub summary: String,
}
