//! `GET /v1/watch`: the change feed for consumers (caches, search indexes), as pages that
//! can wait for the next commit (long poll) or as server-sent events. Entries come in
//! revision order from the database, so a client that resumes from the last revision it
//! saw misses nothing and sees nothing twice. The platform sees every change; a principal
//! only the changes in accounts where it holds `audit.view`, without the principals hidden
//! from it, without profiles and tokens.

use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::http::header::{ACCEPT, CACHE_CONTROL, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use hyper::body::Frame;
use roster_core::{Actor, Engine};
use roster_store::{FeedEntry, FeedOp};
use serde::Serialize;
use tokio::sync::mpsc;

use super::Reply;
use crate::http::app::App;
use crate::http::extract::{Ctx, Query};
use crate::http::problem::{ApiError, Code};

/// Longest a long poll waits before answering: under the default request timeout (30 s),
/// which would otherwise answer 408 first.
const MAX_WAIT: Duration = Duration::from_secs(25);
/// How often an event stream with nothing to say sends a keep-alive comment.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// One page of the feed.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct WatchPage {
    /// Committed changes after `since`, in revision order (those the caller may see).
    items: Vec<FeedEntry>,
    /// The `since` of the next call: the last revision this page covered, shown or not.
    next_since: u64,
}

/// Who is watching.
enum Reader {
    Platform,
    Principal(Actor),
}

/// The committed changes after a revision, a page at a time, as long polling or a stream
/// of server-sent events (`Accept: text/event-stream`; resumes from `Last-Event-ID`).
#[utoipa::path(get, path = "/v1/watch", tag = "watch",
    params(("since" = Option<i64>, Query, minimum = 0, description = "The last revision already seen (0: from the start of the feed)"),
           ("limit" = Option<u64>, Query, description = "Most entries per page, 1-1000 (default 100)"),
           ("wait_s" = Option<u64>, Query, description = "With nothing after `since`, wait up to this many seconds (0-25, default 0) for a commit")),
    responses((status = 200, description = "A page of changes (JSON) or an event stream (`text/event-stream`: `id` is the revision, `event: change`, `data` one entry)", body = WatchPage),
              (status = 410, description = "`since` is older than the feed's retention: resync from the current state")))]
pub(crate) async fn watch(
    State(app): State<Arc<App>>,
    ctx: Ctx,
    query: Query,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    query.known(&["since", "limit", "wait_s"])?;
    // Revisions are stored as signed 64-bit numbers: anything past that is no revision.
    let revision = |text: &str| text.parse::<i64>().ok().and_then(|n| u64::try_from(n).ok());
    let resumed = headers.get("last-event-id").and_then(|v| v.to_str().ok()).and_then(revision);
    let since = match query.get("since") {
        Some(text) => revision(text)
            .ok_or_else(|| ApiError::invalid(format!("since: must be a revision number, 0 to {}", i64::MAX)))?,
        None => resumed.unwrap_or(0),
    };
    let limit = query.number("limit", 100, 1000)?;
    let wait = match query.get("wait_s") {
        None => Duration::ZERO,
        Some(text) => match text.parse::<u64>() {
            Ok(s) if Duration::from_secs(s) <= MAX_WAIT => Duration::from_secs(s),
            _ => return Err(ApiError::invalid("wait_s: must be a number from 0 to 25")),
        },
    };
    let reader = if ctx.caller.is_platform() { Reader::Platform } else { Reader::Principal(ctx.caller.actor()) };
    let stream = headers.get(ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|v| v.contains("text/event-stream"));
    // The first page is read here, so a `since` past the retention is a 410, not an event.
    let first = page(&app, &reader, since, limit, ctx.now).await?;
    if stream {
        // The token is checked again while the stream is open: revoked, the stream ends.
        let token = headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer rst_"))
            .and_then(|rest| rest.split_once('_'))
            .map(|(id, _)| id.to_owned())
            .ok_or_else(|| ApiError::new(Code::Unauthenticated, "unknown token"))?;
        return Ok(events(app, reader, token, first, limit));
    }
    let mut current = first;
    let deadline = tokio::time::Instant::now() + wait;
    while current.next_since == since && tokio::time::Instant::now() < deadline {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        if !app.progress.reached_within(since + 1, left).await {
            break;
        }
        current = page(&app, &reader, since, limit, crate::daemon::now()).await?;
    }
    Ok(Reply::ok(current)?.into_response())
}

