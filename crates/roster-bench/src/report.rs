//! The full run's record: `docs/benchmarks.md` (machine, commands, every figure, the
//! targets) and `docs/benchmarks-latency.svg` (median check latency against dataset size
//! for Roster and its peers, drawn with plotters).

use std::fmt::Write as _;
use std::path::Path;

use anyhow::{Context, Result};
use plotters::prelude::*;

use crate::compare::Comparison;
use crate::http::HttpFigures;
use crate::import::ImportFigures;
use crate::lag::LagFigures;
use crate::snapshot::SnapshotFigures;

/// Everything a full run measured.
pub(crate) struct FullRun {
    pub(crate) main: Comparison,
    pub(crate) sweep: Vec<Comparison>,
    pub(crate) snapshots: Vec<Result<SnapshotFigures>>,
    pub(crate) imports: Vec<Result<ImportFigures>>,
    pub(crate) lags: Vec<Result<LagFigures>>,
    pub(crate) http: Option<Result<HttpFigures>>,
    pub(crate) command: String,
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines().find(|l| l.starts_with("model name")).map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned());
    let memory = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|t| t.lines().next().map(|l| l.split_whitespace().nth(1).unwrap_or("0").to_owned()))
        .and_then(|kb| kb.parse::<u64>().ok())
        .map_or("unknown".to_owned(), |kb| format!("{:.0} GiB", kb as f64 / 1024.0 / 1024.0));
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let rustc = std::process::Command::new("rustc")
        .arg("-V")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    let wrk = std::process::Command::new("wrk")
        .arg("-v")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).lines().next().unwrap_or("").trim().to_owned())
        .unwrap_or_else(|_| "not installed".to_owned());
    format!("{cpu}, {cores} cores, {memory} RAM; {rustc}; {wrk}")
}

fn engine_rows(out: &mut String, c: &Comparison) {
    for f in std::iter::once(&c.roster).chain(&c.peers) {
        let l = &f.latency;
        let _ = writeln!(
            out,
            "| {} | {} | {:.0} | {:.0} | {:.0} | {:.1} % | {:.0} | {:.2} | {:.1}× |",
            f.name,
            l.checks,
            l.p50_ns,
            l.p99_ns,
            l.checks_per_s,
            100.0 * l.allowed as f64 / l.checks as f64,
            c.bytes_per_record(f),
            f.build_s,
            f.latency.p50_ns / c.roster.latency.p50_ns
        );
    }
}

fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "**missed**" }
}

