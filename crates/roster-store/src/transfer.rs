//! Bulk export and import: a self-describing JSON Lines dump of the stored state (tokens
//! excluded), and loading one into a database all or nothing, every record validated as
//! the engine validates a change, written with multi-row inserts in one transaction.

use std::collections::BTreeSet;

use roster_core::engine::MembershipStatus;
use roster_core::{Change, Engine, RoleDef, Subject};
use sea_orm::ActiveValue::Set;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, TransactionTrait};
use serde::{Deserialize, Serialize};

use crate::audit::{AuditChain, AuditRecord};
use crate::entities::{
    account, audit_event, audit_head, custom_role, grant, group, group_member, invite, membership, meta, principal,
    resource,
};
use crate::load::{grant_subject, membership_status};
use crate::store::{Store, StoreError, status_text};

type Result<T> = std::result::Result<T, StoreError>;

/// The dump's format name and version, in its first line.
pub const EXPORT_FORMAT: &str = "roster-export";
/// The version of the format this build writes and reads.
pub const EXPORT_VERSION: u32 = 1;

/// One line of a dump. The fields are the columns of the table each kind comes from, named
/// as the core's `Change` that creates it names them (documented there).
#[allow(missing_docs)]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Record {
    /// The first line: what this is and where it came from.
    Header {
        /// [`EXPORT_FORMAT`].
        format: String,
        /// [`EXPORT_VERSION`].
        version: u32,
        /// The revision the dump was read at.
        revision: u64,
        /// The account (and its children) exported, or every account.
        account: Option<String>,
    },
    /// An account (parents come before their children).
    Account { id: String, pack: String, parent: Option<String>, name: String },
    /// A principal's profile.
    Principal { id: String, email: String, name: String },
    /// A custom role of an account.
    CustomRole { account: String, role: RoleDef },
    /// A resource (parents come before their children).
    Resource { account: String, resource: String, parent: Option<String>, owner: Option<String> },
    /// A group.
    Group { account: String, group: String },
    /// A principal in a group.
    GroupMember { account: String, group: String, principal: String },
    /// A membership (active or soft-removed).
    Membership {
        account: String,
        principal: String,
        role: String,
        external: bool,
        status: MembershipStatus,
        expires_at: Option<i64>,
    },
    /// A grant.
    Grant {
        id: String,
        account: String,
        subject: Subject,
        resource: Option<String>,
        role: String,
        expires_at: Option<i64>,
    },
    /// An invite (with its token's hash, so a pending invite can still be accepted).
    Invite {
        id: String,
        account: String,
        email: String,
        role: Option<String>,
        resource: Option<String>,
        token_hash: String,
        expires_at: i64,
        status: String,
        created_by: String,
        created_at: i64,
    },
}

impl Record {
    /// The record a change that adds state is stored as (for building a dump from
    /// changes); `None` for changes that remove state. An account's name is its id.
    pub fn from_change(change: Change) -> Option<Record> {
        Some(match change {
            Change::CreateAccount { id, pack, parent } => Record::Account { name: id.clone(), id, pack, parent },
            Change::DefineRole { account, role } => Record::CustomRole { account, role },
            Change::AddResource { account, resource, parent, owner } => {
                Record::Resource { account, resource, parent, owner }
            }
            Change::AddGroup { account, group } => Record::Group { account, group },
            Change::AddGroupMember { account, group, principal } => Record::GroupMember { account, group, principal },
            Change::PutMembership { account, principal, role, external, status, expires_at } => {
                Record::Membership { account, principal, role, external, status, expires_at }
            }
            Change::AddGrant { id, account, subject, resource, role, expires_at } => {
                Record::Grant { id, account, subject, resource, role, expires_at }
            }
            _ => return None,
        })
    }

    /// The header of a dump of everything, read at `revision`.
    pub fn header(revision: u64) -> Record {
        Record::Header { format: EXPORT_FORMAT.into(), version: EXPORT_VERSION, revision, account: None }
    }

