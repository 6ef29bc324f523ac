//! The change feed: what each commit wrote, in order, under the revision it made. Replicas
//! apply it to their engines (and drop revoked tokens from their caches); consumers read
//! it through the watch endpoint. Secrets (token and invite hashes) never enter it.

use roster_core::Change;
use sea_orm::ActiveValue::Set;
use sea_orm::{ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Statement};
use serde::{Deserialize, Serialize};

use crate::entities::{change_feed, invite};
use crate::store::{StoreError, StoreOp};

type Result<T> = std::result::Result<T, StoreError>;

/// One write of a commit, as the feed carries it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum FeedOp {
    /// A change to the decision state (memberships, grants, resources, groups, roles,
    /// accounts), exactly as the engine applies it.
    Engine {
        /// The change.
        #[cfg_attr(feature = "openapi", schema(value_type = Object))]
        change: Change,
    },
    /// An account's display name was set.
    AccountName {
        /// Account id.
        account: String,
        /// Display name.
        name: String,
    },
    /// A principal's profile was created if it had none.
    NewPrincipal {
        /// Principal id.
        id: String,
        /// Email.
        email: String,
        /// Display name.
        name: String,
    },
    /// A principal's profile was created or updated.
    Principal {
        /// Principal id.
        id: String,
        /// Email.
        email: String,
        /// Display name.
        name: String,
    },
    /// An invite was made (its token is not in the feed).
    InviteCreated {
        /// Invite id.
        id: String,
        /// Account invited to.
        account: String,
        /// Who may accept it.
        email: String,
        /// Role to give.
        role: Option<String>,
        /// Resource to grant the role on.
        resource: Option<String>,
        /// Unix seconds.
        expires_at: i64,
    },
    /// An invite was accepted.
    InviteAccepted {
        /// Invite id.
        id: String,
    },
    /// An invite was revoked.
    InviteRevoked {
        /// Invite id.
        id: String,
    },
    /// An API token was made (its secret is not in the feed).
    TokenCreated {
        /// Token id.
        id: String,
        /// For a principal token, the principal.
        principal: Option<String>,
    },
    /// An API token was revoked: every replica refuses it from this revision on.
    TokenRevoked {
        /// Token id.
        id: String,
    },
}

impl From<&StoreOp> for FeedOp {
    fn from(op: &StoreOp) -> Self {
        match op {
            StoreOp::Change(change) => FeedOp::Engine { change: change.clone() },
            StoreOp::AccountName { account, name } => {
                FeedOp::AccountName { account: account.clone(), name: name.clone() }
            }
            StoreOp::NewPrincipal { id, email, name } => {
                FeedOp::NewPrincipal { id: id.clone(), email: email.clone(), name: name.clone() }
            }
            StoreOp::Principal { id, email, name } => {
                FeedOp::Principal { id: id.clone(), email: email.clone(), name: name.clone() }
            }
            StoreOp::CreateInvite(invite) => FeedOp::InviteCreated {
                id: invite.id.clone(),
                account: invite.account.clone(),
                email: invite.email.clone(),
                role: invite.role.clone(),
                resource: invite.resource.clone(),
                expires_at: invite.expires_at,
            },
            StoreOp::AcceptInvite { id, .. } => FeedOp::InviteAccepted { id: id.clone() },
            StoreOp::RevokeInvite { id } => FeedOp::InviteRevoked { id: id.clone() },
            StoreOp::CreateToken(token) => {
                FeedOp::TokenCreated { id: token.id.clone(), principal: token.principal.clone() }
            }
            StoreOp::RevokeToken { id, .. } => FeedOp::TokenRevoked { id: id.clone() },
        }
    }
}

impl FeedOp {
    /// The accounts this write is about (none for profiles and tokens: the platform's).
    pub fn accounts(&self) -> Vec<&str> {
        match self {
            FeedOp::Engine { change } => change.accounts(),
            FeedOp::AccountName { account, .. } | FeedOp::InviteCreated { account, .. } => vec![account],
            _ => Vec::new(),
        }
    }
}

/// One commit in the feed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FeedEntry {
    /// The revision the commit made.
    pub revision: u64,
    /// Unix seconds.
    pub committed_at: i64,
    /// The accounts the commit wrote in (an accepted or revoked invite's account too).
    pub accounts: Vec<String>,
    /// Its writes, in order.
    pub changes: Vec<FeedOp>,
}

/// The NOTIFY channel a commit signals on (PostgreSQL), its payload the new revision.
pub const FEED_CHANNEL: &str = "roster_feed";

/// Appends a commit's entry (inside its transaction) and, on PostgreSQL, signals the
/// followers: the notification is delivered when the transaction commits.
pub(crate) async fn append_feed<C: ConnectionTrait>(db: &C, revision: i64, ops: &[StoreOp], now: i64) -> Result<()> {
    let changes: Vec<FeedOp> = ops.iter().map(FeedOp::from).collect();
    let mut accounts: Vec<String> = Vec::new();
    for (op, feed) in ops.iter().zip(&changes) {
        let settled = match op {
            StoreOp::AcceptInvite { id, .. } | StoreOp::RevokeInvite { id } => {
                invite::Entity::find_by_id(id.clone()).one(db).await?.map(|invite| invite.account_id)
            }
            _ => None,
        };
        for account in feed.accounts().into_iter().map(str::to_owned).chain(settled) {
            if !accounts.contains(&account) {
                accounts.push(account);
            }
        }
    }
    let encode = |e: serde_json::Error| StoreError::InvalidWrite(format!("feed entry: {e}"));
    change_feed::Entity::insert(change_feed::ActiveModel {
        revision: Set(revision),
        committed_at: Set(now),
        accounts: Set(serde_json::to_string(&accounts).map_err(encode)?),
        changes: Set(serde_json::to_string(&changes).map_err(encode)?),
    })
    .exec(db)
    .await?;
    if db.get_database_backend() == DbBackend::Postgres {
        db.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT pg_notify($1, $2)",
            [FEED_CHANNEL.into(), revision.to_string().into()],
        ))
        .await?;
    }
    Ok(())
}

/// Up to `limit` entries after revision `after`, in revision order.
pub(crate) async fn feed_after<C: ConnectionTrait>(db: &C, after: u64, limit: u64) -> Result<Vec<FeedEntry>> {
    let after = i64::try_from(after).map_err(|_| StoreError::InvalidWrite(format!("revision {after} is too large")))?;
    let rows = change_feed::Entity::find()
        .filter(change_feed::Column::Revision.gt(after))
        .order_by_asc(change_feed::Column::Revision)
        .limit(limit)
        .all(db)
        .await?;
    rows.into_iter()
        .map(|row| {
            let corrupt =
                |what: &str, e: String| StoreError::Corrupt(format!("feed entry {}: {what}: {e}", row.revision));
            Ok(FeedEntry {
                revision: u64::try_from(row.revision).map_err(|_| corrupt("revision", "negative".into()))?,
                committed_at: row.committed_at,
                accounts: serde_json::from_str(&row.accounts).map_err(|e| corrupt("accounts", e.to_string()))?,
                changes: serde_json::from_str(&row.changes).map_err(|e| corrupt("changes", e.to_string()))?,
            })
        })
        .collect()
}
