//! Configuration: built-in defaults < `config/rosterd.toml` (or `--config FILE`) <
//! `ROSTER_*` environment (`ROSTER_PACKS__PLUGIN_DIRS='["/opt/roster/plugins"]'`) < flags.
//! Paths in a config file are relative to that file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Result, bail};
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use figment::value::magic::RelativePathBuf;
use roster_plugin::LoaderConfig;
use serde::{Deserialize, Serialize};

use crate::cli::GlobalArgs;

/// The file read when `--config` is not given, if it exists.
const DEFAULT_CONFIG: &str = "config/rosterd.toml";

/// Top-level sections; other `ROSTER_*` variables (e.g. test settings) are not config.
const SECTIONS: &[&str] = &["packs", "database", "server", "telemetry", "audit", "replication"];

/// The daemon's configuration.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Config {
    #[serde(default)]
    pub(crate) packs: PacksConfig,
    #[serde(default)]
    pub(crate) database: DatabaseConfig,
    #[serde(default)]
    pub(crate) server: ServerConfig,
    #[serde(default)]
    pub(crate) telemetry: crate::telemetry::TelemetryConfig,
    /// `[replication]`: following the other replicas on the same database.
    #[serde(default)]
    pub(crate) replication: crate::replica::ReplicationConfig,
    #[serde(default)]
    pub(crate) audit: AuditConfig,
}

/// The audit trail.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AuditConfig {
    /// A file holding the key of the audit chains (HMAC-SHA256; at least 32 bytes, used
    /// as they are). Without it the chains are plain sha256.
    #[serde(default)]
    pub(crate) key_file: Option<RelativePathBuf>,
}

/// Shortest audit key accepted, in bytes.
const AUDIT_KEY_MIN: usize = 32;

impl AuditConfig {
    /// The key, read from `key_file`.
    pub(crate) fn key(&self) -> Result<Option<roster_store::AuditKey>> {
        let Some(file) = &self.key_file else { return Ok(None) };
        let path = file.relative();
        let bytes = std::fs::read(&path).map_err(|e| anyhow::anyhow!("audit.key_file {}: {e}", path.display()))?;
        if bytes.len() < AUDIT_KEY_MIN {
            bail!("audit.key_file {}: the key must be at least {AUDIT_KEY_MIN} bytes", path.display());
        }
        Ok(Some(roster_store::AuditKey::new(&bytes)))
    }
}

/// Where the authoritative state lives.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DatabaseConfig {
    /// `sqlite://data/roster.db?mode=rwc` (default) or `postgres://user@host/db`.
    pub(crate) url: String,
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        DatabaseConfig { url: "sqlite://data/roster.db?mode=rwc".into() }
    }
}

/// The HTTP server.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ServerConfig {
    /// Address to listen on.
    pub(crate) listen: std::net::SocketAddr,
    /// Largest request body accepted (413 above).
    pub(crate) body_limit_bytes: usize,
    /// Most checks in one `/v1/check/batch`.
    pub(crate) batch_limit: usize,
    /// Seconds in-flight requests get to finish on shutdown.
    pub(crate) shutdown_grace_s: u64,
    /// Where the first-run bootstrap token is written (`bootstrap-token`, mode 0600).
    pub(crate) data_dir: PathBuf,
    /// Seconds a client has to send a request's headers (a connection that sends half a
    /// header, or idles before its next request, is closed after this).
    pub(crate) header_read_timeout_s: u64,
    /// Most connections served at once; further ones wait in the listen backlog. Absent:
    /// the open-files limit (raised to the hard limit at start) less 64.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) max_connections: Option<usize>,
    /// Seconds a connection may stay with no byte moving either way (a stalled upload, a
    /// client that stops reading its answer) before it is closed. At least
    /// `request_timeout_s`, so a request being answered is never cut by it.
    pub(crate) idle_timeout_s: u64,
    /// Seconds from a request's headers to its answer, body upload included (408 after).
    pub(crate) request_timeout_s: u64,
    /// Whether HTTP/2 (cleartext, prior knowledge) is served; off by default.
    pub(crate) http2: bool,
    /// Streams one HTTP/2 connection may have open at once.
    pub(crate) http2_max_concurrent_streams: u32,
    /// Largest header list (bytes) an HTTP/2 request may send.
    pub(crate) http2_max_header_list_bytes: u32,
    /// The daemon's URL as clients reach it (`https://authz.example.com`, behind a proxy):
    /// the base of AuthZEN discovery documents. Absent: `http://` and the request's Host.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) public_url: Option<String>,
}