    /// The change the engine validates this record as (profiles and invites have none).
    fn change(&self) -> Option<Change> {
        Some(match self.clone() {
            Record::Account { id, pack, parent, .. } => Change::CreateAccount { id, pack, parent },
            Record::CustomRole { account, role } => Change::DefineRole { account, role },
            Record::Resource { account, resource, parent, owner } => {
                Change::AddResource { account, resource, parent, owner }
            }
            Record::Group { account, group } => Change::AddGroup { account, group },
            Record::GroupMember { account, group, principal } => Change::AddGroupMember { account, group, principal },
            Record::Membership { account, principal, role, external, status, expires_at } => {
                Change::PutMembership { account, principal, role, external, status, expires_at }
            }
            Record::Grant { id, account, subject, resource, role, expires_at } => {
                Change::AddGrant { id, account, subject, resource, role, expires_at }
            }
            Record::Header { .. } | Record::Principal { .. } | Record::Invite { .. } => return None,
        })
    }
}

/// What an import wrote.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Imported {
    /// Records written (the header not counted).
    pub records: u64,
    /// The revision the database is at afterwards.
    pub revision: u64,
}

/// Rows per multi-row insert: under both databases' limit on bound values per statement.
fn chunk(columns: usize) -> usize {
    30_000 / columns
}

impl Store {
    /// Every record of the stored state (of `account` and the accounts under it, when
    /// given), header first, read in one transaction; tokens are never exported.
    pub async fn export(&self, account: Option<&str>) -> Result<Vec<Record>> {
        let txn = self.connection().begin().await?;
        let revision = meta::Entity::find_by_id(1).one(&txn).await?.map_or(0, |m| m.revision);
        let accounts = account::Entity::find().order_by_asc(account::Column::Seq).all(&txn).await?;
        let mut chosen: BTreeSet<String> = BTreeSet::new();
        if let Some(root) = account {
            if !accounts.iter().any(|a| a.id == root) {
                return Err(StoreError::InvalidWrite(format!("account {root} does not exist")));
            }
            chosen.insert(root.to_owned());
            // Parents come first in seq order, so one pass finds every descendant.
            for row in &accounts {
                if row.parent_id.as_ref().is_some_and(|p| chosen.contains(p)) {
                    chosen.insert(row.id.clone());
                }
            }
        }
        let keep = |id: &str| account.is_none() || chosen.contains(id);
        let header = Record::Header {
            format: EXPORT_FORMAT.into(),
            version: EXPORT_VERSION,
            revision: u64::try_from(revision).unwrap_or(0),
            account: account.map(str::to_owned),
        };
        let mut records = vec![header];
        let mut body = Vec::new();
        let mut principals: BTreeSet<String> = BTreeSet::new();
        for row in accounts.into_iter().filter(|a| keep(&a.id)) {
            body.push(Record::Account { id: row.id, pack: row.pack, parent: row.parent_id, name: row.name });
        }
        for row in custom_role::Entity::find().order_by_asc(custom_role::Column::Seq).all(&txn).await? {
            if keep(&row.account_id) {
                let role = serde_json::from_str(&row.definition)
                    .map_err(|e| StoreError::Corrupt(format!("custom role {}: {e}", row.role_id)))?;
                body.push(Record::CustomRole { account: row.account_id, role });
            }
        }
        for row in resource::Entity::find().order_by_asc(resource::Column::Seq).all(&txn).await? {
            if keep(&row.account_id) {
                principals.extend(row.owner_id.clone());
                body.push(Record::Resource {
                    account: row.account_id,
                    resource: row.name,
                    parent: row.parent_name,
                    owner: row.owner_id,
                });
            }
        }
        for row in group::Entity::find().order_by_asc(group::Column::Seq).all(&txn).await? {
            if keep(&row.account_id) {
                body.push(Record::Group { account: row.account_id, group: row.group_id });
            }
        }
        for row in group_member::Entity::find().all(&txn).await? {
            if keep(&row.account_id) {
                principals.insert(row.principal_id.clone());
                body.push(Record::GroupMember {
                    account: row.account_id,
                    group: row.group_id,
                    principal: row.principal_id,
                });
            }
        }
        for row in membership::Entity::find().all(&txn).await? {
            if keep(&row.account_id) {
                let status = membership_status(&row.status)?;
                principals.insert(row.principal_id.clone());
                body.push(Record::Membership {
                    account: row.account_id,
                    principal: row.principal_id,
                    role: row.role_id,
                    external: row.external,
                    status,
                    expires_at: row.expires_at,
                });
            }
        }
        for row in grant::Entity::find().order_by_asc(grant::Column::Seq).all(&txn).await? {
            if keep(&row.account_id) {
                let subject = grant_subject(&row)?;
                if let Subject::Principal(p) = &subject {
                    principals.insert(p.clone());
                }
                body.push(Record::Grant {
                    id: row.id,
                    account: row.account_id,
                    subject,
                    resource: row.resource_name,
                    role: row.role_id,
                    expires_at: row.expires_at,
                });
            }
        }
        for row in invite::Entity::find().order_by_asc(invite::Column::CreatedAt).all(&txn).await? {
            if keep(&row.account_id) {
                body.push(Record::Invite {
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
                });
            }
        }
        for row in principal::Entity::find().order_by_asc(principal::Column::Id).all(&txn).await? {
            if account.is_none() || principals.contains(&row.id) {
                records.push(Record::Principal { id: row.id, email: row.email, name: row.name });
            }
        }
        records.extend(body);
        txn.commit().await?;
        Ok(records)
    }

