#!/usr/bin/env bash
# Installs what is needed, builds, and runs the collector on its embedded default: RocksDB under
# ./data, HTTP on 127.0.0.1:7070, the local Docker engine if one is there. Extra arguments are
# passed to zynd-collector (see ./build/bin/zynd-collector --help).
set -euo pipefail
cd "$(dirname "$0")"
scripts/install-deps.sh
ZC_BUILD_TARGET=zc_bundle scripts/build.sh
exec ./build/bin/zynd-collector --data-dir ./data "$@"
