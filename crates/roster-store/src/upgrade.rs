//! Pack upgrades against the stored data: the operator's migrations (old role or
//! permission → new) carried out in one transaction and audited per account; everything
//! the stored rows still reference that the loaded packs no longer define (stranded), all
//! of it at once; and the record of each pack's id, version and content hash.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Arc;

use roster_core::Pack;
use roster_core::manifest::RoleDef;
use sea_orm::sea_query::{Alias, BinOper, Expr, ExprTrait, Func, OnConflict, Query};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DbBackend, EntityName, EntityTrait, QueryFilter,
    QuerySelect, TransactionTrait,
};
use sha2::{Digest, Sha256};

use crate::audit::{AuditActor, AuditChain, AuditRecord};
use crate::entities::{account, custom_role, grant, invite, membership, pack_record, resource};
use crate::store::{Store, StoreError};

type Result<T> = std::result::Result<T, StoreError>;

/// An operator's map from one pack's old names to its new ones (`[packs.migrations.<pack>]`).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct PackMigration {
    /// Old role id → new role id: memberships, grants and pending invites move over.
    #[serde(default)]
    pub roles: BTreeMap<String, String>,
    /// Old permission id → new permission id, in custom roles' rules.
    #[serde(default)]
    pub permissions: BTreeMap<String, String>,
    /// Old resource type → new resource type: resources are renamed (`old:7` → `new:7`)
    /// and so is every reference to them (parents, grants, pending invites).
    #[serde(default)]
    pub types: BTreeMap<String, String>,
}

impl PackMigration {
    /// Whether the table moves anything.
    fn is_empty(&self) -> bool {
        self.roles.is_empty() && self.permissions.is_empty() && self.types.is_empty()
    }
}

/// What a stored name refers to that is gone.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum StrandedKind {
    /// Accounts of a pack that is not loaded.
    Pack,
    /// A role memberships, grants or invites hold.
    Role,
    /// A permission custom roles use.
    Permission,
    /// A resource type resources have.
    ResourceType,
    /// A new pack role whose id a custom role already has.
    RoleIdTaken,
}

/// One stored reference the loaded packs cannot serve, with what uses it and the fix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stranded {
    /// The pack.
    pub pack: String,
    /// What is gone.
    pub kind: StrandedKind,
    /// Its name.
    pub name: String,
    /// How many rows of each kind use it (`memberships` → 3).
    pub uses: BTreeMap<&'static str, u64>,
    /// The accounts (or `account/custom role`) where it is used.
    pub accounts: BTreeSet<String>,
}

impl fmt::Display for Stranded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let uses: Vec<String> = self.uses.iter().map(|(what, n)| format!("{n} {what}")).collect();
        let mut accounts: Vec<&str> = self.accounts.iter().map(String::as_str).take(5).collect();
        if self.accounts.len() > 5 {
            accounts.push("…");
        }
        let (pack, name, uses, accounts) = (&self.pack, &self.name, uses.join(", "), accounts.join(", "));
        match self.kind {
            StrandedKind::Pack => write!(
                f,
                "pack `{pack}` is not loaded, but {uses} use it ({accounts}): load it again (a pack keeps its id across versions)"
            ),
            StrandedKind::Role => write!(
                f,
                "pack `{pack}`: role `{name}` is gone, but {uses} hold it ({accounts}): map it under \
                 [packs.migrations.{pack}] roles = {{ {name} = \"<new role>\" }}"
            ),
            StrandedKind::Permission => write!(
                f,
                "pack `{pack}`: permission `{name}` is gone, but {uses} use it ({accounts}): map it under \
                 [packs.migrations.{pack}] permissions = {{ \"{name}\" = \"<new permission>\" }}, or remove it from those roles"
            ),
            StrandedKind::ResourceType => write!(
                f,
                "pack `{pack}`: resource type `{name}` is gone, but {uses} have it ({accounts}): map it under \
                 [packs.migrations.{pack}] types = {{ {name} = \"<new type>\" }}, or delete those resources with the old pack first"
            ),
            StrandedKind::RoleIdTaken => write!(
                f,
                "pack `{pack}`: the new role `{name}` has the id of {uses} ({accounts}): remove or rename the custom role \
                 with the old pack first"
            ),
        }
    }
}

