#!/usr/bin/env bash
# Installs what is needed, builds with warnings as errors, and runs every test with ctest.
# This is the README's test command and the only thing .ci/run calls.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
BUILD_DIR=${BUILD_DIR:-build} scripts/build.sh -DCONCOURS_WERROR=ON
cd "${BUILD_DIR:-build}"
ctest --output-on-failure -j 2 --timeout 600
