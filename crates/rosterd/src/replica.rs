//! Staying in step with the other replicas on the same database: the change feed applied
//! strictly in revision order (woken by PostgreSQL `LISTEN`, by a reader waiting for a
//! `min_revision`, or by the poll interval), the snapshot rebuilt from the tables when the
//! feed has a gap, and revoked tokens dropped from the cache as their revoke is applied.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use roster_core::Engine;
use roster_store::{FeedEntry, FeedOp, Store, StoreError, WriteLock};
use serde::{Deserialize, Serialize};
use tokio::sync::{Notify, watch};

use crate::http::app::App;

/// Feed entries read per query while catching up.
const PAGE: u64 = 1000;

/// The `[replication]` section.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct ReplicationConfig {
    /// How often the feed is read when nothing woke the follower (PostgreSQL notifies at
    /// each commit; this is the fallback there, and the way SQLite replicas follow).
    pub(crate) poll_interval_ms: u64,
    /// How long feed entries are kept (a replica further behind rebuilds from the tables,
    /// a watcher further behind is told to resync).
    pub(crate) feed_retention_s: u64,
    /// How long a read or decision with `min_revision` waits for this replica to reach it
    /// before answering 409 `stale`.
    pub(crate) min_revision_timeout_ms: u64,
    /// `/readyz` answers 503 while this replica is more than this many revisions behind
    /// the newest it has seen.
    pub(crate) max_ready_lag: u64,
}

impl Default for ReplicationConfig {
    fn default() -> Self {
        ReplicationConfig {
            poll_interval_ms: 500,
            feed_retention_s: 7 * 24 * 3600,
            min_revision_timeout_ms: 5000,
            max_ready_lag: 1000,
        }
    }
}

/// What the replica knows about its progress, shared by the handlers and the follower.
pub(crate) struct Progress {
    /// The revision the engine has applied; readers waiting for a `min_revision` watch it.
    applied: watch::Sender<u64>,
    /// The newest revision seen in the feed or committed here.
    seen: AtomicU64,
    /// Wakes the follower (a reader is waiting for a revision this replica has not reached).
    wake: Notify,
    /// How long a `min_revision` waits.
    pub(crate) wait: Duration,
    /// Most revisions behind at which `/readyz` still answers ready.
    pub(crate) max_lag: u64,
}

impl Progress {
    pub(crate) fn new(revision: u64, config: &ReplicationConfig) -> Progress {
        Progress {
            applied: watch::Sender::new(revision),
            seen: AtomicU64::new(revision),
            wake: Notify::new(),
            wait: Duration::from_millis(config.min_revision_timeout_ms),
            max_lag: config.max_ready_lag,
        }
    }

    /// Records the engine's revision after a change to it.
    pub(crate) fn applied(&self, revision: u64) {
        self.seen.fetch_max(revision, Ordering::Relaxed);
        self.applied.send_if_modified(|current| {
            let newer = revision > *current;
            if newer {
                *current = revision;
            }
            newer
        });
    }

    /// The newest revision this replica knows exists, and how far its engine is behind.
    pub(crate) fn lag(&self) -> (u64, u64) {
        let applied = *self.applied.borrow();
        let seen = self.seen.load(Ordering::Relaxed).max(applied);
        (seen, seen - applied)
    }

    fn seen(&self, revision: u64) {
        self.seen.fetch_max(revision, Ordering::Relaxed);
    }

    /// Waits until the engine has applied `revision` (waking the follower to fetch it);
    /// `false` after `replication.min_revision_timeout_ms`.
    pub(crate) async fn reached(&self, revision: u64) -> bool {
        self.reached_within(revision, self.wait).await
    }

    /// [`Progress::reached`] with its own timeout.
    pub(crate) async fn reached_within(&self, revision: u64, wait: Duration) -> bool {
        let mut applied = self.applied.subscribe();
        if *applied.borrow_and_update() >= revision {
            return true;
        }
        self.wake.notify_one();
        tokio::time::timeout(wait, applied.wait_for(|&at| at >= revision)).await.is_ok_and(|r| r.is_ok())
    }
}

