//! Resources, grants, groups and custom roles of an account.

use std::sync::Arc;

use axum::extract::State;
use roster_core::engine::{GrantView, GroupView, ResourceView, RoleView};
use roster_core::ids::Id;
use roster_core::{Operation, PermissionRule, RoleDef, Subject};
use serde::Deserialize;

use super::{Deleted, PAGE, Page, Reply, Written, new_id, read_guard};
use crate::http::app::{App, Audit};
use crate::http::extract::{Ctx, Json, Params, Query};
use crate::http::problem::{ApiError, Code};

fn audit(account: &str, action: &'static str, target: String) -> Audit {
    Audit::account(account, action, target)
}

/// What was just written is not in the engine: it cannot happen while writes are
/// serialised, and is not answered as if it had not been written.
fn gone() -> ApiError {
    ApiError::new(Code::Internal, "the write was committed but its result could not be read back")
}

fn resource_name(req: &Params) -> Result<String, ApiError> {
    let ty = req.param("type")?;
    let rid = req.param("id")?;
    Ok(format!("{ty}:{rid}"))
}

fn check_resource(field: &str, resource: &str) -> Result<(), ApiError> {
    if resource == roster_core::ids::ACCOUNT_RESOURCE {
        return Ok(());
    }
    match roster_core::ids::split_resource(resource) {
        Some((ty, rid)) if roster_core::ids::is_valid_id(ty) && roster_core::ids::is_valid_id(rid) => Ok(()),
        _ => Err(ApiError::invalid(format!("{field}: `{resource}` must be `<type>:<id>` or `account`"))),
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateResource {
    #[schema(pattern = r"^(account|[A-Za-z0-9_.@-]{1,128}:[A-Za-z0-9_.:@-]{1,128})$")]
    resource: String,
    #[schema(pattern = r"^(account|[A-Za-z0-9_.@-]{1,128}:[A-Za-z0-9_.:@-]{1,128})$")]
    #[serde(default)]
    parent: Option<String>,
    #[schema(value_type = Option<String>, pattern = r"^[A-Za-z0-9_.:@-]{1,128}$")]
    #[serde(default)]
    owner: Option<Id>,
}

/// Registers a resource (with its parent and owner).
#[utoipa::path(post, path = "/v1/accounts/{account}/resources", tag = "grants", params(("account" = String, Path, description = "Account id", example = "acme")), request_body = CreateResource,
    responses((status = 201, description = "The resource", body = Written<ResourceView>)))]
pub(crate) async fn create_resource(
    State(app): State<Arc<App>>,
    ctx: Ctx,
    req: Params,
    Json(body): Json<CreateResource>,
) -> Result<Reply, ApiError> {
    let account = req.param("account")?;
    check_resource("resource", &body.resource)?;
    if let Some(parent) = &body.parent {
        check_resource("parent", parent)?;
    }
    let operation = Operation::CreateResource {
        account: account.to_owned(),
        resource: body.resource.clone(),
        parent: body.parent,
        owner: body.owner.map(String::from),
    };
    let revision = app.manage(&ctx, operation, audit(account, "resource.create", body.resource.clone())).await?;
    let view = app.engine.read().await.resource(account, &body.resource).ok_or_else(gone)?;
    Reply::written(201, view, revision)
}

/// One resource.
#[utoipa::path(get, path = "/v1/accounts/{account}/resources/{type}/{id}", tag = "grants", params(("account" = String, Path, description = "Account id", example = "acme"), ("type" = String, Path, description = "Resource type"), ("id" = String, Path, description = "Resource id")),
    responses((status = 200, description = "The resource", body = ResourceView)))]
pub(crate) async fn get_resource(State(app): State<Arc<App>>, ctx: Ctx, req: Params) -> Result<Reply, ApiError> {
    let account = req.param("account")?;
    let name = resource_name(&req)?;
    read_guard(&app, &ctx, account, None).await?;
    let engine = app.engine.read().await;
    let actor = ctx.caller.actor();
    // Read with the type's `.view` only; one the caller may not view does not exist for them.
    let view = engine.resource(account, &name).filter(|_| engine.may_view_resource(&actor, account, &name, ctx.now));
    let mut view =
        view.ok_or_else(|| ApiError::not_found(format!("resource `{name}` does not exist in account `{account}`")))?;
    view.children.retain(|child| engine.may_view_resource(&actor, account, child, ctx.now));
    Reply::ok(view)
}

