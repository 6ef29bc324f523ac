//! Health and pack discovery: `/healthz`, `/readyz`, `/v1/packs…`.

use std::sync::Arc;

use axum::extract::State;
use roster_core::matrix::{Matrix, MatrixFormat};
use serde::Serialize;

use super::{Body, Reply};
use crate::http::app::App;
use crate::http::extract::{Ctx, Params, Query};
use crate::http::problem::ApiError;

/// The daemon's health.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct Health {
    /// `ok`.
    status: &'static str,
}

/// Readiness: what is loaded and served, and how far behind the database this replica is.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct Ready {
    /// `ready`, or `behind` (503) while the replica lags more than
    /// `replication.max_ready_lag` revisions.
    status: &'static str,
    /// Packs loaded.
    packs: usize,
    /// The revision the snapshot is at.
    revision: u64,
    /// The newest committed revision this replica has seen (in the feed, notified, or its
    /// own write).
    newest_seen: u64,
    /// `newest_seen - revision`.
    lag: u64,
}

/// A loaded pack.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct PackOut {
    id: String,
    version: String,
    title: String,
    /// `plugin` or `toml`.
    source: String,
}

/// The daemon is alive.
#[utoipa::path(get, path = "/healthz", tag = "health", security(()),
    responses((status = 200, description = "Alive", body = Health)))]
pub(crate) async fn health() -> Result<Reply, ApiError> {
    Reply::ok(Health { status: "ok" })
}

/// The snapshot is loaded and follows the database: the packs, the revision served, the lag.
#[utoipa::path(get, path = "/readyz", tag = "health", security(()),
    responses((status = 200, description = "Ready", body = Ready),
              (status = 503, description = "Too far behind the database to serve", body = Ready)))]
pub(crate) async fn ready(State(app): State<Arc<App>>) -> Result<Reply, ApiError> {
    let revision = app.engine.read().await.revision();
    let (newest_seen, _) = app.progress.lag();
    let newest_seen = newest_seen.max(revision);
    let lag = newest_seen - revision;
    let behind = lag > app.progress.max_lag;
    let status = if behind { "behind" } else { "ready" };
    let mut reply = Reply::ok(Ready { status, packs: app.packs.len(), revision, newest_seen, lag })?;
    if behind {
        reply.status = 503;
    }
    Ok(reply)
}

/// The loaded packs.
#[utoipa::path(get, path = "/v1/packs", tag = "packs",
    responses((status = 200, description = "The loaded packs", body = Vec<PackOut>)))]
pub(crate) async fn list(State(app): State<Arc<App>>, _: Ctx) -> Result<Reply, ApiError> {
    let packs: Vec<PackOut> = app
        .packs
        .iter()
        .map(|p| {
            let m = p.pack.manifest();
            PackOut {
                id: m.id.clone(),
                version: m.version.clone(),
                title: m.title.clone(),
                source: p.source.kind().to_owned(),
            }
        })
        .collect();
    Reply::ok(packs)
}

fn find<'a>(app: &'a App, req: &Params) -> Result<&'a roster_plugin::LoadedPack, ApiError> {
    let id = req.param("pack")?;
    app.packs
        .iter()
        .find(|p| p.pack.id() == id)
        .ok_or_else(|| ApiError::not_found(format!("pack `{id}` is not loaded")))
}

/// One pack's manifest.
#[utoipa::path(get, path = "/v1/packs/{pack}", tag = "packs",
    params(("pack" = String, Path, description = "Pack id")),
    responses((status = 200, description = "The pack's manifest (see docs/packs.md)", body = Object)))]
pub(crate) async fn show(State(app): State<Arc<App>>, _: Ctx, req: Params, query: Query) -> Result<Reply, ApiError> {
    query.known(&[])?;
    Reply::ok(find(&app, &req)?.pack.manifest())
}

/// A pack's role × permission matrix.
#[utoipa::path(get, path = "/v1/packs/{pack}/matrix", tag = "packs",
    params(("pack" = String, Path, description = "Pack id"),
           ("format" = Option<String>, Query, description = "`json` (default), `csv` or `markdown`")),
    responses((status = 200, description = "The matrix in the asked format", content(
        (Object = "application/json"), (String = "text/csv"), (String = "text/markdown")))))]
pub(crate) async fn matrix(State(app): State<Arc<App>>, _: Ctx, req: Params, query: Query) -> Result<Reply, ApiError> {
    query.known(&["format"])?;
    let format: MatrixFormat = query
        .get("format")
        .map(|f| f.parse())
        .transpose()
        .map_err(|e: String| ApiError::invalid(format!("format: {e}")))?
        .unwrap_or(MatrixFormat::Json);
    let matrix = Matrix::of(&find(&app, &req)?.pack);
    let content_type = match format {
        MatrixFormat::Json => return Reply::ok(&matrix),
        MatrixFormat::Csv => "text/csv; charset=utf-8",
        MatrixFormat::Markdown => "text/markdown; charset=utf-8",
    };
    Ok(Reply { status: 200, body: Body::Text { content_type, text: matrix.render(format) }, revision: None })
}
