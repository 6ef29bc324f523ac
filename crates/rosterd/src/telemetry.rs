//! Logs, traces and metrics. Logs always go to stderr (`ROSTER_LOG` filter). With
//! `telemetry.otlp_endpoint` set, spans (HTTP requests with semantic-convention
//! attributes, database transactions, decisions and plugin loads) and the metrics of
//! [`crate::metrics`] go out over OTLP/HTTP (protobuf). The current trace id is recorded
//! in audit events.

use anyhow::{Context, Result};
use opentelemetry::trace::{TraceContextExt, TracerProvider};
use opentelemetry_otlp::{WithExportConfig, WithHttpConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::metrics::{PeriodicReader, SdkMeterProvider};
use opentelemetry_sdk::trace::SdkTracerProvider;
use serde::{Deserialize, Serialize};
use tracing::Level;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::Layer;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// The `[telemetry]` section.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TelemetryConfig {
    /// OTLP/HTTP collector base URL, e.g. `http://127.0.0.1:4318` (spans go to `/v1/traces`).
    #[serde(default)]
    pub(crate) otlp_endpoint: Option<String>,
    /// `service.name` of the exported spans and metrics.
    #[serde(default = "default_service_name")]
    pub(crate) service_name: String,
    /// Seconds between metric exports (to `/v1/metrics`).
    #[serde(default = "default_metrics_interval_s")]
    pub(crate) metrics_interval_s: u64,
}

impl Default for TelemetryConfig {
    fn default() -> Self {
        TelemetryConfig {
            otlp_endpoint: None,
            service_name: default_service_name(),
            metrics_interval_s: default_metrics_interval_s(),
        }
    }
}

fn default_metrics_interval_s() -> u64 {
    60
}

fn default_service_name() -> String {
    "rosterd".into()
}

/// Keeps the exporters alive; flushes them on [`Telemetry::shutdown`].
pub(crate) struct Telemetry {
    provider: Option<SdkTracerProvider>,
    meters: Option<SdkMeterProvider>,
}

impl Telemetry {
    /// Flushes and stops the exporters (call outside the async runtime).
    pub(crate) fn shutdown(self) {
        if let Some(provider) = self.provider
            && let Err(error) = provider.shutdown()
        {
            eprintln!("warning: could not flush the spans: {error}");
        }
        if let Some(meters) = self.meters
            && let Err(error) = meters.shutdown()
        {
            eprintln!("warning: could not flush the metrics: {error}");
        }
    }
}

/// A meter provider exporting to an OTLP/HTTP collector every `interval` (the periodic
/// reader runs on its own thread, so the blocking HTTP client is fine).
pub(crate) fn otlp_meter_provider(
    endpoint: &str,
    service_name: &str,
    interval: std::time::Duration,
) -> Result<SdkMeterProvider> {
    let url = format!("{}/v1/metrics", endpoint.trim_end_matches('/'));
    let exporter = opentelemetry_otlp::MetricExporter::builder()
        .with_http()
        .with_endpoint(url.clone())
        .with_headers(Default::default())
        .build()
        .with_context(|| format!("cannot set up OTLP metric export to {url}"))?;
    Ok(SdkMeterProvider::builder()
        .with_reader(PeriodicReader::builder(exporter).with_interval(interval).build())
        .with_resource(Resource::builder().with_service_name(service_name.to_owned()).build())
        .build())
}

/// A tracer provider exporting to an OTLP/HTTP collector.
pub(crate) fn otlp_provider(endpoint: &str, service_name: &str) -> Result<SdkTracerProvider> {
    let url = format!("{}/v1/traces", endpoint.trim_end_matches('/'));
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_endpoint(url.clone())
        .with_headers(Default::default())
        .build()
        .with_context(|| format!("cannot set up OTLP export to {url}"))?;
    Ok(SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(Resource::builder().with_service_name(service_name.to_owned()).build())
        .build())
}