/// Deletes a resource, its descendants and the grants on them.
#[utoipa::path(delete, path = "/v1/accounts/{account}/resources/{type}/{id}", tag = "grants", params(("account" = String, Path, description = "Account id", example = "acme"), ("type" = String, Path, description = "Resource type"), ("id" = String, Path, description = "Resource id")),
    responses((status = 200, description = "Deleted", body = Written<Deleted>)))]
pub(crate) async fn delete_resource(State(app): State<Arc<App>>, ctx: Ctx, req: Params) -> Result<Reply, ApiError> {
    let account = req.param("account")?;
    let name = resource_name(&req)?;
    let operation = Operation::DeleteResource { account: account.to_owned(), resource: name.clone() };
    let revision = app.manage(&ctx, operation, audit(account, "resource.delete", name.clone())).await?;
    Reply::written(200, Deleted { deleted: name }, revision)
}

/// The grants the caller may see.
#[utoipa::path(get, path = "/v1/accounts/{account}/grants", tag = "grants",
    params(("account" = String, Path, description = "Account id", example = "acme"), ("resource" = Option<String>, Query, description = "Only grants on this resource"),
        ("subject" = Option<String>, Query, description = "Only grants to this subject (`principal:<id>` or `group:<id>`)"),
        ("cursor" = Option<String>, Query, description = "`next_cursor` of the previous page"), ("limit" = Option<u64>, Query, description = "Page size, 1-500 (default 50)")),
    responses((status = 200, description = "The grants", body = Page<GrantView>)))]
pub(crate) async fn list_grants(
    State(app): State<Arc<App>>,
    ctx: Ctx,
    req: Params,
    query: Query,
) -> Result<Reply, ApiError> {
    let account = req.param("account")?;
    query.known(&["resource", "subject", "cursor", "limit"])?;
    let request = query.page(PAGE.0, PAGE.1)?;
    read_guard(&app, &ctx, account, None).await?;
    let filter = (query.get("resource").map(String::as_str), query.get("subject").map(String::as_str));
    let page = app.engine.read().await.grants_page_for(&ctx.caller.actor(), account, filter, request, ctx.now);
    Reply::ok(Page::from(page))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateGrant {
    #[schema(value_type = Option<String>, pattern = r"^[A-Za-z0-9_.:@-]{1,128}$")]
    #[serde(default)]
    id: Option<Id>,
    #[schema(pattern = r"^(principal|group):[A-Za-z0-9_.:@-]{1,128}$")]
    subject: String,
    #[schema(pattern = r"^(account|[A-Za-z0-9_.@-]{1,128}:[A-Za-z0-9_.:@-]{1,128})$")]
    #[serde(default)]
    resource: Option<String>,
    #[schema(value_type = String, pattern = r"^[A-Za-z0-9_.:@-]{1,128}$")]
    role: Id,
    #[serde(default)]
    expires_at: Option<i64>,
}

/// Grants a role on a resource (or the account) to a principal or group.
#[utoipa::path(post, path = "/v1/accounts/{account}/grants", tag = "grants", params(("account" = String, Path, description = "Account id", example = "acme")), request_body = CreateGrant,
    responses((status = 201, description = "The grant", body = Written<GrantView>)))]
pub(crate) async fn create_grant(
    State(app): State<Arc<App>>,
    ctx: Ctx,
    req: Params,
    Json(body): Json<CreateGrant>,
) -> Result<Reply, ApiError> {
    let account = req.param("account")?;
    let subject: Subject = body.subject.parse().map_err(|e: String| ApiError::invalid(format!("subject: {e}")))?;
    if let Some(resource) = &body.resource {
        check_resource("resource", resource)?;
    }
    let grant_id = match body.id {
        Some(given) => given.into(),
        None => new_id("g")?,
    };
    let operation = Operation::Grant {
        id: grant_id.clone(),
        account: account.to_owned(),
        subject,
        resource: body.resource.clone(),
        role: body.role.into(),
        expires_at: body.expires_at,
    };
    let revision = app.manage(&ctx, operation, audit(account, "grant.create", format!("grant:{grant_id}"))).await?;
    let view = app.engine.read().await.grant(account, &grant_id).ok_or_else(gone)?;
    Reply::written(201, view, revision)
}

