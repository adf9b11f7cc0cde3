#!/usr/bin/env bash
# Installs what is needed, builds, and starts the server with the example challenges on
# http://127.0.0.1:8080, data in ./concours-data (created on first start).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
exec build/concours serve --data ./concours-data --listen "${LISTEN:-127.0.0.1:8080}" --challenges ./challenges "$@"
