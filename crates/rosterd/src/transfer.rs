//! `rosterd export` and `rosterd import`: the stored state as JSON Lines, and loading such
//! a dump into a database through the engine's validation, all or nothing, with a progress
//! bar on a terminal.

use std::io::{BufRead, BufWriter, Write};
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result};
use roster_core::Engine;
use roster_store::{AuditActor, AuditChain, AuditRecord, Record};

use crate::config::Config;
use crate::daemon::{load_packs, now, open_store};

/// `rosterd export [--account A] [--out FILE]`.
pub(crate) async fn export(config: &Config, account: Option<&str>, out: Option<&Path>) -> Result<()> {
    let store = open_store(config).await?;
    let records = store.export(account).await?;
    let sink: Box<dyn Write> = match out {
        Some(path) => {
            Box::new(std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?)
        }
        None => Box::new(std::io::stdout().lock()),
    };
    let mut sink = BufWriter::new(sink);
    for record in &records {
        serde_json::to_writer(&mut sink, record)?;
        sink.write_all(b"\n")?;
    }
    sink.flush()?;
    eprintln!("exported {} records", records.len().saturating_sub(1));
    Ok(())
}

/// `rosterd import FILE`.
pub(crate) async fn import(config: &Config, file: &Path) -> Result<()> {
    let started = Instant::now();
    let reader =
        std::io::BufReader::new(std::fs::File::open(file).with_context(|| format!("cannot open {}", file.display()))?);
    let mut records = Vec::new();
    for (index, line) in reader.lines().enumerate() {
        let line = line.with_context(|| format!("{}: line {}", file.display(), index + 1))?;
        if line.trim().is_empty() {
            continue;
        }
        let record: Record = serde_json::from_str(&line)
            .with_context(|| format!("{}: line {}: not a record of a Roster export", file.display(), index + 1))?;
        records.push(record);
    }
    let packs = load_packs(config)?;
    let store = open_store(config).await?;
    let mut engine = Engine::new(packs.iter().map(|p| Arc::clone(&p.pack)));
    store.load(&mut engine).await.context("cannot read the database's current state")?;
    let bar = indicatif::ProgressBar::new(records.len().saturating_sub(1) as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{elapsed_precise} [{bar:40}] {pos}/{len} records ({per_sec})")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let audit = AuditRecord {
        chain: AuditChain::Platform,
        actor: AuditActor::System("cli").to_string(),
        action: "import".into(),
        target: format!("file:{}", file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()),
        before: None,
        after: Some(serde_json::json!({ "records": records.len().saturating_sub(1) })),
        request_id: None,
        trace_id: None,
    };
    let imported = store
        .import(&mut engine, &records, audit, now(), |written| bar.set_position(written))
        .await
        .with_context(|| format!("{}: nothing was imported", file.display()))?;
    bar.finish_and_clear();
    eprintln!(
        "imported {} records in {:.1} s; the database is at revision {}",
        imported.records,
        started.elapsed().as_secs_f64(),
        imported.revision
    );
    Ok(())
}
