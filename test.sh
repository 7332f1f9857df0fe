#!/usr/bin/env bash
# Installs and starts everything the tests need (Docker engine and Podman's API service, their
# test images, Caddy, Prometheus, Chromium; PostgreSQL 15 is installed here and started by its
# tests themselves), builds, and runs the whole suite with ctest. Leaves the machine as it found
# it: whatever this script started is stopped again, by pid.
set -euo pipefail
cd "$(dirname "$0")"

# One line per phase with its wall time ("test.sh: fuzz took 63 s"), and the total at the end, so
# that a CI log shows where the time goes.
t_start=$SECONDS
t_phase=$SECONDS
phase_done() {
  echo "test.sh: $1 took $((SECONDS - t_phase)) s"
  t_phase=$SECONDS
}

scripts/install-deps.sh --test
phase_done install
scripts/build.sh
phase_done build

# Stop the engine (and Podman's service) at the end only if this run started it (one that
# already answered is left alone).
engine_was_up=0
if curl -fsS --max-time 3 --unix-socket /var/run/docker.sock http://docker/_ping >/dev/null 2>&1; then
  engine_was_up=1
fi
podman_was_up=0
if curl -fsS --max-time 3 --unix-socket /run/podman/podman.sock http://podman/_ping >/dev/null 2>&1; then
  podman_was_up=1
fi
# The sanitizer build (below) runs in its own process group while the regular suite runs.
asan_build_pid=
cleanup() {
  if [[ -n $asan_build_pid ]] && kill -0 "$asan_build_pid" 2>/dev/null; then
    kill -- "-$asan_build_pid" 2>/dev/null || true
  fi
  if ((!engine_was_up)); then scripts/stop-dockerd.sh || true; fi
  if ((!podman_was_up)); then scripts/stop-podman.sh || true; fi
}
trap cleanup EXIT
if ! scripts/start-dockerd.sh; then
  echo "test.sh: could not start the Docker engine" >&2
  exit 1
fi
scripts/build-test-image.sh
if ! scripts/start-podman.sh; then
  echo "test.sh: could not start Podman's API service" >&2
  exit 1
fi
scripts/build-podman-test-image.sh
phase_done "engines and test images"

# The second pass's build (AddressSanitizer + UndefinedBehaviorSanitizer, build-asan/) is compiled
# now, in the background at the lowest CPU and I/O priority, so that it takes only the cycles the
# fuzzers and the regular suite leave idle (most of the suite waits on containers) instead of
# adding its quarter of an hour after them. Its output goes to build/sanitizer-build.log.
# The labels that pass leaves out (why: below); the test binaries carrying one of them are not
# even compiled there (ZC_SKIP_TEST_LABELS, cmake/ZcTesting.cmake).
sanitize_skip_labels='browser|bench|package|contract|engine|fault|slow|scale|nosan'
sanitize=0
if [[ "${ZC_SKIP_SANITIZE:-0}" != 1 && $# -eq 0 ]]; then
  sanitize=1
  idle_io=()
  if ionice -c 3 true 2>/dev/null; then idle_io=(ionice -c 3); fi
  ZC_SKIP_TEST_LABELS=${sanitize_skip_labels//|/;} setsid nice -n 19 "${idle_io[@]}" \
    scripts/sanitize.sh --build-only >build/sanitizer-build.log 2>&1 &
  asan_build_pid=$!
fi

# The parsers' fuzz targets (libFuzzer, clang 14, ASan+UBSan): the committed corpus plus a fixed,
# seeded number of runs each, so the step is deterministic. Longer runs: tests/fuzz/README.md.
scripts/fuzz.sh --runs 100000
phase_done fuzz

export ZC_REQUIRE_DOCKER=1 ZC_REQUIRE_CADDY=1 ZC_REQUIRE_PROMETHEUS=1 ZC_REQUIRE_BROWSER=1
export ZC_REQUIRE_POSTGRES=1 ZC_REQUIRE_PACKAGE=1 ZC_REQUIRE_PODMAN=1
# -j2: the unit tests run two at a time; every other test is RUN_SERIAL (cmake/ZcTesting.cmake)
# and runs alone.
# A failing ctest still reports its phase time (and the total) before the script stops.
regular_rc=0
(cd build && ctest -j2 --output-on-failure --timeout 600 "$@") || regular_rc=$?
phase_done "regular ctest"
if ((regular_rc != 0)); then
  echo "test.sh: total $((SECONDS - t_start)) s (the regular ctest pass failed)"
  exit "$regular_rc"
fi

# The same suites once more under AddressSanitizer + UndefinedBehaviorSanitizer with leak
# detection, in build-asan/, but for those whose time goes to waiting on something outside the
# collector rather than to running its code: the browser's, the package's, the API contract's
# (it checks documents), the benchmark's, the 200-container scale test ("scale": a thread
# count), the ones that stop the engine or fill a disk ("engine", "fault": seconds of waiting for
# the engine to come back), the storage crash test ("slow": kill -9 of a writer, then a
# consistency check), and the suites that mostly start, stop and wait on containers ("nosan":
# lifecycle and teardown, health probes, label trust, the central instance, Podman's whole
# daemon, the Docker plugin against the engine). What those drive in the collector is run under
# the sanitizers by other suites: reopening a follow after a cut or failing engine by the fake
# engine's unit tests, a failing storage write by the pipeline's, a kill -9 and restart of the
# collector by the exactly-once suite (API) and the json-file suite, forwarding by the fleet
# suite, teardown by its unit tests (tests/collector) and health probes by the exporters'.
# ZC_SKIP_SANITIZE=1 skips the pass for a quick local run.
if ((sanitize)); then
  if ! wait "$asan_build_pid"; then
    asan_build_pid=
    tail -50 build/sanitizer-build.log >&2
    echo "test.sh: the sanitizer build failed (whole log: build/sanitizer-build.log)" >&2
    exit 1
  fi
  asan_build_pid=
  tail -1 build/sanitizer-build.log
  phase_done "wait for the sanitizer build"
  sanitize_rc=0
  scripts/sanitize.sh --no-build -j2 -LE "$sanitize_skip_labels" || sanitize_rc=$?
  phase_done "sanitizer ctest"
  if ((sanitize_rc != 0)); then
    echo "test.sh: total $((SECONDS - t_start)) s (the sanitizer ctest pass failed)"
    exit "$sanitize_rc"
  fi
fi
echo "test.sh: total $((SECONDS - t_start)) s"
