#!/usr/bin/env python3
"""Render a Helm chart the way `helm template` does, where no `helm` binary can be installed.

The templates are rendered by Helm itself: helm-python-sdk (PyPI) binds Helm v4's official Go SDK (engine, sprig,
include/tpl/required/fail/toYaml, values coalescing, .Release/.Chart/.Capabilities) through a C library in its
wheel, so nothing here re-implements Helm. This script only does what the `helm` command adds around the engine:
merging `-f` files and `--set` values in order, and printing the manifests (`# Source:` headers, NOTES.txt left
out, test hooks kept) or, with `--json`, one JSON object per document for tools that read JSON. `--lint` runs
`helm lint --strict` with the same values instead, and fails on any warning or error.

    python render.py deploy/helm/twinport -f values.yaml [--set key=value] [--name twinport] [--namespace city]

Requirements: deploy/helm/requirements.txt (helm-python-sdk, PyYAML; kubernetes-validate to validate the output).
"""

import argparse
import json
import sys
from pathlib import Path

import helm_python as helm
import yaml


def merge(base, override):
    """Helm's merge of values files: maps merge key by key, anything else is replaced by the later file."""
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            merge(base[key], value)
        else:
            base[key] = value
    return base


def documents(manifests):
    """(source, text) for every non-empty YAML document, in template path order (NOTES.txt is not a manifest)."""
    for source in sorted(manifests):
        if source.endswith("NOTES.txt"):
            continue
        for doc in manifests[source].split("\n---"):
            text = doc.strip("\n")
            if text.startswith("---"):
                text = text[3:].lstrip("\n")
            if any(line.strip() and not line.lstrip().startswith("#") for line in text.splitlines()):
                yield source, text


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("chart")
    parser.add_argument("-f", "--values", action="append", default=[], help="values file (repeatable)")
    parser.add_argument("--set", action="append", default=[], help="key=value (repeatable)")
    parser.add_argument("--name", default="twinport", help="release name")
    parser.add_argument("--namespace", default="default")
    parser.add_argument("--json", action="store_true", help="a JSON array of {source, object}")
    parser.add_argument("--lint", action="store_true", help="helm lint --strict instead of rendering")
    args = parser.parse_args(argv)

    values = {}
    for path in args.values:
        merge(values, helm.values_from_yaml(Path(path).read_text()) or {})
    for assignment in args.set:
        merge(values, helm.parse_set_string(assignment))

    if args.lint:
        report = helm.lint(args.chart, values, strict=True, namespace=args.namespace)
        # Severity 1 is Helm's INFO (e.g. "icon is recommended"); 2 and above are warnings and errors.
        problems = report["errors"] + [m for m in report["messages"] if m["severity"] >= 2]
        for problem in problems:
            print(f"lint: {problem}", file=sys.stderr)
        return 1 if problems else 0

    try:
        with helm.Chart.load(args.chart) as chart:
            manifests = chart.render(values, name=args.name, namespace=args.namespace, is_install=True)
    except helm.HelmError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1

    if args.json:
        out = [{"source": source, "object": yaml.safe_load(text)} for source, text in documents(manifests)]
        json.dump(out, sys.stdout, indent=1)
        print()
    else:
        for source, text in documents(manifests):
            print(f"---\n# Source: {source}\n{text}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
