#!/usr/bin/env python3
"""The Grafana dashboard and the alert rules name only series the collector exports.

  check_contrib.py SOURCE_DIR

Reads every zynd_* and process_* name the exporter declares (exporters/src/prometheus_exporter.cpp,
exporters/src/http_metrics.cpp; a histogram also as its _bucket, _count and _sum series) and
checks that each such name used in contrib/grafana/zynd-collector.json and
contrib/prometheus/alerts.yml is one of them; also that the dashboard is valid JSON with unique
panel ids, each panel with a datasource and at least one query, and, when promtool is on PATH,
that every query of the dashboard parses as PromQL (each one checked as a recording rule by
`promtool check rules`). Prints one line per problem; exit 1 when there is any.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

NAME = r"\b((?:zynd|process)_[a-z_]+)\b"


def check_promql(path: str, dashboard: dict) -> list:
    """Every query of the dashboard parses: promtool checks them as recording rules."""
    if shutil.which("promtool") is None:
        print("promtool not on PATH: the dashboard's PromQL is not parsed")
        return []
    rules = []
    for panel in dashboard.get("panels", []):
        for t in panel.get("targets", []):
            expr = t.get("expr", "").replace("$instance", ".*")
            if expr:
                rules.append({"record": f"panel_{panel.get('id')}_{t.get('refId')}", "expr": expr})
    with tempfile.TemporaryDirectory() as d:
        rules_file = os.path.join(d, "dashboard_rules.yml")
        # JSON is YAML: no YAML library needed.
        json.dump({"groups": [{"name": "dashboard", "rules": rules}]}, open(rules_file, "w"))
        r = subprocess.run(["promtool", "check", "rules", rules_file], capture_output=True,
                           text=True)
    if r.returncode != 0:
        return [f"{path}: a query does not parse as PromQL: {r.stdout}{r.stderr}"]
    return []


def main() -> int:
    src = sys.argv[1]
    exported = set()
    for source in ("prometheus_exporter.cpp", "http_metrics.cpp"):
        text = open(f"{src}/exporters/src/{source}", encoding="utf-8").read()
        exported |= set(re.findall(r'"((?:zynd|process)_[a-z_]+)"', text))
        for histogram in re.findall(r'BuildHistogram\(\)\s*\.Name\("([a-z_]+)"\)', text):
            exported |= {histogram + suffix for suffix in ("_bucket", "_count", "_sum")}
    problems = []

    def check_names(where: str, text: str) -> None:
        for name in sorted(set(re.findall(NAME, text))):
            if name not in exported and not name.startswith("zynd_collector_info"):
                problems.append(f"{where}: {name} is not a series the collector exports")

    dashboard_path = f"{src}/contrib/grafana/zynd-collector.json"
    try:
        dashboard = json.load(open(dashboard_path, encoding="utf-8"))
    except ValueError as e:
        print(f"{dashboard_path}: not JSON: {e}")
        return 1
    ids = [p.get("id") for p in dashboard.get("panels", [])]
    if len(ids) != len(set(ids)):
        problems.append(f"{dashboard_path}: panel ids repeat: {ids}")
    for panel in dashboard.get("panels", []):
        title = panel.get("title", "?")
        if "datasource" not in panel:
            problems.append(f"{dashboard_path}: panel '{title}' has no datasource")
        exprs = [t.get("expr", "") for t in panel.get("targets", [])]
        if not any(exprs):
            problems.append(f"{dashboard_path}: panel '{title}' has no query")
        for e in exprs:
            check_names(f"{dashboard_path}: panel '{title}'", e)
    problems += check_promql(dashboard_path, dashboard)
    check_names(f"{src}/contrib/prometheus/alerts.yml",
                open(f"{src}/contrib/prometheus/alerts.yml", encoding="utf-8").read())
    for p in problems:
        print(p)
    print(f"{len(ids)} panels and the alert rules checked, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
