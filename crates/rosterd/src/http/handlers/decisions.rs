//! The decision calls: check, batch check, effective permissions, and the two lookups.
//! Answered from the in-memory engine; `min_revision` waits briefly for a newer snapshot.

use std::borrow::Cow;

use std::sync::Arc;

use axum::extract::State;
use roster_core::Engine;
use roster_core::engine::{Page, PageRequest};
use serde::{Deserialize, Serialize};
use tokio::sync::RwLockReadGuard;

use super::Reply;
use crate::http::app::App;
use crate::http::extract::{Ctx, Json, JsonBytes};
use crate::http::problem::ApiError;
use crate::http::request::{self, id};

/// One question. Ids borrow from the request body when they hold no escapes, so a batch
/// of checks is read without an allocation per id.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Check<'a> {
    #[schema(value_type = String, pattern = r"^[A-Za-z0-9_.:@-]{1,128}$")]
    #[serde(borrow)]
    account: Cow<'a, str>,
    #[schema(value_type = String, pattern = r"^[A-Za-z0-9_.:@-]{1,128}$")]
    #[serde(borrow)]
    principal: Cow<'a, str>,
    #[serde(borrow)]
    permission: Cow<'a, str>,
    #[schema(value_type = Option<String>, pattern = r"^(account|[A-Za-z0-9_.@-]{1,128}:[A-Za-z0-9_.:@-]{1,128})$")]
    #[serde(default, borrow)]
    resource: Option<Cow<'a, str>>,
    #[serde(default)]
    min_revision: Option<u64>,
    #[serde(default)]
    explain: bool,
}

/// The engine once it has reached `min_revision` (waiting, up to
/// `replication.min_revision_timeout_ms`, for this replica to apply it), with the caller
/// settled again at that revision.
async fn engine_at<'a>(
    app: &'a App,
    ctx: &mut Ctx,
    min_revision: Option<u64>,
) -> Result<RwLockReadGuard<'a, Engine>, ApiError> {
    ctx.at_revision(app, min_revision).await?;
    Ok(app.engine.read().await)
}

/// One decision as the API returns it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct Answer {
    allowed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    explanation: Option<roster_core::Explanation>,
}

/// A single check's reply: the answer and the revision it was made at.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct CheckReply {
    #[serde(flatten)]
    answer: Answer,
    revision: u64,
}

/// A batch's reply.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct BatchReply {
    results: Vec<Answer>,
    revision: u64,
}

/// Effective permissions.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct PermissionsReply {
    /// Permission ids, in pack order.
    permissions: Vec<String>,
    /// The roles that reach the resource.
    roles: Vec<String>,
    revision: u64,
}

/// One page of resources.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct LookupReply {
    items: Vec<String>,
    next_cursor: Option<String>,
    revision: u64,
}

/// The principals holding a permission.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct SubjectsReply {
    /// Principal ids, in id order.
    principals: Vec<String>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    next_cursor: Option<String>,
    revision: u64,
}

fn answer(engine: &Engine, ctx: &Ctx, check: &Check) -> Result<Answer, ApiError> {
    id("account", &check.account)?;
    id("principal", &check.principal)?;
    let resource = check.resource.as_deref();
    engine.may_ask(&ctx.caller.actor(), &check.account, Some(&check.principal), resource, ctx.now)?;
    decide(engine, ctx, check, resource)
}

fn decide(engine: &Engine, ctx: &Ctx, check: &Check, resource: Option<&str>) -> Result<Answer, ApiError> {
    if check.explain {
        let explanation = engine.explain(&check.account, &check.principal, &check.permission, resource, ctx.now)?;
        Ok(Answer { allowed: explanation.allowed, explanation: Some(explanation) })
    } else {
        let decision = engine.check(&check.account, &check.principal, &check.permission, resource, ctx.now)?;
        Ok(Answer { allowed: decision.allowed, explanation: None })
    }
}