/// Writes the markdown file and the chart next to it.
pub(crate) fn write(run: &FullRun, markdown: &Path) -> Result<()> {
    let chart = markdown.with_file_name("benchmarks-latency.svg");
    draw(&run.sweep, &chart)?;
    let main = &run.main;
    let mut out = String::new();
    let _ = writeln!(out, "# Benchmarks\n");
    let _ = writeln!(
        out,
        "Written by `{}` (the full run of `cargo xtask bench`; `cargo xtask bench --quick` runs only a small comparison). \
         Figures are from one run on a shared machine: {}.\n",
        run.command,
        machine()
    );
    let _ = writeln!(out, "{}\n", SETUP);
    let _ = writeln!(
        out,
        "## Roster against its peers\n\n{} accounts, {} resources, {} memberships, {} grants. All three engines gave the same \
         answer on {} questions before anything was timed. Per-check latency is each check timed on its own, less the \
         clock's own cost measured in the same run ({:.0} ns); checks/s is the whole question list timed on one core. \
         heap/(m+g) is each engine's whole heap (counted by the allocator), resources included, over memberships + \
         grants. Roster's cost of one more membership (its new principal included) is {:.0} bytes, of one more grant \
         {:.0} bytes (the engine built in phases, heap growth per phase over its count).\n",
        main.accounts,
        main.resources,
        main.memberships,
        main.grants,
        main.agreed,
        main.clock_overhead_ns,
        main.marginal.per_membership,
        main.marginal.per_grant
    );
    let _ = writeln!(
        out,
        "| engine | checks timed | p50 ns | p99 ns | checks/s (1 core) | allowed | heap/(m+g) bytes | build s | p50 vs Roster |"
    );
    let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    engine_rows(&mut out, main);
    let _ = writeln!(out, "\nSummary line: `{}`\n", main.summary_line());

    let _ = writeln!(
        out,
        "## Cost as work grows\n\n![median check latency against dataset size](benchmarks-latency.svg)\n"
    );
    let _ = writeln!(
        out,
        "| memberships + grants | resources | engine | p50 ns | p99 ns | checks/s | heap/(m+g) bytes | build s |"
    );
    let _ = writeln!(out, "|---:|---:|---|---:|---:|---:|---:|---:|");
    for c in &run.sweep {
        for f in std::iter::once(&c.roster).chain(&c.peers) {
            let l = &f.latency;
            let _ = writeln!(
                out,
                "| {} | {} | {} | {:.0} | {:.0} | {:.0} | {:.0} | {:.2} |",
                c.records(),
                c.resources,
                f.name,
                l.p50_ns,
                l.p99_ns,
                l.checks_per_s,
                c.bytes_per_record(f),
                f.build_s
            );
        }
        if c.peers.is_empty() {
            let _ = writeln!(
                out,
                "| {} | {} | casbin-rs, cedar-policy | not run at this size (memory and build time) | | | | |",
                c.records(),
                c.resources
            );
        }
    }

    let _ = writeln!(
        out,
        "\n## Snapshot build from the database\n\nThe dataset written through the store's commit path, then `Store::load` into an empty engine (what `rosterd` does at start).\n"
    );
    let _ = writeln!(out, "| database | rows | write s | load (snapshot build) s |");
    let _ = writeln!(out, "|---|---:|---:|---:|");
    for s in &run.snapshots {
        match s {
            Ok(s) => {
                let _ = writeln!(out, "| {} | {} | {:.1} | {:.2} |", s.backend, s.rows, s.write_s, s.load_s);
            }
            Err(e) => {
                let _ = writeln!(out, "| not measured: {} | | | |", format!("{e:#}").replace('|', "/"));
            }
        }
    }

    let _ = writeln!(
        out,
        "\n## Bulk import\n\nThe main comparison's dataset as a `rosterd export` dump (accounts, resources, groups, memberships, grants), imported into an empty database by `Store::import` (what `rosterd import` runs: every record validated by the engine, then multi-row inserts in one transaction).\n"
    );
    let _ = writeln!(out, "| database | records | memberships + grants | import s | records/s |");
    let _ = writeln!(out, "|---|---:|---:|---:|---:|");
    for i in &run.imports {
        match i {
            Ok(i) => {
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {:.1} | {:.0} |",
                    i.backend,
                    i.records,
                    i.memberships_and_grants,
                    i.seconds,
                    i.records_per_s()
                );
            }
            Err(e) => {
                let _ = writeln!(out, "| not measured: {} | | | | |", format!("{e:#}").replace('|', "/"));
            }
        }
    }

    lag_section(&mut out, &run.lags);

    let _ = writeln!(
        out,
        "\n## Through HTTP\n\n`rosterd` (release) on the SQLite snapshot above, wrk on the same machine over loopback (2 threads, keep-alive, a 3 s warm-up per endpoint, then {} s per run); daemon and load generator share the 2 cores. The two one-account rows (the same 100-question batches through `/v1` and through AuthZEN) are each the median of 3 runs taken in alternation, since this shared host drifts by tens of percent within a minute.\n",
        crate::HTTP_SECONDS
    );
    let mut http_single = None;
    let mut http_batch = None;
    let (mut one_account, mut authzen) = (None, None);
    match &run.http {
        Some(Ok(h)) => {
            let _ = writeln!(
                out,
                "Daemon start to listening, snapshot load included: {:.2} s the first time after the import, \
                 {:.2} s on a restart.\n",
                h.start_s, h.restart_s
            );
            let _ = writeln!(out, "| endpoint | connections | requests/s | checks/s | p50 ms | p99 ms |");
            let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|");
            for r in &h.runs {
                let _ = writeln!(
                    out,
                    "| `{}` | {} | {:.0} | {:.0} | {:.2} | {:.2} |",
                    r.endpoint, r.connections, r.requests_per_s, r.checks_per_s, r.p50_ms, r.p99_ms
                );
                if r.connections == 32 {
                    match r.endpoint {
                        "/v1/check" => http_single = Some((r.checks_per_s, r.p99_ms)),
                        "/v1/check/batch" => http_batch = Some((r.checks_per_s, r.p99_ms)),
                        crate::http::V1_ONE_ACCOUNT => one_account = Some(r.checks_per_s),
                        crate::http::AUTHZEN_EVALUATIONS => authzen = Some(r.checks_per_s),
                        _ => {}
                    }
                }
            }
        }
        Some(Err(e)) => {
            let _ = writeln!(out, "Not measured: {e:#}");
        }
        None => {
            let _ = writeln!(out, "Not run (`--skip http`).");
        }
    }
    if let Some(Ok(h)) = &run.http {
        split_section(&mut out, h);
    }

    let _ = writeln!(out, "\n## Targets\n\n| target | measured | |\n|---|---|---|");
    let l = &main.roster.latency;
    let _ = writeln!(
        out,
        "| check p50 ≤ 250 ns at {} memberships + grants | {:.0} ns | {} |",
        main.records(),
        l.p50_ns,
        verdict(l.p50_ns <= 250.0)
    );
    let _ = writeln!(out, "| check p99 ≤ 2 µs | {:.0} ns | {} |", l.p99_ns, verdict(l.p99_ns <= 2000.0));
    for p in &main.peers {
        let ratio = main.ratio(p);
        let _ = writeln!(out, "| ≥ 20× faster than {} (p50) | {:.0}× | {} |", p.name, ratio, verdict(ratio >= 20.0));
    }
    let m = &main.marginal;
    let _ = writeln!(
        out,
        "| ≤ 120 bytes per grant (one more grant) | {:.0} | {} |",
        m.per_grant,
        verdict(m.per_grant <= 120.0)
    );
    let _ = writeln!(
        out,
        "| ≤ 120 bytes per membership (one more member, principal included) | {:.0} | {} |",
        m.per_membership,
        verdict(m.per_membership <= 120.0)
    );
    let bytes = main.bytes_per_record(&main.roster);
    let _ = writeln!(
        out,
        "| ≤ 120 bytes per membership or grant, whole heap with {} resources counted in | {bytes:.0} | {} |",
        main.resources,
        verdict(bytes <= 120.0)
    );
    for s in run.snapshots.iter().flatten() {
        let _ = writeln!(
            out,
            "| snapshot from {} rows ≤ 5 s ({}) | {:.2} s | {} |",
            s.rows,
            s.backend,
            s.load_s,
            verdict(s.load_s <= 5.0)
        );
    }
    for i in run.imports.iter().flatten() {
        let limit = if i.backend == "SQLite" { 30.0 } else { 20.0 };
        let _ = writeln!(
            out,
            "| import of {} memberships + grants ≤ {limit:.0} s ({}) | {:.1} s | {} |",
            i.memberships_and_grants,
            i.backend,
            i.seconds,
            verdict(i.seconds <= limit)
        );
    }
    if let Some((cps, p99)) = http_single {
        let _ = writeln!(
            out,
            "| HTTP ≥ 30k single checks/s, p99 < 5 ms at 32 connections | {cps:.0}/s, p99 {p99:.2} ms | {} |",
            verdict(cps >= 30_000.0 && p99 < 5.0)
        );
    }
    if let Some((cps, p99)) = http_batch {
        let _ = writeln!(
            out,
            "| HTTP ≥ 500k checks/s in batches of 100, p99 < 5 ms at 32 | {cps:.0}/s, p99 {p99:.2} ms | {} |",
            verdict(cps >= 500_000.0 && p99 < 5.0)
        );
    }
    if let (Some(v1), Some(authzen)) = (one_account, authzen) {
        let ratio = authzen / v1;
        let _ = writeln!(
            out,
            "| AuthZEN evaluations within 20% of `/v1/check/batch` (the same 100-check batches of one account) | {authzen:.0} vs {v1:.0} checks/s ({:.0}%) | {} |",
            ratio * 100.0,
            verdict(ratio >= 0.8)
        );
    }
    let _ = writeln!(out, "\n{LIMITS}");
    out.push_str(&kept_section(markdown));
    std::fs::write(markdown, out).with_context(|| format!("cannot write {}", markdown.display()))
}

