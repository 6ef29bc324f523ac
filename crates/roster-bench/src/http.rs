//! The daemon under load: `rosterd` started on the benchmark's SQLite file, driven over
//! loopback by wrk (keep-alive, a Lua script cycling through the benchmark's questions).
//! Figures: `/v1/check` requests/s and p50/p99 at several concurrencies, and
//! `/v1/check/batch` with 100 checks per request in checks/s; the same batches of one
//! account each through `/v1/check/batch` and AuthZEN's evaluations; then the same
//! `/v1/check` load on one replica and split over two ([`crate::replicas`]).

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde_json::json;

use crate::generate::Question;

/// Checks per batch request.
pub(crate) const BATCH: usize = 100;

/// `/v1/check/batch` with every batch about one account (the AuthZEN comparison's twin).
pub(crate) const V1_ONE_ACCOUNT: &str = "/v1/check/batch (one account per batch)";
/// AuthZEN's Access Evaluations, the same batches.
pub(crate) const AUTHZEN_EVALUATIONS: &str = "/authzen/{account}/access/v1/evaluations";
/// Runs of each one-account endpoint, alternating; the median is reported.
const ALTERNATIONS: usize = 3;

/// Where the daemon and wrk come from.
pub(crate) struct HttpSetup<'a> {
    pub(crate) rosterd: &'a Path,
    pub(crate) plugin_dir: &'a Path,
    pub(crate) database: &'a Path,
    pub(crate) duration_s: u32,
}

/// One wrk run.
pub(crate) struct LoadFigures {
    pub(crate) endpoint: &'static str,
    pub(crate) connections: u32,
    pub(crate) requests_per_s: f64,
    pub(crate) checks_per_s: f64,
    pub(crate) p50_ms: f64,
    pub(crate) p99_ms: f64,
}

/// Everything the HTTP run measured.
pub(crate) struct HttpFigures {
    /// From spawning the daemon to its "listening" line (includes the snapshot load), the
    /// first time after the import and on a restart.
    pub(crate) start_s: f64,
    pub(crate) restart_s: f64,
    pub(crate) runs: Vec<LoadFigures>,
    /// `/v1/check` with the same load on one replica, then split over two.
    pub(crate) split: Vec<crate::replicas::SplitFigures>,
}

/// A `rosterd` the benchmark started; killed when dropped.
pub(crate) struct Daemon {
    child: Child,
    pub(crate) address: String,
}

