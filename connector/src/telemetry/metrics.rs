//! Prometheus metrics of one connector, in a registry it owns (several connectors share a process in the tests and
//! the demo, so nothing here is process-global). Counters and histograms are fed as things happen; the gauges for
//! processes, outbox and audit log are read from storage when `/metrics` is scraped, so they are right on every
//! replica and after every restart without bookkeeping. A scrape is answered in OpenMetrics or, for a scraper that
//! asks for it, in the Prometheus text format 0.0.4 (see [`Format`]); the process's own `process_*` figures are
//! read at each scrape (`super::process`).

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::{Registry, Unit};
use std::sync::atomic::AtomicU64;
use twinport_policy::{Decision, Scope};

use crate::storage::{StorageError, StoreStats};

/// The two exposition formats a scrape can be answered in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// OpenMetrics 1.0 text, which Prometheus asks for first and the default when a scraper states no preference.
    OpenMetrics,
    /// The Prometheus text format 0.0.4 (`text/plain; version=0.0.4`), which older scrapers and `promtool check
    /// metrics` read: counters are named with their `_total`, there is no `# UNIT` and no `# EOF`.
    Text,
}

impl Format {
    /// The `Content-Type` of a scrape answered in this format.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::OpenMetrics => "application/openmetrics-text; version=1.0.0; charset=utf-8",
            Format::Text => "text/plain; version=0.0.4; charset=utf-8",
        }
    }
}