fn lag_section(out: &mut String, lags: &[Result<LagFigures>]) {
    let _ = writeln!(
        out,
        "\n## Replication lag\n\nTwo release `rosterd` replicas on one fresh database; 2 writers on replica A add \
         members at {} writes/s together for {} s per phase, and for every write A acknowledged: **applied on B** is the \
         time from A's answer to B's own change stream (`/v1/watch`, server-sent events) delivering that revision (a \
         watch waits for its replica to apply a revision, so this is B catching up unprompted); **read your writes \
         on B** is the time from A's answer to B answering a check that names the revision (`min_revision`, which \
         wakes B to fetch it), the HTTP round trip included. Daemons, writers and database share the 2 cores.\n",
        crate::lag::WRITES_PER_S,
        crate::lag::PHASE_S
    );
    let _ = writeln!(
        out,
        "| database | B follows by | writes/s | applied on B p50 / p99 / max ms | read your writes on B p50 / p99 / max ms |"
    );
    let _ = writeln!(out, "|---|---|---:|---:|---:|");
    for l in lags {
        match l {
            Ok(l) => {
                let _ = writeln!(
                    out,
                    "| {} | {} | {:.0} | {:.2} / {:.2} / {:.2} ({} writes) | {:.2} / {:.2} / {:.2} ({} writes) |",
                    l.backend,
                    l.follows_by,
                    l.writes_per_s,
                    l.applied.p50_ms,
                    l.applied.p99_ms,
                    l.applied.max_ms,
                    l.applied_samples,
                    l.read_your_writes.p50_ms,
                    l.read_your_writes.p99_ms,
                    l.read_your_writes.max_ms,
                    l.read_samples
                );
            }
            Err(e) => {
                let _ = writeln!(out, "| not measured: {} | | | | |", format!("{e:#}").replace('|', "/"));
            }
        }
    }
    if lags.is_empty() {
        let _ = writeln!(out, "Not run (`--skip lag`).");
    }
}

