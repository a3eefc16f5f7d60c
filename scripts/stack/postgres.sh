# shellcheck shell=bash
# PostgreSQL 15 from Debian's `postgresql` package, as our own cluster (initdb + postgres),
# never the system service. Sourced by scripts/stack.sh.
#
# Postgres refuses to run as root, so as root the server runs as the `postgres` user. That
# user usually cannot enter $HOME=/root (mode 700); then the cluster lives in
# /var/tmp/auren-pg-<hash of the run dir> and $AUREN_STACK_DIR/postgres is a symlink to it.
# Logs, pid and password stay in the run dir (root's).
#
# Access: TCP on 127.0.0.1 only, scram-sha-256 for everyone; the superuser `postgres` has no
# password and is reachable only through a unix socket in a 0700 directory inside the cluster
# dir (used by this script to create role `auren` and database `auren`).

PG_LINK="$AUREN_STACK_DIR/postgres"
PG_PASSWORD_FILE="$AUREN_STACK_DIR/postgres.password"

pg_bin_dir() {
  # 15 is what Debian bookworm ships; take the newest other version if it is all there is.
  local d
  for d in /usr/lib/postgresql/15/bin $(printf '%s\n' /usr/lib/postgresql/*/bin | sort -rV); do
    [[ -x "$d/postgres" ]] && { printf '%s' "$d"; return 0; }
  done
  return 1
}

pg_install() {
  pg_bin_dir >/dev/null && return 0
  need_root_for_apt postgresql
  apt_install postgresql
  pg_bin_dir >/dev/null || die "postgres: installed the postgresql package but found no /usr/lib/postgresql/*/bin/postgres"
}

# pg_as <cmd...>: run a command as the cluster's OS user (postgres when we are root).
# setpriv execs the command (no fork), so a spawned server's pid is the postmaster's.
PG_AS=()
[[ $EUID -eq 0 ]] && PG_AS=(setpriv --reuid=postgres --regid=postgres --init-groups --)
pg_as() { "${PG_AS[@]}" "$@"; }

# The cluster dir when it exists (no side effects; used by status/down).
pg_existing_dir() {
  [[ -e "$PG_LINK" ]] || return 1
  readlink -f "$PG_LINK"
}

# Where the cluster lives (see header). Creates the dir (and symlink) when missing.
pg_dir() {
  pg_existing_dir && return 0
  rm -f "$PG_LINK" # a dangling symlink
  if [[ $EUID -eq 0 ]]; then
    id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql --shell /bin/false postgres
    mkdir -p "$AUREN_STACK_DIR"
    if ! setpriv --reuid=postgres --regid=postgres --init-groups -- test -x "$AUREN_STACK_DIR"; then
      local alt; alt="$(pg_alt_dir)"
      # No symlink means a fresh run dir: a cluster left there belongs to an old run dir,
      # unless it is still running (the run dir was wiped under it): then keep using it.
      pg_pid >/dev/null || rm -rf "$alt"
      mkdir -p "$alt"
      chown postgres:postgres "$alt"
      chmod 700 "$alt"
      ln -s "$alt" "$PG_LINK"
      printf '%s' "$alt"
      return 0
    fi
  fi
  mkdir -p "$PG_LINK"
  [[ $EUID -eq 0 ]] && chown postgres:postgres "$PG_LINK"
  chmod 700 "$PG_LINK"
  printf '%s' "$PG_LINK"
}

pg_socket_dir() { printf '%s/socket' "$(pg_existing_dir)"; }

# As root, when the postgres user cannot enter the run dir: a fixed dir per run dir.
pg_alt_dir() { printf '/var/tmp/auren-pg-%s' "$(printf '%s' "$AUREN_STACK_DIR" | cksum | cut -d' ' -f1)"; }

pg_pid() {
  local dir
  dir="$(pg_existing_dir)" || dir="$(pg_alt_dir)"
  live_pid postgres "$dir/data"
}

pg_initdb() {
  local dir data bin
  dir="$(pg_dir)"; data="$dir/data"; bin="$(pg_bin_dir)"
  [[ -f "$data/PG_VERSION" ]] && return 0
  log "postgres: initdb $data"
  rm -f "$dir/.auren-initialized"
  pg_as mkdir -p "$dir/socket"
  chmod 700 "$dir/socket"
  (cd "$dir" && pg_as "$bin/initdb" -D "$data" -U postgres -E UTF8 --locale=C.UTF-8 \
    --auth-local=trust --auth-host=scram-sha-256) >>"$(log_file postgres)" 2>&1 ||
    die "postgres: initdb failed; see $(log_file postgres)"
  # Dev/test cluster: its data is disposable, so trade durability for speed.
  pg_as tee -a "$data/postgresql.conf" >/dev/null <<EOF

# --- added by scripts/stack/postgres.sh ---
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir/socket'
unix_socket_permissions = 0700
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 200
EOF
}

pg_start() {
  local dir bin
  bin="$(pg_bin_dir)" || die "postgres: binaries not found"
  assert_port_free postgres "$AUREN_PG_PORT"
  rotate_log postgres
  pg_initdb
  dir="$(pg_dir)"
  log "postgres: starting $(basename "$(dirname "$bin")") on 127.0.0.1:$AUREN_PG_PORT (data $dir/data)"
  # setpriv execs (no fork), so the recorded pid is the postmaster's.
  (cd "$dir" && spawn postgres "${PG_AS[@]}" "$bin/postgres" -D "$dir/data" -p "$AUREN_PG_PORT" >/dev/null)
}

pg_ready() { "$(pg_bin_dir)/pg_isready" -q -h 127.0.0.1 -p "$AUREN_PG_PORT" -t 2; }

pg_psql() {
  pg_as "$(pg_bin_dir)/psql" -X -q -v ON_ERROR_STOP=1 -h "$(pg_socket_dir)" -p "$AUREN_PG_PORT" -U postgres "$@"
}

# Role `auren` (password generated here, kept only in the run dir) owning database `auren`.
pg_configure() {
  local dir; dir="$(pg_dir)"
  [[ -f "$dir/.auren-initialized" && -s "$PG_PASSWORD_FILE" ]] && return 0
  local pw
  pw="$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
  (umask 077 && printf '%s\n' "$pw" >"$PG_PASSWORD_FILE")
  # The password reaches psql through the environment, not its command line.
  (cd "$dir" && AUREN_PG_PW="$pw" pg_psql -d postgres >>"$(log_file postgres)" 2>&1 <<'SQL'
\getenv pw AUREN_PG_PW
SELECT CASE WHEN EXISTS (SELECT FROM pg_roles WHERE rolname = 'auren')
            THEN format('ALTER ROLE auren WITH LOGIN PASSWORD %L', :'pw')
            ELSE format('CREATE ROLE auren WITH LOGIN PASSWORD %L', :'pw') END \gexec
SELECT 'CREATE DATABASE auren OWNER auren'
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'auren') \gexec
SQL
  ) || die "postgres: creating role/database auren failed; see $(log_file postgres)"
  pg_as touch "$dir/.auren-initialized"
}

pg_wait() {
  local pid; pid="$(<"$(pid_file postgres)")"
  wait_until postgres "$pid" "$AUREN_STACK_TIMEOUT" pg_ready
  pg_configure
}

pg_stop() {
  local pid
  pid="$(pg_pid)" || { rm -f "$(pid_file postgres)"; return 0; }
  # SIGINT = "fast" shutdown (SIGTERM would wait for every client to disconnect).
  stop_pid postgres "$pid" INT
  rm -f "$(pid_file postgres)"
}

pg_describe() { printf '127.0.0.1:%s (db auren, user auren)' "$AUREN_PG_PORT"; }

pg_database_url() {
  printf 'postgres://auren:%s@127.0.0.1:%s/auren' "$(<"$PG_PASSWORD_FILE")" "$AUREN_PG_PORT"
}
