//! The Access Evaluation API (one decision) and the Access Evaluations API (many, with
//! top-level defaults, whole-object overrides per item and the three semantics).

use std::sync::Arc;

use axum::extract::State;
use axum::http::HeaderMap;
use roster_core::management::Actor;
use roster_core::{Engine, Pack};
use serde_json::json;

use serde_json::value::RawValue;

use super::request::{Action, Entity, Evaluation, Identified, Item, Semantic, require_json};
use super::resolve::{Outcome, Owners, SUBJECT_TYPES, in_sight, place};
use super::shape::{self, Shaped};
use super::{content_type, tenant};
use crate::http::app::App;
use crate::http::extract::{Ctx, JsonBytes, Params};
use crate::http::handlers::Reply;
use crate::http::problem::ApiError;

/// One question, every part present.
struct Question<'q> {
    subject: Identified<'q>,
    action: &'q str,
    action_properties: Option<&'q serde_json::Map<String, serde_json::Value>>,
    resource: Identified<'q>,
}

impl<'q> Question<'q> {
    /// The question from an item's entities, each falling back whole to the top level's.
    fn of(
        subject: Option<&'q Entity<'q>>,
        action: Option<&'q Action<'q>>,
        resource: Option<&'q Entity<'q>>,
    ) -> Result<Question<'q>, ApiError> {
        let missing = |field: &str| ApiError::invalid(format!("{field}: required"));
        let action = action.ok_or_else(|| missing("action"))?;
        Ok(Question {
            subject: subject.ok_or_else(|| missing("subject"))?.identified("subject")?,
            action: action.name("action")?,
            action_properties: action.properties.as_ref(),
            resource: resource.ok_or_else(|| missing("resource"))?.identified("resource")?,
        })
    }
}

thread_local! {
    /// The `type:id` a question names, built in place (one allocation per worker thread,
    /// not one per item of a batch).
    static RESOURCE_NAME: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
}

/// Answers one question in `account`: a deny when it maps to nothing Roster knows, an
/// error when the caller may not ask it.
fn answer(
    engine: &Engine,
    ctx: &Ctx,
    account: &str,
    pack: &Pack,
    owners: &Owners,
    question: &Question<'_>,
    explain: bool,
) -> Result<Outcome, ApiError> {
    let actor = ctx.caller.actor();
    let Question { subject, action, action_properties, resource } = question;
    // A principal evaluates only for itself, whatever the type it names itself with.
    if let Actor::Principal(me) = &actor
        && (subject.id != me.as_str() || !SUBJECT_TYPES.contains(&subject.ty))
    {
        return Err(ApiError::forbidden(format!("a principal evaluates only for itself, not `{}`", subject.id)));
    }
    if !SUBJECT_TYPES.contains(&subject.ty) {
        return Ok(Outcome::deny(
            explain,
            format!("subject type `{}` is not a principal (user or principal)", subject.ty),
        ));
    }
    let permission = pack.authzen_permission(action, *action_properties);
    // The platform's plain question about a stored resource, asked once: the engine finds
    // the account, permission and resource itself (the common case for a backend PEP).
    // Anything else it cannot answer outright (a resource it does not store, an unknown
    // permission) goes the long way below, which says why.
    if actor == Actor::Service && !explain && !is_account_type(pack, resource.ty) {
        let decided = RESOURCE_NAME.with_borrow_mut(|name| {
            name.clear();
            name.push_str(resource.ty);
            name.push(':');
            name.push_str(resource.id);
            engine.check(account, subject.id, permission, Some(name.as_str()), ctx.now)
        });
        if let Ok(decision) = decided {
            return Ok(Outcome::of(decision.allowed));
        }
    }
    if pack.permission(permission).is_none() {
        return Ok(Outcome::deny(explain, format!("action `{action}` names no permission of pack `{}`", pack.id())));
    }
    let place = match place(engine, pack, account, resource, owners)? {
        Ok(place) => place,
        Err(why) => return Ok(Outcome::deny(explain, why)),
    };
    if !in_sight(engine, &actor, &place, account, Some(subject.id), ctx.now) {
        let why = format!("`{}:{}` is not a resource this principal may see", resource.ty, resource.id);
        return Ok(Outcome::deny(explain, why));
    }
    let (ask_in, on) = place.asked(account);
    let (principal, now) = (subject.id, ctx.now);
    Ok(match (place.transient(), explain) {
        (Some(t), false) => Outcome::of(engine.check_transient(ask_in, principal, permission, &t, now)?.allowed),
        (Some(t), true) => Outcome::explained(engine.explain_transient(ask_in, principal, permission, &t, now)?),
        (None, false) => Outcome::of(engine.check(ask_in, principal, permission, on, now)?.allowed),
        (None, true) => Outcome::explained(engine.explain(ask_in, principal, permission, on, now)?),
    })
}

/// Whether `ty` is one of the pack's account types (asked about as an account, never as a
/// stored resource).
fn is_account_type(pack: &Pack, ty: &str) -> bool {
    pack.resource_type(ty).is_none_or(|t| pack.types()[usize::from(t)].account)
}

impl Outcome {
    fn of(decision: bool) -> Outcome {
        Outcome { decision, context: None }
    }

    fn explained(explanation: roster_core::Explanation) -> Outcome {
        Outcome { decision: explanation.allowed, context: Some(json!({ "reason_admin": explanation })) }
    }
}

