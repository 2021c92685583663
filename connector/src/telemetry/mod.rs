//! Everything an operator watches the connector with: logs (`logging`), Prometheus metrics (`metrics`, served at
//! `/metrics` by the management surface), optional OpenTelemetry traces (`traces`), and the HTTP layer that feeds
//! both for every listener (`http_layer`). [`Telemetry`] is the per-connector part, built once by the assembly and
//! shared by the services that count or trace.

pub mod audit_timing;
pub mod exposition;
pub mod http_layer;
pub mod logging;
pub mod metrics;
pub mod process;
pub mod startup;
pub mod traces;

/// The commit this binary was built from (`build.rs`: `git rev-parse HEAD`, `TWINPORT_BUILD_COMMIT`, or
/// "unknown"), shown by `twinport version` and in `twinport_build_info`.
pub const COMMIT: &str = env!("TWINPORT_COMMIT");

use std::sync::Arc;

pub use logging::init;

use crate::config::TelemetryConfig;

/// One connector's metrics registry and tracer. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Telemetry {
    metrics: Arc<metrics::Metrics>,
    traces: traces::Traces,
}

impl Telemetry {
    /// Sets up metrics, and traces when an OTLP endpoint is configured.
    pub fn new(
        config: &TelemetryConfig,
        participant_id: &str,
    ) -> Result<Telemetry, traces::TraceSetupError> {
        let metrics = Arc::new(metrics::Metrics::new());
        Ok(Telemetry {
            metrics,
            traces: traces::Traces::new(config, participant_id)?,
        })
    }

    pub fn metrics(&self) -> &metrics::Metrics {
        &self.metrics
    }

    pub fn traces(&self) -> &traces::Traces {
        &self.traces
    }
}
