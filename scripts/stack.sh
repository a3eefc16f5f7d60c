#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Local stack for development, tests and the demo: real servers on 127.0.0.1, no Docker.
#
#   bash scripts/stack.sh up      install what is missing (cached), start what is not running,
#                                 wait until ready, write $AUREN_STACK_DIR/stack.env
#   bash scripts/stack.sh down    stop every server (SIGTERM, wait, then SIGKILL)
#   bash scripts/stack.sh status  one line per server: state, pid, address (exit 3 if any is down)
#
# Fault injection (tests and `auren chaos`; only on a stack instance nobody else is using):
#   bash scripts/stack.sh kill <server>   SIGKILL the server (no shutdown at all; kafka, schema-registry,
#                                         prometheus; postgres is refused: its backends would outlive it)
#   bash scripts/stack.sh stop <server>   stop one server as `down` does (postgres: fast shutdown, data kept)
#   bash scripts/stack.sh start <server> [--no-wait]
#                                         start one server (its data is kept) and wait until it is ready
#                                         (--no-wait: return once started; the caller probes it itself)
#
# Servers (ports overridable, see scripts/stack/common.sh):
#   kafka            Apache Kafka, KRaft broker+controller   127.0.0.1:19092 (controller 19093)
#   schema-registry  Apicurio Registry, Confluent API         http://127.0.0.1:18081/apis/ccompat/v7
#   postgres         PostgreSQL 15, db/user auren             127.0.0.1:15432
#   prometheus       Prometheus, file_sd targets, rules       http://127.0.0.1:19090
#   alertmanager     Alertmanager, routes to webhook/Slack/PD  http://127.0.0.1:19094
#   s3               s3proxy (S3 API), filesystem backend     http://127.0.0.1:19000, bucket auren-archive
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
# shellcheck source=stack/s3.sh
source "$STACK_DIR_SCRIPTS/s3.sh"
# shellcheck source=stack/alertmanager.sh
source "$STACK_DIR_SCRIPTS/alertmanager.sh"

# server name -> function prefix (<prefix>_install/_pid/_start/_wait/_ready/_stop/_describe)
SERVERS=(kafka schema-registry postgres prometheus alertmanager s3)
declare -A PREFIX=([kafka]=kafka [schema-registry]=registry [postgres]=pg [prometheus]=prom [alertmanager]=am [s3]=s3)

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
$(s3_env)
EOF
  )
  mv -f "$tmp" "$STACK_ENV_FILE"
  printf 'AUREN_KAFKA_PORT=%s\nAUREN_KAFKA_CONTROLLER_PORT=%s\nAUREN_REGISTRY_PORT=%s\nAUREN_PG_PORT=%s\nAUREN_PROM_PORT=%s\nAUREN_S3_PORT=%s\nAUREN_ALERTMANAGER_PORT=%s\n' \
    "$AUREN_KAFKA_PORT" "$AUREN_KAFKA_CONTROLLER_PORT" "$AUREN_REGISTRY_PORT" "$AUREN_PG_PORT" "$AUREN_PROM_PORT" "$AUREN_S3_PORT" "$AUREN_ALERTMANAGER_PORT" >"$STACK_PORTS_FILE"
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
  for s in postgres prometheus alertmanager s3 schema-registry kafka; do
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

# server_prefix <server>: the function prefix of a server name, or exit 2 naming the valid ones.
server_prefix() {
  [[ -n "${1:-}" && -n "${PREFIX[$1]:-}" ]] || { echo "unknown server '${1:-}': one of ${SERVERS[*]}" >&2; exit 2; }
  printf '%s' "${PREFIX[$1]}"
}

cmd_kill() {
  local s="$1" p pid i
  p="$(server_prefix "$s")"
  [[ "$s" != postgres ]] || die "kill postgres: a SIGKILLed postmaster leaves its backends running and the data dir locked; use 'stop postgres' (fast shutdown)"
  pid="$("${p}_pid")" || die "$s is not running"
  kill -KILL "$pid"
  for ((i = 0; i < 40; i++)); do
    kill -0 "$pid" 2>/dev/null || { rm -f "$(pid_file "$s")"; log "$s killed (SIGKILL, pid $pid)"; return 0; }
    sleep 0.25
  done
  die "$s (pid $pid) still alive 10s after SIGKILL"
}

cmd_stop() {
  local p
  p="$(server_prefix "$1")"
  "${p}_stop"
  if "${p}_pid" >/dev/null; then die "$1 still running"; fi
}

cmd_start() {
  local s="$1" nowait="${2:-}" p pid
  p="$(server_prefix "$s")"
  [[ -z "$nowait" || "$nowait" == --no-wait ]] || { echo "usage: bash scripts/stack.sh start <server> [--no-wait]" >&2; exit 2; }
  ensure_dirs
  if pid="$("${p}_pid")"; then
    [[ -n "$nowait" ]] || "${p}_ready" >/dev/null 2>&1 || wait_until "$s" "$pid" "$AUREN_STACK_TIMEOUT" "${p}_ready"
    log "$s already running (pid $pid)"
    return 0
  fi
  "${p}_install"
  "${p}_start"
  if [[ -n "$nowait" ]]; then log "$s started (pid $("${p}_pid")); not waiting until it is ready"; return 0; fi
  "${p}_wait"
}

case "${1:-}" in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  kill) cmd_kill "${2:-}" ;;
  stop) cmd_stop "${2:-}" ;;
  start) cmd_start "${2:-}" "${3:-}" ;;
  *)
    echo "usage: bash scripts/stack.sh up|down|status|kill <server>|stop <server>|start <server>" >&2
    exit 2
    ;;
esac
