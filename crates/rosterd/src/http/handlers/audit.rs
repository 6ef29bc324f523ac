//! The audit trail: listing an account's events and verifying its hash chain.

use super::{Reply, read_guard};
use crate::http::app::App;
use crate::http::problem::ApiError;
use crate::http::request::{Ctx, Req, known_query, query_number};

pub(crate) async fn list(app: &App, ctx: &Ctx, req: &Req) -> Result<Reply, ApiError> {
    let account = req.param("account")?;
    known_query(&req.query, &["cursor", "limit", "actor", "action"])?;
    let limit = query_number(&req.query, "limit", 100, 1000)?;
    let after = match req.query.get("cursor") {
        None => 0,
        Some(text) => {
            text.parse::<i64>().map_err(|_| ApiError::invalid("cursor: must be a cursor from a previous page"))?
        }
    };
    read_guard(app, ctx, account, Some("audit.view")).await?;
    let actor = req.query.get("actor").map(String::as_str);
    let action = req.query.get("action").map(String::as_str);
    let mut events = app.store.audit(account, after, limit + 1, actor, action).await?;
    let next_cursor = (events.len() as u64 > limit).then(|| {
        events.truncate(limit as usize);
        events.last().map(|e| e.seq.to_string())
    });
    Reply::ok(serde_json::json!({ "items": events, "next_cursor": next_cursor.flatten() }))
}

pub(crate) async fn verify(app: &App, ctx: &Ctx, req: &Req) -> Result<Reply, ApiError> {
    let account = req.param("account")?;
    read_guard(app, ctx, account, Some("audit.view")).await?;
    Reply::ok(app.store.verify_audit(account).await?)
}