/// Revokes a grant.
#[utoipa::path(delete, path = "/v1/accounts/{account}/grants/{grant}", tag = "grants",
    params(("account" = String, Path, description = "Account id", example = "acme"), ("grant" = String, Path, description = "Grant id")),
    responses((status = 200, description = "Deleted", body = Written<Deleted>)))]
pub(crate) async fn delete_grant(State(app): State<Arc<App>>, ctx: Ctx, req: Params) -> Result<Reply, ApiError> {
    let account = req.param("account")?;
    let grant = req.param("grant")?;
    let revision = app
        .manage(
            &ctx,
            Operation::RevokeGrant { account: account.to_owned(), id: grant.to_owned() },
            audit(account, "grant.delete", format!("grant:{grant}")),
        )
        .await?;
    Reply::written(200, Deleted { deleted: grant.to_owned() }, revision)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateGroup {
    #[schema(value_type = String, pattern = r"^[A-Za-z0-9_.:@-]{1,128}$")]
    id: Id,
}

/// Creates a group.
#[utoipa::path(post, path = "/v1/accounts/{account}/groups", tag = "grants", params(("account" = String, Path, description = "Account id", example = "acme")), request_body = CreateGroup,
    responses((status = 201, description = "The group", body = Written<GroupView>)))]
pub(crate) async fn create_group(
    State(app): State<Arc<App>>,
    ctx: Ctx,
    req: Params,
    Json(body): Json<CreateGroup>,
) -> Result<Reply, ApiError> {
    let account = req.param("account")?;
    let operation = Operation::CreateGroup { account: account.to_owned(), group: body.id.to_string() };
    let revision = app.manage(&ctx, operation, audit(account, "group.create", format!("group:{}", body.id))).await?;
    Reply::written(201, GroupView { id: body.id.to_string(), members: Vec::new() }, revision)
}

/// The account's groups.
#[utoipa::path(get, path = "/v1/accounts/{account}/groups", tag = "grants", params(("account" = String, Path, description = "Account id", example = "acme"), ("cursor" = Option<String>, Query, description = "`next_cursor` of the previous page"), ("limit" = Option<u64>, Query, description = "Page size, 1-500 (default 50)")),
    responses((status = 200, description = "The groups", body = Page<GroupView>)))]
pub(crate) async fn list_groups(
    State(app): State<Arc<App>>,
    ctx: Ctx,
    req: Params,
    query: Query,
) -> Result<Reply, ApiError> {
    let account = req.param("account")?;
    query.known(&["cursor", "limit"])?;
    let request = query.page(PAGE.0, PAGE.1)?;
    read_guard(&app, &ctx, account, Some("member.view")).await?;
    let page = app.engine.read().await.groups_page_for(&ctx.caller.actor(), account, request);
    Reply::ok(Page::from(page))
}

/// Adds a member to a group.
#[utoipa::path(put, path = "/v1/accounts/{account}/groups/{group}/members/{principal}", tag = "grants",
    params(("account" = String, Path, description = "Account id", example = "acme"), ("group" = String, Path, description = "Group id", example = "crew"), ("principal" = String, Path, description = "Principal id", example = "member-1")),
    responses((status = 200, description = "The group", body = Written<GroupView>)))]
pub(crate) async fn put_group_member(State(app): State<Arc<App>>, ctx: Ctx, req: Params) -> Result<Reply, ApiError> {
    group_member(&app, &ctx, &req, true).await
}

/// Removes a member from a group.
#[utoipa::path(delete, path = "/v1/accounts/{account}/groups/{group}/members/{principal}", tag = "grants",
    params(("account" = String, Path, description = "Account id", example = "acme"), ("group" = String, Path, description = "Group id", example = "crew"), ("principal" = String, Path, description = "Principal id", example = "member-1")),
    responses((status = 200, description = "The group", body = Written<GroupView>)))]
pub(crate) async fn delete_group_member(State(app): State<Arc<App>>, ctx: Ctx, req: Params) -> Result<Reply, ApiError> {
    group_member(&app, &ctx, &req, false).await
}

