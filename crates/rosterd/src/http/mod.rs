//! The HTTP API of API.md: axum on hyper 1. This module owns the connections (accept loop
//! with a connection limit and backoff, the header, idle and request timeouts, graceful
//! shutdown); [`router`] owns the endpoints and the layers around them.

pub(crate) mod app;
pub(crate) mod auth;
pub(crate) mod consistency;
pub(crate) mod extract;
pub(crate) mod handlers;
pub(crate) mod idle;
pub(crate) mod layers;
pub(crate) mod linger;
pub(crate) mod openapi;
pub(crate) mod problem;
pub(crate) mod request;
pub(crate) mod router;

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hyper::Request;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceExt;

use app::App;

/// What clients may hold of the server (`[server]` in README).
#[derive(Clone, Copy, Debug)]
pub(crate) struct ConnectionLimits {
    /// Time to send a request's headers (and to start the next one on a kept-alive
    /// connection): a client that trickles or idles is closed.
    pub(crate) header_read_timeout: Duration,
    /// A connection on which no byte moves either way for this long is closed.
    pub(crate) idle_timeout: Duration,
    /// Time from a request's headers to its answer, body upload included.
    pub(crate) request_timeout: Duration,
    /// Connections served at once; more wait in the kernel's listen backlog.
    pub(crate) max_connections: usize,
    /// Serve HTTP/2 too (off by default).
    pub(crate) http2: bool,
    /// Concurrent streams on one HTTP/2 connection.
    pub(crate) http2_max_concurrent_streams: u32,
    /// Largest header list an HTTP/2 request may send, in bytes.
    pub(crate) http2_max_header_list_bytes: u32,
}

impl Default for ConnectionLimits {
    /// The configuration's defaults (`[server]` in README).
    fn default() -> Self {
        ConnectionLimits {
            header_read_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            request_timeout: Duration::from_secs(30),
            max_connections: 1024,
            http2: false,
            http2_max_concurrent_streams: 100,
            http2_max_header_list_bytes: 16 << 10,
        }
    }
}

/// Most bytes hyper buffers from one HTTP/1 connection; a request's head must fit in it
/// (16 KiB, as HTTP/2's default header list limit).
const READ_BUFFER: usize = 16 << 10;

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
    let router = router::build(app, limits.request_timeout);
    let graceful = GracefulShutdown::new();
    let mut builder = auto::Builder::new(TokioExecutor::new());
    // Without a timer hyper enforces no header timeout at all. The read buffer is capped
    // (hyper's default lets it grow to ~400 KiB per connection): a body is read a frame at a
    // time anyway, and many connections sending fast must cost little memory each (300
    // connections sending unauthenticated 1 MiB bodies grew the daemon by 166 MiB with the
    // default, 40 MiB with 64 KiB, 10 MiB with 16 KiB).
    builder.http1().timer(TokioTimer::new()).header_read_timeout(limits.header_read_timeout).max_buf_size(READ_BUFFER);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(limits.http2_max_concurrent_streams)
        .max_header_list_size(limits.http2_max_header_list_bytes)
        .max_pending_accept_reset_streams(20)
        .max_local_error_reset_streams(Some(100));
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
                let router = router.clone();
                let service = hyper::service::service_fn(move |request: Request<Incoming>| {
                    let request = request.map(|body| axum::body::Body::new(linger::Lingering::new(body)));
                    router.clone().oneshot(request)
                });
                let activity = idle::Activity::new();
                let io = idle::Watched::new(TokioIo::new(stream), activity.clone());
                let connection = graceful.watch(builder.serve_connection(io, service).into_owned());
                tokio::spawn(async move {
                    tokio::select! {
                        ended = connection => if let Err(error) = ended {
                            tracing::debug!(%error, %peer, "connection ended with an error");
                        },
                        () = activity.idle_for(limits.idle_timeout) => {
                            tracing::debug!(%peer, "connection idle past the idle timeout; closed");
                        }
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
