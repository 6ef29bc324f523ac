//! Invites: create (token shown once), list, revoke, accept. An invite is authorised when
//! it is made (the inviter must be able to add the member or grant the role) and again when
//! it is accepted, as the inviter, so a revoked inviter's invites stop working.

use roster_core::{Actor, Operation, Subject};
use roster_store::{InviteRecord, StoreOp};
use serde::Deserialize;

use super::accounts::{PrincipalIn, check_email};
use super::{Reply, new_id, read_guard};
use crate::http::app::{App, Audit, Write};
use crate::http::auth::{self, Caller};
use crate::http::problem::ApiError;
use crate::http::request::{Ctx, Req, id};

/// Default and longest invite lifetimes, in seconds.
const DEFAULT_TTL: i64 = 7 * 24 * 3600;
const MAX_TTL: i64 = 90 * 24 * 3600;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateInvite {
    email: String,
    #[serde(default)]
    role: Option<String>,
    #[serde(default)]
    resource: Option<String>,
    #[serde(default)]
    expires_in_s: Option<i64>,
}

/// The operation an invite carries out for `principal`.
fn operation(invite: &InviteRecord, principal: &str, grant_id: String) -> Result<Operation, ApiError> {
    Ok(match &invite.resource {
        None => Operation::AddMember {
            account: invite.account.clone(),
            principal: principal.to_owned(),
            role: invite.role.clone(),
            external: false,
            expires_at: None,
        },
        Some(resource) => Operation::Grant {
            id: grant_id,
            account: invite.account.clone(),
            subject: Subject::Principal(principal.to_owned()),
            resource: Some(resource.clone()),
            role: invite
                .role
                .clone()
                .ok_or_else(|| ApiError::invalid("role: an invite to a resource must name a role"))?,
            expires_at: None,
        },
    })
}

pub(crate) async fn create(app: &App, ctx: &Ctx, req: &Req) -> Result<Reply, ApiError> {
    let account = req.param("account")?;
    let body: CreateInvite = req.json()?;
    check_email("email", &body.email)?;
    if let Some(role) = &body.role {
        id("role", role)?;
    }
    let ttl = body.expires_in_s.unwrap_or(DEFAULT_TTL);
    if !(1..=MAX_TTL).contains(&ttl) {
        return Err(ApiError::invalid(format!("expires_in_s: must be from 1 to {MAX_TTL}")));
    }
    let (token_id, secret, _) = auth::generate()?;
    let token = format!("inv_{token_id}_{secret}");
    let record = InviteRecord {
        id: new_id("inv")?,
        account: account.to_owned(),
        email: body.email.clone(),
        role: body.role.clone(),
        resource: body.resource.clone(),
        token_hash: auth::hash(&token),
        expires_at: ctx.now + ttl,
        status: "pending".into(),
        created_by: match ctx.caller.actor() {
            Actor::Service => String::new(),
            Actor::Principal(id) => id,
        },
        created_at: ctx.now,
    };
    // Check now that the inviter may do what the invite will do (for whoever accepts it).
    let check =
        Operation::Invite { account: account.to_owned(), role: record.role.clone(), resource: record.resource.clone() };
    app.engine.read().await.plan(&ctx.caller.actor(), &check, ctx.now)?;
    let invite_id = record.id.clone();
    let write = Write {
        operation: None,
        extra: vec![StoreOp::CreateInvite(record)],
        audit: Some(Audit::account(account, "invite.create", format!("invite:{invite_id}"))),
        plan_as: None,
    };
    let (revision, _) = app.write(ctx, write).await?;
    Reply::written(201, serde_json::json!({ "id": invite_id, "token": token, "expires_at": ctx.now + ttl }), revision)
}

fn view(invite: &InviteRecord) -> serde_json::Value {
    serde_json::json!({
        "id": invite.id, "email": invite.email, "role": invite.role, "resource": invite.resource,
        "status": invite.status, "expires_at": invite.expires_at, "created_at": invite.created_at,
    })
}

pub(crate) async fn list(app: &App, ctx: &Ctx, req: &Req) -> Result<Reply, ApiError> {
    let account = req.param("account")?;
    read_guard(app, ctx, account, Some("member.invite")).await?;
    let items: Vec<serde_json::Value> = app.store.invites(account).await?.iter().map(view).collect();
    Reply::ok(serde_json::json!({ "items": items }))
}

pub(crate) async fn revoke(app: &App, ctx: &Ctx, req: &Req) -> Result<Reply, ApiError> {
    let account = req.param("account")?;
    let invite_id = req.param("invite")?;
    read_guard(app, ctx, account, Some("member.invite")).await?;
    let invite =
        app.store.invite(invite_id).await?.filter(|i| i.account == account).ok_or_else(|| {
            ApiError::not_found(format!("invite `{invite_id}` does not exist in account `{account}`"))
        })?;
    if invite.status != "pending" {
        return Err(ApiError::conflict(format!("invite `{invite_id}` is already {}", invite.status)));
    }
    let write = Write {
        operation: None,
        extra: vec![StoreOp::InviteStatus { id: invite_id.to_owned(), status: "revoked".into() }],
        audit: Some(Audit::account(account, "invite.revoke", format!("invite:{invite_id}"))),
        plan_as: None,
    };
    let (revision, _) = app.write(ctx, write).await?;
    Reply::written(200, serde_json::json!({ "id": invite_id, "status": "revoked" }), revision)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Accept {
    token: String,
    principal: PrincipalIn,
}

pub(crate) async fn accept(app: &App, ctx: &Ctx, req: &Req) -> Result<Reply, ApiError> {
    let body: Accept = req.json()?;
    body.principal.check("principal")?;
    let invite = app
        .store
        .invite_by_token_hash(&auth::hash(&body.token))
        .await?
        .ok_or_else(|| ApiError::not_found("token: no such invite"))?;
    match invite.status.as_str() {
        "pending" if invite.expires_at <= ctx.now => return Err(ApiError::conflict("token: the invite has expired")),
        "pending" => {}
        "accepted" => return Err(ApiError::conflict("token: the invite was already used")),
        _ => return Err(ApiError::conflict("token: the invite was revoked")),
    }
    if !invite.email.eq_ignore_ascii_case(&body.principal.email) {
        return Err(ApiError::forbidden("principal.email: the invite was sent to another address"));
    }
    if let Caller::Principal { id } = &ctx.caller
        && id != &body.principal.id
    {
        return Err(ApiError::forbidden("a principal token may accept invites for itself only"));
    }
    // Carried out as the inviter, who must still be allowed to do it; the audit names the
    // real caller (the accepting principal, or the service token acting for them).
    let inviter =
        if invite.created_by.is_empty() { Actor::Service } else { Actor::Principal(invite.created_by.clone()) };
    let grant_id = new_id("g")?;
    let write = Write {
        operation: Some(operation(&invite, &body.principal.id, grant_id)?),
        extra: vec![
            body.principal.upsert(),
            StoreOp::InviteStatus { id: invite.id.clone(), status: "accepted".into() },
        ],
        audit: Some(Audit::account(&invite.account, "invite.accept", format!("principal:{}", body.principal.id))),
        plan_as: Some(inviter),
    };
    let (revision, _) = app.write(ctx, write).await?;
    let membership = app.engine.read().await.membership(&invite.account, &body.principal.id);
    Reply::written(
        200,
        serde_json::json!({ "account": invite.account, "principal": body.principal.id, "membership": membership, "resource": invite.resource }),
        revision,
    )
}