async fn group_member(app: &Arc<App>, ctx: &Ctx, req: &Params, add: bool) -> Result<Reply, ApiError> {
    let account = req.param("account")?.to_owned();
    let group = req.param("group")?.to_owned();
    let principal = req.param("principal")?.to_owned();
    let (operation, action) = if add {
        (
            Operation::AddGroupMember { account: account.clone(), group: group.clone(), principal: principal.clone() },
            "group.member.add",
        )
    } else {
        (
            Operation::RemoveGroupMember {
                account: account.clone(),
                group: group.clone(),
                principal: principal.clone(),
            },
            "group.member.remove",
        )
    };
    let revision =
        app.manage(ctx, operation, audit(&account, action, format!("group:{group}/principal:{principal}"))).await?;
    let view = app.engine.read().await.group_views(&account).into_iter().find(|g| g.id == group).ok_or_else(gone)?;
    Reply::written(200, view, revision)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateRole {
    #[schema(value_type = String, pattern = r"^[A-Za-z0-9_.:@-]{1,128}$")]
    id: Id,
    title: String,
    rank: u32,
    #[schema(value_type = Vec<String>, example = json!(["pickaxe.view", "pickaxe.update:owner"]))]
    permissions: Vec<PermissionRule>,
    #[serde(default)]
    manages: Vec<String>,
}

/// Defines a custom role.
#[utoipa::path(post, path = "/v1/accounts/{account}/roles", tag = "grants", params(("account" = String, Path, description = "Account id", example = "acme")), request_body = CreateRole,
    responses((status = 201, description = "The role", body = Written<RoleView>)))]
pub(crate) async fn create_role(
    State(app): State<Arc<App>>,
    ctx: Ctx,
    req: Params,
    Json(body): Json<CreateRole>,
) -> Result<Reply, ApiError> {
    let account = req.param("account")?;
    let role =
        RoleDef { manages: body.manages, ..RoleDef::new(body.id.to_string(), body.title, body.rank, body.permissions) };
    let operation = Operation::DefineRole { account: account.to_owned(), role };
    let revision = app.manage(&ctx, operation, audit(account, "role.create", format!("role:{}", body.id))).await?;
    let view = app.engine.read().await.role_views(account).into_iter().find(|r| r.id == *body.id).ok_or_else(gone)?;
    Reply::written(201, view, revision)
}

/// The roles usable in the account, by rank.
#[utoipa::path(get, path = "/v1/accounts/{account}/roles", tag = "grants", params(("account" = String, Path, description = "Account id", example = "acme"), ("cursor" = Option<String>, Query, description = "`next_cursor` of the previous page"), ("limit" = Option<u64>, Query, description = "Page size, 1-500 (default 50)")),
    responses((status = 200, description = "The roles", body = Page<RoleView>)))]
pub(crate) async fn list_roles(
    State(app): State<Arc<App>>,
    ctx: Ctx,
    req: Params,
    query: Query,
) -> Result<Reply, ApiError> {
    let account = req.param("account")?;
    query.known(&["cursor", "limit"])?;
    let request = query.page(PAGE.0, PAGE.1)?;
    read_guard(&app, &ctx, account, None).await?;
    let page = app.engine.read().await.roles_page(account, request);
    Reply::ok(Page::from(page.ok_or_else(|| ApiError::invalid("cursor: must be a cursor from a previous page"))?))
}

/// Deletes a custom role.
#[utoipa::path(delete, path = "/v1/accounts/{account}/roles/{role}", tag = "grants",
    params(("account" = String, Path, description = "Account id", example = "acme"), ("role" = String, Path, description = "Role id")),
    responses((status = 200, description = "Deleted", body = Written<Deleted>)))]
pub(crate) async fn delete_role(State(app): State<Arc<App>>, ctx: Ctx, req: Params) -> Result<Reply, ApiError> {
    let account = req.param("account")?;
    let role = req.param("role")?;
    let operation = Operation::RemoveRole { account: account.to_owned(), role: role.to_owned() };
    let revision = app.manage(&ctx, operation, audit(account, "role.delete", format!("role:{role}"))).await?;
    Reply::written(200, Deleted { deleted: role.to_owned() }, revision)
}