    /// Loads a dump: every record validated against the stored state as the engine
    /// validates a change (`engine` holds the stored state and is left as it was on any
    /// error), then everything written in one transaction, all or nothing, with one
    /// platform audit event. `progress` is called with the records written so far.
    ///
    /// The import takes as many revisions as it needs for its rows to sort after
    /// everything before and before everything after (one per 65,536 rows); it leaves no
    /// change-feed entries, so replicas rebuild their snapshots and watchers resync.
    pub async fn import(
        &self,
        engine: &mut Engine,
        records: &[Record],
        audit: AuditRecord,
        now: i64,
        mut progress: impl FnMut(u64),
    ) -> Result<Imported> {
        let Some(Record::Header { format, version, .. }) = records.first() else {
            return Err(StoreError::InvalidWrite("line 1: not a Roster export (no header)".into()));
        };
        if format != EXPORT_FORMAT || *version != EXPORT_VERSION {
            return Err(StoreError::InvalidWrite(format!(
                "line 1: format {format} version {version}; this build reads {EXPORT_FORMAT} version {EXPORT_VERSION}"
            )));
        }
        // Validate on a copy first: the engine is only changed once the database has it.
        let mut staged = engine.clone();
        for (line, record) in records.iter().enumerate().skip(1) {
            validate_text(record).map_err(|e| StoreError::InvalidWrite(format!("line {}: {e}", line + 1)))?;
            if let Some(change) = record.change() {
                staged.apply(change).map_err(|e| StoreError::InvalidWrite(format!("line {}: {e}", line + 1)))?;
            }
        }
        let lock = self.lock_for_write().await?;
        let base = lock.base_revision();
        let rows = records.len() as u64;
        // Revisions this import consumes: seq values are revision * 65,536 + index.
        let span = rows / 65_536 + 1;
        let first = i64::try_from(base + 1).map_err(|_| StoreError::Corrupt("revision overflow".into()))?;
        let txn = lock.into_transaction();
        let mut written = 0u64;
        let mut seq = first * 65_536;
        let mut next_seq = || {
            seq += 1;
            seq
        };
        skip_foreign_key_triggers(&txn).await?;
        write_records(&txn, &staged, records, &mut next_seq, &mut |n| {
            written += n;
            progress(written);
        })
        .await?;
        let last = first + i64::try_from(span).unwrap_or(i64::MAX) - 1;
        meta::Entity::update_many()
            .col_expr(meta::Column::Revision, sea_orm::sea_query::Expr::value(last))
            .filter(meta::Column::Id.eq(1))
            .exec(&txn)
            .await?;
        // Each imported account's trail starts with its import; the platform's records it.
        let events: Vec<AuditRecord> = records
            .iter()
            .filter_map(|record| match record {
                Record::Account { id, .. } => Some(AuditRecord {
                    chain: AuditChain::account(id),
                    action: "account.import".into(),
                    target: format!("account:{id}"),
                    after: None,
                    ..audit.clone()
                }),
                _ => None,
            })
            .collect();
        start_account_trails(&txn, self.audit_key(), &events, last, now).await?;
        crate::store::append_audit_event(&txn, self.audit_key(), &audit, false, last, now).await?;
        txn.commit().await.map_err(crate::store::constraint_or_db)?;
        let revision = u64::try_from(last).map_err(|_| StoreError::Corrupt("negative revision".into()))?;
        staged.set_revision(revision);
        *engine = staged;
        Ok(Imported { records: rows - 1, revision })
    }
}

