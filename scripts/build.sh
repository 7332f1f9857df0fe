#!/usr/bin/env bash
# Configures and builds zynd-collector into ${ZC_BUILD_DIR:-build} (extra args go to cmake).
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${ZC_BUILD_DIR:-build}
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=${ZC_BUILD_TYPE:-RelWithDebInfo} "$@" >/dev/null
cmake --build "$build_dir" -j"$(nproc)"
