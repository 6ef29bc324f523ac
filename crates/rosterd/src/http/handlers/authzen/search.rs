//! The Search APIs: the subjects holding an action on a resource, the resources of a type
//! on which a subject holds an action, the actions a subject holds on a resource. Each
//! answers a page (`page.token`, `page.limit` → `page.next_token`, empty on the last
//! page); whatever maps to nothing Roster knows is an empty result, never an error.

use std::sync::Arc;

use axum::extract::State;
use axum::http::HeaderMap;
use roster_core::engine::{Page, PageRequest};
use roster_core::management::Actor;
use serde_json::{Value, json};

use super::request::{Evaluation, PageRequest as RequestedPage};
use super::resolve::{Owners, SUBJECT_TYPES, in_sight, place};
use super::{content_type, tenant};
use crate::http::app::App;
use crate::http::extract::{Ctx, JsonBytes, Params};
use crate::http::handlers::Reply;
use crate::http::problem::ApiError;

/// Results per page: the default and the most `page.limit` may ask for.
const PAGE: (u64, u64) = (100, 1000);

fn missing(field: &str) -> ApiError {
    ApiError::invalid(format!("{field}: required"))
}

/// A principal asks about itself only.
fn only_self(ctx: &Ctx, subject: &str) -> Result<(), ApiError> {
    match ctx.caller.actor() {
        Actor::Principal(me) if me != subject => {
            Err(ApiError::forbidden(format!("a principal searches only for itself, not `{subject}`")))
        }
        _ => Ok(()),
    }
}

/// One page of sorted `ids`, each turned into a result by `result`.
fn page_of(
    ids: Vec<String>,
    page: Option<&RequestedPage<'_>>,
    result: impl Fn(&str) -> Value,
) -> Result<Reply, ApiError> {
    let limit = page.and_then(|p| p.limit).unwrap_or(PAGE.0);
    if !(1..=PAGE.1).contains(&limit) {
        return Err(ApiError::invalid(format!("page.limit: must be from 1 to {}", PAGE.1)));
    }
    let after = page.and_then(|p| p.token.as_deref()).filter(|t| !t.is_empty());
    let keyed = ids.into_iter().map(|id| (id.clone(), id)).collect();
    let page = Page::of_sorted(keyed, PageRequest { after, limit: limit as usize });
    let results: Vec<Value> = page.items.iter().map(|id| result(id)).collect();
    Reply::ok(json!({ "results": results, "page": { "next_token": page.next_cursor.unwrap_or_default() } }))
}

async fn body<'b>(headers: &HeaderMap, bytes: &'b [u8]) -> Result<Evaluation<'b>, ApiError> {
    Evaluation::parse(content_type(headers), bytes)
}

/// The subjects of a type that hold the action on the resource.
#[utoipa::path(post, path = "/authzen/{account}/access/v1/search/subject", tag = "authzen",
    params(("account" = String, Path, description = "The account: one AuthZEN PDP")),
    request_body(content = super::doc::SearchRequest, content_type = "application/json"),
    responses((status = 200, description = "One page of subjects", body = super::doc::SearchResults)))]
pub(crate) async fn subject(
    State(app): State<Arc<App>>,
    ctx: Ctx,
    params: Params,
    headers: HeaderMap,
    JsonBytes(bytes): JsonBytes,
) -> Result<Reply, ApiError> {
    let account = params.param("account")?;
    let body = body(&headers, &bytes).await?;
    let ty = body.subject.as_ref().ok_or_else(|| missing("subject"))?.ty("subject")?;
    let action_entity = body.action.as_ref().ok_or_else(|| missing("action"))?;
    let action = action_entity.name("action")?;
    let resource = body.resource.as_ref().ok_or_else(|| missing("resource"))?.identified("resource")?;
    let pack = tenant(&app, &ctx, account).await?;
    let owners = Owners::look_up(&app, &pack, std::iter::once(resource)).await?;
    let engine = app.engine.read().await;
    let actor = ctx.caller.actor();
    // Who holds what is a view of the account's members, as `/v1/lookup/subjects` is.
    if !ctx.caller.is_platform() {
        engine.require_read(&actor, account, None, Some("member.view"), ctx.now)?;
    }
    let permission = pack.authzen_permission(action, action_entity.properties.as_ref());
    let mut ids = Vec::new();
    if SUBJECT_TYPES.contains(&ty)
        && pack.permission(permission).is_some()
        && let Ok(place) = place(&engine, &pack, account, &resource, &owners)?
        && in_sight(&engine, &actor, &place, account, None, ctx.now)
    {
        let (ask_in, on) = place.asked(account);
        ids = match place.transient() {
            Some(t) => engine.transient_subjects(ask_in, permission, &t, ctx.now)?,
            None => engine.lookup_subjects(ask_in, permission, on, ctx.now)?,
        };
        ids.retain(|p| !engine.is_hidden_from(&actor, ask_in, p));
    }
    drop(engine);
    page_of(ids, body.page.as_ref(), |id| json!({ "type": ty, "id": id }))
}

