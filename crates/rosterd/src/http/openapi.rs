//! The OpenAPI 3.1 document of the API, generated from the endpoints' annotations and the
//! types they read and write: served at `GET /v1/openapi.json`, checked in as
//! `docs/openapi.json` (a test fails when that copy is stale).

use std::sync::OnceLock;

use utoipa::OpenApi;
use utoipa::openapi::path::{Operation, Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
use utoipa::openapi::security::SecurityRequirement;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{Content, Ref, RefOr, Required};

use super::consistency::MIN_REVISION;
use super::handlers::{Body, Reply};
use super::problem::{ApiError, Problem};

/// Name of the shared problem+json response.
const PROBLEM: &str = "Problem";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Roster admin API",
        description = "Team accounts with role-based permissions: members, invites, ownership, grants, custom roles, \
                       and decisions with their reasons. Every refusal is RFC 9457 problem+json with a stable `code`.",
        license(name = "Apache-2.0", identifier = "Apache-2.0")
    ),
    components(schemas(Problem)),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
    tags(
        (name = "health", description = "Liveness and readiness"),
        (name = "packs", description = "Loaded role packs"),
        (name = "accounts", description = "Accounts and principal profiles"),
        (name = "members", description = "Membership, ownership, masquerade"),
        (name = "invites", description = "Invites"),
        (name = "grants", description = "Resources, grants, groups and custom roles"),
        (name = "decisions", description = "Checks, effective permissions, lookups"),
        (name = "audit", description = "Audit trails and their verification"),
        (name = "tokens", description = "API tokens"),
        (name = "watch", description = "The change feed for consumers"),
        (name = "authzen", description = "OpenID AuthZEN Authorization API 1.0: each account is a PDP"),
    )
)]
struct ApiDoc;

/// Bearer tokens (`rst_<id>_<secret>`), with `Roster-Act-As` for a service acting as a
/// principal.
struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let mut scheme = Http::new(HttpAuthScheme::Bearer);
        scheme.description = Some(
            "`rst_<id>_<secret>`. A service token may add `Roster-Act-As: <principal>` to act as that principal."
                .into(),
        );
        components.add_security_scheme("bearer", SecurityScheme::Http(scheme));
        let problem = ResponseBuilder::new()
            .description("The request was refused; `code` says why (problem+json, RFC 9457).")
            .content("application/problem+json", Content::new(Some(Ref::from_schema_name(PROBLEM))))
            .build();
        components.responses.insert(PROBLEM.into(), RefOr::T(problem));
    }
}

/// The document before the endpoints are added.
pub(crate) fn base() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

/// Every operation may be refused: each gets the problem response as its `default`; every
/// authenticated read takes `min_revision` (waited for in the `Ctx` extractor).
pub(crate) fn finish(mut document: utoipa::openapi::OpenApi) -> utoipa::openapi::OpenApi {
    for item in document.paths.paths.values_mut() {
        if let Some(read) = item.get.as_mut()
            && !read.security.as_ref().is_some_and(|requirements| requirements.iter().all(is_anonymous))
        {
            read.parameters.get_or_insert_with(Vec::new).push(RefOr::T(min_revision_parameter()));
        }
        let operations: [&mut Option<Operation>; 5] =
            [&mut item.get, &mut item.put, &mut item.post, &mut item.delete, &mut item.patch];
        for operation in operations.into_iter().flatten() {
            operation
                .responses
                .responses
                .entry("default".into())
                .or_insert_with(|| RefOr::Ref(Ref::from_response_name(PROBLEM)));
        }
    }
    document
}

/// `security(())`: the operation needs no credentials.
fn is_anonymous(requirement: &SecurityRequirement) -> bool {
    *requirement == SecurityRequirement::default()
}

/// The `min_revision` query parameter of every authenticated read.
fn min_revision_parameter() -> Parameter {
    let schema = ObjectBuilder::new()
        .schema_type(Type::Integer)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
        .minimum(Some(0));
    ParameterBuilder::new()
        .name(MIN_REVISION)
        .parameter_in(ParameterIn::Query)
        .required(Required::False)
        .description(Some(
            "Answer at this revision or later: waits until this replica has applied it (up to \
             `replication.min_revision_timeout_ms`), else 409 `stale`.",
        ))
        .schema(Some(schema))
        .build()
}

/// The whole document, as `docs/openapi.json` holds it.
pub(crate) fn generate() -> Result<String, serde_json::Error> {
    let (_, document) = super::router::endpoints().split_for_parts();
    finish(document).to_pretty_json().map(|text| text + "\n")
}

static DOCUMENT: OnceLock<Vec<u8>> = OnceLock::new();

/// Keeps the document the router was built with, for [`document`] to serve.
pub(crate) fn publish(document: utoipa::openapi::OpenApi) {
    if let Ok(text) = document.to_json() {
        let _ = DOCUMENT.set(text.into_bytes());
    }
}

/// This document.
#[utoipa::path(
    get,
    path = "/v1/openapi.json",
    tag = "health",
    security(()),
    responses((status = 200, description = "The OpenAPI 3.1 document", content_type = "application/json"))
)]
pub(crate) async fn document() -> Result<Reply, ApiError> {
    let bytes = DOCUMENT.get().cloned().unwrap_or_default();
    Ok(Reply { status: 200, body: Body::Serialized(bytes), revision: None })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The checked-in `docs/openapi.json` is the document the code generates.
    #[test]
    fn the_checked_in_openapi_document_is_current() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/openapi.json");
        let generated = generate().expect("document");
        let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            checked_in == generated,
            "docs/openapi.json is stale: run `cargo xtask openapi` to write it again from the code"
        );
    }
}
