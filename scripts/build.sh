#!/usr/bin/env bash
# Configures and builds zynd-collector into ${ZC_BUILD_DIR:-build} (extra args go to cmake);
# ${ZC_BUILD_TARGET} builds one target (e.g. zc_bundle) instead of everything.
# A new build folder uses Ninja; an existing one keeps the generator it was made with.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${ZC_BUILD_DIR:-build}
generator=()
[[ -f "$build_dir/CMakeCache.txt" ]] || generator=(-G Ninja)
cmake -S . -B "$build_dir" "${generator[@]}" -DCMAKE_BUILD_TYPE=${ZC_BUILD_TYPE:-RelWithDebInfo} "$@" >/dev/null
target=()
[[ -n "${ZC_BUILD_TARGET:-}" ]] && target=(--target "$ZC_BUILD_TARGET")
cmake --build "$build_dir" -j"$(nproc)" "${target[@]}"
