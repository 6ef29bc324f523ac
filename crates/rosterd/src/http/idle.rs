//! The idle timeout: a connection on which no byte has moved either way for the configured
//! time is closed. It ends the stalls hyper's header timeout does not see: a body upload
//! that stops half way, a client that stops reading its answer, an HTTP/2 connection left
//! open with nothing on it.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use hyper::rt::{Read, ReadBufCursor, Write};

/// How often, per idle timeout, a connection's activity is looked at: a connection is
/// closed after between 1 and 1 + 1/CHECKS idle timeouts of silence.
const CHECKS: u32 = 4;

/// How many times bytes moved on a connection. A counter, not a clock: reading the clock
/// on every read and write cost more than the rest of the bookkeeping.
#[derive(Clone, Debug, Default)]
pub(crate) struct Activity {
    moves: Arc<AtomicU64>,
}

impl Activity {
    pub(crate) fn new() -> Self {
        Activity::default()
    }

    fn touch(&self) {
        self.moves.fetch_add(1, Ordering::Relaxed);
    }

    /// Resolves once nothing has moved for (at least) `limit`.
    pub(crate) async fn idle_for(&self, limit: Duration) {
        let tick = limit / CHECKS;
        let (mut seen, mut quiet) = (self.moves.load(Ordering::Relaxed), 0);
        while quiet < CHECKS {
            tokio::time::sleep(tick).await;
            let now = self.moves.load(Ordering::Relaxed);
            quiet = if now == seen { quiet + 1 } else { 0 };
            seen = now;
        }
    }
}

/// A connection's transport that records its activity.
pub(crate) struct Watched<T> {
    inner: T,
    activity: Activity,
}

impl<T> Watched<T> {
    pub(crate) fn new(inner: T, activity: Activity) -> Self {
        Watched { inner, activity }
    }
}

impl<T: Read + Unpin> Read for Watched<T> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: ReadBufCursor<'_>) -> Poll<std::io::Result<()>> {
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if polled.is_ready() {
            self.activity.touch();
        }
        polled
    }
}

impl<T: Write + Unpin> Write for Watched<T> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, buf);
        if polled.is_ready() {
            self.activity.touch();
        }
        polled
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if polled.is_ready() {
            self.activity.touch();
        }
        polled
    }
}
