//! The daemon's shared state and the one path every write takes: plan with the core's
//! management rules, commit changes + audit + revision in one transaction, then apply the
//! changes to the in-memory engine. Writers are serialised; readers never wait on the
//! database.

use std::sync::Arc;

use roster_core::{Actor, Change, Engine, Operation};
use roster_plugin::LoadedPack;
use roster_store::DbBackend as sea_orm_backend;
use roster_store::{AuditChain, AuditRecord, Store, StoreOp};
use tokio::sync::{Mutex, RwLock};
use tracing::Instrument;

use super::extract::Ctx;
use super::problem::{ApiError, Code};
use crate::replica::Source;

/// Request limits.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Limits {
    pub(crate) body_bytes: usize,
    pub(crate) batch: usize,
}

/// Everything the handlers share.
pub(crate) struct App {
    pub(crate) engine: RwLock<Engine>,
    writer: Mutex<()>,
    pub(crate) store: Store,
    pub(crate) packs: Vec<LoadedPack>,
    pub(crate) limits: Limits,
    /// Tokens verified recently, so a check does not wait on a database read.
    pub(crate) tokens: super::auth::TokenCache,
    /// What is counted and timed for the OpenTelemetry metrics.
    pub(crate) metrics: crate::metrics::Metrics,
    /// How far this replica's engine has followed the database.
    pub(crate) progress: crate::replica::Progress,
    /// The daemon's URL as clients reach it (`server.public_url`), for discovery documents.
    pub(crate) public_url: Option<String>,
}

/// Which trail a write is recorded in.
pub(crate) enum Trail {
    /// The named account's, and every other account the planned changes touch (a move's
    /// destination, a child account's parent, child accounts that lose grants).
    Account(String),
    /// The platform trail: changes that belong to no account (tokens, profiles).
    Platform,
}

/// What the audit trail should say about a write.
pub(crate) struct Audit {
    pub(crate) trail: Trail,
    pub(crate) action: &'static str,
    pub(crate) target: String,
    /// The state before, when the write has one the planned changes do not show.
    pub(crate) before: Option<serde_json::Value>,
    /// The state after, when the write is not (only) planned changes.
    pub(crate) after: Option<serde_json::Value>,
}

impl Audit {
    /// An event in `account`'s trail (and in every account the changes touch).
    pub(crate) fn account(account: &str, action: &'static str, target: String) -> Audit {
        Audit { trail: Trail::Account(account.to_owned()), action, target, before: None, after: None }
    }

    /// An event in the platform trail, with its states.
    pub(crate) fn platform(
        action: &'static str,
        target: String,
        before: Option<serde_json::Value>,
        after: Option<serde_json::Value>,
    ) -> Audit {
        Audit { trail: Trail::Platform, action, target, before, after }
    }
}

/// One management call.
pub(crate) struct Write {
    /// The operation the core plans (none for writes outside the engine: tokens, profiles).
    pub(crate) operation: Option<Operation>,
    /// Writes beyond the planned changes, in the same transaction.
    pub(crate) extra: Vec<StoreOp>,
    /// The audit event.
    pub(crate) audit: Option<Audit>,
    /// Plan as this actor instead of the caller (an invite is carried out as its inviter);
    /// the audit still names the caller.
    pub(crate) plan_as: Option<Actor>,
}

impl Write {
    /// A write of records outside the engine, with its audit event.
    pub(crate) fn records(extra: Vec<StoreOp>, audit: Audit) -> Write {
        Write { operation: None, extra, audit: Some(audit), plan_as: None }
    }
}

impl App {
    pub(crate) fn new(
        engine: Engine,
        store: Store,
        packs: Vec<LoadedPack>,
        limits: Limits,
        replication: &crate::replica::ReplicationConfig,
    ) -> App {
        App {
            progress: crate::replica::Progress::new(engine.revision(), replication),
            engine: RwLock::new(engine),
            writer: Mutex::new(()),
            store,
            packs,
            limits,
            tokens: Default::default(),
            metrics: crate::metrics::Metrics::global(),
            public_url: None,
        }
    }

