//! The HTTP API of API.md over hyper 1: accept loop with graceful shutdown, per-request
//! limits, request ids, authentication, routing and problem+json errors.

pub(crate) mod app;
pub(crate) mod auth;
pub(crate) mod handlers;
pub(crate) mod problem;
pub(crate) mod request;
pub(crate) mod routes;

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{CONTENT_LENGTH, CONTENT_TYPE, HeaderValue};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tracing::Instrument;

use app::App;
use handlers::{Body, Reply};
use problem::{ApiError, Code};
use request::{Ctx, Req};
use routes::{Routed, Router};

/// Header carrying the request id, in and out.
const REQUEST_ID: &str = "roster-request-id";

/// What clients may hold of the server.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ConnectionLimits {
    /// Time to send a request's headers (and to start the next one on a kept-alive
    /// connection): a client that trickles or idles is closed.
    pub(crate) header_read_timeout: Duration,
    /// Connections served at once; more wait in the kernel's listen backlog.
    pub(crate) max_connections: usize,
    /// Serve HTTP/2 too (off by default).
    pub(crate) http2: bool,
}

impl Default for ConnectionLimits {
    /// The configuration's defaults (`[server]` in README).
    fn default() -> Self {
        ConnectionLimits { header_read_timeout: Duration::from_secs(10), max_connections: 1024, http2: false }
    }
}

/// How long the accept loop waits after a failed accept (too many open files, …) before
/// trying again, at first and at most: a failing accept never spins.
const ACCEPT_BACKOFF: (Duration, Duration) = (Duration::from_millis(10), Duration::from_secs(1));

/// Serves until `shutdown` resolves, then stops accepting and lets in-flight requests
/// finish (for at most `grace`).
pub(crate) async fn serve(
    app: Arc<App>,
    listener: TcpListener,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()>,
    grace: Duration,
) -> std::io::Result<()> {
    let router = Arc::new(Router::new());
    let graceful = GracefulShutdown::new();
    let mut builder = auto::Builder::new(TokioExecutor::new());
    // Without a timer hyper enforces no header timeout at all.
    builder.http1().timer(TokioTimer::new()).header_read_timeout(limits.header_read_timeout);
    builder.http2().timer(TokioTimer::new());
    let builder = if limits.http2 { builder } else { builder.http1_only() };
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let mut backoff = ACCEPT_BACKOFF.0;
    let mut last_warning: Option<Instant> = None;
    tokio::pin!(shutdown);
    loop {
        // A connection slot first: past the limit, new connections wait in the backlog
        // instead of being accepted and starved.
        let slot = tokio::select! {
            slot = Arc::clone(&slots).acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(accepted) => {
                        backoff = ACCEPT_BACKOFF.0;
                        accepted
                    }
                    Err(error) => {
                        if last_warning.is_none_or(|at| at.elapsed() >= Duration::from_secs(1)) {
                            tracing::warn!(%error, "accept failed; backing off");
                            last_warning = Some(Instant::now());
                        }
                        tokio::time::sleep(backoff).await;
                        backoff = (backoff * 2).min(ACCEPT_BACKOFF.1);
                        continue;
                    }
                };
                let (app, router) = (Arc::clone(&app), Arc::clone(&router));
                let service = hyper::service::service_fn(move |request| {
                    let (app, router) = (Arc::clone(&app), Arc::clone(&router));
                    async move { Ok::<_, Infallible>(handle(&app, &router, request).await) }
                });
                let connection = graceful.watch(builder.serve_connection(TokioIo::new(stream), service).into_owned());
                tokio::spawn(async move {
                    if let Err(error) = connection.await {
                        tracing::debug!(%error, %peer, "connection ended with an error");
                    }
                    drop(slot);
                });
            }
            () = &mut shutdown => break,
        }
    }
    drop(listener);
    tracing::info!("shutting down: waiting for in-flight requests");
    if tokio::time::timeout(grace, graceful.shutdown()).await.is_err() {
        tracing::warn!("in-flight requests did not finish within {grace:?}");
    }
    Ok(())
}

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

fn request_id(request: &Request<Incoming>) -> Result<String, ApiError> {
    match request::single_header(request.headers(), REQUEST_ID)? {
        Some(value) if roster_core::ids::is_valid_id(value) => Ok(value.to_owned()),
        Some(_) => Err(ApiError::invalid("header Roster-Request-Id: 1-128 characters of A-Z a-z 0-9 _ . : @ -")),
        None => handlers::new_id("req"),
    }
}

async fn handle(app: &App, router: &Router, request: Request<Incoming>) -> Response<Full<Bytes>> {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let routed = router.route(&method, &path);
    let name = match &routed {
        Routed::Found(_, pattern, _) => format!("{method} {pattern}"),
        _ => method.to_string(),
    };
    let span = tracing::info_span!(
        "http.request",
        "otel.name" = %name,
        "otel.kind" = "server",
        "http.request.method" = %method,
        "url.scheme" = "http",
        "url.path" = %path,
        "http.route" = tracing::field::Empty,
        "http.response.status_code" = tracing::field::Empty,
        "roster.request_id" = tracing::field::Empty,
        "otel.status_code" = tracing::field::Empty,
    );
    async move {
        let (id, result) = match request_id(&request) {
            Ok(id) => {
                tracing::Span::current().record("roster.request_id", id.as_str());
                let result = respond(app, routed, request, &id).await;
                (id, result)
            }
            Err(error) => (handlers::new_id("req").unwrap_or_default(), Err(error)),
        };
        let response = render(result, &id);
        let status = response.status().as_u16();
        tracing::Span::current().record("http.response.status_code", status);
        if status >= 500 {
            tracing::Span::current().record("otel.status_code", "ERROR");
        }
        response
    }
    .instrument(span)
    .await
}

