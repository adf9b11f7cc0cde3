#!/usr/bin/env bash
# Fails when a C file tracked by git is not formatted as its .clang-format says (the top-level one; scorer/ and
# tests/scorer/ have their own). Fix with: clang-format -i FILE...
set -euo pipefail
cd "$(dirname "$0")/../.."
mapfile -t files < <(git ls-files '*.c' '*.h' 2>/dev/null || find server scorer tests -name '*.[ch]')
if ! command -v clang-format >/dev/null; then
  echo "clang-format is missing (scripts/install-deps.sh installs it)"
  echo "0 passed, 1 failed"
  exit 1
fi
bad=()
for f in "${files[@]}"; do
  clang-format --dry-run --Werror "$f" >/dev/null 2>&1 || bad+=("$f")
done
if [ ${#bad[@]} -gt 0 ]; then
  echo "not formatted (run clang-format -i on them):"
  printf '  %s\n' "${bad[@]}"
  echo "0 passed, 1 failed"
  exit 1
fi
echo "${#files[@]} C files formatted as .clang-format says"
echo "1 passed, 0 failed"
