//! The OpenID AuthZEN Authorization API 1.0: each account is a policy decision point at
//! `{public_url}/authzen/{account}`, with the spec's discovery document, evaluation(s) and
//! searches. See docs/authzen.md for how its entities map onto the packs.

pub(crate) mod doc;
pub(crate) mod evaluate;
mod request;
mod resolve;
pub(crate) mod search;
mod shape;

use std::sync::Arc;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::http::header::{CONTENT_TYPE, HOST};
use roster_core::Pack;

use crate::http::app::App;
use crate::http::extract::{Ctx, Params};
use crate::http::handlers::Reply;
use crate::http::problem::ApiError;

/// The request's `Content-Type`, when it is readable.
fn content_type(headers: &HeaderMap) -> Option<&str> {
    headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok())
}

/// The account's pack, once the caller may ask questions in it (a principal only in an
/// account it holds something in; a missing account is a 404 either way).
async fn tenant(app: &App, ctx: &Ctx, account: &str) -> Result<Arc<Pack>, ApiError> {
    let engine = app.engine.read().await;
    engine.may_ask(&ctx.caller.actor(), account, None, None, ctx.now)?;
    engine
        .account_pack(account)
        .cloned()
        .ok_or_else(|| ApiError::not_found(format!("account `{account}` does not exist")))
}

/// The base every URL of the discovery document starts with: `server.public_url`, else
/// this request's own `Host` (plain HTTP, as the daemon serves it).
fn base_url(app: &App, headers: &HeaderMap) -> String {
    match &app.public_url {
        Some(url) => url.clone(),
        None => {
            let host = headers.get(HOST).and_then(|v| v.to_str().ok()).unwrap_or("localhost");
            format!("http://{host}")
        }
    }
}

/// The PDP metadata of one account (AuthZEN's multi-tenant discovery form). It says where
/// the endpoints are, not whether the account exists, so it needs no credentials.
#[utoipa::path(get, path = "/.well-known/authzen-configuration/authzen/{account}", tag = "authzen", security(()),
    params(("account" = String, Path, description = "The account: one AuthZEN PDP")),
    responses((status = 200, description = "The PDP's metadata", body = doc::Metadata)))]
pub(crate) async fn discovery(
    State(app): State<Arc<App>>,
    params: Params,
    headers: HeaderMap,
) -> Result<Reply, ApiError> {
    let account = params.param("account")?;
    let pdp = format!("{}/authzen/{account}", base_url(&app, &headers));
    Reply::ok(doc::Metadata {
        access_evaluation_endpoint: format!("{pdp}/access/v1/evaluation"),
        access_evaluations_endpoint: format!("{pdp}/access/v1/evaluations"),
        search_subject_endpoint: format!("{pdp}/access/v1/search/subject"),
        search_resource_endpoint: format!("{pdp}/access/v1/search/resource"),
        search_action_endpoint: format!("{pdp}/access/v1/search/action"),
        policy_decision_point: pdp,
    })
}
