#!/usr/bin/env bash
# Runs the libFuzzer targets built in BUILD_DIR (a clang build with NFLUX_SANITIZE, which builds
# tests/fuzz): each for SECONDS, two at a time (the machine's two cores), or, with SECONDS 0, every
# seed once as a regression test. Fails on any crash, sanitizer report, leak, timeout (> 2 s for one
# input) or out-of-memory (> 2 GB); the input that did it is kept in BUILD_DIR/fuzz-artifacts/.
#   tests/fuzz/run.sh BUILD_DIR [SECONDS] [TARGET...]
# For long campaigns: NFLUX_FUZZ_CORPUS=DIR keeps each target's corpus in DIR/TARGET across runs
# (default: a temporary folder, removed at the end), and NFLUX_FUZZ_MAX_LEN=N caps an input's length
# (the rule and knowledge seeds are whole shipped files of up to 200 kB, and a mutation of one runs
# about ten times slower than of a 1 kB input; the corpus tests cover the huge inputs).
set -euo pipefail
build=$(cd "$1" && pwd)
seconds=${2:-60}
shift $(( $# >= 2 ? 2 : 1 ))
root=$(cd "$(dirname "$0")/../.." && pwd)
targets=${*:-case fhir rules knowledge units evaluate http}

work=$(mktemp -d "${TMPDIR:-/tmp}/nflux_fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT
python3 "$root/tests/fuzz/make_seeds.py" "$root" "$work/seeds"
artifacts=$build/fuzz-artifacts
mkdir -p "$artifacts"

declare -A dictionary=([case]=case [evaluate]=case [fhir]=fhir [http]=fhir [rules]=rules)

run_one() {
  local target=$1 bin=$build/tests/fuzz/nflux_fuzz_$1 log=$work/$1.log
  local args=(-timeout=2 -rss_limit_mb=2048 -malloc_limit_mb=2048 -artifact_prefix="$artifacts/$target-"
              -print_final_stats=1)
  [ -n "${dictionary[$target]:-}" ] && args+=(-dict="$root/tests/fuzz/dict/${dictionary[$target]}.dict")
  [ -n "${NFLUX_FUZZ_MAX_LEN:-}" ] && args+=(-max_len="$NFLUX_FUZZ_MAX_LEN")
  if [ "$seconds" = 0 ]; then
    # Each seed once: no fuzzing, no new inputs.
    "$bin" "${args[@]}" "$work/seeds/$target"/* >"$log" 2>&1 || { echo "FAIL fuzz $target (seeds)"; tail -30 "$log"; return 1; }
    echo "fuzz $target: $(ls "$work/seeds/$target" | wc -l) seeds, no failure"
    return 0
  fi
  local corpus=${NFLUX_FUZZ_CORPUS:-$work/corpus}/$target
  mkdir -p "$corpus"
  if ! "$bin" "${args[@]}" -max_total_time="$seconds" "$corpus" "$work/seeds/$target" >"$log" 2>&1; then
    echo "FAIL fuzz $target: the input is in $artifacts/"
    grep -E "ERROR|SUMMARY|invariant|timeout|out-of-memory|leak" "$log" | head -20
    return 1
  fi
  local runs
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  echo "fuzz $target: ${runs:-?} executions in ${seconds} s, 0 crashes, corpus $(ls "$corpus" | wc -l) inputs"
}

failed=0
running=0
for target in $targets; do
  run_one "$target" &
  running=$((running + 1))
  if [ "$running" -ge 2 ]; then
    wait -n || failed=1
    running=$((running - 1))
  fi
done
while [ "$running" -gt 0 ]; do
  wait -n || failed=1
  running=$((running - 1))
done
exit $failed