/// Appends each event (one per imported account) to its account's trail, in bulk: a trail
/// with no head yet (the usual case: a new account) starts at seq 1, hashed here and
/// written many rows at a time with its head; one that already has a head (an account id
/// used before) is appended to one event at a time. One event per account made four round
/// trips each, several seconds of a 10,000-account import on PostgreSQL.
async fn start_account_trails<C: ConnectionTrait>(
    db: &C,
    key: Option<&crate::audit::AuditKey>,
    events: &[AuditRecord],
    revision: i64,
    now: i64,
) -> Result<()> {
    let mut fresh = Vec::with_capacity(events.len());
    for part in events.chunks(chunk(1)) {
        let chains: Vec<&str> = part.iter().map(|e| e.chain.key()).collect();
        let headed: BTreeSet<String> = audit_head::Entity::find()
            .filter(audit_head::Column::Chain.is_in(chains.iter().copied()))
            .all(db)
            .await?
            .into_iter()
            .map(|head| head.chain)
            .collect();
        let headless: Vec<&str> = chains.iter().copied().filter(|chain| !headed.contains(*chain)).collect();
        // Events with no head would be a chain cut off from its head: refuse, as appending
        // one at a time does.
        if let Some(orphan) =
            audit_event::Entity::find().filter(audit_event::Column::AccountId.is_in(headless)).one(db).await?
        {
            return Err(StoreError::Corrupt(format!(
                "audit chain `{}` has no head (audit_heads row deleted, or the whole chain); not appending",
                orphan.account_id
            )));
        }
        for event in part {
            if headed.contains(event.chain.key()) {
                crate::store::append_audit_event(db, key, event, true, revision, now).await?;
            } else {
                fresh.push(event);
            }
        }
    }
    let (mut rows, mut heads) = (Vec::with_capacity(fresh.len()), Vec::with_capacity(fresh.len()));
    for event in fresh {
        let row = audit_event::Model {
            account_id: event.chain.key().to_owned(),
            seq: 1,
            at: now,
            actor: event.actor.clone(),
            action: event.action.clone(),
            target: event.target.clone(),
            before_state: event.before.as_ref().map(serde_json::Value::to_string),
            after_state: event.after.as_ref().map(serde_json::Value::to_string),
            request_id: event.request_id.clone(),
            trace_id: event.trace_id.clone(),
            revision,
            hash: String::new(),
        };
        let hash = crate::audit::chain_hash(key, "", &crate::store::fields(&row));
        heads.push(audit_head::ActiveModel {
            chain: Set(row.account_id.clone()),
            seq: Set(1),
            hash: Set(hash.clone()),
            seal: Set(crate::audit::head_seal(key, &row.account_id, 1, &hash)),
        });
        rows.push(audit_event::ActiveModel::from(audit_event::Model { hash, ..row }));
    }
    insert_models::<audit_event::Entity, C>(db, &rows, 12).await?;
    insert_models::<audit_head::Entity, C>(db, &heads, 4).await?;
    Ok(())
}

/// Inserts `models` (of `columns` columns) many rows at a time: as column arrays on
/// PostgreSQL, as multi-row `VALUES` on SQLite.
async fn insert_models<E: EntityTrait, C: ConnectionTrait>(
    db: &C,
    models: &[E::ActiveModel],
    columns: usize,
) -> Result<()>
where
    E::ActiveModel: Clone,
{
    let postgres = db.get_database_backend() == sea_orm::DbBackend::Postgres;
    for part in models.chunks(chunk(columns)) {
        if postgres {
            unnest_insert::<E, C>(db, part).await
        } else {
            E::insert_many(part.to_vec()).exec_without_returning(db).await.map(drop)
        }
        .map_err(crate::store::constraint_or_db)?;
    }
    Ok(())
}

