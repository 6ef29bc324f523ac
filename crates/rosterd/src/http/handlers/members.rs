//! Members: add, list, get, change role, remove / restore / purge, move; ownership
//! transfer and masquerade. Every write goes through the core's management rules.

use std::sync::Arc;

use axum::extract::State;
use roster_core::engine::{MembershipStatus, MembershipView};
use roster_core::ids::Id;
use roster_core::{Actor, Operation};
use serde::{Deserialize, Serialize};

use super::{PAGE, Page, Reply, Written, read_guard};
use crate::http::app::{App, Audit};
use crate::http::extract::{Ctx, Json, Params, Query};
use crate::http::problem::ApiError;

fn audit(account: &str, action: &'static str, principal: &str) -> Audit {
    Audit::account(account, action, format!("principal:{principal}"))
}

/// A principal's membership in an account (none once purged).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct MemberOut {
    account: String,
    membership: Option<MembershipView>,
}

/// The answer to a masquerade request.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct MasqueradeOut {
    account: String,
    target: String,
    /// Always `true`: a refusal is a problem.
    allowed: bool,
}

async fn member_view(app: &App, account: &str, principal: &str) -> MemberOut {
    let membership = app.engine.read().await.membership(account, principal);
    MemberOut { account: account.to_owned(), membership }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AddMember {
    #[schema(value_type = String, pattern = r"^[A-Za-z0-9_.:@-]{1,128}$")]
    principal: Id,
    #[schema(value_type = Option<String>, pattern = r"^[A-Za-z0-9_.:@-]{1,128}$")]
    #[serde(default)]
    role: Option<Id>,
    #[serde(default)]
    external: bool,
    #[serde(default)]
    expires_at: Option<i64>,
}

/// Adds a member (or an external member) with a role.
#[utoipa::path(post, path = "/v1/accounts/{account}/members", tag = "members", params(("account" = String, Path, description = "Account id", example = "acme")), request_body = AddMember,
    responses((status = 201, description = "The membership", body = Written<MemberOut>)))]
pub(crate) async fn add(
    State(app): State<Arc<App>>,
    ctx: Ctx,
    req: Params,
    Json(body): Json<AddMember>,
) -> Result<Reply, ApiError> {
    let account = req.param("account")?;
    let operation = Operation::AddMember {
        account: account.to_owned(),
        principal: body.principal.to_string(),
        role: body.role.map(String::from),
        external: body.external,
        expires_at: body.expires_at,
    };
    let revision = app.manage(&ctx, operation, audit(account, "member.add", &body.principal)).await?;
    Reply::written(201, member_view(&app, account, &body.principal).await, revision)
}

/// The members the caller may see, by principal id.
#[utoipa::path(get, path = "/v1/accounts/{account}/members", tag = "members",
    params(("account" = String, Path, description = "Account id", example = "acme"), ("status" = Option<String>, Query, description = "`active` (default) or `removed`"),
        ("cursor" = Option<String>, Query, description = "`next_cursor` of the previous page"),
        ("limit" = Option<u64>, Query, description = "Page size, 1-500 (default 50)")),
    responses((status = 200, description = "One page of memberships", body = Page<MembershipView>)))]
pub(crate) async fn list(State(app): State<Arc<App>>, ctx: Ctx, req: Params, query: Query) -> Result<Reply, ApiError> {
    let account = req.param("account")?;
    query.known(&["status", "cursor", "limit"])?;
    let status = match query.get("status").map(String::as_str) {
        None | Some("active") => MembershipStatus::Active,
        Some("removed") => MembershipStatus::Removed,
        Some(other) => return Err(ApiError::invalid(format!("status: `{other}` must be `active` or `removed`"))),
    };
    let request = query.page(PAGE.0, PAGE.1)?;
    read_guard(&app, &ctx, account, Some("member.view")).await?;
    let page = app.engine.read().await.members_page_for(&ctx.caller.actor(), account, status, request);
    Reply::ok(Page::from(page))
}

