#!/usr/bin/env bash
# Everything issue 18 measures, in one run, each against its baseline (docs in each script):
#   reads (leaderboard, challenge list, challenge) against nginx serving the same bytes   http_reads.py
#   a 100 MB upload against nginx and dd conv=fsync                                        upload.py
#   a 1 GiB download against nginx's sendfile                                              download.py
#   the scorer on 10M rows, aligned and shuffled, against pandas + scikit-learn            score.sh
#   the organizer's and the jury's views at a million submissions                          organizer_scale.py
#   a deadline hour: 64 readers and 8 uploaders at once                                    deadline.py
# Not a test: it prints figures (about 40 minutes with the pandas baseline on 10M rows, 10 with QUICK=1:
# 1M rows for the scorer, 100,000 submissions for the organizer's views).
# Usage: scripts/bench/deadline_day.sh            QUICK=1 scripts/bench/deadline_day.sh
# Environment: BUILD_DIR (default build).
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD_DIR=${BUILD_DIR:-build}
CONCOURS="$BUILD_DIR/concours"
[ -x "$CONCOURS" ] || { echo "build first: scripts/build.sh (missing $CONCOURS)" >&2; exit 2; }
QUICK=${QUICK:-0}
rows=10000000
subs=1000000
[ "$QUICK" = 1 ] && rows=1000000 && subs=100000
section() { printf '\n=== %s (%s)\n' "$1" "$(date -u +%H:%M:%S)"; }

section "reads at 64 connections, concours vs nginx"
python3 scripts/bench/http_reads.py --concours "$CONCOURS"
section "uploads of 100 MB, concours vs nginx and dd"
python3 scripts/bench/upload.py --concours "$CONCOURS"
section "downloads of 1 GiB, concours vs nginx"
python3 scripts/bench/download.py --concours "$CONCOURS"
section "scorer on $rows rows, aligned and shuffled, vs pandas + scikit-learn"
BUILD_DIR="$BUILD_DIR" SIZES="$rows" scripts/bench/score.sh
section "organizer and jury views at $subs submissions"
python3 scripts/bench/organizer_scale.py --submissions "$subs" --concours "$CONCOURS"
section "a deadline hour: 64 readers, 8 uploaders"
python3 scripts/bench/deadline.py --concours "$CONCOURS"