    /// A management operation with its audit event: the common case of [`App::write`].
    pub(crate) async fn manage(
        self: &Arc<Self>,
        ctx: &Ctx,
        operation: Operation,
        audit: Audit,
    ) -> Result<u64, ApiError> {
        let write = Write { operation: Some(operation), extra: Vec::new(), audit: Some(audit), plan_as: None };
        Ok(self.write(ctx, write).await?.0)
    }

    /// Plans, commits and applies one write; returns the new revision and the changes.
    ///
    /// The write runs on its own task, to its end, even when the request that asked for it
    /// is dropped (the client went away, the request timeout fired): cut off between the
    /// database's commit and the engine's, the snapshot would fall behind the database.
    pub(crate) async fn write(self: &Arc<Self>, ctx: &Ctx, write: Write) -> Result<(u64, Vec<Change>), ApiError> {
        let (app, ctx) = (Arc::clone(self), ctx.clone());
        tokio::spawn(async move { app.write_to_the_end(&ctx, write).await }.in_current_span())
            .await
            .map_err(|error| ApiError::new(Code::Internal, format!("the write did not finish: {error}")))?
    }

    async fn write_to_the_end(&self, ctx: &Ctx, write: Write) -> Result<(u64, Vec<Change>), ApiError> {
        // One writer per replica at a time, then the database's write lock: no writer on any
        // replica commits until this one has, and the engine is caught up to everything
        // committed before the lock, so the plan is made on the current state.
        let _one_writer = self.writer.lock().await;
        let lock = self.store.lock_for_write().await?;
        self.catch_up(Source::Lock(&lock)).await?;
        let engine = self.engine.read().await;
        let actor = write.plan_as.clone().unwrap_or_else(|| ctx.caller.actor());
        let plan = match &write.operation {
            Some(operation) => Some(engine.plan(&actor, operation, ctx.now)?),
            None => None,
        };
        let changes: Vec<Change> = plan.as_ref().map(|p| p.changes().to_vec()).unwrap_or_default();
        let action = write.audit.as_ref().map_or("records", |audit| audit.action);
        let mut audit = match write.audit {
            Some(audit) => records(ctx, &engine, &changes, audit),
            None => Vec::new(),
        };
        // A profile made along the way (an account's new owner, an invite's new accepter)
        // belongs to no account: it goes to the platform trail, like every profile change.
        if let Some(StoreOp::NewPrincipal { id, email, name }) =
            write.extra.iter().find(|op| matches!(op, StoreOp::NewPrincipal { .. }))
        {
            let after = serde_json::json!({ "email": email, "name": name });
            let event = Audit::platform("principal.create", format!("principal:{id}"), None, Some(after));
            audit.extend(records(ctx, &engine, &[], event));
        }
        let mut ops: Vec<StoreOp> = changes.iter().cloned().map(StoreOp::Change).collect();
        ops.extend(write.extra);
        let system = match self.store.backend() {
            sea_orm_backend::Postgres => "postgresql",
            _ => "sqlite",
        };
        let span = tracing::info_span!(
            "db.transaction",
            "otel.kind" = "client",
            "db.system.name" = system,
            "db.operation.name" = "commit",
            "roster.writes" = ops.len(),
            "roster.revision" = tracing::field::Empty
        );
        let revision = lock.commit(&engine, &ops, &audit, ctx.now).instrument(span.clone()).await?;
        span.record("roster.revision", revision);
        drop(engine);
        let mut engine = self.engine.write().await;
        if engine.revision() >= revision {
            // The follower already applied this commit from the feed.
            self.metrics.write(action);
            return Ok((revision, changes));
        }
        // The plan was validated against this state and committing cannot fail; a stale
        // plan would mean a second writer, which the database's write lock rules out.
        if let Some(plan) = plan
            && let Err(error) = engine.commit(plan)
        {
            // The database has it; the snapshot could not follow. Say so loudly, and catch
            // up as a follower would: the feed entry applied, or the snapshot rebuilt.
            tracing::error!(%error, revision, "committed plan did not apply to the engine; catching up from the feed");
            drop(engine);
            if let Err(error) = self.catch_up(crate::replica::Source::Store(&self.store)).await {
                return Err(ApiError::new(
                    Code::Internal,
                    format!(
                        "committed at revision {revision}, but this replica could not apply it ({error}); \
                         it catches up at its next poll"
                    ),
                ));
            }
            self.metrics.write(action);
            return Ok((revision, changes));
        }
        engine.set_revision(revision);
        self.progress.applied(revision);
        self.metrics.write(action);
        Ok((revision, changes))
    }
}

