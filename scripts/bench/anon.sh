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

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
# report NAME SECONDS
report() {
  awk -v n="$1" -v s="$2" -v r="$ROWS" -v b="$BYTES" \
    'BEGIN { printf "%-44s %7.2f s %12.0f rows/s %8.1f MB/s\n", n, s, r / s, b / s / 1e6 }'
}

echo "table: $TABLE, $ROWS rows, $(awk -v b="$BYTES" 'BEGIN { printf "%.1f MB", b / 1e6 }')"

t0=$(now); "$CLI" dataset check "$TABLE" --json >"$WORK/check.json" || [ $? -eq 1 ]; t1=$(now)
report "check, suggested quasi-identifiers (2 passes)" "$(elapsed "$t0" "$t1")"
t0=$(now); "$CLI" dataset check "$TABLE" --quasi age,sexe,code_postal --sensitive diagnostic --json \
  >"$WORK/check-declared.json" || [ $? -eq 1 ]; t1=$(now)
report "check, declared quasi-identifiers (1 pass)" "$(elapsed "$t0" "$t1")"

t0=$(now); "$CLI" dataset pseudonymize "$TABLE" "$WORK/out-c.csv" --key-file "$KEY" "${OPTS[@]}" 2>/dev/null >/dev/null
t1=$(now)
C_SECONDS=$(elapsed "$t0" "$t1")
report "pseudonymize (concours, C)" "$C_SECONDS"

t0=$(now)
python3 - "$TABLE" "$WORK/out-py.csv" "$KEY" <<'PY'
# Baseline: the same transformation with the Python standard library (csv, hmac, hashlib, datetime).
import csv, datetime, hashlib, hmac, sys
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
        h = hmac.new(key, b"concours-pseudonym-v1\0" + row[ipp].encode(), hashlib.sha256).digest()
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
t1=$(now)
PY_SECONDS=$(elapsed "$t0" "$t1")
report "pseudonymize (baseline: python3 csv+hmac)" "$PY_SECONDS"
if cmp -s "$WORK/out-c.csv" "$WORK/out-py.csv"; then same="identical output"; else same="OUTPUTS DIFFER"; fi
awk -v c="$C_SECONDS" -v p="$PY_SECONDS" -v s="$same" \
  'BEGIN { printf "pseudonymize speed-up over the python3 baseline: %.1fx (%s)\n", p / c, s }'