/// On PostgreSQL, when the importing role may (a superuser), the rest of the transaction
/// skips the foreign-key triggers: every reference was already checked by the engine's
/// validation of the whole dump against the stored state, and those per-row checks were
/// most of a million-row import's time (unique and check constraints still hold). Other
/// roles import with the checks on.
async fn skip_foreign_key_triggers<C: ConnectionTrait>(db: &C) -> std::result::Result<(), sea_orm::DbErr> {
    if db.get_database_backend() != sea_orm::DbBackend::Postgres {
        return Ok(());
    }
    let statement = |sql: &str| sea_orm::Statement::from_string(sea_orm::DbBackend::Postgres, sql.to_owned());
    let superuser = db
        .query_one_raw(statement("SELECT rolsuper AS superuser FROM pg_roles WHERE rolname = current_user"))
        .await?
        .and_then(|row| row.try_get::<bool>("", "superuser").ok())
        .unwrap_or(false);
    if superuser {
        db.execute_raw(statement("SET LOCAL session_replication_role = replica")).await?;
    }
    Ok(())
}

/// Ids and text as the API accepts them: ids in the id alphabet, no control characters.
fn validate_text(record: &Record) -> std::result::Result<(), String> {
    let id = |what: &str, value: &str| {
        if roster_core::ids::is_valid_id(value) { Ok(()) } else { Err(format!("{what} `{value}` is not a valid id")) }
    };
    let text = |what: &str, value: &str| {
        if value.chars().any(char::is_control) || value.is_empty() || value.len() > 512 {
            Err(format!("{what}: 1-512 characters without control characters"))
        } else {
            Ok(())
        }
    };
    match record {
        Record::Principal { id: p, email, name } => {
            id("principal", p)?;
            text("email", email)?;
            text("name", name)
        }
        Record::Account { id: a, name, .. } => {
            id("account", a)?;
            text("name", name)
        }
        Record::Membership { principal, .. } | Record::GroupMember { principal, .. } => id("principal", principal),
        Record::Grant { id: g, .. } => id("grant", g),
        Record::Invite { id: i, email, created_by, status, .. } => {
            id("invite", i)?;
            text("email", email)?;
            text("created_by", created_by)?;
            match status.as_str() {
                "pending" | "accepted" | "revoked" => Ok(()),
                other => Err(format!("invite status `{other}`")),
            }
        }
        _ => Ok(()),
    }
}

/// The order kinds are written in: every kind after the kinds its rows refer to.
fn write_rank(record: &Record) -> usize {
    match record {
        Record::Header { .. } => 0,
        Record::Account { .. } => 1,
        Record::Principal { .. } => 2,
        Record::CustomRole { .. } => 3,
        Record::Resource { .. } => 4,
        Record::Group { .. } => 5,
        Record::GroupMember { .. } => 6,
        Record::Membership { .. } => 7,
        Record::Grant { .. } => 8,
        Record::Invite { .. } => 9,
    }
}

/// Multi-row inserts of every record, a kind at a time (each kind keeps the dump's order,
/// so parents stay before their children), in as few statements as the databases allow.
async fn write_records<C: ConnectionTrait>(
    db: &C,
    engine: &Engine,
    records: &[Record],
    seq: &mut impl FnMut() -> i64,
    progress: &mut impl FnMut(u64),
) -> Result<()> {
    let mut ordered: Vec<&Record> = records.iter().skip(1).collect();
    ordered.sort_by_key(|record| write_rank(record));
    // PostgreSQL binds a column as one array (any length); SQLite binds each value.
    let rows = if db.get_database_backend() == sea_orm::DbBackend::Postgres { 20_000 } else { chunk(8) };
    let mut start = 0;
    while start < ordered.len() {
        let rank = write_rank(ordered[start]);
        let end = ordered[start..].iter().position(|r| write_rank(r) != rank).map_or(ordered.len(), |n| start + n);
        for part in ordered[start..end].chunks(rows) {
            insert(db, engine, part, seq).await.map_err(crate::store::constraint_or_db)?;
            progress(part.len() as u64);
        }
        start = end;
    }
    Ok(())
}

