//! The repository: connecting and migrating, committing a management call's writes in one
//! transaction, rebuilding the engine from the tables, and the reads the daemon needs
//! beyond the engine (profiles, invites, tokens, audit).

use std::path::Path;
use std::time::Duration;

use roster_core::engine::MembershipStatus;
use roster_core::{Change, Engine, Subject};
use roster_migrations::{Migrator, MigratorTrait};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::sqlx::sqlite::SqliteJournalMode;
use sea_orm::{
    AccessMode, ActiveValue::Set, ColumnTrait, Condition, ConnectOptions, ConnectionTrait, Database,
    DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, EntityTrait, IsolationLevel, QueryFilter, QueryOrder,
    QuerySelect, SqlErr, TransactionTrait,
};

use crate::audit::{
    AuditChain, AuditEvent, AuditKey, AuditRecord, ChainProblem, ChainReport, Fields, chain_hash, head_seal, is_keyed,
};
use crate::entities::{
    account, audit_event, audit_head, change_feed, custom_role, grant, group, group_member, invite, membership, meta,
    principal, resource, token,
};
use crate::feed::{FeedEntry, append_feed, feed_after};
use crate::load::load_tables;

/// Why a storage call failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database refused or failed.
    #[error("database error: {0}")]
    Database(#[from] DbErr),
    /// A schema constraint (unique, foreign key, check) refused the write.
    #[error("the write breaks a database constraint: {0}")]
    Constraint(String),
    /// The SQLite file's directory could not be created.
    #[error("cannot create {path}: {message}")]
    Io {
        /// The directory.
        path: String,
        /// What went wrong.
        message: String,
    },
    /// The stored rows do not form a valid state.
    #[error("the stored state is inconsistent: {0}")]
    Corrupt(String),
    /// A conditional write found its row no longer in the state it required (an invite
    /// accepted, revoked or expired meanwhile): nothing was written.
    #[error("{0}")]
    Precondition(String),
    /// The caller asked for a write the store does not make.
    #[error("invalid write: {0}")]
    InvalidWrite(String),
}

type Result<T> = std::result::Result<T, StoreError>;

/// A stored invite.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InviteRecord {
    /// Invite id.
    pub id: String,
    /// Account invited to.
    pub account: String,
    /// Who may accept it.
    pub email: String,
    /// Role to give (the pack's default when `None`).
    pub role: Option<String>,
    /// A resource to grant the role on, instead of a membership.
    pub resource: Option<String>,
    /// sha256 of the invite token, hex.
    pub token_hash: String,
    /// Unix seconds.
    pub expires_at: i64,
    /// `pending`, `accepted` or `revoked`.
    pub status: String,
    /// Who invited.
    pub created_by: String,
    /// Unix seconds.
    pub created_at: i64,
}

/// A stored API token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenRecord {
    /// Token id (the public part of the token).
    pub id: String,
    /// A name for humans.
    pub name: String,
    /// For a principal token, the principal; `None` for a service token.
    pub principal: Option<String>,
    /// sha256 of the secret part, hex.
    pub secret_hash: String,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds, once revoked.
    pub revoked_at: Option<i64>,
}

/// One write of a management call.
#[derive(Clone, Debug, PartialEq)]
pub enum StoreOp {
    /// A change the engine applies too.
    Change(Change),
    /// Sets an account's display name.
    AccountName {
        /// Account id.
        account: String,
        /// Display name.
        name: String,
    },
    /// Creates a principal's profile if it has none; an existing profile is left as it is.
    NewPrincipal {
        /// Principal id.
        id: String,
        /// Email.
        email: String,
        /// Display name.
        name: String,
    },
    /// Creates or updates a principal's profile (its own endpoint only).
    Principal {
        /// Principal id.
        id: String,
        /// Email.
        email: String,
        /// Display name.
        name: String,
    },
    /// Stores a new invite.
    CreateInvite(InviteRecord),
    /// Marks a pending, unexpired invite accepted; fails with
    /// [`StoreError::Precondition`] (and writes nothing) if it is not, so of two accepts
    /// of one invite exactly one commits, on every backend and across daemons.
    AcceptInvite {
        /// Invite id.
        id: String,
        /// Unix seconds: the invite must expire after this.
        now: i64,
    },
    /// Marks a pending invite revoked; fails with [`StoreError::Precondition`] if it is not
    /// pending any more.
    RevokeInvite {
        /// Invite id.
        id: String,
    },
    /// Stores a new token.
    CreateToken(TokenRecord),
    /// Revokes a token.
    RevokeToken {
        /// Token id.
        id: String,
        /// Unix seconds.
        at: i64,
    },
}

/// The repository.
#[derive(Clone, Debug)]
pub struct Store {
    db: DatabaseConnection,
    /// With a key, audit chains are HMAC-SHA256; without, plain sha256.
    audit_key: Option<AuditKey>,
}

