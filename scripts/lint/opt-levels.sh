#!/usr/bin/env bash
# Builds every C target with warnings as errors at -O0 (Debug) and -O3 (Release) into BUILD/opt-O0 and
# BUILD/opt-O3: some warnings (maybe-uninitialized, format-truncation, stringop-overflow) appear only at some
# optimization levels, and the test build itself is -O2 (RelWithDebInfo; its scorer library -O3).
#   scripts/lint/opt-levels.sh BUILD_DIR
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:?usage: scripts/lint/opt-levels.sh BUILD_DIR}
failed=0
for level in O0:Debug O3:Release; do
  name=${level%%:*} type=${level##*:}
  dir="$out/opt-$name"
  if cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE="$type" -DCONCOURS_WERROR=ON >"$dir.log" 2>&1 &&
     cmake --build "$dir" -j "$(nproc)" >>"$dir.log" 2>&1; then
    echo "-$name ($type): every target builds with -Werror"
  else
    echo "-$name ($type): the build failed:"
    grep -E "error|warning" "$dir.log" | head -40
    failed=$((failed + 1))
  fi
done
echo "$((2 - failed)) passed, $failed failed"
[ "$failed" -eq 0 ]
