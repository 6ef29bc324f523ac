//! Health and pack discovery: `/healthz`, `/readyz`, `/v1/packs…`.

use roster_core::matrix::{Matrix, MatrixFormat};

use super::{Body, Reply};
use crate::http::app::App;
use crate::http::problem::ApiError;
use crate::http::request::{Req, known_query};

pub(crate) async fn ready(app: &App) -> Result<Reply, ApiError> {
    let revision = app.engine.read().await.revision();
    Reply::ok(serde_json::json!({ "status": "ready", "packs": app.packs.len(), "revision": revision }))
}

pub(crate) fn list(app: &App) -> Result<Reply, ApiError> {
    let packs: Vec<serde_json::Value> = app
        .packs
        .iter()
        .map(|p| {
            let m = p.pack.manifest();
            serde_json::json!({ "id": m.id, "version": m.version, "title": m.title, "source": p.source.kind() })
        })
        .collect();
    Reply::ok(packs)
}

fn find<'a>(app: &'a App, req: &Req) -> Result<&'a roster_plugin::LoadedPack, ApiError> {
    let id = req.param("pack")?;
    app.packs
        .iter()
        .find(|p| p.pack.id() == id)
        .ok_or_else(|| ApiError::not_found(format!("pack `{id}` is not loaded")))
}

pub(crate) fn show(app: &App, req: &Req) -> Result<Reply, ApiError> {
    known_query(&req.query, &[])?;
    Reply::ok(find(app, req)?.pack.manifest())
}

pub(crate) fn matrix(app: &App, req: &Req) -> Result<Reply, ApiError> {
    known_query(&req.query, &["format"])?;
    let format: MatrixFormat = req
        .query
        .get("format")
        .map(|f| f.parse())
        .transpose()
        .map_err(|e: String| ApiError::invalid(format!("format: {e}")))?
        .unwrap_or(MatrixFormat::Json);
    let matrix = Matrix::of(&find(app, req)?.pack);
    let content_type = match format {
        MatrixFormat::Json => return Reply::ok(&matrix),
        MatrixFormat::Csv => "text/csv; charset=utf-8",
        MatrixFormat::Markdown => "text/markdown; charset=utf-8",
    };
    Ok(Reply { status: 200, body: Body::Text { content_type, text: matrix.render(format) }, revision: None })
}
