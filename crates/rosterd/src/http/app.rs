//! The daemon's shared state and the one path every write takes: plan with the core's
//! management rules, commit changes + audit + revision in one transaction, then apply the
//! changes to the in-memory engine. Writers are serialised; readers never wait on the
//! database.

use roster_core::{Change, Engine, Operation};
use roster_plugin::LoadedPack;
use roster_store::DbBackend as sea_orm_backend;
use roster_store::{AuditRecord, Store, StoreOp};
use tokio::sync::{Mutex, RwLock};
use tracing::Instrument;

use super::problem::{ApiError, Code};
use super::request::Ctx;

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
}

/// What the audit trail should say about a write.
pub(crate) struct Audit {
    pub(crate) account: String,
    pub(crate) action: &'static str,
    pub(crate) target: String,
}

/// One management call.
pub(crate) struct Write {
    /// The operation the core plans (none for writes outside the engine: tokens, profiles).
    pub(crate) operation: Option<Operation>,
    /// Writes beyond the planned changes, in the same transaction.
    pub(crate) extra: Vec<StoreOp>,
    /// The audit event, when the write belongs to an account.
    pub(crate) audit: Option<Audit>,
}

impl App {
    pub(crate) fn new(engine: Engine, store: Store, packs: Vec<LoadedPack>, limits: Limits) -> App {
        App { engine: RwLock::new(engine), writer: Mutex::new(()), store, packs, limits, tokens: Default::default() }
    }

    /// A management operation with its audit event: the common case of [`App::write`].
    pub(crate) async fn manage(&self, ctx: &Ctx, operation: Operation, audit: Audit) -> Result<u64, ApiError> {
        let write = Write { operation: Some(operation), extra: Vec::new(), audit: Some(audit) };
        Ok(self.write(ctx, write).await?.0)
    }

    /// Plans, commits and applies one write; returns the new revision and the changes.
    pub(crate) async fn write(&self, ctx: &Ctx, write: Write) -> Result<(u64, Vec<Change>), ApiError> {
        let _one_writer = self.writer.lock().await;
        let engine = self.engine.read().await;
        let plan = match &write.operation {
            Some(operation) => Some(engine.plan(&ctx.caller.actor(), operation, ctx.now)?),
            None => None,
        };
        let changes: Vec<Change> = plan.as_ref().map(|p| p.changes().to_vec()).unwrap_or_default();
        let audit: Vec<AuditRecord> = write
            .audit
            .into_iter()
            .map(|a| AuditRecord {
                before: before_state(&engine, &changes),
                after: Some(serde_json::json!({ "changes": changes })),
                account: a.account,
                actor: ctx.caller.audit_name(),
                action: a.action.to_owned(),
                target: a.target,
                request_id: Some(ctx.request_id.clone()),
                trace_id: crate::telemetry::current_trace_id(),
            })
            .collect();
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
        let revision = self.store.commit(&engine, &ops, &audit, ctx.now).instrument(span.clone()).await?;
        span.record("roster.revision", revision);
        drop(engine);
        let mut engine = self.engine.write().await;
        // The plan was validated against this state and committing cannot fail; a stale
        // plan would mean a second writer, which the writer lock rules out.
        if let Some(plan) = plan
            && let Err(error) = engine.commit(plan)
        {
            // The database has it; the snapshot could not follow. Say so loudly: a
            // restart rebuilds the snapshot from the database.
            tracing::error!(%error, "committed plan did not apply to the engine");
            return Err(ApiError::new(
                Code::Internal,
                "committed, but the in-memory state could not follow; restart the daemon",
            ));
        }
        engine.set_revision(revision);
        Ok((revision, changes))
    }
}

/// The state the changes replace, for the audit trail: memberships and grants as they were.
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
            _ => None,
        })
        .collect();
    (!before.is_empty()).then_some(serde_json::Value::Array(before))
}
