//! Rebuilding the engine from the tables: every row applied as the change that made it,
//! through one connection (a transaction, so the state is the one at a single revision).

use roster_core::engine::MembershipStatus;
use roster_core::{Change, Engine, Subject};
use sea_orm::{ConnectionTrait, EntityTrait, QueryOrder};

use crate::entities::{account, custom_role, grant, group, group_member, membership, meta, resource};
use crate::store::StoreError;

type Result<T> = std::result::Result<T, StoreError>;

/// Reads every table into the engine (which must be empty) through `db`, and the revision.
pub(crate) async fn load_tables<C: ConnectionTrait>(db: &C, engine: &mut Engine) -> Result<()> {
    let corrupt = |what: String| move |e: roster_core::ChangeError| StoreError::Corrupt(format!("{what}: {e}"));
    // Rows come in insertion order; the engine's id-ordered lists are sorted once at the end.
    engine.begin_bulk_load();
    for row in account::Entity::find().order_by_asc(account::Column::Seq).all(db).await? {
        let pack = row.pack.clone();
        engine
            .apply(Change::CreateAccount { id: row.id.clone(), pack, parent: row.parent_id })
            .map_err(corrupt(format!("account {}", row.id)))?;
    }
    for row in custom_role::Entity::find().order_by_asc(custom_role::Column::Seq).all(db).await? {
        let role = serde_json::from_str(&row.definition)
            .map_err(|e| StoreError::Corrupt(format!("custom role {}: {e}", row.role_id)))?;
        engine
            .apply(Change::DefineRole { account: row.account_id, role })
            .map_err(corrupt(format!("custom role {}", row.role_id)))?;
    }
    for row in resource::Entity::find().order_by_asc(resource::Column::Seq).all(db).await? {
        let name = row.name.clone();
        engine
            .apply(Change::AddResource {
                account: row.account_id,
                resource: row.name,
                parent: row.parent_name,
                owner: row.owner_id,
            })
            .map_err(corrupt(format!("resource {name}")))?;
    }
    for row in group::Entity::find().order_by_asc(group::Column::Seq).all(db).await? {
        let name = row.group_id.clone();
        engine
            .apply(Change::AddGroup { account: row.account_id, group: row.group_id })
            .map_err(corrupt(format!("group {name}")))?;
    }
    for row in group_member::Entity::find().all(db).await? {
        let name = row.group_id.clone();
        engine
            .apply(Change::AddGroupMember { account: row.account_id, group: row.group_id, principal: row.principal_id })
            .map_err(corrupt(format!("member of group {name}")))?;
    }
    for row in membership::Entity::find().all(db).await? {
        let status = membership_status(&row.status)?;
        let who = format!("membership of {} in {}", row.principal_id, row.account_id);
        engine
            .apply(Change::PutMembership {
                account: row.account_id,
                principal: row.principal_id,
                role: row.role_id,
                external: row.external,
                status,
                expires_at: row.expires_at,
            })
            .map_err(corrupt(who))?;
    }
    for row in grant::Entity::find().order_by_asc(grant::Column::Seq).all(db).await? {
        let subject = grant_subject(&row)?;
        let id = row.id.clone();
        engine
            .apply(Change::AddGrant {
                id: row.id,
                account: row.account_id,
                subject,
                resource: row.resource_name,
                role: row.role_id,
                expires_at: row.expires_at,
            })
            .map_err(corrupt(format!("grant {id}")))?;
    }
    engine.end_bulk_load();
    engine.shrink_to_fit();
    let revision = meta::Entity::find_by_id(1)
        .one(db)
        .await?
        .ok_or_else(|| StoreError::Corrupt("no revision row".into()))?
        .revision;
    engine.set_revision(u64::try_from(revision).map_err(|_| StoreError::Corrupt("negative revision".into()))?);
    Ok(())
}

/// A membership row's status.
pub(crate) fn membership_status(text: &str) -> Result<MembershipStatus> {
    match text {
        "active" => Ok(MembershipStatus::Active),
        "removed" => Ok(MembershipStatus::Removed),
        other => Err(StoreError::Corrupt(format!("membership status {other}"))),
    }
}

/// A grant row's subject: exactly one of its principal and group.
pub(crate) fn grant_subject(row: &grant::Model) -> Result<Subject> {
    match (&row.subject_principal, &row.subject_group) {
        (Some(p), None) => Ok(Subject::Principal(p.clone())),
        (None, Some(g)) => Ok(Subject::Group(g.clone())),
        _ => Err(StoreError::Corrupt(format!("grant {} has no single subject", row.id))),
    }
}
