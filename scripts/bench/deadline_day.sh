#!/usr/bin/env bash
# Everything issue 18 measures, in one run, each against its baseline (docs in each script):
#   reads (leaderboard, challenge list, challenge) against nginx serving the same bytes   http_reads.py
#   the same with 10,000 more teams on the board (seeded), and its first page             http_reads.py
#   a 100 MB upload against nginx and dd conv=fsync                                        upload.py
#   a 1 GiB download against nginx's sendfile                                              download.py
#   the scorer on 10M rows, aligned and shuffled, against pandas + scikit-learn            score.sh
#   10M 5-class rows of 17 digits uploaded, scored in the sandbox, against the scorer alone big_submission.py
#   the organizer's and the jury's views at a million submissions                          organizer_scale.py
#   a deadline hour: 64 readers and 8 uploaders at once, then the same uploads without reads deadline.py
# Not a test: it prints figures (about 40 minutes with the pandas baseline on 10M rows, 10 with QUICK=1:
# 1M rows for the scorer, 100,000 submissions for the organizer's views).
# Usage: scripts/bench/deadline_day.sh            QUICK=1 scripts/bench/deadline_day.sh
#        SMOKE=1 scripts/bench/deadline_day.sh   (tiny sizes, a second or two a case, about 2 minutes: checks that
#                                                  every benchmark runs and prints its figures; ctest bench_smoke.
#                                                  Its figures mean nothing)
# Environment: BUILD_DIR (default build); REPEAT and BENCH_DIR go to score.sh (SMOKE=1: 1 and a temporary folder).
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD_DIR=${BUILD_DIR:-build}
CONCOURS="$BUILD_DIR/concours"
[ -x "$CONCOURS" ] || { echo "build first: scripts/build.sh (missing $CONCOURS)" >&2; exit 2; }
QUICK=${QUICK:-0}
SMOKE=${SMOKE:-0}
rows=10000000
subs=1000000
board=10000
reads=() uploads=() downloads=() views=() hour=() big=() repeat=${REPEAT:-3} bench_dir=${BENCH_DIR:-/tmp/concours-bench}
[ "$QUICK" = 1 ] && rows=1000000 && subs=100000 && board=2000
if [ "$SMOKE" = 1 ]; then
  rows=20000 subs=2000 board=30 repeat=1 bench_dir=$(mktemp -d)
  trap 'rm -rf "$bench_dir"' EXIT
  reads=(--seconds 1 --connections 4) uploads=(--mb 4 --rounds 1) downloads=(--mib 8 --rounds 1) views=(--rounds 1)
  hour=(--seconds 2 --readers 4 --uploaders 2 --quota 3 --teams 4) big=(--rounds 1)
fi
section() { printf '\n=== %s (%s)\n' "$1" "$(date -u +%H:%M:%S)"; }

section "reads, concours vs nginx serving the same bytes"
python3 scripts/bench/http_reads.py --concours "$CONCOURS" "${reads[@]}"
section "a board of $board more teams: the same reads, and its first page (what the page asks for)"
python3 scripts/bench/http_reads.py --concours "$CONCOURS" --seed-teams "$board" "${reads[@]}"
section "uploads, concours vs nginx and dd conv=fsync"
python3 scripts/bench/upload.py --concours "$CONCOURS" "${uploads[@]}"
section "downloads, concours vs nginx's sendfile"
python3 scripts/bench/download.py --concours "$CONCOURS" "${downloads[@]}"
section "scorer on $rows rows, aligned and shuffled, vs pandas + scikit-learn"
BUILD_DIR="$BUILD_DIR" SIZES="$rows" REPEAT="$repeat" BENCH_DIR="$bench_dir" scripts/bench/score.sh
section "a large submission through the server, $rows rows"
python3 scripts/bench/big_submission.py --rows "$rows" --concours "$CONCOURS" "${big[@]}"
section "organizer and jury views at $subs submissions"
python3 scripts/bench/organizer_scale.py --submissions "$subs" --concours "$CONCOURS" "${views[@]}"
section "a deadline hour: readers and uploaders at once"
python3 scripts/bench/deadline.py --concours "$CONCOURS" "${hour[@]}"
section "the same uploads without reads: how fast the queue is scored on its own"
python3 scripts/bench/deadline.py --concours "$CONCOURS" "${hour[@]}" --readers 0
