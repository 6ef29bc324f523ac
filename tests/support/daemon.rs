//! Running the real `rosterd` binary for the end-to-end API tests: a fresh database per
//! daemon (SQLite in a temporary directory, or a new PostgreSQL database when
//! `ROSTER_TEST_DATABASE_URL` is set), the built plugins, a real socket.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use sea_orm::ConnectionTrait;

use crate::http::{Response, send};

/// Which database a daemon runs on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Backend {
    /// A SQLite file in the daemon's temporary directory.
    Sqlite,
    /// A fresh database on the server of `ROSTER_TEST_DATABASE_URL`.
    Postgres(String),
}

/// SQLite always; PostgreSQL too when `ROSTER_TEST_DATABASE_URL` is set.
pub fn backends() -> Vec<Backend> {
    let mut all = vec![Backend::Sqlite];
    if let Ok(url) = std::env::var("ROSTER_TEST_DATABASE_URL") {
        all.push(Backend::Postgres(url));
    }
    all
}

fn rosterd_path() -> PathBuf {
    let exe = std::env::current_exe().expect("test exe");
    let dir = exe.parent().and_then(Path::parent).expect("target/<profile>");
    let path = dir.join(format!("rosterd{}", std::env::consts::EXE_SUFFIX));
    assert!(path.exists(), "{} is not built (run the tests with `cargo xtask test`)", path.display());
    path
}

fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime").block_on(future)
}

/// How a daemon is started, beyond its configuration.
#[derive(Clone, Copy, Debug, Default)]
pub struct Launch {
    /// Run it under this open-files limit (soft and hard, through `prlimit`), so it cannot
    /// raise it.
    pub open_files: Option<u64>,
    /// Write its stderr (its log) to a file [`Daemon::log`] reads, instead of the test's.
    pub capture_log: bool,
    /// TOML packs (file name, text) in a directory the daemon loads packs from.
    pub toml_packs: &'static [(&'static str, &'static str)],
}

/// A running daemon.
pub struct Daemon {
    child: Option<Child>,
    /// `host:port`.
    pub address: String,
    /// The bootstrap service token.
    pub token: String,
    /// The database URL it uses.
    pub database_url: String,
    /// Which backend.
    pub backend: Backend,
    config: PathBuf,
    postgres: Option<(String, String)>,
    how: Launch,
    _dir: tempfile::TempDir,
}

impl Daemon {
    /// Starts a daemon on a fresh database.
    pub fn start(backend: &Backend) -> Daemon {
        Self::start_with(backend, "")
    }

    /// Starts a daemon with extra TOML appended to its `[server]` section.
    pub fn start_with(backend: &Backend, server_extra: &str) -> Daemon {
        Self::start_launched(backend, server_extra, Launch::default())
    }

    /// Starts a daemon with extra `[server]` TOML, launched as `how` says.
    pub fn start_launched(backend: &Backend, server_extra: &str, how: Launch) -> Daemon {
        let dir = tempfile::tempdir().expect("tempdir");
        let (database_url, postgres) = match backend {
            Backend::Sqlite => (format!("sqlite://{}?mode=rwc", dir.path().join("data/roster.db").display()), None),
            Backend::Postgres(admin) => {
                let name = format!(
                    "roster_test_{}_{}",
                    std::process::id(),
                    std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .map(|d| d.as_nanos())
                        .unwrap_or(0)
                );
                block_on(async {
                    let db = sea_orm::Database::connect(admin.clone()).await.expect("postgres admin");
                    db.execute_unprepared(&format!("CREATE DATABASE {name}")).await.expect("create database");
                });
                let base = admin.rsplit_once('/').map_or(admin.as_str(), |(base, _)| base);
                (format!("{base}/{name}"), Some((admin.clone(), name)))
            }
        };
        let packs = dir.path().join("packs");
        std::fs::create_dir_all(&packs).expect("packs dir");
        for (name, text) in how.toml_packs {
            std::fs::write(packs.join(name), text).expect("write TOML pack");
        }
        let config = dir.path().join("rosterd.toml");
        let text = format!(
            "[packs]\nplugin_dirs = [{plugins:?}]\ntoml_dirs = [{packs:?}]\nrequired = [\"studio\", \"agency\", \"mods\", \"workspace\", \"staff\"]\n\n[database]\nurl = {database_url:?}\n\n[server]\nlisten = \"127.0.0.1:0\"\ndata_dir = {data:?}\n{server_extra}\n",
            plugins = crate::plugin_dir().display().to_string(),
            packs = packs.display().to_string(),
            data = dir.path().join("data").display().to_string(),
        );
        std::fs::write(&config, text).expect("write config");
        let mut daemon = Daemon {
            child: None,
            address: String::new(),
            token: String::new(),
            database_url,
            backend: backend.clone(),
            config,
            postgres,
            how,
            _dir: dir,
        };
        daemon.launch();
        daemon.token = std::fs::read_to_string(daemon._dir.path().join("data/bootstrap-token"))
            .expect("bootstrap token")
            .trim()
            .to_owned();
        daemon
    }

