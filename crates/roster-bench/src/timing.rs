//! Timing of one engine over a question list: per-check latency percentiles (each check
//! timed on its own, the clock's own cost measured in the same run and taken off) and
//! throughput on one core (the whole list timed, no per-check clock).

use std::time::Instant;

use anyhow::Result;

/// What one engine did on one question list.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Latency {
    pub(crate) p50_ns: f64,
    pub(crate) p99_ns: f64,
    pub(crate) checks_per_s: f64,
    pub(crate) allowed: usize,
    pub(crate) checks: usize,
}

/// The median cost of reading the clock twice around nothing.
pub(crate) fn clock_overhead_ns() -> f64 {
    let mut samples: Vec<u64> = (0..200_000)
        .map(|_| {
            let t = Instant::now();
            std::hint::black_box(());
            t.elapsed().as_nanos() as u64
        })
        .collect();
    samples.sort_unstable();
    samples[samples.len() / 2] as f64
}

/// Times `check` over `questions`: a warm-up pass, a per-check pass and a throughput pass.
pub(crate) fn measure<Q>(
    questions: &[Q],
    overhead_ns: f64,
    mut check: impl FnMut(&Q) -> Result<bool>,
) -> Result<Latency> {
    for q in questions.iter().take(questions.len().min(10_000)) {
        std::hint::black_box(check(q)?);
    }
    let mut durations = Vec::with_capacity(questions.len());
    let mut allowed = 0;
    for q in questions {
        let t = Instant::now();
        let decision = std::hint::black_box(check(q)?);
        durations.push(t.elapsed().as_nanos() as u64);
        allowed += usize::from(decision);
    }
    durations.sort_unstable();
    let percentile = |p: f64| {
        let raw = durations[((durations.len() as f64 * p) as usize).min(durations.len() - 1)] as f64;
        (raw - overhead_ns).max(1.0)
    };
    let started = Instant::now();
    for q in questions {
        std::hint::black_box(check(q)?);
    }
    let elapsed = started.elapsed().as_secs_f64();
    Ok(Latency {
        p50_ns: percentile(0.5),
        p99_ns: percentile(0.99),
        checks_per_s: questions.len() as f64 / elapsed,
        allowed,
        checks: questions.len(),
    })
}