/// May the principal do this, on this resource (and why, with `explain`)?
#[utoipa::path(post, path = "/v1/check", tag = "decisions", request_body = Check,
    responses((status = 200, description = "The decision", body = CheckReply)))]
pub(crate) async fn check(
    State(app): State<Arc<App>>,
    mut ctx: Ctx,
    JsonBytes(bytes): JsonBytes,
) -> Result<Reply, ApiError> {
    let body: Check = request::json(&bytes)?;
    let engine = engine_at(&app, &mut ctx, body.min_revision).await?;
    let span = tracing::info_span!(
        "roster.check",
        "roster.account" = %body.account,
        "roster.permission" = %body.permission,
        "roster.allowed" = tracing::field::Empty,
    );
    let answer = span.in_scope(|| answer(&engine, &ctx, &body))?;
    span.record("roster.allowed", answer.allowed);
    app.metrics.decisions(u64::from(answer.allowed), u64::from(!answer.allowed));
    Reply::ok(CheckReply { answer, revision: engine.revision() })
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Batch<'a> {
    #[serde(borrow)]
    checks: Vec<Check<'a>>,
}

/// Many checks in one call, answered in order.
#[utoipa::path(post, path = "/v1/check/batch", tag = "decisions", request_body = Batch,
    responses((status = 200, description = "The decisions, in request order", body = BatchReply)))]
pub(crate) async fn batch(
    State(app): State<Arc<App>>,
    mut ctx: Ctx,
    JsonBytes(bytes): JsonBytes,
) -> Result<Reply, ApiError> {
    let body: Batch = request::json(&bytes)?;
    if body.checks.len() > app.limits.batch {
        return Err(ApiError::invalid(format!(
            "checks: at most {} per batch, got {}",
            app.limits.batch,
            body.checks.len()
        )));
    }
    let min_revision = body.checks.iter().filter_map(|c| c.min_revision).max();
    let engine = engine_at(&app, &mut ctx, min_revision).await?;
    // One span for the whole batch: a span per check would dominate the cost of a batch.
    let span = tracing::info_span!("roster.check_batch", "roster.checks" = body.checks.len());
    let _entered = span.enter();
    let results = body
        .checks
        .iter()
        .enumerate()
        .map(|(i, check)| {
            answer(&engine, &ctx, check).map_err(|e| ApiError::new(e.code, format!("checks[{i}]: {}", e.detail)))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let allowed = results.iter().filter(|r| r.allowed).count() as u64;
    app.metrics.decisions(allowed, results.len() as u64 - allowed);
    Reply::ok(BatchReply { results, revision: engine.revision() })
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Permissions {
    #[schema(pattern = r"^[A-Za-z0-9_.:@-]{1,128}$")]
    account: String,
    #[schema(pattern = r"^[A-Za-z0-9_.:@-]{1,128}$")]
    principal: String,
    #[schema(pattern = r"^(account|[A-Za-z0-9_.@-]{1,128}:[A-Za-z0-9_.:@-]{1,128})$")]
    #[serde(default)]
    resource: Option<String>,
    #[serde(default)]
    min_revision: Option<u64>,
}

/// A principal's effective permissions and roles in an account (or on a resource).
#[utoipa::path(post, path = "/v1/permissions", tag = "decisions", request_body = Permissions,
    responses((status = 200, description = "Effective permissions and roles", body = PermissionsReply)))]
pub(crate) async fn permissions(
    State(app): State<Arc<App>>,
    mut ctx: Ctx,
    Json(body): Json<Permissions>,
) -> Result<Reply, ApiError> {
    id("account", &body.account)?;
    id("principal", &body.principal)?;
    let engine = engine_at(&app, &mut ctx, body.min_revision).await?;
    let resource = body.resource.as_deref();
    engine.may_ask(&ctx.caller.actor(), &body.account, Some(&body.principal), resource, ctx.now)?;
    let effective = engine.effective_permissions(&body.account, &body.principal, body.resource.as_deref(), ctx.now)?;
    Reply::ok(PermissionsReply {
        permissions: effective.permissions,
        roles: effective.roles,
        revision: engine.revision(),
    })
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct LookupResources {
    #[schema(pattern = r"^[A-Za-z0-9_.:@-]{1,128}$")]
    account: String,
    #[schema(pattern = r"^[A-Za-z0-9_.:@-]{1,128}$")]
    principal: String,
    permission: String,
    #[serde(rename = "type")]
    ty: String,
    #[serde(default)]
    cursor: Option<String>,
    #[serde(default)]
    #[schema(minimum = 1, maximum = 1000)]
    limit: Option<usize>,
    #[serde(default)]
    min_revision: Option<u64>,
}

/// The resources of a type on which a principal holds a permission.
#[utoipa::path(post, path = "/v1/lookup/resources", tag = "decisions", request_body = LookupResources,
    responses((status = 200, description = "One page of resource names", body = LookupReply)))]
