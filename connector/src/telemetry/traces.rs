//! Optional OpenTelemetry traces over OTLP/HTTP (protobuf): one trace per DSP exchange across both connectors.
//! An outgoing DSP call opens a client span and sends its W3C `traceparent`; the partner's HTTP layer continues
//! that trace in its server span, so a collector shows the consumer's call and the provider's handling together.
//!
//! Each connector owns its tracer provider instead of installing a process-global one: several connectors run in
//! one process in the tests and the demo, and each must report under its own service name to its own endpoint.
//! Everything here is inert (no spans, no headers) unless `telemetry.otlp_endpoint` is configured.

use std::collections::HashMap;
use std::time::Duration;

use axum::http::HeaderMap;
use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry::trace::{SpanKind, Status, TraceContextExt, Tracer as _, TracerProvider as _};
use opentelemetry::{Context, KeyValue};
use opentelemetry_otlp::WithExportConfig;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{Sampler, SdkTracer, SdkTracerProvider};
use opentelemetry_sdk::Resource;

use crate::config::TelemetryConfig;

/// How long one export to the collector may take before the batch is dropped; traces never hold up requests.
const EXPORT_TIMEOUT: Duration = Duration::from_secs(10);

/// The OTLP path for traces, appended to a base endpoint as `OTEL_EXPORTER_OTLP_ENDPOINT` is by other SDKs.
const TRACES_PATH: &str = "/v1/traces";

/// Why tracing could not be set up.
#[derive(Debug, thiserror::Error)]
#[error("telemetry.otlp_endpoint: {0}")]
pub struct TraceSetupError(String);

/// This connector's tracer, or nothing when tracing is off. Cheap to clone.
#[derive(Clone, Debug, Default)]
pub struct Traces {
    inner: Option<Enabled>,
}

#[derive(Clone, Debug)]
struct Enabled {
    provider: SdkTracerProvider,
    tracer: SdkTracer,
}

/// The URL spans are posted to: the configured one if it already names the traces path, else `<base>/v1/traces`.
pub fn traces_url(endpoint: &str) -> String {
    let trimmed = endpoint.trim_end_matches('/');
    if trimmed.ends_with(TRACES_PATH) {
        trimmed.to_string()
    } else {
        format!("{trimmed}{TRACES_PATH}")
    }
}

impl Traces {
    /// Builds the exporter and provider when `otlp_endpoint` is set. Spans are batched on a background thread and
    /// exported with a blocking client there, so no request ever waits for the collector.
    pub fn new(config: &TelemetryConfig, participant_id: &str) -> Result<Traces, TraceSetupError> {
        let Some(endpoint) = &config.otlp_endpoint else {
            return Ok(Traces::default());
        };
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_endpoint(traces_url(endpoint))
            .with_timeout(EXPORT_TIMEOUT)
            .build()
            .map_err(|e| TraceSetupError(e.to_string()))?;
        let provider = SdkTracerProvider::builder()
            .with_batch_exporter(exporter)
            // A partner's sampled trace stays whole across the exchange; our own roots follow the ratio.
            .with_sampler(Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(
                config.sample_ratio,
            ))))
            .with_resource(
                Resource::builder()
                    .with_service_name(config.service_name.clone())
                    // Tells the two ends of an exchange apart when both keep the default service name.
                    .with_attribute(KeyValue::new(
                        "twinport.participant_id",
                        participant_id.to_string(),
                    ))
                    .build(),
            )
            .build();
        let tracer = provider.tracer("twinport");
        Ok(Traces {
            inner: Some(Enabled { provider, tracer }),
        })
    }

    pub fn enabled(&self) -> bool {
        self.inner.is_some()
    }

    /// Starts the server span of an incoming request, continuing the caller's trace if it sent a `traceparent`.
    /// Returns the context to run the handler in, or `None` when tracing is off.
    pub fn incoming(&self, headers: &HeaderMap, method: &str, route: &str) -> Option<Context> {
        let enabled = self.inner.as_ref()?;
        let parent = TraceContextPropagator::new().extract(&HeaderReader(headers));
        let span = enabled
            .tracer
            .span_builder(format!("{method} {route}"))
            .with_kind(SpanKind::Server)
            .with_attributes([
                KeyValue::new("http.request.method", method.to_string()),
                KeyValue::new("http.route", route.to_string()),
            ])
            .start_with_context(&enabled.tracer, &parent);
        Some(parent.with_span(span))
    }

    /// Opens a client span for an outgoing call (a child of the current request's span, if any) and adds its
    /// `traceparent` to `request`. The span ends when the returned guard is dropped, after the response.
    pub fn outgoing(
        &self,
        request: reqwest::RequestBuilder,
        name: &str,
    ) -> (reqwest::RequestBuilder, ClientSpan) {
        let Some(enabled) = self.inner.as_ref() else {
            return (request, ClientSpan(None));
        };
        let parent = Context::current();
        let span = enabled
            .tracer
            .span_builder(format!("dsp {name}"))
            .with_kind(SpanKind::Client)
            .start_with_context(&enabled.tracer, &parent);
        let cx = parent.with_span(span);
        let mut fields = HashMap::new();
        TraceContextPropagator::new().inject_context(&cx, &mut HeaderWriter(&mut fields));
        let request = fields
            .into_iter()
            .fold(request, |r, (name, value)| r.header(name, value));
        (request, ClientSpan(Some(cx)))
    }

    /// Exports what is still buffered and stops the exporter thread. Blocking, so it runs off the async workers.
    pub async fn shutdown(&self) {
        let Some(enabled) = self.inner.clone() else {
            return;
        };
        let result = tokio::task::spawn_blocking(move || enabled.provider.shutdown()).await;
        if let Ok(Err(e)) = result {
            tracing::warn!(error = %e, "cannot flush traces to the collector");
        }
    }
}

