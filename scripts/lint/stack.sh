#!/usr/bin/env bash
# Builds concours with GCC's call graph and frame sizes (-fcallgraph-info, into BUILD/stack-info) and checks the
# worst stack use of every HTTP request path against CivetWeb's worker stack (scripts/lint/stack-usage.py).
#   scripts/lint/stack.sh BUILD_DIR
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:?usage: scripts/lint/stack.sh BUILD_DIR}/stack-info
if ! cmake -S . -B "$out" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCONCOURS_STACK_INFO=ON >"$out.log" 2>&1 ||
   ! cmake --build "$out" -j "$(nproc)" --target concours >>"$out.log" 2>&1; then
  grep -E "error" "$out.log" | head -20
  echo "0 passed, 1 failed"
  exit 1
fi
exec python3 scripts/lint/stack-usage.py "$out"
