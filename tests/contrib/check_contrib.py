#!/usr/bin/env python3
"""The Grafana dashboard and the alert rules name only series the collector exports.

  check_contrib.py SOURCE_DIR

Reads every zynd_* name the exporter declares (exporters/src/prometheus_exporter.cpp) and checks
that each zynd_* name used in contrib/grafana/zynd-collector.json and contrib/prometheus/alerts.yml
is one of them; also that the dashboard is valid JSON with unique panel ids, each panel with a
datasource and at least one query. Prints one line per problem; exit 1 when there is any.
"""
import json
import re
import sys


def main() -> int:
    src = sys.argv[1]
    exporter = open(f"{src}/exporters/src/prometheus_exporter.cpp", encoding="utf-8").read()
    exported = set(re.findall(r'"(zynd_[a-z_]+)"', exporter))
    problems = []

    def check_names(where: str, text: str) -> None:
        for name in sorted(set(re.findall(r"\b(zynd_[a-z_]+)\b", text))):
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
    check_names(f"{src}/contrib/prometheus/alerts.yml",
                open(f"{src}/contrib/prometheus/alerts.yml", encoding="utf-8").read())
    for p in problems:
        print(p)
    print(f"{len(ids)} panels and the alert rules checked, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
