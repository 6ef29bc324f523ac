//! The audit trails: an account's events and the platform's (tokens, profiles: service
//! tokens only), listing and verifying their hash chains.
//!
//! A reader who is not the platform never sees an event that names a member hidden from
//! them (a protected member, as the core's visibility rule decides): such events are left
//! out, and what could count them is not shown to that reader either (an event's `seq` and
//! `hash`, the number of events verified), so the trail looks exactly as if the protected
//! member were not a member. Pages are cursored by revision, which other accounts' writes
//! advance too.

use std::sync::Arc;

use axum::extract::State;
use roster_core::Actor;
use roster_store::{AuditChain, AuditEvent, ChainReport};

use super::{Reply, platform_only, read_guard};
use crate::http::app::App;
use crate::http::extract::{Ctx, Params, Query};
use crate::http::problem::ApiError;

/// The query of a page.
struct Page<'a> {
    after: i64,
    limit: u64,
    actor: Option<&'a str>,
    action: Option<&'a str>,
}

fn page(query: &Query) -> Result<Page<'_>, ApiError> {
    query.known(&["cursor", "limit", "actor", "action"])?;
    let limit = query.number("limit", 100, 1000)?;
    let after = match query.get("cursor") {
        None => 0,
        Some(text) => text
            .parse::<i64>()
            .ok()
            .filter(|c| *c >= 0)
            .ok_or_else(|| ApiError::invalid("cursor: must be a cursor from a previous page"))?,
    };
    Ok(Page {
        after,
        limit,
        actor: query.get("actor").map(String::as_str),
        action: query.get("action").map(String::as_str),
    })
}

/// Up to `limit` events of `chain` after the cursor, and the cursor of the next page; for
/// a `reader` who is not the platform, without the events naming a member hidden from
/// them in `account`.
async fn collect(
    app: &App,
    chain: &AuditChain,
    page: &Page<'_>,
    reader: Option<(&Actor, &str)>,
) -> Result<(Vec<AuditEvent>, Option<String>), ApiError> {
    let mut events = Vec::new();
    let mut after = page.after;
    // Read in batches until a page and one more are found or the chain ends: left-out
    // events must not shorten a page, or the page size would count them.
    // Batches of at least 200, so a reader who sees few events does not cost a query each.
    let batch_size = std::cmp::max(page.limit + 1, 200);
    loop {
        let batch = app.store.audit(chain, after, batch_size, page.actor, page.action).await?;
        let done = (batch.len() as u64) < batch_size;
        after = batch.last().map_or(after, |e| e.revision);
        match reader {
            None => events.extend(batch),
            Some((actor, account)) => {
                // The engine is read per batch, never across a database read.
                let engine = app.engine.read().await;
                let visible = |e: &AuditEvent| {
                    let accounts: Vec<&str> = std::iter::once(account).chain(e.accounts()).collect();
                    e.principals().iter().all(|p| accounts.iter().all(|a| !engine.is_hidden_from(actor, a, p)))
                };
                events.extend(batch.into_iter().filter(visible));
            }
        }
        if done || events.len() as u64 > page.limit {
            break;
        }
    }
    let next_cursor = (events.len() as u64 > page.limit).then(|| {
        events.truncate(page.limit as usize);
        events.last().map(|e| e.revision.to_string())
    });
    Ok((events, next_cursor.flatten()))
}

/// The account's audit trail, oldest first.
#[utoipa::path(get, path = "/v1/accounts/{account}/audit", tag = "audit", params(("account" = String, Path, description = "Account id"), ("cursor" = Option<String>, Query, description = "`next_cursor` of the previous page"), ("limit" = Option<u64>, Query, description = "Page size, 1-1000 (default 100)"), ("actor" = Option<String>, Query, description = "Only events by this actor"), ("action" = Option<String>, Query, description = "Only events with this action")),
    responses((status = 200, description = "`items` and `next_cursor`")))]
