//! API tokens: creating and revoking them (platform only). The token text is returned
//! once; only its hash is stored.

use std::sync::Arc;

use axum::extract::State;
use roster_store::{StoreOp, TokenRecord, is_valid_service_name};
use serde::{Deserialize, Serialize};

use super::{Reply, Written, platform_only};
use crate::http::app::{App, Audit, Write};
use crate::http::auth;
use crate::http::extract::{Ctx, Json, Params};
use crate::http::problem::ApiError;
use crate::http::request::id;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateToken {
    name: String,
    #[serde(default)]
    principal: Option<String>,
}

/// A new token: its text is shown here once.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct TokenCreated {
    id: String,
    token: String,
    name: String,
    /// The principal a principal token acts as.
    principal: Option<String>,
}

/// A revoked token.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct TokenRevoked {
    revoked: String,
}

/// A new token's record and its text.
pub(crate) fn mint(name: &str, principal: Option<String>, now: i64) -> Result<(TokenRecord, String), ApiError> {
    let (token_id, secret, text) = auth::generate()?;
    let record = TokenRecord {
        id: token_id,
        name: name.to_owned(),
        principal,
        secret_hash: auth::hash(&secret),
        created_at: now,
        revoked_at: None,
    };
    Ok((record, text))
}

/// A token as the audit trail records it: never its secret or the secret's hash.
pub(crate) fn token_view(record: &TokenRecord) -> serde_json::Value {
    serde_json::json!({
        "id": record.id, "name": record.name, "principal": record.principal, "created_at": record.created_at,
    })
}

/// Creates an API token (service, or for a principal); the token is shown once.
#[utoipa::path(post, path = "/v1/tokens", tag = "tokens", request_body = CreateToken,
    responses((status = 201, description = "The token (shown once)", body = Written<TokenCreated>)))]
pub(crate) async fn create(
    State(app): State<Arc<App>>,
    ctx: Ctx,
    Json(body): Json<CreateToken>,
) -> Result<Reply, ApiError> {
    platform_only(&ctx, "creating tokens")?;
    match &body.principal {
        Some(principal) => {
            id("name", &body.name)?;
            id("principal", principal)?;
        }
        // A service token's name is its audit actor name (`service:<name>`).
        None if !is_valid_service_name(&body.name) => {
            return Err(ApiError::invalid(format!(
                "name: `{}` is not a valid service token name (1-64 characters of A-Z a-z 0-9 _ . -)",
                body.name
            )));
        }
        None => {}
    }
    let (record, text) = mint(&body.name, body.principal.clone(), ctx.now)?;
    let token_id = record.id.clone();
    let audit = Audit::platform("token.create", format!("token:{token_id}"), None, Some(token_view(&record)));
    let (revision, _) = app.write(&ctx, Write::records(vec![StoreOp::CreateToken(record)], audit)).await?;
    Reply::written(
        201,
        TokenCreated { id: token_id, token: text, name: body.name, principal: body.principal },
        revision,
    )
}

/// Revokes an API token.
#[utoipa::path(delete, path = "/v1/tokens/{id}", tag = "tokens", params(("id" = String, Path, description = "Token id (the `id` POST /v1/tokens answered, not the token text)")),
    responses((status = 200, description = "Revoked", body = Written<TokenRevoked>)))]
pub(crate) async fn revoke(State(app): State<Arc<App>>, ctx: Ctx, req: Params) -> Result<Reply, ApiError> {
    platform_only(&ctx, "revoking tokens")?;
    let token_id = req.param("id")?;
    let record = app
        .store
        .token(token_id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("token `{token_id}` does not exist")))?;
    if record.revoked_at.is_some() {
        return Err(ApiError::conflict(format!("token `{token_id}` is already revoked")));
    }
    let op = StoreOp::RevokeToken { id: token_id.to_owned(), at: ctx.now };
    let after = serde_json::json!({ "revoked_at": ctx.now });
    let audit = Audit::platform("token.revoke", format!("token:{token_id}"), Some(token_view(&record)), Some(after));
    let (revision, _) = app.write(&ctx, Write::records(vec![op], audit)).await?;
    app.tokens.forget(token_id);
    Reply::written(200, TokenRevoked { revoked: token_id.to_owned() }, revision)
}