/// Records the end of a server span with the response status.
pub fn finish_server_span(cx: &Context, status: u16) {
    let span = cx.span();
    span.set_attribute(KeyValue::new(
        "http.response.status_code",
        i64::from(status),
    ));
    // Server spans mark only their own failures as errors; a 4xx is the client's (OpenTelemetry HTTP conventions).
    if status >= 500 {
        span.set_status(Status::error(format!("HTTP {status}")));
    }
    span.end();
}

/// The hex trace id of a context, for log lines that should be findable next to the trace.
pub fn trace_id(cx: &Context) -> String {
    cx.span().span_context().trace_id().to_string()
}

/// A client span that ends when dropped; inert when tracing is off.
#[must_use = "the span ends when this guard is dropped"]
pub struct ClientSpan(Option<Context>);

impl Drop for ClientSpan {
    fn drop(&mut self) {
        if let Some(cx) = self.0.take() {
            cx.span().end();
        }
    }
}

struct HeaderReader<'a>(&'a HeaderMap);

impl Extractor for HeaderReader<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }
    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(|k| k.as_str()).collect()
    }
}

struct HeaderWriter<'a>(&'a mut HashMap<String, String>);

impl Injector for HeaderWriter<'_> {
    fn set(&mut self, key: &str, value: String) {
        self.0.insert(key.to_string(), value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_traces_path_is_added_once() {
        assert_eq!(
            traces_url("http://collector:4318"),
            "http://collector:4318/v1/traces"
        );
        assert_eq!(
            traces_url("http://collector:4318/"),
            "http://collector:4318/v1/traces"
        );
        assert_eq!(
            traces_url("http://collector:4318/v1/traces"),
            "http://collector:4318/v1/traces"
        );
    }

    #[test]
    fn disabled_tracing_adds_no_header() {
        let traces = Traces::default();
        let (request, _span) =
            traces.outgoing(reqwest::Client::new().get("http://127.0.0.1:9/"), "x");
        let request = request.build().unwrap();
        assert!(request.headers().get("traceparent").is_none());
        assert!(traces.incoming(&HeaderMap::new(), "GET", "/x").is_none());
    }

    #[tokio::test]
    async fn an_incoming_traceparent_is_continued_and_passed_on() {
        let config = TelemetryConfig {
            // Nothing listens there: spans are exported in the background and the failure is only logged.
            otlp_endpoint: Some("http://127.0.0.1:9".into()),
            ..TelemetryConfig::default()
        };
        let traces = Traces::new(&config, "https://city-a.example/twinport").unwrap();
        let mut headers = HeaderMap::new();
        headers.insert(
            "traceparent",
            "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
                .parse()
                .unwrap(),
        );
        let cx = traces.incoming(&headers, "POST", "/dsp/x").unwrap();
        assert_eq!(trace_id(&cx), "0af7651916cd43dd8448eb211c80319c");
        let _guard = cx.clone().attach();
        let (request, span) =
            traces.outgoing(reqwest::Client::new().get("http://127.0.0.1:9/"), "x");
        let request = request.build().unwrap();
        let sent = request.headers()["traceparent"].to_str().unwrap();
        assert!(
            sent.starts_with("00-0af7651916cd43dd8448eb211c80319c-"),
            "{sent}"
        );
        assert!(!sent.contains("b7ad6b7169203331"), "a new span id: {sent}");
        drop(span);
        finish_server_span(&cx, 200);
        traces.shutdown().await;
    }
}
