#!/usr/bin/env bash
# The main job (`npm run demo`): installs npm packages, starts the local stack if needed, then
# runs `auren demo` (topics and schemas, enrichment, replay of the recorded runs, summary).
# Arguments go to `auren demo` (e.g. `npm run demo -- --json`, `--traces DIR`, `--keep-running`).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh >&2
bash scripts/stack.sh up >&2
exec npx tsx scripts/auren.ts demo "$@"