pub(crate) fn constraint_or_db(error: DbErr) -> StoreError {
    match error.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(message)) | Some(SqlErr::ForeignKeyConstraintViolation(message)) => {
            StoreError::Constraint(message)
        }
        _ if error.to_string().contains("CHECK constraint")
            || error.to_string().contains("violates check constraint") =>
        {
            StoreError::Constraint(error.to_string())
        }
        _ => StoreError::Database(error),
    }
}

impl Store {
    /// Connects to `url` (`sqlite://path?mode=rwc` or `postgres://…`). For SQLite the file's
    /// directory is created and the journal is put in WAL mode.
    pub async fn connect(url: &str) -> Result<Store> {
        if let Some(path) = url.strip_prefix("sqlite://").map(|rest| rest.split('?').next().unwrap_or(rest))
            && let Some(dir) = Path::new(path).parent().filter(|d| !d.as_os_str().is_empty())
        {
            std::fs::create_dir_all(dir)
                .map_err(|e| StoreError::Io { path: dir.display().to_string(), message: e.to_string() })?;
        }
        let mut options = ConnectOptions::new(url.to_owned());
        // No idle timeout and no maximum lifetime: either one starts sqlx's pool maintenance
        // task, which in sqlx 0.9.0 can spin at 100% CPU forever and starve the runtime (a
        // race on its idle count, launchbadge/sqlx#3645; seen here as an import that never
        // finished). Connections are still checked before each use.
        options
            .sqlx_logging(false)
            .acquire_timeout(Duration::from_secs(10))
            .idle_timeout(None)
            .max_lifetime(None)
            .min_connections(0);
        if url.starts_with("sqlite:") {
            options.map_sqlx_sqlite_opts(|o| {
                o.journal_mode(SqliteJournalMode::Wal).foreign_keys(true).busy_timeout(Duration::from_secs(10))
            });
        }
        Ok(Store { db: Database::connect(options).await?, audit_key: None })
    }

    /// The same store, hashing new audit events with `key` (HMAC-SHA256) and verifying
    /// chains with it.
    pub fn with_audit_key(self, key: AuditKey) -> Store {
        Store { audit_key: Some(key), ..self }
    }

    /// The audit key, when chains are keyed.
    pub(crate) fn audit_key(&self) -> Option<&AuditKey> {
        self.audit_key.as_ref()
    }

    /// Applies pending migrations.
    pub async fn migrate(&self) -> Result<()> {
        Migrator::up(&self.db, None).await?;
        Ok(())
    }

    /// How many schema migrations this build would apply (for read-only tools, which must
    /// not change the schema older daemons run on).
    pub async fn pending_migrations(&self) -> Result<usize> {
        Ok(Migrator::get_pending_migrations_read_only(&self.db).await?.len())
    }

    /// The connection, for tests and tools that inspect the tables.
    pub fn connection(&self) -> &DatabaseConnection {
        &self.db
    }

    /// The database kind.
    pub fn backend(&self) -> DbBackend {
        self.db.get_database_backend()
    }

    /// The last committed revision.
    pub async fn revision(&self) -> Result<u64> {
        let row = meta::Entity::find_by_id(1)
            .one(&self.db)
            .await?
            .ok_or_else(|| StoreError::Corrupt("no revision row".into()))?;
        u64::try_from(row.revision).map_err(|_| StoreError::Corrupt("negative revision".into()))
    }

    /// Commits one management call: its writes, its audit events, its feed entry and a new
    /// revision, in one transaction. `engine` is the state before the writes (for role
    /// flags). [`Store::lock_for_write`] then [`WriteLock::commit`], for a caller that does
    /// not need to plan inside the lock.
    pub async fn commit(&self, engine: &Engine, ops: &[StoreOp], audit: &[AuditRecord], now: i64) -> Result<u64> {
        self.lock_for_write().await?.commit(engine, ops, audit, now).await
    }

    /// Opens a write transaction holding the database's write lock: the revision row,
    /// updated first (PostgreSQL locks the row; SQLite takes its single writer lock). Until
    /// the lock commits or is dropped (rolled back), no other writer commits, on this
    /// daemon or any other on the same database, so a plan made after
    /// [`WriteLock::feed_after`] has caught the engine up cannot be invalidated by another
    /// replica's write.
    pub async fn lock_for_write(&self) -> Result<WriteLock> {
        let txn = self.db.begin().await?;
        meta::Entity::update_many()
            .col_expr(meta::Column::Revision, Expr::col(meta::Column::Revision).add(1))
            .filter(meta::Column::Id.eq(1))
            .exec(&txn)
            .await?;
        let revision = meta::Entity::find_by_id(1)
            .one(&txn)
            .await?
            .ok_or_else(|| StoreError::Corrupt("no revision row".into()))?
            .revision;
        let base = u64::try_from(revision - 1).map_err(|_| StoreError::Corrupt("negative revision".into()))?;
        Ok(WriteLock { txn, revision, base, audit_key: self.audit_key.clone() })
    }