async fn respond(app: &App, routed: Routed, request: Request<Incoming>, request_id: &str) -> Result<Reply, ApiError> {
    let (endpoint, pattern, params) = match routed {
        Routed::Found(endpoint, pattern, params) => (endpoint, pattern, params),
        Routed::WrongMethod(allowed) => {
            return Err(ApiError::new(
                Code::MethodNotAllowed,
                format!("{} is not allowed here (allowed: {})", request.method(), allowed.join(", ")),
            ));
        }
        Routed::NotFound => return Err(ApiError::not_found(format!("no endpoint at {}", request.uri().path()))),
    };
    tracing::Span::current().record("http.route", pattern);
    // Every header that decides who is calling (or how much is read) is read strictly: a
    // value that is present but repeated or unreadable is refused, never skipped, because
    // skipping `Roster-Act-As` would run the call with the platform's rights.
    let authorization = request::single_header(request.headers(), "Authorization")?.map(str::to_owned);
    let act_as = request::single_header(request.headers(), "Roster-Act-As")?.map(str::to_owned);
    let query = request::query(request.uri().query());
    let declared = request::single_header(request.headers(), CONTENT_LENGTH.as_str())?
        .map(|v| v.parse::<usize>().map_err(|_| ApiError::invalid("header Content-Length: not a number")))
        .transpose()?;
    let body = request.into_body();
    if declared.is_some_and(|n| n > app.limits.body_bytes) {
        linger(body);
        return Err(too_large(app));
    }
    // Who is calling is settled from the headers alone, before any of the body is read:
    // a request without a valid token never has its body buffered.
    let caller = if endpoint.is_public() {
        auth::Caller::Service { name: "public".into(), act_as: None }
    } else {
        match auth::authenticate(&app.store, &app.tokens, authorization.as_deref(), act_as.as_deref()).await {
            Ok(caller) => caller,
            Err(error) => {
                linger(body);
                return Err(error);
            }
        }
    };
    let body = read_body(app, body).await?;
    let req = Req { params: params.into_iter().collect(), query, body };
    let ctx = Ctx { caller, request_id: request_id.to_owned(), now: now() };
    routes::dispatch(app, &ctx, endpoint, &req).await
}

/// The body, up to the limit; past it a 413 (and the rest is left to [`linger`]).
async fn read_body(app: &App, mut body: Incoming) -> Result<Bytes, ApiError> {
    let mut read = BytesMut::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|error| ApiError::invalid(format!("body: {error}")))?;
        if let Some(data) = frame.data_ref() {
            if read.len() + data.len() > app.limits.body_bytes {
                linger(body);
                return Err(too_large(app));
            }
            read.extend_from_slice(data);
        }
    }
    Ok(read.freeze())
}

/// Most of a refused request's body read (and dropped) after answering, and for how long.
const LINGER: (usize, Duration) = (32 << 20, Duration::from_secs(10));

/// Reads and drops what is left of a refused request's body, within [`LINGER`], so a
/// client that writes its whole body before reading (as many HTTP libraries do) reads the
/// refusal instead of a connection reset. Nothing is kept: this costs bandwidth, not
/// memory, and stops at the bound.
fn linger(mut body: Incoming) {
    tokio::spawn(async move {
        let drain = async {
            let mut left = LINGER.0;
            while let Some(Ok(frame)) = body.frame().await {
                left = left.saturating_sub(frame.data_ref().map_or(0, Bytes::len));
                if left == 0 {
                    break;
                }
            }
        };
        let _ = tokio::time::timeout(LINGER.1, drain).await;
    });
}

fn too_large(app: &App) -> ApiError {
    ApiError::new(Code::PayloadTooLarge, format!("the body is larger than {} bytes", app.limits.body_bytes))
}

fn render(result: Result<Reply, ApiError>, request_id: &str) -> Response<Full<Bytes>> {
    let (status, content_type, bytes, revision) = match result {
        Ok(Reply { status, body: Body::Json(value), revision }) => {
            (status, "application/json", value.to_string().into_bytes(), revision)
        }
        Ok(Reply { status, body: Body::Serialized(bytes), revision }) => (status, "application/json", bytes, revision),
        Ok(Reply { status, body: Body::Text { content_type, text }, revision }) => {
            (status, content_type, text.into_bytes(), revision)
        }
        Err(error) => (error.code.status(), "application/problem+json", error.body().to_string().into_bytes(), None),
    };
    let mut response = Response::new(Full::new(Bytes::from(bytes)));
    *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(value) = HeaderValue::from_str(request_id) {
        headers.insert(REQUEST_ID, value);
    }
    if let Some(revision) = revision {
        headers.insert("roster-revision", HeaderValue::from(revision));
    }
    response
}
