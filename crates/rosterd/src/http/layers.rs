//! The tower layers around every endpoint: request ids (`Roster-Request-Id`, also
//! `X-Request-ID`), strict framing headers, the request span, and problem+json for the
//! answers the router and tower-http produce themselves (404, 405, 408, 413).

use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::http::header::{ALLOW, CONTENT_LENGTH, CONTENT_TYPE};
use axum::http::{HeaderName, HeaderValue, Response, StatusCode};
use axum::middleware::Next;
use axum::response::IntoResponse;
use tower_http::request_id::{MakeRequestId, RequestId};

use super::problem::{ApiError, Code};
use super::request::single_header;

/// The request id header, in and out.
pub(crate) static REQUEST_ID: HeaderName = HeaderName::from_static("roster-request-id");
/// The request id header many proxies and clients use; accepted and echoed.
pub(crate) static X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Makes `req_<random>` ids for requests that bring none.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct NewRequestId;

impl MakeRequestId for NewRequestId {
    fn make_request_id<B>(&mut self, _: &axum::http::Request<B>) -> Option<RequestId> {
        let id = super::handlers::new_id("req").ok()?;
        HeaderValue::from_str(&id).ok().map(RequestId::new)
    }
}

/// A client's request id, read strictly: `Roster-Request-Id`, else `X-Request-ID`, each at
/// most once and within the id alphabet (it is written into the audit trail).
fn client_request_id(request: &Request) -> Result<Option<String>, ApiError> {
    for (header, name) in [(&REQUEST_ID, "Roster-Request-Id"), (&X_REQUEST_ID, "X-Request-ID")] {
        match single_header(request.headers(), header.as_str())? {
            Some(value) if roster_core::ids::is_valid_id(value) => return Ok(Some(value.to_owned())),
            Some(_) => {
                return Err(ApiError::invalid(format!("header {name}: 1-128 characters of A-Z a-z 0-9 _ . : @ -")));
            }
            None => {}
        }
    }
    Ok(None)
}

/// The outermost layer: settles the request id the client sent (as `Roster-Request-Id`,
/// for the layers inside) and echoes `X-Request-ID` when it came that way; refuses
/// unreadable ids and framing headers before anything else runs.
pub(crate) async fn request_ids(mut request: Request, next: Next) -> Response<Body> {
    let sent = match client_request_id(&request).and_then(|id| strict_framing(&request).map(|()| id)) {
        Ok(sent) => sent,
        Err(error) => {
            let mut response = error.into_response();
            if let Some(id) = NewRequestId.make_request_id(&request) {
                response.headers_mut().insert(REQUEST_ID.clone(), id.into_header_value());
            }
            return response;
        }
    };
    let echo_x = request.headers().contains_key(&X_REQUEST_ID);
    if let Some(id) = &sent
        && let Ok(value) = HeaderValue::from_str(id)
    {
        request.headers_mut().insert(REQUEST_ID.clone(), value);
    }
    let mut response = next.run(request).await;
    if echo_x && let Some(id) = response.headers().get(&REQUEST_ID).cloned() {
        response.headers_mut().insert(X_REQUEST_ID.clone(), id);
    }
    response
}

/// `Content-Length` sent twice or unreadable is refused, never guessed at.
fn strict_framing(request: &Request) -> Result<(), ApiError> {
    match single_header(request.headers(), CONTENT_LENGTH.as_str())? {
        Some(value) if value.parse::<u64>().is_err() => Err(ApiError::invalid("header Content-Length: not a number")),
        _ => Ok(()),
    }
}

/// Renders the answers made outside the handlers (the router's 404 and 405, tower-http's
/// 408 and 413) as the API's problem+json, like every other refusal.
/// `body_bytes` is the body limit, for the 413's wording.
pub(crate) async fn problems_for_bare_errors(
    State(body_bytes): State<usize>,
    request: Request,
    next: Next,
) -> Response<Body> {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let response = next.run(request).await;
    let status = response.status();
    let is_problem =
        response.headers().get(CONTENT_TYPE).is_some_and(|v| v.as_bytes().starts_with(b"application/problem+json"));
    if !(status.is_client_error() || status.is_server_error()) || is_problem {
        return response;
    }
    let error = match status {
        StatusCode::NOT_FOUND => ApiError::not_found(format!("no endpoint at {path}")),
        StatusCode::METHOD_NOT_ALLOWED => {
            let allowed = response.headers().get(ALLOW).and_then(|v| v.to_str().ok()).unwrap_or_default();
            ApiError::new(Code::MethodNotAllowed, format!("{method} is not allowed here (allowed: {allowed})"))
        }
        StatusCode::PAYLOAD_TOO_LARGE => super::extract::too_large(body_bytes),
        StatusCode::REQUEST_TIMEOUT => {
            ApiError::new(Code::RequestTimeout, "the request was not answered within the server's request timeout")
        }
        other => ApiError::new(Code::Internal, format!("unexpected {other}")),
    };
    let mut rendered = error.into_response();
    if let Some(allow) = response.headers().get(ALLOW) {
        rendered.headers_mut().insert(ALLOW, allow.clone());
    }
    rendered
}

/// Times each request for the metrics, by method, route and status.
pub(crate) async fn record_request(
    State(app): State<std::sync::Arc<super::app::App>>,
    request: Request,
    next: Next,
) -> Response<Body> {
    let started = std::time::Instant::now();
    let method = request.method().clone();
    let route = request.extensions().get::<MatchedPath>().map(|r| r.as_str().to_owned());
    let response = next.run(request).await;
    let seconds = started.elapsed().as_secs_f64();
    app.metrics.request(method.as_str(), route.as_deref(), response.status().as_u16(), seconds);
    response
}

/// The request's span, named `METHOD /route` as OpenTelemetry's HTTP conventions say.
pub(crate) fn request_span(request: &axum::http::Request<Body>) -> tracing::Span {
    let method = request.method();
    let route = request.extensions().get::<MatchedPath>().map(MatchedPath::as_str);
    let name = match route {
        Some(route) => format!("{method} {route}"),
        None => method.to_string(),
    };
    let request_id = request.extensions().get::<RequestId>().and_then(|id| id.header_value().to_str().ok());
    tracing::info_span!(
        "http.request",
        "otel.name" = %name,
        "otel.kind" = "server",
        "http.request.method" = %method,
        "url.scheme" = "http",
        "url.path" = %request.uri().path(),
        "http.route" = route,
        "http.response.status_code" = tracing::field::Empty,
        "roster.request_id" = request_id,
        "otel.status_code" = tracing::field::Empty,
    )
}

/// Records the answer's status on the request span.
pub(crate) fn record_status(response: &Response<Body>, _: std::time::Duration, span: &tracing::Span) {
    let status = response.status().as_u16();
    span.record("http.response.status_code", status);
    if status >= 500 {
        span.record("otel.status_code", "ERROR");
    }
}