    /// Starts another replica on this daemon's database (its own directory and port; the
    /// same service token). It leaves the database to this daemon to drop.
    pub fn replica(&self, server_extra: &str) -> Daemon {
        let dir = tempfile::tempdir().expect("tempdir");
        let config = dir.path().join("rosterd.toml");
        let text = std::fs::read_to_string(&self.config).expect("config");
        let data = self._dir.path().join("data").display().to_string();
        let text = text.replace(
            &format!("data_dir = {data:?}"),
            &format!("data_dir = {:?}", dir.path().join("data").display().to_string()),
        );
        let text = format!("{text}{server_extra}\n");
        std::fs::write(&config, text).expect("write config");
        let mut replica = Daemon {
            child: None,
            address: String::new(),
            token: self.token.clone(),
            database_url: self.database_url.clone(),
            backend: self.backend.clone(),
            config,
            postgres: None,
            how: self.how,
            _dir: dir,
        };
        replica.launch();
        replica
    }

    fn launch(&mut self) {
        let mut command = match self.how.open_files {
            // prlimit sets the limit and execs rosterd: same process, so `pid` is rosterd's.
            Some(n) => {
                let mut command = Command::new("prlimit");
                command.arg(format!("--nofile={n}:{n}")).arg(rosterd_path());
                command
            }
            None => Command::new(rosterd_path()),
        };
        let stderr = match self.how.capture_log {
            true => Stdio::from(std::fs::File::create(self.log_path()).expect("log file")),
            false => Stdio::inherit(),
        };
        let mut child = command
            .arg("--config")
            .arg(&self.config)
            .arg("serve")
            .env("ROSTER_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .expect("start rosterd");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let address = loop {
            match lines.next() {
                Some(Ok(line)) => {
                    if let Some(address) = line.strip_prefix("rosterd listening on http://") {
                        break address.to_owned();
                    }
                }
                _ => panic!("rosterd exited before listening: {:?}", child.wait()),
            }
        };
        // Keep draining stdout so the daemon never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        self.address = address;
        self.child = Some(child);
    }