impl ServerConfig {
    /// The limits the accept loop and the connections enforce, under an open-files soft
    /// limit of `open_files` (`None`: unlimited).
    pub(crate) fn connection_limits(&self, open_files: Option<u64>) -> crate::http::ConnectionLimits {
        crate::http::ConnectionLimits {
            header_read_timeout: Duration::from_secs(self.header_read_timeout_s),
            idle_timeout: Duration::from_secs(self.idle_timeout_s),
            request_timeout: Duration::from_secs(self.request_timeout_s),
            max_connections: self
                .max_connections
                .unwrap_or_else(|| crate::fd_limit::default_max_connections(open_files)),
            http2: self.http2,
            http2_max_concurrent_streams: self.http2_max_concurrent_streams,
            http2_max_header_list_bytes: self.http2_max_header_list_bytes,
        }
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        let connections = crate::http::ConnectionLimits::default();
        ServerConfig {
            listen: std::net::SocketAddr::from(([127, 0, 0, 1], 7700)),
            body_limit_bytes: 1 << 20,
            batch_limit: 1000,
            shutdown_grace_s: 30,
            data_dir: PathBuf::from("data"),
            header_read_timeout_s: connections.header_read_timeout.as_secs(),
            max_connections: None,
            idle_timeout_s: connections.idle_timeout.as_secs(),
            request_timeout_s: connections.request_timeout.as_secs(),
            http2: connections.http2,
            http2_max_concurrent_streams: connections.http2_max_concurrent_streams,
            http2_max_header_list_bytes: connections.http2_max_header_list_bytes,
            public_url: None,
        }
    }
}

/// Where packs come from.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PacksConfig {
    /// Directories of pack plugins (cdylibs).
    #[serde(default)]
    pub(crate) plugin_dirs: Vec<RelativePathBuf>,
    /// Directories of TOML packs.
    #[serde(default)]
    pub(crate) toml_dirs: Vec<RelativePathBuf>,
    /// sha256 pins by plugin file name.
    #[serde(default)]
    pub(crate) pins: BTreeMap<String, String>,
    /// Pack ids that must load, or the daemon refuses to start.
    #[serde(default)]
    pub(crate) required: Vec<String>,
    /// Per pack, old role and permission ids → new ones: stored data carried across an
    /// upgrade at start-up (`[packs.migrations.<pack>]`).
    #[serde(default)]
    pub(crate) migrations: BTreeMap<String, roster_store::PackMigration>,
    #[serde(skip)]
    extra_plugin_dirs: Vec<PathBuf>,
    #[serde(skip)]
    extra_toml_dirs: Vec<PathBuf>,
}

