#!/usr/bin/env bash
# Installs every Debian package concours needs to build, run and test. Idempotent: packages already
# present are skipped, and `apt-get update` runs at most once per call.
set -euo pipefail

PKGS=(
  build-essential cmake pkg-config git curl ca-certificates clang-format clang libclang-rt-14-dev
  libcivetweb-dev libsqlite3-dev sqlite3 libjansson-dev libarchive-dev libssl-dev openssl
  zlib1g-dev libseccomp-dev bubblewrap libyaml-dev mmdebstrap libcurl4-openssl-dev
  libtiff-dev libtiff-tools libpng-dev dcmtk openslide-tools
  slurmctld slurmd slurm-client munge
  python3 python3-numpy python3-pandas python3-sklearn python3-scipy python3-psutil python3-yaml python3-aiosmtpd time
  chromium nginx-light wrk
)

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

# node and npm for the browser tests: the machine's own when present, else Debian's.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  for p in nodejs npm; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
fi

if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  echo "install-deps: installing ${missing[*]}"
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "install-deps: all ${#PKGS[@]} packages present"
fi

# Browser tests (tests/web) drive Debian's chromium with playwright-core, locked in package-lock.json.
# node and npm come with the machine (node >= 20); `npm ci` runs only when node_modules is missing or older
# than the lock file.
cd "$(dirname "$0")/.."
if [ -f package-lock.json ]; then
  if ! command -v npm >/dev/null 2>&1; then
    echo "install-deps: npm not found: the browser tests (tests/web) will fail until node >= 20 and npm are installed" >&2
  elif [ ! -d node_modules ] || [ package-lock.json -nt node_modules ]; then
    echo "install-deps: npm ci (playwright-core and axe-core for the browser tests)"
    npm ci --no-audit --no-fund
    touch node_modules
  else
    echo "install-deps: node_modules up to date"
  fi
fi
