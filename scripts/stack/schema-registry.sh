# shellcheck shell=bash
# Schema registry: Apicurio Registry (in-memory storage) serving the Confluent-compatible API
# at http://127.0.0.1:$AUREN_REGISTRY_PORT/apis/ccompat/v7. Sourced by scripts/stack.sh.
#
# Version: 3.0.9. The planned 3.1.7 is not on Maven Central as reachable here (its
# apicurio-registry-app artifacts answer 404; the 3.x versions present are 3.0.9, 3.3.2 and
# 3.3.3), and 3.3.x is compiled for Java 21 while this machine has Java 17. 3.0.9 runs on
# Java 11+ and its ccompat API behaves like Confluent's for what the project uses (ids,
# 409 on incompatible schemas, 40401/40403 on missing subjects/ids, subject deletion).
#
# Properties:
#  - apicurio.ccompat.use-canonical-hash=true: re-registering the same schema with different
#    formatting returns the existing id/version, as Confluent does (Apicurio's default compares
#    raw text and would create a new version).
#  - apicurio.rest.deletion.*.enabled=true: subjects/versions can be deleted (tests clean up).
#  - legacy-id-mode stays off: ids are content ids, so one schema under two subjects has one id,
#    as in Confluent.

AUREN_APICURIO_VERSION="${AUREN_APICURIO_VERSION:-3.0.9}"
APICURIO_HOME="$AUREN_CACHE_DIR/apicurio-$AUREN_APICURIO_VERSION"
APICURIO_URL="https://repo.maven.apache.org/maven2/io/apicurio/apicurio-registry-app/$AUREN_APICURIO_VERSION/apicurio-registry-app-$AUREN_APICURIO_VERSION-all.tar.gz"
REGISTRY_MARKER="-Dauren.stack.dir=$AUREN_STACK_DIR/schema-registry"
REGISTRY_BASE="http://127.0.0.1:$AUREN_REGISTRY_PORT/apis/ccompat/v7"

registry_installed() { [[ -f "$APICURIO_HOME/.complete" ]]; }

registry_install() {
  registry_installed && return 0
  command -v java >/dev/null || die "schema-registry: java (17+) not found; install openjdk-17-jre-headless"
  log "schema-registry: downloading Apicurio Registry $AUREN_APICURIO_VERSION from Maven Central"
  local tmp="$AUREN_CACHE_DIR/apicurio-$AUREN_APICURIO_VERSION.tar.gz.part"
  retry 2 curl -fsSL --connect-timeout 20 --max-time 600 -o "$tmp" "$APICURIO_URL" ||
    die "schema-registry: download failed: $APICURIO_URL"
  rm -rf "$APICURIO_HOME"
  mkdir -p "$APICURIO_HOME"
  tar -xzf "$tmp" -C "$APICURIO_HOME" || die "schema-registry: could not unpack $tmp"
  rm -f "$tmp"
  registry_jar >/dev/null || die "schema-registry: no runnable jar found in $APICURIO_HOME"
  touch "$APICURIO_HOME/.complete"
}

# 3.0.x ships a legacy "*-runner.jar"; later versions the quarkus-app layout (quarkus-run.jar).
registry_jar() {
  local j
  for j in "$APICURIO_HOME"/quarkus-run.jar "$APICURIO_HOME"/quarkus-app/quarkus-run.jar "$APICURIO_HOME"/*-runner.jar; do
    [[ -f "$j" ]] && { printf '%s' "$j"; return 0; }
  done
  return 1
}

registry_pid() { live_pid schema-registry "$REGISTRY_MARKER"; }

registry_start() {
  assert_port_free schema-registry "$AUREN_REGISTRY_PORT"
  rotate_log schema-registry
  local jar; jar="$(registry_jar)" || die "schema-registry: no runnable jar in $APICURIO_HOME"
  log "schema-registry: starting Apicurio $AUREN_APICURIO_VERSION on 127.0.0.1:$AUREN_REGISTRY_PORT"
  # cwd: Quarkus may write small files relative to it; keep them out of the repo.
  mkdir -p "$AUREN_STACK_DIR/schema-registry"
  (cd "$AUREN_STACK_DIR/schema-registry" &&
    spawn schema-registry java -Xmx384m -Xms128m -XX:+UseSerialGC "$REGISTRY_MARKER" \
      -Dquarkus.http.host=127.0.0.1 -Dquarkus.http.port="$AUREN_REGISTRY_PORT" \
      -Dapicurio.ccompat.use-canonical-hash=true \
      -Dapicurio.rest.deletion.artifact.enabled=true \
      -Dapicurio.rest.deletion.artifact-version.enabled=true \
      -Dapicurio.rest.deletion.group.enabled=true \
      -jar "$jar" >/dev/null)
}

# Ready when the subjects list answers with a JSON array.
registry_ready() {
  local body
  body="$(curl -fsS --max-time 3 "$REGISTRY_BASE/subjects")" || return 1
  [[ "$body" == \[* ]]
}

# Global compatibility BACKWARD (set through the ccompat API, then read back).
registry_configure() {
  local ct='Content-Type: application/vnd.schemaregistry.v1+json' got
  curl -fsS --max-time 10 -X PUT -H "$ct" -d '{"compatibility":"BACKWARD"}' "$REGISTRY_BASE/config" >/dev/null ||
    die "schema-registry: PUT $REGISTRY_BASE/config failed; see $(log_file schema-registry)"
  got="$(curl -fsS --max-time 10 "$REGISTRY_BASE/config")" ||
    die "schema-registry: GET $REGISTRY_BASE/config failed; see $(log_file schema-registry)"
  [[ "$got" == *'"BACKWARD"'* ]] || die "schema-registry: global compatibility is not BACKWARD: $got"
}

registry_wait() {
  local pid; pid="$(<"$(pid_file schema-registry)")"
  wait_until schema-registry "$pid" "$AUREN_STACK_TIMEOUT" registry_ready
  registry_configure
}

registry_stop() {
  local pid
  pid="$(registry_pid)" || { rm -f "$(pid_file schema-registry)"; return 0; }
  stop_pid schema-registry "$pid" TERM
  rm -f "$(pid_file schema-registry)"
}

registry_describe() { printf '%s' "$REGISTRY_BASE"; }