impl Daemon {
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the release daemon on `database_url` with its config and data under `dir`
/// (`extra` TOML appended), and times it from spawn to its "listening" line.
pub(crate) fn start(
    rosterd: &Path,
    plugin_dir: &Path,
    database_url: &str,
    dir: &Path,
    extra: &str,
) -> Result<(Daemon, f64)> {
    let config = dir.join("rosterd.toml");
    let absolute = |path: &Path| {
        std::fs::canonicalize(path)
            .with_context(|| format!("{} not found (cargo xtask bench builds it)", path.display()))
    };
    let (rosterd, plugin_dir) = (absolute(rosterd)?, absolute(plugin_dir)?);
    let text = format!(
        "[packs]\nplugin_dirs = [{plugins:?}]\nrequired = [\"studio\"]\n\n[database]\nurl = {database_url:?}\n\n[server]\nlisten = \"127.0.0.1:0\"\ndata_dir = {data:?}\n{extra}\n",
        plugins = plugin_dir.display().to_string(),
        data = dir.join("data").display().to_string(),
    );
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    std::fs::write(&config, text).context("writing the daemon's config")?;
    let started = Instant::now();
    let mut child = Command::new(&rosterd)
        .arg("--config")
        .arg(&config)
        .arg("serve")
        .env("ROSTER_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .with_context(|| format!("cannot start {}", rosterd.display()))?;
    let stdout = child.stdout.take().context("no stdout")?;
    let mut lines = BufReader::new(stdout).lines();
    let address = loop {
        match lines.next() {
            Some(Ok(line)) => {
                if let Some(address) = line.strip_prefix("rosterd listening on http://") {
                    break address.to_owned();
                }
            }
            _ => bail!("rosterd exited before listening: {:?}", child.wait()),
        }
    };
    let start_s = started.elapsed().as_secs_f64();
    std::thread::spawn(move || for _ in lines {});
    Ok((Daemon { child, address }, start_s))
}

/// A service token for the daemon started in `dir`: the bootstrap token it wrote when the
/// database had none, or a new one made with `rosterd token create` (a database served
/// before, `--http-database`).
pub(crate) fn service_token(rosterd: &Path, dir: &Path) -> Result<String> {
    if let Ok(token) = std::fs::read_to_string(dir.join("data/bootstrap-token")) {
        return Ok(token.trim().to_owned());
    }
    let output = Command::new(rosterd)
        .arg("--config")
        .arg(dir.join("rosterd.toml"))
        .args(["token", "create", "--service", "bench"])
        .env("ROSTER_LOG", "warn")
        .output()
        .with_context(|| format!("cannot run {}", rosterd.display()))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    match stdout.lines().last() {
        Some(token) if output.status.success() => Ok(token.trim().to_owned()),
        _ => bail!("rosterd token create failed: {}", String::from_utf8_lossy(&output.stderr)),
    }
}

pub(crate) fn check_body(q: &Question) -> serde_json::Value {
    let mut body = json!({"account": q.account, "principal": q.principal, "permission": q.permission});
    if let Some(resource) = &q.resource {
        body["resource"] = json!(resource);
    }
    body
}

/// A wrk script that posts `bodies` to `path` in turn.
pub(crate) fn script(path: &str, token: &str, bodies: &[String]) -> String {
    let requests: Vec<(String, String)> = bodies.iter().map(|b| (path.to_owned(), b.clone())).collect();
    script_requests(token, &requests)
}

/// Requests as (path, body).
type Requests = Vec<(String, String)>;

/// A wrk script that posts each (path, body) in turn.
fn script_requests(token: &str, requests: &[(String, String)]) -> String {
    let mut lua = format!(
        "wrk.method = \"POST\"\nwrk.headers[\"Content-Type\"] = \"application/json\"\nwrk.headers[\"Authorization\"] = \"Bearer {token}\"\nlocal paths = {{\n"
    );
    for (path, _) in requests {
        lua += &format!("  [==[{path}]==],\n");
    }
    lua += "}\nlocal bodies = {\n";
    for (_, body) in requests {
        lua += &format!("  [==[{body}]==],\n");
    }
    lua += "}\nlocal i = 0\nrequest = function()\n  i = i + 1\n  local k = (i % #bodies) + 1\n  return wrk.format(nil, paths[k], nil, bodies[k])\nend\n";
    lua
}

/// Batches of [`BATCH`] questions about one account each (an AuthZEN PDP is one
/// account), cycling through that account's questions: the same decisions as
/// `/v1/check/batch` bodies and as AuthZEN evaluations requests (every item complete).
fn one_account_batches(questions: &[Question], count: usize) -> (Requests, Requests) {
    let mut by_account: std::collections::BTreeMap<&str, Vec<&Question>> = Default::default();
    for q in questions {
        by_account.entry(q.account.as_str()).or_default().push(q);
    }
    let (mut v1, mut authzen) = (Vec::new(), Vec::new());
    for (account, asked) in by_account.into_iter().take(count) {
        let batch: Vec<&Question> = asked.iter().copied().cycle().take(BATCH).collect();
        let checks: Vec<serde_json::Value> = batch.iter().map(|q| check_body(q)).collect();
        v1.push(("/v1/check/batch".to_owned(), json!({ "checks": checks }).to_string()));
        let items: Vec<serde_json::Value> = batch
            .iter()
            .map(|q| {
                let (ty, id) = q.resource.as_deref().and_then(|r| r.split_once(':')).unwrap_or(("account", account));
                json!({ "subject": { "type": "user", "id": q.principal }, "action": { "name": q.permission },
                        "resource": { "type": ty, "id": id } })
            })
            .collect();
        let path = format!("/authzen/{account}/access/v1/evaluations");
        authzen.push((path, json!({ "evaluations": items }).to_string()));
    }
    (v1, authzen)
}

/// Reads a wrk latency like `812.00us`, `1.23ms` or `2.01s` as milliseconds.
fn parse_latency(text: &str) -> Option<f64> {
    let split = text.find(|c: char| c.is_ascii_alphabetic())?;
    let (number, unit) = text.split_at(split);
    let value: f64 = number.parse().ok()?;
    match unit {
        "us" => Some(value / 1000.0),
        "ms" => Some(value),
        "s" => Some(value * 1000.0),
        "m" => Some(value * 60_000.0),
        _ => None,
    }
}

/// One wrk run with 2 threads: requests/s, p50 ms, p99 ms.
fn wrk(address: &str, script_path: &Path, connections: u32, duration_s: u32) -> Result<(f64, f64, f64)> {
    wrk_threads(address, script_path, 2, connections, duration_s)
}

/// One wrk run: requests/s, p50 ms, p99 ms.
pub(crate) fn wrk_threads(
    address: &str,
    script_path: &Path,
    threads: u32,
    connections: u32,
    duration_s: u32,
) -> Result<(f64, f64, f64)> {
    let output = Command::new("wrk")
        .args([&format!("-t{threads}"), &format!("-c{connections}"), &format!("-d{duration_s}s"), "--latency", "-s"])
        .arg(script_path)
        .arg(format!("http://{address}"))
        .output()
        .context("cannot run wrk (install it: apt-get install wrk)")?;
    let text = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        bail!("wrk failed: {}{}", text, String::from_utf8_lossy(&output.stderr));
    }
    if let Some(line) = text.lines().find(|l| l.contains("Non-2xx")) {
        bail!("the daemon refused requests under load: {line}\n{text}");
    }
    let field = |prefix: &str| {
        text.lines().map(str::trim).find_map(|l| l.strip_prefix(prefix).map(|rest| rest.trim().to_owned()))
    };
    let rps: f64 = field("Requests/sec:").and_then(|v| v.parse().ok()).context("wrk printed no Requests/sec")?;
    let p50 = field("50%").and_then(|v| parse_latency(&v)).context("wrk printed no 50% latency")?;
    let p99 = field("99%").and_then(|v| parse_latency(&v)).context("wrk printed no 99% latency")?;
    Ok((rps, p50, p99))
}

/// Starts the daemon and runs wrk against both check endpoints.
pub(crate) fn run(setup: &HttpSetup, questions: &[Question]) -> Result<HttpFigures> {
    let dir = tempfile::tempdir().context("temp dir")?;
    let url = format!("sqlite://{}?mode=rwc", setup.database.display());
    let launch = |dir: &Path| start(setup.rosterd, setup.plugin_dir, &url, dir, "");
    let (daemon, start_s) = launch(dir.path())?;
    drop(daemon);
    let (daemon, restart_s) = launch(dir.path())?;
    let token = service_token(setup.rosterd, dir.path())?;
    let singles: Vec<String> = questions.iter().take(2_000).map(|q| check_body(q).to_string()).collect();
    let batches: Vec<String> = questions
        .chunks(BATCH)
        .take(50)
        .map(|chunk| json!({"checks": chunk.iter().map(check_body).collect::<Vec<_>>()}).to_string())
        .collect();
    let single_script = dir.path().join("check.lua");
    let batch_script = dir.path().join("batch.lua");
    std::fs::write(&single_script, script("/v1/check", &token, &singles))?;
    std::fs::write(&batch_script, script("/v1/check/batch", &token, &batches))?;

    // Warm up (connections, allocator, caches) before anything is recorded.
    std::thread::sleep(Duration::from_millis(200));
    wrk(&daemon.address, &single_script, 32, 3)?;
    wrk(&daemon.address, &batch_script, 32, 3)?;
    let mut runs = Vec::new();
    for connections in [16, 32, 64] {
        let (rps, p50, p99) = wrk(&daemon.address, &single_script, connections, setup.duration_s)?;
        runs.push(LoadFigures {
            endpoint: "/v1/check",
            connections,
            requests_per_s: rps,
            checks_per_s: rps,
            p50_ms: p50,
            p99_ms: p99,
        });
    }
    let (rps, p50, p99) = wrk(&daemon.address, &batch_script, 32, setup.duration_s)?;
    runs.push(LoadFigures {
        endpoint: "/v1/check/batch",
        connections: 32,
        requests_per_s: rps,
        checks_per_s: rps * BATCH as f64,
        p50_ms: p50,
        p99_ms: p99,
    });
    // The same questions as one-account batches, through /v1 and through AuthZEN: runs
    // alternate (this shared host drifts by tens of percent within a minute), and each
    // endpoint's figure is the median of its runs.
    let (v1, authzen) = one_account_batches(questions, 50);
    let mut scripts = Vec::new();
    for (endpoint, requests) in [(V1_ONE_ACCOUNT, v1), (AUTHZEN_EVALUATIONS, authzen)] {
        let path = dir.path().join(format!("one-account-{}.lua", scripts.len()));
        std::fs::write(&path, script_requests(&token, &requests))?;
        wrk(&daemon.address, &path, 32, 3)?;
        scripts.push((endpoint, path, Vec::new()));
    }
    for _ in 0..ALTERNATIONS {
        for (_, path, figures) in &mut scripts {
            figures.push(wrk(&daemon.address, path, 32, setup.duration_s)?);
        }
    }
    for (endpoint, _, mut figures) in scripts {
        figures.sort_by(|a, b| a.0.total_cmp(&b.0));
        let (rps, p50, p99) = figures[figures.len() / 2];
        runs.push(LoadFigures {
            endpoint,
            connections: 32,
            requests_per_s: rps,
            checks_per_s: rps * BATCH as f64,
            p50_ms: p50,
            p99_ms: p99,
        });
    }
    // A second replica on the same database, for the same load split over both.
    let (replica, _) = launch(&dir.path().join("replica"))?;
    let split = crate::replicas::throughput(&daemon, &replica, &single_script, setup.duration_s)?;
    drop((daemon, replica));
    Ok(HttpFigures { start_s, restart_s, runs, split })
}
