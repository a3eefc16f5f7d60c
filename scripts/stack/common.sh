# shellcheck shell=bash
# shellcheck disable=SC2034 # variables used by the other scripts/stack/*.sh
# Shared settings and helpers for the local stack (sourced by scripts/stack.sh and scripts/stack/*.sh).
#
# Conventions the rest of the project relies on:
#   cache (downloads, reused):  ${AUREN_CACHE_DIR:-$HOME/.cache/auren}
#   run dir (data/logs/pids):   ${AUREN_STACK_DIR:-$HOME/.cache/auren/run}
#   logs:                       $AUREN_STACK_DIR/logs/<server>.log
#   pids:                       $AUREN_STACK_DIR/pids/<server>.pid
#   env for clients:            $AUREN_STACK_DIR/stack.env

STACK_LIB_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$STACK_LIB_DIR/../.." && pwd)"

AUREN_CACHE_DIR="${AUREN_CACHE_DIR:-$HOME/.cache/auren}"
AUREN_STACK_DIR="${AUREN_STACK_DIR:-$HOME/.cache/auren/run}"

# Ports given to `up` are kept in $AUREN_STACK_DIR/ports.env, so later commands on the same run
# dir (`kill kafka`, `start kafka`, `status`) use them without repeating the variables; a
# variable set in the environment still wins.
STACK_PORTS_FILE="$AUREN_STACK_DIR/ports.env"
if [[ -f "$STACK_PORTS_FILE" ]]; then
  while IFS='=' read -r _key _value; do
    case "$_key" in
      AUREN_KAFKA_PORT | AUREN_KAFKA_CONTROLLER_PORT | AUREN_REGISTRY_PORT | AUREN_PG_PORT | AUREN_PROM_PORT | AUREN_S3_PORT | AUREN_ALERTMANAGER_PORT)
        [[ -z "${!_key:-}" && "$_value" =~ ^[0-9]+$ ]] && printf -v "$_key" '%s' "$_value"
        ;;
    esac
  done <"$STACK_PORTS_FILE"
  unset _key _value
fi

AUREN_KAFKA_PORT="${AUREN_KAFKA_PORT:-19092}"
AUREN_KAFKA_CONTROLLER_PORT="${AUREN_KAFKA_CONTROLLER_PORT:-19093}"
AUREN_REGISTRY_PORT="${AUREN_REGISTRY_PORT:-18081}"
AUREN_PG_PORT="${AUREN_PG_PORT:-15432}"
AUREN_PROM_PORT="${AUREN_PROM_PORT:-19090}"
AUREN_S3_PORT="${AUREN_S3_PORT:-19000}"
AUREN_ALERTMANAGER_PORT="${AUREN_ALERTMANAGER_PORT:-19094}"

# How long `up` waits for each server to become ready (seconds).
AUREN_STACK_TIMEOUT="${AUREN_STACK_TIMEOUT:-120}"

LOG_DIR="$AUREN_STACK_DIR/logs"
PID_DIR="$AUREN_STACK_DIR/pids"
STACK_ENV_FILE="$AUREN_STACK_DIR/stack.env"

log() { printf '[stack] %s\n' "$*" >&2; }
die() { printf '[stack] ERROR: %s\n' "$*" >&2; exit 1; }

ensure_dirs() { mkdir -p "$AUREN_CACHE_DIR" "$AUREN_STACK_DIR" "$LOG_DIR" "$PID_DIR"; }

log_file() { printf '%s/%s.log' "$LOG_DIR" "$1"; }
pid_file() { printf '%s/%s.pid' "$PID_DIR" "$1"; }

# Keep the previous run's log as <server>.log.1 and start a fresh one.
rotate_log() {
  local f; f="$(log_file "$1")"
  if [[ -s "$f" ]]; then mv -f "$f" "$f.1"; fi
  : >"$f"
}

# retry <attempts> <cmd...>: run a command, retrying (after a short pause) on failure.
retry() {
  local n="$1" i; shift
  for ((i = 1; i <= n; i++)); do
    if "$@"; then return 0; fi
    if ((i < n)); then log "attempt $i/$n failed: $*; retrying in 3s"; sleep 3; fi
  done
  return 1
}

