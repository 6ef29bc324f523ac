//! The endpoints of API.md, each registered once (its `#[utoipa::path]` gives method, path
//! and documentation together), and the layers every request passes through, outermost
//! first: the envelope (the request span, strict ids and framing headers, request ids in
//! and out, problem+json for bare errors, metrics), the body limit, the request timeout.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::middleware;
use tower::ServiceBuilder;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::app::App;
use super::handlers::{accounts, audit, authzen, decisions, grants, invites, members, packs, tokens, watch};
use super::layers;
use super::openapi;
use super::problem::ApiError;

/// Every endpoint, with the OpenAPI document it adds up to.
pub(crate) fn endpoints() -> OpenApiRouter<Arc<App>> {
    OpenApiRouter::with_openapi(openapi::base())
        .routes(routes!(packs::health))
        .routes(routes!(packs::ready))
        .routes(routes!(openapi::document))
        .routes(routes!(packs::list))
        .routes(routes!(packs::show))
        .routes(routes!(packs::matrix))
        .routes(routes!(accounts::create))
        .routes(routes!(accounts::get))
        .routes(routes!(accounts::children))
        .routes(routes!(accounts::put_principal, accounts::get_principal))
        .routes(routes!(members::list, members::add))
        .routes(routes!(members::get, members::change_role, members::remove))
        .routes(routes!(members::restore))
        .routes(routes!(members::move_member))
        .routes(routes!(members::transfer))
        .routes(routes!(members::masquerade))
        .routes(routes!(invites::create, invites::list))
        .routes(routes!(invites::revoke))
        .routes(routes!(invites::accept))
        .routes(routes!(grants::create_resource))
        .routes(routes!(grants::get_resource, grants::delete_resource))
        .routes(routes!(grants::list_grants, grants::create_grant))
        .routes(routes!(grants::delete_grant))
        .routes(routes!(grants::create_group, grants::list_groups))
        .routes(routes!(grants::put_group_member, grants::delete_group_member))
        .routes(routes!(grants::create_role, grants::list_roles))
        .routes(routes!(grants::delete_role))
        .routes(routes!(decisions::check))
        .routes(routes!(decisions::batch))
        .routes(routes!(decisions::permissions))
        .routes(routes!(decisions::lookup_resources))
        .routes(routes!(decisions::lookup_subjects))
        .routes(routes!(audit::list))
        .routes(routes!(audit::verify))
        .routes(routes!(audit::platform_list))
        .routes(routes!(audit::platform_verify))
        .routes(routes!(tokens::create))
        .routes(routes!(tokens::revoke))
        .routes(routes!(watch::watch))
        .routes(routes!(authzen::discovery))
        .routes(routes!(authzen::evaluate::evaluation))
        .routes(routes!(authzen::evaluate::evaluations))
        .routes(routes!(authzen::search::subject))
        .routes(routes!(authzen::search::resource))
        .routes(routes!(authzen::search::action))
}

/// The whole service: endpoints, the document at `/v1/openapi.json`, the layers.
pub(crate) fn build(app: Arc<App>, request_timeout: Duration) -> axum::Router {
    let body_bytes = app.limits.body_bytes;
    let (router, document) = endpoints().split_for_parts();
    openapi::publish(openapi::finish(document));
    let layers = ServiceBuilder::new()
        .layer(middleware::from_fn_with_state(Arc::clone(&app), layers::envelope))
        .layer(RequestBodyLimitLayer::new(body_bytes))
        .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, request_timeout))
        // The limit above is the one in force; axum's own default (2 MiB) is not.
        .layer(DefaultBodyLimit::disable());
    router.fallback(not_found).with_state(app).layer(layers)
}

async fn not_found(uri: axum::http::Uri) -> ApiError {
    ApiError::not_found(format!("no endpoint at {}", uri.path()))
}
