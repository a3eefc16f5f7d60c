#!/usr/bin/env bash
# Installs the npm packages from package-lock.json when node_modules is missing or older than
# the lock file. Sourced-free: run it; it is quick when nothing changed.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "[bootstrap] npm ci" >&2
  npm ci --no-audit --no-fund --loglevel=error
fi
