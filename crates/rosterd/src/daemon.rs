//! Starting the daemon: load the packs, open and migrate the database, rebuild the engine
//! from it, make sure a token exists, then serve until SIGTERM or ctrl-c.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use roster_core::Engine;
use roster_plugin::{LoadedPack, PackLoader};
use roster_store::{AuditActor, AuditChain, AuditRecord, Store, StoreOp, is_valid_service_name};

use crate::config::{Config, check_required};
use crate::http::app::{App, Limits};
use crate::http::handlers::tokens::{mint, token_view};

/// Loads the packs; problems are warnings unless a required pack is missing.
pub(crate) fn load_packs(config: &Config) -> Result<Vec<LoadedPack>> {
    let loader = PackLoader::new(config.packs.loader_config());
    let (packs, errors) = loader.load_all();
    for error in &errors {
        tracing::warn!(%error, "pack not loaded");
    }
    for pack in &packs {
        tracing::info!(pack = pack.pack.id(), source = %pack.source.path().display(), "pack loaded");
    }
    check_required(&config.packs.required, &packs)?;
    Ok(packs)
}

/// Connects and migrates.
pub(crate) async fn open_store(config: &Config) -> Result<Store> {
    let store = connect_store(config).await?;
    store.migrate().await.context("cannot migrate the database")?;
    Ok(store)
}

/// Opens the configured database as it is, its schema untouched.
pub(crate) async fn connect_store(config: &Config) -> Result<Store> {
    let store = Store::connect(&config.database.url)
        .await
        .with_context(|| format!("cannot open database {}", redact(&config.database.url)))?;
    match config.audit.key()? {
        Some(key) => Ok(store.with_audit_key(key)),
        None => Ok(store),
    }
}

fn redact(url: &str) -> String {
    match url.split_once('@') {
        Some((credentials, rest)) if credentials.contains(':') && credentials.matches(':').count() > 1 => {
            format!("{}:***@{rest}", credentials.rsplit_once(':').map_or(credentials, |(user, _)| user))
        }
        _ => url.to_owned(),
    }
}

pub(crate) fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

/// Creates a token and returns its text; the platform trail records it as done by
/// `system:<by>` (`bootstrap`, `cli`).
pub(crate) async fn create_token(
    store: &Store,
    name: &str,
    principal: Option<String>,
    by: &'static str,
) -> Result<String> {
    if principal.is_none() && !is_valid_service_name(name) {
        bail!("`{name}` is not a valid service token name (1-64 characters of A-Z a-z 0-9 _ . -)");
    }
    if let Some(principal) = &principal
        && !roster_core::ids::is_valid_id(principal)
    {
        bail!("`{principal}` is not a valid principal id (1-128 characters of A-Z a-z 0-9 _ . : @ -)");
    }
    let (record, text) = mint(name, principal, now()).map_err(|e| anyhow::anyhow!(e.detail))?;
    let audit = AuditRecord {
        chain: AuditChain::Platform,
        actor: AuditActor::System(by).to_string(),
        action: "token.create".into(),
        target: format!("token:{}", record.id),
        before: None,
        after: Some(token_view(&record)),
        request_id: None,
        trace_id: None,
    };
    store.commit(&Engine::default(), &[StoreOp::CreateToken(record)], &[audit], now()).await?;
    Ok(text)
}

/// On first run (no token at all), a service token `bootstrap`, printed and written to
/// `<data_dir>/bootstrap-token` with mode 0600.
async fn bootstrap_token(store: &Store, data_dir: &Path) -> Result<()> {
    if store.has_tokens().await? {
        return Ok(());
    }
    let text = create_token(store, "bootstrap", None, "bootstrap").await?;
    std::fs::create_dir_all(data_dir).with_context(|| format!("cannot create {}", data_dir.display()))?;
    let file = data_dir.join("bootstrap-token");
    write_private(&file, &text).with_context(|| format!("cannot write {}", file.display()))?;
    println!("bootstrap service token (also in {}):", file.display());
    println!("{text}");
    Ok(())
}

#[cfg(unix)]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(path)?;
    file.write_all(text.as_bytes())?;
    file.write_all(b"\n")
}

