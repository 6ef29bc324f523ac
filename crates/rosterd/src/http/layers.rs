//! The envelope around every endpoint: the request span, request ids (`Roster-Request-Id`,
//! also `X-Request-ID`), strict framing headers, problem+json for the answers the router
//! and tower-http produce themselves (404, 405, 408, 413), and the request metrics.

use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::http::header::{ALLOW, CONTENT_LENGTH, CONTENT_TYPE};
use axum::http::{HeaderName, HeaderValue, Response, StatusCode};
use axum::middleware::Next;
use axum::response::IntoResponse;
use tower_http::request_id::{MakeRequestId, RequestId};
use tracing::Instrument;

use super::problem::{ApiError, Code};
use super::request::single_header;

/// The request id header, in and out.
pub(crate) static REQUEST_ID: HeaderName = HeaderName::from_static("roster-request-id");
/// The request id header many proxies and clients use; accepted and echoed.
pub(crate) static X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Makes `req_<hex>` ids for requests that bring none: a random prefix drawn once per
/// process and a counter, so ids are unique per daemon run (and, by the prefix, across
/// replicas) at the cost of one small allocation, no system call.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct NewRequestId;

/// The per-process prefix and the counter of [`NewRequestId`].
static REQUEST_IDS: std::sync::LazyLock<(u64, std::sync::atomic::AtomicU64)> = std::sync::LazyLock::new(|| {
    let mut bytes = [0u8; 8];
    // Without randomness the prefix still differs per process and start.
    let prefix = match getrandom::fill(&mut bytes) {
        Ok(()) => u64::from_le_bytes(bytes),
        Err(_) => {
            let nanos =
                std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
            (u64::from(std::process::id()) << 32) ^ u64::from(nanos)
        }
    };
    (prefix, std::sync::atomic::AtomicU64::new(0))
});

impl MakeRequestId for NewRequestId {
    fn make_request_id<B>(&mut self, _: &axum::http::Request<B>) -> Option<RequestId> {
        let (prefix, counter) = &*REQUEST_IDS;
        let n = counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        HeaderValue::try_from(format!("req_{prefix:016x}{n:x}")).ok().map(RequestId::new)
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

/// The outermost layer, one pass around everything else: opens the request's span;
/// refuses unreadable ids and framing headers before anything runs; settles the request id
/// (the client's `Roster-Request-Id` or `X-Request-ID`, else a new one) for the handlers and
/// the span, and sends it back as `Roster-Request-Id` (and as `X-Request-ID` when it came
/// that way); renders the answers made outside the handlers as problem+json; records the
/// status on the span and times the request for the metrics when they are exported. One
/// middleware rather than a layer each: every layer cost an allocation or two per request.
pub(crate) async fn envelope(
    State(app): State<std::sync::Arc<super::app::App>>,
    request: Request,
    next: Next,
) -> Response<Body> {
    let span = request_span(&request);
    let response = answer(&app, request, next).instrument(span.clone()).await;
    let status = response.status().as_u16();
    span.record("http.response.status_code", status);
    if status >= 500 {
        span.record("otel.status_code", "ERROR");
    }
    response
}

/// [`envelope`] inside the span.
async fn answer(app: &super::app::App, mut request: Request, next: Next) -> Response<Body> {
    let started = app.metrics.enabled().then(std::time::Instant::now);
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
    let id = match sent.and_then(|id| HeaderValue::try_from(id).ok()) {
        Some(value) => RequestId::new(value),
        None => match NewRequestId.make_request_id(&request) {
            Some(id) => id,
            None => RequestId::new(HeaderValue::from_static("req_unnumbered")),
        },
    };
    let header = id.header_value().clone();
    if let Ok(text) = header.to_str() {
        tracing::Span::current().record("roster.request_id", text);
    }
    request.extensions_mut().insert(id);
    let method = request.method().clone();
    let uri = request.uri().clone();
    let route = started.and(request.extensions().get::<MatchedPath>().cloned());
    let mut response = render_bare_error(app.limits.body_bytes, &method, &uri, next.run(request).await);
    if echo_x {
        response.headers_mut().insert(X_REQUEST_ID.clone(), header.clone());
    }
    response.headers_mut().insert(REQUEST_ID.clone(), header);
    if let Some(started) = started {
        let seconds = started.elapsed().as_secs_f64();
        let route = route.as_ref().map(MatchedPath::as_str);
        app.metrics.request(method.as_str(), route, response.status().as_u16(), seconds);
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

/// A bare error answer as problem+json; any other answer as it is. `body_bytes` is the
/// body limit, for the 413's wording.
fn render_bare_error(
    body_bytes: usize,
    method: &axum::http::Method,
    uri: &axum::http::Uri,
    response: Response<Body>,
) -> Response<Body> {
    let status = response.status();
    let is_problem =
        response.headers().get(CONTENT_TYPE).is_some_and(|v| v.as_bytes().starts_with(b"application/problem+json"));
    if !(status.is_client_error() || status.is_server_error()) || is_problem {
        return response;
    }
    let error = match status {
        StatusCode::NOT_FOUND => ApiError::not_found(format!("no endpoint at {}", uri.path())),
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

/// The request's span, named `METHOD /route` as OpenTelemetry's HTTP conventions say.
fn request_span(request: &Request) -> tracing::Span {
    let method = request.method();
    let route = request.extensions().get::<MatchedPath>().map(MatchedPath::as_str);
    // The fields are only evaluated when the span is enabled (spans exported or logged at
    // info); its name is recorded then too, so a disabled span costs no formatting.
    let span = tracing::info_span!(
        "http.request",
        "otel.name" = tracing::field::Empty,
        "otel.kind" = "server",
        "http.request.method" = %method,
        "url.scheme" = "http",
        "url.path" = %request.uri().path(),
        "http.route" = route,
        "http.response.status_code" = tracing::field::Empty,
        "roster.request_id" = tracing::field::Empty,
        "otel.status_code" = tracing::field::Empty,
    );
    if !span.is_disabled() {
        match route {
            Some(route) => span.record("otel.name", format!("{method} {route}")),
            None => span.record("otel.name", method.as_str()),
        };
    }
    span
}
