//! Replication lag: two `rosterd` replicas on one database, a steady write load on A
//! (paced writers adding members), and for each write acknowledged by A the time until B
//! has it, measured two ways in two phases:
//! * **applied on B**: B's own change stream (`/v1/watch` as server-sent events) delivers
//!   the write's revision; a watch waits for its replica to apply a revision, so this is B
//!   catching up on its own (woken by PostgreSQL's NOTIFY, or by its poll on SQLite);
//! * **read your writes on B**: a check on B naming the revision A returned
//!   (`min_revision`) is answered, what a client reading its write elsewhere waits.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, ensure};
use serde_json::{Value, json};

use crate::http::{Daemon, service_token, start};

/// Writer threads on A.
const WRITERS: u32 = 2;
/// Writes per second, all writers together.
pub(crate) const WRITES_PER_S: u32 = 100;
/// Seconds each phase writes for.
pub(crate) const PHASE_S: u64 = 10;
/// Seconds of writes before anything is recorded.
const WARM_UP_S: u64 = 2;

/// Where the daemons come from.
pub(crate) struct LagSetup<'a> {
    pub(crate) rosterd: &'a Path,
    pub(crate) plugin_dir: &'a Path,
}

/// Milliseconds at the median, the 99th percentile and the worst.
pub(crate) struct Spread {
    pub(crate) p50_ms: f64,
    pub(crate) p99_ms: f64,
    pub(crate) max_ms: f64,
}

impl Spread {
    fn of(mut samples: Vec<Duration>) -> Result<Spread> {
        ensure!(!samples.is_empty(), "no samples");
        samples.sort_unstable();
        let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize].as_secs_f64() * 1000.0;
        Ok(Spread { p50_ms: at(0.5), p99_ms: at(0.99), max_ms: at(1.0) })
    }
}

/// One database's figures.
pub(crate) struct LagFigures {
    pub(crate) backend: &'static str,
    /// How B is woken: notification or poll.
    pub(crate) follows_by: &'static str,
    pub(crate) writes_per_s: f64,
    pub(crate) applied: Spread,
    pub(crate) applied_samples: usize,
    pub(crate) read_your_writes: Spread,
    pub(crate) read_samples: usize,
}

/// A blocking client of one daemon, with the service token.
struct Client {
    http: reqwest::blocking::Client,
    base: String,
    token: String,
}

impl Client {
    fn post(&self, path: &str, body: &Value) -> Result<Value> {
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .header("Content-Type", "application/json")
            .body(body.to_string())
            .send()
            .with_context(|| format!("POST {path}"))?;
        let status = response.status();
        let text = response.text().context("reading the answer")?;
        ensure!(status.is_success(), "POST {path}: {status} {text}");
        serde_json::from_str(&text).with_context(|| format!("POST {path}: not JSON: {text}"))
    }
}

fn revision(answer: &Value) -> Result<u64> {
    answer["revision"].as_u64().with_context(|| format!("no revision in {answer}"))
}

/// Runs both phases on `database_url` (a fresh database).
fn measure(setup: &LagSetup, database_url: &str, backend: &'static str) -> Result<LagFigures> {
    let dir = tempfile::tempdir().context("temp dir")?;
    let (a, _) = start(setup.rosterd, setup.plugin_dir, database_url, &dir.path().join("a"), "")?;
    let (b, _) = start(setup.rosterd, setup.plugin_dir, database_url, &dir.path().join("b"), "")?;
    let token = service_token(setup.rosterd, &dir.path().join("a"))?;
    let http = reqwest::blocking::Client::builder().timeout(Duration::from_secs(30)).build()?;
    let client =
        |d: &Daemon| Client { http: http.clone(), base: format!("http://{}", d.address), token: token.clone() };
    let (on_a, on_b) = (client(&a), client(&b));
    let owner = json!({ "id": "lag-owner", "email": "owner@example.com", "name": "Owner" });
    let created =
        on_a.post("/v1/accounts", &json!({ "id": "lag", "pack": "studio", "name": "Lag", "owner": owner }))?;

    // Phase 1: B's change stream, open before the first write.
    let arrivals = follow_stream(&b.address, &token, revision(&created)?)?;
    // A warm-up first: the daemons' database pools open their connections as the load
    // starts (the first writes of a cold start waited up to 95 ms on PostgreSQL for that).
    paced_writes(&on_a, "warm-up", WARM_UP_S, |_| Ok(()))?;
    let writes = paced_writes(&on_a, "applied", PHASE_S, |_| Ok(()))?;
    // Every acknowledged revision reaches B's stream, or the run says which did not.
    let last = writes.iter().map(|(r, _)| *r).max().unwrap_or(0);
    let deadline = Instant::now() + Duration::from_secs(10);
    while !arrivals.lock().is_ok_and(|seen| seen.contains_key(&last)) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    let arrivals = arrivals.lock().map_err(|_| anyhow::anyhow!("lock poisoned"))?.clone();
    let mut applied = Vec::with_capacity(writes.len());
    for (revision, acknowledged) in &writes {
        let arrived = arrivals.get(revision).with_context(|| format!("revision {revision} never reached B"))?;
        // B may have it before A's answer reaches the writer: no lag then.
        applied.push(arrived.saturating_duration_since(*acknowledged));
    }
    let writes_per_s = writes.len() as f64 / PHASE_S as f64;

    // Phase 2: read your writes on B, after each write on A.
    let waited = Mutex::new(Vec::new());
    paced_writes(&on_a, "read", PHASE_S, |(principal, revision, acknowledged)| {
        let check =
            json!({ "account": "lag", "principal": principal, "permission": "pickaxe.view", "min_revision": revision });
        let answer = on_b.post("/v1/check", &check)?;
        let elapsed = acknowledged.elapsed();
        ensure!(answer["allowed"] == true, "B does not see {principal} at {revision}: {answer}");
        waited.lock().map_err(|_| anyhow::anyhow!("lock poisoned"))?.push(elapsed);
        Ok(())
    })?;
    let waited = waited.into_inner().map_err(|_| anyhow::anyhow!("lock poisoned"))?;
    Ok(LagFigures {
        backend,
        follows_by: if backend == "PostgreSQL" { "LISTEN/NOTIFY" } else { "polling every 500 ms (the default)" },
        writes_per_s,
        applied_samples: applied.len(),
        applied: Spread::of(applied)?,
        read_samples: waited.len(),
        read_your_writes: Spread::of(waited)?,
    })
}

