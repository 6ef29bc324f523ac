//! Decision throughput with one replica and with two on this machine: the same wrk load
//! (two wrk processes of one thread and 16 connections each, posting `/v1/check`) sent
//! both to replica A, then split over A and B, two daemons on one database.

use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result, anyhow};

use crate::http::{Daemon, wrk_threads};

/// Connections each of the two wrk processes holds.
const CONNECTIONS: u32 = 16;

/// One split run.
pub(crate) struct SplitFigures {
    pub(crate) replicas: u32,
    /// Both wrk processes' requests/s, summed.
    pub(crate) requests_per_s: f64,
    /// The higher of the two processes' p50 and p99.
    pub(crate) p50_ms: f64,
    pub(crate) p99_ms: f64,
    /// Cores the daemons kept busy together (their CPU time over the run's wall time).
    pub(crate) daemon_cores: f64,
}

/// Runs the load against A alone, then split over A and B.
pub(crate) fn throughput(a: &Daemon, b: &Daemon, script: &Path, duration_s: u32) -> Result<Vec<SplitFigures>> {
    // B has served nothing yet: warm it as A was.
    wrk_threads(&b.address, script, 1, CONNECTIONS, 3)?;
    let mut runs = Vec::new();
    for (replicas, targets) in [(1, [&a.address, &a.address]), (2, [&a.address, &b.address])] {
        let (cpu_before, started) = (cpu_seconds(a)? + cpu_seconds(b)?, Instant::now());
        let results: Vec<Result<(f64, f64, f64)>> = std::thread::scope(|scope| {
            let handles: Vec<_> = targets
                .iter()
                .map(|target| scope.spawn(move || wrk_threads(target, script, 1, CONNECTIONS, duration_s)))
                .collect();
            handles.into_iter().map(|h| h.join().unwrap_or_else(|_| Err(anyhow!("a wrk thread panicked")))).collect()
        });
        let daemon_cores = (cpu_seconds(a)? + cpu_seconds(b)? - cpu_before) / started.elapsed().as_secs_f64();
        let mut figures = SplitFigures { replicas, requests_per_s: 0.0, p50_ms: 0.0, p99_ms: 0.0, daemon_cores };
        for result in results {
            let (rps, p50, p99) = result?;
            figures.requests_per_s += rps;
            figures.p50_ms = figures.p50_ms.max(p50);
            figures.p99_ms = figures.p99_ms.max(p99);
        }
        runs.push(figures);
    }
    Ok(runs)
}

/// The CPU time (user and system) the daemon has used, from `/proc/<pid>/stat`.
fn cpu_seconds(daemon: &Daemon) -> Result<f64> {
    let path = format!("/proc/{}/stat", daemon.pid());
    let stat = std::fs::read_to_string(&path).with_context(|| format!("cannot read {path}"))?;
    // Fields after the command name (which may hold spaces, so split after its `)`):
    // utime and stime are the 14th and 15th fields of the line, in clock ticks.
    let after_name = stat.rsplit_once(')').map(|(_, rest)| rest).context("malformed stat line")?;
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks = |i: usize| -> Result<f64> {
        fields.get(i).and_then(|f| f.parse::<f64>().ok()).with_context(|| format!("field {i} of {path}"))
    };
    Ok((ticks(11)? + ticks(12)?) / rustix::param::clock_ticks_per_second() as f64)
}