/// A PostgreSQL insert of many rows as one array per column (`INSERT … SELECT * FROM
/// UNNEST($1::text[], …)`): a handful of parameters instead of one per value, which
/// PostgreSQL parses and binds several times faster than a long `VALUES` list.
async fn unnest_insert<E: EntityTrait, C: ConnectionTrait>(
    db: &C,
    models: &[E::ActiveModel],
) -> std::result::Result<(), sea_orm::DbErr> {
    use sea_orm::sea_query::{ArrayType, Value};
    use sea_orm::{ActiveModelTrait, IdenStatic, Iterable};
    let Some(first) = models.first() else { return Ok(()) };
    // Arrays carry no NULLs through the driver: a NULL goes as a value no row can hold
    // (a control character in text, i64::MIN in a number) and NULLIF turns it back.
    const NULL_TEXT: &str = "\u{1}";
    let (mut names, mut selects, mut casts, mut arrays) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (index, column) in E::Column::iter().enumerate() {
        let values: Vec<Value> = models.iter().filter_map(|m| m.get(column).into_value()).collect();
        let n = index + 1;
        let (array, cast, select) = match first.get(column).into_value() {
            Some(Value::String(_)) => {
                let values = values
                    .into_iter()
                    .map(|v| match v {
                        Value::String(None) => Value::String(Some(NULL_TEXT.to_owned())),
                        other => other,
                    })
                    .collect();
                (Value::Array(ArrayType::String, Some(Box::new(values))), "text", format!("NULLIF(u.c{n}, E'\\x01')"))
            }
            Some(Value::BigInt(_)) => {
                let values = values
                    .into_iter()
                    .map(|v| match v {
                        Value::BigInt(None) => Value::BigInt(Some(i64::MIN)),
                        other => other,
                    })
                    .collect();
                let select = format!("NULLIF(u.c{n}, {})", i64::MIN);
                (Value::Array(ArrayType::BigInt, Some(Box::new(values))), "bigint", select)
            }
            Some(Value::Int(_)) => (Value::Array(ArrayType::Int, Some(Box::new(values))), "integer", format!("u.c{n}")),
            Some(Value::Bool(_)) => {
                (Value::Array(ArrayType::Bool, Some(Box::new(values))), "boolean", format!("u.c{n}"))
            }
            other => {
                return Err(sea_orm::DbErr::Custom(format!(
                    "unnest insert: column {} holds {other:?}",
                    column.as_str()
                )));
            }
        };
        names.push(format!("\"{}\"", column.as_str()));
        selects.push(select);
        casts.push(format!("${n}::{cast}[]"));
        arrays.push(array);
    }
    let table = E::default().table_name().to_owned();
    let aliases: Vec<String> = (1..=names.len()).map(|n| format!("c{n}")).collect();
    let sql = format!(
        "INSERT INTO \"{table}\" ({}) SELECT {} FROM UNNEST({}) AS u({})",
        names.join(", "),
        selects.join(", "),
        casts.join(", "),
        aliases.join(", ")
    );
    db.execute_raw(sea_orm::Statement::from_sql_and_values(sea_orm::DbBackend::Postgres, sql, arrays)).await?;
    Ok(())
}