/// The entries after `since` the reader may see; 410 when the feed no longer reaches back
/// to `since`.
async fn page(app: &App, reader: &Reader, since: u64, limit: u64, now: i64) -> Result<WatchPage, ApiError> {
    // The committed revision first: every entry up to it is in the feed unless pruned.
    let committed = app.store.revision().await?;
    let entries = app.store.feed_after(since, limit).await?;
    if since < committed && entries.first().is_none_or(|first| first.revision > since + 1) {
        return Err(ApiError::new(
            Code::Gone,
            format!(
                "revision {since} is older than the change feed keeps; read the current state and watch from its revision"
            ),
        ));
    }
    let next_since = entries.last().map_or(since, |last| last.revision);
    let items = match reader {
        Reader::Platform => entries,
        Reader::Principal(actor) => {
            let engine = app.engine.read().await;
            entries.into_iter().filter_map(|entry| visible(&engine, actor, now, entry)).collect()
        }
    };
    Ok(WatchPage { items, next_since })
}

/// The part of an entry a principal may see: its accounts where it holds `audit.view`,
/// and in them the changes naming no principal hidden from it. Profiles and tokens are the
/// platform's.
fn visible(engine: &Engine, actor: &Actor, now: i64, entry: FeedEntry) -> Option<FeedEntry> {
    let accounts: Vec<String> = entry
        .accounts
        .iter()
        .filter(|account| engine.require_read(actor, account, None, Some("audit.view"), now).is_ok())
        .cloned()
        .collect();
    let every_account = accounts.len() == entry.accounts.len();
    let changes: Vec<FeedOp> = entry
        .changes
        .into_iter()
        .filter(|op| match op {
            FeedOp::Engine { change } => {
                let touched = change.accounts();
                touched.iter().all(|a| accounts.iter().any(|seen| seen == a))
                    && change.principals().iter().all(|p| touched.iter().all(|a| !engine.is_hidden_from(actor, a, p)))
            }
            FeedOp::AccountName { account, .. } | FeedOp::InviteCreated { account, .. } => accounts.contains(account),
            FeedOp::InviteAccepted { .. } | FeedOp::InviteRevoked { .. } => every_account,
            FeedOp::NewPrincipal { .. }
            | FeedOp::Principal { .. }
            | FeedOp::TokenCreated { .. }
            | FeedOp::TokenRevoked { .. } => false,
        })
        .collect();
    (!changes.is_empty()).then_some(FeedEntry { accounts, changes, ..entry })
}

/// The event stream: the first page, then each new page as commits arrive, a keep-alive
/// comment when nothing happens; it ends when the client goes away, or with an `error`
/// event once the caller's token is revoked (checked before each page and keep-alive).
fn events(app: Arc<App>, reader: Reader, token: String, first: WatchPage, limit: u64) -> Response {
    let (sender, receiver) = mpsc::channel::<Bytes>(16);
    tokio::spawn(async move {
        let revoked = || {
            let data = serde_json::json!({ "code": Code::Unauthenticated.as_str(), "detail": "the token was revoked" });
            Bytes::from(format!("event: error\ndata: {data}\n\n"))
        };
        let mut current: Result<WatchPage, ApiError> = Ok(first);
        loop {
            // The token is checked after the page was read and before it is sent: a page
            // read before a revoke committed holds only changes from before it.
            if !token_live(&app, &token).await {
                let _ = sender.send(revoked()).await;
                return;
            }
            let since = match current {
                Ok(page) => {
                    for entry in &page.items {
                        let Ok(data) = serde_json::to_string(entry) else { return };
                        let event = format!("id: {}\nevent: change\ndata: {data}\n\n", entry.revision);
                        if sender.send(Bytes::from(event)).await.is_err() {
                            return;
                        }
                    }
                    page.next_since
                }
                Err(error) => {
                    let data = serde_json::json!({ "code": error.code.as_str(), "detail": error.detail });
                    let _ = sender.send(Bytes::from(format!("event: error\ndata: {data}\n\n"))).await;
                    return;
                }
            };
            while !app.progress.reached_within(since + 1, KEEP_ALIVE).await {
                if !token_live(&app, &token).await {
                    let _ = sender.send(revoked()).await;
                    return;
                }
                if sender.send(Bytes::from_static(b": keep-alive\n\n")).await.is_err() {
                    return;
                }
            }
            current = page(&app, &reader, since, limit, crate::daemon::now()).await;
        }
    });
    let mut response = axum::body::Body::new(Events(receiver)).into_response();
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, axum::http::HeaderValue::from_static("text/event-stream"));
    headers.insert(CACHE_CONTROL, axum::http::HeaderValue::from_static("no-cache"));
    response
}

/// Whether the stream's token is still valid (read from the database, not the cache).
async fn token_live(app: &App, token: &str) -> bool {
    matches!(app.store.token(token).await, Ok(Some(record)) if record.revoked_at.is_none())
}

/// A response body fed by the event stream's task.
struct Events(mpsc::Receiver<Bytes>);

impl hyper::body::Body for Events {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        self.0.poll_recv(cx).map(|next| next.map(|bytes| Ok(Frame::data(bytes))))
    }
}