/// One membership.
#[utoipa::path(get, path = "/v1/accounts/{account}/members/{principal}", tag = "members", params(("account" = String, Path, description = "Account id", example = "acme"), ("principal" = String, Path, description = "Principal id", example = "member-1")),
    responses((status = 200, description = "The membership", body = MemberOut)))]
pub(crate) async fn get(State(app): State<Arc<App>>, ctx: Ctx, req: Params) -> Result<Reply, ApiError> {
    let account = req.param("account")?;
    let principal = req.param("principal")?;
    read_guard(&app, &ctx, account, None).await?;
    let is_self = matches!(ctx.caller.actor(), Actor::Principal(ref me) if me == principal);
    if !is_self {
        let view = Operation::ViewMember { account: account.to_owned(), principal: principal.to_owned() };
        app.engine.read().await.plan(&ctx.caller.actor(), &view, ctx.now)?;
    }
    let engine = app.engine.read().await;
    let membership = engine
        .membership(account, principal)
        .ok_or_else(|| ApiError::not_found(format!("`{principal}` is not a member of account `{account}`")))?;
    Reply::ok(MemberOut { account: account.to_owned(), membership: Some(membership) })
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ChangeRole {
    #[schema(value_type = String, pattern = r"^[A-Za-z0-9_.:@-]{1,128}$")]
    role: Id,
}

/// Changes a member's role.
#[utoipa::path(patch, path = "/v1/accounts/{account}/members/{principal}", tag = "members", params(("account" = String, Path, description = "Account id", example = "acme"), ("principal" = String, Path, description = "Principal id", example = "member-1")),
    request_body = ChangeRole, responses((status = 200, description = "The membership", body = Written<MemberOut>)))]
pub(crate) async fn change_role(
    State(app): State<Arc<App>>,
    ctx: Ctx,
    req: Params,
    Json(body): Json<ChangeRole>,
) -> Result<Reply, ApiError> {
    let account = req.param("account")?;
    let principal = req.param("principal")?;
    let operation =
        Operation::ChangeRole { account: account.to_owned(), principal: principal.to_owned(), role: body.role.into() };
    let revision = app.manage(&ctx, operation, audit(account, "member.role.change", principal)).await?;
    Reply::written(200, member_view(&app, account, principal).await, revision)
}

/// Removes a member (restorable), or with `purge=true` deletes the membership and its grants.
#[utoipa::path(delete, path = "/v1/accounts/{account}/members/{principal}", tag = "members",
    params(("account" = String, Path, description = "Account id", example = "acme"), ("principal" = String, Path, description = "Principal id", example = "member-1"), ("purge" = Option<bool>, Query, description = "Delete for good")),
    responses((status = 200, description = "The membership as left", body = Written<MemberOut>)))]
pub(crate) async fn remove(
    State(app): State<Arc<App>>,
    ctx: Ctx,
    req: Params,
    query: Query,
) -> Result<Reply, ApiError> {
    let account = req.param("account")?;
    let principal = req.param("principal")?;
    query.known(&["purge"])?;
    let purge = match query.get("purge").map(String::as_str) {
        None | Some("false") => false,
        Some("true") => true,
        Some(other) => return Err(ApiError::invalid(format!("purge: `{other}` must be `true` or `false`"))),
    };
    let (operation, action) = if purge {
        (Operation::PurgeMember { account: account.to_owned(), principal: principal.to_owned() }, "member.purge")
    } else {
        (Operation::RemoveMember { account: account.to_owned(), principal: principal.to_owned() }, "member.remove")
    };
    let revision = app.manage(&ctx, operation, audit(account, action, principal)).await?;
    Reply::written(200, member_view(&app, account, principal).await, revision)
}

/// Restores a removed member.
#[utoipa::path(post, path = "/v1/accounts/{account}/members/{principal}/restore", tag = "members", params(("account" = String, Path, description = "Account id", example = "acme"), ("principal" = String, Path, description = "Principal id", example = "member-1")),
    responses((status = 200, description = "The membership", body = Written<MemberOut>)))]
