# shellcheck shell=bash
# Prometheus Alertmanager from Debian's `prometheus-alertmanager` package (with amtool), as our
# own instance on 127.0.0.1:$AUREN_ALERTMANAGER_PORT with clustering off, never the system
# service. Sourced by scripts/stack.sh (and scripts/alertmanager-config.sh).
#
# Config: prometheus/alertmanager.yml is a template; am_render_config fills in the receiver URLs,
# secret files and timings from the environment (see the file's header) and checks the result
# with `amtool check-config`. Secrets go to <dir>/secrets/ (mode 700, files mode 600).

AM_RUN="$AUREN_STACK_DIR/alertmanager"
AM_TEMPLATE="$REPO_ROOT/prometheus/alertmanager.yml"
AM_MARKER="--config.file=$AM_RUN/alertmanager.yml"
AM_BIN=prometheus-alertmanager

am_install() {
  if ! command -v "$AM_BIN" >/dev/null || ! command -v amtool >/dev/null; then
    need_root_for_apt prometheus-alertmanager
    apt_install prometheus-alertmanager
  fi
  if [[ $EUID -eq 0 && -d /run/systemd/system ]] && systemctl is-enabled --quiet prometheus-alertmanager 2>/dev/null; then
    log "alertmanager: disabling the system prometheus-alertmanager service"
    systemctl disable --now prometheus-alertmanager >/dev/null 2>&1 || true
  fi
}

# am_secret_file <dir> <name> <file-variable> <value>: prints the path of the secret file for a
# setting: the file named by the *_FILE variable when it is set, else <dir>/secrets/<name>
# written (mode 600) with <value>.
am_secret_file() {
  local dir="$1" name="$2" file_var="$3" value="$4"
  if [[ -n "${!file_var:-}" ]]; then
    [[ -r "${!file_var}" ]] || die "alertmanager: $file_var=${!file_var} is not a readable file"
    printf '%s' "${!file_var}"
    return 0
  fi
  (
    umask 077
    mkdir -p "$dir/secrets"
    printf '%s' "$value" >"$dir/secrets/$name"
  )
  printf '%s' "$dir/secrets/$name"
}

# am_render_config <dir>: renders the template into <dir>/alertmanager.yml (mode 600) with the
# secrets beside it, and checks it with amtool. Exits through die on an invalid result.
am_render_config() {
  local dir="$1"
  mkdir -p "$dir"
  local base="${AUREN_ALERT_RECEIVER_BASE_URL:-http://127.0.0.1:19095}"
  base="${base%/}"
  local webhook="${AUREN_ALERT_WEBHOOK_URL:-$base/webhook}"
  local replay="${AUREN_ALERT_REPLAY_WEBHOOK_URL:-$base/webhook/replay}"
  local pd_url="${AUREN_ALERT_PAGERDUTY_URL:-$base/pagerduty}"
  local slack_file pd_key_file
  slack_file="$(am_secret_file "$dir" slack_api_url AUREN_ALERT_SLACK_API_URL_FILE "${AUREN_ALERT_SLACK_API_URL:-$base/slack}")"
  pd_key_file="$(am_secret_file "$dir" pagerduty_routing_key AUREN_ALERT_PAGERDUTY_ROUTING_KEY_FILE "${AUREN_ALERT_PAGERDUTY_ROUTING_KEY:-auren-local-routing-key}")"
  local v
  for v in "$webhook" "$replay" "$pd_url" "$slack_file" "$pd_key_file"; do
    [[ "$v" != *'#'* && "$v" != *$'\n'* ]] || die "alertmanager: a receiver setting contains '#' or a newline: $v"
  done
  (
    umask 077
    sed -e "s#__AUREN_ALERT_WEBHOOK_URL__#$webhook#g" \
      -e "s#__AUREN_ALERT_REPLAY_WEBHOOK_URL__#$replay#g" \
      -e "s#__AUREN_ALERT_PAGERDUTY_URL__#$pd_url#g" \
      -e "s#__AUREN_ALERT_SLACK_API_URL_FILE__#$slack_file#g" \
      -e "s#__AUREN_ALERT_PAGERDUTY_ROUTING_KEY_FILE__#$pd_key_file#g" \
      -e "s#__AUREN_ALERT_GROUP_WAIT__#${AUREN_ALERT_GROUP_WAIT:-30s}#g" \
      -e "s#__AUREN_ALERT_GROUP_INTERVAL__#${AUREN_ALERT_GROUP_INTERVAL:-5m}#g" \
      -e "s#__AUREN_ALERT_REPEAT_INTERVAL__#${AUREN_ALERT_REPEAT_INTERVAL:-4h}#g" \
      "$AM_TEMPLATE" >"$dir/alertmanager.yml.tmp"
  )
  if ! amtool check-config "$dir/alertmanager.yml.tmp" >"$dir/check-config.out" 2>&1; then
    cat "$dir/check-config.out" >&2
    die "alertmanager: invalid config rendered from $AM_TEMPLATE (see above)"
  fi
  mv -f "$dir/alertmanager.yml.tmp" "$dir/alertmanager.yml"
}

am_pid() { live_pid alertmanager "$AM_MARKER"; }

am_start() {
  assert_port_free alertmanager "$AUREN_ALERTMANAGER_PORT"
  rotate_log alertmanager
  mkdir -p "$AM_RUN/data"
  am_render_config "$AM_RUN" 2>>"$(log_file alertmanager)" ||
    die "alertmanager: invalid config; see $(log_file alertmanager)"
  log "alertmanager: starting on 127.0.0.1:$AUREN_ALERTMANAGER_PORT"
  spawn alertmanager "$AM_BIN" \
    "$AM_MARKER" \
    --storage.path="$AM_RUN/data" \
    --web.listen-address="127.0.0.1:$AUREN_ALERTMANAGER_PORT" \
    --web.external-url="http://127.0.0.1:$AUREN_ALERTMANAGER_PORT" \
    --cluster.listen-address= >/dev/null
}

am_ready() { curl -fsS --max-time 2 "http://127.0.0.1:$AUREN_ALERTMANAGER_PORT/-/ready" >/dev/null; }

am_wait() {
  local pid; pid="$(<"$(pid_file alertmanager)")"
  wait_until alertmanager "$pid" "$AUREN_STACK_TIMEOUT" am_ready
}

am_stop() {
  local pid
  pid="$(am_pid)" || { rm -f "$(pid_file alertmanager)"; return 0; }
  stop_pid alertmanager "$pid" TERM
  rm -f "$(pid_file alertmanager)"
}

am_describe() { printf 'http://127.0.0.1:%s' "$AUREN_ALERTMANAGER_PORT"; }
