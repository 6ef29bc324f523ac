//! The axum extractors every handler is built from: the authenticated caller ([`Ctx`],
//! settled from the headers before any of the body is read), path ids ([`Params`]), the
//! query ([`Query`]) and strict JSON bodies ([`Json`], [`JsonBytes`]). Every rejection is
//! the API's problem+json, naming the offending field.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::rejection::{BytesRejection, FailedToBufferBody};
use axum::extract::{FromRequest, FromRequestParts, RawPathParams, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue};
use bytes::Bytes;
use roster_core::engine::PageRequest;
use serde::de::DeserializeOwned;
use tower_http::request_id::RequestId;

use super::app::App;
use super::auth;
use super::consistency::{self, MIN_REVISION};
use super::problem::{ApiError, Code};
use super::request::{self, single_header};

/// One request's context: who is calling, the request id, the time.
#[derive(Clone, Debug)]
pub(crate) struct Ctx {
    pub(crate) caller: auth::Caller,
    pub(crate) request_id: String,
    pub(crate) now: i64,
    /// The headers the caller was settled from, kept to settle it again at a revision.
    credentials: Credentials,
}

/// The `Authorization` and `Roster-Act-As` headers, already read strictly once (cloning a
/// header value shares its bytes).
#[derive(Clone, Debug)]
struct Credentials {
    authorization: Option<HeaderValue>,
    act_as: Option<HeaderValue>,
}

impl Credentials {
    fn read(headers: &HeaderMap) -> Result<Self, ApiError> {
        let value = |name: &str| Ok::<_, ApiError>(single_header(headers, name)?.and(headers.get(name).cloned()));
        Ok(Credentials { authorization: value("Authorization")?, act_as: value("Roster-Act-As")? })
    }

    async fn authenticate(&self, app: &App) -> Result<auth::Caller, ApiError> {
        // Both were read as printable ASCII by `single_header` in `read`.
        let authorization = self.authorization.as_ref().and_then(|v| v.to_str().ok());
        let act_as = self.act_as.as_ref().and_then(|v| v.to_str().ok());
        auth::authenticate(&app.store, &app.tokens, authorization, act_as).await
    }
}

impl Ctx {
    /// Waits until this replica has applied `wanted` (when the call names one), then
    /// settles the caller again at that state: the revision waited for may be the one that
    /// revoked its token or removed the principal it acts as.
    pub(crate) async fn at_revision(&mut self, app: &App, wanted: Option<u64>) -> Result<(), ApiError> {
        let Some(wanted) = wanted else { return Ok(()) };
        consistency::reach(app, wanted).await?;
        self.caller = self.credentials.authenticate(app).await?;
        Ok(())
    }
}

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

/// The request id the request-id layer settled on (sent by the client or made here).
pub(crate) fn request_id(parts: &Parts) -> String {
    parts.extensions.get::<RequestId>().and_then(|id| id.header_value().to_str().ok()).unwrap_or_default().to_owned()
}

impl FromRequestParts<Arc<App>> for Ctx {
    type Rejection = ApiError;

    /// Authenticates from the headers alone. Every header that decides who is calling is
    /// read strictly: one present but repeated or unreadable is refused, never skipped,
    /// because skipping `Roster-Act-As` would run the call with the platform's rights.
    async fn from_request_parts(parts: &mut Parts, app: &Arc<App>) -> Result<Self, Self::Rejection> {
        let credentials = Credentials::read(&parts.headers)?;
        let caller = credentials.authenticate(app).await?;
        let mut ctx = Ctx { caller, request_id: request_id(parts), now: now(), credentials };
        ctx.at_revision(app, consistency::from_query(parts)?).await?;
        Ok(ctx)
    }
}

/// The path's parameters, each checked against the id alphabet when read.
pub(crate) struct Params(Vec<(String, String)>);

impl Params {
    /// A path parameter, checked against the id alphabet.
    pub(crate) fn param(&self, name: &str) -> Result<&str, ApiError> {
        let value = self.0.iter().find(|(key, _)| key == name).map(|(_, v)| v.as_str()).unwrap_or_default();
        request::id(name, value)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let raw = RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|e| ApiError::invalid(format!("path: {}", e.body_text())))?;
        Ok(Params(raw.iter().map(|(k, v)| (k.to_owned(), v.to_owned())).collect()))
    }
}

/// The query string; repeated keys keep the last value.
pub(crate) struct Query(pub(crate) BTreeMap<String, String>);

impl Query {
    pub(crate) fn get(&self, key: &str) -> Option<&String> {
        self.0.get(key)
    }

    /// Refuses query parameters the endpoint does not know (`min_revision` aside).
    pub(crate) fn known(&self, known: &[&str]) -> Result<(), ApiError> {
        // Every authenticated GET takes `min_revision` (the caller waits for it in `Ctx`).
        match self.0.keys().find(|k| k.as_str() != MIN_REVISION && !known.contains(&k.as_str())) {
            Some(unknown) => {
                Err(ApiError::invalid(format!("{unknown}: unknown query parameter (known: {})", known.join(", "))))
            }
            None => Ok(()),
        }
    }

    /// The page asked for: `cursor` (the previous page's `next_cursor`) and `limit`
    /// (`1..=max`, `default` when absent).
    pub(crate) fn page(&self, default: u64, max: u64) -> Result<PageRequest<'_>, ApiError> {
        let limit = self.number("limit", default, max)? as usize;
        Ok(PageRequest { after: self.get("cursor").map(String::as_str), limit })
    }

    /// A numeric parameter within `1..=max`, or its default.
    pub(crate) fn number(&self, key: &str, default: u64, max: u64) -> Result<u64, ApiError> {
        match self.0.get(key) {
            None => Ok(default),
            Some(text) => match text.parse::<u64>() {
                Ok(n) if (1..=max).contains(&n) => Ok(n),
                _ => Err(ApiError::invalid(format!("{key}: must be a number from 1 to {max}"))),
            },
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Query {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let map = parts.uri.query().map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect());
        Ok(Query(map.unwrap_or_default()))
    }
}

/// The raw body, read up to the body limit (past it a 413); for handlers that parse it
/// into types borrowing from it.
pub(crate) struct JsonBytes(pub(crate) Bytes);

impl FromRequest<Arc<App>> for JsonBytes {
    type Rejection = ApiError;

    async fn from_request(request: Request, app: &Arc<App>) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(request, app).await.map_err(|rejection| match rejection {
            BytesRejection::FailedToBufferBody(FailedToBufferBody::LengthLimitError(_)) => {
                too_large(app.limits.body_bytes)
            }
            other => ApiError::invalid(format!("body: {}", other.body_text())),
        })?;
        Ok(JsonBytes(bytes))
    }
}

/// A JSON body parsed strictly into `T`: the error names the field
/// (`owner.email: invalid type …`), as [`request::json`] does.
pub(crate) struct Json<T>(pub(crate) T);

impl<T: DeserializeOwned> FromRequest<Arc<App>> for Json<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, app: &Arc<App>) -> Result<Self, Self::Rejection> {
        let JsonBytes(bytes) = JsonBytes::from_request(request, app).await?;
        Ok(Json(request::json(&bytes)?))
    }
}

/// The refusal of a body past the limit.
pub(crate) fn too_large(limit: usize) -> ApiError {
    ApiError::new(Code::PayloadTooLarge, format!("the body is larger than {limit} bytes"))
}
