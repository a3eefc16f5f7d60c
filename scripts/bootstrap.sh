#!/usr/bin/env bash
# Installs the npm packages from package-lock.json when node_modules is missing or older than
# the lock file; quick when nothing changed.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  # `npm install` (not `npm ci`): it installs the versions package-lock.json pins, and npm 11
  # writes lock files without rollup's per-platform optional packages, which `npm ci` then
  # refuses as out of sync.
  echo "[bootstrap] npm install (from package-lock.json)" >&2
  npm install --no-audit --no-fund --loglevel=error
fi

# DuckDB httpfs extension from PyPI (S3 reads for `auren query` and the archival tests).
bash scripts/duckdb-extensions.sh
