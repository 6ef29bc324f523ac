//! A daemon on a loopback port for the crate's own unit tests (telemetry, metrics): a
//! SQLite store in a temporary directory, one small pack, a service token, raw HTTP/1.1.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use crate::http::app::{App, Limits};
use crate::metrics::Metrics;

/// A pack with an owner (everything) and a reader (`doc.view`).
const PACK: &str = r#"{"schema_version":1,"id":"docs","version":"1","title":"Docs",
    "resource_types":[{"name":"account"},{"name":"doc","parent":"account"}],
    "permissions":[{"id":"doc.view"},{"id":"doc.edit"},{"id":"member.invite"}],
    "roles":[{"id":"owner","title":"Owner","rank":100,"permissions":["*"],"manages":["reader"],"single_holder":true},
             {"id":"reader","title":"Reader","rank":10,"permissions":["doc.view"],"default":true}]}"#;

/// A running daemon; [`TestServer::stop`] shuts it down.
pub(crate) struct TestServer {
    pub(crate) app: Arc<App>,
    /// A service token's text.
    pub(crate) token: String,
    address: SocketAddr,
    stop: tokio::sync::oneshot::Sender<()>,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
    _dir: tempfile::TempDir,
}

impl TestServer {
    /// Starts a daemon recording into `metrics` (the global no-op meter when `None`).
    pub(crate) async fn start(metrics: Option<Metrics>) -> TestServer {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display());
        let store = roster_store::Store::connect(&url).await.expect("store");
        store.migrate().await.expect("migrate");
        let pack =
            Arc::new(roster_core::validate(roster_core::PackManifest::from_json(PACK).expect("json")).expect("valid"));
        let engine = roster_core::Engine::new([Arc::clone(&pack)]);
        let token = crate::daemon::create_token(&store, "test", None, "test").await.expect("token");
        let mut app =
            App::new(engine, store, Vec::new(), Limits { body_bytes: 1 << 16, batch: 10 }, &Default::default());
        if let Some(metrics) = metrics {
            app.metrics = metrics;
        }
        let app = Arc::new(app);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("address");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(crate::http::serve(
            Arc::clone(&app),
            listener,
            crate::http::ConnectionLimits::default(),
            async { drop(stopped.await) },
            Duration::from_secs(5),
        ));
        TestServer { app, token, address, stop, server, _dir: dir }
    }

    /// Sends one request (`Connection: close`) and answers the whole response as text.
    pub(crate) async fn send(&self, method: &str, path: &str, token: Option<&str>, body: &str) -> String {
        let address = self.address;
        let authorization = token.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
        let request = format!(
            "{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{authorization}Content-Length: {}\r\n\r\n{body}",
            body.len()
        );
        tokio::task::spawn_blocking(move || {
            use std::io::{Read, Write};
            let mut stream = std::net::TcpStream::connect(address).expect("connect");
            stream.write_all(request.as_bytes()).expect("write");
            let mut response = String::new();
            stream.read_to_string(&mut response).expect("read");
            response
        })
        .await
        .expect("join")
    }

    /// Sends with the service token.
    pub(crate) async fn post(&self, path: &str, body: &str) -> String {
        self.send("POST", path, Some(self.token.as_str()), body).await
    }

    /// Shuts the daemon down and waits for it.
    pub(crate) async fn stop(self) {
        let _ = self.stop.send(());
        self.server.await.expect("join").expect("serve");
    }
}