#[cfg(not(unix))]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    std::fs::write(path, format!("{text}\n"))
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}

/// Carries the stored data across to the loaded packs (the configured migrations, in one
/// transaction, audited) and records them; refuses to serve, with every stranded
/// reference and its fix, when the stored data uses what the packs no longer define.
pub(crate) async fn upgrade_packs(store: &Store, packs: &[LoadedPack], config: &Config) -> Result<()> {
    let loaded: Vec<Arc<roster_core::Pack>> = packs.iter().map(|p| Arc::clone(&p.pack)).collect();
    let report = store
        .upgrade_packs(&loaded, &config.packs.migrations, false, now())
        .await
        .context("cannot carry the stored data across to the loaded packs")?;
    if !report.stranded.is_empty() {
        bail!("{}", stranded_text(&report.stranded));
    }
    if let Some(error) = &report.unloadable {
        bail!("{}", unloadable_text(error));
    }
    for ((pack, account), moved) in &report.migrated {
        tracing::info!(pack, account, ?moved, "pack upgrade: stored data carried across");
    }
    for change in &report.changed {
        let before = change.before.as_ref().map_or("none".to_owned(), |(v, h)| format!("{v} ({h:.12})"));
        tracing::info!(pack = change.id, %before, after = format!("{} ({:.12})", change.after.0, change.after.1), "pack changed since it was last served");
    }
    Ok(())
}

/// Why the stored data was not served (and migrated data not committed) although nothing
/// it names is missing.
pub(crate) fn unloadable_text(error: &str) -> String {
    format!(
        "the loaded packs (with the configured migrations) would leave data they cannot serve ({error}); nothing was \
         changed: fix the migration table or the pack and start again"
    )
}

/// Every stranded reference, one per line, with the sentence that introduces them.
pub(crate) fn stranded_text(stranded: &[roster_store::Stranded]) -> String {
    let mut text = format!(
        "the stored data uses {} thing(s) the loaded packs no longer define; nothing was changed, fix them all and start again:",
        stranded.len()
    );
    for problem in stranded {
        text += &format!("\n  - {problem}");
    }
    text
}

/// `rosterd serve`.
pub(crate) async fn serve(config: &Config, listen: Option<std::net::SocketAddr>) -> Result<()> {
    let packs = load_packs(config)?;
    let store = open_store(config).await?;
    upgrade_packs(&store, &packs, config).await?;
    let mut engine = Engine::new(packs.iter().map(|p| Arc::clone(&p.pack)));
    let started = std::time::Instant::now();
    store.load(&mut engine).await.context("cannot rebuild the state from the database")?;
    let (accounts, resources, memberships, grants) = engine.counts();
    tracing::info!(
        accounts,
        resources,
        memberships,
        grants,
        revision = engine.revision(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        "snapshot built"
    );
    bootstrap_token(&store, &config.server.data_dir).await?;
    let address = listen.unwrap_or(config.server.listen);
    let listener =
        tokio::net::TcpListener::bind(address).await.with_context(|| format!("cannot listen on {address}"))?;
    let bound = listener.local_addr()?;
    if bound.port() == 0 {
        bail!("no port bound");
    }
    println!("rosterd listening on http://{bound}");
    let limits = Limits { body_bytes: config.server.body_limit_bytes, batch: config.server.batch_limit };
    let mut app = App::new(engine, store, packs, limits, &config.replication);
    app.public_url = config.server.public_url.clone();
    let app = Arc::new(app);
    crate::metrics::observe(&opentelemetry::global::meter("rosterd"), Arc::downgrade(&app));
    let follower = tokio::spawn(crate::replica::follow(Arc::clone(&app), config.replication.clone()));
    let open_files = crate::fd_limit::raise_to_hard_limit();
    let connections = config.server.connection_limits(open_files);
    tracing::info!(max_connections = connections.max_connections, ?open_files, "connection limit");
    let grace = Duration::from_secs(config.server.shutdown_grace_s);
    let served = crate::http::serve(app, listener, connections, shutdown_signal(), grace).await;
    follower.abort();
    served?;
    println!("rosterd stopped");
    Ok(())
}