/// A pack whose id, version or content differs from what the database was last served with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PackChange {
    /// Pack id.
    pub id: String,
    /// The recorded version and hash; `None` the first time the pack is served here.
    pub before: Option<(String, String)>,
    /// The loaded version and hash.
    pub after: (String, String),
}

impl PackChange {
    /// The pack's record as it is now.
    fn record(&self, now: i64) -> pack_record::ActiveModel {
        pack_record::ActiveModel {
            id: Set(self.id.clone()),
            version: Set(self.after.0.clone()),
            content_hash: Set(self.after.1.clone()),
            recorded_at: Set(now),
        }
    }
}

/// What an upgrade did, or would do.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UpgradeReport {
    /// Per pack and account, the rows each migration entry moved (`role editor → writer` → 3).
    pub migrated: BTreeMap<(String, String), BTreeMap<String, u64>>,
    /// Everything still stranded after the migrations; when not empty nothing was written.
    pub stranded: Vec<Stranded>,
    /// Packs that changed since they were last recorded.
    pub changed: Vec<PackChange>,
    /// Why the migrated state would not rebuild, when it would not (nothing was written).
    pub unloadable: Option<String>,
    /// Whether the upgrade was written (not a dry run, nothing stranded, something to write).
    pub committed: bool,
}

impl UpgradeReport {
    /// The rows the migrations moved.
    pub fn migrated_rows(&self) -> u64 {
        self.migrated.values().flat_map(BTreeMap::values).sum()
    }
}

