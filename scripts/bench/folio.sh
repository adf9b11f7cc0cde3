#!/usr/bin/env bash
# What the way a file was written costs the scorer that reads it: the same ground truth and prediction files,
# written once 256 KiB at a time (as concours stored uploads and copied bundles before, and as most tools write)
# and once by whole aligned 2 MiB (as concours writes them now: server/store.h, STORE_WRITE_UNIT), each scored
# REPEAT times, interleaved. Linux 6.x on ext4 or xfs sizes a file's page-cache pages by the writes that made them;
# pages of 2 MiB are mapped by one fault and one TLB entry instead of 512, which counts most on a VM whose guest page
# faults are costly. Prints each form's best and median wall and CPU time and the ratio of the 2 MiB form to the
# other. Not a test: it prints figures.
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
case "$ORDER" in aligned) suffix="" ;; shuffled) suffix="_shuffled" ;; *) echo "ORDER is aligned or shuffled" >&2; exit 2 ;; esac
mkdir -p "$BENCH_DIR/folio"
truth="$BENCH_DIR/${KIND}_${N}_truth.csv"
pred="$BENCH_DIR/${KIND}_${N}_pred${suffix}.csv"
if [ ! -s "$pred" ] || [ ! -s "$truth" ]; then
  cc -O2 -o "$BENCH_DIR/score_gen" scripts/bench/score_gen.c
  "$BENCH_DIR/score_gen" "$KIND" "$N" 42 "$truth" "$pred" "$([ "$ORDER" = shuffled ] && echo shuffle || echo inorder)"
fi

# the copies: written anew each run, so that their pages are the writes' own
for form in small unit; do
  bs=$([ "$form" = small ] && echo 256K || echo 2M)
  for f in "$truth" "$pred"; do
    out="$BENCH_DIR/folio/$form-$(basename "$f")"
    rm -f "$out"
    dd if="$f" of="$out" bs="$bs" status=none
  done
done

# run FORM: one scoring of FORM's copies, prints "wall cpu"
run() {
  /usr/bin/time -f "%e %U %S" -o "$BENCH_DIR/folio/time.txt" "$SCORER" --truth "$BENCH_DIR/folio/$1-$(basename "$truth")" \
    --pred "$BENCH_DIR/folio/$1-$(basename "$pred")" --metric "$METRIC" > "$BENCH_DIR/folio/out.$1"
  awk '{ printf "%.2f %.2f\n", $1, $2 + $3 }' "$BENCH_DIR/folio/time.txt"
}

declare -A WALL CPU
for _ in $(seq "$REPEAT"); do
  for form in small unit; do
    read -r w c < <(run "$form")
    WALL[$form]="${WALL[$form]:-} $w"
    CPU[$form]="${CPU[$form]:-} $c"
  done
done
cmp -s "$BENCH_DIR/folio/out.small" "$BENCH_DIR/folio/out.unit" || { echo "the two forms scored differently" >&2; exit 1; }

# stats LIST: "best median"
stats() { tr ' ' '\n' <<< "$1" | grep . | sort -g | awk '{ v[NR] = $1 } END { printf "%.2f %.2f\n", v[1], v[int((NR + 1) / 2)] }'; }
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); $KIND, $N rows, $METRIC, $ORDER, $REPEAT runs each"
printf "%-28s %8s %8s %8s %8s\n" "files written" best_s median_s best_cpu med_cpu
for form in small unit; do
  read -r wb wm < <(stats "${WALL[$form]}")
  read -r cb cm < <(stats "${CPU[$form]}")
  printf "%-28s %8s %8s %8s %8s\n" "$([ "$form" = small ] && echo "256 KiB at a time" || echo "by aligned 2 MiB")" "$wb" "$wm" "$cb" "$cm"
  eval "${form}_wm=$wm ${form}_cm=$cm"
done
awk -v a="$unit_wm" -v b="$small_wm" -v c="$unit_cm" -v d="$small_cm" \
  'BEGIN { printf "2 MiB writes against 256 KiB: median wall %.2fx, median CPU %.2fx\n", a / b, c / d }'
rm -f "$BENCH_DIR"/folio/small-* "$BENCH_DIR"/folio/unit-*