fn split_section(out: &mut String, h: &HttpFigures) {
    let _ = writeln!(
        out,
        "\n### One replica or two on this machine\n\nThe same `/v1/check` load, two wrk processes of 1 thread and 16 \
         connections each for {} s, sent both to replica A, then one to A and one to B (a second daemon on the same \
         database). Latencies are the worse of the two processes.\n",
        crate::HTTP_SECONDS
    );
    let _ = writeln!(out, "| replicas | requests/s | p50 ms | p99 ms | cores the daemons used |");
    let _ = writeln!(out, "|---:|---:|---:|---:|---:|");
    for r in &h.split {
        let _ = writeln!(
            out,
            "| {} | {:.0} | {:.2} | {:.2} | {:.2} |",
            r.replicas, r.requests_per_s, r.p50_ms, r.p99_ms, r.daemon_cores
        );
    }
    if let [one, two] = &h.split[..] {
        let _ = writeln!(
            out,
            "\nTwo replicas answer {:.2}× one replica's requests here, with {:.2} cores of CPU against {:.2} \
             (CPU time from `/proc`, over the run): on 2 cores shared with both wrk processes, a second daemon can \
             only take up what the first left idle. Across machines each replica brings its own cores; decisions \
             never touch the database, so they add up until the load balancer or the network is the limit.",
            two.requests_per_s / one.requests_per_s,
            two.daemon_cores,
            one.daemon_cores
        );
    }
}

/// The heading of the report's last section, written by hand (measurements that need
/// another build, such as a before/after of a change) and kept when the report is rewritten.
const KEPT: &str = "\n## Measured by hand (kept across runs)\n";

/// The hand-written section of the report already at `markdown`, or nothing.
fn kept_section(markdown: &Path) -> String {
    let existing = std::fs::read_to_string(markdown).unwrap_or_default();
    existing.find(KEPT).map(|at| existing[at..].to_owned()).unwrap_or_default()
}

const LIMITS: &str = "## What limits the figures\n\n\
* **Latency grows with the dataset because of cache misses, not work.** A check does the same steps at every size: \
hash the account, the resource name and the principal id, probe three tables, compare the stored names, read the \
principal record (its memberships and grants' nodes are inline), walk the resource's ancestors only if the principal \
holds grants, test a bitset. At 10k memberships + grants everything is in cache; from about 1M up each of those \
probes is a miss to main memory on a question about a random account (`perf` puts most of the time on the load of \
the resource table's control bytes, the node whose name is compared, and the ancestors' parent links). \
Questions here are uniform over all accounts, the worst case for caches; real traffic is skewed towards active \
accounts. Closing the gap to 250 ns at 1M needs fewer dependent misses per check (one table from \
(account, name) to node, the principal looked up in parallel with the resource), not less computation.\n\
* **Memory.** The cost of one more membership (with its new principal) and of one more grant is under 120 bytes; \
the whole heap over memberships + grants is higher because this dataset also holds a million resources (each a \
48-byte node with its name inline, plus its index slot), which the per-membership-or-grant figure counts in.\n\
* **HTTP.** `wrk` and `rosterd` share the machine's two cores, so the daemon gets about one. A batch request costs \
the daemon about one core over the batch requests/s; at this size its 100 decisions (a few hundred ns each, see \
the sweep) are most of that, HTTP and JSON the rest. Latency at a fixed concurrency is concurrency over throughput: \
32 connections of 100-check batches queue for a few milliseconds on one core.\n\
* **Peers.** Both evaluate every rule of the account's policy store per check (casbin through its Rhai matcher, \
cedar through its evaluator), so their cost is per rule, not per cache miss; their latency barely moves with the \
number of accounts because each account has its own store, and their memory per grant is an order of magnitude \
above Roster's.";