pub(crate) async fn lookup_resources(
    State(app): State<Arc<App>>,
    mut ctx: Ctx,
    Json(body): Json<LookupResources>,
) -> Result<Reply, ApiError> {
    id("account", &body.account)?;
    id("principal", &body.principal)?;
    let limit = body.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::invalid("limit: must be from 1 to 1000"));
    }
    let engine = engine_at(&app, &mut ctx, body.min_revision).await?;
    engine.may_ask(&ctx.caller.actor(), &body.account, Some(&body.principal), None, ctx.now)?;
    let all = engine.lookup_resources(&body.account, &body.principal, &body.permission, &body.ty, ctx.now)?;
    let keyed = all.into_iter().map(|r| (r.clone(), r)).collect();
    let page = Page::of_sorted(keyed, PageRequest { after: body.cursor.as_deref(), limit });
    Reply::ok(LookupReply { items: page.items, next_cursor: page.next_cursor, revision: engine.revision() })
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct LookupSubjects {
    #[schema(pattern = r"^[A-Za-z0-9_.:@-]{1,128}$")]
    account: String,
    permission: String,
    #[schema(pattern = r"^(account|[A-Za-z0-9_.@-]{1,128}:[A-Za-z0-9_.:@-]{1,128})$")]
    #[serde(default)]
    resource: Option<String>,
    #[serde(default)]
    cursor: Option<String>,
    #[serde(default)]
    #[schema(minimum = 1, maximum = 1000)]
    limit: Option<usize>,
    #[serde(default)]
    min_revision: Option<u64>,
}

/// The principals holding a permission in an account (or on a resource).
#[utoipa::path(post, path = "/v1/lookup/subjects", tag = "decisions", request_body = LookupSubjects,
    responses((status = 200, description = "Principal ids", body = SubjectsReply)))]
pub(crate) async fn lookup_subjects(
    State(app): State<Arc<App>>,
    mut ctx: Ctx,
    Json(body): Json<LookupSubjects>,
) -> Result<Reply, ApiError> {
    id("account", &body.account)?;
    let limit = body.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::invalid("limit: must be from 1 to 1000"));
    }
    let engine = engine_at(&app, &mut ctx, body.min_revision).await?;
    let actor = ctx.caller.actor();
    if !ctx.caller.is_platform() {
        engine.require_read(&actor, &body.account, None, Some("member.view"), ctx.now)?;
    }
    engine.may_ask(&actor, &body.account, None, body.resource.as_deref(), ctx.now)?;
    let subjects: Vec<(String, String)> = engine
        .lookup_subjects(&body.account, &body.permission, body.resource.as_deref(), ctx.now)?
        .into_iter()
        .filter(|p| !engine.is_hidden_from(&actor, &body.account, p))
        .map(|p| (p.clone(), p))
        .collect();
    let page = Page::of_sorted(subjects, PageRequest { after: body.cursor.as_deref(), limit });
    Reply::ok(SubjectsReply { principals: page.items, next_cursor: page.next_cursor, revision: engine.revision() })
}