/// One multi-row insert of records of one kind.
async fn insert<C: ConnectionTrait>(
    db: &C,
    engine: &Engine,
    part: &[&Record],
    seq: &mut impl FnMut() -> i64,
) -> std::result::Result<(), sea_orm::DbErr> {
    macro_rules! many {
        ($entity:ident, $models:expr) => {{
            let models: Vec<$entity::ActiveModel> = $models;
            if db.get_database_backend() == sea_orm::DbBackend::Postgres {
                unnest_insert::<$entity::Entity, C>(db, &models).await?;
            } else if !models.is_empty() {
                $entity::Entity::insert_many(models).exec_without_returning(db).await?;
            }
        }};
    }
    match part.first().copied() {
        Some(Record::Account { .. }) => many!(
            account,
            part.iter()
                .filter_map(|r| match r {
                    Record::Account { id, pack, parent, name } => Some(account::ActiveModel {
                        id: Set(id.clone()),
                        pack: Set(pack.clone()),
                        parent_id: Set(parent.clone()),
                        name: Set(name.clone()),
                        seq: Set(seq()),
                    }),
                    _ => None,
                })
                .collect()
        ),
        Some(Record::Principal { .. }) => many!(
            principal,
            part.iter()
                .filter_map(|r| match r {
                    Record::Principal { id, email, name } => Some(principal::ActiveModel {
                        id: Set(id.clone()),
                        email: Set(email.clone()),
                        name: Set(name.clone()),
                    }),
                    _ => None,
                })
                .collect()
        ),
        Some(Record::CustomRole { .. }) => {
            let mut models = Vec::new();
            for r in part {
                if let Record::CustomRole { account, role } = *r {
                    let definition = serde_json::to_string(role).map_err(|e| sea_orm::DbErr::Custom(e.to_string()))?;
                    models.push(custom_role::ActiveModel {
                        account_id: Set(account.clone()),
                        role_id: Set(role.id.clone()),
                        definition: Set(definition),
                        seq: Set(seq()),
                    });
                }
            }
            many!(custom_role, models)
        }
        Some(Record::Resource { .. }) => many!(
            resource,
            part.iter()
                .filter_map(|r| match r {
                    Record::Resource { account, resource, parent, owner } => Some(resource::ActiveModel {
                        account_id: Set(account.clone()),
                        name: Set(resource.clone()),
                        parent_name: Set(parent.clone().filter(|p| p != roster_core::ids::ACCOUNT_RESOURCE)),
                        owner_id: Set(owner.clone()),
                        seq: Set(seq()),
                    }),
                    _ => None,
                })
                .collect()
        ),
        Some(Record::Group { .. }) => many!(
            group,
            part.iter()
                .filter_map(|r| match r {
                    Record::Group { account, group } => Some(group::ActiveModel {
                        account_id: Set(account.clone()),
                        group_id: Set(group.clone()),
                        seq: Set(seq()),
                    }),
                    _ => None,
                })
                .collect()
        ),
        Some(Record::GroupMember { .. }) => many!(
            group_member,
            part.iter()
                .filter_map(|r| match r {
                    Record::GroupMember { account, group, principal } => Some(group_member::ActiveModel {
                        account_id: Set(account.clone()),
                        group_id: Set(group.clone()),
                        principal_id: Set(principal.clone()),
                    }),
                    _ => None,
                })
                .collect()
        ),
        Some(Record::Membership { .. }) => many!(
            membership,
            part.iter()
                .filter_map(|r| match r {
                    Record::Membership { account, principal, role, external, status, expires_at } => {
                        let single_holder = engine
                            .account_pack(account)
                            .and_then(|pack| pack.role(role).map(|i| pack.roles()[usize::from(i)].single_holder))
                            .unwrap_or(false);
                        let holds = single_holder && *status == MembershipStatus::Active;
                        Some(membership::ActiveModel {
                            account_id: Set(account.clone()),
                            principal_id: Set(principal.clone()),
                            single_holder_role: Set(holds.then(|| role.clone())),
                            role_id: Set(role.clone()),
                            external: Set(*external),
                            status: Set(status_text(*status).to_owned()),
                            expires_at: Set(*expires_at),
                        })
                    }
                    _ => None,
                })
                .collect()
        ),
        Some(Record::Grant { .. }) => many!(
            grant,
            part.iter()
                .filter_map(|r| match r {
                    Record::Grant { id, account, subject, resource, role, expires_at } => {
                        let (subject_principal, subject_group) = match subject {
                            Subject::Principal(p) => (Some(p.clone()), None),
                            Subject::Group(g) => (None, Some(g.clone())),
                        };
                        Some(grant::ActiveModel {
                            id: Set(id.clone()),
                            account_id: Set(account.clone()),
                            subject_principal: Set(subject_principal),
                            subject_group: Set(subject_group),
                            resource_name: Set(resource.clone().filter(|r| r != roster_core::ids::ACCOUNT_RESOURCE)),
                            role_id: Set(role.clone()),
                            expires_at: Set(*expires_at),
                            seq: Set(seq()),
                        })
                    }
                    _ => None,
                })
                .collect()
        ),
        Some(Record::Invite { .. }) => many!(
            invite,
            part.iter()
                .filter_map(|r| match r {
                    Record::Invite {
                        id,
                        account,
                        email,
                        role,
                        resource,
                        token_hash,
                        expires_at,
                        status,
                        created_by,
                        created_at,
                    } => Some(invite::ActiveModel {
                        id: Set(id.clone()),
                        account_id: Set(account.clone()),
                        email: Set(email.clone()),
                        role_id: Set(role.clone()),
                        resource_name: Set(resource.clone()),
                        token_hash: Set(token_hash.clone()),
                        expires_at: Set(*expires_at),
                        status: Set(status.clone()),
                        created_by: Set(created_by.clone()),
                        created_at: Set(*created_at),
                    }),
                    _ => None,
                })
                .collect()
        ),
        Some(Record::Header { .. }) | None => {}
    }
    Ok(())
}
