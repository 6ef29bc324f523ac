//! Builds the engine a test file's cases run against: its accounts and everything in
//! them, each entry validated by the engine as a stored change would be.

use std::sync::Arc;

use roster_core::engine::MembershipStatus;
use roster_core::manifest::RoleDef;
use roster_core::{Change, Engine, Pack, Subject};
use serde_saphyr::Spanned;

use crate::file::{AccountFixture, CustomRoleFixture, GrantFixture, MemberFixture, TestFile};

/// A problem at a line of a test file.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct Located {
    /// 1-based line.
    pub line: u64,
    /// What is wrong.
    pub message: String,
}

impl Located {
    /// A problem at the place `value` was read from.
    pub fn at<T>(value: &Spanned<T>, message: impl Into<String>) -> Located {
        Located { line: value.referenced.line(), message: message.into() }
    }
}

/// The engine holding the file's fixtures, with `pack` loaded.
pub fn build(pack: &Arc<Pack>, file: &TestFile) -> Result<Engine, Located> {
    let mut engine = Engine::new([Arc::clone(pack)]);
    let mut grant_count = 0usize;
    for account in &file.accounts {
        let mut put = |change: Change, line: u64| {
            engine.apply(change).map(|_| ()).map_err(|e| Located { line, message: e.to_string() })
        };
        let line = account.referenced.line();
        let fixture: &AccountFixture = &account.value;
        let id = fixture.id.clone();
        put(
            Change::CreateAccount { id: id.clone(), pack: pack.id().to_owned(), parent: fixture.parent.clone() },
            line,
        )?;
        for role in &fixture.custom_roles {
            put(Change::DefineRole { account: id.clone(), role: role_def(&role.value) }, role.referenced.line())?;
        }
        for (principal, member) in &fixture.members {
            let (role, external, removed, expires_at) = match &member.value {
                MemberFixture::Role(role) => (role.clone(), false, false, None),
                MemberFixture::Long(long) => {
                    (long.role.clone(), long.external, long.removed, expiry(long.expires_at, long.expired, file.now))
                }
            };
            let status = if removed { MembershipStatus::Removed } else { MembershipStatus::Active };
            let change = Change::PutMembership {
                account: id.clone(),
                principal: principal.clone(),
                role,
                external,
                status,
                expires_at,
            };
            put(change, member.referenced.line())?;
        }
        for resource in &fixture.resources {
            let r = &resource.value;
            let change = Change::AddResource {
                account: id.clone(),
                resource: r.name.clone(),
                parent: r.parent.clone(),
                owner: r.owner.clone(),
            };
            put(change, resource.referenced.line())?;
        }
        for (group, members) in &fixture.groups {
            let line = members.referenced.line();
            put(Change::AddGroup { account: id.clone(), group: group.clone() }, line)?;
            for principal in &members.value {
                let change =
                    Change::AddGroupMember { account: id.clone(), group: group.clone(), principal: principal.clone() };
                put(change, line)?;
            }
        }
        for grant in &fixture.grants {
            grant_count += 1;
            let g: &GrantFixture = &grant.value;
            let subject = subject(g.principal.as_deref(), g.group.as_deref()).map_err(|m| Located::at(grant, m))?;
            let change = Change::AddGrant {
                id: g.id.clone().unwrap_or_else(|| format!("g{grant_count}")),
                account: id.clone(),
                subject,
                resource: g.resource.clone(),
                role: g.role.clone(),
                expires_at: expiry(g.expires_at, g.expired, file.now),
            };
            put(change, grant.referenced.line())?;
        }
    }
    Ok(engine)
}

/// A grant's subject: exactly one of a principal and a group.
pub(crate) fn subject(principal: Option<&str>, group: Option<&str>) -> Result<Subject, String> {
    match (principal, group) {
        (Some(p), None) => Ok(Subject::Principal(p.to_owned())),
        (None, Some(g)) => Ok(Subject::Group(g.to_owned())),
        _ => Err("a grant names exactly one of `principal` and `group`".to_owned()),
    }
}

/// A custom role fixture as the engine's role definition.
pub(crate) fn role_def(role: &CustomRoleFixture) -> RoleDef {
    RoleDef::new(
        role.id.clone(),
        role.title.clone().unwrap_or_else(|| role.id.clone()),
        role.rank,
        role.permissions.clone(),
    )
}

fn expiry(expires_at: Option<i64>, expired: bool, now: i64) -> Option<i64> {
    if expired { Some(now - 1) } else { expires_at }
}