/// A pack's content hash: sha256 of its manifest as JSON.
pub fn content_hash(pack: &Pack) -> String {
    Sha256::digest(pack.manifest().to_json().as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

impl Store {
    /// Carries the stored data across to the loaded `packs`: applies `migrations`, lists
    /// everything still stranded, and records the packs, in one transaction. It commits
    /// only when nothing is stranded, something changed and `dry_run` is false; each
    /// account the migrations touched gets a `pack.upgrade` event, the platform trail a
    /// `pack.change` per changed pack. Idempotent: once carried over, the old names are no
    /// longer stored, so a second run moves nothing. The revision it takes leaves no feed
    /// entry, so running replicas rebuild from the tables.
    pub async fn upgrade_packs(
        &self,
        packs: &[Arc<Pack>],
        migrations: &BTreeMap<String, PackMigration>,
        dry_run: bool,
        now: i64,
    ) -> Result<UpgradeReport> {
        let by_id: BTreeMap<&str, &Arc<Pack>> = packs.iter().map(|p| (p.id(), p)).collect();
        let problems: Vec<String> = migrations
            .iter()
            .flat_map(|(pack, migration)| check_migration(by_id.get(pack.as_str()).copied(), pack, migration))
            .collect();
        if !problems.is_empty() {
            return Err(StoreError::InvalidWrite(problems.join("\n  - ")));
        }
        // Only a start that may move data or audit a changed pack takes the write lock and a
        // revision (which makes followers rebuild and watchers resync); recording packs the
        // first time changes nothing anyone follows.
        let has_migrations = migrations.values().any(|m| !m.is_empty());
        let pack_changed = changed_packs(self.connection(), packs).await?.iter().any(|c| c.before.is_some());
        let (txn, revision) = if (has_migrations || pack_changed) && !dry_run {
            let lock = self.lock_for_write().await?;
            let revision =
                i64::try_from(lock.base_revision() + 1).map_err(|_| StoreError::Corrupt("revision".into()))?;
            (lock.into_transaction(), Some(revision))
        } else {
            // No write lock: read one snapshot throughout (PostgreSQL's default would let
            // each query of the rebuild below see a different one while others write).
            let isolation = (self.connection().get_database_backend() == DbBackend::Postgres)
                .then_some(sea_orm::IsolationLevel::RepeatableRead);
            (self.connection().begin_with_config(isolation, None).await?, None)
        };
        let mut report = UpgradeReport::default();
        for (pack, migration) in migrations {
            if let Some(&loaded) = by_id.get(pack.as_str()) {
                migrate(&txn, loaded, migration, &mut report).await?;
            }
        }
        report.stranded = stranded(&txn, &by_id).await?;
        report.changed = changed_packs(&txn, packs).await?;
        // Moved rows are committed, and a changed pack served, only if the state rebuilds
        // under the loaded packs: the stranded list names what is missing, this catches
        // every other rule a rebuild enforces (a role now grantable only on some types).
        let pack_changed = report.changed.iter().any(|c| c.before.is_some());
        if report.stranded.is_empty() && (!report.migrated.is_empty() || pack_changed) {
            let mut engine = roster_core::Engine::new(packs.iter().cloned());
            if let Err(error) = crate::load::load_tables(&txn, &mut engine).await {
                report.unloadable = Some(error.to_string());
            }
        }
        let worth_writing = !report.migrated.is_empty() || pack_changed;
        if dry_run || !report.stranded.is_empty() || report.unloadable.is_some() || !worth_writing || revision.is_none()
        {
            // Dropping the transaction rolls back the migrations and the revision it took.
            drop(txn);
            if !dry_run && report.stranded.is_empty() && report.unloadable.is_none() {
                self.record_new_packs(&report.changed, now).await?;
            }
            return Ok(report);
        }
        if let Some(revision) = revision {
            self.audit_upgrade(&txn, &report, &by_id, revision, now).await?;
        }
        for change in &report.changed {
            pack_record::Entity::delete_by_id(change.id.clone()).exec(&txn).await?;
            pack_record::Entity::insert(change.record(now)).exec(&txn).await?;
        }
        txn.commit().await.map_err(crate::store::constraint_or_db)?;
        report.committed = true;
        Ok(report)
    }

    /// Records packs served here for the first time, outside any transaction and without
    /// the write lock (nothing anyone follows changes): a replica starting at the same
    /// moment that recorded them first wins, the same values either way.
    async fn record_new_packs(&self, changed: &[PackChange], now: i64) -> Result<()> {
        for change in changed.iter().filter(|c| c.before.is_none()) {
            pack_record::Entity::insert(change.record(now))
                .on_conflict(OnConflict::column(pack_record::Column::Id).do_nothing().to_owned())
                .try_insert()
                .exec(self.connection())
                .await?;
        }
        Ok(())
    }

    /// A `pack.upgrade` event in each account the migrations touched, and a `pack.change`
    /// in the platform trail for each pack that changed since it was recorded.
    async fn audit_upgrade<C: ConnectionTrait>(
        &self,
        txn: &C,
        report: &UpgradeReport,
        by_id: &BTreeMap<&str, &Arc<Pack>>,
        revision: i64,
        now: i64,
    ) -> Result<()> {
        let actor = AuditActor::System("pack-upgrade").to_string();
        let event = |chain, action: &str, target: String, before, after| AuditRecord {
            chain,
            actor: actor.clone(),
            action: action.into(),
            target,
            before,
            after,
            request_id: None,
            trace_id: None,
        };
        for ((pack, account), moved) in &report.migrated {
            let version = by_id.get(pack.as_str()).map(|p| p.manifest().version.clone());
            let after = serde_json::json!({ "pack": pack, "version": version, "moved": moved });
            let record =
                event(AuditChain::account(account), "pack.upgrade", format!("account:{account}"), None, Some(after));
            crate::store::append_audit_event(txn, self.audit_key(), &record, false, revision, now).await?;
        }
        // One platform event for every changed pack: events of one chain in one write
        // share its revision, which audit pages use as their cursor.
        let state =
            |(version, hash): &(String, String)| serde_json::json!({ "version": version, "content_hash": hash });
        let (mut before, mut after) = (serde_json::Map::new(), serde_json::Map::new());
        for change in &report.changed {
            let Some(was) = &change.before else { continue };
            before.insert(change.id.clone(), state(was));
            after.insert(change.id.clone(), state(&change.after));
        }
        if !after.is_empty() {
            let targets: Vec<String> = after.keys().map(|id| format!("pack:{id}")).collect();
            let record =
                event(AuditChain::Platform, "pack.change", targets.join(","), Some(before.into()), Some(after.into()));
            crate::store::append_audit_event(txn, self.audit_key(), &record, false, revision, now).await?;
        }
        Ok(())
    }
}

/// Every problem of a migration table: a pack that is not loaded, a name mapped to one
/// the new pack does not define, an old name the pack still defines (the entry would keep
/// moving the new holders of a name reintroduced later), or a name that is both a source
/// and a target (the order of the moves would decide the outcome).
fn check_migration(pack: Option<&Arc<Pack>>, id: &str, migration: &PackMigration) -> Vec<String> {
    let at = |what: String| format!("[packs.migrations.{id}]: {what}");
    let Some(pack) = pack else { return vec![at(format!("pack `{id}` is not loaded"))] };
    let mut problems = Vec::new();
    for (kind, map, defined) in [
        ("role", &migration.roles, &(|n: &str| pack.role(n).is_some()) as &dyn Fn(&str) -> bool),
        // A custom role's rule may be a wildcard (`page.*`): it names something while any
        // permission of the pack falls under it.
        ("permission", &migration.permissions, &|n: &str| {
            let rule = roster_core::PermissionRule::always(n);
            pack.permission_ids().iter().any(|p| rule.matches(p))
        }),
        ("resource type", &migration.types, &|n: &str| pack.resource_type(n).is_some()),
    ] {
        for (old, new) in map {
            if !defined(new) {
                problems.push(at(format!("{kind} `{old}` maps to `{new}`, which pack `{id}` does not define")));
            }
            if defined(old) {
                problems.push(at(format!(
                    "{kind} `{old}` is still defined by pack `{id}`: remove the entry (its data was carried across)"
                )));
            }
            if map.contains_key(new) {
                problems
                    .push(at(format!("{kind} `{new}` is both mapped from `{old}` and mapped on: map each name once")));
            }
        }
    }
    for (old, new) in &migration.types {
        // A stored name is `type:id` and ids may hold `:`: only a whole type name is one.
        if !roster_core::validate::is_slug(old) {
            problems.push(at(format!("resource type `{old}` is not a type name")));
        }
        // Resources of an account type are accounts, not rows of the resources table.
        if pack.resource_type(new).is_some_and(|t| pack.types()[usize::from(t)].account) {
            problems.push(at(format!(
                "resource type `{old}` maps to `{new}`, an account type: resources cannot become accounts"
            )));
        }
    }
    problems
}

/// The accounts of pack `id`, as a subquery.
fn accounts_of(id: &str) -> sea_orm::sea_query::SelectStatement {
    Query::select().column(account::Column::Id).from(account::Entity).and_where(account::Column::Pack.eq(id)).to_owned()
}

/// The accounts with a custom role `role` (whose holders hold that, not the pack's role).
fn accounts_with_custom(role: &str) -> sea_orm::sea_query::SelectStatement {
    Query::select()
        .column(custom_role::Column::AccountId)
        .from(custom_role::Entity)
        .and_where(custom_role::Column::RoleId.eq(role))
        .to_owned()
}

/// Rows of pack `pack`'s accounts holding its role `old` (not a custom role of that name).
fn holding<Col: ColumnTrait>(account: Col, role: Col, pack: &str, old: &str) -> Condition {
    Condition::all()
        .add(role.eq(old))
        .add(account.in_subquery(accounts_of(pack)))
        .add(account.not_in_subquery(accounts_with_custom(old)))
}

/// Per account, the rows of `E` [`holding`] role `old` of pack `pack`.
async fn held_by_account<E: EntityTrait, C: ConnectionTrait>(
    txn: &C,
    account: E::Column,
    role: E::Column,
    pack: &str,
    old: &str,
) -> Result<Vec<(String, i64)>> {
    Ok(E::find()
        .select_only()
        .column(account)
        .column_as(Expr::col(role).count(), "n")
        .filter(holding(account, role, pack, old))
        .group_by(account)
        .into_tuple()
        .all(txn)
        .await?)
}

/// Applies one pack's migration inside `txn`, counting the rows moved per account.
async fn migrate<C: ConnectionTrait>(
    txn: &C,
    pack: &Pack,
    migration: &PackMigration,
    report: &mut UpgradeReport,
) -> Result<()> {
    let id = pack.id();
    let mut moved = |account: String, what: String, n: u64| {
        if n > 0 {
            *report.migrated.entry((id.to_owned(), account)).or_default().entry(what).or_default() += n;
        }
    };
    for (old, new) in &migration.roles {
        let label = format!("role {old} → {new}");
        let single_holder = pack.role(new).is_some_and(|r| pack.roles()[usize::from(r)].single_holder);
        for (what, rows) in [
            (
                "memberships",
                held_by_account::<membership::Entity, _>(
                    txn,
                    membership::Column::AccountId,
                    membership::Column::RoleId,
                    id,
                    old,
                )
                .await?,
            ),
            (
                "grants",
                held_by_account::<grant::Entity, _>(txn, grant::Column::AccountId, grant::Column::RoleId, id, old)
                    .await?,
            ),
            (
                "invites",
                held_by_account::<invite::Entity, _>(txn, invite::Column::AccountId, invite::Column::RoleId, id, old)
                    .await?,
            ),
        ] {
            for (account, n) in rows {
                moved(account, format!("{label} ({what})"), n.unsigned_abs());
            }
        }
        membership::Entity::update_many()
            .col_expr(membership::Column::RoleId, Expr::value(new.clone()))
            .col_expr(membership::Column::SingleHolderRole, single_holder_column(single_holder, new))
            .filter(holding(membership::Column::AccountId, membership::Column::RoleId, id, old))
            .exec(txn)
            .await?;
        grant::Entity::update_many()
            .col_expr(grant::Column::RoleId, Expr::value(new.clone()))
            .filter(holding(grant::Column::AccountId, grant::Column::RoleId, id, old))
            .exec(txn)
            .await?;
        invite::Entity::update_many()
            .col_expr(invite::Column::RoleId, Expr::value(new.clone()))
            .filter(holding(invite::Column::AccountId, invite::Column::RoleId, id, old))
            .exec(txn)
            .await?;
    }
    for (old, new) in &migration.types {
        rename_type(txn, id, old, new, &mut moved).await?;
    }
    if migration.permissions.is_empty() && migration.roles.is_empty() {
        return Ok(());
    }
    let roles = custom_role::Entity::find()
        .filter(custom_role::Column::AccountId.in_subquery(accounts_of(id)))
        .all(txn)
        .await?;
    for row in roles {
        let mut role: RoleDef = serde_json::from_str(&row.definition)
            .map_err(|e| StoreError::Corrupt(format!("custom role {}: {e}", row.role_id)))?;
        let mut changed = 0u64;
        for rule in &mut role.permissions {
            if let Some(new) = migration.permissions.get(&rule.pattern) {
                rule.pattern.clone_from(new);
                changed += 1;
            }
        }
        for managed in &mut role.manages {
            if let Some(new) = migration.roles.get(managed.as_str()) {
                managed.clone_from(new);
                changed += 1;
            }
        }
        if changed == 0 {
            continue;
        }
        let definition = serde_json::to_string(&role).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        custom_role::Entity::update_many()
            .col_expr(custom_role::Column::Definition, Expr::value(definition))
            .filter(custom_role::Column::AccountId.eq(&row.account_id))
            .filter(custom_role::Column::RoleId.eq(&row.role_id))
            .exec(txn)
            .await?;
        moved(row.account_id, format!("custom role {}", row.role_id), changed);
    }
    Ok(())
}

/// Renames the resources of type `old` in pack `pack`'s accounts to type `new`, and every
/// column that names one (a parent, a grant's or a pending invite's resource), counting
/// the resources renamed per account.
async fn rename_type<C: ConnectionTrait>(
    txn: &C,
    pack: &str,
    old: &str,
    new: &str,
    moved: &mut impl FnMut(String, String, u64),
) -> Result<()> {
    let (old_prefix, new_prefix) = (format!("{old}:"), format!("{new}:"));
    // `i32`: PostgreSQL's `substr` takes `integer`, and a bigint parameter does not cast.
    let length = i32::try_from(old_prefix.len()).map_err(|_| StoreError::Corrupt("type name".into()))?;
    let of_type = |column: &'static str| of_type(column, &old_prefix);
    let renamed = |column: &'static str| renamed(column, &new_prefix, length);
    let mut any = false;
    for (what, rows) in [
        (
            "resources",
            named_by_account::<resource::Entity, _>(txn, resource::Column::AccountId, "name", pack, &old_prefix)
                .await?,
        ),
        (
            "grants",
            named_by_account::<grant::Entity, _>(txn, grant::Column::AccountId, "resource_name", pack, &old_prefix)
                .await?,
        ),
        (
            "invites",
            named_by_account::<invite::Entity, _>(txn, invite::Column::AccountId, "resource_name", pack, &old_prefix)
                .await?,
        ),
    ] {
        for (account, n) in rows {
            any = true;
            moved(account, format!("type {old} → {new} ({what})"), n.unsigned_abs());
        }
    }
    // Once carried over, nothing names the old type: a later start does no more work.
    if !any {
        return Ok(());
    }
    refuse_clashes(txn, pack, old, new).await?;
    // Resource names are keys other rows point at: copy the resources under their new
    // names (a parent of the old type renamed on the way), point every reference at the
    // copies, then delete the originals, so no foreign key is ever left dangling.
    let parent =
        Expr::case(of_type("parent_name"), renamed("parent_name")).finally(Expr::col(resource::Column::ParentName));
    let copies = Query::select()
        .column(resource::Column::AccountId)
        .expr(renamed("name"))
        .expr(parent)
        .column(resource::Column::OwnerId)
        .column(resource::Column::Seq)
        .from(resource::Entity)
        .and_where(resource::Column::AccountId.in_subquery(accounts_of(pack)))
        .and_where(of_type("name"))
        .to_owned();
    let insert = Query::insert()
        .into_table(resource::Entity)
        .columns([
            resource::Column::AccountId,
            resource::Column::Name,
            resource::Column::ParentName,
            resource::Column::OwnerId,
            resource::Column::Seq,
        ])
        .select_from(copies)
        .map_err(|e| StoreError::Corrupt(e.to_string()))?
        .to_owned();
    txn.execute(&insert).await?;
    // Every column that names a resource, pointed at the copies.
    for (table, column) in [
        (resource::Entity.table_name(), "parent_name"),
        (grant::Entity.table_name(), "resource_name"),
        (invite::Entity.table_name(), "resource_name"),
    ] {
        let update = Query::update()
            .table(Alias::new(table))
            .value(Alias::new(column), renamed(column))
            .and_where(Expr::col(Alias::new("account_id")).in_subquery(accounts_of(pack)))
            .and_where(of_type(column))
            .to_owned();
        txn.execute(&update).await?;
    }
    resource::Entity::delete_many()
        .filter(resource::Column::AccountId.in_subquery(accounts_of(pack)))
        .filter(of_type("name"))
        .exec(txn)
        .await?;
    Ok(())
}

/// Whether `column` names a resource of the type `prefix` (`page:`) starts. `substr`
/// compares bytes on SQLite and PostgreSQL alike; a range (`page:` ≤ name < `page;`)
/// would follow the database's collation, under which `;` may sort before `:`, and LIKE
/// would need the `_` of type names escaped.
fn of_type(column: &'static str, prefix: &str) -> Expr {
    // Type names are short slugs: the length always fits.
    let length = i32::try_from(prefix.len()).unwrap_or(i32::MAX);
    Expr::expr(Func::cust("substr").arg(Expr::col(column)).arg(1).arg(length)).eq(prefix)
}

/// Per account, the rows of `E` whose `column` names a resource of the type `prefix` starts.
async fn named_by_account<E: EntityTrait, C: ConnectionTrait>(
    txn: &C,
    account: E::Column,
    column: &'static str,
    pack: &str,
    prefix: &str,
) -> Result<Vec<(String, i64)>> {
    Ok(E::find()
        .select_only()
        .column(account)
        .column_as(Expr::col(account).count(), "n")
        .filter(account.in_subquery(accounts_of(pack)))
        .filter(of_type(column, prefix))
        .group_by(account)
        .into_tuple()
        .all(txn)
        .await?)
}

/// (account, name) of pack `pack`'s resources of the type `prefix` starts.
async fn resources_of_type<C: ConnectionTrait>(txn: &C, pack: &str, prefix: &str) -> Result<Vec<(String, String)>> {
    Ok(resource::Entity::find()
        .select_only()
        .column(resource::Column::AccountId)
        .column(resource::Column::Name)
        .filter(resource::Column::AccountId.in_subquery(accounts_of(pack)))
        .filter(of_type("name", prefix))
        .into_tuple()
        .all(txn)
        .await?)
}

/// Refuses a rename whose new names some resources already have (two types merged into
/// one, or a new type already used under the same ids), naming them: the operator gets
/// the clashes, not a primary-key error.
async fn refuse_clashes<C: ConnectionTrait>(txn: &C, pack: &str, old: &str, new: &str) -> Result<()> {
    let (old_prefix, new_prefix) = (format!("{old}:"), format!("{new}:"));
    let taken: BTreeSet<(String, String)> = resources_of_type(txn, pack, &new_prefix).await?.into_iter().collect();
    if taken.is_empty() {
        return Ok(());
    }
    let olds = resources_of_type(txn, pack, &old_prefix).await?;
    let clashes: Vec<String> = olds
        .into_iter()
        .filter_map(|(account, name)| {
            let renamed = format!("{new_prefix}{}", name.strip_prefix(&old_prefix)?);
            taken.contains(&(account.clone(), renamed.clone())).then(|| format!("{account}/{name} → {renamed}"))
        })
        .collect();
    if clashes.is_empty() {
        return Ok(());
    }
    let shown: Vec<&str> = clashes.iter().map(String::as_str).take(10).collect();
    let more = if clashes.len() > 10 { format!(" and {} more", clashes.len() - 10) } else { String::new() };
    Err(StoreError::InvalidWrite(format!(
        "[packs.migrations.{pack}] types: renaming `{old}` to `{new}` would give {} resource(s) a name another \
         already has: {}{more}; delete or rename one of each pair with the old pack first",
        clashes.len(),
        shown.join(", ")
    )))
}

/// `column`'s resource name with its type prefix (`length` bytes) replaced by `prefix`.
fn renamed(column: &'static str, prefix: &str, length: i32) -> Expr {
    let id = Func::cust("substr").arg(Expr::col(column)).arg(length + 1);
    Expr::val(prefix).binary(BinOper::Custom("||"), id)
}

/// A moved membership's `single_holder_role`: the new role for an active holder of a
/// single-holder role (the column the one-holder index reads), else nothing.
fn single_holder_column(single_holder: bool, role: &str) -> Expr {
    if single_holder {
        Expr::case(Expr::col(membership::Column::Status).eq("active"), Expr::value(role.to_owned()))
            .finally(Expr::value(Option::<String>::None))
            .into()
    } else {
        Expr::value(Option::<String>::None)
    }
}

/// Collects one stranded use.
#[derive(Default)]
struct Strands(BTreeMap<(String, StrandedKind, String), Stranded>);

impl Strands {
    fn add(&mut self, pack: &str, kind: StrandedKind, name: &str, what: &'static str, n: u64, place: String) {
        let entry = self.0.entry((pack.to_owned(), kind, name.to_owned())).or_insert_with(|| Stranded {
            pack: pack.to_owned(),
            kind,
            name: name.to_owned(),
            uses: BTreeMap::new(),
            accounts: BTreeSet::new(),
        });
        *entry.uses.entry(what).or_default() += n;
        entry.accounts.insert(place);
    }
}

/// Everything stored that the loaded packs do not define.
async fn stranded<C: ConnectionTrait>(txn: &C, packs: &BTreeMap<&str, &Arc<Pack>>) -> Result<Vec<Stranded>> {
    let mut strands = Strands::default();
    let accounts: BTreeMap<String, String> = account::Entity::find()
        .select_only()
        .column(account::Column::Id)
        .column(account::Column::Pack)
        .into_tuple()
        .all(txn)
        .await?
        .into_iter()
        .collect();
    let mut custom: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    let customs = custom_role::Entity::find().all(txn).await?;
    for row in &customs {
        custom.entry(row.account_id.as_str()).or_default().insert(row.role_id.clone());
    }
    let pack_of = |account: &str| accounts.get(account).map(String::as_str).unwrap_or_default();
    for (account, pack) in &accounts {
        if !packs.contains_key(pack.as_str()) {
            strands.add(pack, StrandedKind::Pack, pack, "accounts", 1, account.clone());
        }
    }
    // Roles held by memberships, grants and pending invites: a pack role or a custom role.
    let held = [
        (
            "memberships",
            role_uses::<membership::Entity, _>(txn, membership::Column::AccountId, membership::Column::RoleId).await?,
        ),
        ("grants", role_uses::<grant::Entity, _>(txn, grant::Column::AccountId, grant::Column::RoleId).await?),
        ("pending invites", pending_invite_roles(txn).await?),
    ];
    for (what, uses) in held {
        for (account, role, n) in uses {
            let pack_id = pack_of(&account);
            let Some(pack) = packs.get(pack_id) else { continue };
            if pack.role(&role).is_none() && !custom.get(account.as_str()).is_some_and(|c| c.contains(&role)) {
                strands.add(pack_id, StrandedKind::Role, &role, what, n.unsigned_abs(), account);
            }
        }
    }
    for row in &customs {
        let pack_id = pack_of(&row.account_id);
        let Some(pack) = packs.get(pack_id) else { continue };
        let place = format!("{}/{}", row.account_id, row.role_id);
        if pack.role(&row.role_id).is_some() {
            strands.add(pack_id, StrandedKind::RoleIdTaken, &row.role_id, "custom roles", 1, place.clone());
        }
        let role: RoleDef = serde_json::from_str(&row.definition)
            .map_err(|e| StoreError::Corrupt(format!("custom role {}: {e}", row.role_id)))?;
        for rule in &role.permissions {
            if !pack.permission_ids().iter().any(|p| rule.matches(p)) {
                strands.add(pack_id, StrandedKind::Permission, &rule.pattern, "custom roles", 1, place.clone());
            }
        }
    }
    for (account, ty, n) in resource_types(txn).await? {
        let pack_id = pack_of(&account);
        let Some(pack) = packs.get(pack_id) else { continue };
        if pack.resource_type(&ty).is_none() {
            strands.add(pack_id, StrandedKind::ResourceType, &ty, "resources", n.unsigned_abs(), account);
        }
    }
    Ok(strands.0.into_values().collect())
}

/// (account, role, rows) of a table with an account and a role column.
async fn role_uses<E: EntityTrait, C: ConnectionTrait>(
    txn: &C,
    account: E::Column,
    role: E::Column,
) -> Result<Vec<(String, String, i64)>> {
    Ok(E::find()
        .select_only()
        .column(account)
        .column(role)
        .column_as(Expr::col(role).count(), "n")
        .group_by(account)
        .group_by(role)
        .into_tuple()
        .all(txn)
        .await?)
}

/// (account, role, invites) of pending invites that name a role.
async fn pending_invite_roles<C: ConnectionTrait>(txn: &C) -> Result<Vec<(String, String, i64)>> {
    Ok(invite::Entity::find()
        .select_only()
        .column(invite::Column::AccountId)
        .column(invite::Column::RoleId)
        .column_as(invite::Column::Id.count(), "n")
        .filter(invite::Column::Status.eq("pending"))
        .filter(invite::Column::RoleId.is_not_null())
        .group_by(invite::Column::AccountId)
        .group_by(invite::Column::RoleId)
        .into_tuple()
        .all(txn)
        .await?)
}

/// (account, resource type, resources): the type is the name's part before its `:`.
async fn resource_types<C: ConnectionTrait>(txn: &C) -> Result<Vec<(String, String, i64)>> {
    let ty = match txn.get_database_backend() {
        DbBackend::Postgres => Expr::cust("split_part(name, ':', 1)"),
        _ => Expr::cust("substr(name, 1, instr(name, ':') - 1)"),
    };
    Ok(resource::Entity::find()
        .select_only()
        .column(resource::Column::AccountId)
        .column_as(ty.clone(), "ty")
        .column_as(resource::Column::Name.count(), "n")
        .group_by(resource::Column::AccountId)
        .group_by(ty)
        .into_tuple()
        .all(txn)
        .await?)
}

/// The loaded packs whose version or content differs from their record.
async fn changed_packs<C: ConnectionTrait>(txn: &C, packs: &[Arc<Pack>]) -> Result<Vec<PackChange>> {
    let recorded: BTreeMap<String, (String, String)> =
        pack_record::Entity::find().all(txn).await?.into_iter().map(|r| (r.id, (r.version, r.content_hash))).collect();
    Ok(packs
        .iter()
        .filter_map(|pack| {
            let after = (pack.manifest().version.clone(), content_hash(pack));
            let before = recorded.get(pack.id()).cloned();
            (before.as_ref() != Some(&after)).then(|| PackChange { id: pack.id().to_owned(), before, after })
        })
        .collect())
}