impl Config {
    /// Reads the layers; an invalid value exits naming the key.
    pub(crate) fn load(args: &GlobalArgs) -> Result<Config> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        match &args.config {
            Some(path) if !path.exists() => bail!("config file {} does not exist", path.display()),
            Some(path) => figment = figment.merge(Toml::file_exact(path)),
            None if Path::new(DEFAULT_CONFIG).exists() => figment = figment.merge(Toml::file_exact(DEFAULT_CONFIG)),
            None => {}
        }
        let env = Env::prefixed("ROSTER_").split("__").filter(|key| {
            SECTIONS.iter().any(|s| key.as_str().split(['.', '_']).next().is_some_and(|k| k.eq_ignore_ascii_case(s)))
        });
        figment = figment.merge(env);
        let mut config: Config = figment.extract().map_err(|e| anyhow::anyhow!(describe(e)))?;
        let server = &config.server;
        if server.body_limit_bytes == 0
            || server.batch_limit == 0
            || server.header_read_timeout_s == 0
            || server.max_connections == Some(0)
            || server.request_timeout_s == 0
            || server.http2_max_concurrent_streams == 0
            || server.http2_max_header_list_bytes == 0
        {
            bail!(
                "invalid configuration: server.body_limit_bytes, server.batch_limit, \
                 server.header_read_timeout_s, server.max_connections, server.request_timeout_s, \
                 server.http2_max_concurrent_streams and server.http2_max_header_list_bytes must be above 0"
            );
        }
        if server.idle_timeout_s < server.request_timeout_s {
            bail!(
                "invalid configuration: server.idle_timeout_s ({}) must be at least server.request_timeout_s ({}), \
                 or a request being answered could be cut off",
                server.idle_timeout_s,
                server.request_timeout_s
            );
        }
        if let Some(url) = &mut config.server.public_url {
            *url = public_url(url)?;
        }
        if config.telemetry.metrics_interval_s == 0 {
            bail!("invalid configuration: telemetry.metrics_interval_s must be above 0");
        }
        let replication = &config.replication;
        if replication.poll_interval_ms == 0
            || replication.feed_retention_s == 0
            || replication.min_revision_timeout_ms == 0
        {
            bail!(
                "invalid configuration: replication.poll_interval_ms, replication.feed_retention_s and \
                 replication.min_revision_timeout_ms must be above 0"
            );
        }
        config.packs.extra_plugin_dirs = args.plugin_dirs.clone();
        config.packs.extra_toml_dirs = args.toml_dirs.clone();
        Ok(config)
    }
}

/// One line per problem, each naming the key.
fn describe(error: figment::Error) -> String {
    error.into_iter().map(|e| format!("invalid configuration: {e}")).collect::<Vec<_>>().join("\n")
}

impl PacksConfig {
    /// The loader settings.
    pub(crate) fn loader_config(&self) -> LoaderConfig {
        let resolve = |dirs: &[RelativePathBuf], extra: &[PathBuf]| -> Vec<PathBuf> {
            dirs.iter().map(RelativePathBuf::relative).chain(extra.iter().cloned()).collect()
        };
        LoaderConfig {
            plugin_dirs: resolve(&self.plugin_dirs, &self.extra_plugin_dirs),
            toml_dirs: resolve(&self.toml_dirs, &self.extra_toml_dirs),
            pins: self.pins.clone(),
        }
    }
}

/// Fails when a required pack did not load.
pub(crate) fn check_required(required: &[String], loaded: &[roster_plugin::LoadedPack]) -> Result<()> {
    let missing: Vec<&str> =
        required.iter().filter(|id| !loaded.iter().any(|p| p.pack.id() == *id)).map(String::as_str).collect();
    if !missing.is_empty() {
        bail!("required pack(s) not loaded: {}", missing.join(", "));
    }
    Ok(())
}

/// `server.public_url` checked and without a trailing slash: an `http` or `https` URL with a
/// host, and no query or fragment (the discovery document builds every URL on it).
fn public_url(url: &str) -> Result<String> {
    let bad = |why: &str| anyhow::anyhow!("invalid configuration: server.public_url `{url}`: {why}");
    let uri: axum::http::Uri = url.parse().map_err(|_| bad("not a URL"))?;
    if !matches!(uri.scheme_str(), Some("http" | "https")) {
        return Err(bad("must start with https:// (or http://)"));
    }
    if uri.host().is_none_or(str::is_empty) {
        return Err(bad("has no host"));
    }
    if uri.query().is_some() || url.contains('#') {
        return Err(bad("must have no query or fragment"));
    }
    Ok(url.trim_end_matches('/').to_owned())
}
