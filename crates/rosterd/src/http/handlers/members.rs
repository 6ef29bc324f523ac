//! Members: add, list, get, change role, remove / restore / purge, move; ownership
//! transfer and masquerade. Every write goes through the core's management rules.

use roster_core::engine::MembershipStatus;
use roster_core::ids::Id;
use roster_core::{Actor, Operation};
use serde::Deserialize;

use super::{Reply, read_guard};
use crate::http::app::{App, Audit};
use crate::http::problem::ApiError;
use crate::http::request::{Ctx, Req, known_query, query_number};

fn audit(account: &str, action: &'static str, principal: &str) -> Audit {
    Audit::account(account, action, format!("principal:{principal}"))
}

async fn member_view(app: &App, account: &str, principal: &str) -> serde_json::Value {
    let membership = app.engine.read().await.membership(account, principal);
    serde_json::json!({ "account": account, "membership": membership })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AddMember {
    principal: Id,
    #[serde(default)]
    role: Option<Id>,
    #[serde(default)]
    external: bool,
    #[serde(default)]
    expires_at: Option<i64>,
}

pub(crate) async fn add(app: &App, ctx: &Ctx, req: &Req) -> Result<Reply, ApiError> {
    let account = req.param("account")?;
    let body: AddMember = req.json()?;
    let operation = Operation::AddMember {
        account: account.to_owned(),
        principal: body.principal.to_string(),
        role: body.role.map(String::from),
        external: body.external,
        expires_at: body.expires_at,
    };
    let revision = app.manage(ctx, operation, audit(account, "member.add", &body.principal)).await?;
    Reply::written(201, member_view(app, account, &body.principal).await, revision)
}

pub(crate) async fn list(app: &App, ctx: &Ctx, req: &Req) -> Result<Reply, ApiError> {
    let account = req.param("account")?;
    known_query(&req.query, &["status", "cursor", "limit"])?;
    let status = match req.query.get("status").map(String::as_str) {
        None | Some("active") => MembershipStatus::Active,
        Some("removed") => MembershipStatus::Removed,
        Some(other) => return Err(ApiError::invalid(format!("status: `{other}` must be `active` or `removed`"))),
    };
    let limit = query_number(&req.query, "limit", 50, 500)? as usize;
    read_guard(app, ctx, account, Some("member.view")).await?;
    let engine = app.engine.read().await;
    let actor = ctx.caller.actor();
    let cursor = req.query.get("cursor").cloned().unwrap_or_default();
    let mut items: Vec<_> = engine
        .memberships(account, status)
        .into_iter()
        .filter(|m| m.principal > cursor && engine.member_visible_to(&actor, account, &m.principal))
        .take(limit + 1)
        .collect();
    let next_cursor = (items.len() > limit).then(|| {
        items.truncate(limit);
        items.last().map(|m| m.principal.clone())
    });
    Reply::ok(serde_json::json!({ "items": items, "next_cursor": next_cursor.flatten() }))
}

pub(crate) async fn get(app: &App, ctx: &Ctx, req: &Req) -> Result<Reply, ApiError> {
    let account = req.param("account")?;
    let principal = req.param("principal")?;
    read_guard(app, ctx, account, None).await?;
    let is_self = matches!(ctx.caller.actor(), Actor::Principal(ref me) if me == principal);
    if !is_self {
        let view = Operation::ViewMember { account: account.to_owned(), principal: principal.to_owned() };
        app.engine.read().await.plan(&ctx.caller.actor(), &view, ctx.now)?;
    }
    let engine = app.engine.read().await;
    let membership = engine
        .membership(account, principal)
        .ok_or_else(|| ApiError::not_found(format!("`{principal}` is not a member of account `{account}`")))?;
    Reply::ok(serde_json::json!({ "account": account, "membership": membership }))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ChangeRole {
    role: Id,
}

pub(crate) async fn change_role(app: &App, ctx: &Ctx, req: &Req) -> Result<Reply, ApiError> {
    let account = req.param("account")?;
    let principal = req.param("principal")?;
    let body: ChangeRole = req.json()?;
    let operation =
        Operation::ChangeRole { account: account.to_owned(), principal: principal.to_owned(), role: body.role.into() };
    let revision = app.manage(ctx, operation, audit(account, "member.role.change", principal)).await?;
    Reply::written(200, member_view(app, account, principal).await, revision)
}

pub(crate) async fn remove(app: &App, ctx: &Ctx, req: &Req) -> Result<Reply, ApiError> {
    let account = req.param("account")?;
    let principal = req.param("principal")?;
    known_query(&req.query, &["purge"])?;
    let purge = match req.query.get("purge").map(String::as_str) {
        None | Some("false") => false,
        Some("true") => true,
        Some(other) => return Err(ApiError::invalid(format!("purge: `{other}` must be `true` or `false`"))),
    };
    let (operation, action) = if purge {
        (Operation::PurgeMember { account: account.to_owned(), principal: principal.to_owned() }, "member.purge")
    } else {
        (Operation::RemoveMember { account: account.to_owned(), principal: principal.to_owned() }, "member.remove")
    };
    let revision = app.manage(ctx, operation, audit(account, action, principal)).await?;
    Reply::written(200, member_view(app, account, principal).await, revision)
}

pub(crate) async fn restore(app: &App, ctx: &Ctx, req: &Req) -> Result<Reply, ApiError> {
    let account = req.param("account")?;
    let principal = req.param("principal")?;
    let operation = Operation::RestoreMember { account: account.to_owned(), principal: principal.to_owned() };
    let revision = app.manage(ctx, operation, audit(account, "member.restore", principal)).await?;
    Reply::written(200, member_view(app, account, principal).await, revision)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Move {
    to_account: Id,
    #[serde(default)]
    role: Option<Id>,
}

pub(crate) async fn move_member(app: &App, ctx: &Ctx, req: &Req) -> Result<Reply, ApiError> {
    let account = req.param("account")?;
    let principal = req.param("principal")?;
    let body: Move = req.json()?;
    let operation = Operation::MoveMember {
        from: account.to_owned(),
        to: body.to_account.to_string(),
        principal: principal.to_owned(),
        role: body.role.map(String::from),
    };
    let revision = app.manage(ctx, operation, audit(account, "member.move", principal)).await?;
    Reply::written(200, member_view(app, &body.to_account, principal).await, revision)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Transfer {
    to: Id,
}

pub(crate) async fn transfer(app: &App, ctx: &Ctx, req: &Req) -> Result<Reply, ApiError> {
    let account = req.param("account")?;
    let body: Transfer = req.json()?;
    let operation = Operation::TransferOwnership { account: account.to_owned(), to: body.to.to_string() };
    let revision = app.manage(ctx, operation, audit(account, "ownership.transfer", &body.to)).await?;
    Reply::written(200, member_view(app, account, &body.to).await, revision)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Masquerade {
    target: Id,
}

pub(crate) async fn masquerade(app: &App, ctx: &Ctx, req: &Req) -> Result<Reply, ApiError> {
    let account = req.param("account")?;
    let body: Masquerade = req.json()?;
    let operation = Operation::Masquerade { account: account.to_owned(), target: body.target.to_string() };
    let revision = app.manage(ctx, operation, audit(account, "member.masquerade", &body.target)).await?;
    Reply::written(200, serde_json::json!({ "account": account, "target": body.target, "allowed": true }), revision)
}
