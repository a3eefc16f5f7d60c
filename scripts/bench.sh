#!/usr/bin/env bash
# The benchmark command (`npm run bench`): installs npm packages, starts the local stack if it is
# not running, measures enrichment, aggregation, archival, event-store and alerting throughput, the gateway's OTLP ingest, produce-to-enriched latency and the broker's own
# producer/consumer ceiling side by side (test/bench/run.ts), and stops the stack again if it
# started it (set AUREN_KEEP_STACK=1 to leave it up). Extra arguments go to test/bench/run.ts
# (`npm run bench -- --help`).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh

was_running=0
if bash scripts/stack.sh status >/dev/null 2>&1; then was_running=1; fi
if [ "$was_running" = 0 ] && [ -z "${AUREN_KEEP_STACK:-}" ]; then
  trap 'bash scripts/stack.sh down || true' EXIT
fi
bash scripts/stack.sh up

# The gateway phase holds 10 000 WebSocket connections (a descriptor each, in the bench process and
# in the gateway): raise the open-files limit where the hard limit allows it.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
npx tsx test/bench/run.ts "$@"