/// The audit events of one write: the same event in every chain it touches, naming the
/// real caller.
fn records(ctx: &Ctx, engine: &Engine, changes: &[Change], audit: Audit) -> Vec<AuditRecord> {
    let chains = match &audit.trail {
        Trail::Platform => vec![AuditChain::Platform],
        Trail::Account(account) => {
            let mut accounts: Vec<&str> = vec![account];
            for touched in changes.iter().flat_map(Change::accounts) {
                if !accounts.contains(&touched) {
                    accounts.push(touched);
                }
            }
            accounts.into_iter().map(AuditChain::account).collect()
        }
    };
    let before = audit.before.or_else(|| before_state(engine, changes));
    let after = audit.after.or_else(|| Some(serde_json::json!({ "changes": changes })));
    chains
        .into_iter()
        .map(|chain| AuditRecord {
            chain,
            actor: ctx.caller.audit_name(),
            action: audit.action.to_owned(),
            target: audit.target.clone(),
            before: before.clone(),
            after: after.clone(),
            request_id: Some(ctx.request_id.clone()),
            trace_id: crate::telemetry::current_trace_id(),
        })
        .collect()
}

/// The state the changes replace, for the audit trail: memberships, grants, groups and
/// roles as they were; a deleted resource with its descendants and every grant on them
/// (which go with it).
fn before_state(engine: &Engine, changes: &[Change]) -> Option<serde_json::Value> {
    let before: Vec<serde_json::Value> = changes
        .iter()
        .filter_map(|change| match change {
            Change::PutMembership { account, principal, .. } | Change::RemoveMembership { account, principal } => {
                engine
                    .membership(account, principal)
                    .map(|m| serde_json::json!({ "membership": { "account": account, "member": m } }))
            }
            Change::RemoveGrant { account, id } => {
                engine.grant(account, id).map(|g| serde_json::json!({ "grant": g, "account": account }))
            }
            Change::RemoveResource { account, resource } => resource_subtree(engine, account, resource),
            Change::RemoveGroup { account, group } => {
                let view = engine.group_views(account).into_iter().find(|g| &g.id == group)?;
                let grants = engine.grants(account, None, Some(&format!("group:{group}")));
                Some(serde_json::json!({ "group": view, "grants": grants, "account": account }))
            }
            Change::RemoveRole { account, role } => {
                let view = engine.role_views(account).into_iter().find(|r| &r.id == role)?;
                Some(serde_json::json!({ "role": view, "account": account }))
            }
            _ => None,
        })
        .collect();
    (!before.is_empty()).then_some(serde_json::Value::Array(before))
}

/// A resource, its descendants and the grants on any of them.
fn resource_subtree(engine: &Engine, account: &str, resource: &str) -> Option<serde_json::Value> {
    let root = engine.resource(account, resource)?;
    let mut pending: Vec<String> = root.children.clone();
    let mut descendants = Vec::new();
    while let Some(name) = pending.pop() {
        if let Some(view) = engine.resource(account, &name) {
            pending.extend(view.children.iter().cloned());
            descendants.push(view);
        }
    }
    descendants.sort_by(|x, y| x.resource.cmp(&y.resource));
    let names: Vec<&str> = std::iter::once(&root).chain(&descendants).map(|r| r.resource.as_str()).collect();
    let grants: Vec<_> =
        engine.grants(account, None, None).into_iter().filter(|g| names.contains(&g.resource.as_str())).collect();
    Some(serde_json::json!({ "resource": root, "descendants": descendants, "grants": grants, "account": account }))
}