/// Where the feed and, for a rebuild, the tables are read: the store as it is, or the
/// open write transaction (which sees everything committed before it took the lock).
pub(crate) enum Source<'a> {
    Store(&'a Store),
    Lock(&'a WriteLock),
}

impl Source<'_> {
    /// The last committed revision (under a lock: the one before the lock's write).
    async fn committed(&self) -> Result<u64, StoreError> {
        match self {
            Source::Store(store) => store.revision().await,
            Source::Lock(lock) => Ok(lock.base_revision()),
        }
    }

    async fn feed_after(&self, after: u64) -> Result<Vec<FeedEntry>, StoreError> {
        match self {
            Source::Store(store) => store.feed_after(after, PAGE).await,
            Source::Lock(lock) => lock.feed_after(after, PAGE).await,
        }
    }

    async fn load(&self, engine: &mut Engine) -> Result<(), StoreError> {
        match self {
            Source::Store(store) => store.load(engine).await,
            Source::Lock(lock) => lock.load(engine).await,
        }
    }
}

/// Why applying an entry failed: the engine is no longer a faithful copy and is rebuilt.
enum Diverged {
    /// The feed skips revisions (pruned past this replica).
    Gap { at: u64, next: u64 },
    /// A change the engine refused.
    Refused { revision: u64, error: String },
}

impl std::fmt::Display for Diverged {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Diverged::Gap { at, next } => write!(f, "at revision {at}, the feed's next entry is {next}"),
            Diverged::Refused { revision, error } => {
                write!(f, "the change of revision {revision} was refused: {error}")
            }
        }
    }
}

impl App {
    /// Brings the engine up to everything `source` had committed when this began (for a
    /// write lock, everything before the lock): feed entries applied in order; a gap (the
    /// feed pruned past this replica) or a change the engine refuses rebuilds the snapshot
    /// from the tables instead.
    pub(crate) async fn catch_up(&self, source: Source<'_>) -> Result<(), StoreError> {
        // The committed revision is read before the feed, so every entry up to it is in
        // the feed unless pruned: an entry missing then is a gap, never a commit in flight.
        let target = source.committed().await?;
        self.progress.seen(target);
        loop {
            let at = self.engine.read().await.revision();
            if at >= target {
                return Ok(());
            }
            let started = Instant::now();
            let entries = source.feed_after(at).await?;
            let outcome = match entries.first() {
                None => Err(Diverged::Gap { at, next: target }),
                Some(first) if first.revision > at + 1 => Err(Diverged::Gap { at, next: first.revision }),
                Some(_) => self.apply(&entries).await,
            };
            match outcome {
                Ok(()) => self.metrics.replication_applied("feed", started.elapsed().as_secs_f64()),
                Err(diverged) => {
                    tracing::warn!(%diverged, "the change feed cannot be followed from here; rebuilding the snapshot");
                    let started = Instant::now();
                    self.rebuild(&source).await?;
                    self.metrics.replication_applied("rebuild", started.elapsed().as_secs_f64());
                }
            }
        }
    }

    /// Applies entries in order under one write lock; entries the engine already has are
    /// skipped (the write path and the follower both apply).
    async fn apply(&self, entries: &[FeedEntry]) -> Result<(), Diverged> {
        let mut engine = self.engine.write().await;
        let result = apply_entries(&mut engine, entries, |id| self.tokens.forget(id));
        self.progress.applied(engine.revision());
        result
    }

    /// Replaces the engine with one rebuilt from the tables (unless another rebuild or the
    /// feed got further meanwhile).
    async fn rebuild(&self, source: &Source<'_>) -> Result<(), StoreError> {
        let mut fresh = self.engine.read().await.empty_like();
        source.load(&mut fresh).await?;
        fresh.shrink_to_fit();
        let mut engine = self.engine.write().await;
        if fresh.revision() >= engine.revision() {
            tracing::info!(revision = fresh.revision(), "snapshot rebuilt from the tables");
            *engine = fresh;
            // Tokens revoked in the entries skipped are in the database: forget every
            // cached token so each is read again.
            self.tokens.clear();
        }
        self.progress.applied(engine.revision());
        Ok(())
    }
}

