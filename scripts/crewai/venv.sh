#!/usr/bin/env bash
# Creates (once) and prints the path of the cached Python venv for the CrewAI example crew:
# ${AUREN_CACHE_DIR:-~/.cache/auren}/venv-crewai-<crewai version>-<hash of requirements.txt and
# constraints.txt> (top-level pins in requirements.txt, every transitive version in constraints.txt).
# Quick when present (a `.ready` marker is written only after a complete install, so an
# interrupted install is redone). Called by scripts/test.sh before vitest and by the CrewAI
# integration test's setup. A fresh install takes a few minutes and about 1 GB (see README).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
CACHE="${AUREN_CACHE_DIR:-$HOME/.cache/auren}"
req="$here/requirements.txt"
constraints="$here/constraints.txt"
crewai_version="$(sed -n 's/^crewai==//p' "$req")"
hash="$(cat "$req" "$constraints" | sha256sum | cut -c1-10)"
VENV="$CACHE/venv-crewai-$crewai_version-$hash"
if [[ -f "$VENV/.ready" ]]; then echo "$VENV"; exit 0; fi

mkdir -p "$CACHE"
exec 9>"$CACHE/venv-crewai.lock"
flock 9
if [[ -f "$VENV/.ready" ]]; then echo "$VENV"; exit 0; fi
start=$(date +%s)
echo "[crewai] creating $VENV (crewai $crewai_version; several minutes, once)" >&2
rm -rf "$VENV"
python3 -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --disable-pip-version-check --no-input -r "$req" -c "$constraints" >&2
"$VENV/bin/python" -c 'import crewai, openinference.instrumentation.crewai, openinference.instrumentation.openai' >&2
echo "$(( $(date +%s) - start ))" > "$VENV/.install-seconds"
touch "$VENV/.ready"
# Venvs of earlier pins are of no further use (about 1 GB each).
for old in "$CACHE"/venv-crewai-*; do
  [[ -d "$old" && "$old" != "$VENV" ]] && rm -rf "$old"
done
echo "[crewai] venv ready in $(( $(date +%s) - start )) s" >&2
echo "$VENV"