    /// Up to `limit` feed entries after revision `after`, in order.
    pub async fn feed_after(&self, after: u64, limit: u64) -> Result<Vec<FeedEntry>> {
        feed_after(&self.db, after, limit).await
    }

    /// The oldest revision still in the feed (`None` when it is empty).
    pub async fn feed_start(&self) -> Result<Option<u64>> {
        let first = change_feed::Entity::find().order_by_asc(change_feed::Column::Revision).one(&self.db).await?;
        first
            .map(|row| u64::try_from(row.revision).map_err(|_| StoreError::Corrupt("negative revision".into())))
            .transpose()
    }

    /// Deletes feed entries committed before `before` (Unix seconds); answers how many.
    pub async fn prune_feed(&self, before: i64) -> Result<u64> {
        let deleted = change_feed::Entity::delete_many()
            .filter(change_feed::Column::CommittedAt.lt(before))
            .exec(&self.db)
            .await?;
        Ok(deleted.rows_affected)
    }

    /// Rebuilds the engine's state from the tables (the engine must be empty), all read in
    /// one transaction so the state is the one at a single revision even while other
    /// daemons write.
    pub async fn load(&self, engine: &mut Engine) -> Result<()> {
        let txn = match self.backend() {
            DbBackend::Postgres => {
                self.db.begin_with_config(Some(IsolationLevel::RepeatableRead), Some(AccessMode::ReadOnly)).await?
            }
            _ => self.db.begin().await?,
        };
        load_tables(&txn, engine).await?;
        txn.commit().await?;
        Ok(())
    }

    /// A principal's profile.
    pub async fn principal(&self, id: &str) -> Result<Option<(String, String)>> {
        Ok(principal::Entity::find_by_id(id.to_owned()).one(&self.db).await?.map(|p| (p.email, p.name)))
    }

    /// The ids of the principals whose stored email is one of `emails`, as (email, id).
    pub async fn principals_by_email(&self, emails: &[&str]) -> Result<Vec<(String, String)>> {
        if emails.is_empty() {
            return Ok(Vec::new());
        }
        let rows = principal::Entity::find()
            .filter(principal::Column::Email.is_in(emails.iter().copied()))
            .all(&self.db)
            .await?;
        Ok(rows.into_iter().map(|p| (p.email, p.id)).collect())
    }

    /// An account's display name.
    pub async fn account_name(&self, id: &str) -> Result<Option<String>> {
        Ok(account::Entity::find_by_id(id.to_owned()).one(&self.db).await?.map(|a| a.name))
    }

    /// A token by id.
    pub async fn token(&self, id: &str) -> Result<Option<TokenRecord>> {
        Ok(token::Entity::find_by_id(id.to_owned()).one(&self.db).await?.map(|t| TokenRecord {
            id: t.id,
            name: t.name,
            principal: t.principal_id,
            secret_hash: t.secret_hash,
            created_at: t.created_at,
            revoked_at: t.revoked_at,
        }))
    }

    /// Whether any token exists (for first-run bootstrap).
    pub async fn has_tokens(&self) -> Result<bool> {
        Ok(token::Entity::find().limit(1).one(&self.db).await?.is_some())
    }

    /// An invite by the hash of its token.
    pub async fn invite_by_token_hash(&self, hash: &str) -> Result<Option<InviteRecord>> {
        let row = invite::Entity::find().filter(invite::Column::TokenHash.eq(hash)).one(&self.db).await?;
        Ok(row.map(invite_record))
    }

    /// An invite by id.
    pub async fn invite(&self, id: &str) -> Result<Option<InviteRecord>> {
        Ok(invite::Entity::find_by_id(id.to_owned()).one(&self.db).await?.map(invite_record))
    }

    /// Up to `limit` of an account's invites, newest first (then by id), after the one
    /// `after` names (`(created_at, id)` of the last invite of the previous page): a range
    /// of the `invites_by_account_created` index.
    pub async fn invites_page(
        &self,
        account: &str,
        after: Option<(i64, &str)>,
        limit: u64,
    ) -> Result<Vec<InviteRecord>> {
        let mut query = invite::Entity::find().filter(invite::Column::AccountId.eq(account));
        if let Some((created_at, id)) = after {
            query =
                query.filter(Condition::any().add(invite::Column::CreatedAt.lt(created_at)).add(
                    Condition::all().add(invite::Column::CreatedAt.eq(created_at)).add(invite::Column::Id.gt(id)),
                ));
        }
        let rows = query
            .order_by_desc(invite::Column::CreatedAt)
            .order_by_asc(invite::Column::Id)
            .limit(limit)
            .all(&self.db)
            .await?;
        Ok(rows.into_iter().map(invite_record).collect())
    }

