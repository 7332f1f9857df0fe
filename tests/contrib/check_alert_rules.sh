#!/usr/bin/env bash
# contrib/prometheus: `promtool check rules alerts.yml` and `promtool test rules alerts_test.yml`.
# Exit 77 (skipped) without promtool, unless ZC_REQUIRE_PROMETHEUS=1.
set -euo pipefail
cd "$1"
if ! command -v promtool >/dev/null 2>&1; then
  if [[ "${ZC_REQUIRE_PROMETHEUS:-0}" == 1 ]]; then echo "promtool required" >&2; exit 1; fi
  echo "promtool not found: skipped"; exit 77
fi
promtool check rules alerts.yml
promtool test rules alerts_test.yml
