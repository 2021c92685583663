# Sourced by .ci/run: the tools tests/tests/deploy_chart.rs and tests/tests/deploy_compose.rs drive.
#
# Why this renderer: no registry here serves a `helm` binary, and the Helm chart must be rendered by Helm's own
# engine to be worth testing. helm-python-sdk (PyPI) ships Helm v4's Go SDK compiled into a C library inside its
# wheel, so deploy/helm/render.py renders with the real engine (sprig, include, tpl, required, fail, toYaml, values
# coalescing), not a re-implementation. The other candidates were less faithful: a renderer of our own on Debian's
# golang and Go sprig packages would re-implement Helm's engine and values merging, and kubectl's built-in Kustomize
# cannot inflate a chart without a helm binary. kubernetes-validate (PyPI) checks every rendered object against the
# Kubernetes OpenAPI schemas bundled in its wheel (offline); kubectl (in the machine image) applies the sidecar patch
# with its built-in Kustomize; Debian's docker-compose (v1) validates and normalises deploy/compose.yaml without a
# Docker daemon.
#
# Exports TWINPORT_CHART_PYTHON (the venv's python, which runs deploy/helm/render.py and reads YAML),
# TWINPORT_KUBE_VALIDATE, and, when present, TWINPORT_KUBECTL and TWINPORT_COMPOSE. The venv lives outside the
# repository, keyed by the requirements file's hash so reruns reuse it. Once a variable is set, its test fails
# (never skips) if the tool cannot run or rejects what it checks.
setup_chart() {
  local requirements=deploy/helm/requirements.txt
  local venv="${XDG_CACHE_HOME:-$HOME/.cache}/twinport-ci/chart-$(sha256sum "$requirements" | cut -c1-16)"
  if [ ! -f "$venv/.complete" ]; then
    rm -rf "$venv"
    python3 -m venv "$venv" &&
      "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements" &&
      touch "$venv/.complete" || { echo "could not build the chart venv" >&2; return 1; }
  fi
  export TWINPORT_CHART_PYTHON="$venv/bin/python"
  export TWINPORT_KUBE_VALIDATE="$venv/bin/kubernetes-validate"
  if command -v kubectl >/dev/null 2>&1; then
    export TWINPORT_KUBECTL="$(command -v kubectl)"
  fi
  if ! command -v docker-compose >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
    # A fresh machine may have no package lists yet: update once if the first try fails.
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-compose >/dev/null 2>&1 ||
      { apt-get update -qq >/dev/null 2>&1 &&
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-compose >/dev/null 2>&1; } || true
  fi
  if command -v docker-compose >/dev/null 2>&1; then
    export TWINPORT_COMPOSE="$(command -v docker-compose)"
  fi
}
setup_chart
