#!/usr/bin/env bash
# Builds the libFuzzer targets with clang, AddressSanitizer and UBSan (into BUILD/fuzz) and runs the request-path
# target, seeded with tests/fuzz/corpus: RUNS inputs with a fixed seed (default 500000; the same inputs every time
# for a given build, so CI is deterministic), or SECONDS with a random seed when given as "300s" (for long runs by
# hand). New inputs go to a temporary folder (copy the interesting ones into the corpus); a crash, a leak or a
# sanitizer report fails, and its input is kept in BUILD/fuzz/crashes/.
#   scripts/fuzz/run.sh BUILD_DIR [RUNS | SECONDSs]
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:?usage: scripts/fuzz/run.sh BUILD_DIR [SECONDS]}/fuzz
budget=${2:-500000}
case "$budget" in
  *s) limit=(-max_total_time="${budget%s}"); what="${budget%s} s" ;;
  *) limit=(-runs="$budget" -seed=1); what="$budget runs (seed 1)" ;;
esac
if ! command -v clang >/dev/null; then
  echo "clang is missing (scripts/install-deps.sh installs clang and libclang-rt-14-dev)"
  echo "0 passed, 1 failed"
  exit 1
fi
if ! CC=clang cmake -S . -B "$out" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCONCOURS_FUZZ=ON >"$out.log" 2>&1 ||
   ! cmake --build "$out" -j "$(nproc)" --target fuzz_request >>"$out.log" 2>&1; then
  grep -E "error" "$out.log" | head -20
  echo "0 passed, 1 failed"
  exit 1
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$out/crashes"
if "$out/fuzz_request" "$work" tests/fuzz/corpus "${limit[@]}" -timeout=10 \
     -rss_limit_mb=2048 -max_len=65536 -artifact_prefix="$out/crashes/" -print_final_stats=1 >"$out/run.log" 2>&1; then
  grep -E "stat::number_of_executed_runs|stat::new_units_added" "$out/run.log" || true
  echo "fuzz_request: no crash in $what"
  echo "1 passed, 0 failed"
else
  tail -40 "$out/run.log"
  echo "fuzz_request: a crash or sanitizer report (input in $out/crashes/)"
  echo "0 passed, 1 failed"
  exit 1
fi