# True when something accepts TCP connections on 127.0.0.1:<port>.
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# live_pid <server> <marker>: print the server's pid when it is running. The process must be
# alive and its command line must contain <marker> (a string unique to this run dir), so a
# recycled pid is never mistaken for the server. Without a valid pid file (say the run dir
# was wiped while servers ran), /proc is searched for that exact marker.
live_pid() {
  local name="$1" marker="$2" f pid
  f="$(pid_file "$name")"
  if [[ -f "$f" ]]; then
    pid="$(<"$f")"
    if [[ "$pid" =~ ^[0-9]+$ ]] && cmdline_has "$pid" "$marker"; then
      printf '%s' "$pid"
      return 0
    fi
  fi
  for pid in /proc/[0-9]*; do
    pid="${pid#/proc/}"
    if [[ "$pid" != "$$" ]] && cmdline_has "$pid" "$marker"; then
      [[ -d "$PID_DIR" ]] && printf '%s\n' "$pid" >"$f"
      printf '%s' "$pid"
      return 0
    fi
  done
  return 1
}

# cmdline_has <pid> <string>: the process's argv, joined by spaces, contains <string> as
# whole argument(s).
# Bash builtins only (no grep/tr processes that would match the marker themselves).
cmdline_has() {
  local args=()
  mapfile -d '' args 2>/dev/null <"/proc/$1/cmdline" || return 1
  ((${#args[@]})) || return 1
  [[ " ${args[*]} " == *" $2 "* ]]
}

# Refuse to start a server when a foreign process already holds its port.
assert_port_free() {
  local name="$1" port="$2"
  if port_open "$port"; then
    die "$name: port $port on 127.0.0.1 is already in use by another process (not started by this stack). Stop it or set the port variable (see scripts/stack/common.sh)."
  fi
}

# wait_until <server> <pid> <timeout-s> <probe...>: poll the probe until it succeeds.
# Fails early when the process dies, and on timeout names the server and its log.
wait_until() {
  local name="$1" pid="$2" timeout="$3"; shift 3
  local start=$SECONDS
  until "$@" >/dev/null 2>&1; do
    if ! kill -0 "$pid" 2>/dev/null; then
      tail -n 30 "$(log_file "$name")" >&2 || true
      die "$name exited during startup (pid $pid); see log $(log_file "$name")"
    fi
    if ((SECONDS - start >= timeout)); then
      tail -n 30 "$(log_file "$name")" >&2 || true
      die "$name not ready after ${timeout}s; see log $(log_file "$name")"
    fi
    sleep 0.5
  done
  log "$name ready (pid $pid, $((SECONDS - start))s)"
}

# stop_pid <server> <pid> [signal]: send signal (default TERM), wait up to 30s, then SIGKILL.
stop_pid() {
  local name="$1" pid="$2" sig="${3:-TERM}" i
  kill "-$sig" "$pid" 2>/dev/null || return 0
  for ((i = 0; i < 60; i++)); do
    kill -0 "$pid" 2>/dev/null || { log "$name stopped (pid $pid)"; return 0; }
    sleep 0.5
  done
  log "$name did not stop within 30s after SIG$sig; sending SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
  for ((i = 0; i < 20; i++)); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.25; done
  log "WARNING: $name (pid $pid) is still alive after SIGKILL"
}

# Start a long-running command detached from the calling shell (own session, stdin closed),
# appending stdout/stderr to the server's log; records and prints its pid.
spawn() {
  local name="$1"; shift
  setsid nohup "$@" >>"$(log_file "$name")" 2>&1 </dev/null &
  local pid=$!
  printf '%s\n' "$pid" >"$(pid_file "$name")"
  printf '%s' "$pid"
}

# Run apt-get install without letting package scripts start system services
# (Debian's postgresql/prometheus packages would otherwise start their own instances).
apt_install() {
  local added_policy=0
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    added_policy=1
  fi
  local rc=0
  log "apt-get install $* (log: $LOG_DIR/apt.log)"
  (
    export DEBIAN_FRONTEND=noninteractive
    # A stale package index is the usual cause of a failed install: refresh it and try again.
    apt-get install -y --no-install-recommends "$@" ||
      { apt-get update && retry 2 apt-get install -y --no-install-recommends "$@"; }
  ) >>"$LOG_DIR/apt.log" 2>&1 || rc=$?
  if ((added_policy)); then rm -f /usr/sbin/policy-rc.d; fi
  ((rc == 0)) || die "apt-get install $* failed; see $LOG_DIR/apt.log"
}

need_root_for_apt() {
  [[ $EUID -eq 0 ]] || die "$1 is not installed and installing it needs root: run 'sudo apt-get install -y $1'"
}
