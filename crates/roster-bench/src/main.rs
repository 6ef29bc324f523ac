//! `cargo xtask bench`: Roster's decision benchmark. Generates a deterministic studio-pack
//! dataset, builds Roster and its peers (casbin-rs, cedar-policy) from the same records,
//! asserts that all three agree on a large sample of questions, then times them on the
//! same questions. The full run adds the cost-as-work-grows sweep, snapshot builds from
//! SQLite and PostgreSQL, bulk import, replication lag between two daemons, the daemon
//! under wrk (one replica and two), and writes `docs/benchmarks.md` and its chart.

mod compare;
mod generate;
mod http;
mod import;
mod lag;
mod marginal;
mod peers;
mod replicas;
mod report;
mod snapshot;
mod timing;

use std::alloc::System;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::{Parser, ValueEnum};
use roster_core::Pack;
use stats_alloc::{INSTRUMENTED_SYSTEM, StatsAlloc};

#[global_allocator]
static ALLOCATOR: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// Live heap bytes now.
pub(crate) fn allocated() -> usize {
    let stats = ALLOCATOR.stats();
    // Reallocations are already in both totals (growth in one, shrinking in the other).
    stats.bytes_allocated.saturating_sub(stats.bytes_deallocated)
}

#[derive(Parser)]
#[command(name = "roster-bench", about = "Roster decision benchmarks")]
pub(crate) struct Args {
    /// Accounts to generate; each holds 105 resources and 100 memberships and grants.
    #[arg(long, default_value_t = 10_000)]
    scale: usize,
    /// A small run (200 accounts) that checks agreement and prints the summary line.
    #[arg(long)]
    quick: bool,
    /// Questions Roster is timed on.
    #[arg(long, default_value_t = 1_000_000)]
    checks: usize,
    /// Questions the peers are timed on (they are slower; the same questions, a prefix).
    #[arg(long, default_value_t = 20_000)]
    peer_checks: usize,
    /// Questions all three engines must agree on before anything is timed.
    #[arg(long, default_value_t = 50_000)]
    agreement_sample: usize,
    /// The studio pack manifest.
    #[arg(long, default_value = "plugins/studio/pack.toml")]
    pack: PathBuf,
    /// Dataset sizes (accounts) for the cost-as-work-grows sweep of the full run.
    #[arg(long, value_delimiter = ',', default_value = "100,1000,10000,100000")]
    sweep: Vec<usize>,
    /// Largest dataset (accounts) the peers are built for in the sweep.
    #[arg(long, default_value_t = 10_000)]
    peer_limit: usize,
    /// Accounts written to the databases for the snapshot timing (4,700 ≈ 1M rows).
    #[arg(long, default_value_t = 4_700)]
    snapshot_accounts: usize,
    /// The PostgreSQL server for the snapshot timing (a database is created and dropped).
    #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432/test")]
    postgres_url: String,
    /// The release daemon binary (`cargo xtask bench` builds it).
    #[arg(long, default_value = "target/release/rosterd")]
    rosterd: PathBuf,
    /// The built pack plugins.
    #[arg(long, default_value = "target/plugins")]
    plugin_dir: PathBuf,
    /// Roster alone (for profiling): no peers, no agreement check.
    #[arg(long)]
    no_peers: bool,
    /// Parts of the full run to leave out.
    #[arg(long, value_enum, value_delimiter = ',')]
    skip: Vec<Part>,
    /// The SQLite database the HTTP part serves: written with the snapshot's dataset when
    /// absent (or when the snapshot part runs), served as it is when present, so several
    /// daemon builds can be measured on the same data (`--skip snapshot`).
    #[arg(long)]
    http_database: Option<PathBuf>,
    /// Where the full run writes its report (the chart goes beside it).
    #[arg(long, default_value = "docs/benchmarks.md")]
    out: PathBuf,
}

/// A part of the full run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Part {
    Sweep,
    Snapshot,
    Import,
    Lag,
    Http,
    Report,
}

/// Seconds each wrk run lasts.
pub(crate) const HTTP_SECONDS: u32 = 10;

fn load_pack(path: &std::path::Path) -> Result<Arc<Pack>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let manifest =
        roster_plugin::loader::parse_toml_manifest(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    Ok(Arc::new(roster_core::validate(manifest).map_err(|e| anyhow::anyhow!("{e}"))?))
}

fn main() -> Result<()> {
    let mut args = Args::parse();
    let pack = load_pack(&args.pack)?;
    if args.quick {
        args.scale = 200;
        args.checks = 200_000;
        args.peer_checks = 5_000;
        args.agreement_sample = 20_000;
        let comparison = compare::run(&pack, &compare::Plan::from_args(&args))?;
        comparison.print();
        println!("{}", comparison.summary_line());
        return Ok(());
    }
    full_run(&pack, &args)
}

