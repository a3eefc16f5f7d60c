#!/usr/bin/env bash
# Renders prometheus/alertmanager.yml into <dir>/alertmanager.yml (receiver URLs, secret files
# and timings from the AUREN_ALERT_* environment, see the file's header) and checks it with
# `amtool check-config`; exit 1 with amtool's message when it is invalid. Used by npm test and by
# tests that start their own Alertmanager with receivers of their own.
#
#   bash scripts/alertmanager-config.sh <dir>
set -euo pipefail
[[ $# -eq 1 ]] || { echo "usage: bash scripts/alertmanager-config.sh <dir>" >&2; exit 2; }
STACK_DIR_SCRIPTS="$(cd "$(dirname "${BASH_SOURCE[0]}")/stack" && pwd)"
# shellcheck source=stack/common.sh
source "$STACK_DIR_SCRIPTS/common.sh"
# shellcheck source=stack/alertmanager.sh
source "$STACK_DIR_SCRIPTS/alertmanager.sh"
ensure_dirs
command -v amtool >/dev/null || am_install
am_render_config "$1"
cat "$1/check-config.out" >&2