/// Latency buckets from 0.5 ms to about 16 s: local handlers, partner round trips and backend proxying all fit.
fn latency_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.0005, 2.0, 16))
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub listener: &'static str,
    pub method: String,
    /// The route template (`/dsp/2025-1/negotiations/{providerPid}`), never the raw path: ids would explode the
    /// series count and could leak process ids to whoever reads the metrics.
    pub endpoint: String,
    pub status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct LatencyLabels {
    pub listener: &'static str,
    pub method: String,
    pub endpoint: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct DecisionLabels {
    pub scope: &'static str,
    pub outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabels {
    role: String,
    state: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BuildLabels {
    version: &'static str,
    commit: &'static str,
}

type LatencyFamily = Family<LatencyLabels, Histogram, fn() -> Histogram>;

/// Policy decisions by scope and outcome; handed to the policy service, which counts every evaluation.
#[derive(Clone, Debug, Default)]
pub struct DecisionMetrics(Family<DecisionLabels, Counter>);

impl DecisionMetrics {
    pub fn record(&self, scope: Scope, decision: &Decision) {
        let outcome = match decision {
            Decision::Permit => "permit",
            Decision::Deny => "deny",
        };
        self.0
            .get_or_create(&DecisionLabels {
                scope: scope.as_str(),
                outcome,
            })
            .inc();
    }
}

/// Every metric of one connector.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    request_seconds: LatencyFamily,
    proxy_seconds: LatencyFamily,
    decisions: DecisionMetrics,
    negotiations: Family<StateLabels, Gauge>,
    transfers: Family<StateLabels, Gauge>,
    outbox_pending: Gauge,
    outbox_oldest_seconds: Gauge<f64, AtomicU64>,
    audit_entries: Gauge,
    audit_append_seconds: Histogram,
    /// One scrape at a time: the gauges are cleared and refilled from storage before each encode.
    scrape: tokio::sync::Mutex<()>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        #[cfg_attr(not(target_os = "linux"), allow(unused_mut))]
        let mut root = Registry::default();
        // The standard process metrics keep their usual unprefixed names; everything of our own is `twinport_*`.
        #[cfg(target_os = "linux")]
        root.register_collector(Box::new(super::process::ProcessCollector));
        let registry = root.sub_registry_with_prefix("twinport");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by listener, method, route template and status",
            requests.clone(),
        );
        let request_seconds: LatencyFamily = Family::new_with_constructor(latency_histogram);
        registry.register_with_unit(
            "http_request_duration",
            "Time to answer an HTTP request, by listener, method and route template",
            Unit::Seconds,
            request_seconds.clone(),
        );
        let proxy_seconds: LatencyFamily = Family::new_with_constructor(latency_histogram);
        registry.register_with_unit(
            "proxy_request_duration",
            "Time to answer a data-plane request under /data/, backend round trip included",
            Unit::Seconds,
            proxy_seconds.clone(),
        );
        let decisions = DecisionMetrics::default();
        registry.register(
            "policy_decisions",
            "Policy decisions, by scope (catalogue, negotiation, transfer, access) and outcome",
            decisions.0.clone(),
        );
        let negotiations = Family::<StateLabels, Gauge>::default();
        registry.register(
            "negotiations",
            "Contract negotiations in storage, by our role and state",
            negotiations.clone(),
        );
        let transfers = Family::<StateLabels, Gauge>::default();
        registry.register(
            "transfers",
            "Transfer processes in storage, by our role and state",
            transfers.clone(),
        );
        let outbox_pending = Gauge::default();
        registry.register(
            "outbox_pending_messages",
            "DSP messages waiting in the outbox for delivery to a partner",
            outbox_pending.clone(),
        );
        let outbox_oldest_seconds = Gauge::<f64, AtomicU64>::default();
        registry.register_with_unit(
            "outbox_oldest_pending_age",
            "Age of the oldest message waiting in the outbox (0 when none waits)",
            Unit::Seconds,
            outbox_oldest_seconds.clone(),
        );
        let audit_entries = Gauge::default();
        registry.register(
            "audit_log_entries",
            "Durable entries in the audit log",
            audit_entries.clone(),
        );
        let audit_append_seconds = latency_histogram();
        registry.register_with_unit(
            "audit_append_duration",
            "Time from an audit append until its entry is committed",
            Unit::Seconds,
            audit_append_seconds.clone(),
        );
        let build = Family::<BuildLabels, Gauge>::default();
        registry.register(
            "build_info",
            "Always 1; the labels say which build is running",
            build.clone(),
        );
        build
            .get_or_create(&BuildLabels {
                version: env!("CARGO_PKG_VERSION"),
                commit: super::COMMIT,
            })
            .set(1);
        Metrics {
            registry: root,
            requests,
            request_seconds,
            proxy_seconds,
            decisions,
            negotiations,
            transfers,
            outbox_pending,
            outbox_oldest_seconds,
            audit_entries,
            audit_append_seconds,
            scrape: tokio::sync::Mutex::new(()),
        }
    }

    /// What the policy service counts into.
    pub fn decisions(&self) -> DecisionMetrics {
        self.decisions.clone()
    }

    /// What the audit log's append timer records into.
    pub fn audit_append_seconds(&self) -> Histogram {
        self.audit_append_seconds.clone()
    }

    /// One answered request. Requests under `/data/` also feed the proxy histogram.
    pub fn observe_request(&self, labels: LatencyLabels, status: u16, seconds: f64) {
        self.requests
            .get_or_create(&RequestLabels {
                listener: labels.listener,
                method: labels.method.clone(),
                endpoint: labels.endpoint.clone(),
                status: status.to_string(),
            })
            .inc();
        if labels.endpoint.starts_with("/data/") {
            self.proxy_seconds.get_or_create(&labels).observe(seconds);
        }
        self.request_seconds.get_or_create(&labels).observe(seconds);
    }

    /// Refreshes the storage-backed gauges and encodes everything in `format`. `audit_entries` is the log's
    /// current size.
    pub async fn encode(
        &self,
        stats: Result<StoreStats, StorageError>,
        audit_entries: u64,
        format: Format,
    ) -> Result<String, MetricsError> {
        let _one_at_a_time = self.scrape.lock().await;
        let stats = stats.map_err(|e| MetricsError::Storage(e.to_string()))?;
        set_states(&self.negotiations, &stats.negotiations);
        set_states(&self.transfers, &stats.transfers);
        self.outbox_pending.set(stats.outbox_pending);
        self.outbox_oldest_seconds
            .set(stats.outbox_oldest_age_seconds);
        self.audit_entries
            .set(i64::try_from(audit_entries).unwrap_or(i64::MAX));
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)
            .map_err(|_| MetricsError::Encode)?;
        match format {
            Format::OpenMetrics => Ok(out),
            Format::Text => super::exposition::to_text_format(&out).map_err(MetricsError::Convert),
        }
    }
}

