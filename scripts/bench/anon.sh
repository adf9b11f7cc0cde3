#!/usr/bin/env bash
# Throughput of `concours dataset check` and `pseudonymize` on a generated patient-like table (1M rows by
# default), against a named baseline: the same pseudonymization written with Python's csv, hmac and hashlib
# modules (stdlib only), whose output must be byte-identical. Prints figures; not a ctest.
#   scripts/bench/anon.sh [ROWS]        (BUILD_DIR=build by default; the table is cached in $BUILD_DIR/bench)
set -euo pipefail
cd "$(dirname "$0")/../.."
ROWS=${1:-1000000}
BUILD_DIR=${BUILD_DIR:-build}
CLI="$BUILD_DIR/anon-cli"
WORK="$BUILD_DIR/bench/anon"
mkdir -p "$WORK"
if [ ! -x "$CLI" ]; then
  cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=${BUILD_TYPE:-RelWithDebInfo} >/dev/null
  cmake --build "$BUILD_DIR" --target anon-cli -j "$(nproc)" >/dev/null
fi

TABLE="$WORK/raw-$ROWS.csv"
if [ ! -s "$TABLE" ]; then
  echo "generating $ROWS rows (seed 42)..."
  python3 tests/anon/gen_table.py --kind raw --rows "$ROWS" --seed 42 --out "$TABLE"
fi
BYTES=$(stat -c %s "$TABLE")
KEY="$WORK/bench.key"
OPTS=(--id ipp --drop nom,prenom,date_naissance,lieu_naissance,nir,telephone,email,adresse,ip_connexion,commentaire
      --shift-dates date_admission,date_sortie --generalize age:5,code_postal:2)

# measure CMD...: runs CMD (exit 0 or 1 accepted), sets WALL and CPU (user + system) in seconds.
measure() {
  local t rc=0
  { TIMEFORMAT='%R %U %S'; time "$@" >/dev/null 2>&1; } 2>"$WORK/time.txt" || rc=$?
  if [ "$rc" -gt 1 ]; then echo "failed ($rc): $*" >&2; exit 1; fi
  t=$(tail -n 1 "$WORK/time.txt")
  WALL=$(echo "$t" | awk '{ print $1 }')
  CPU=$(echo "$t" | awk '{ printf "%.3f", $2 + $3 }')
}
# report NAME: prints the last measure as wall and CPU seconds and throughput (on CPU time, which the load of
# a shared machine disturbs less than wall time).
report() {
  awk -v n="$1" -v w="$WALL" -v c="$CPU" -v r="$ROWS" -v b="$BYTES" \
    'BEGIN { if (c < 0.001) c = 0.001; printf "%-44s wall %6.2f s  cpu %6.2f s %10.0f rows/s %7.1f MB/s\n", n, w, c,
             r / c, b / c / 1e6 }' # the shell's times have 1 ms steps: a small table may take "0.000" s
}

echo "table: $TABLE, $ROWS rows, $(awk -v b="$BYTES" 'BEGIN { printf "%.1f MB", b / 1e6 }')"

measure "$CLI" dataset check "$TABLE" --json
report "check, suggested quasi-identifiers (2 passes)"
measure "$CLI" dataset check "$TABLE" --quasi age,sexe,code_postal --sensitive diagnostic --json
report "check, declared quasi-identifiers (2nd pass: suggested ones left out)"
measure "$CLI" dataset pseudonymize "$TABLE" "$WORK/out-c.csv" --key-file "$KEY" "${OPTS[@]}"
report "pseudonymize (concours, C)"
C_CPU=$CPU
cat >"$WORK/baseline.py" <<'PY'
# Baseline: the same transformation with the Python standard library (csv, hmac, hashlib, datetime).
import csv, datetime, hashlib, hmac, string, sys
# ids are normalised before hashing: blanks removed, ASCII letters upper-cased
NORM = str.maketrans(string.ascii_lowercase, string.ascii_uppercase, " \t\r\n")
src, dst, key_path = sys.argv[1:4]
key = open(key_path, "rb").read()
drop = set("nom prenom date_naissance lieu_naissance nir telephone email adresse ip_connexion commentaire".split())
with open(src, newline="", encoding="utf-8") as fi, open(dst, "w", newline="", encoding="utf-8") as fo:
    r, w = csv.reader(fi), csv.writer(fo, lineterminator="\n")
    header = next(r)
    keep = [i for i, c in enumerate(header) if c not in drop]
    idx = {c: i for i, c in enumerate(header)}
    ipp, age, cp = idx["ipp"], idx["age"], idx["code_postal"]
    dates = [idx["date_admission"], idx["date_sortie"]]
    w.writerow([header[i] for i in keep])
    for row in r:
        h = hmac.new(key, b"concours-pseudonym-v1\0" + row[ipp].translate(NORM).encode(), hashlib.sha256).digest()
        u = int.from_bytes(h[16:24], "big")
        shift = datetime.timedelta(days=(1 + (u >> 1) % 365) * (-1 if u & 1 else 1))
        row[ipp] = h[:16].hex()
        for d in dates:
            if row[d]:
                row[d] = (datetime.date.fromisoformat(row[d]) + shift).isoformat()
        a = int(row[age])
        row[age] = "90+" if a >= 90 else "%d-%d" % (a // 5 * 5, a // 5 * 5 + 4)
        row[cp] = row[cp][:2]
        w.writerow([row[i] for i in keep])
PY
measure python3 "$WORK/baseline.py" "$TABLE" "$WORK/out-py.csv" "$KEY"
report "pseudonymize (baseline: python3 csv+hmac)"
if cmp -s "$WORK/out-c.csv" "$WORK/out-py.csv"; then same="identical output"; else same="OUTPUTS DIFFER"; fi
awk -v c="$C_CPU" -v p="$CPU" -v s="$same" \
  'BEGIN { if (c < 0.001) c = 0.001; printf "pseudonymize speed-up over the python3 baseline (cpu time): %.1fx (%s)\n",
           p / c, s }'
