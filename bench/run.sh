#!/usr/bin/env bash
# Runs every benchmark and prints one table: each figure next to its baseline, measured side by
# side in the same run, and the ratio. Writes the table, with the machine it ran on, to a
# Markdown file.
#
#   bench/run.sh                 the full run (about 15 minutes on 2 cores); writes bench/RESULTS.md
#   bench/run.sh --smoke         tiny N, a minute or two; writes <build>/bench-smoke/RESULTS.md
#                                (.ci/run runs this through ctest, test "bench_smoke")
#
# Options: --out FILE (where the Markdown goes), --build-dir DIR (default build), --no-build
# (use the binaries as they are), --only "ingest e2e query scrape fleet tls central search" (a subset, in
# that order), --soak-minutes N (length of the soak, default 60).
#
# The soak (bench_soak: RSS, threads and fds over an hour) is not in the default list of the
# full run, which it would make longer than an hour: run it with `bench/run.sh --only soak`.
# The smoke run includes its 40-second smoke.
#
# Installs what it needs (scripts/install-deps.sh), builds, starts the Docker engine when none
# answers (and stops it again at the end), builds the test image. The full run refuses to start
# while other zynd-* containers exist: the collector under test would follow them too.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

smoke=0
out=""
build_dir=build
do_build=1
only="ingest e2e query scrape fleet tls central search"
only_given=0
soak_minutes=60
while (($#)); do
  case "$1" in
    --smoke) smoke=1 ;;
    --out) out=$2; shift ;;
    --build-dir) build_dir=$2; shift ;;
    --no-build) do_build=0 ;;
    --only) only=$2; only_given=1; shift ;;
    --soak-minutes) soak_minutes=$2; shift ;;
    *) echo "usage: bench/run.sh [--smoke] [--out FILE] [--build-dir DIR] [--no-build] [--only LIST] [--soak-minutes N]" >&2
       exit 2 ;;
  esac
  shift
done
build_dir=$(cd "$root" && mkdir -p "$build_dir" && cd "$build_dir" && pwd)
if ((smoke && !only_given)); then only="$only soak"; fi
if [[ -z "$out" ]]; then
  if ((smoke)); then out=$build_dir/bench-smoke/RESULTS.md; else out=$root/bench/RESULTS.md; fi
fi
mkdir -p "$(dirname "$out")"

if ((do_build)); then
  scripts/install-deps.sh --test
  ZC_BUILD_DIR=$build_dir scripts/build.sh
fi

engine_was_up=0
if curl -fsS --max-time 3 --unix-socket /var/run/docker.sock http://docker/_ping >/dev/null 2>&1; then
  engine_was_up=1
fi
work=$(mktemp -d)
cleanup() {
  rm -rf "$work"
  if ((!engine_was_up)); then scripts/stop-dockerd.sh || true; fi
}
trap cleanup EXIT
if ((!engine_was_up)); then
  scripts/start-dockerd.sh || { echo "bench/run.sh: could not start the Docker engine" >&2; exit 1; }
fi
docker image inspect zynd-test-busybox:latest >/dev/null 2>&1 || scripts/build-test-image.sh

others=$(docker ps -aq --filter 'name=^/zynd-' | wc -l)
if ((others > 0)); then
  if ((smoke)); then
    echo "bench/run.sh: note: $others other zynd-* containers exist; smoke figures include them" >&2
  else
    echo "bench/run.sh: $others zynd-* containers exist (docker ps -a --filter name=zynd-);" \
      "remove them first: the collector under test would follow them too" >&2
    exit 1
  fi
fi

rows=$work/rows.tsv
: >"$rows"
failed=()
started=$(date -u +%Y-%m-%dT%H:%M:%SZ)
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
t_all=$SECONDS
for name in $only; do
  bin=$build_dir/bin/bench_$name
  if [[ ! -x "$bin" ]]; then
    echo "bench/run.sh: $bin is missing (build the project first)" >&2
    failed+=("$name (missing)")
    continue
  fi
  echo "== bench_$name"
  args=(--report "$rows")
  ((smoke)) && args+=(--smoke)
  [[ $name == soak ]] && ! ((smoke)) && args+=(--minutes "$soak_minutes")
  t0=$SECONDS
  if ! "$bin" "${args[@]}"; then failed+=("$name"); fi
  echo "   ($((SECONDS - t0)) s)"
done
elapsed=$((SECONDS - t_all))

# --- the Markdown report
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
mem=$(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)
os=$(. /etc/os-release && echo "$PRETTY_NAME")
engine=$(docker version --format '{{.Server.Version}}' 2>/dev/null || echo unknown)
compiler=$(c++ --version | head -1)
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
git diff --quiet HEAD 2>/dev/null || commit="$commit (with uncommitted changes)"
mode=$( ((smoke)) && echo "smoke (tiny N: figures mean nothing, this only proves the benchmarks run)" || echo full)
cmd="bench/run.sh$( ((smoke)) && echo ' --smoke' || true)"

{
  echo "# Benchmark results"
  echo
  echo "Written by \`$cmd\` in one run of $elapsed s (benchmarks: $only). Each figure is measured"
  echo "next to its baseline in the same run; ratio = zynd-collector / baseline, and the column"
  echo "*better* says which way is good. How each benchmark measures: [bench/README.md](README.md)."
  echo
  echo "| | |"
  echo "|---|---|"
  echo "| mode | $mode |"
  echo "| started | $started |"
  echo "| commit | $commit |"
  echo "| machine | $(nproc) cores ($cpu), $mem, $os, kernel $(uname -r) |"
  echo "| Docker engine | $engine |"
  echo "| compiler | $compiler, build type $(grep -m1 '^CMAKE_BUILD_TYPE' "$build_dir/CMakeCache.txt" | cut -d= -f2) |"
  echo "| load average at start | $load_before |"
  echo
  echo "| section | scenario | figure | zynd-collector | baseline | baseline value | ratio | better | note |"
  echo "|---|---|---|---:|---|---:|---:|---|---|"
  awk -F'\t' '
    function fmt(v, unit,   a) {
      a = v < 0 ? -v : v
      if (unit == "bytes" || unit == "lines/s" || a >= 1000 || v == int(v)) s = sprintf("%.0f", v)
      else if (a >= 100) s = sprintf("%.0f", v)
      else if (a >= 10) s = sprintf("%.1f", v)
      else if (a >= 0.1 || a == 0) s = sprintf("%.2f", v)
      else s = sprintf("%.3f", v)
      # thousands separators for integers
      if (s ~ /^-?[0-9]+$/ && a >= 10000) {
        n = s; out = ""
        while (length(n) > 3) { out = "," substr(n, length(n) - 2) out; n = substr(n, 1, length(n) - 3) }
        s = n out
      }
      return unit == "" ? s : s " " unit
    }
    $3 == "FAILED" { printf "| %s | %s | | **FAILED** | | | | | %s |\n", $1, $2, $10; next }
    { printf "| %s | %s | %s | %s | %s | %s | %.2f | %s | %s |\n", $1, $2, $3, fmt($5, $4), $6, fmt($7, $4), $8, $9, $10 }
  ' "$rows"
  echo
  if ((${#failed[@]})); then
    echo "Benchmarks that failed: ${failed[*]}."
  else
    echo "Every benchmark ran to the end."
  fi
} >"$out"

echo
cat "$out"
echo
echo "bench/run.sh: wrote $out"
((${#failed[@]} == 0))
