#!/usr/bin/env bash
# Configures and builds zynd-collector into ${ZC_BUILD_DIR:-build} (extra args go to cmake).
# A new build folder uses Ninja; an existing one keeps the generator it was made with.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${ZC_BUILD_DIR:-build}
generator=()
[[ -f "$build_dir/CMakeCache.txt" ]] || generator=(-G Ninja)
cmake -S . -B "$build_dir" "${generator[@]}" -DCMAKE_BUILD_TYPE=${ZC_BUILD_TYPE:-RelWithDebInfo} "$@" >/dev/null
cmake --build "$build_dir" -j"$(nproc)"
