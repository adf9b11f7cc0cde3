#!/usr/bin/env bash
# Sandbox start-up cost per scoring run (target: < 20 ms): the same program run N times confined (bubblewrap +
# seccomp + the supervisor, exactly as the queue does) and as the baseline, a plain fork/exec of it under
# rlimits (runner_run). Two programs: /usr/bin/true (pure start-up cost) and concours-score on a 1000-row
# roc_auc problem, and the scorer's run in a warm sandbox (the small-file lane's: one fork and exec in a sandbox that
# stays up, server/sandbox_warm.h). Prints ms per run, the difference and the ratio. Run as root for the full sandbox
# (uid drop, output tmpfs). Usage: scripts/bench/sandbox.sh [N]   (build first: scripts/build.sh)
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${1:-50}
DRIVER=build/sandbox_driver # and build/warm_driver
SCORER=$(pwd)/build/concours-score
[ -x "$DRIVER" ] && [ -x "$SCORER" ] || { echo "build first: scripts/build.sh" >&2; exit 2; }
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
python3 - "$TMP" <<'PY'
import random, sys
rng = random.Random(1)
d = sys.argv[1]
with open(d + "/truth.csv", "w") as t, open(d + "/pred.csv", "w") as p:
    t.write("id,label,Usage\n"); p.write("id,label\n")
    for i in range(1000):
        y = rng.randint(0, 1)
        t.write("r%d,%d,%s\n" % (i, y, "Public" if i % 2 else "Private"))
        p.write("r%d,%.4f\n" % (i, min(1, max(0, y * 0.3 + rng.random() * 0.7))))
PY
chmod 755 "$TMP"; chmod 644 "$TMP"/*.csv

ms() { python3 -c 'import json,sys; r=json.load(sys.stdin); assert r["rc"]==0 and r["exit"]==0, r; print("%.2f" % r["ms_per_run"])'; }

echo "sandbox start-up cost, $N runs each (ms per run; baseline: plain fork/exec of the same program)"
printf '%-34s %10s %10s %10s %8s\n' program baseline sandbox cost ratio
for prog in true scorer; do
  if [ $prog = true ]; then
    base=$("$DRIVER" --plain --repeat "$N" -- /usr/bin/true | ms)
    sbx=$("$DRIVER" --repeat "$N" -- /usr/bin/true | ms)
    name="/usr/bin/true"
  else
    base=$("$DRIVER" --plain --repeat "$N" -- "$SCORER" --truth "$TMP/truth.csv" --pred "$TMP/pred.csv" --metric roc_auc | ms)
    sbx=$("$DRIVER" --repeat "$N" --bind "$TMP:/sandbox/in" --bind "$SCORER:/sandbox/bin/concours-score" -- \
          /sandbox/bin/concours-score --truth /sandbox/in/truth.csv --pred /sandbox/in/pred.csv --metric roc_auc | ms)
    name="concours-score roc_auc, 1000 rows"
  fi
  python3 -c "import sys; b,s=float(sys.argv[1]),float(sys.argv[2]); print('%-34s %10.2f %10.2f %10.2f %7.1fx' % (sys.argv[3], b, s, s-b, s/b if b else 0))" "$base" "$sbx" "$name"
done
# the small-file lane's runs: the same scorer run in one warm sandbox (server/sandbox_warm.h), its files as fds
warm_ms() {
  python3 -c 'import json,sys; r=json.load(sys.stdin)[0]; assert r["rc"]==0 and r["exit"]==0, r
print("%.2f" % r["ms_per_run"])'
}
warm=$(build/warm_driver --scorer "$SCORER" --file "$TMP/truth.csv" --file "$TMP/pred.csv" --repeat "$N" -- \
       /sandbox/bin/concours-score --truth /dev/fd/3 --pred /dev/fd/4 --metric roc_auc | warm_ms)
python3 -c "import sys; b,s=float(sys.argv[1]),float(sys.argv[2])
print('%-34s %10.2f %10.2f %10.2f %7.1fx' % (sys.argv[3], b, s, s-b, s/b if b else 0))" "$base" "$warm" \
  "  the same, in a warm sandbox"
