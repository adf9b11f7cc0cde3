#!/usr/bin/env bash
# What the way a file is cached costs the scorer that reads it. The same ground truth and prediction files, scored
# REPEAT times each way, interleaved:
#   small  written 256 KiB at a time before each run (as most tools write, and concours its uploads), which the page
#          cache then holds in small pages, scored with CONCOURS_SCORE_RECACHE=0: what every run paid before
#          recache() (scorer/arc.c);
#   first  the same, scored as is: the run that finds them so measures the disk and drops them once read;
#   second the same, written again and scored once before each run: the run after that first one, which reads them
#          from the disk into 2 MiB pages;
#   unit   written by whole aligned 2 MiB (as concours copies bundle files: server/store.h), held in 2 MiB pages:
#          what the runs after those two see.
# A page of a file mapped costs a fault on its first read in a process: one per 4 KiB, or one per 2 MiB, which
# counts most on a VM whose guest page faults are costly (docs/scorer.md). Prints each form's best and median wall
# and CPU time, and the ratios of the medians to the small form's. Not a test: it prints figures.
#
# Usage: scripts/bench/folio.sh
#        KIND=binary N=1000000 METRIC=log_loss ORDER=aligned REPEAT=7 scripts/bench/folio.sh
# Environment: BUILD_DIR (default build), BENCH_DIR (default /tmp/concours-bench; the source files are reused).
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD_DIR=${BUILD_DIR:-build}
BENCH_DIR=${BENCH_DIR:-/tmp/concours-bench}
KIND=${KIND:-multi}
N=${N:-10000000}
METRIC=${METRIC:-roc_auc}
ORDER=${ORDER:-shuffled}
REPEAT=${REPEAT:-5}
SCORER="$BUILD_DIR/concours-score"

[ -x "$SCORER" ] || { echo "build first: scripts/build.sh (missing $SCORER)" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "needs /usr/bin/time (Debian package: time)" >&2; exit 2; }
case "$ORDER" in
  aligned) suffix="" ;;
  shuffled) suffix="_shuffled" ;;
  *) echo "ORDER is aligned or shuffled" >&2; exit 2 ;;
esac
mkdir -p "$BENCH_DIR/folio"
truth="$BENCH_DIR/${KIND}_${N}_truth.csv"
pred="$BENCH_DIR/${KIND}_${N}_pred${suffix}.csv"
if [ ! -s "$pred" ] || [ ! -s "$truth" ]; then
  cc -O2 -o "$BENCH_DIR/score_gen" scripts/bench/score_gen.c
  "$BENCH_DIR/score_gen" "$KIND" "$N" 42 "$truth" "$pred" "$([ "$ORDER" = shuffled ] && echo shuffle || echo inorder)"
fi

# write FORM: FORM's copies of the two files, written anew (rm first: their pages are the writes' own)
write() {
  local f out bs
  bs=$([ "$1" = unit ] && echo 2M || echo 256K)
  for f in "$truth" "$pred"; do
    out="$BENCH_DIR/folio/$1-$(basename "$f")"
    rm -f "$out"
    dd if="$f" of="$out" bs="$bs" status=none
  done
  sync
}

# score FORM [TIME]: one scoring of FORM's copies, under /usr/bin/time when TIME is given
score() {
  env $([ "$1" = small ] && echo CONCOURS_SCORE_RECACHE=0) \
    ${2:+/usr/bin/time -f "%e %U %S" -o "$BENCH_DIR/folio/time.txt"} "$SCORER" --truth "$BENCH_DIR/folio/$1-$(basename "$truth")" --pred "$BENCH_DIR/folio/$1-$(basename "$pred")" \
    --metric "$METRIC" > "$BENCH_DIR/folio/out.$1"
}

# run FORM: one timed scoring of FORM's copies (after what the form needs first), prints "wall cpu"
run() {
  case "$1" in small | first) write "$1" ;; second) write second; score second ;; esac
  score "$1" time
  awk '{ printf "%.2f %.2f\n", $1, $2 + $3 }' "$BENCH_DIR/folio/time.txt"
}

FORMS="small first second unit"
write unit
declare -A WALL CPU
for _ in $(seq "$REPEAT"); do
  for form in $FORMS; do
    read -r w c < <(run "$form")
    WALL[$form]="${WALL[$form]:-} $w"
    CPU[$form]="${CPU[$form]:-} $c"
  done
done
for form in first second unit; do
  cmp -s "$BENCH_DIR/folio/out.small" "$BENCH_DIR/folio/out.$form" ||
    { echo "the $form form scored differently" >&2; exit 1; }
done

# stats LIST: "best median"
stats() {
  tr ' ' '\n' <<< "$1" | grep . | sort -g |
    awk '{ v[NR] = $1 } END { printf "%.2f %.2f\n", v[1], v[int((NR + 1) / 2)] }'
}
# shellcheck source=scripts/bench/machine.sh
. scripts/bench/machine.sh
machine_line
echo "$KIND, $N rows, $METRIC, $ORDER, $REPEAT runs each"
printf "%-44s %7s %8s %8s %8s %7s %7s\n" "files" best_s median_s best_cpu med_cpu wall_x cpu_x
declare -A LABEL=([small]="in small pages, kept so (RECACHE=0)" [first]="in small pages, a first run (then dropped)"
                  [second]="dropped by a first run: read from the disk" [unit]="in 2 MiB pages (written so, or later)")
read -r _ small_wm < <(stats "${WALL[small]}")
read -r _ small_cm < <(stats "${CPU[small]}")
for form in $FORMS; do
  read -r wb wm < <(stats "${WALL[$form]}")
  read -r cb cm < <(stats "${CPU[$form]}")
  printf "%-44s %7s %8s %8s %8s %7s %7s\n" "${LABEL[$form]}" "$wb" "$wm" "$cb" "$cm" \
    "$(awk -v a="$wm" -v b="$small_wm" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "n/a" }')" \
    "$(awk -v a="$cm" -v b="$small_cm" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "n/a" }')"
done
rm -f "$BENCH_DIR"/folio/small-* "$BENCH_DIR"/folio/first-* "$BENCH_DIR"/folio/second-* "$BENCH_DIR"/folio/unit-*
