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
use roster_store::{AuditChain, AuditEvent, ChainProblem, ChainReport};
use serde::Serialize;

use super::{Page, Reply, platform_only, read_guard};
use crate::http::app::App;
use crate::http::extract::{Ctx, Params, Query};
use crate::http::problem::ApiError;

/// The query of a page.
struct PageQuery<'a> {
    after: i64,
    limit: u64,
    actor: Option<&'a str>,
    action: Option<&'a str>,
}

/// A cursor that is a number (a revision or a seq); 0 when absent.
fn number_cursor(query: &Query) -> Result<i64, ApiError> {
    match query.get("cursor") {
        None => Ok(0),
        Some(text) => text
            .parse::<i64>()
            .ok()
            .filter(|c| *c >= 0)
            .ok_or_else(|| ApiError::invalid("cursor: must be a cursor from a previous page")),
    }
}

fn page(query: &Query) -> Result<PageQuery<'_>, ApiError> {
    query.known(&["cursor", "limit", "actor", "action"])?;
    let limit = query.number("limit", 100, 1000)?;
    let after = number_cursor(query)?;
    Ok(PageQuery {
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
    page: &PageQuery<'_>,
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
#[utoipa::path(get, path = "/v1/accounts/{account}/audit", tag = "audit", params(("account" = String, Path, description = "Account id", example = "acme"), ("cursor" = Option<String>, Query, description = "`next_cursor` of the previous page"), ("limit" = Option<u64>, Query, description = "Page size, 1-1000 (default 100)"), ("actor" = Option<String>, Query, description = "Only events by this actor"), ("action" = Option<String>, Query, description = "Only events with this action")),
    responses((status = 200, description = "One page of events", body = Page<EventOut>)))]
pub(crate) async fn list(State(app): State<Arc<App>>, ctx: Ctx, req: Params, query: Query) -> Result<Reply, ApiError> {
    let account = req.param("account")?;
    let page = page(&query)?;
    read_guard(&app, &ctx, account, Some("audit.view")).await?;
    let chain = AuditChain::account(account);
    if ctx.caller.is_platform() {
        let (events, next_cursor) = collect(&app, &chain, &page, None).await?;
        let items = events.into_iter().map(|e| EventOut::of(e, true)).collect();
        return Reply::ok(Page { items, next_cursor });
    }
    let actor = ctx.caller.actor();
    let (events, next_cursor) = collect(&app, &chain, &page, Some((&actor, account))).await?;
    let items = events.into_iter().map(|e| EventOut::of(e, false)).collect();
    Reply::ok(Page { items, next_cursor })
}

/// An audit event as the API shows it. A reader who is not the platform gets it without
/// `seq` and `hash`, which would show where left-out events sit.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct EventOut {
    /// Position in the chain, from 1 (platform readers only).
    #[serde(skip_serializing_if = "Option::is_none")]
    seq: Option<i64>,
    /// Unix seconds.
    at: i64,
    /// Who acted: `principal:<id>`, `service:<name>`, `principal:<id> via service:<name>`, `system:<what>`.
    actor: String,
    action: String,
    target: String,
    before: Option<serde_json::Value>,
    after: Option<serde_json::Value>,
    request_id: Option<String>,
    trace_id: Option<String>,
    /// The revision of the write that recorded it (the page cursor).
    revision: i64,
    /// The chain hash (platform readers only).
    #[serde(skip_serializing_if = "Option::is_none")]
    hash: Option<String>,
}

impl EventOut {
    fn of(event: AuditEvent, with_chain_fields: bool) -> Self {
        EventOut {
            seq: with_chain_fields.then_some(event.seq),
            at: event.at,
            actor: event.actor,
            action: event.action,
            target: event.target,
            before: event.before,
            after: event.after,
            request_id: event.request_id,
            trace_id: event.trace_id,
            revision: event.revision,
            hash: with_chain_fields.then_some(event.hash),
        }
    }
}

/// A chain's verdict. A reader who is not the platform gets only `ok` and `problem`: the
/// counts and positions would reveal events they do not see.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct Verdict {
    ok: bool,
    /// Events checked (platform readers only).
    #[serde(skip_serializing_if = "Option::is_none")]
    events: Option<usize>,
    /// The first event that does not verify (platform readers only).
    #[serde(skip_serializing_if = "Option::is_none")]
    first_bad_seq: Option<i64>,
    /// What is wrong.
    #[serde(skip_serializing_if = "Option::is_none")]
    problem: Option<ChainProblem>,
    /// The head's seq when it disagrees with the events (platform readers only).
    #[serde(skip_serializing_if = "Option::is_none")]
    head_seq: Option<i64>,
    /// Platform readers verify a page at a time: pass as `cursor` to verify the next
    /// events; absent once the chain's end (and its head) was checked.
    #[serde(skip_serializing_if = "Option::is_none")]
    next_cursor: Option<String>,
}