/// Applies each entry after the engine's revision, in order.
fn apply_entries(engine: &mut Engine, entries: &[FeedEntry], mut forget: impl FnMut(&str)) -> Result<(), Diverged> {
    for entry in entries {
        let at = engine.revision();
        if entry.revision <= at {
            continue;
        }
        if entry.revision != at + 1 {
            return Err(Diverged::Gap { at, next: entry.revision });
        }
        for op in &entry.changes {
            match op {
                FeedOp::Engine { change } => engine
                    .apply(change.clone())
                    .map(drop)
                    .map_err(|error| Diverged::Refused { revision: entry.revision, error: error.to_string() })?,
                FeedOp::TokenRevoked { id } => forget(id),
                _ => {}
            }
        }
        engine.set_revision(entry.revision);
    }
    Ok(())
}

/// Follows the feed until the daemon stops: woken by PostgreSQL notifications, by readers
/// waiting for a revision, or by the poll interval; prunes entries past the retention
/// once a minute.
pub(crate) async fn follow(app: Arc<App>, config: ReplicationConfig) {
    let mut notifications = listen(&app.store).await;
    let mut poll = tokio::time::interval(Duration::from_millis(config.poll_interval_ms));
    poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut prune = tokio::time::interval(Duration::from_secs(60));
    prune.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = poll.tick() => {}
            () = app.progress.wake.notified() => {}
            revision = next_notification(&mut notifications) => {
                if let Some(revision) = revision {
                    app.progress.seen(revision);
                }
            }
            _ = prune.tick() => {
                let before = crate::daemon::now() - i64::try_from(config.feed_retention_s).unwrap_or(i64::MAX);
                match app.store.prune_feed(before).await {
                    Ok(0) => {}
                    Ok(pruned) => tracing::debug!(pruned, "change feed pruned"),
                    Err(error) => tracing::warn!(%error, "cannot prune the change feed"),
                }
                continue;
            }
        }
        if let Err(error) = app.catch_up(Source::Store(&app.store)).await {
            tracing::warn!(%error, "cannot read the change feed; retrying at the next poll");
        }
    }
}

/// A PostgreSQL listener on the feed's channel (`None` on SQLite, or when it cannot
/// connect: polling still follows the feed).
async fn listen(store: &Store) -> Option<roster_store::sqlx::postgres::PgListener> {
    if store.backend() != roster_store::DbBackend::Postgres {
        return None;
    }
    let pool = store.connection().get_postgres_connection_pool();
    let mut listener = match roster_store::sqlx::postgres::PgListener::connect_with(pool).await {
        Ok(listener) => listener,
        Err(error) => {
            tracing::warn!(%error, "cannot LISTEN for commits; following the feed by polling only");
            return None;
        }
    };
    match listener.listen(roster_store::FEED_CHANNEL).await {
        Ok(()) => Some(listener),
        Err(error) => {
            tracing::warn!(%error, "cannot LISTEN for commits; following the feed by polling only");
            None
        }
    }
}

/// The next notified revision (pending forever without a listener). A lost connection is
/// re-established by the listener; commits notified meanwhile are found by the next poll.
async fn next_notification(listener: &mut Option<roster_store::sqlx::postgres::PgListener>) -> Option<u64> {
    match listener {
        Some(listener) => match listener.recv().await {
            Ok(notification) => notification.payload().parse().ok(),
            Err(error) => {
                tracing::debug!(%error, "feed listener interrupted");
                tokio::time::sleep(Duration::from_millis(100)).await;
                None
            }
        },
        None => std::future::pending().await,
    }
}