    /// A chain's events written after revision `after_revision` (the page cursor), oldest
    /// first, filtered by actor and action.
    pub async fn audit(
        &self,
        chain: &AuditChain,
        after_revision: i64,
        limit: u64,
        actor: Option<&str>,
        action: Option<&str>,
    ) -> Result<Vec<AuditEvent>> {
        let mut query = audit_event::Entity::find()
            .filter(audit_event::Column::AccountId.eq(chain.key()))
            .filter(audit_event::Column::Revision.gt(after_revision));
        if let Some(actor) = actor {
            query = query.filter(audit_event::Column::Actor.eq(actor));
        }
        if let Some(action) = action {
            query = query.filter(audit_event::Column::Action.eq(action));
        }
        let rows = query.order_by_asc(audit_event::Column::Seq).limit(limit).all(&self.db).await?;
        rows.into_iter().map(audit_from_row).collect()
    }

    /// Recomputes a chain's hashes and compares its last event with the anchored head:
    /// an edited or deleted event, a deleted tail, a missing or edited head all report
    /// `ok: false` with the problem and the first seq found wrong.
    pub async fn verify_audit(&self, chain: &AuditChain) -> Result<ChainReport> {
        let mut checked = 0;
        let mut after = 0;
        loop {
            let page = self.verify_audit_page(chain, after, VERIFY_PAGE).await?;
            checked += page.report.events;
            match page.next {
                Some(next) if page.report.ok => after = next,
                _ => return Ok(ChainReport { events: checked, ..page.report }),
            }
        }
    }

    /// Verifies up to `limit` events of a chain after seq `after` (0: from the start),
    /// continuing from the stored hash of event `after`; `next` is the seq to continue
    /// from while events remain. The page that reaches the end checks the chain's head.
    /// Memory and time are the page's, whatever the chain's length.
    pub async fn verify_audit_page(&self, chain: &AuditChain, after: i64, limit: u64) -> Result<ChainPage> {
        let in_chain = audit_event::Column::AccountId.eq(chain.key());
        let mut previous = String::new();
        if after > 0 {
            let before = audit_event::Entity::find()
                .filter(in_chain.clone())
                .filter(audit_event::Column::Seq.eq(after))
                .one(&self.db)
                .await?;
            match before {
                Some(row) => previous = row.hash,
                None => {
                    return Ok(ChainPage {
                        report: ChainReport::bad(0, after, ChainProblem::MissingEvent),
                        next: None,
                    });
                }
            }
        }
        let mut rows = audit_event::Entity::find()
            .filter(in_chain)
            .filter(audit_event::Column::Seq.gt(after))
            .order_by_asc(audit_event::Column::Seq)
            .limit(limit.saturating_add(1))
            .all(&self.db)
            .await?;
        let more = rows.len() as u64 > limit;
        rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        let events = rows.len();
        for (index, row) in rows.iter().enumerate() {
            let expected = after + index as i64 + 1;
            if row.seq != expected {
                return Ok(ChainPage {
                    report: ChainReport::bad(events, expected, ChainProblem::MissingEvent),
                    next: None,
                });
            }
            let key = match (is_keyed(&row.hash), &self.audit_key) {
                (true, None) => {
                    return Ok(ChainPage {
                        report: ChainReport::bad(events, row.seq, ChainProblem::KeyNeeded),
                        next: None,
                    });
                }
                (false, Some(_)) => {
                    return Ok(ChainPage {
                        report: ChainReport::bad(events, row.seq, ChainProblem::Unkeyed),
                        next: None,
                    });
                }
                (_, key) => key.as_ref(),
            };
            if chain_hash(key, &previous, &fields(row)) != row.hash {
                return Ok(ChainPage { report: ChainReport::bad(events, row.seq, ChainProblem::Edited), next: None });
            }
            previous.clone_from(&row.hash);
        }
        let last_seq = after + events as i64;
        if more {
            return Ok(ChainPage { report: ChainReport::ok(events), next: Some(last_seq) });
        }
        let head = audit_head::Entity::find_by_id(chain.key().to_owned()).one(&self.db).await?;
        let key = self.audit_key.as_ref();
        let report = match head {
            None if last_seq == 0 && !chain_expected(&self.db, chain).await? => ChainReport::ok(0),
            None => ChainReport::bad(events, 1, ChainProblem::HeadMissing),
            // With a key, a head rolled back (or otherwise edited) without it.
            Some(head) if key.is_some() && head.seal != head_seal(key, chain.key(), head.seq, &head.hash) => {
                let first = std::cmp::max(std::cmp::min(head.seq, last_seq), 1);
                ChainReport { head_seq: Some(head.seq), ..ChainReport::bad(events, first, ChainProblem::HeadMismatch) }
            }
            Some(head) if head.seq > last_seq => ChainReport {
                head_seq: Some(head.seq),
                ..ChainReport::bad(events, last_seq + 1, ChainProblem::Truncated)
            },
            Some(head) if head.seq < last_seq || head.hash != previous => {
                // Events past the head were added behind the daemon's back, or the head's
                // hash was edited.
                let first = if head.seq < last_seq { std::cmp::max(head.seq, 0) + 1 } else { last_seq };
                ChainReport { head_seq: Some(head.seq), ..ChainReport::bad(events, first, ChainProblem::HeadMismatch) }
            }
            Some(_) => ChainReport::ok(events),
        };
        Ok(ChainPage { report, next: None })
    }
}

