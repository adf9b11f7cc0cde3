#!/usr/bin/env bash
# Fails when C sources call a function concours bans (curl's checksrc idea): unbounded copies and formats, string
# to number conversions that cannot report an error, non-reentrant tokenizers, temp-name races, shells.
#   scripts/lint/banned-calls.sh [DIR...]   (default: server scorer tests)
# Use instead: snprintf / util_fmt / util_strlcpy, util_parse_ll or strtol with an end pointer, strtok_r,
# mkstemp / mkdtemp, fork + exec with an argv.
set -euo pipefail
cd "$(dirname "$0")/../.."
dirs=("$@")
[ ${#dirs[@]} -gt 0 ] || dirs=(server scorer tests)
banned='strcpy|strcat|sprintf|vsprintf|gets|atoi|atol|atoll|atof|strtok|strncpy|strncat|tmpnam|tempnam|mktemp|system|popen|alloca'
# a call is the name as a whole word followed by "(", outside comments and strings (a rough but strict filter:
# lines whose code part, before any // or /* comment, names a banned function)
hits=$(grep -rnE --include='*.c' --include='*.h' "(^|[^A-Za-z0-9_])(${banned})[[:space:]]*\(" "${dirs[@]}" |
       grep -vE '^[^:]+:[0-9]+:[[:space:]]*(/?\*|//)' |
       grep -vE "\"[^\"]*(${banned})[[:space:]]*\([^\"]*\"" || true)
if [ -n "$hits" ]; then
  echo "banned calls (see scripts/lint/banned-calls.sh for what to use instead):"
  echo "$hits"
  echo "0 passed, 1 failed"
  exit 1
fi
n=$(find "${dirs[@]}" -name '*.[ch]' | wc -l)
echo "no banned call in $n C files"
echo "1 passed, 0 failed"
