#!/usr/bin/env bash
# Benchmarks concours-score against the usual Python scoring script (pandas read_csv + merge + scikit-learn,
# scripts/bench/score_baseline.py) on seeded synthetic files: 1M and 10M rows, binary (roc_auc, log_loss) and
# 5-class (roc_auc, log_loss, cost_matrix), with the prediction rows in the ground truth's order ("aligned")
# and shuffled (the hash join). Prints, per case, wall and CPU (user + system) time, peak memory
# (/usr/bin/time -v's maximum resident set size, mapped input files included), peak memory relative to the
# input size, the speed ratios against the baseline (wall and CPU), and for shuffled rows the wall time
# relative to the aligned case of the same kind, size and metric. Not a test: it prints figures. On a
# shared machine, wall times depend on the other jobs; CPU times much less.
#
# Usage: scripts/bench/score.sh            (all cases; about 15 minutes, most of it in the baseline)
#        SIZES="1000000" KINDS="binary" METRICS="roc_auc" ORDERS="shuffled" scripts/bench/score.sh
#        BASELINE=0 scripts/bench/score.sh   (concours-score only)
#        REPEAT=5 scripts/bench/score.sh     (concours-score's best of 5 runs; default 3; the baseline runs once)
#        DIGITS=17 scripts/bench/score.sh   (probabilities with 17 significant digits, as pandas writes them;
#                                            default 6 decimals)
#        DIGITS=exp scripts/bench/score.sh  (17 digits over many decades, as a confident model's softmax gives:
#                                            half the rows have a value written with an exponent, 5.6e-05)
#        SPLIT=0 scripts/bench/score.sh      (a ground truth without its Usage column: the value over all rows
#                                            only, as a file made without a public/private split)
# Environment: BUILD_DIR (default build), BENCH_DIR (default /tmp/concours-bench, files are reused),
#              PYTHON (default /usr/bin/python3, which has Debian's pandas and scikit-learn).
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD_DIR=${BUILD_DIR:-build}
BENCH_DIR=${BENCH_DIR:-/tmp/concours-bench}
PYTHON=${PYTHON:-/usr/bin/python3}
SIZES=${SIZES:-"1000000 10000000"}
KINDS=${KINDS:-"binary multi"}
METRICS=${METRICS:-"roc_auc log_loss cost_matrix"}
ORDERS=${ORDERS:-"aligned shuffled"}
# TissueNet-like costs for the 5-class files: errors cost their distance between grades
COST_PARAMS='{"labels":["0","1","2","3","4"],"matrix":[[0,0.25,0.5,0.75,1],[0.25,0,0.25,0.5,0.75],[0.5,0.25,0,0.25,0.5],[0.75,0.5,0.25,0,0.25],[1,0.75,0.5,0.25,0]]}'
BASELINE=${BASELINE:-1}
REPEAT=${REPEAT:-3}
DIGITS=${DIGITS:-6}
SPLIT=${SPLIT:-1}
case "$SPLIT" in 0|1) ;; *) echo "SPLIT is 0 or 1" >&2; exit 2 ;; esac
case "$DIGITS" in
  6) SUFFIX="" ;; 17) SUFFIX="_d17" ;; exp) SUFFIX="_exp" ;; *) echo "DIGITS is 6, 17 or exp" >&2; exit 2 ;;
esac
SCORER="$BUILD_DIR/concours-score"

[ -x "$SCORER" ] || { echo "build first: scripts/build.sh (missing $SCORER)" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "needs /usr/bin/time (Debian package: time)" >&2; exit 2; }
mkdir -p "$BENCH_DIR"
cc -O2 -o "$BENCH_DIR/score_gen" scripts/bench/score_gen.c -lm

# run LABEL CMD...: runs CMD under /usr/bin/time -v, prints "wall cpu peak_mb" (MiB, to a tenth: the ratio to the
# input is taken from it), keeps stdout in $BENCH_DIR/out
measure() {
  /usr/bin/time -v -o "$BENCH_DIR/time.txt" "$@" > "$BENCH_DIR/out" 2> "$BENCH_DIR/err" || {
    echo "command failed: $*" >&2; cat "$BENCH_DIR/err" "$BENCH_DIR/out" >&2; exit 1; }
  awk -F': ' '
    /Elapsed \(wall clock\)/ { n = split($2, t, ":"); w = 0; for (i = 1; i <= n; i++) w = w * 60 + t[i] }
    /User time/ { u = $2 } /System time/ { s = $2 } /Maximum resident/ { m = $2 }
    END { printf "%.2f %.2f %.1f\n", w, u + s, m / 1024 }' "$BENCH_DIR/time.txt"
}