/// A write transaction holding the database's write lock ([`Store::lock_for_write`]).
/// Dropped without [`WriteLock::commit`], it rolls back and writes nothing.
pub struct WriteLock {
    txn: DatabaseTransaction,
    /// The revision this write makes.
    revision: i64,
    /// The last committed revision when the lock was taken.
    base: u64,
    audit_key: Option<AuditKey>,
}

impl WriteLock {
    /// The last committed revision: an engine at this revision is current while the lock
    /// is held.
    pub fn base_revision(&self) -> u64 {
        self.base
    }

    /// Up to `limit` feed entries after `after`, read inside the lock.
    pub async fn feed_after(&self, after: u64, limit: u64) -> Result<Vec<FeedEntry>> {
        feed_after(&self.txn, after, limit).await
    }

    /// Rebuilds an empty engine from the tables as they are under the lock (for an engine
    /// too far behind to follow the feed).
    pub async fn load(&self, engine: &mut Engine) -> Result<()> {
        load_tables(&self.txn, engine).await?;
        // Inside the lock the revision row already holds this write's revision.
        engine.set_revision(self.base);
        Ok(())
    }

    /// The open transaction, still holding the lock (for a bulk write of its own).
    pub(crate) fn into_transaction(self) -> DatabaseTransaction {
        self.txn
    }

    /// Writes the call's changes, its audit events and its feed entry, and commits;
    /// answers the new revision. `engine` is the state before the writes (for role flags).
    pub async fn commit(self, engine: &Engine, ops: &[StoreOp], audit: &[AuditRecord], now: i64) -> Result<u64> {
        let WriteLock { txn, revision, audit_key, .. } = self;
        for (index, op) in ops.iter().enumerate() {
            let seq = revision * 65_536 + index as i64;
            write(&txn, &Context { engine, ops }, op, seq).await.map_err(|error| match error {
                OpError::Db(error) => constraint_or_db(error),
                OpError::Precondition(message) => StoreError::Precondition(message),
            })?;
        }
        // One event per chain per write: the revision then orders a chain and pages it.
        for (index, record) in audit.iter().enumerate() {
            if audit[..index].iter().any(|r| r.chain == record.chain) {
                return Err(StoreError::InvalidWrite(format!("two audit events for chain `{}`", record.chain.key())));
            }
            let starts = chain_may_start(&txn, &record.chain, ops).await?;
            append_audit(&txn, audit_key.as_ref(), record, starts, revision, now).await?;
        }
        append_feed(&txn, revision, ops, now).await?;
        txn.commit().await.map_err(constraint_or_db)?;
        u64::try_from(revision).map_err(|_| StoreError::Corrupt("negative revision".into()))
    }
}

/// Events verified per page when a whole chain is verified.
const VERIFY_PAGE: u64 = 1000;

/// One page of a chain's verification.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChainPage {
    /// The verdict on this page's events (and, on the last page, on the head).
    pub report: ChainReport,
    /// The seq to continue from; `None` once the chain's end (or a problem) is reached.
    pub next: Option<i64>,
}

/// The hashed fields of a stored event.
pub(crate) fn fields(row: &audit_event::Model) -> Fields<'_> {
    Fields {
        seq: row.seq,
        at: row.at,
        actor: &row.actor,
        action: &row.action,
        target: &row.target,
        before: row.before_state.as_deref(),
        after: row.after_state.as_deref(),
        request_id: row.request_id.as_deref(),
        trace_id: row.trace_id.as_deref(),
        revision: row.revision,
    }
}

fn invite_record(row: invite::Model) -> InviteRecord {
    InviteRecord {
        id: row.id,
        account: row.account_id,
        email: row.email,
        role: row.role_id,
        resource: row.resource_name,
        token_hash: row.token_hash,
        expires_at: row.expires_at,
        status: row.status,
        created_by: row.created_by,
        created_at: row.created_at,
    }
}

