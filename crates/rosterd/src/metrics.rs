//! OpenTelemetry metrics beside the traces (exported to the same OTLP endpoint, under
//! `/v1/metrics`): `http.server.request.duration` (seconds, by method, route and status;
//! its count is the request count), `roster.decisions` (by `roster.allowed`),
//! `roster.writes` (by `roster.operation`, the audit action),
//! `roster.replication.apply.duration` (seconds to read and apply a page of the change
//! feed, or to rebuild the snapshot, by `roster.replication.source`: `feed`, `rebuild`),
//! and, read at each export,
//! `roster.engine.accounts|memberships|grants`, `roster.replication.lag` (revisions
//! behind the newest seen) and `roster.token_cache` (by
//! `roster.result`: `hit`, `negative_hit`, `miss`). Without an endpoint the instruments
//! come from the global no-op meter and cost next to nothing.

use std::sync::Weak;

use opentelemetry::KeyValue;
use opentelemetry::metrics::{Counter, Histogram, Meter};

use crate::http::app::App;

/// Set once a meter provider that exports is installed ([`enable`]).
static EXPORTED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Says metrics are exported: instruments made after this record (and requests are timed).
pub(crate) fn enable() {
    EXPORTED.store(true, std::sync::atomic::Ordering::Relaxed);
}

/// The instruments the daemon records into.
pub(crate) struct Metrics {
    /// Whether anything reads them: without an exporter, requests are not even timed.
    enabled: bool,
    request_duration: Histogram<f64>,
    decisions: Counter<u64>,
    writes: Counter<u64>,
    replication_apply: Histogram<f64>,
}

impl Metrics {
    /// Instruments from the global meter provider (no-op unless telemetry set one).
    pub(crate) fn global() -> Self {
        Metrics {
            enabled: EXPORTED.load(std::sync::atomic::Ordering::Relaxed),
            ..Self::new(&opentelemetry::global::meter("rosterd"))
        }
    }

    /// Instruments from `meter`, recording.
    pub(crate) fn new(meter: &Meter) -> Self {
        Metrics {
            enabled: true,
            request_duration: meter
                .f64_histogram("http.server.request.duration")
                .with_unit("s")
                .with_description("Duration of HTTP server requests")
                .build(),
            decisions: meter.u64_counter("roster.decisions").with_description("Decisions answered").build(),
            writes: meter.u64_counter("roster.writes").with_description("Writes committed").build(),
            replication_apply: meter
                .f64_histogram("roster.replication.apply.duration")
                .with_unit("s")
                .with_description("Time to read and apply committed changes from the feed, or to rebuild the snapshot")
                .build(),
        }
    }

    /// Whether requests are timed.
    pub(crate) fn enabled(&self) -> bool {
        self.enabled
    }

    /// One answered request.
    pub(crate) fn request(&self, method: &str, route: Option<&str>, status: u16, seconds: f64) {
        let mut attributes = vec![
            KeyValue::new("http.request.method", method.to_owned()),
            KeyValue::new("http.response.status_code", i64::from(status)),
        ];
        // The route pattern, never the raw path: unknown paths would be unbounded.
        if let Some(route) = route {
            attributes.push(KeyValue::new("http.route", route.to_owned()));
        }
        self.request_duration.record(seconds, &attributes);
    }

    /// Decisions answered: how many allowed, how many denied.
    pub(crate) fn decisions(&self, allowed: u64, denied: u64) {
        if allowed > 0 {
            self.decisions.add(allowed, &[KeyValue::new("roster.allowed", true)]);
        }
        if denied > 0 {
            self.decisions.add(denied, &[KeyValue::new("roster.allowed", false)]);
        }
    }

    /// One committed write, named by its audit action.
    pub(crate) fn write(&self, operation: &'static str) {
        self.writes.add(1, &[KeyValue::new("roster.operation", operation)]);
    }

    /// Changes from other replicas applied: a page of the feed (`feed`) or the whole
    /// snapshot rebuilt from the tables (`rebuild`), and how long it took.
    pub(crate) fn replication_applied(&self, source: &'static str, seconds: f64) {
        self.replication_apply.record(seconds, &[KeyValue::new("roster.replication.source", source)]);
    }
}

