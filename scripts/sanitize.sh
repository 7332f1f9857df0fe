#!/usr/bin/env bash
# Builds zynd-collector with AddressSanitizer + UndefinedBehaviorSanitizer (-DZC_SANITIZE=ON, the
# root CMake option) into ${ZC_ASAN_BUILD_DIR:-build-asan}/ and runs the unit suites there. The
# benchmarks are not built there (their figures mean nothing under the sanitizers).
#
#   scripts/sanitize.sh                 # ctest -L unit
#   scripts/sanitize.sh -L 'unit|docker'  # other ctest arguments replace the default label
#   scripts/sanitize.sh --build-only     # build (and discover the tests), run nothing
#   scripts/sanitize.sh --no-build -L unit  # run what an earlier --build-only built
#
# ZC_SKIP_TEST_LABELS='engine;fault' (a CMake list) leaves the test binaries with one of those
# labels out of the build (cmake/ZcTesting.cmake): for a pass that excludes those labels anyway.
#
# Any sanitizer report fails the test that triggered it (halt_on_error, abort_on_error off so the
# process exits with ctest-visible status 1). Exits with ctest's status and prints its summary.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${ZC_ASAN_BUILD_DIR:-build-asan}
jobs=${ZC_JOBS:-2}  # the machine's cores are shared with other builds
step=all
case "${1:-}" in
  --build-only) step=build; shift ;;
  --no-build) step=test; shift ;;
esac
ctest_args=("$@")
if ((${#ctest_args[@]} == 0)); then ctest_args=(-L unit); fi

# LeakSanitizer stops the process with ptrace to scan it; under a tracer (strace, gdb) or where
# ptrace is forbidden (a container without CAP_SYS_PTRACE, a seccomp profile) it dies with
# "LeakSanitizer has encountered a fatal error" on every exit, which would fail every test. Probe
# it once with a leak-free program and keep leak detection only when it runs.
detect_leaks=1
probe_dir=$(mktemp -d)
trap 'rm -rf "$probe_dir"' EXIT
printf 'int main() { return 0; }\n' >"$probe_dir/p.cpp"
if g++ -fsanitize=address "$probe_dir/p.cpp" -o "$probe_dir/p" 2>/dev/null; then
  if ! ASAN_OPTIONS=detect_leaks=1 "$probe_dir/p" >"$probe_dir/out" 2>&1; then
    detect_leaks=0
    echo "sanitize.sh: LeakSanitizer cannot run here (ptrace refused?); leak detection is off:" >&2
    head -3 "$probe_dir/out" >&2
  fi
fi

# Discovery (gtest_discover_tests) runs the test binaries at build time, so the options are
# exported before the build as well. new_delete_type_mismatch and ODR checks stay on; exit code 1
# so ctest counts a report as a failure; symbolized stacks for the log.
export ASAN_OPTIONS="halt_on_error=1:abort_on_error=0:exitcode=1:detect_leaks=${detect_leaks}:detect_stack_use_after_return=1:strict_string_checks=1:check_initialization_order=1:strict_init_order=1:detect_odr_violation=2:symbolize=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:exitcode=1:symbolize=1"
export LSAN_OPTIONS="${LSAN_OPTIONS:-}"

start=$(date +%s)
generator=()
if [[ ! -f "$build_dir/CMakeCache.txt" ]] && command -v ninja >/dev/null; then generator=(-G Ninja); fi
# -O1 -g1: ASan's recommended optimisation and line tables only, enough for symbolized stacks with
# file:line; half the compile time of -O2 -g.
if [[ $step != test ]]; then
  cmake -S . -B "$build_dir" "${generator[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DZC_SANITIZE=ON \
    -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG" -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG" \
    -DZC_BUILD_TESTS=ON -DZC_BUILD_BENCH=OFF -DZC_SKIP_TEST_LABELS="${ZC_SKIP_TEST_LABELS:-}" >/dev/null
  cmake --build "$build_dir" -j"$jobs"
fi
built=$(date +%s)
if [[ $step == build ]]; then
  echo "sanitize.sh: build $((built - start)) s (tests not run)"
  exit 0
fi

set +e
(cd "$build_dir" && ctest --output-on-failure --timeout 900 "${ctest_args[@]}") 2>&1 |
  tee "$build_dir/sanitize-ctest.log"
rc=${PIPESTATUS[0]}
set -e
done_at=$(date +%s)
echo "sanitize.sh: build $((built - start)) s, tests $((done_at - built)) s," \
  "leak detection $([[ $detect_leaks == 1 ]] && echo on || echo off); log: $build_dir/sanitize-ctest.log"
exit "$rc"
