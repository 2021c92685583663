# Sourced by .ci/run: installs promtool (Debian's `prometheus` package) and exports TWINPORT_PROMTOOL, the path of
# the command, which tests/tests/metrics.rs runs on both formats of /metrics (`promtool check metrics` on the
# Prometheus text format 0.0.4, and Prometheus's own OpenMetrics parser through `promtool tsdb create-blocks-from
# openmetrics`). Once the variable is set the test fails (never skips) if promtool cannot run or finds a problem.
# The package's services are not started (policy-rc.d in containers) and are stopped if they were.
setup_promtool() {
  if ! command -v promtool >/dev/null 2>&1; then
    command -v apt-get >/dev/null 2>&1 || { echo "promtool is missing and apt-get is not available" >&2; return 1; }
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null ||
      { echo "could not install promtool (apt package prometheus)" >&2; return 1; }
    if command -v systemctl >/dev/null 2>&1; then systemctl stop prometheus prometheus-node-exporter >/dev/null 2>&1 || true; fi
  fi
  TWINPORT_PROMTOOL="$(command -v promtool)"
  export TWINPORT_PROMTOOL
}
setup_promtool