const SETUP: &str = "## How the engines are set up\n\n\
* **Data** (`crates/roster-bench/src/generate.rs`, fixed seed): per account 5 studios × 20 pickaxes, 50 members \
(1 owner, 2 admins, 5 managers, 40 users, 2 external consultants), a group of 6, 48 grants to members and 2 to the group \
(studio client on a studio, pickaxe user on a pickaxe), a quarter of the pickaxes owned by a manager. Questions: a \
member of the account (9 in 10) or of another, one of 10 permissions, on the account, a studio or a pickaxe, with \
string ids as the API receives them.\n\
* **Roster**: the engine the daemon runs, built by applying the dataset's changes; `Engine::check`.\n\
* **casbin-rs** (`peers/casbin.rs`): RBAC with domains (account = domain), the resource tree as a `g2` grouping, \
account roles as `g` links to shared role policies, a grant as a role scoped to its resource (`role@resource`) with \
its policy lines, groups as `g` links; the owner condition carried in the request. One enforcer per account \
(casbin's filtered per-domain loading): a single enforcer scans every policy line of every account per check.\n\
* **cedar-policy** (`peers/cedar.rs`): entities with parents (users in `Role` and `Group` entities, pickaxes in \
studios in the account), one static policy per account role and condition, one template per grantable role linked \
once per grant; the owner condition reads `resource.owner`. One policy store per account (as with per-tenant stores): \
the authorizer evaluates every policy in its set.\n\
* The peers' rules are expanded from the same compiled pack, so all three know the same roles.";

/// Median check latency (log scale) against memberships + grants (log scale).
fn draw(sweep: &[Comparison], path: &Path) -> Result<()> {
    let root = SVGBackend::new(path, (900, 540)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| anyhow::anyhow!("chart: {e}"))?;
    let points = |name: &str| -> Vec<(f64, f64)> {
        sweep
            .iter()
            .filter_map(|c| {
                std::iter::once(&c.roster)
                    .chain(&c.peers)
                    .find(|f| f.name == name)
                    .map(|f| (c.records() as f64, f.latency.p50_ns.max(1.0)))
            })
            .collect()
    };
    let all: Vec<(f64, f64)> = ["roster", "casbin-rs", "cedar-policy"].iter().flat_map(|n| points(n)).collect();
    let (x_max, y_max) = all.iter().fold((10.0f64, 10.0f64), |(x, y), p| (x.max(p.0), y.max(p.1)));
    let x_min = all.iter().map(|p| p.0).fold(f64::MAX, f64::min).min(x_max);
    let y_min = all.iter().map(|p| p.1).fold(f64::MAX, f64::min).min(y_max);
    let mut chart = ChartBuilder::on(&root)
        .caption("Median check latency against dataset size", ("sans-serif", 22))
        .margin(20)
        .x_label_area_size(50)
        .y_label_area_size(80)
        .build_cartesian_2d((x_min / 2.0..x_max * 2.0).log_scale(), (y_min / 2.0..y_max * 2.0).log_scale())
        .map_err(|e| anyhow::anyhow!("chart: {e}"))?;
    chart
        .configure_mesh()
        .x_desc("memberships + grants")
        .y_desc("p50 ns per check")
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_label_formatter(&|y| format!("{y:.0}"))
        .draw()
        .map_err(|e| anyhow::anyhow!("chart: {e}"))?;
    for (name, color) in [("roster", BLUE), ("casbin-rs", RED), ("cedar-policy", GREEN)] {
        let series = points(name);
        chart
            .draw_series(LineSeries::new(series.clone(), color.stroke_width(2)))
            .map_err(|e| anyhow::anyhow!("chart: {e}"))?
            .label(name)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2)));
        chart
            .draw_series(series.into_iter().map(|p| Circle::new(p, 4, color.filled())))
            .map_err(|e| anyhow::anyhow!("chart: {e}"))?;
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(|e| anyhow::anyhow!("chart: {e}"))?;
    root.present().map_err(|e| anyhow::anyhow!("chart: {e}"))?;
    Ok(())
}
