//! The route table of API.md: path patterns (matchit) to endpoints, and the dispatch from
//! an endpoint to its handler.

use hyper::Method;

use super::app::App;
use super::handlers::{Reply, accounts, audit, decisions, grants, invites, members, packs, tokens};
use super::problem::ApiError;
use super::request::{Ctx, Req};

/// Every endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Endpoint {
    Health,
    Ready,
    PacksList,
    PackShow,
    PackMatrix,
    AccountCreate,
    AccountGet,
    AccountChildren,
    PrincipalPut,
    PrincipalGet,
    MembersList,
    MemberAdd,
    MemberGet,
    MemberChangeRole,
    MemberRemove,
    MemberRestore,
    MemberMove,
    TransferOwnership,
    Masquerade,
    InviteCreate,
    InvitesList,
    InviteRevoke,
    InviteAccept,
    ResourceCreate,
    ResourceGet,
    ResourceDelete,
    GrantsList,
    GrantCreate,
    GrantDelete,
    GroupCreate,
    GroupsList,
    GroupMemberPut,
    GroupMemberDelete,
    RoleCreate,
    RolesList,
    RoleDelete,
    Check,
    CheckBatch,
    Permissions,
    LookupResources,
    LookupSubjects,
    AuditList,
    AuditVerify,
    PlatformAuditList,
    PlatformAuditVerify,
    TokenCreate,
    TokenRevoke,
}

use Endpoint as E;

/// Path pattern and the endpoint for each method.
const ROUTES: &[(&str, &[(Method, Endpoint)])] = &[
    ("/healthz", &[(Method::GET, E::Health)]),
    ("/readyz", &[(Method::GET, E::Ready)]),
    ("/v1/packs", &[(Method::GET, E::PacksList)]),
    ("/v1/packs/{pack}", &[(Method::GET, E::PackShow)]),
    ("/v1/packs/{pack}/matrix", &[(Method::GET, E::PackMatrix)]),
    ("/v1/accounts", &[(Method::POST, E::AccountCreate)]),
    ("/v1/accounts/{account}", &[(Method::GET, E::AccountGet)]),
    ("/v1/accounts/{account}/children", &[(Method::GET, E::AccountChildren)]),
    ("/v1/principals/{principal}", &[(Method::PUT, E::PrincipalPut), (Method::GET, E::PrincipalGet)]),
    ("/v1/accounts/{account}/members", &[(Method::GET, E::MembersList), (Method::POST, E::MemberAdd)]),
    (
        "/v1/accounts/{account}/members/{principal}",
        &[(Method::GET, E::MemberGet), (Method::PATCH, E::MemberChangeRole), (Method::DELETE, E::MemberRemove)],
    ),
    ("/v1/accounts/{account}/members/{principal}/restore", &[(Method::POST, E::MemberRestore)]),
    ("/v1/accounts/{account}/members/{principal}/move", &[(Method::POST, E::MemberMove)]),
    ("/v1/accounts/{account}/transfer-ownership", &[(Method::POST, E::TransferOwnership)]),
    ("/v1/accounts/{account}/masquerade", &[(Method::POST, E::Masquerade)]),
    ("/v1/accounts/{account}/invites", &[(Method::POST, E::InviteCreate), (Method::GET, E::InvitesList)]),
    ("/v1/accounts/{account}/invites/{invite}", &[(Method::DELETE, E::InviteRevoke)]),
    ("/v1/invites/accept", &[(Method::POST, E::InviteAccept)]),
    ("/v1/accounts/{account}/resources", &[(Method::POST, E::ResourceCreate)]),
    (
        "/v1/accounts/{account}/resources/{type}/{id}",
        &[(Method::GET, E::ResourceGet), (Method::DELETE, E::ResourceDelete)],
    ),
    ("/v1/accounts/{account}/grants", &[(Method::GET, E::GrantsList), (Method::POST, E::GrantCreate)]),
    ("/v1/accounts/{account}/grants/{grant}", &[(Method::DELETE, E::GrantDelete)]),
    ("/v1/accounts/{account}/groups", &[(Method::POST, E::GroupCreate), (Method::GET, E::GroupsList)]),
    (
        "/v1/accounts/{account}/groups/{group}/members/{principal}",
        &[(Method::PUT, E::GroupMemberPut), (Method::DELETE, E::GroupMemberDelete)],
    ),
    ("/v1/accounts/{account}/roles", &[(Method::POST, E::RoleCreate), (Method::GET, E::RolesList)]),
    ("/v1/accounts/{account}/roles/{role}", &[(Method::DELETE, E::RoleDelete)]),
    ("/v1/check", &[(Method::POST, E::Check)]),
    ("/v1/check/batch", &[(Method::POST, E::CheckBatch)]),
    ("/v1/permissions", &[(Method::POST, E::Permissions)]),
    ("/v1/lookup/resources", &[(Method::POST, E::LookupResources)]),
    ("/v1/lookup/subjects", &[(Method::POST, E::LookupSubjects)]),
    ("/v1/accounts/{account}/audit", &[(Method::GET, E::AuditList)]),
    ("/v1/accounts/{account}/audit/verify", &[(Method::GET, E::AuditVerify)]),
    ("/v1/audit", &[(Method::GET, E::PlatformAuditList)]),
    ("/v1/audit/verify", &[(Method::GET, E::PlatformAuditVerify)]),
    ("/v1/tokens", &[(Method::POST, E::TokenCreate)]),
    ("/v1/tokens/{token}", &[(Method::DELETE, E::TokenRevoke)]),
];