/// The resources of a type on which the subject holds the action.
#[utoipa::path(post, path = "/authzen/{account}/access/v1/search/resource", tag = "authzen",
    params(("account" = String, Path, description = "The account: one AuthZEN PDP")),
    request_body(content = super::doc::SearchRequest, content_type = "application/json"),
    responses((status = 200, description = "One page of resources", body = super::doc::SearchResults)))]
pub(crate) async fn resource(
    State(app): State<Arc<App>>,
    ctx: Ctx,
    params: Params,
    headers: HeaderMap,
    JsonBytes(bytes): JsonBytes,
) -> Result<Reply, ApiError> {
    let account = params.param("account")?;
    let body = body(&headers, &bytes).await?;
    let subject = body.subject.as_ref().ok_or_else(|| missing("subject"))?.identified("subject")?;
    let action_entity = body.action.as_ref().ok_or_else(|| missing("action"))?;
    let action = action_entity.name("action")?;
    let ty = body.resource.as_ref().ok_or_else(|| missing("resource"))?.ty("resource")?;
    only_self(&ctx, subject.id)?;
    let pack = tenant(&app, &ctx, account).await?;
    let engine = app.engine.read().await;
    let permission = pack.authzen_permission(action, action_entity.properties.as_ref());
    let mut ids = Vec::new();
    if SUBJECT_TYPES.contains(&subject.ty)
        && let Some(type_index) = pack.resource_type(ty)
        && pack.permission(permission).is_some()
    {
        engine.may_ask(&ctx.caller.actor(), account, Some(subject.id), None, ctx.now)?;
        let names = engine.lookup_resources(account, subject.id, permission, ty, ctx.now)?;
        let account_type = pack.types()[usize::from(type_index)].account;
        let prefix = format!("{ty}:");
        ids = names
            .into_iter()
            .filter_map(|name| if account_type { Some(name) } else { name.strip_prefix(&prefix).map(str::to_owned) })
            .collect();
        ids.sort();
    }
    drop(engine);
    page_of(ids, body.page.as_ref(), |id| json!({ "type": ty, "id": id }))
}

/// The actions the subject holds on the resource.
#[utoipa::path(post, path = "/authzen/{account}/access/v1/search/action", tag = "authzen",
    params(("account" = String, Path, description = "The account: one AuthZEN PDP")),
    request_body(content = super::doc::SearchRequest, content_type = "application/json"),
    responses((status = 200, description = "One page of actions", body = super::doc::SearchResults)))]
pub(crate) async fn action(
    State(app): State<Arc<App>>,
    ctx: Ctx,
    params: Params,
    headers: HeaderMap,
    JsonBytes(bytes): JsonBytes,
) -> Result<Reply, ApiError> {
    let account = params.param("account")?;
    let body = body(&headers, &bytes).await?;
    let subject = body.subject.as_ref().ok_or_else(|| missing("subject"))?.identified("subject")?;
    let resource = body.resource.as_ref().ok_or_else(|| missing("resource"))?.identified("resource")?;
    only_self(&ctx, subject.id)?;
    let pack = tenant(&app, &ctx, account).await?;
    let owners = Owners::look_up(&app, &pack, std::iter::once(resource)).await?;
    let engine = app.engine.read().await;
    let mut names = Vec::new();
    if SUBJECT_TYPES.contains(&subject.ty)
        && let Ok(place) = place(&engine, &pack, account, &resource, &owners)?
        && in_sight(&engine, &ctx.caller.actor(), &place, account, Some(subject.id), ctx.now)
    {
        let (ask_in, on) = place.asked(account);
        let permissions = match place.transient() {
            Some(t) => engine.transient_permissions(ask_in, subject.id, &t, ctx.now)?,
            None => engine.effective_permissions(ask_in, subject.id, on, ctx.now)?.permissions,
        };
        names = permissions.iter().flat_map(|p| pack.authzen_actions(p)).collect();
        names.sort();
        names.dedup();
    }
    drop(engine);
    page_of(names, body.page.as_ref(), |name| json!({ "name": name }))
}