/// Registers the gauges read at each export: the engine's sizes and the token cache's
/// counts. They hold the app weakly and skip a reading while a writer holds the engine.
pub(crate) fn observe(meter: &Meter, app: Weak<App>) {
    let sizes = |pick: fn((u64, u64, u64)) -> u64, app: Weak<App>| {
        move |observer: &dyn opentelemetry::metrics::AsyncInstrument<u64>| {
            if let Some(app) = app.upgrade()
                && let Ok(engine) = app.engine.try_read()
            {
                observer.observe(pick(engine.sizes()), &[]);
            }
        }
    };
    meter.u64_observable_gauge("roster.engine.accounts").with_callback(sizes(|s| s.0, app.clone())).build();
    meter.u64_observable_gauge("roster.engine.memberships").with_callback(sizes(|s| s.1, app.clone())).build();
    meter.u64_observable_gauge("roster.engine.grants").with_callback(sizes(|s| s.2, app.clone())).build();
    let lagging = app.clone();
    meter
        .u64_observable_gauge("roster.replication.lag")
        .with_description("Revisions committed to the database that this replica has not applied yet")
        .with_callback(move |observer| {
            if let Some(app) = lagging.upgrade() {
                observer.observe(app.progress.lag().1, &[]);
            }
        })
        .build();
    meter
        .u64_observable_counter("roster.token_cache")
        .with_description("Token lookups by where the answer came from")
        .with_callback(move |observer| {
            if let Some(app) = app.upgrade() {
                let (hits, negative_hits, misses) = app.tokens.counts();
                observer.observe(hits, &[KeyValue::new("roster.result", "hit")]);
                observer.observe(negative_hits, &[KeyValue::new("roster.result", "negative_hit")]);
                observer.observe(misses, &[KeyValue::new("roster.result", "miss")]);
            }
        })
        .build();
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use opentelemetry::metrics::MeterProvider;
    use opentelemetry_sdk::metrics::data::{AggregatedMetrics, MetricData, ResourceMetrics};
    use opentelemetry_sdk::metrics::{InMemoryMetricExporter, PeriodicReader, SdkMeterProvider};

    use super::{Metrics, observe};
    use crate::test_server::TestServer;

    /// The data points of one metric as (attributes `key=value` sorted, value); histograms
    /// give their count.
    fn points(exported: &[ResourceMetrics], name: &str) -> Vec<(Vec<String>, f64)> {
        let last = exported.last().expect("an export");
        let metric = last
            .scope_metrics()
            .flat_map(|scope| scope.metrics())
            .find(|m| m.name() == name)
            .unwrap_or_else(|| panic!("no metric {name}"));
        let labels = |attributes: &mut dyn Iterator<Item = &opentelemetry::KeyValue>| {
            let mut labels: Vec<String> = attributes.map(|kv| format!("{}={}", kv.key, kv.value)).collect();
            labels.sort();
            labels
        };
        match metric.data() {
            AggregatedMetrics::U64(MetricData::Sum(sum)) => {
                sum.data_points().map(|p| (labels(&mut p.attributes()), p.value() as f64)).collect()
            }
            AggregatedMetrics::U64(MetricData::Gauge(gauge)) => {
                gauge.data_points().map(|p| (labels(&mut p.attributes()), p.value() as f64)).collect()
            }
            AggregatedMetrics::F64(MetricData::Histogram(histogram)) => {
                histogram.data_points().map(|p| (labels(&mut p.attributes()), p.count() as f64)).collect()
            }
            other => panic!("unexpected data for {name}: {other:?}"),
        }
    }

    fn value_of(points: &[(Vec<String>, f64)], labels: &[&str]) -> f64 {
        points
            .iter()
            .find(|(have, _)| labels.iter().all(|l| have.iter().any(|h| h == l)))
            .map(|(_, value)| *value)
            .unwrap_or_else(|| panic!("no point with {labels:?} in {points:?}"))
    }

    #[test]
    fn requests_decisions_writes_sizes_and_token_lookups_are_measured() {
        let exporter = InMemoryMetricExporter::default();
        let provider =
            SdkMeterProvider::builder().with_reader(PeriodicReader::builder(exporter.clone()).build()).build();
        let meter = provider.meter("rosterd");
        let runtime =
            tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
        runtime.block_on(async {
            let server = TestServer::start(Some(Metrics::new(&meter))).await;
            observe(&meter, Arc::downgrade(&server.app));
            let owner = r#"{"id":"o","email":"o@x.io","name":"O"}"#;
            let created = server
                .post("/v1/accounts", &format!(r#"{{"id":"a1","pack":"docs","name":"A","owner":{owner}}}"#))
                .await;
            assert!(created.starts_with("HTTP/1.1 201"), "{created}");
            let added = server.post("/v1/accounts/a1/members", r#"{"principal":"r"}"#).await;
            assert!(added.starts_with("HTTP/1.1 201"), "{added}");
            let allowed = server.post("/v1/check", r#"{"account":"a1","principal":"o","permission":"doc.edit"}"#).await;
            assert!(allowed.contains(r#""allowed":true"#), "{allowed}");
            let denied = server.post("/v1/check", r#"{"account":"a1","principal":"r","permission":"doc.edit"}"#).await;
            assert!(denied.contains(r#""allowed":false"#), "{denied}");
            let batch = server
                .post(
                    "/v1/check/batch",
                    r#"{"checks":[{"account":"a1","principal":"r","permission":"doc.view"},
                                  {"account":"a1","principal":"r","permission":"doc.edit"},
                                  {"account":"a1","principal":"o","permission":"doc.edit"}]}"#,
                )
                .await;
            assert!(batch.starts_with("HTTP/1.1 200"), "{batch}");
            for _ in 0..2 {
                let refused = server.send("GET", "/v1/packs", Some("rst_nosuchid_secret"), "").await;
                assert!(refused.starts_with("HTTP/1.1 401"), "{refused}");
            }
            let missing = server.send("GET", "/v1/no/such/route", None, "").await;
            assert!(missing.starts_with("HTTP/1.1 404"), "{missing}");
            provider.force_flush().expect("flush");
            server.stop().await;
        });
        let exported = exporter.get_finished_metrics().expect("metrics");

        let requests = points(&exported, "http.server.request.duration");
        let check = ["http.route=/v1/check", "http.request.method=POST", "http.response.status_code=200"];
        assert_eq!(value_of(&requests, &check), 2.0, "two checks answered");
        assert_eq!(value_of(&requests, &["http.route=/v1/packs", "http.response.status_code=401"]), 2.0);
        let unrouted = requests.iter().find(|(labels, _)| labels.iter().any(|l| l == "http.response.status_code=404"));
        let (labels, count) = unrouted.unwrap_or_else(|| panic!("no 404 in {requests:?}"));
        assert_eq!(*count, 1.0);
        assert!(!labels.iter().any(|l| l.starts_with("http.route")), "an unknown path has no route: {labels:?}");

        let decisions = points(&exported, "roster.decisions");
        assert_eq!(value_of(&decisions, &["roster.allowed=true"]), 3.0, "one check and two in the batch");
        assert_eq!(value_of(&decisions, &["roster.allowed=false"]), 2.0, "one check and one in the batch");

        let writes = points(&exported, "roster.writes");
        assert_eq!(value_of(&writes, &["roster.operation=account.create"]), 1.0);
        assert_eq!(value_of(&writes, &["roster.operation=member.add"]), 1.0);

        assert_eq!(value_of(&points(&exported, "roster.engine.accounts"), &[]), 1.0);
        assert_eq!(value_of(&points(&exported, "roster.engine.memberships"), &[]), 2.0);
        assert_eq!(value_of(&points(&exported, "roster.engine.grants"), &[]), 0.0);
        assert_eq!(value_of(&points(&exported, "roster.replication.lag"), &[]), 0.0);

        let tokens = points(&exported, "roster.token_cache");
        assert_eq!(value_of(&tokens, &["roster.result=miss"]), 2.0, "the service token once, the unknown id once");
        assert_eq!(value_of(&tokens, &["roster.result=negative_hit"]), 1.0, "the unknown id the second time");
        assert_eq!(value_of(&tokens, &["roster.result=hit"]), 4.0, "the service token after its first use");
    }
}
