//! Invites: create (token shown once), list, revoke, accept. An invite is authorised when
//! it is made (the inviter must be able to add the member or grant the role) and again when
//! it is accepted, as the inviter, so a revoked inviter's invites stop working.

use std::sync::Arc;

use axum::extract::State;
use roster_core::engine::MembershipView;
use roster_core::ids::Id;
use roster_core::{Actor, Operation, Subject};
use roster_store::{InviteRecord, StoreOp};
use serde::{Deserialize, Serialize};

use super::accounts::{check_email, check_name, new_profile};
use super::{PAGE, Page, Reply, Written, new_id, read_guard};
use crate::http::app::{App, Audit, Write};
use crate::http::auth;
use crate::http::extract::{Ctx, Json, Params, Query};
use crate::http::problem::ApiError;

/// Default and longest invite lifetimes, in seconds.
const DEFAULT_TTL: i64 = 7 * 24 * 3600;
const MAX_TTL: i64 = 90 * 24 * 3600;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateInvite {
    #[schema(format = "email", max_length = 254)]
    email: String,
    #[schema(value_type = Option<String>, pattern = r"^[A-Za-z0-9_.:@-]{1,128}$")]
    #[serde(default)]
    role: Option<Id>,
    #[schema(pattern = r"^(account|[A-Za-z0-9_.@-]{1,128}:[A-Za-z0-9_.:@-]{1,128})$")]
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

/// Invites an address to the account (or to a resource, with a role); the token is shown once.
#[utoipa::path(post, path = "/v1/accounts/{account}/invites", tag = "invites", params(("account" = String, Path, description = "Account id", example = "acme")), request_body = CreateInvite,
    responses((status = 201, description = "The invite's id and token (shown once)", body = Written<InviteCreated>)))]
pub(crate) async fn create(
    State(app): State<Arc<App>>,
    ctx: Ctx,
    req: Params,
    Json(body): Json<CreateInvite>,
) -> Result<Reply, ApiError> {
    let account = req.param("account")?;
    check_email("email", &body.email)?;
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
        role: body.role.clone().map(String::from),
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
    // What the invite gives, for the trail (never its token or the token's hash).
    let mut audit = Audit::account(account, "invite.create", format!("invite:{invite_id}"));
    audit.after = serde_json::to_value(view(&record)).ok();
    let write =
        Write { operation: None, extra: vec![StoreOp::CreateInvite(record)], audit: Some(audit), plan_as: None };
    let (revision, _) = app.write(&ctx, write).await?;
    Reply::written(201, InviteCreated { id: invite_id, token, expires_at: ctx.now + ttl }, revision)
}

/// An invite as the API shows it: never its token or the token's hash.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct InviteOut {
    id: String,
    email: String,
    role: Option<String>,
    resource: Option<String>,
    /// `pending`, `accepted` or `revoked`.
    status: String,
    expires_at: i64,
    created_at: i64,
}

fn view(invite: &InviteRecord) -> InviteOut {
    InviteOut {
        id: invite.id.clone(),
        email: invite.email.clone(),
        role: invite.role.clone(),
        resource: invite.resource.clone(),
        status: invite.status.clone(),
        expires_at: invite.expires_at,
        created_at: invite.created_at,
    }
}

/// A new invite: the token is shown here once.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct InviteCreated {
    id: String,
    token: String,
    expires_at: i64,
}

/// A revoked invite.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct InviteRevoked {
    id: String,
    /// `revoked`.
    status: String,
}

/// What accepting an invite did.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct Accepted {
    account: String,
    principal: String,
    membership: Option<MembershipView>,
    /// The resource of a resource invite.
    resource: Option<String>,
}

/// The account's invites.
#[utoipa::path(get, path = "/v1/accounts/{account}/invites", tag = "invites", params(("account" = String, Path, description = "Account id", example = "acme"), ("cursor" = Option<String>, Query, description = "`next_cursor` of the previous page"), ("limit" = Option<u64>, Query, description = "Page size, 1-500 (default 50)")),
    responses((status = 200, description = "The account's invites", body = Page<InviteOut>)))]
pub(crate) async fn list(State(app): State<Arc<App>>, ctx: Ctx, req: Params, query: Query) -> Result<Reply, ApiError> {
    let account = req.param("account")?;
    query.known(&["cursor", "limit"])?;
    read_guard(&app, &ctx, account, Some("member.invite")).await?;
    let request = query.page(PAGE.0, PAGE.1)?;
    // The cursor is `<created_at>:<id>` of the last invite of the previous page.
    let after = match request.after {
        None => None,
        Some(cursor) => Some(
            cursor
                .split_once(':')
                .and_then(|(at, id)| Some((at.parse::<i64>().ok()?, id)))
                .ok_or_else(|| ApiError::invalid("cursor: must be a cursor from a previous page"))?,
        ),
    };
    let limit = request.limit as u64;
    let mut records = app.store.invites_page(account, after, limit + 1).await?;
    let next_cursor = (records.len() as u64 > limit).then(|| {
        records.truncate(request.limit);
        records.last().map(|r| format!("{}:{}", r.created_at, r.id))
    });
    Reply::ok(Page { items: records.iter().map(view).collect::<Vec<InviteOut>>(), next_cursor: next_cursor.flatten() })
}