/// Replaces a by-state gauge family, so a state no process is in any more disappears instead of going stale.
fn set_states(family: &Family<StateLabels, Gauge>, counts: &[(String, String, i64)]) {
    family.clear();
    for (role, state, n) in counts {
        family
            .get_or_create(&StateLabels {
                role: role.clone(),
                state: state.clone(),
            })
            .set(*n);
    }
}

/// Why a scrape failed; the endpoint answers 503 so the scraper marks the target down rather than showing stale
/// numbers.
#[derive(Debug, thiserror::Error)]
pub enum MetricsError {
    #[error("cannot read process counts: {0}")]
    Storage(String),
    #[error("cannot encode metrics")]
    Encode,
    #[error("cannot write metrics in the Prometheus text format: {0}")]
    Convert(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats() -> StoreStats {
        StoreStats {
            negotiations: vec![
                ("consumer".into(), "FINALIZED".into(), 2),
                ("consumer".into(), "REQUESTED".into(), 1),
            ],
            transfers: vec![("provider".into(), "STARTED".into(), 3)],
            outbox_pending: 4,
            outbox_oldest_age_seconds: 1.5,
        }
    }

    #[tokio::test]
    async fn scrape_shows_every_family() {
        let m = Metrics::new();
        m.decisions().record(Scope::Negotiation, &Decision::Permit);
        m.decisions().record(Scope::Transfer, &Decision::Deny);
        m.observe_request(
            LatencyLabels {
                listener: "dsp",
                method: "POST".into(),
                endpoint: "/dsp/2025-1/negotiations/request".into(),
            },
            201,
            0.01,
        );
        m.audit_append_seconds().observe(0.002);
        let text = m.encode(Ok(stats()), 7, Format::OpenMetrics).await.unwrap();
        for line in [
            r#"twinport_http_requests_total{listener="dsp",method="POST",endpoint="/dsp/2025-1/negotiations/request",status="201"} 1"#,
            r#"twinport_policy_decisions_total{scope="negotiation",outcome="permit"} 1"#,
            r#"twinport_policy_decisions_total{scope="transfer",outcome="deny"} 1"#,
            r#"twinport_negotiations{role="consumer",state="FINALIZED"} 2"#,
            r#"twinport_transfers{role="provider",state="STARTED"} 3"#,
            "twinport_outbox_pending_messages 4",
            "twinport_outbox_oldest_pending_age_seconds 1.5",
            "twinport_audit_log_entries 7",
            "twinport_audit_append_duration_seconds_count 1",
            r#"twinport_build_info{version=""#,
            #[cfg(target_os = "linux")]
            "process_cpu_seconds_total ",
            #[cfg(target_os = "linux")]
            "process_resident_memory_bytes ",
            #[cfg(target_os = "linux")]
            "process_start_time_seconds ",
        ] {
            assert!(text.contains(line), "missing {line} in\n{text}");
        }
        assert!(!text.contains("twinport_proxy_request_duration_seconds_count"));
    }

    #[tokio::test]
    async fn data_routes_feed_the_proxy_histogram_and_states_do_not_go_stale() {
        let m = Metrics::new();
        m.observe_request(
            LatencyLabels {
                listener: "dsp",
                method: "GET".into(),
                endpoint: "/data/{transfer}/{*rest}".into(),
            },
            200,
            0.2,
        );
        let first = m.encode(Ok(stats()), 0, Format::OpenMetrics).await.unwrap();
        assert!(first.contains(
            r#"twinport_proxy_request_duration_seconds_count{listener="dsp",method="GET",endpoint="/data/{transfer}/{*rest}"} 1"#
        ), "{first}");
        let mut later = stats();
        later.negotiations = vec![("consumer".into(), "FINALIZED".into(), 3)];
        let second = m.encode(Ok(later), 0, Format::OpenMetrics).await.unwrap();
        assert!(second.contains(r#"twinport_negotiations{role="consumer",state="FINALIZED"} 3"#));
        assert!(!second.contains(r#"state="REQUESTED""#), "{second}");
    }

    #[tokio::test]
    async fn a_storage_failure_fails_the_scrape() {
        let m = Metrics::new();
        let err = m
            .encode(Err(StorageError::Corrupt("x".into())), 0, Format::Text)
            .await
            .unwrap_err();
        assert!(err.to_string().contains("process counts"));
    }
}