pub(crate) async fn list(State(app): State<Arc<App>>, ctx: Ctx, req: Params, query: Query) -> Result<Reply, ApiError> {
    let account = req.param("account")?;
    let page = page(&query)?;
    read_guard(&app, &ctx, account, Some("audit.view")).await?;
    let chain = AuditChain::account(account);
    if ctx.caller.is_platform() {
        let (events, next_cursor) = collect(&app, &chain, &page, None).await?;
        return Reply::ok(serde_json::json!({ "items": events, "next_cursor": next_cursor }));
    }
    let actor = ctx.caller.actor();
    let (events, next_cursor) = collect(&app, &chain, &page, Some((&actor, account))).await?;
    let items: Vec<serde_json::Value> = events.into_iter().map(without_chain_fields).collect();
    Reply::ok(serde_json::json!({ "items": items, "next_cursor": next_cursor }))
}

/// An event as a reader who is not the platform sees it: without `seq` and `hash`, which
/// would show where left-out events sit.
fn without_chain_fields(event: AuditEvent) -> serde_json::Value {
    serde_json::json!({
        "at": event.at, "actor": event.actor, "action": event.action, "target": event.target,
        "before": event.before, "after": event.after, "request_id": event.request_id,
        "trace_id": event.trace_id, "revision": event.revision,
    })
}

/// Verifies the account's audit chain.
#[utoipa::path(get, path = "/v1/accounts/{account}/audit/verify", tag = "audit", params(("account" = String, Path, description = "Account id")),
    responses((status = 200, description = "`ok`, and the first problem found")))]
pub(crate) async fn verify(
    State(app): State<Arc<App>>,
    ctx: Ctx,
    req: Params,
    query: Query,
) -> Result<Reply, ApiError> {
    let account = req.param("account")?;
    query.known(&[])?;
    read_guard(&app, &ctx, account, Some("audit.view")).await?;
    let report = app.store.verify_audit(&AuditChain::account(account)).await?;
    if ctx.caller.is_platform() {
        return Reply::ok(report);
    }
    Reply::ok(verdict_only(&report))
}

/// The whole chain's verdict without the counts and positions that would reveal events the
/// reader does not see.
fn verdict_only(report: &ChainReport) -> serde_json::Value {
    let mut verdict = serde_json::json!({ "ok": report.ok });
    if let Some(problem) = report.problem {
        verdict["problem"] = serde_json::json!(problem);
    }
    verdict
}

/// The platform trail (tokens, profiles): service tokens only.
#[utoipa::path(get, path = "/v1/audit", tag = "audit", params(("cursor" = Option<String>, Query, description = "`next_cursor` of the previous page"), ("limit" = Option<u64>, Query, description = "Page size, 1-1000 (default 100)"), ("actor" = Option<String>, Query, description = "Only events by this actor"), ("action" = Option<String>, Query, description = "Only events with this action")),
    responses((status = 200, description = "`items` and `next_cursor`")))]
pub(crate) async fn platform_list(State(app): State<Arc<App>>, ctx: Ctx, query: Query) -> Result<Reply, ApiError> {
    platform_only(&ctx, "reading the platform audit trail")?;
    let page = page(&query)?;
    let (events, next_cursor) = collect(&app, &AuditChain::Platform, &page, None).await?;
    Reply::ok(serde_json::json!({ "items": events, "next_cursor": next_cursor }))
}

/// Verifies the platform trail: service tokens only.
#[utoipa::path(get, path = "/v1/audit/verify", tag = "audit",
    responses((status = 200, description = "`ok`, and the first problem found")))]
pub(crate) async fn platform_verify(State(app): State<Arc<App>>, ctx: Ctx, query: Query) -> Result<Reply, ApiError> {
    platform_only(&ctx, "verifying the platform audit trail")?;
    query.known(&[])?;
    Reply::ok(app.store.verify_audit(&AuditChain::Platform).await?)
}