fn audit_from_row(row: audit_event::Model) -> Result<AuditEvent> {
    let parse = |text: Option<String>| -> Result<Option<serde_json::Value>> {
        text.map(|t| serde_json::from_str(&t).map_err(|e| StoreError::Corrupt(format!("audit state: {e}")))).transpose()
    };
    Ok(AuditEvent {
        seq: row.seq,
        at: row.at,
        actor: row.actor,
        action: row.action,
        target: row.target,
        before: parse(row.before_state)?,
        after: parse(row.after_state)?,
        request_id: row.request_id,
        trace_id: row.trace_id,
        revision: row.revision,
        hash: row.hash,
    })
}

/// Appends one event after the chain's anchored head and moves the head to it. A chain
/// with events but no head was tampered with: writing to it stops (fail closed) rather than
/// starting a second chain that would hide the damage.
/// Whether a chain with no head may start now: an account's only in the write that
/// creates the account, the platform's only while no token exists but those this write
/// creates (the first start). Anywhere else a missing head means the chain was deleted
/// (events and head together) and starting afresh would hide that.
async fn chain_may_start<C: ConnectionTrait>(db: &C, chain: &AuditChain, ops: &[StoreOp]) -> Result<bool> {
    Ok(match chain {
        AuditChain::Account(id) => {
            ops.iter().any(|op| matches!(op, StoreOp::Change(Change::CreateAccount { id: new, .. }) if new == id))
        }
        AuditChain::Platform => {
            let created: Vec<&str> = ops
                .iter()
                .filter_map(|op| match op {
                    StoreOp::CreateToken(record) => Some(record.id.as_str()),
                    _ => None,
                })
                .collect();
            token::Entity::find().filter(token::Column::Id.is_not_in(created)).one(db).await?.is_none()
        }
    })
}

/// Whether a chain with no head should have one: its account exists (every account's
/// chain starts with its creation), or for the platform, a token exists.
async fn chain_expected<C: ConnectionTrait>(db: &C, chain: &AuditChain) -> Result<bool> {
    Ok(match chain {
        AuditChain::Account(id) => account::Entity::find_by_id(id.clone()).one(db).await?.is_some(),
        AuditChain::Platform => token::Entity::find().one(db).await?.is_some(),
    })
}

/// Appends one audit event at `revision` for a write with no ops of its own (an import);
/// `new_chain` says the write created the chain's account, so the chain may start here.
pub(crate) async fn append_audit_event<C: ConnectionTrait>(
    db: &C,
    key: Option<&AuditKey>,
    record: &AuditRecord,
    new_chain: bool,
    revision: i64,
    now: i64,
) -> Result<()> {
    let starts = new_chain || chain_may_start(db, &record.chain, &[]).await?;
    append_audit(db, key, record, starts, revision, now).await
}

async fn append_audit<C: ConnectionTrait>(
    db: &C,
    key: Option<&AuditKey>,
    record: &AuditRecord,
    may_start: bool,
    revision: i64,
    now: i64,
) -> Result<()> {
    let chain = record.chain.key();
    let head = audit_head::Entity::find_by_id(chain.to_owned()).one(db).await?;
    let (seq, previous) = match &head {
        Some(head) => (head.seq + 1, head.hash.clone()),
        None => {
            let any = audit_event::Entity::find().filter(audit_event::Column::AccountId.eq(chain)).one(db).await?;
            if any.is_some() || !may_start {
                return Err(StoreError::Corrupt(format!(
                    "audit chain `{chain}` has no head (audit_heads row deleted, or the whole chain); not appending"
                )));
            }
            (1, String::new())
        }
    };
    let before = record.before.as_ref().map(serde_json::Value::to_string);
    let after = record.after.as_ref().map(serde_json::Value::to_string);
    let row = audit_event::Model {
        account_id: chain.to_owned(),
        seq,
        at: now,
        actor: record.actor.clone(),
        action: record.action.clone(),
        target: record.target.clone(),
        before_state: before,
        after_state: after,
        request_id: record.request_id.clone(),
        trace_id: record.trace_id.clone(),
        revision,
        hash: String::new(),
    };
    let hash = chain_hash(key, &previous, &fields(&row));
    let row = audit_event::Model { hash: hash.clone(), ..row };
    audit_event::Entity::insert(audit_event::ActiveModel::from(row)).exec(db).await.map_err(constraint_or_db)?;
    let seal = head_seal(key, chain, seq, &hash);
    let moved =
        audit_head::ActiveModel { chain: Set(chain.to_owned()), seq: Set(seq), hash: Set(hash), seal: Set(seal) };
    match head {
        Some(_) => audit_head::Entity::update(moved).exec(db).await.map(drop),
        None => audit_head::Entity::insert(moved).exec(db).await.map(drop),
    }
    .map_err(constraint_or_db)
}

pub(crate) fn status_text(status: MembershipStatus) -> &'static str {
    match status {
        MembershipStatus::Active => "active",
        MembershipStatus::Removed => "removed",
    }
}

/// What a write may need to know beyond itself: the engine before the call, and the
/// call's other writes (an account created in the same call is not in the engine yet).
struct Context<'a> {
    engine: &'a Engine,
    ops: &'a [StoreOp],
}

