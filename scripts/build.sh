#!/usr/bin/env bash
# Configures and builds concours into ./build (or $BUILD_DIR). Extra arguments go to cmake.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=${BUILD_TYPE:-RelWithDebInfo} "$@" >/dev/null
cmake --build "$BUILD_DIR" -j "$(nproc)"
# the participant's command line on the PATH (docs/cli.md), when this user may put it there
if [ -w /usr/local/bin ] && [ -x "$BUILD_DIR/concours-cli" ]; then
  ln -sf "$(pwd)/$BUILD_DIR/concours-cli" /usr/local/bin/concours-cli
fi