    /// The daemon's process id.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, Child::id)
    }

    fn log_path(&self) -> PathBuf {
        self._dir.path().join("rosterd.log")
    }

    /// What the daemon logged so far (with [`Launch::capture_log`]).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    /// Stops with SIGTERM and waits; returns whether it exited cleanly.
    pub fn stop(&mut self) -> bool {
        let Some(mut child) = self.child.take() else { return true };
        let _ = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status();
        for _ in 0..200 {
            if let Ok(Some(status)) = child.try_wait() {
                return status.success();
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        let _ = child.kill();
        false
    }

    /// Kills the daemon with SIGKILL (no chance to finish anything) and waits for it.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the daemon again on the same database (after [`Daemon::kill`]).
    pub fn relaunch(&mut self) {
        assert!(self.child.is_none(), "relaunch a daemon that is not running");
        self.launch();
    }

    /// [`Daemon::call`], answering an I/O error (the daemon went away) instead of panicking.
    pub fn try_call(&self, method: &str, path: &str, body: serde_json::Value) -> std::io::Result<Response> {
        let bearer = format!("Bearer {}", self.token);
        let body = body.to_string();
        crate::http::try_send(&self.address, method, path, &[("Authorization", bearer.as_str())], body.as_bytes())
    }

    /// Stops and starts again on the same database.
    pub fn restart(&mut self) {
        assert!(self.stop(), "rosterd should exit cleanly on SIGTERM");
        self.launch();
    }

    /// Appends TOML to the daemon's configuration file (read at its next start).
    pub fn append_config(&self, text: &str) {
        let mut config = std::fs::read_to_string(&self.config).expect("config");
        config.push_str(text);
        std::fs::write(&self.config, config).expect("write config");
    }

    /// Writes (or replaces) a TOML pack in the directory the daemon loads packs from.
    pub fn write_toml_pack(&self, name: &str, text: &str) {
        std::fs::write(self._dir.path().join("packs").join(name), text).expect("write TOML pack");
    }

    /// The daemon's data directory (bootstrap token).
    pub fn data_dir(&self) -> PathBuf {
        self._dir.path().join("data")
    }

    /// Runs a `rosterd` verb with this daemon's configuration (same database).
    pub fn cli(&self, args: &[&str]) -> std::process::Output {
        Command::new(rosterd_path())
            .arg("--config")
            .arg(&self.config)
            .args(args)
            .env("ROSTER_LOG", "warn")
            .output()
            .expect("rosterd runs")
    }

    /// Sends a request as the bootstrap service token, optionally acting as a principal.
    pub fn call(&self, method: &str, path: &str, act_as: Option<&str>, body: Option<serde_json::Value>) -> Response {
        let bearer = format!("Bearer {}", self.token);
        let mut headers = vec![("Authorization", bearer.as_str())];
        if let Some(principal) = act_as {
            headers.push(("Roster-Act-As", principal));
        }
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        send(&self.address, method, path, &headers, body.as_bytes())
    }

    /// Sends a request with explicit headers and a raw body.
    pub fn raw(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Response {
        send(&self.address, method, path, headers, body)
    }

    /// Runs SQL against the daemon's database (to inspect it, or to tamper with it).
    pub fn sql(&self, statement: &str) {
        let url = self.database_url.clone();
        let statement = statement.to_owned();
        block_on(async move {
            let store = roster_store::Store::connect(&url).await.expect("connect");
            store.connection().execute_unprepared(&statement).await.expect("sql");
        });
    }

    /// The number a `SELECT COUNT(*) AS n …` (or any query with one integer column `n`) gives.
    pub fn count(&self, query: &str) -> i64 {
        let (url, query) = (self.database_url.clone(), query.to_owned());
        block_on(async move {
            let store = roster_store::Store::connect(&url).await.expect("connect");
            let db = store.connection();
            let row = db
                .query_one_raw(sea_orm::Statement::from_string(db.get_database_backend(), query))
                .await
                .expect("query")
                .expect("a row");
            row.try_get::<i64>("", "n").expect("n")
        })
    }

    /// A fingerprint of the whole database: revision, row counts, every audit hash.
    pub fn dump(&self) -> String {
        let url = self.database_url.clone();
        block_on(async move {
            let store = roster_store::Store::connect(&url).await.expect("connect");
            let db = store.connection();
            let mut out = format!("revision={}\n", store.revision().await.expect("revision"));
            for table in [
                "accounts",
                "principals",
                "custom_roles",
                "memberships",
                "resources",
                "roster_groups",
                "group_members",
                "grants",
                "invites",
                "tokens",
                "audit_events",
            ] {
                let sql = format!("SELECT COUNT(*) AS n FROM {table}");
                let row = db
                    .query_one_raw(sea_orm::Statement::from_string(db.get_database_backend(), sql))
                    .await
                    .expect("count")
                    .expect("row");
                out.push_str(&format!("{table}={}\n", row.try_get::<i64>("", "n").expect("n")));
            }
            let sql = "SELECT hash FROM audit_events ORDER BY account_id, seq".to_owned();
            for row in
                db.query_all_raw(sea_orm::Statement::from_string(db.get_database_backend(), sql)).await.expect("hashes")
            {
                out.push_str(&row.try_get::<String>("", "hash").expect("hash"));
                out.push('\n');
            }
            out
        })
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        if let Some((admin, name)) = self.postgres.take() {
            block_on(async move {
                if let Ok(db) = sea_orm::Database::connect(admin).await {
                    let _ = db.execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await;
                }
            });
        }
    }
}