impl Context<'_> {
    fn single_holder(&self, account: &str, role: &str) -> bool {
        let created_here = self.ops.iter().find_map(|op| match op {
            StoreOp::Change(Change::CreateAccount { id, pack, .. }) if id == account => self.engine.pack(pack),
            _ => None,
        });
        created_here
            .or_else(|| self.engine.account_pack(account))
            .and_then(|pack| pack.role(role).map(|r| pack.roles()[usize::from(r)].single_holder))
            .unwrap_or(false)
    }
}

/// Why one write of a transaction failed.
enum OpError {
    Db(DbErr),
    /// A conditional update matched no row.
    Precondition(String),
}

impl From<DbErr> for OpError {
    fn from(error: DbErr) -> Self {
        OpError::Db(error)
    }
}

/// Sets a pending invite's status, only if it is still pending (and, for an accept, not
/// expired): the condition is in the `UPDATE` itself, so the database picks one winner.
async fn settle_invite<C: ConnectionTrait>(
    db: &C,
    id: &str,
    status: &str,
    unexpired_at: Option<i64>,
) -> std::result::Result<(), OpError> {
    let mut update = invite::Entity::update_many()
        .col_expr(invite::Column::Status, Expr::value(status))
        .filter(invite::Column::Id.eq(id))
        .filter(invite::Column::Status.eq("pending"));
    if let Some(now) = unexpired_at {
        update = update.filter(invite::Column::ExpiresAt.gt(now));
    }
    if update.exec(db).await?.rows_affected == 1 {
        Ok(())
    } else {
        Err(OpError::Precondition("token: the invite was used, revoked or has expired".to_owned()))
    }
}

async fn write<C: ConnectionTrait>(
    db: &C,
    context: &Context<'_>,
    op: &StoreOp,
    seq: i64,
) -> std::result::Result<(), OpError> {
    match op {
        StoreOp::Change(change) => Ok(write_change(db, context, change, seq).await?),
        StoreOp::AccountName { account, name } => {
            account::Entity::update_many()
                .col_expr(account::Column::Name, Expr::value(name.clone()))
                .filter(account::Column::Id.eq(account))
                .exec(db)
                .await?;
            Ok(())
        }
        StoreOp::NewPrincipal { id, email, name } => {
            principal::Entity::insert(principal::ActiveModel {
                id: Set(id.clone()),
                email: Set(email.clone()),
                name: Set(name.clone()),
            })
            .on_conflict(OnConflict::column(principal::Column::Id).do_nothing().to_owned())
            .exec_without_returning(db)
            .await?;
            Ok(())
        }
        StoreOp::Principal { id, email, name } => {
            principal::Entity::delete_by_id(id.clone()).exec(db).await?;
            principal::Entity::insert(principal::ActiveModel {
                id: Set(id.clone()),
                email: Set(email.clone()),
                name: Set(name.clone()),
            })
            .exec(db)
            .await?;
            Ok(())
        }
        StoreOp::CreateInvite(record) => {
            invite::Entity::insert(invite::ActiveModel {
                id: Set(record.id.clone()),
                account_id: Set(record.account.clone()),
                email: Set(record.email.clone()),
                role_id: Set(record.role.clone()),
                resource_name: Set(record.resource.clone()),
                token_hash: Set(record.token_hash.clone()),
                expires_at: Set(record.expires_at),
                status: Set(record.status.clone()),
                created_by: Set(record.created_by.clone()),
                created_at: Set(record.created_at),
            })
            .exec(db)
            .await?;
            Ok(())
        }
        StoreOp::AcceptInvite { id, now } => settle_invite(db, id, "accepted", Some(*now)).await,
        StoreOp::RevokeInvite { id } => settle_invite(db, id, "revoked", None).await,
        StoreOp::CreateToken(record) => {
            token::Entity::insert(token::ActiveModel {
                id: Set(record.id.clone()),
                name: Set(record.name.clone()),
                principal_id: Set(record.principal.clone()),
                secret_hash: Set(record.secret_hash.clone()),
                created_at: Set(record.created_at),
                revoked_at: Set(record.revoked_at),
            })
            .exec(db)
            .await?;
            Ok(())
        }
        StoreOp::RevokeToken { id, at } => {
            token::Entity::update_many()
                .col_expr(token::Column::RevokedAt, Expr::value(*at))
                .filter(token::Column::Id.eq(id))
                .exec(db)
                .await?;
            Ok(())
        }
    }
}