fn full_run(pack: &Arc<Pack>, args: &Args) -> Result<()> {
    let skip = |part| args.skip.contains(&part);
    let mut sweep: Vec<compare::Comparison> = Vec::new();
    let scales: Vec<usize> = if skip(Part::Sweep) { Vec::new() } else { args.sweep.clone() };
    for &scale in &scales {
        let plan = compare::Plan { scale, with_peers: scale <= args.peer_limit, ..compare::Plan::from_args(args) };
        let comparison = compare::run(pack, &plan)?;
        comparison.print();
        sweep.push(comparison);
    }
    let main = match sweep.iter().find(|c| c.accounts == args.scale && c.peers.is_empty() == args.no_peers) {
        Some(point) => point.clone(),
        None => {
            let point = compare::run(pack, &compare::Plan::from_args(args))?;
            sweep.push(point.clone());
            sweep.sort_by_key(compare::Comparison::records);
            point
        }
    };
    main.print();

    let mut snapshots = Vec::new();
    let db_dir = tempfile::tempdir().context("temp dir")?;
    let sqlite_path = args.http_database.clone().unwrap_or_else(|| db_dir.path().join("bench.db"));
    let reused = skip(Part::Snapshot) && sqlite_path.exists();
    if reused {
        eprintln!("[snapshot] serving the existing {}", sqlite_path.display());
    } else if !skip(Part::Snapshot) || !skip(Part::Http) {
        for leftover in ["", "-wal", "-shm"] {
            let path = format!("{}{leftover}", sqlite_path.display());
            std::fs::remove_file(&path)
                .or_else(|e| if e.kind() == std::io::ErrorKind::NotFound { Ok(()) } else { Err(e) })
                .with_context(|| format!("cannot remove {path}"))?;
        }
        let dataset = generate::Dataset::new(args.snapshot_accounts, 0x5eed);
        eprintln!("[snapshot] writing {} accounts to SQLite…", args.snapshot_accounts);
        snapshots.push(snapshot::sqlite(pack, &dataset, &sqlite_path));
        if !skip(Part::Snapshot) {
            eprintln!("[snapshot] writing {} accounts to PostgreSQL…", args.snapshot_accounts);
            snapshots.push(snapshot::postgres(pack, &dataset, &args.postgres_url));
        }
        for s in &snapshots {
            match s {
                Ok(s) => {
                    println!("snapshot {:<10} rows={} write={:.1}s load={:.2}s", s.backend, s.rows, s.write_s, s.load_s)
                }
                Err(e) => println!("snapshot not measured: {e:#}"),
            }
        }
    }
    let mut imports = Vec::new();
    if !skip(Part::Import) {
        let records = import::dump(&generate::Dataset::new(args.scale, 0x5eed));
        eprintln!("[import] {} records into SQLite…", records.len() - 1);
        imports.push(import::sqlite(pack, &records, &db_dir.path().join("import.db")));
        eprintln!("[import] {} records into PostgreSQL…", records.len() - 1);
        imports.push(import::postgres(pack, &records, &args.postgres_url));
        for i in &imports {
            match i {
                Ok(i) => println!(
                    "import   {:<10} records={} memberships+grants={} {:.1}s {:.0} records/s",
                    i.backend,
                    i.records,
                    i.memberships_and_grants,
                    i.seconds,
                    i.records_per_s()
                ),
                Err(e) => println!("import not measured: {e:#}"),
            }
        }
    }
    let lags = if skip(Part::Lag) {
        Vec::new()
    } else {
        eprintln!("[lag] two replicas under a steady write load…");
        let setup = lag::LagSetup { rosterd: &args.rosterd, plugin_dir: &args.plugin_dir };
        let lags = lag::run(&setup, &args.postgres_url);
        for l in &lags {
            match l {
                Ok(l) => println!(
                    "lag      {:<10} {:.0} writes/s applied on B p50={:.2}ms p99={:.2}ms; read-your-writes on B p50={:.2}ms p99={:.2}ms",
                    l.backend,
                    l.writes_per_s,
                    l.applied.p50_ms,
                    l.applied.p99_ms,
                    l.read_your_writes.p50_ms,
                    l.read_your_writes.p99_ms
                ),
                Err(e) => println!("lag      not measured: {e:#}"),
            }
        }
        lags
    };
    let http = (!skip(Part::Http)).then(|| {
        eprintln!("[http] rosterd under wrk…");
        let dataset = generate::Dataset::new(args.snapshot_accounts, 0x5eed);
        let questions = dataset.questions(200_000, 0xbeef);
        let setup = http::HttpSetup {
            rosterd: &args.rosterd,
            plugin_dir: &args.plugin_dir,
            database: &sqlite_path,
            duration_s: HTTP_SECONDS,
        };
        http::run(&setup, &questions)
    });
    if let Some(Ok(h)) = &http {
        println!("http     daemon start {:.2}s after the import, {:.2}s on a restart", h.start_s, h.restart_s);
        for r in &h.runs {
            println!(
                "http     {:<16} c={:<3} req/s={:.0} checks/s={:.0} p50={:.2}ms p99={:.2}ms",
                r.endpoint, r.connections, r.requests_per_s, r.checks_per_s, r.p50_ms, r.p99_ms
            );
        }
        for r in &h.split {
            println!(
                "http     /v1/check on {} replica(s), 2×16 connections: req/s={:.0} p50={:.2}ms p99={:.2}ms daemon cores={:.2}",
                r.replicas, r.requests_per_s, r.p50_ms, r.p99_ms, r.daemon_cores
            );
        }
    } else if let Some(Err(e)) = &http {
        println!("http     not measured: {e:#}");
    }
    if !skip(Part::Report) {
        // The database URL is machine-specific; the rest says how to repeat the run.
        let flags: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("postgres://")).collect();
        let flags = flags.join(" ").replace("--postgres-url", "").trim().to_owned();
        let command =
            if flags.is_empty() { "cargo xtask bench".to_owned() } else { format!("cargo xtask bench -- {flags}") };
        let run = report::FullRun { main, sweep, snapshots, imports, lags, http, command };
        report::write(&run, &args.out)?;
        println!("report   {} and its chart written", args.out.display());
        println!("{}", run.main.summary_line());
    } else {
        println!("{}", main.summary_line());
    }
    Ok(())
}
