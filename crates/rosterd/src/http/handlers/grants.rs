//! Resources, grants, groups and custom roles of an account.

use roster_core::ids::Id;
use roster_core::{Operation, PermissionRule, RoleDef, Subject};
use serde::Deserialize;

use super::{Reply, new_id, read_guard};
use crate::http::app::{App, Audit};
use crate::http::problem::ApiError;
use crate::http::request::{Ctx, Req, known_query};

fn audit(account: &str, action: &'static str, target: String) -> Audit {
    Audit::account(account, action, target)
}

fn resource_name(req: &Req) -> Result<String, ApiError> {
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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateResource {
    resource: String,
    #[serde(default)]
    parent: Option<String>,
    #[serde(default)]
    owner: Option<Id>,
}

pub(crate) async fn create_resource(app: &App, ctx: &Ctx, req: &Req) -> Result<Reply, ApiError> {
    let account = req.param("account")?;
    let body: CreateResource = req.json()?;
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
    let revision = app.manage(ctx, operation, audit(account, "resource.create", body.resource.clone())).await?;
    let view = app.engine.read().await.resource(account, &body.resource);
    Reply::written(201, view, revision)
}

pub(crate) async fn get_resource(app: &App, ctx: &Ctx, req: &Req) -> Result<Reply, ApiError> {
    let account = req.param("account")?;
    let name = resource_name(req)?;
    read_guard(app, ctx, account, None).await?;
    let engine = app.engine.read().await;
    let actor = ctx.caller.actor();
    // Read with the type's `.view` only; one the caller may not view does not exist for them.
    let view = engine.resource(account, &name).filter(|_| engine.may_view_resource(&actor, account, &name, ctx.now));
    let mut view =
        view.ok_or_else(|| ApiError::not_found(format!("resource `{name}` does not exist in account `{account}`")))?;
    view.children.retain(|child| engine.may_view_resource(&actor, account, child, ctx.now));
    Reply::ok(view)
}

pub(crate) async fn delete_resource(app: &App, ctx: &Ctx, req: &Req) -> Result<Reply, ApiError> {
    let account = req.param("account")?;
    let name = resource_name(req)?;
    let operation = Operation::DeleteResource { account: account.to_owned(), resource: name.clone() };
    let revision = app.manage(ctx, operation, audit(account, "resource.delete", name.clone())).await?;
    Reply::written(200, serde_json::json!({ "deleted": name }), revision)
}

pub(crate) async fn list_grants(app: &App, ctx: &Ctx, req: &Req) -> Result<Reply, ApiError> {
    let account = req.param("account")?;
    known_query(&req.query, &["resource", "subject"])?;
    read_guard(app, ctx, account, None).await?;
    let items = app.engine.read().await.grants_visible_to(
        &ctx.caller.actor(),
        account,
        req.query.get("resource").map(String::as_str),
        req.query.get("subject").map(String::as_str),
        ctx.now,
    );
    Reply::ok(serde_json::json!({ "items": items }))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateGrant {
    #[serde(default)]
    id: Option<Id>,
    subject: String,
    #[serde(default)]
    resource: Option<String>,
    role: Id,
    #[serde(default)]
    expires_at: Option<i64>,
}

pub(crate) async fn create_grant(app: &App, ctx: &Ctx, req: &Req) -> Result<Reply, ApiError> {
    let account = req.param("account")?;
    let body: CreateGrant = req.json()?;
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
    let revision = app.manage(ctx, operation, audit(account, "grant.create", format!("grant:{grant_id}"))).await?;
    let view = app.engine.read().await.grant(account, &grant_id);
    Reply::written(201, view, revision)
}

pub(crate) async fn delete_grant(app: &App, ctx: &Ctx, req: &Req) -> Result<Reply, ApiError> {
    let account = req.param("account")?;
    let grant = req.param("grant")?;
    let revision = app
        .manage(
            ctx,
            Operation::RevokeGrant { account: account.to_owned(), id: grant.to_owned() },
            audit(account, "grant.delete", format!("grant:{grant}")),
        )
        .await?;
    Reply::written(200, serde_json::json!({ "deleted": grant }), revision)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateGroup {
    id: Id,
}

pub(crate) async fn create_group(app: &App, ctx: &Ctx, req: &Req) -> Result<Reply, ApiError> {
    let account = req.param("account")?;
    let body: CreateGroup = req.json()?;
    let operation = Operation::CreateGroup { account: account.to_owned(), group: body.id.to_string() };
    let revision = app.manage(ctx, operation, audit(account, "group.create", format!("group:{}", body.id))).await?;
    Reply::written(201, serde_json::json!({ "id": body.id, "members": [] }), revision)
}

pub(crate) async fn list_groups(app: &App, ctx: &Ctx, req: &Req) -> Result<Reply, ApiError> {
    let account = req.param("account")?;
    read_guard(app, ctx, account, Some("member.view")).await?;
    let groups = app.engine.read().await.groups_visible_to(&ctx.caller.actor(), account);
    Reply::ok(serde_json::json!({ "items": groups }))
}

pub(crate) async fn put_group_member(app: &App, ctx: &Ctx, req: &Req) -> Result<Reply, ApiError> {
    group_member(app, ctx, req, true).await
}

pub(crate) async fn delete_group_member(app: &App, ctx: &Ctx, req: &Req) -> Result<Reply, ApiError> {
    group_member(app, ctx, req, false).await
}

async fn group_member(app: &App, ctx: &Ctx, req: &Req, add: bool) -> Result<Reply, ApiError> {
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
    let view = app.engine.read().await.group_views(&account).into_iter().find(|g| g.id == group);
    Reply::written(200, view, revision)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateRole {
    id: Id,
    title: String,
    rank: u32,
    permissions: Vec<PermissionRule>,
    #[serde(default)]
    manages: Vec<String>,
}

pub(crate) async fn create_role(app: &App, ctx: &Ctx, req: &Req) -> Result<Reply, ApiError> {
    let account = req.param("account")?;
    let body: CreateRole = req.json()?;
    let role =
        RoleDef { manages: body.manages, ..RoleDef::new(body.id.to_string(), body.title, body.rank, body.permissions) };
    let operation = Operation::DefineRole { account: account.to_owned(), role };
    let revision = app.manage(ctx, operation, audit(account, "role.create", format!("role:{}", body.id))).await?;
    let view = app.engine.read().await.role_views(account).into_iter().find(|r| r.id == *body.id);
    Reply::written(201, view, revision)
}

pub(crate) async fn list_roles(app: &App, ctx: &Ctx, req: &Req) -> Result<Reply, ApiError> {
    let account = req.param("account")?;
    read_guard(app, ctx, account, None).await?;
    Reply::ok(serde_json::json!({ "items": app.engine.read().await.role_views(account) }))
}

pub(crate) async fn delete_role(app: &App, ctx: &Ctx, req: &Req) -> Result<Reply, ApiError> {
    let account = req.param("account")?;
    let role = req.param("role")?;
    let operation = Operation::RemoveRole { account: account.to_owned(), role: role.to_owned() };
    let revision = app.manage(ctx, operation, audit(account, "role.delete", format!("role:{role}"))).await?;
    Reply::written(200, serde_json::json!({ "deleted": role }), revision)
}