# shellcheck source=scripts/bench/machine.sh
. scripts/bench/machine.sh
machine_line
echo "values: $([ "$DIGITS" = 6 ] && echo "six decimals" || echo "DIGITS=$DIGITS"); ground truth: $([ "$SPLIT" = 1 ] && echo "with its Usage (split) column" || echo "without a split column (SPLIT=0)")"
printf "%-6s %-9s %-11s %-8s %8s | %8s %7s %8s %7s | %10s %7s %8s | %8s %8s | %8s\n" kind rows metric order input_MB \
  score_s cpu_s peak_MB peak/in baseline_s cpu_s peak_MB wall_x cpu_x vs_aligned
declare -A ALIGNED_WALL
for kind in $KINDS; do
  for n in $SIZES; do
    for order in $ORDERS; do
      truth="$BENCH_DIR/${kind}_${n}_truth.csv"
      pred="$BENCH_DIR/${kind}_${n}_pred${SUFFIX}.csv"
      [ "$order" = shuffled ] && pred="$BENCH_DIR/${kind}_${n}_pred_shuffled${SUFFIX}.csv"
      if [ ! -s "$pred" ]; then
        "$BENCH_DIR/score_gen" "$kind" "$n" 42 "$truth" "$pred" "$([ "$order" = shuffled ] && echo shuffle || echo inorder)" \
          $(case "$DIGITS" in 17) echo full ;; exp) echo exp ;; esac)
      fi
      if [ "$SPLIT" = 0 ]; then # the ids hold no comma: the first two fields are the id and the label
        [ -s "${truth%.csv}_nosplit.csv" ] || cut -d, -f1,2 "$truth" > "${truth%.csv}_nosplit.csv"
        truth="${truth%.csv}_nosplit.csv"
      fi
      cat "$truth" "$pred" > /dev/null # page cache, as for the server's stored files
      in_bytes=$(( $(stat -c %s "$truth") + $(stat -c %s "$pred") ))
      in_mb=$(( in_bytes / 1048576 ))
      for metric in $METRICS; do
        params=()
        if [ "$metric" = cost_matrix ]; then
          [ "$kind" = multi ] || continue # a cost matrix needs classes
          params=("$COST_PARAMS")
        fi
        sw=""
        for _ in $(seq "$REPEAT"); do # best of REPEAT: other jobs on the machine only ever slow a run down
          read -r w c m < <(measure "$SCORER" --truth "$truth" --pred "$pred" --metric "$metric" \
                              ${params[0]:+--params "${params[0]}"})
          if [ -z "$sw" ] || awk -v a="$w" -v b="$sw" 'BEGIN { exit !(a < b) }'; then sw=$w; sc=$c; sm=$m; fi
        done
        ours=$(cat "$BENCH_DIR/out")
        bw="-"; bc="-"; bm="-"; ratio="-"; cratio="-"
        if [ "$BASELINE" = 1 ]; then
          read -r bw bc bm < <(measure "$PYTHON" scripts/bench/score_baseline.py "$truth" "$pred" "$metric" "${params[@]}")
          theirs=$(cat "$BENCH_DIR/out")
          ratio=$(awk -v a="$bw" -v b="$sw" 'BEGIN { printf "%.0fx", a / (b > 0 ? b : 0.01) }')
          cratio=$(awk -v a="$bc" -v b="$sc" 'BEGIN { printf "%.0fx", a / (b > 0 ? b : 0.01) }')
          # both must agree on the score
          "$PYTHON" - "$ours" "$theirs" <<'PY'
import json, sys
a, b = json.loads(sys.argv[1]), json.loads(sys.argv[2])
for k in ("score", "public", "private"):
    if k not in b:
        continue
    if abs(a[k] - b[k]) > 1e-9 * max(1, abs(b[k])):
        sys.exit(f"MISMATCH {k}: concours {a[k]} baseline {b[k]}")
PY
        fi
        ratio_mem=$(awk -v m="$sm" -v i="$in_bytes" 'BEGIN { printf "%.2f", m * 1048576 / i }')
        vs="-"
        if [ "$order" = aligned ]; then
          ALIGNED_WALL["$kind $n $metric"]=$sw
        elif [ -n "${ALIGNED_WALL["$kind $n $metric"]:-}" ]; then
          vs=$(awk -v a="$sw" -v b="${ALIGNED_WALL["$kind $n $metric"]}" 'BEGIN { printf "%.2fx", a / (b > 0 ? b : 0.01) }')
        fi
        printf "%-6s %-9s %-11s %-8s %8s | %8s %7s %8s %7s | %10s %7s %8s | %8s %8s | %8s\n" "$kind" "$n" "$metric" \
          "$order" "$in_mb" "$sw" "$sc" "$sm" "$ratio_mem" "$bw" "$bc" "$bm" "$ratio" "$cratio" "$vs"
      done
    done
  done
done