pub(crate) async fn restore(State(app): State<Arc<App>>, ctx: Ctx, req: Params) -> Result<Reply, ApiError> {
    let account = req.param("account")?;
    let principal = req.param("principal")?;
    let operation = Operation::RestoreMember { account: account.to_owned(), principal: principal.to_owned() };
    let revision = app.manage(&ctx, operation, audit(account, "member.restore", principal)).await?;
    Reply::written(200, member_view(&app, account, principal).await, revision)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Move {
    #[schema(value_type = String, pattern = r"^[A-Za-z0-9_.:@-]{1,128}$")]
    to_account: Id,
    #[schema(value_type = Option<String>, pattern = r"^[A-Za-z0-9_.:@-]{1,128}$")]
    #[serde(default)]
    role: Option<Id>,
}

/// Moves a member to another account of the same organisation.
#[utoipa::path(post, path = "/v1/accounts/{account}/members/{principal}/move", tag = "members", params(("account" = String, Path, description = "Account id", example = "acme"), ("principal" = String, Path, description = "Principal id", example = "member-1")),
    request_body = Move, responses((status = 200, description = "The new membership", body = Written<MemberOut>)))]
pub(crate) async fn move_member(
    State(app): State<Arc<App>>,
    ctx: Ctx,
    req: Params,
    Json(body): Json<Move>,
) -> Result<Reply, ApiError> {
    let account = req.param("account")?;
    let principal = req.param("principal")?;
    let operation = Operation::MoveMember {
        from: account.to_owned(),
        to: body.to_account.to_string(),
        principal: principal.to_owned(),
        role: body.role.map(String::from),
    };
    let revision = app.manage(&ctx, operation, audit(account, "member.move", principal)).await?;
    Reply::written(200, member_view(&app, &body.to_account, principal).await, revision)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Transfer {
    #[schema(value_type = String, pattern = r"^[A-Za-z0-9_.:@-]{1,128}$")]
    to: Id,
}

/// Transfers ownership of the account.
#[utoipa::path(post, path = "/v1/accounts/{account}/transfer-ownership", tag = "members", params(("account" = String, Path, description = "Account id", example = "acme")),
    request_body = Transfer, responses((status = 200, description = "The new owner's membership", body = Written<MemberOut>)))]
pub(crate) async fn transfer(
    State(app): State<Arc<App>>,
    ctx: Ctx,
    req: Params,
    Json(body): Json<Transfer>,
) -> Result<Reply, ApiError> {
    let account = req.param("account")?;
    let operation = Operation::TransferOwnership { account: account.to_owned(), to: body.to.to_string() };
    let revision = app.manage(&ctx, operation, audit(account, "ownership.transfer", &body.to)).await?;
    Reply::written(200, member_view(&app, account, &body.to).await, revision)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Masquerade {
    #[schema(value_type = String, pattern = r"^[A-Za-z0-9_.:@-]{1,128}$")]
    target: Id,
}

/// Asks to act as another member (recorded in the audit trail).
#[utoipa::path(post, path = "/v1/accounts/{account}/masquerade", tag = "members", params(("account" = String, Path, description = "Account id", example = "acme")),
    request_body = Masquerade, responses((status = 200, description = "Allowed (and recorded)", body = Written<MasqueradeOut>)))]
pub(crate) async fn masquerade(
    State(app): State<Arc<App>>,
    ctx: Ctx,
    req: Params,
    Json(body): Json<Masquerade>,
) -> Result<Reply, ApiError> {
    let account = req.param("account")?;
    let operation = Operation::Masquerade { account: account.to_owned(), target: body.target.to_string() };
    let revision = app.manage(&ctx, operation, audit(account, "member.masquerade", &body.target)).await?;
    let out = MasqueradeOut { account: account.to_owned(), target: body.target.to_string(), allowed: true };
    Reply::written(200, out, revision)
}
