#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz/ with clang 14 into build-fuzz/ and runs each one for
# a fixed time on the committed corpus (read-only) plus a scratch corpus.
#
#   scripts/fuzz.sh                         # CI run: 20 s per target
#   scripts/fuzz.sh --seconds 600           # the longer run (see tests/fuzz/README.md)
#   scripts/fuzz.sh --seconds 60 fuzz_query # some targets only
#   scripts/fuzz.sh --build-only
#   scripts/fuzz.sh --runs 100000            # deterministic (fixed seed, fixed count): what CI runs
#
# Prints one line per target (executions, result) and a closing "N passed, N failed"; exits
# non-zero when any target crashed, leaked, timed out or broke one of its invariants. Crashing
# inputs land in build-fuzz/artifacts/<target>/; new coverage in build-fuzz/scratch/<target>/
# (copy the interesting ones into tests/fuzz/corpus/<name>/ to keep them).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
build_dir=$root/build-fuzz
seconds=20
build_only=0
runs=0
targets=()
while (($#)); do
  case "$1" in
    --seconds) seconds=$2; shift 2 ;;
    --seconds=*) seconds=${1#*=}; shift ;;
    --build-only) build_only=1; shift ;;
    --runs) runs=$2; shift 2 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    -*) echo "fuzz.sh: unknown option $1" >&2; exit 2 ;;
    *) targets+=("$1"); shift ;;
  esac
done

# clang 14 and its runtime libraries (libFuzzer, sanitizers): installed only when missing.
if ! command -v clang++-14 >/dev/null ||
   ! compgen -G "/usr/lib/llvm-14/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a" >/dev/null; then
  echo "fuzz.sh: installing clang-14 and libclang-rt-14-dev" >&2
  sudo_cmd=(); if ((EUID != 0)); then sudo_cmd=(sudo); fi
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq clang-14 libclang-rt-14-dev
fi

generator=()
if [[ ! -f $build_dir/CMakeCache.txt ]] && command -v ninja >/dev/null; then generator=(-G Ninja); fi
CC=clang-14 CXX=clang++-14 cmake -S tests/fuzz -B "$build_dir" "${generator[@]}" >/dev/null
cmake --build "$build_dir" -j"${ZC_JOBS:-2}" >/dev/null
((build_only)) && { echo "fuzz.sh: built $(wc -l <"$build_dir/targets.txt") targets in $build_dir"; exit 0; }

if ((${#targets[@]} == 0)); then mapfile -t targets <"$build_dir/targets.txt"; fi

# Longest input per target: a few engine frames or pieces for the stream parsers, short strings
# for the scalar ones.
max_len_of() {
  case "$1" in
    fuzz_frame_decoder|fuzz_line_assembler|fuzz_raw_stream_splitter) echo 32768 ;;
    fuzz_http_response|fuzz_log_stream) echo 16384 ;;
    fuzz_http_request) echo 4096 ;;
    fuzz_query) echo 1024 ;;
    fuzz_json_file_decoder) echo 4096 ;;
    fuzz_log_cursor) echo 512 ;;
    *) echo 128 ;;
  esac
}

passed=0 failed=0
for t in "${targets[@]}"; do
  name=${t#fuzz_}
  bin=$build_dir/$t
  corpus=$root/tests/fuzz/corpus/$name
  scratch=$build_dir/scratch/$name
  artifacts=$build_dir/artifacts/$name
  log=$build_dir/logs/$name.log
  mkdir -p "$scratch" "$artifacts" "$(dirname "$log")"
  if [[ ! -x $bin ]]; then
    echo "$t: FAIL (not built)"; failed=$((failed + 1)); continue
  fi
  args=(-max_total_time="$seconds" -max_len="$(max_len_of "$t")" -timeout=10 -rss_limit_mb=2048
        -print_final_stats=1 -artifact_prefix="$artifacts/")
  if ((runs > 0)); then args+=(-runs="$runs" -seed=1); fi
  dict=$root/tests/fuzz/dict/$name.dict
  [[ -f $dict ]] && args+=(-dict="$dict")
  # New inputs go to the first directory (scratch); the committed corpus is only read.
  set +e
  "$bin" "${args[@]}" "$scratch" "$corpus" >"$log" 2>&1
  rc=$?
  set -e
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
  if [[ -z $execs ]]; then execs=$(grep -o '^#[0-9]*' "$log" | tail -1 | tr -d '#'); fi
  if ((rc == 0)); then
    echo "$t: ok, ${execs:-0} execs"
    passed=$((passed + 1))
  else
    why=$(grep -m1 -oE 'FUZZ_CHECK failed.*|ERROR: [A-Za-z]+: [^(]*|runtime error: .*' "$log" || true)
    crash=$(grep -m1 -o "Test unit written to [^ ]*" "$log" | sed 's/Test unit written to //' || true)
    echo "$t: FAIL after ${execs:-0} execs: ${why:-exit $rc}; input: ${crash:-none}; log: $log"
    failed=$((failed + 1))
  fi
done
echo "$passed passed, $failed failed"
((failed == 0))