/// Revokes a pending invite.
#[utoipa::path(delete, path = "/v1/accounts/{account}/invites/{invite}", tag = "invites",
    params(("account" = String, Path, description = "Account id", example = "acme"), ("invite" = String, Path, description = "Invite id")),
    responses((status = 200, description = "Revoked", body = Written<InviteRevoked>)))]
pub(crate) async fn revoke(State(app): State<Arc<App>>, ctx: Ctx, req: Params) -> Result<Reply, ApiError> {
    let account = req.param("account")?;
    let invite_id = req.param("invite")?;
    read_guard(&app, &ctx, account, None).await?;
    let invite =
        app.store.invite(invite_id).await?.filter(|i| i.account == account).ok_or_else(|| {
            ApiError::not_found(format!("invite `{invite_id}` does not exist in account `{account}`"))
        })?;
    if invite.status != "pending" {
        return Err(ApiError::conflict(format!("invite `{invite_id}` is already {}", invite.status)));
    }
    // Revoking needs the standing that making the invite needs: an Admin cannot cancel
    // the Owner's invite of another Admin.
    let standing =
        Operation::RevokeInvite { account: account.to_owned(), role: invite.role, resource: invite.resource };
    app.engine.read().await.plan(&ctx.caller.actor(), &standing, ctx.now)?;
    let write = Write {
        operation: None,
        extra: vec![StoreOp::RevokeInvite { id: invite_id.to_owned() }],
        audit: Some(Audit::account(account, "invite.revoke", format!("invite:{invite_id}"))),
        plan_as: None,
    };
    let (revision, _) = app.write(&ctx, write).await?;
    Reply::written(200, InviteRevoked { id: invite_id.to_owned(), status: "revoked".into() }, revision)
}

/// The principal accepting an invite. Its profile fields are used only to create the
/// profile of a principal that has none; an existing profile is never changed here.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Accepter {
    #[schema(value_type = String, pattern = r"^[A-Za-z0-9_.:@-]{1,128}$")]
    id: Id,
    #[schema(format = "email", max_length = 254)]
    #[serde(default)]
    email: Option<String>,
    #[schema(min_length = 1, max_length = 256)]
    #[serde(default)]
    name: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Accept {
    token: String,
    principal: Accepter,
}

/// The refusal for an accepter whose address is not the one invited.
fn another_address() -> ApiError {
    ApiError::forbidden("principal: the invite was sent to another address")
}

/// Accepts an invite for a principal (once).
#[utoipa::path(post, path = "/v1/invites/accept", tag = "invites", request_body = Accept,
    responses((status = 200, description = "The membership or grant made", body = Written<Accepted>)))]
pub(crate) async fn accept(State(app): State<Arc<App>>, ctx: Ctx, Json(body): Json<Accept>) -> Result<Reply, ApiError> {
    let principal = body.principal.id.as_str();
    if let Some(email) = &body.principal.email {
        check_email("principal.email", email)?;
    }
    if let Some(name) = &body.principal.name {
        check_name("principal.name", name)?;
    }
    // Only the principal itself (its own token, or a service token acting as it) or the
    // platform accepts for a principal.
    match ctx.caller.actor() {
        Actor::Principal(caller) if caller != principal => {
            return Err(ApiError::forbidden("a principal accepts invites for itself only"));
        }
        _ => {}
    }
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
    // The invite is bound to its address: an existing principal accepts only if that is
    // the address on record for it; a new principal is created with the invited address.
    if body.principal.email.as_ref().is_some_and(|email| !email.eq_ignore_ascii_case(&invite.email)) {
        return Err(another_address());
    }
    let profile = match app.store.principal(principal).await? {
        Some((email, _)) if email.eq_ignore_ascii_case(&invite.email) => None,
        Some(_) => return Err(another_address()),
        // Only the platform vouches for a new principal's address (it verified it);
        // a principal with no address on record has nothing the invite could bind to.
        None if !ctx.caller.is_platform() => {
            return Err(ApiError::forbidden(
                "principal: has no email on record; the platform accepts for a new principal",
            ));
        }
        None => {
            let name =
                body.principal.name.as_deref().ok_or_else(|| {
                    ApiError::invalid("principal.name: required when the principal has no profile yet")
                })?;
            new_profile(&app, &ctx, principal, &invite.email, name).await?
        }
    };
    // Carried out as the inviter, who must still be allowed to do it; the audit names the
    // real caller (the accepting principal, or the service token acting for them).
    let inviter =
        if invite.created_by.is_empty() { Actor::Service } else { Actor::Principal(invite.created_by.clone()) };
    let grant_id = new_id("g")?;
    let mut extra: Vec<StoreOp> = profile.into_iter().collect();
    // The conditional update makes the accept single-use in the database itself.
    extra.push(StoreOp::AcceptInvite { id: invite.id.clone(), now: ctx.now });
    let write = Write {
        operation: Some(operation(&invite, principal, grant_id)?),
        extra,
        audit: Some(Audit::account(&invite.account, "invite.accept", format!("principal:{principal}"))),
        plan_as: Some(inviter),
    };
    let (revision, _) = app.write(&ctx, write).await?;
    let membership = app.engine.read().await.membership(&invite.account, principal);
    let accepted =
        Accepted { account: invite.account, principal: principal.to_owned(), membership, resource: invite.resource };
    Reply::written(200, accepted, revision)
}