impl Verdict {
    fn of(report: ChainReport, with_counts: bool) -> Self {
        Verdict {
            ok: report.ok,
            events: with_counts.then_some(report.events),
            first_bad_seq: report.first_bad_seq.filter(|_| with_counts),
            problem: report.problem,
            head_seq: report.head_seq.filter(|_| with_counts),
            next_cursor: None,
        }
    }
}

/// Events a platform reader's verify page checks: the default and the most.
const VERIFY_PAGE: (u64, u64) = (10_000, 100_000);

/// One page of a chain's verification, for the platform: `cursor` is the seq verified up
/// to (from a previous page's `next_cursor`).
async fn verify_page(app: &App, chain: &AuditChain, query: &Query) -> Result<Verdict, ApiError> {
    let limit = query.number("limit", VERIFY_PAGE.0, VERIFY_PAGE.1)?;
    let after = number_cursor(query)?;
    let page = app.store.verify_audit_page(chain, after, limit).await?;
    Ok(Verdict { next_cursor: page.next.map(|n| n.to_string()), ..Verdict::of(page.report, true) })
}

/// Verifies the account's audit chain.
#[utoipa::path(get, path = "/v1/accounts/{account}/audit/verify", tag = "audit", params(("account" = String, Path, description = "Account id", example = "acme"), ("cursor" = Option<String>, Query, description = "Platform only: `next_cursor` of the previous page"), ("limit" = Option<u64>, Query, description = "Platform only: events per page, 1-100000 (default 10000)")),
    responses((status = 200, description = "The chain's verdict", body = Verdict)))]
pub(crate) async fn verify(
    State(app): State<Arc<App>>,
    ctx: Ctx,
    req: Params,
    query: Query,
) -> Result<Reply, ApiError> {
    let account = req.param("account")?;
    query.known(&["cursor", "limit"])?;
    read_guard(&app, &ctx, account, Some("audit.view")).await?;
    let chain = AuditChain::account(account);
    if ctx.caller.is_platform() {
        return Reply::ok(verify_page(&app, &chain, &query).await?);
    }
    // A principal gets the whole chain's verdict (checked a page at a time in bounded
    // memory) and no cursor: positions would reveal the events it does not see.
    if query.get("cursor").is_some() || query.get("limit").is_some() {
        return Err(ApiError::invalid("cursor: only the platform verifies a chain a page at a time"));
    }
    Reply::ok(Verdict::of(app.store.verify_audit(&chain).await?, false))
}

/// The platform trail (tokens, profiles): service tokens only.
#[utoipa::path(get, path = "/v1/audit", tag = "audit", params(("cursor" = Option<String>, Query, description = "`next_cursor` of the previous page"), ("limit" = Option<u64>, Query, description = "Page size, 1-1000 (default 100)"), ("actor" = Option<String>, Query, description = "Only events by this actor"), ("action" = Option<String>, Query, description = "Only events with this action")),
    responses((status = 200, description = "One page of events", body = Page<EventOut>)))]
pub(crate) async fn platform_list(State(app): State<Arc<App>>, ctx: Ctx, query: Query) -> Result<Reply, ApiError> {
    platform_only(&ctx, "reading the platform audit trail")?;
    let page = page(&query)?;
    let (events, next_cursor) = collect(&app, &AuditChain::Platform, &page, None).await?;
    let items = events.into_iter().map(|e| EventOut::of(e, true)).collect();
    Reply::ok(Page { items, next_cursor })
}

/// Verifies the platform trail: service tokens only.
#[utoipa::path(get, path = "/v1/audit/verify", tag = "audit", params(("cursor" = Option<String>, Query, description = "Platform only: `next_cursor` of the previous page"), ("limit" = Option<u64>, Query, description = "Platform only: events per page, 1-100000 (default 10000)")),
    responses((status = 200, description = "The chain's verdict", body = Verdict)))]
pub(crate) async fn platform_verify(State(app): State<Arc<App>>, ctx: Ctx, query: Query) -> Result<Reply, ApiError> {
    platform_only(&ctx, "verifying the platform audit trail")?;
    query.known(&["cursor", "limit"])?;
    Reply::ok(verify_page(&app, &AuditChain::Platform, &query).await?)
}
