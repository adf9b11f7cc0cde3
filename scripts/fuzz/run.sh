#!/usr/bin/env bash
# Builds the libFuzzer targets with clang, AddressSanitizer and UBSan (into BUILD/fuzz) and runs one of them, seeded
# with its committed corpus: RUNS inputs with a fixed seed (default 500000; the same inputs every time for a given
# build, so CI is deterministic), or SECONDS with a random seed when given as "300s" (for long runs by hand). New
# inputs go to a temporary folder (copy the interesting ones into the corpus); a crash, a leak, a sanitizer report
# (UBSan's included: halt_on_error) or, for fuzz_score, two answers that differ fails, and its input is kept in
# BUILD/fuzz/crashes/.
#   scripts/fuzz/run.sh BUILD_DIR [RUNS | SECONDSs] [TARGET]
# TARGET: fuzz_request (default; the request path, corpus tests/fuzz/corpus) or fuzz_score (the scorer, differential,
# corpus tests/fuzz/corpus_score).
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:?usage: scripts/fuzz/run.sh BUILD_DIR [RUNS | SECONDSs] [TARGET]}/fuzz
budget=${2:-500000}
target=${3:-fuzz_request}
case "$target" in
  fuzz_request) corpus=tests/fuzz/corpus ;;
  fuzz_score) corpus=tests/fuzz/corpus_score ;;
  *) echo "unknown target $target (fuzz_request or fuzz_score)"; echo "0 passed, 1 failed"; exit 1 ;;
esac
case "$budget" in
  *s) limit=(-max_total_time="${budget%s}"); what="${budget%s} s" ;;
  *) limit=(-runs="$budget" -seed=1); what="$budget runs (seed 1)" ;;
esac
if ! command -v clang >/dev/null; then
  echo "clang is missing (scripts/install-deps.sh installs clang and libclang-rt-14-dev)"
  echo "0 passed, 1 failed"
  exit 1
fi
# both targets' tests may run at once (ctest -j): one build at a time in the shared folder
mkdir -p "$out"
exec 9>"$out.lock"
flock 9
if ! CC=clang cmake -S . -B "$out" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCONCOURS_FUZZ=ON >"$out.$target.log" 2>&1 ||
   ! cmake --build "$out" -j "$(nproc)" --target "$target" >>"$out.$target.log" 2>&1; then
  grep -E "error" "$out.$target.log" | head -20
  echo "0 passed, 1 failed"
  exit 1
fi
flock -u 9
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$out/crashes"
if UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 "$out/$target" "$work" "$corpus" "${limit[@]}" -timeout=30 \
     -rss_limit_mb=2048 -max_len=65536 -artifact_prefix="$out/crashes/$target-" -print_final_stats=1 \
     >"$out/$target.run.log" 2>&1; then
  grep -E "stat::number_of_executed_runs|stat::new_units_added" "$out/$target.run.log" || true
  echo "$target: no crash in $what"
  echo "1 passed, 0 failed"
else
  tail -40 "$out/$target.run.log"
  echo "$target: a crash, a sanitizer report or a difference (input in $out/crashes/)"
  echo "0 passed, 1 failed"
  exit 1
fi