/// Installs the global subscriber: logs, plus OTLP export when configured.
pub(crate) fn init(config: &TelemetryConfig) -> Result<Telemetry> {
    let filter = tracing_subscriber::EnvFilter::try_from_env("ROSTER_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let logs = tracing_subscriber::fmt::layer().with_writer(std::io::stderr).with_filter(filter);
    let provider = config.otlp_endpoint.as_deref().map(|e| otlp_provider(e, &config.service_name)).transpose()?;
    // Exported spans do not follow the log filter: Roster's own spans at info, without the
    // database drivers' internals.
    let exported =
        Targets::new().with_default(Level::INFO).with_target("sea_orm", Level::WARN).with_target("sqlx", Level::WARN);
    let otel = provider
        .as_ref()
        .map(|p| tracing_opentelemetry::layer().with_tracer(p.tracer("rosterd")).with_filter(exported));
    tracing_subscriber::registry().with(logs).with(otel).try_init().context("cannot install the log subscriber")?;
    let interval = std::time::Duration::from_secs(config.metrics_interval_s);
    let meters =
        config.otlp_endpoint.as_deref().map(|e| otlp_meter_provider(e, &config.service_name, interval)).transpose()?;
    if let Some(meters) = &meters {
        // The daemon's instruments come from the global provider (see `Metrics::global`).
        opentelemetry::global::set_meter_provider(meters.clone());
        crate::metrics::enable();
    }
    Ok(Telemetry { provider, meters })
}

/// The current trace id (hex), when spans are being exported.
pub(crate) fn current_trace_id() -> Option<String> {
    let context = tracing::Span::current().context();
    let span = context.span();
    let span_context = span.span_context();
    span_context.is_valid().then(|| span_context.trace_id().to_string())
}

#[cfg(test)]
mod tests {
    use opentelemetry::trace::TracerProvider;
    use opentelemetry_sdk::trace::{InMemorySpanExporterBuilder, SdkTracerProvider};
    use tracing_subscriber::layer::SubscriberExt;

    use crate::test_server::TestServer;

    fn attribute(span: &opentelemetry_sdk::trace::SpanData, key: &str) -> Option<String> {
        span.attributes.iter().find(|kv| kv.key.as_str() == key).map(|kv| kv.value.to_string())
    }

    #[test]
    fn requests_transactions_and_decisions_become_spans_with_their_attributes() {
        let exporter = InMemorySpanExporterBuilder::new().build();
        let provider = SdkTracerProvider::builder().with_simple_exporter(exporter.clone()).build();
        let subscriber =
            tracing_subscriber::registry().with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")));
        tracing::subscriber::set_global_default(subscriber).expect("subscriber");

        let runtime =
            tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
        let audit = runtime.block_on(async {
            let server = TestServer::start(None).await;
            let created = server
                .post(
                    "/v1/accounts",
                    r#"{"id":"a1","pack":"docs","name":"A","owner":{"id":"o","email":"o@x.io","name":"O"}}"#,
                )
                .await;
            assert!(created.starts_with("HTTP/1.1 201"), "{created}");
            let checked = server.post("/v1/check", r#"{"account":"a1","principal":"o","permission":"doc.view"}"#).await;
            assert!(checked.contains("\"allowed\":true"), "{checked}");
            let events = server
                .app
                .store
                .audit(&roster_store::AuditChain::account("a1"), 0, 10, None, None)
                .await
                .expect("audit");
            server.stop().await;
            events
        });
        let spans = exporter.get_finished_spans().expect("spans");
        let names: Vec<String> = spans.iter().map(|s| s.name.to_string()).collect();
        let request =
            spans.iter().find(|s| s.name == "POST /v1/check").unwrap_or_else(|| panic!("no request span in {names:?}"));
        assert_eq!(request.span_kind, opentelemetry::trace::SpanKind::Server);
        assert_eq!(attribute(request, "http.request.method").as_deref(), Some("POST"));
        assert_eq!(attribute(request, "http.route").as_deref(), Some("/v1/check"));
        assert_eq!(attribute(request, "url.path").as_deref(), Some("/v1/check"));
        assert_eq!(attribute(request, "http.response.status_code").as_deref(), Some("200"));
        let decision =
            spans.iter().find(|s| s.name == "roster.check").unwrap_or_else(|| panic!("no decision span in {names:?}"));
        assert_eq!(attribute(decision, "roster.permission").as_deref(), Some("doc.view"));
        assert_eq!(attribute(decision, "roster.allowed").as_deref(), Some("true"));
        assert_eq!(decision.parent_span_id, request.span_context.span_id(), "the decision is part of the request");
        let transaction = spans
            .iter()
            .find(|s| s.name == "db.transaction")
            .unwrap_or_else(|| panic!("no transaction span in {names:?}"));
        assert_eq!(attribute(transaction, "db.system.name").as_deref(), Some("sqlite"));
        let create = spans.iter().find(|s| s.name == "POST /v1/accounts").expect("create span");
        let trace_id = create.span_context.trace_id().to_string();
        assert_eq!(audit.first().and_then(|e| e.trace_id.clone()), Some(trace_id), "audit events carry the trace id");
    }
}
