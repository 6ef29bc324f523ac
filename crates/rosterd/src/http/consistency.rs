//! Read your writes on any replica: a call naming a revision (`min_revision`) waits until
//! this replica has applied it, or is refused as `stale`.

use axum::http::request::Parts;

use super::app::App;
use super::problem::{ApiError, Code};

/// The query parameter a read names its revision with (decisions carry it in the body).
pub(crate) const MIN_REVISION: &str = "min_revision";

/// Waits, up to `replication.min_revision_timeout_ms`, until this replica has applied
/// `wanted`; `stale` after that, saying whether the revision exists at all yet.
pub(crate) async fn reach(app: &App, wanted: u64) -> Result<(), ApiError> {
    if app.progress.reached(wanted).await {
        return Ok(());
    }
    let (seen, _) = app.progress.lag();
    let current = app.engine.read().await.revision();
    let detail = if wanted > seen {
        format!("min_revision {wanted} is not a committed revision yet (at {current}, newest seen {seen})")
    } else {
        format!("min_revision {wanted} not reached (at {current})")
    };
    Err(ApiError::new(Code::Stale, detail))
}

/// The `min_revision` a GET names in its query, read strictly (a repeated or unreadable
/// value is a 400, never ignored: ignoring it would answer from an older state).
pub(crate) fn from_query(parts: &Parts) -> Result<Option<u64>, ApiError> {
    if parts.method != axum::http::Method::GET {
        return Ok(None);
    }
    let Some(query) = parts.uri.query() else { return Ok(None) };
    let mut values = form_urlencoded::parse(query.as_bytes()).filter(|(key, _)| key == MIN_REVISION);
    let Some((_, first)) = values.next() else { return Ok(None) };
    if values.next().is_some() {
        return Err(ApiError::invalid(format!("{MIN_REVISION}: sent more than once")));
    }
    first.parse::<u64>().map(Some).map_err(|_| {
        ApiError::invalid(format!("{MIN_REVISION}: must be a revision (a whole number from 0 to {})", u64::MAX))
    })
}
