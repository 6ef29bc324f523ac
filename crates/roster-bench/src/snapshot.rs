//! Time to build the engine from the database: the dataset written to SQLite and to
//! PostgreSQL through the store's own commit path, then `Store::load` into an empty
//! engine, timed. The SQLite file is kept for the HTTP run.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result};
use roster_core::{Engine, Pack};
use roster_store::{Store, StoreOp};
use sea_orm::ConnectionTrait;

use crate::generate::{Dataset, NOW};

/// Accounts per commit: about 21k writes, under the store's 65,536 per call.
const ACCOUNTS_PER_COMMIT: usize = 100;

/// One database's figures.
pub(crate) struct SnapshotFigures {
    pub(crate) backend: &'static str,
    pub(crate) rows: usize,
    pub(crate) write_s: f64,
    pub(crate) load_s: f64,
}

async fn write_and_load(
    pack: &Arc<Pack>,
    dataset: &Dataset,
    url: &str,
    backend: &'static str,
) -> Result<SnapshotFigures> {
    let store = Store::connect(url).await.with_context(|| format!("cannot open {backend}"))?;
    store.migrate().await.context("migrating")?;
    let before = Engine::new([pack.clone()]);
    let started = Instant::now();
    let mut rows = 0;
    let mut ops = Vec::new();
    let mut tenants = dataset.tenants().peekable();
    while tenants.peek().is_some() {
        ops.clear();
        for tenant in tenants.by_ref().take(ACCOUNTS_PER_COMMIT) {
            ops.extend(tenant.changes().into_iter().map(StoreOp::Change));
        }
        rows += ops.len();
        store.commit(&before, &ops, &[], NOW).await.context("writing the dataset")?;
    }
    let write_s = started.elapsed().as_secs_f64();
    let mut engine = Engine::new([pack.clone()]);
    let started = Instant::now();
    store.load(&mut engine).await.context("loading the snapshot")?;
    let load_s = started.elapsed().as_secs_f64();
    let (_, _, memberships, grants) = engine.counts();
    anyhow::ensure!(memberships + grants > 0, "the loaded engine is empty");
    Ok(SnapshotFigures { backend, rows, write_s, load_s })
}

/// Writes the dataset to a SQLite file at `path` and loads it back.
pub(crate) fn sqlite(pack: &Arc<Pack>, dataset: &Dataset, path: &Path) -> Result<SnapshotFigures> {
    let url = format!("sqlite://{}?mode=rwc", path.display());
    runtime()?.block_on(write_and_load(pack, dataset, &url, "SQLite"))
}

/// Writes the dataset to a fresh database on the PostgreSQL server at `admin_url`,
/// loads it back, and drops the database.
pub(crate) fn postgres(pack: &Arc<Pack>, dataset: &Dataset, admin_url: &str) -> Result<SnapshotFigures> {
    scratch_postgres(
        admin_url,
        "roster_bench",
        |url| async move { write_and_load(pack, dataset, &url, "PostgreSQL").await },
    )
}

/// Runs `work` on the URL of a new database on the PostgreSQL server at `admin_url`
/// (named `prefix` and the process id), then drops the database.
pub(crate) fn scratch_postgres<T, F: std::future::Future<Output = Result<T>>>(
    admin_url: &str,
    prefix: &str,
    work: impl FnOnce(String) -> F,
) -> Result<T> {
    let runtime = runtime()?;
    with_scratch_postgres(admin_url, prefix, |url| runtime.block_on(work(url)))
}

/// [`scratch_postgres`] for blocking work (daemons and HTTP clients of its own).
pub(crate) fn with_scratch_postgres<T>(
    admin_url: &str,
    prefix: &str,
    work: impl FnOnce(String) -> Result<T>,
) -> Result<T> {
    let name = format!("{prefix}_{}", std::process::id());
    let base = admin_url.rsplit_once('/').map_or(admin_url, |(base, _)| base);
    let admin = |statements: Vec<String>| {
        runtime()?.block_on(async {
            let admin = Store::connect(admin_url).await.context("cannot reach PostgreSQL")?;
            for sql in statements {
                admin.connection().execute_unprepared(&sql).await.with_context(|| sql.clone())?;
            }
            anyhow::Ok(())
        })
    };
    admin(vec![format!("DROP DATABASE IF EXISTS {name}"), format!("CREATE DATABASE {name}")])?;
    let result = work(format!("{base}/{name}"));
    admin(vec![format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")])?;
    result
}

pub(crate) fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().context("tokio runtime")
}
