//! Times the audit log's appends (`AuditLog::append`) for the `twinport_audit_append_duration_seconds` histogram. The audit log is opened
//! before the connector's metrics exist, so it carries an [`AppendObserver`] that starts empty and is pointed at the
//! connector's histogram once the metrics are built; until then (and in the CLI tools) appends are not timed.

use std::sync::{Arc, OnceLock};
use std::time::Instant;

use prometheus_client::metrics::histogram::Histogram;

/// Where one audit log's append times go; shared by all clones of the log.
#[derive(Clone, Debug, Default)]
pub struct AppendObserver(Arc<OnceLock<Histogram>>);

impl AppendObserver {
    /// Records the duration of every append from now on into `histogram`. Only the first call takes effect: a log
    /// belongs to one connector.
    pub fn observe(&self, histogram: Histogram) {
        let _ = self.0.set(histogram);
    }

    /// Starts timing an append; the time is recorded when the returned guard is dropped.
    pub fn start(&self) -> AppendTimer<'_> {
        AppendTimer {
            observer: self,
            started: Instant::now(),
        }
    }
}

/// Records the elapsed time of one append when dropped (committed, failed or abandoned alike).
pub struct AppendTimer<'a> {
    observer: &'a AppendObserver,
    started: Instant,
}

impl Drop for AppendTimer<'_> {
    fn drop(&mut self) {
        if let Some(h) = self.observer.0.get() {
            h.observe(self.started.elapsed().as_secs_f64());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appends_are_recorded_once_a_histogram_is_attached() {
        let observer = AppendObserver::default();
        drop(observer.start());
        let histogram = Histogram::new([0.1, 1.0]);
        let _ = observer.0.set(histogram.clone());
        let clone = observer.clone();
        drop(observer.start());
        drop(clone.start());
        assert_eq!(histogram.count(), 2);
    }
}
