//! Times `AuditLog::append` for the `twinport_audit_append_duration_seconds` histogram through a one-line hook in
//! the audit log, which is opened before the connector's metrics exist and has no handle to them.
//!
//! The hook finds its connector's histogram by the log's origin (derived from the participant id, unique per
//! connector in a process). Two connectors with the same participant id in one process (only tests do that)
//! record into the histogram registered last.

use std::collections::HashMap;
use std::sync::{OnceLock, RwLock};
use std::time::Instant;

use prometheus_client::metrics::histogram::Histogram;

fn histograms() -> &'static RwLock<HashMap<String, Histogram>> {
    static HISTOGRAMS: OnceLock<RwLock<HashMap<String, Histogram>>> = OnceLock::new();
    HISTOGRAMS.get_or_init(Default::default)
}

/// Routes appends to the log with `origin` into `histogram`.
pub fn register(origin: &str, histogram: Histogram) {
    histograms()
        .write()
        .unwrap_or_else(|p| p.into_inner())
        .insert(origin.to_string(), histogram);
}

/// Starts timing an append; the time is recorded when the returned guard is dropped.
pub fn start(origin: &str) -> AppendTimer<'_> {
    AppendTimer {
        origin,
        started: Instant::now(),
    }
}

/// Records the elapsed time of one append when dropped (committed, failed or abandoned alike).
pub struct AppendTimer<'a> {
    origin: &'a str,
    started: Instant,
}

impl Drop for AppendTimer<'_> {
    fn drop(&mut self) {
        let map = histograms().read().unwrap_or_else(|p| p.into_inner());
        if let Some(h) = map.get(self.origin) {
            h.observe(self.started.elapsed().as_secs_f64());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appends_are_recorded_for_their_own_origin_only() {
        let mine = Histogram::new([0.1, 1.0]);
        let other = Histogram::new([0.1, 1.0]);
        register("timing-test-mine/audit", mine.clone());
        register("timing-test-other/audit", other.clone());
        drop(start("timing-test-mine/audit"));
        drop(start("timing-test-mine/audit"));
        drop(start("timing-test-unregistered/audit"));
        assert_eq!(mine.count(), 2);
        assert_eq!(other.count(), 0);
    }
}