/// Answers the top level of `body` as one decision.
async fn single<I>(app: &App, ctx: &Ctx, account: &str, body: &Evaluation<'_, I>) -> Result<Reply, ApiError> {
    let question = Question::of(body.subject.as_ref(), body.action.as_ref(), body.resource.as_ref())?;
    let pack = tenant(app, ctx, account).await?;
    let owners = Owners::look_up(app, &pack, std::iter::once(question.resource)).await?;
    let engine = app.engine.read().await;
    let outcome = answer(&engine, ctx, account, &pack, &owners, &question, body.options.explain)?;
    app.metrics.decisions(u64::from(outcome.decision), u64::from(!outcome.decision));
    Reply::ok(outcome)
}

/// May the subject do the action on the resource? (`{"decision": bool}`)
#[utoipa::path(post, path = "/authzen/{account}/access/v1/evaluation", tag = "authzen",
    params(("account" = String, Path, description = "The account: one AuthZEN PDP")),
    request_body(content = super::doc::EvaluationRequest, content_type = "application/json"),
    responses((status = 200, description = "The decision (a deny is 200 too)", body = super::doc::Decision)))]
pub(crate) async fn evaluation(
    State(app): State<Arc<App>>,
    ctx: Ctx,
    params: Params,
    headers: HeaderMap,
    JsonBytes(bytes): JsonBytes,
) -> Result<Reply, ApiError> {
    let account = params.param("account")?;
    let body = Evaluation::<&RawValue>::parse(content_type(&headers), &bytes)?;
    single(&app, &ctx, account, &body).await
}

/// Many decisions in one call, in request order (or one, without `evaluations`).
#[utoipa::path(post, path = "/authzen/{account}/access/v1/evaluations", tag = "authzen",
    params(("account" = String, Path, description = "The account: one AuthZEN PDP")),
    request_body(content = super::doc::EvaluationsRequest, content_type = "application/json"),
    responses((status = 200, description = "The decisions, in request order", body = super::doc::EvaluationsReply)))]
pub(crate) async fn evaluations(
    State(app): State<Arc<App>>,
    ctx: Ctx,
    params: Params,
    headers: HeaderMap,
    JsonBytes(bytes): JsonBytes,
) -> Result<Reply, ApiError> {
    let account = params.param("account")?;
    let content_type = content_type(&headers);
    let limit = app.limits.batch;
    let too_many = |n: usize| ApiError::invalid(format!("evaluations: at most {limit} per request, got {n}"));
    // The common shape (entities and actions only, at most `limit` items) is read in one
    // scan. Any other body is read with its items captured raw (a few bytes each, however
    // many are sent), counted against the limit, then read one by one, so a bad item
    // fails alone and a flood of tiny items is refused before it is read into structs.
    let shaped = require_json(content_type).ok().and_then(|()| shape::read(&bytes, limit));
    let (body, items): (_, Option<Vec<Result<Item, ApiError>>>) = match shaped {
        Some(Shaped { top, items }) => {
            let body = Evaluation::of_entities(top.subject, top.action, top.resource);
            (body, items.map(|items| items.into_iter().map(Ok).collect()))
        }
        None => {
            let (body, items) = Evaluation::<&RawValue>::parse(content_type, &bytes)?.split();
            if let Some(items) = &items
                && items.len() > limit
            {
                return Err(too_many(items.len()));
            }
            (body, items.map(|items| items.into_iter().map(Item::parse).collect()))
        }
    };
    let parsed = match items {
        Some(items) if !items.is_empty() => items,
        _ => return single(&app, &ctx, account, &body).await,
    };
    if parsed.len() > limit {
        return Err(too_many(parsed.len()));
    }
    let pack = tenant(&app, &ctx, account).await?;
    let questions: Vec<Result<Question, ApiError>> = parsed
        .iter()
        .map(|item| {
            let item = item.as_ref().map_err(Clone::clone)?;
            Question::of(
                item.subject.as_ref().or(body.subject.as_ref()),
                item.action.as_ref().or(body.action.as_ref()),
                item.resource.as_ref().or(body.resource.as_ref()),
            )
        })
        .collect();
    let resources = questions.iter().filter_map(|q| q.as_ref().ok()).map(|q| q.resource);
    let owners = Owners::look_up(&app, &pack, resources).await?;
    let (semantic, explain) = (body.options.evaluations_semantic, body.options.explain);
    let engine = app.engine.read().await;
    let mut outcomes = Vec::with_capacity(questions.len());
    for (i, question) in questions.iter().enumerate() {
        let outcome = question
            .as_ref()
            .map_err(Clone::clone)
            .and_then(|q| answer(&engine, &ctx, account, &pack, &owners, q, explain))
            .unwrap_or_else(|e| Outcome::failed(&ApiError::new(e.code, format!("evaluations[{i}]: {}", e.detail))));
        let decision = outcome.decision;
        outcomes.push(outcome);
        match semantic {
            Semantic::DenyOnFirstDeny if !decision => break,
            Semantic::PermitOnFirstPermit if decision => break,
            _ => {}
        }
    }
    drop(engine);
    let allowed = outcomes.iter().filter(|o| o.decision).count() as u64;
    app.metrics.decisions(allowed, outcomes.len() as u64 - allowed);
    Reply::ok(Evaluations { evaluations: outcomes })
}

/// The answer of an evaluations request.
#[derive(serde::Serialize)]
struct Evaluations {
    evaluations: Vec<Outcome>,
}
