#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Local stack for development, tests and the demo: real servers on 127.0.0.1, no Docker.
#
#   bash scripts/stack.sh up      install what is missing (cached), start what is not running,
#                                 wait until ready, write $AUREN_STACK_DIR/stack.env
#   bash scripts/stack.sh down    stop every server (SIGTERM, wait, then SIGKILL)
#   bash scripts/stack.sh status  one line per server: state, pid, address (exit 3 if any is down)
#
# Servers (ports overridable, see scripts/stack/common.sh):
#   kafka            Apache Kafka, KRaft broker+controller   127.0.0.1:19092 (controller 19093)
#   schema-registry  Apicurio Registry, Confluent API         http://127.0.0.1:18081/apis/ccompat/v7
#   postgres         PostgreSQL 15, db/user auren             127.0.0.1:15432
#   prometheus       Prometheus, file_sd targets, rules       http://127.0.0.1:19090
#   alertmanager     Alertmanager, routes to webhook/Slack/PD  http://127.0.0.1:19094
# Cache: ${AUREN_CACHE_DIR:-~/.cache/auren}; run dir (data, logs, pids): ${AUREN_STACK_DIR:-~/.cache/auren/run}.
set -euo pipefail

STACK_DIR_SCRIPTS="$(cd "$(dirname "${BASH_SOURCE[0]}")/stack" && pwd)"
# shellcheck source=stack/common.sh
source "$STACK_DIR_SCRIPTS/common.sh"
# shellcheck source=stack/kafka.sh
source "$STACK_DIR_SCRIPTS/kafka.sh"
# shellcheck source=stack/schema-registry.sh
source "$STACK_DIR_SCRIPTS/schema-registry.sh"
# shellcheck source=stack/postgres.sh
source "$STACK_DIR_SCRIPTS/postgres.sh"
# shellcheck source=stack/prometheus.sh
source "$STACK_DIR_SCRIPTS/prometheus.sh"
# shellcheck source=stack/alertmanager.sh
source "$STACK_DIR_SCRIPTS/alertmanager.sh"

# server name -> function prefix (<prefix>_install/_pid/_start/_wait/_ready/_stop/_describe)
SERVERS=(kafka schema-registry postgres prometheus alertmanager)
declare -A PREFIX=([kafka]=kafka [schema-registry]=registry [postgres]=pg [prometheus]=prom [alertmanager]=am)

write_env() {
  local tmp="$STACK_ENV_FILE.tmp"
  (
    umask 077
    cat >"$tmp" <<EOF
# Written by scripts/stack.sh up; read by test/helpers/stack.ts. Contains a password: keep private.
AUREN_KAFKA_BROKERS=127.0.0.1:$AUREN_KAFKA_PORT
AUREN_SCHEMA_REGISTRY_URL=http://127.0.0.1:$AUREN_REGISTRY_PORT/apis/ccompat/v7
AUREN_DATABASE_URL=$(pg_database_url)
AUREN_PROMETHEUS_URL=http://127.0.0.1:$AUREN_PROM_PORT
AUREN_ALERTMANAGER_URL=http://127.0.0.1:$AUREN_ALERTMANAGER_PORT
AUREN_PROM_TARGETS_DIR=$PROM_TARGETS_DIR
AUREN_KAFKA_LIBS=$KAFKA_LIBS
EOF
  )
  mv -f "$tmp" "$STACK_ENV_FILE"
}

cmd_up() {
  local t0=$SECONDS s p pid
  ensure_dirs
  mkdir -p "$PROM_TARGETS_DIR"
  local started=() running=()
  for s in "${SERVERS[@]}"; do
    p="${PREFIX[$s]}"
    if "${p}_pid" >/dev/null; then
      running+=("$s")
    else
      "${p}_install"
      "${p}_start"
      started+=("$s")
    fi
  done
  # Already running: a cheap check (it may still be starting, e.g. after a concurrent up).
  for s in "${running[@]}"; do
    p="${PREFIX[$s]}"
    if ! "${p}_ready" >/dev/null 2>&1; then
      pid="$("${p}_pid")" || die "$s stopped while checking it; see $(log_file "$s")"
      wait_until "$s" "$pid" "$AUREN_STACK_TIMEOUT" "${p}_ready"
    fi
  done
  # Fast starters first; kafka (slowest) is started first and waited for last.
  for s in postgres prometheus alertmanager schema-registry kafka; do
    if [[ " ${started[*]} " == *" $s "* ]]; then "${PREFIX[$s]}_wait"; fi
  done
  pg_configure
  # A Prometheus that was already running reloads its config when the rendered one changed
  # (new rule files, the Alertmanager address); its data and scrapes go on.
  if [[ " ${running[*]} " == *" prometheus "* ]]; then prom_reload_if_changed; fi
  write_env
  log "stack up in $((SECONDS - t0))s; env: $STACK_ENV_FILE"
  cmd_status || true
}

cmd_down() {
  local s pids=()
  for s in "${SERVERS[@]}"; do
    "${PREFIX[$s]}_stop" &
    pids+=("$!")
  done
  local rc=0 pid
  for pid in "${pids[@]}"; do wait "$pid" || rc=1; done
  for s in "${SERVERS[@]}"; do
    if pid="$("${PREFIX[$s]}_pid")"; then log "WARNING: $s still running (pid $pid)"; rc=1; fi
  done
  ((rc == 0)) && log "stack down"
  return "$rc"
}

cmd_status() {
  local s p pid state all_up=0
  printf '%-16s %-9s %-8s %s\n' SERVER STATE PID ADDRESS
  for s in "${SERVERS[@]}"; do
    p="${PREFIX[$s]}"
    if pid="$("${p}_pid")"; then
      if "${p}_ready" >/dev/null 2>&1; then state=up; else state=starting; all_up=3; fi
    else
      pid=-; state=down; all_up=3
    fi
    printf '%-16s %-9s %-8s %s\n' "$s" "$state" "$pid" "$("${p}_describe")"
  done
  printf 'logs: %s\n' "$LOG_DIR"
  return "$all_up"
}

case "${1:-}" in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  *)
    echo "usage: bash scripts/stack.sh up|down|status" >&2
    exit 2
    ;;
esac
