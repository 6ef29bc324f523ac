//! `cargo xtask bench`: Roster's decision benchmark. Generates a deterministic studio-pack
//! dataset, builds Roster and its peers (casbin-rs, cedar-policy) from the same records,
//! asserts that all three agree on a large sample of questions, then times them on the
//! same questions. The full run adds the cost-as-work-grows sweep, snapshot builds from
//! SQLite and PostgreSQL, the daemon under wrk, and writes `docs/benchmarks.md` and its
//! chart.

mod compare;
mod generate;
mod peers;
mod timing;

use std::alloc::System;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::Parser;
use roster_core::Pack;
use stats_alloc::{INSTRUMENTED_SYSTEM, StatsAlloc};

#[global_allocator]
static ALLOCATOR: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// Live heap bytes now.
pub(crate) fn allocated() -> usize {
    let stats = ALLOCATOR.stats();
    (stats.bytes_allocated + stats.bytes_reallocated.max(0) as usize).saturating_sub(stats.bytes_deallocated)
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
}

fn load_pack(path: &std::path::Path) -> Result<Arc<Pack>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let manifest =
        roster_plugin::loader::parse_toml_manifest(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    Ok(Arc::new(roster_core::validate(manifest).map_err(|e| anyhow::anyhow!("{e}"))?))
}

fn main() -> Result<()> {
    let mut args = Args::parse();
    if args.quick {
        args.scale = 200;
        args.checks = 200_000;
        args.peer_checks = 5_000;
        args.agreement_sample = 20_000;
    }
    let pack = load_pack(&args.pack)?;
    let comparison = compare::run(&pack, &args)?;
    comparison.print();
    println!("{}", comparison.summary_line());
    Ok(())
}
