//! Accounts (top-level and child) and principal profiles.

use std::sync::Arc;

use axum::extract::State;
use roster_core::engine::MembershipView;
use roster_core::ids::Id;
use roster_core::{Actor, Operation};
use roster_store::StoreOp;
use serde::{Deserialize, Serialize};

use super::{PAGE, Page, Reply, Written, platform_only, read_guard};
use crate::http::app::{App, Audit, Write};
use crate::http::extract::{Ctx, Json, Params, Query};
use crate::http::problem::ApiError;

/// A principal as requests describe one.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PrincipalIn {
    #[schema(value_type = String, pattern = r"^[A-Za-z0-9_.:@-]{1,128}$")]
    pub(crate) id: Id,
    #[schema(format = "email", max_length = 254)]
    pub(crate) email: String,
    #[schema(min_length = 1, max_length = 256)]
    pub(crate) name: String,
}

impl PrincipalIn {
    /// Checks the fields; `field` names where it sits in the body.
    pub(crate) fn check(&self, field: &str) -> Result<(), ApiError> {
        check_email(&format!("{field}.email"), &self.email)?;
        check_name(&format!("{field}.name"), &self.name)
    }
}

/// The profile write that goes with naming a principal in a call other than
/// `PUT /v1/principals/{id}` (an account's owner): such a call only ever creates a
/// profile, never changes one, and only the platform creates one. A principal's email is
/// the address invites bind to, so it is the platform's to set (it verifies addresses;
/// Roster does not): nobody else writes an email, sideways or into a profile not yet made.
pub(crate) async fn new_profile(
    app: &App,
    ctx: &Ctx,
    id: &str,
    email: &str,
    name: &str,
) -> Result<Option<StoreOp>, ApiError> {
    if !ctx.caller.is_platform() || app.store.principal(id).await?.is_some() {
        return Ok(None);
    }
    // `NewPrincipal` inserts only if still absent, so a profile created meanwhile stays.
    Ok(Some(StoreOp::NewPrincipal { id: id.to_owned(), email: email.to_owned(), name: name.to_owned() }))
}

pub(crate) fn check_email(field: &str, email: &str) -> Result<(), ApiError> {
    let valid = email.len() <= 254
        && !email.chars().any(|c| c.is_control() || c.is_whitespace())
        && email.split_once('@').is_some_and(|(user, host)| !user.is_empty() && host.contains('.'));
    if valid { Ok(()) } else { Err(ApiError::invalid(format!("{field}: `{email}` is not an email address"))) }
}

pub(crate) fn check_name(field: &str, name: &str) -> Result<(), ApiError> {
    if name.trim().is_empty() || name.len() > 256 {
        return Err(ApiError::invalid(format!("{field}: must be 1-256 characters")));
    }
    // NUL and other control characters: PostgreSQL refuses NUL in text (a 500 there, stored
    // on SQLite); refused here the same way on both.
    if name.chars().any(char::is_control) {
        return Err(ApiError::invalid(format!("{field}: must not contain control characters")));
    }
    Ok(())
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateAccount {
    #[schema(value_type = String, pattern = r"^[A-Za-z0-9_.:@-]{1,128}$")]
    id: Id,
    #[schema(value_type = String, pattern = r"^[A-Za-z0-9_.:@-]{1,128}$")]
    pack: Id,
    #[schema(min_length = 1, max_length = 256)]
    name: String,
    #[schema(value_type = Option<String>, pattern = r"^[A-Za-z0-9_.:@-]{1,128}$")]
    #[serde(default)]
    parent: Option<Id>,
    owner: PrincipalIn,
}

/// Creates an account (top-level, or a child of `parent`) with its owner.
#[utoipa::path(post, path = "/v1/accounts", tag = "accounts", request_body = CreateAccount,
    responses((status = 201, description = "The account", body = Written<AccountOut>)))]
pub(crate) async fn create(
    State(app): State<Arc<App>>,
    ctx: Ctx,
    Json(body): Json<CreateAccount>,
) -> Result<Reply, ApiError> {
    check_name("name", &body.name)?;
    body.owner.check("owner")?;
    if app.engine.read().await.pack(&body.pack).is_none() {
        return Err(ApiError::not_found(format!("pack: `{}` is not loaded", body.pack)));
    }
    let mut extra = vec![StoreOp::AccountName { account: body.id.to_string(), name: body.name.clone() }];
    extra.extend(new_profile(&app, &ctx, &body.owner.id, &body.owner.email, &body.owner.name).await?);
    let write = Write {
        operation: Some(Operation::CreateAccount {
            id: body.id.to_string(),
            pack: body.pack.to_string(),
            parent: body.parent.clone().map(String::from),
            owner: body.owner.id.to_string(),
        }),
        extra,
        audit: Some(Audit::account(&body.id, "account.create", format!("account:{}", body.id))),
        plan_as: None,
    };
    let (revision, _) = app.write(&ctx, write).await?;
    let view = view(&app, &body.id).await?;
    Reply::written(201, view, revision)
}

/// An account as the API shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct AccountOut {
    id: String,
    /// The pack whose roles the account uses.
    pack: String,
    name: String,
    /// The parent account of a child account.
    parent: Option<String>,
    /// Child account ids.
    children: Vec<String>,
}

