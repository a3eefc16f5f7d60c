# shellcheck shell=bash
# Prometheus from Debian's `prometheus` package (with promtool), as our own instance on
# 127.0.0.1:$AUREN_PROM_PORT, never the system service. Sourced by scripts/stack.sh.
#
# Scrape config: prometheus/prometheus.yml, rendered into the run dir with the real
# file_sd folder ($AUREN_STACK_DIR/prom-targets); processes register their /metrics endpoint
# by writing <name>.json there (see test/helpers/stack.ts registerPromTarget).

PROM_RUN="$AUREN_STACK_DIR/prometheus"
PROM_TARGETS_DIR="$AUREN_STACK_DIR/prom-targets"
PROM_TEMPLATE="$REPO_ROOT/prometheus/prometheus.yml"
PROM_RULES_DIR="$REPO_ROOT/prometheus/rules"
PROM_MARKER="--config.file=$PROM_RUN/prometheus.yml"

prom_install() {
  if ! command -v prometheus >/dev/null || ! command -v promtool >/dev/null; then
    need_root_for_apt prometheus
    # --no-install-recommends keeps prometheus-node-exporter out; apt_install blocks service starts.
    apt_install prometheus
  fi
  # On a systemd machine, make sure the packaged instance stays off (it would take :9090).
  if [[ $EUID -eq 0 && -d /run/systemd/system ]] && systemctl is-enabled --quiet prometheus 2>/dev/null; then
    log "prometheus: disabling the system prometheus service"
    systemctl disable --now prometheus >/dev/null 2>&1 || true
  fi
}

prom_pid() { live_pid prometheus "$PROM_MARKER"; }

# Renders the template (targets dir, rules dir, Alertmanager address) into $PROM_RUN/prometheus.yml
# and checks it (with the rule files it names) with promtool.
prom_render_config() {
  mkdir -p "$PROM_RUN/data" "$PROM_TARGETS_DIR"
  sed -e "s#__AUREN_PROM_TARGETS_DIR__#$PROM_TARGETS_DIR#g" \
    -e "s#__AUREN_PROM_RULES_DIR__#$PROM_RULES_DIR#g" \
    -e "s#__AUREN_ALERTMANAGER_ADDRESS__#127.0.0.1:$AUREN_ALERTMANAGER_PORT#g" \
    "$PROM_TEMPLATE" >"$PROM_RUN/prometheus.yml.tmp"
  promtool check config "$PROM_RUN/prometheus.yml.tmp" >>"$(log_file prometheus)" 2>&1 ||
    die "prometheus: invalid config $PROM_RUN/prometheus.yml.tmp; see $(log_file prometheus)"
  mv -f "$PROM_RUN/prometheus.yml.tmp" "$PROM_RUN/prometheus.yml"
}

# Digest of what Prometheus loads: the rendered config and the rule files.
prom_loaded_digest() {
  cat "$PROM_RUN/prometheus.yml" "$PROM_RULES_DIR"/*.yml 2>/dev/null | sha256sum | cut -d' ' -f1
}

# For a Prometheus that is already running: render the config again and, when it or a rule file
# changed since the server last (re)loaded, ask it to reload (POST /-/reload; no restart, data
# and scrapes go on).
prom_reload_if_changed() {
  prom_render_config
  local digest; digest="$(prom_loaded_digest)"
  if [[ "$digest" != "$(cat "$PROM_RUN/loaded.sha256" 2>/dev/null)" ]]; then
    log "prometheus: config or rules changed; reloading"
    curl -fsS --max-time 10 -X POST "http://127.0.0.1:$AUREN_PROM_PORT/-/reload" >/dev/null ||
      die "prometheus: reload refused; see $(log_file prometheus)"
    printf '%s\n' "$digest" >"$PROM_RUN/loaded.sha256"
  fi
}

prom_start() {
  assert_port_free prometheus "$AUREN_PROM_PORT"
  rotate_log prometheus
  prom_render_config
  prom_loaded_digest >"$PROM_RUN/loaded.sha256"
  log "prometheus: starting on 127.0.0.1:$AUREN_PROM_PORT"
  spawn prometheus prometheus \
    "$PROM_MARKER" \
    --storage.tsdb.path="$PROM_RUN/data" \
    --storage.tsdb.retention.time=2d \
    --web.listen-address="127.0.0.1:$AUREN_PROM_PORT" \
    --web.enable-lifecycle >/dev/null
}

prom_ready() { curl -fsS --max-time 2 "http://127.0.0.1:$AUREN_PROM_PORT/-/ready" >/dev/null; }

prom_wait() {
  local pid; pid="$(<"$(pid_file prometheus)")"
  wait_until prometheus "$pid" "$AUREN_STACK_TIMEOUT" prom_ready
}

prom_stop() {
  local pid
  pid="$(prom_pid)" || { rm -f "$(pid_file prometheus)"; return 0; }
  stop_pid prometheus "$pid" TERM
  rm -f "$(pid_file prometheus)"
}

prom_describe() { printf 'http://127.0.0.1:%s (targets %s)' "$AUREN_PROM_PORT" "$PROM_TARGETS_DIR"; }
