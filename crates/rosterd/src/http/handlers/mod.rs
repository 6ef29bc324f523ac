//! The endpoint handlers, one module per area of API.md, and what they share: the reply
//! type and the guards that decide what a principal may read.

pub(crate) mod accounts;
pub(crate) mod audit;
pub(crate) mod authzen;
pub(crate) mod decisions;
pub(crate) mod grants;
pub(crate) mod invites;
pub(crate) mod members;
pub(crate) mod packs;
pub(crate) mod tokens;
pub(crate) mod watch;

use serde::Serialize;

use super::app::App;
use super::auth::Caller;
use super::extract::Ctx;
use super::problem::ApiError;

/// A successful answer.
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) body: Body,
    /// Set on writes: sent as `Roster-Revision` and in the body.
    pub(crate) revision: Option<u64>,
}

/// A reply body.
pub(crate) enum Body {
    /// JSON already written out (answers that need nothing added).
    Serialized(Vec<u8>),
    Text {
        content_type: &'static str,
        text: String,
    },
}

impl Reply {
    pub(crate) fn ok(value: impl Serialize) -> Result<Reply, ApiError> {
        let bytes = serde_json::to_vec(&value).map_err(internal)?;
        Ok(Reply { status: 200, body: Body::Serialized(bytes), revision: None })
    }

    /// A write's answer: the value with `"revision"` added ([`Written`]).
    pub(crate) fn written(status: u16, value: impl Serialize, revision: u64) -> Result<Reply, ApiError> {
        let bytes = serde_json::to_vec(&Written { value, revision }).map_err(internal)?;
        Ok(Reply { status, body: Body::Serialized(bytes), revision: Some(revision) })
    }
}

fn internal(error: serde_json::Error) -> ApiError {
    ApiError::new(super::problem::Code::Internal, error.to_string())
}

/// A write's answer: what was written, and the revision it made.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct Written<T> {
    #[serde(flatten)]
    pub(crate) value: T,
    /// The revision of the write (also in `Roster-Revision`).
    pub(crate) revision: u64,
}

/// One page of a list, in a stable order.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct Page<T> {
    pub(crate) items: Vec<T>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub(crate) next_cursor: Option<String>,
}

impl<T> From<roster_core::engine::Page<T>> for Page<T> {
    fn from(page: roster_core::engine::Page<T>) -> Self {
        Page { items: page.items, next_cursor: page.next_cursor }
    }
}

/// Page sizes of the lists: the default and the most a `limit` may ask for.
pub(crate) const PAGE: (u64, u64) = (50, 500);

/// What a delete answers: the id of what is gone.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct Deleted {
    pub(crate) deleted: String,
}

impl axum::response::IntoResponse for Reply {
    fn into_response(self) -> axum::response::Response {
        use axum::http::header::{CONTENT_TYPE, HeaderValue};
        let (content_type, bytes) = match self.body {
            Body::Serialized(bytes) => ("application/json", bytes),
            Body::Text { content_type, text } => (content_type, text.into_bytes()),
        };
        let status =
            axum::http::StatusCode::from_u16(self.status).unwrap_or(axum::http::StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = (status, bytes).into_response();
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
        if let Some(revision) = self.revision {
            headers.insert("roster-revision", HeaderValue::from(revision));
        }
        response
    }
}

/// Refuses unless the account exists and the caller may read it: the platform always; a
/// principal only while they hold something in it (otherwise the answer is exactly the one
/// a nonexistent account gets), and, with `permission`, when they hold it there.
pub(crate) async fn read_guard(app: &App, ctx: &Ctx, account: &str, permission: Option<&str>) -> Result<(), ApiError> {
    Ok(app.engine.read().await.require_read(&ctx.caller.actor(), account, None, permission, ctx.now)?)
}

/// Refuses unless the caller is the platform itself (a service token without Roster-Act-As).
pub(crate) fn platform_only(ctx: &Ctx, what: &str) -> Result<(), ApiError> {
    match ctx.caller {
        Caller::Service { act_as: None, .. } => Ok(()),
        _ => Err(ApiError::forbidden(format!("{what} needs a service token without Roster-Act-As"))),
    }
}

/// A fresh random id with a prefix, for grants and invites created without one.
pub(crate) fn new_id(prefix: &str) -> Result<String, ApiError> {
    let (id, _, _) = super::auth::generate()?;
    Ok(format!("{prefix}_{id}"))
}