async fn view(app: &App, account: &str) -> Result<AccountOut, ApiError> {
    let name = app.store.account_name(account).await?.unwrap_or_default();
    let engine = app.engine.read().await;
    let pack = engine.account_pack(account).map(|p| p.id().to_owned()).unwrap_or_default();
    Ok(AccountOut {
        id: account.to_owned(),
        pack,
        name,
        parent: engine.parent_account(account).map(str::to_owned),
        children: engine.child_accounts(account),
    })
}

/// A principal's profile.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct Profile {
    id: String,
    email: String,
    name: String,
}

/// A principal's profile with the memberships the caller may see.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct PrincipalOut {
    #[serde(flatten)]
    profile: Profile,
    memberships: Vec<AccountMembership>,
}

/// A membership, with its account.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct AccountMembership {
    pub(crate) account: String,
    pub(crate) membership: MembershipView,
}

/// An account: pack, name, parent and child accounts.
#[utoipa::path(get, path = "/v1/accounts/{account}", tag = "accounts", params(("account" = String, Path, description = "Account id", example = "acme")),
    responses((status = 200, description = "The account", body = AccountOut)))]
pub(crate) async fn get(State(app): State<Arc<App>>, ctx: Ctx, req: Params) -> Result<Reply, ApiError> {
    let account = req.param("account")?;
    read_guard(&app, &ctx, account, None).await?;
    Reply::ok(view(&app, account).await?)
}

/// An account's child accounts.
#[utoipa::path(get, path = "/v1/accounts/{account}/children", tag = "accounts", params(("account" = String, Path, description = "Account id", example = "acme"), ("cursor" = Option<String>, Query, description = "`next_cursor` of the previous page"), ("limit" = Option<u64>, Query, description = "Page size, 1-500 (default 50)")),
    responses((status = 200, description = "Child account ids", body = Page<String>)))]
pub(crate) async fn children(
    State(app): State<Arc<App>>,
    ctx: Ctx,
    req: Params,
    query: Query,
) -> Result<Reply, ApiError> {
    let account = req.param("account")?;
    query.known(&["cursor", "limit"])?;
    let request = query.page(PAGE.0, PAGE.1)?;
    read_guard(&app, &ctx, account, None).await?;
    Reply::ok(Page::from(app.engine.read().await.child_accounts_page(account, request)))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PutPrincipal {
    #[schema(format = "email", max_length = 254)]
    email: String,
    #[schema(min_length = 1, max_length = 256)]
    name: String,
}

/// Creates or updates a principal's profile (the platform sets emails; a principal may rename itself).
#[utoipa::path(put, path = "/v1/principals/{principal}", tag = "accounts", params(("principal" = String, Path, description = "Principal id", example = "member-1")), request_body = PutPrincipal,
    responses((status = 200, description = "The profile", body = Written<Profile>)))]
pub(crate) async fn put_principal(
    State(app): State<Arc<App>>,
    ctx: Ctx,
    req: Params,
    Json(body): Json<PutPrincipal>,
) -> Result<Reply, ApiError> {
    let principal = req.param("principal")?;
    check_email("email", &body.email)?;
    check_name("name", &body.name)?;
    if !ctx.caller.is_platform() {
        // A principal renames itself; its email (what invites bind to) is the platform's.
        if !matches!(ctx.caller.actor(), Actor::Principal(ref p) if p == principal) {
            platform_only(&ctx, "changing another principal's profile")?;
        }
        let stored = app.store.principal(principal).await?;
        if stored.as_ref().is_none_or(|(email, _)| !email.eq_ignore_ascii_case(&body.email)) {
            platform_only(&ctx, "setting a principal's email")?;
        }
    }
    let op = StoreOp::Principal { id: principal.to_owned(), email: body.email.clone(), name: body.name.clone() };
    // A profile belongs to no account: the change goes to the platform trail.
    let before =
        app.store.principal(principal).await?.map(|(email, name)| serde_json::json!({ "email": email, "name": name }));
    let after = serde_json::json!({ "email": body.email, "name": body.name });
    let audit = Audit::platform("principal.update", format!("principal:{principal}"), before, Some(after));
    let (revision, _) = app.write(&ctx, Write::records(vec![op], audit)).await?;
    Reply::written(200, Profile { id: principal.to_owned(), email: body.email, name: body.name }, revision)
}

/// A principal's profile and the memberships the caller may see.
#[utoipa::path(get, path = "/v1/principals/{principal}", tag = "accounts", params(("principal" = String, Path, description = "Principal id", example = "member-1")),
    responses((status = 200, description = "The profile and memberships", body = PrincipalOut)))]
pub(crate) async fn get_principal(State(app): State<Arc<App>>, ctx: Ctx, req: Params) -> Result<Reply, ApiError> {
    let principal = req.param("principal")?;
    let profile = app.store.principal(principal).await?;
    let engine = app.engine.read().await;
    let actor = ctx.caller.actor();
    let memberships: Vec<AccountMembership> = engine
        .memberships_visible_to(&actor, principal, ctx.now)
        .into_iter()
        .map(|(account, membership)| AccountMembership { account, membership })
        .collect();
    let visible = match &actor {
        Actor::Service => profile.is_some() || !memberships.is_empty(),
        Actor::Principal(me) => me == principal || !memberships.is_empty(),
    };
    if !visible {
        return Err(ApiError::not_found(format!("principal `{principal}` is not known")));
    }
    let (email, name) = profile.unwrap_or_default();
    Reply::ok(PrincipalOut { profile: Profile { id: principal.to_owned(), email, name }, memberships })
}
