//! Spans and metrics leave the daemon over OTLP/HTTP: a real receiver, stood up here on a
//! socket, gets protobuf export requests carrying the request and decision spans and the
//! daemon's metrics.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use roster_e2e::daemon::{Backend, Daemon};
use serde_json::json;

/// One export request the receiver got: path, content type, body.
type Export = (String, String, Vec<u8>);

/// A minimal OTLP/HTTP receiver: answers every POST with an empty protobuf success.
fn receiver() -> (String, Arc<Mutex<Vec<Export>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind receiver");
    let address = listener.local_addr().expect("address").to_string();
    let received = Arc::new(Mutex::new(Vec::new()));
    let store = Arc::clone(&received);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let store = Arc::clone(&store);
            std::thread::spawn(move || {
                let mut writer = stream.try_clone().expect("clone stream");
                let mut reader = BufReader::new(stream);
                loop {
                    let mut request_line = String::new();
                    if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
                        return;
                    }
                    let path = request_line.split_whitespace().nth(1).unwrap_or_default().to_owned();
                    let (mut length, mut content_type) = (0usize, String::new());
                    loop {
                        let mut line = String::new();
                        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                            break;
                        }
                        if let Some((name, value)) = line.split_once(':') {
                            match name.trim().to_ascii_lowercase().as_str() {
                                "content-length" => length = value.trim().parse().unwrap_or(0),
                                "content-type" => content_type = value.trim().to_owned(),
                                _ => {}
                            }
                        }
                    }
                    let mut body = vec![0; length];
                    if reader.read_exact(&mut body).is_err() {
                        return;
                    }
                    store.lock().expect("lock").push((path, content_type, body));
                    let ok = "HTTP/1.1 200 OK\r\nContent-Type: application/x-protobuf\r\nContent-Length: 0\r\n\r\n";
                    if writer.write_all(ok.as_bytes()).is_err() {
                        return;
                    }
                }
            });
        }
    });
    (address, received)
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[test]
fn spans_and_metrics_are_exported_over_otlp_http_to_a_real_receiver() {
    let (address, received) = receiver();
    let telemetry = format!(
        "\n[telemetry]\notlp_endpoint = \"http://{address}\"\nservice_name = \"rosterd-under-test\"\nmetrics_interval_s = 1\n"
    );
    let mut d = Daemon::start_with(&Backend::Sqlite, &telemetry);
    // A second replica applies the first one's writes from the change feed (and times it).
    let mut replica = d.replica("");
    super::create_account(&d, "s1", "studio", "olivia");
    let check = d.call(
        "POST",
        "/v1/check",
        None,
        Some(json!({ "account": "s1", "principal": "olivia", "permission": "billing.view" })),
    );
    assert_eq!(check.status, 200, "{}", check.text);
    let events = d.call("GET", "/v1/accounts/s1/audit", None, None).json();
    let trace_id = events["items"][0]["trace_id"].as_str().expect("audit events carry the trace id").to_owned();
    assert_eq!(trace_id.len(), 32, "{trace_id}");
    // The gauges are read at a periodic export (every second here), while the daemon runs.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let exported = |name: &str| {
        received.lock().expect("lock").iter().any(|(path, _, body)| path == "/v1/metrics" && contains(body, name))
    };
    while !(exported("roster.engine.accounts") && exported("roster.replication.apply.duration"))
        && std::time::Instant::now() < deadline
    {
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(replica.stop(), "a clean stop flushes the replica's exporters");
    assert!(d.stop(), "a clean stop flushes the exporters");
    let exports = received.lock().expect("lock").clone();
    assert!(
        exports.iter().all(|(path, content_type, _)| ["/v1/traces", "/v1/metrics"].contains(&path.as_str())
            && content_type == "application/x-protobuf"),
        "{:?}",
        exports.iter().map(|e| (&e.0, &e.1)).collect::<Vec<_>>()
    );
    let sent_to = |wanted: &str| -> Vec<u8> {
        exports.iter().filter(|(path, _, _)| path == wanted).flat_map(|(_, _, body)| body.clone()).collect()
    };
    let spans = sent_to("/v1/traces");
    assert!(!spans.is_empty(), "the receiver got no spans");
    for expected in [
        "rosterd-under-test",
        "POST /v1/check",
        "POST /v1/accounts",
        "http.response.status_code",
        "roster.check",
        "roster.permission",
        "billing.view",
        "db.transaction",
        "roster.plugin.load",
    ] {
        assert!(contains(&spans, expected), "the exported spans should mention `{expected}`");
    }
    let metrics = sent_to("/v1/metrics");
    assert!(!metrics.is_empty(), "the receiver got no metrics");
    for expected in [
        "rosterd-under-test",
        "http.server.request.duration",
        "/v1/check",
        "roster.decisions",
        "roster.writes",
        "account.create",
        "roster.engine.accounts",
        "roster.engine.memberships",
        "roster.engine.grants",
        "roster.token_cache",
        "roster.replication.lag",
        "roster.replication.apply.duration",
        "roster.replication.source",
    ] {
        assert!(contains(&metrics, expected), "the exported metrics should mention `{expected}`");
    }
}
