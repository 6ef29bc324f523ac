//! Lingering close: a request body that is dropped before its end (an early 401, 413 or
//! 400 answered from the headers) is read and thrown away in the background, within
//! [`LINGER`], so a client that writes its whole body before reading (as many HTTP
//! libraries do) reads the answer instead of a connection reset. Nothing is kept: this
//! costs bandwidth, not memory, and stops at the bound.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::{Body, Frame, Incoming, SizeHint};

/// Most of a refused request's body read (and dropped) after answering, and for how long.
const LINGER: (usize, Duration) = (32 << 20, Duration::from_secs(10));

/// A request body that drains what is left of itself when dropped unfinished.
pub(crate) struct Lingering {
    inner: Option<Incoming>,
    finished: bool,
}

impl Lingering {
    pub(crate) fn new(body: Incoming) -> Self {
        Lingering { inner: Some(body), finished: false }
    }
}

impl Body for Lingering {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let Some(inner) = self.inner.as_mut() else { return Poll::Ready(None) };
        let polled = Pin::new(inner).poll_frame(cx);
        if matches!(polled, Poll::Ready(None | Some(Err(_)))) {
            self.finished = true;
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.as_ref().is_none_or(Incoming::is_end_stream)
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.as_ref().map(Incoming::size_hint).unwrap_or_default()
    }
}

impl Drop for Lingering {
    fn drop(&mut self) {
        let Some(mut body) = self.inner.take() else { return };
        if self.finished || body.is_end_stream() {
            return;
        }
        // Without a runtime (shutting down) there is nobody left to answer anyway.
        let Ok(runtime) = tokio::runtime::Handle::try_current() else { return };
        runtime.spawn(async move {
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
}
