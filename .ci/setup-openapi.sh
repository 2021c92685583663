# Sourced by .ci/run: builds a venv with openapi-spec-validator (PyPI), which tests/tests/management_openapi.rs runs
# on the management API's served OpenAPI document, and exports TWINPORT_OPENAPI_VALIDATOR, the path of its command.
# The venv lives outside the repository, keyed by the requirements file's hash so reruns reuse it. Once the
# variable is set the test fails (never skips) if the validator cannot run or rejects the document; a venv that
# cannot be built makes the sourcing fail (stopping .ci/run under `set -e`) rather than letting the check be skipped.
setup_openapi() {
  local requirements=.ci/requirements-openapi.txt
  local venv="${XDG_CACHE_HOME:-$HOME/.cache}/twinport-ci/openapi-$(sha256sum "$requirements" | cut -c1-16)"
  if [ ! -f "$venv/.complete" ]; then
    rm -rf "$venv"
    python3 -m venv "$venv" &&
      "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements" &&
      touch "$venv/.complete" || { echo "could not build the openapi venv" >&2; return 1; }
  fi
  export TWINPORT_OPENAPI_VALIDATOR="$venv/bin/openapi-spec-validator"
}
setup_openapi
