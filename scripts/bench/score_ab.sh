#!/usr/bin/env bash
# Compares two builds of concours-score on the same files, runs interleaved (A, B, B, A, A, B, ...) so that the
# machine's drift (other jobs, the VM's memory) falls on both alike: prints, per case, each build's median wall
# and CPU time over ROUNDS runs and B's median relative to A's. Not a test: it prints figures. The files are
# those of scripts/bench/score.sh (run it once first, or it is run here to make them).
#
# Usage: scripts/bench/score_ab.sh OLD_SCORER NEW_SCORER
#        ROUNDS=5 CASES="multi:aligned:log_loss binary:shuffled:roc_auc" scripts/bench/score_ab.sh A B
# Environment: ROUNDS (default 3), ROWS (default 10000000), BENCH_DIR (default /tmp/concours-bench),
#              DIGITS (6, 17 or exp: the files of DIGITS=... scripts/bench/score.sh; default 6),
#              SPLIT (default 1; 0: the ground truth without its Usage column, as SPLIT=0 scripts/bench/score.sh),
#              CASES (kind:order:metric words; default: the 5-class and shuffled cases below),
#              AGREE (default 1: stop when the builds' outputs differ; 0: time builds whose values differ in
#              their last digits on purpose),
#              PAUSE (seconds to wait before each run, default 0: on a VM whose host takes back idle memory, a
#              pause of 8-10 s lets the memory go cold, so that each run pays for first-touching its arrays, as a
#              scorer started after a quiet spell does; without it, back-to-back runs reuse warm memory).
export LC_ALL=C # the decimal point of $EPOCHREALTIME and awk
set -euo pipefail
cd "$(dirname "$0")/../.."
[ $# -eq 2 ] && [ -x "$1" ] && [ -x "$2" ] || { echo "usage: $0 OLD_SCORER NEW_SCORER (two executables)" >&2; exit 2; }
A=$1
B=$2
ROUNDS=${ROUNDS:-3}
ROWS=${ROWS:-10000000}
DIGITS=${DIGITS:-6}
case "$DIGITS" in
  6) SUFFIX="" ;; 17) SUFFIX="_d17" ;; exp) SUFFIX="_exp" ;; *) echo "DIGITS is 6, 17 or exp" >&2; exit 2 ;;
esac
BENCH_DIR=${BENCH_DIR:-/tmp/concours-bench}
CASES=${CASES:-"multi:aligned:log_loss multi:aligned:roc_auc multi:aligned:cost_matrix multi:shuffled:log_loss
multi:shuffled:roc_auc multi:shuffled:cost_matrix binary:shuffled:log_loss binary:shuffled:roc_auc"}
COST_PARAMS='{"labels":["0","1","2","3","4"],"matrix":[[0,0.25,0.5,0.75,1],[0.25,0,0.25,0.5,0.75],[0.5,0.25,0,0.25,0.5],[0.75,0.5,0.25,0,0.25],[1,0.75,0.5,0.25,0]]}'
[ -x /usr/bin/time ] || { echo "needs /usr/bin/time (Debian package: time)" >&2; exit 2; }

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

case "${PAUSE:-0}" in ''|*[!0-9]*) echo "PAUSE is a whole number of seconds (got '$PAUSE')" >&2; exit 2 ;; esac
echo "pause before each run: ${PAUSE:-0} s"
# shellcheck source=scripts/bench/machine.sh
. scripts/bench/machine.sh
machine_line
echo "A = $A; B = $B; $ROUNDS rounds; DIGITS=$DIGITS; SPLIT=${SPLIT:-1}"
printf "%-6s %-9s %-11s | %8s %8s | %8s %8s | %8s\n" kind order metric A_wall A_cpu B_wall B_cpu B/A_wall
for c in $CASES; do
  IFS=: read -r kind order metric <<< "$c"
  truth="$BENCH_DIR/${kind}_${ROWS}_truth.csv"
  pred="$BENCH_DIR/${kind}_${ROWS}_pred${SUFFIX}.csv"
  [ "$order" = shuffled ] && pred="$BENCH_DIR/${kind}_${ROWS}_pred_shuffled${SUFFIX}.csv"
  if [ ! -s "$pred" ]; then
    SIZES=$ROWS KINDS=$kind ORDERS=$order METRICS=roc_auc BASELINE=0 REPEAT=1 DIGITS=$DIGITS scripts/bench/score.sh \
      > /dev/null
  fi
  if [ "${SPLIT:-1}" = 0 ]; then
    [ -s "${truth%.csv}_nosplit.csv" ] || cut -d, -f1,2 "$truth" > "${truth%.csv}_nosplit.csv"
    truth="${truth%.csv}_nosplit.csv"
  fi
  params=()
  [ "$metric" = cost_matrix ] && params=(--params "$COST_PARAMS")
  cat "$truth" "$pred" > /dev/null
  : > "$BENCH_DIR/ab_a"; : > "$BENCH_DIR/ab_b"
  for round in $(seq "$ROUNDS"); do
    turns="a b"; [ $((round % 2)) = 0 ] && turns="b a" # which runs second is slower more often than not
    for who in $turns; do
      bin=$A; [ $who = b ] && bin=$B
      [ "${PAUSE:-0}" = 0 ] || sleep "$PAUSE"
      # wall from the shell's microsecond clock: /usr/bin/time's %e has 10 ms steps, 0.00 for small files
      t0=$EPOCHREALTIME
      /usr/bin/time -f "%U %S" -o "$BENCH_DIR/ab_time" "$bin" --truth "$truth" --pred "$pred" --metric "$metric" \
        "${params[@]}" > "$BENCH_DIR/ab_out_$who" || { echo "$bin failed on $c" >&2; exit 1; }
      t1=$EPOCHREALTIME
      awk -v t0="$t0" -v t1="$t1" '{ printf "%.6f %.2f\n", t1 - t0, $1 + $2 }' "$BENCH_DIR/ab_time" \
        >> "$BENCH_DIR/ab_$who"
    done
    [ "${AGREE:-1}" = 0 ] || cmp -s "$BENCH_DIR/ab_out_a" "$BENCH_DIR/ab_out_b" || { echo "the two builds disagree on $c:" >&2;
      cat "$BENCH_DIR/ab_out_a" "$BENCH_DIR/ab_out_b" >&2; exit 1; }
  done
  aw=$(cut -d' ' -f1 "$BENCH_DIR/ab_a" | median); ac=$(cut -d' ' -f2 "$BENCH_DIR/ab_a" | median)
  bw=$(cut -d' ' -f1 "$BENCH_DIR/ab_b" | median); bc=$(cut -d' ' -f2 "$BENCH_DIR/ab_b" | median)
  printf "%-6s %-9s %-11s | %8.3f %8.2f | %8.3f %8.2f | %7.2fx\n" "$kind" "$order" "$metric" "$aw" "$ac" "$bw" "$bc" \
    "$(awk -v a="$aw" -v b="$bw" 'BEGIN { print (a > 0) ? b / a : 1 }')"
done