/// The compiled route table.
pub(crate) struct Router {
    inner: matchit::Router<usize>,
}

/// What a path resolves to.
pub(crate) enum Routed {
    /// An endpoint, its pattern (for telemetry) and its path parameters.
    Found(Endpoint, &'static str, Vec<(String, String)>),
    /// The path exists, not with this method.
    WrongMethod(Vec<&'static str>),
    /// No such path.
    NotFound,
}

impl Router {
    pub(crate) fn new() -> Router {
        let mut inner = matchit::Router::new();
        for (index, (pattern, _)) in ROUTES.iter().enumerate() {
            // The table is static; a bad pattern is a programming error caught by every test.
            if let Err(error) = inner.insert(*pattern, index) {
                panic!("route {pattern}: {error}");
            }
        }
        Router { inner }
    }

    pub(crate) fn route(&self, method: &Method, path: &str) -> Routed {
        let Ok(matched) = self.inner.at(path) else { return Routed::NotFound };
        let (pattern, methods) = ROUTES[*matched.value];
        let params = matched.params.iter().map(|(k, v)| (k.to_owned(), v.to_owned())).collect();
        match methods.iter().find(|(m, _)| m == method) {
            Some((_, endpoint)) => Routed::Found(*endpoint, pattern, params),
            None => Routed::WrongMethod(methods.iter().map(|(m, _)| m.as_str()).collect()),
        }
    }
}

/// Runs an endpoint's handler.
pub(crate) async fn dispatch(app: &App, ctx: &Ctx, endpoint: Endpoint, req: &Req) -> Result<Reply, ApiError> {
    match endpoint {
        E::Health => Reply::ok(serde_json::json!({ "status": "ok" })),
        E::Ready => packs::ready(app).await,
        E::PacksList => packs::list(app),
        E::PackShow => packs::show(app, req),
        E::PackMatrix => packs::matrix(app, req),
        E::AccountCreate => accounts::create(app, ctx, req).await,
        E::AccountGet => accounts::get(app, ctx, req).await,
        E::AccountChildren => accounts::children(app, ctx, req).await,
        E::PrincipalPut => accounts::put_principal(app, ctx, req).await,
        E::PrincipalGet => accounts::get_principal(app, ctx, req).await,
        E::MembersList => members::list(app, ctx, req).await,
        E::MemberAdd => members::add(app, ctx, req).await,
        E::MemberGet => members::get(app, ctx, req).await,
        E::MemberChangeRole => members::change_role(app, ctx, req).await,
        E::MemberRemove => members::remove(app, ctx, req).await,
        E::MemberRestore => members::restore(app, ctx, req).await,
        E::MemberMove => members::move_member(app, ctx, req).await,
        E::TransferOwnership => members::transfer(app, ctx, req).await,
        E::Masquerade => members::masquerade(app, ctx, req).await,
        E::InviteCreate => invites::create(app, ctx, req).await,
        E::InvitesList => invites::list(app, ctx, req).await,
        E::InviteRevoke => invites::revoke(app, ctx, req).await,
        E::InviteAccept => invites::accept(app, ctx, req).await,
        E::ResourceCreate => grants::create_resource(app, ctx, req).await,
        E::ResourceGet => grants::get_resource(app, ctx, req).await,
        E::ResourceDelete => grants::delete_resource(app, ctx, req).await,
        E::GrantsList => grants::list_grants(app, ctx, req).await,
        E::GrantCreate => grants::create_grant(app, ctx, req).await,
        E::GrantDelete => grants::delete_grant(app, ctx, req).await,
        E::GroupCreate => grants::create_group(app, ctx, req).await,
        E::GroupsList => grants::list_groups(app, ctx, req).await,
        E::GroupMemberPut => grants::put_group_member(app, ctx, req).await,
        E::GroupMemberDelete => grants::delete_group_member(app, ctx, req).await,
        E::RoleCreate => grants::create_role(app, ctx, req).await,
        E::RolesList => grants::list_roles(app, ctx, req).await,
        E::RoleDelete => grants::delete_role(app, ctx, req).await,
        E::Check => decisions::check(app, ctx, req).await,
        E::CheckBatch => decisions::batch(app, ctx, req).await,
        E::Permissions => decisions::permissions(app, ctx, req).await,
        E::LookupResources => decisions::lookup_resources(app, ctx, req).await,
        E::LookupSubjects => decisions::lookup_subjects(app, ctx, req).await,
        E::AuditList => audit::list(app, ctx, req).await,
        E::AuditVerify => audit::verify(app, ctx, req).await,
        E::PlatformAuditList => audit::platform_list(app, ctx, req).await,
        E::PlatformAuditVerify => audit::platform_verify(app, ctx, req).await,
        E::TokenCreate => tokens::create(app, ctx, req).await,
        E::TokenRevoke => tokens::revoke(app, ctx, req).await,
    }
}

impl Endpoint {
    /// Endpoints outside `/v1` that need no token.
    pub(crate) fn is_public(self) -> bool {
        matches!(self, E::Health | E::Ready)
    }
}