async fn write_change<C: ConnectionTrait>(
    db: &C,
    context: &Context<'_>,
    change: &Change,
    seq: i64,
) -> std::result::Result<(), DbErr> {
    match change.clone() {
        Change::CreateAccount { id, pack, parent } => {
            account::Entity::insert(account::ActiveModel {
                id: Set(id.clone()),
                pack: Set(pack),
                parent_id: Set(parent),
                name: Set(id),
                seq: Set(seq),
            })
            .exec(db)
            .await?;
        }
        Change::PutMembership { account, principal, role, external, status, expires_at } => {
            let single_holder = context.single_holder(&account, &role);
            membership::Entity::delete_many()
                .filter(membership::Column::AccountId.eq(&account))
                .filter(membership::Column::PrincipalId.eq(&principal))
                .exec(db)
                .await?;
            let holds = single_holder && status == MembershipStatus::Active;
            membership::Entity::insert(membership::ActiveModel {
                account_id: Set(account),
                principal_id: Set(principal),
                single_holder_role: Set(holds.then(|| role.clone())),
                role_id: Set(role),
                external: Set(external),
                status: Set(status_text(status).to_owned()),
                expires_at: Set(expires_at),
            })
            .exec(db)
            .await?;
        }
        Change::RemoveMembership { account, principal } => {
            membership::Entity::delete_many()
                .filter(membership::Column::AccountId.eq(account))
                .filter(membership::Column::PrincipalId.eq(principal))
                .exec(db)
                .await?;
        }
        Change::AddResource { account, resource, parent, owner } => {
            let parent = parent.filter(|p| p != roster_core::ids::ACCOUNT_RESOURCE);
            resource::Entity::insert(resource::ActiveModel {
                account_id: Set(account),
                name: Set(resource),
                parent_name: Set(parent),
                owner_id: Set(owner),
                seq: Set(seq),
            })
            .exec(db)
            .await?;
        }
        Change::RemoveResource { account, resource } => {
            // Descendants and grants on them go by ON DELETE CASCADE.
            resource::Entity::delete_many()
                .filter(resource::Column::AccountId.eq(account))
                .filter(resource::Column::Name.eq(resource))
                .exec(db)
                .await?;
        }
        Change::AddGrant { id, account, subject, resource, role, expires_at } => {
            let (subject_principal, subject_group) = match subject {
                Subject::Principal(p) => (Some(p), None),
                Subject::Group(g) => (None, Some(g)),
            };
            let resource = resource.filter(|r| r != roster_core::ids::ACCOUNT_RESOURCE);
            grant::Entity::insert(grant::ActiveModel {
                id: Set(id),
                account_id: Set(account),
                subject_principal: Set(subject_principal),
                subject_group: Set(subject_group),
                resource_name: Set(resource),
                role_id: Set(role),
                expires_at: Set(expires_at),
                seq: Set(seq),
            })
            .exec(db)
            .await?;
        }
        Change::RemoveGrant { account, id } => {
            grant::Entity::delete_many()
                .filter(grant::Column::AccountId.eq(account))
                .filter(grant::Column::Id.eq(id))
                .exec(db)
                .await?;
        }
        Change::AddGroup { account, group } => {
            group::Entity::insert(group::ActiveModel { account_id: Set(account), group_id: Set(group), seq: Set(seq) })
                .exec(db)
                .await?;
        }
        Change::RemoveGroup { account, group } => {
            group::Entity::delete_many()
                .filter(group::Column::AccountId.eq(account))
                .filter(group::Column::GroupId.eq(group))
                .exec(db)
                .await?;
        }
        Change::AddGroupMember { account, group, principal } => {
            // Putting a principal already in the group is a no-op, as in the engine: not a
            // constraint violation.
            let key =
                [group_member::Column::AccountId, group_member::Column::GroupId, group_member::Column::PrincipalId];
            group_member::Entity::insert(group_member::ActiveModel {
                account_id: Set(account),
                group_id: Set(group),
                principal_id: Set(principal),
            })
            .on_conflict(OnConflict::columns(key).do_nothing().to_owned())
            .exec_without_returning(db)
            .await?;
        }
        Change::RemoveGroupMember { account, group, principal } => {
            group_member::Entity::delete_many()
                .filter(group_member::Column::AccountId.eq(account))
                .filter(group_member::Column::GroupId.eq(group))
                .filter(group_member::Column::PrincipalId.eq(principal))
                .exec(db)
                .await?;
        }
        Change::DefineRole { account, role } => {
            let definition = serde_json::to_string(&role).map_err(|e| DbErr::Custom(e.to_string()))?;
            custom_role::Entity::insert(custom_role::ActiveModel {
                account_id: Set(account),
                role_id: Set(role.id.clone()),
                definition: Set(definition),
                seq: Set(seq),
            })
            .exec(db)
            .await?;
        }
        Change::RemoveRole { account, role } => {
            custom_role::Entity::delete_many()
                .filter(custom_role::Column::AccountId.eq(account))
                .filter(custom_role::Column::RoleId.eq(role))
                .exec(db)
                .await?;
        }
    }
    Ok(())
}
