#!/usr/bin/env bash
# The foundation journey with plain curl, the commands the README shows: start the server on a free port
# with the repository's example challenges, register, log in, create an API token, accept the terms, list
# and download the data (whole and with a Range), upload the sample submission as a raw body, poll until
# it is scored, and check that the leaderboard shows the log loss computed here (python3, stdlib).
# Usage: curl_journey.sh CONCOURS_BINARY SOURCE_DIR
set -euo pipefail
CONCOURS=${1:?usage: curl_journey.sh CONCOURS_BINARY SOURCE_DIR}
SRC=$(cd "${2:?usage: curl_journey.sh CONCOURS_BINARY SOURCE_DIR}" && pwd)
SLUG=visiomel-demo
BUNDLE=$SRC/challenges/$SLUG
PASSWORD=correct-horse-battery

WORK=$(mktemp -d /tmp/concours-curl.XXXXXX)
SERVER_PID=
cleanup() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then kill -KILL "$SERVER_PID"; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*" >&2
  echo "--- last response:" >&2; cat "$WORK/body" >&2 2>/dev/null || true
  echo "--- server log:" >&2; tail -50 "$WORK/server.log" >&2 || true
  exit 1
}
# check STATUS CURL_ARGS...: runs curl, the body lands in $WORK/body, fails unless the HTTP status is STATUS.
check() {
  local want=$1 got
  shift
  got=$(curl -sS -o "$WORK/body" -w '%{http_code}' "$@") || fail "curl $*"
  [ "$got" = "$want" ] || fail "expected $want, got $got: curl $*"
}
# jget KEY...: prints one value of the JSON in $WORK/body (keys, or indexes into lists).
jget() {
  python3 -c 'import json, sys
v = json.load(open(sys.argv[1]))
for k in sys.argv[2:]:
    v = v[int(k)] if isinstance(v, list) else v[k]
print(json.dumps(v) if isinstance(v, (dict, list)) or v is None else v)' "$WORK/body" "$@"
}

# --- start the server as the README does, but on a free port and in a temp data folder
"$CONCOURS" serve --data "$WORK/data" --listen 127.0.0.1:0 --challenges "$SRC/challenges" --workers 2 \
  >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
PORT=
for _ in $(seq 200); do
  PORT=$(sed -n 's#^listening on http://127\.0\.0\.1:\([0-9]*\).*#\1#p' "$WORK/server.log" | head -1)
  [ -n "$PORT" ] && break
  kill -0 "$SERVER_PID" 2>/dev/null || fail "the server exited before listening"
  sleep 0.1
done
[ -n "$PORT" ] || fail "no 'listening on' line within 20 s"
BASE=http://127.0.0.1:$PORT
API=$BASE/api/v1
cd "$WORK"

# --- register, log in (cookie + CSRF token), create an API token for the rest
check 201 -X POST "$API/users" -H 'Content-Type: application/json' \
  -d '{"username":"ada","email":"ada@example.org","password":"'"$PASSWORD"'"}'
check 200 -X POST "$API/sessions" -c cookies.txt -H 'Content-Type: application/json' \
  -d '{"username":"ada","password":"'"$PASSWORD"'"}'
CSRF=$(jget csrf_token)
check 201 -X POST "$API/tokens" -b cookies.txt -H "X-CSRF-Token: $CSRF" -H 'Content-Type: application/json' \
  -d '{"name":"laptop"}'
TOKEN=$(jget token)
AUTH="Authorization: Bearer $TOKEN"
check 200 -H "$AUTH" "$API/me"
[ "$(jget username)" = ada ] || fail "me is not ada"

# --- the challenge, its terms, its files
check 200 "$API/challenges/$SLUG"
[ "$(jget metric name)" = log_loss ] || fail "metric"
check 403 -H "$AUTH" "$API/challenges/$SLUG/files"
[ "$(jget error code)" = terms_not_accepted ] || fail "files before terms"
check 204 -X POST -H "$AUTH" -H 'Content-Type: application/json' -d '{"version":1}' "$API/challenges/$SLUG/terms"
check 200 -H "$AUTH" "$API/challenges/$SLUG/files"
cp body files.json
for name in train_metadata.csv test_metadata.csv sample_submission.csv; do
  check 200 -H "$AUTH" "$API/challenges/$SLUG/files/$name"
  cp body "$name"
  cmp -s "$name" "$BUNDLE/data/$name" || fail "$name differs from the bundle"
  listed=$(python3 -c 'import json, sys
print(*[f["sha256"] + ":" + str(f["size"]) for f in json.load(open("files.json")) if f["name"] == sys.argv[1]])' "$name")
  [ "$listed" = "$(sha256sum "$name" | cut -d' ' -f1):$(stat -c %s "$name")" ] || fail "listing of $name: $listed"
done
check 206 -H "$AUTH" -r 0-99 "$API/challenges/$SLUG/files/train_metadata.csv"
[ "$(stat -c %s body)" = 100 ] || fail "Range 0-99 gave $(stat -c %s body) bytes"
cmp -s body <(head -c 100 "$BUNDLE/data/train_metadata.csv") || fail "Range 0-99 content"

# --- upload the sample submission as the raw body, then poll until it is scored
check 201 -X POST -H "$AUTH" -H 'Content-Type: text/csv' --data-binary @sample_submission.csv \
  "$API/challenges/$SLUG/submissions?description=sample%20submission"
ID=$(jget id)
[ "$(jget status)" = queued ] || fail "status after upload"
STATUS=queued
for _ in $(seq 300); do
  check 200 -H "$AUTH" "$API/submissions/$ID"
  STATUS=$(jget status)
  case $STATUS in scored|failed) break ;; esac
  sleep 0.2
done
[ "$STATUS" = scored ] || fail "submission $ID ended $STATUS"
SCORE=$(jget public_score)

# --- the leaderboard shows the public log loss computed here, rounded to 4 places
EXPECTED=$(python3 -c 'import csv, math, sys
pred = {r["filename"]: float(r["relapse"]) for r in csv.DictReader(open(sys.argv[1]))}
rows = [r for r in csv.DictReader(open(sys.argv[2])) if r["Usage"] == "Public"]
eps = 1e-15
ll = 0.0
for r in rows:
    p = min(max(pred[r["filename"]], eps), 1 - eps)
    y = int(r["relapse"])
    ll -= y * math.log(p) + (1 - y) * math.log(1 - p)
print("%.4f" % (ll / len(rows)))' sample_submission.csv "$BUNDLE/private/solution.csv")
check 200 "$API/challenges/$SLUG/leaderboard"
[ "$(jget rows 0 name)" = ada ] || fail "leaderboard row 0 is not ada"
BOARD=$(jget rows 0 score)
python3 -c 'import sys; a, b, c = map(float, sys.argv[1:]); sys.exit(not (abs(a - c) < 1e-9 and abs(b - c) < 1e-9))' \
  "$SCORE" "$BOARD" "$EXPECTED" || fail "score $SCORE / leaderboard $BOARD, expected $EXPECTED"

# --- logout, then a clean stop on SIGTERM
check 204 -X DELETE -b cookies.txt -H "X-CSRF-Token: $CSRF" "$API/sessions/current"
check 401 -b cookies.txt "$API/me"
kill -TERM "$SERVER_PID"
CODE=0
wait "$SERVER_PID" || CODE=$?
SERVER_PID=
[ "$CODE" = 0 ] || fail "server exited $CODE after SIGTERM"
echo "curl journey: submission $ID scored $SCORE, leaderboard $BOARD, expected $EXPECTED"
echo "1 passed, 0 failed"
