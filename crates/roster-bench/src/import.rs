//! Bulk import speed: the dataset of the main comparison (1M memberships + grants at the
//! default scale) as a `rosterd export` dump, imported into an empty SQLite file and an
//! empty PostgreSQL database through `Store::import` (what `rosterd import` runs), timed.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result};
use roster_core::{Engine, Pack};
use roster_store::{AuditChain, AuditRecord, Record, Store};

use crate::generate::{Dataset, NOW};

/// One database's import figures.
pub(crate) struct ImportFigures {
    pub(crate) backend: &'static str,
    pub(crate) records: u64,
    pub(crate) memberships_and_grants: u64,
    pub(crate) seconds: f64,
}

impl ImportFigures {
    pub(crate) fn records_per_s(&self) -> f64 {
        self.records as f64 / self.seconds
    }
}

/// The dataset as a dump: a header, then every record its changes store.
pub(crate) fn dump(dataset: &Dataset) -> Vec<Record> {
    let mut records = vec![Record::header(0)];
    for tenant in dataset.tenants() {
        records.extend(tenant.changes().into_iter().filter_map(Record::from_change));
    }
    records
}

async fn import_into(pack: &Arc<Pack>, records: &[Record], url: &str, backend: &'static str) -> Result<ImportFigures> {
    let store = Store::connect(url).await.with_context(|| format!("cannot open {backend}"))?;
    store.migrate().await.context("migrating")?;
    let mut engine = Engine::new([pack.clone()]);
    let audit = AuditRecord {
        chain: AuditChain::Platform,
        actor: "system:bench".into(),
        action: "import".into(),
        target: "file:bench".into(),
        before: None,
        after: None,
        request_id: None,
        trace_id: None,
    };
    let started = Instant::now();
    let imported = store.import(&mut engine, records, audit, NOW, |_| {}).await.context("importing")?;
    let seconds = started.elapsed().as_secs_f64();
    let (_, _, memberships, grants) = engine.counts();
    Ok(ImportFigures {
        backend,
        records: imported.records,
        memberships_and_grants: (memberships + grants) as u64,
        seconds,
    })
}

/// Imports `records` into a new SQLite file at `path`.
pub(crate) fn sqlite(pack: &Arc<Pack>, records: &[Record], path: &Path) -> Result<ImportFigures> {
    let url = format!("sqlite://{}?mode=rwc", path.display());
    crate::snapshot::runtime()?.block_on(import_into(pack, records, &url, "SQLite"))
}

/// Imports `records` into a new database on the PostgreSQL server at `admin_url`, then
/// drops it.
pub(crate) fn postgres(pack: &Arc<Pack>, records: &[Record], admin_url: &str) -> Result<ImportFigures> {
    crate::snapshot::scratch_postgres(admin_url, "roster_import", |url| async move {
        import_into(pack, records, &url, "PostgreSQL").await
    })
}
