#!/usr/bin/env bash
# The test command (`npm test`): installs npm packages, checks generated schemas, types and lint,
# starts the local stack (Kafka, Schema Registry, PostgreSQL, Prometheus) if it is not running,
# creates the CrewAI venv once (scripts/crewai/venv.sh) and the Helm chart test's tools
# (scripts/helm-tools.sh), runs every test tier with vitest, and stops the stack again if it started it
# (set AUREN_KEEP_STACK=1 to leave it up). Extra arguments go to vitest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh

echo "[test] generated schema drift check" >&2
npx tsx scripts/gen-schemas.ts --check
echo "[test] generated Grafana dashboards drift check" >&2
npx tsx scripts/gen-dashboards.ts --check
echo "[test] Helm chart files drift check" >&2
npx tsx scripts/gen-helm-files.ts --check
echo "[test] typecheck" >&2
npx tsc --noEmit -p tsconfig.json
echo "[test] lint" >&2
npx eslint .

# Browser tests (test/e2e/live-page.test.ts) drive Debian's Chromium; install it when missing and
# we are root. Never fatal: without apt the test skips and says why.
if [ ! -x /usr/bin/chromium ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "[test] installing Debian chromium for the browser tests (log: /tmp/auren-chromium-install.log)" >&2
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium >/tmp/auren-chromium-install.log 2>&1; then
    { DEBIAN_FRONTEND=noninteractive apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium; } >>/tmp/auren-chromium-install.log 2>&1 \
      || echo "[test] chromium could not be installed; the live page test will skip (see the log)" >&2
  fi
fi

was_running=0
if bash scripts/stack.sh status >/dev/null 2>&1; then was_running=1; fi
if [ "$was_running" = 0 ] && [ -z "${AUREN_KEEP_STACK:-}" ]; then
  trap 'bash scripts/stack.sh down || true' EXIT
fi
bash scripts/stack.sh up

# The CrewAI crew test (test/integration/crewai-crew.test.ts) runs crewai from PyPI in a cached venv
# (~/.cache/auren/venv-crewai-*): created once here (a few minutes, about 1 GB), quick afterwards.
bash scripts/crewai/venv.sh >/dev/null

# The Helm chart test (test/integration/helm-chart.test.ts) renders helm/auren with Helm and
# validates it with kubernetes-validate, both cached under ~/.cache/auren by scripts/helm-tools.sh.
echo "[test] Helm and kubernetes-validate for the chart test (scripts/helm-tools.sh; a Helm build of several minutes the first time)" >&2
bash scripts/helm-tools.sh >/dev/null

npx vitest run "$@"
