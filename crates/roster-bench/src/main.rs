//! `cargo xtask bench`: Roster's decision benchmark. Generates a deterministic studio-pack
//! dataset, builds the engine, then times single checks (p50/p99 per check, checks/s on
//! one core) and measures engine memory per membership and grant. Peer engines (casbin,
//! cedar) and the HTTP figures are not wired in yet; the summary line says so.

mod generate;

use std::sync::Arc;
use std::time::Instant;

use std::alloc::System;

use anyhow::{Context, Result};
use clap::Parser;
use roster_core::Engine;
use stats_alloc::{INSTRUMENTED_SYSTEM, StatsAlloc};

#[global_allocator]
static ALLOCATOR: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// Live heap bytes now.
fn allocated() -> usize {
    let stats = ALLOCATOR.stats();
    (stats.bytes_allocated + stats.bytes_reallocated.max(0) as usize).saturating_sub(stats.bytes_deallocated)
}

#[derive(Parser)]
#[command(name = "roster-bench", about = "Roster decision benchmarks")]
struct Args {
    /// Accounts to generate (each: 5 studios, 100 pickaxes, 50 members, 50 grants).
    #[arg(long, default_value_t = 10_000)]
    scale: usize,
    /// A small run (200 accounts, 50k checks).
    #[arg(long)]
    quick: bool,
    /// Checks to time.
    #[arg(long, default_value_t = 1_000_000)]
    checks: usize,
    /// The studio pack manifest.
    #[arg(long, default_value = "plugins/studio/pack.toml")]
    pack: std::path::PathBuf,
}

fn main() -> Result<()> {
    let args = Args::parse();
    let (scale, checks) = if args.quick { (200, 50_000) } else { (args.scale, args.checks) };
    let text = std::fs::read_to_string(&args.pack).with_context(|| format!("cannot read {}", args.pack.display()))?;
    let manifest = roster_plugin::loader::parse_toml_manifest(&text)
        .map_err(|e| anyhow::anyhow!("{}: {e}", args.pack.display()))?;
    let pack = Arc::new(roster_core::validate(manifest).map_err(|e| anyhow::anyhow!("{e}"))?);

    let dataset = generate::Dataset::new(scale, 0x5eed);
    let before = allocated();
    let started = Instant::now();
    let mut engine = Engine::new([pack]);
    for change in dataset.changes() {
        engine.apply(change).map_err(|e| anyhow::anyhow!("generated change refused: {e}"))?;
    }
    let build = started.elapsed();
    let engine_bytes = allocated().saturating_sub(before);
    let (accounts, resources, memberships, grants) = engine.counts();
    let questions = dataset.questions(checks, 0xc0ffee);

    // Warm up, then time each check on its own (the clock adds about 100 ns per check on
    // this kind of machine; the figures include it).
    for q in questions.iter().take(10_000) {
        std::hint::black_box(check(&engine, q));
    }
    let mut durations = Vec::with_capacity(questions.len());
    let all = Instant::now();
    let mut allowed = 0usize;
    for q in &questions {
        let t = Instant::now();
        let decision = std::hint::black_box(check(&engine, q));
        durations.push(t.elapsed().as_nanos() as u64);
        allowed += usize::from(decision);
    }
    let total = all.elapsed();
    durations.sort_unstable();
    let percentile = |p: f64| durations[((durations.len() as f64 * p) as usize).min(durations.len() - 1)];
    let per_record = engine_bytes as f64 / (memberships + grants) as f64;

    println!("dataset      accounts={accounts} resources={resources} memberships={memberships} grants={grants}");
    println!(
        "engine       build={:.2}s bytes={} bytes_per_membership_or_grant={per_record:.0}",
        build.as_secs_f64(),
        engine_bytes
    );
    println!(
        "roster       checks={} allowed={:.1}% p50={}ns p90={}ns p99={}ns max={}ns checks_per_s_one_core={:.0}",
        questions.len(),
        100.0 * allowed as f64 / questions.len() as f64,
        percentile(0.5),
        percentile(0.9),
        percentile(0.99),
        durations[durations.len() - 1],
        questions.len() as f64 / total.as_secs_f64()
    );
    println!("peers        casbin and cedar are not wired in yet (issue 4)");
    println!(
        "bench: check_p50_ns={} check_p99_ns={} vs_casbin=unmeasured vs_cedar=unmeasured bytes_per_grant={per_record:.0}",
        percentile(0.5),
        percentile(0.99)
    );
    Ok(())
}

fn check(engine: &Engine, q: &generate::Question) -> bool {
    engine.check(&q.account, &q.principal, q.permission, q.resource.as_deref(), generate::NOW).is_ok_and(|d| d.allowed)
}