/// What one write gives the per-write step: the new member, its revision, when A's answer
/// arrived.
type Written<'a> = (&'a str, u64, Instant);

/// `WRITERS` threads adding members on A at `WRITES_PER_S` together for `seconds`, each
/// write followed by `after`; every acknowledged (revision, time of the answer).
fn paced_writes(
    on_a: &Client,
    phase: &str,
    seconds: u64,
    after: impl Fn(Written) -> Result<()> + Sync,
) -> Result<Vec<(u64, Instant)>> {
    let interval = Duration::from_secs_f64(f64::from(WRITERS) / f64::from(WRITES_PER_S));
    let writes_each = seconds * u64::from(WRITES_PER_S / WRITERS);
    let after = &after;
    std::thread::scope(|scope| {
        let writers: Vec<_> = (0..WRITERS)
            .map(|writer| {
                scope.spawn(move || {
                    let started = Instant::now();
                    let mut acknowledged = Vec::new();
                    for n in 0..writes_each {
                        let due = started + interval * u32::try_from(n)?;
                        std::thread::sleep(due.saturating_duration_since(Instant::now()));
                        let principal = format!("{phase}-{writer}-{n}");
                        let body = json!({ "principal": principal, "role": "user" });
                        let revision = revision(&on_a.post("/v1/accounts/lag/members", &body)?)?;
                        let at = Instant::now();
                        acknowledged.push((revision, at));
                        after((&principal, revision, at))?;
                    }
                    anyhow::Ok(acknowledged)
                })
            })
            .collect();
        let mut all = Vec::new();
        for writer in writers {
            all.extend(writer.join().map_err(|_| anyhow::anyhow!("a writer panicked"))??);
        }
        Ok(all)
    })
}

/// Reads B's change stream from `since` on a thread of its own, recording when each
/// revision arrives; the thread ends with the stream (when B stops).
fn follow_stream(address: &str, token: &str, since: u64) -> Result<Arc<Mutex<HashMap<u64, Instant>>>> {
    let response = reqwest::blocking::Client::builder()
        .timeout(None)
        .build()?
        .get(format!("http://{address}/v1/watch?since={since}"))
        .bearer_auth(token)
        .header("Accept", "text/event-stream")
        .send()
        .context("opening B's change stream")?;
    ensure!(response.status().is_success(), "B's change stream: {}", response.status());
    let arrivals = Arc::new(Mutex::new(HashMap::new()));
    let recorded = Arc::clone(&arrivals);
    std::thread::spawn(move || {
        for line in BufReader::new(response).lines() {
            let Ok(line) = line else { return };
            if let Some(revision) = line.strip_prefix("id:").and_then(|id| id.trim().parse::<u64>().ok())
                && let Ok(mut arrivals) = recorded.lock()
            {
                arrivals.insert(revision, Instant::now());
            }
        }
    });
    Ok(arrivals)
}

/// The lag on PostgreSQL (a scratch database on the server at `admin_url`) and on SQLite.
pub(crate) fn run(setup: &LagSetup, admin_url: &str) -> Vec<Result<LagFigures>> {
    let postgres =
        crate::snapshot::with_scratch_postgres(admin_url, "roster_lag", |url| measure(setup, &url, "PostgreSQL"));
    let sqlite = tempfile::tempdir().context("temp dir").and_then(|dir| {
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("lag.db").display());
        measure(setup, &url, "SQLite")
    });
    vec![postgres, sqlite]
}
