#!/usr/bin/env bash
# Installs (once) the tools of the Helm chart test (test/integration/helm-chart.test.ts) into the
# cache ${AUREN_CACHE_DIR:-~/.cache/auren}, and prints what it provides:
#   - Helm v3.22.0, built from the Go module proxy (RECIPES.md 7a): helm-v3.22.0/helm. A build
#     takes several minutes and about 100 MB; no download from elsewhere is needed.
#   - kubernetes-validate 1.37.0 from PyPI (RECIPES.md 7c) in a venv:
#     venv-kubernetes-validate-1.37.0/bin/kubernetes-validate (Kubernetes schemas 1.25 to 1.37).
# Quick when both are present. The paths are also written to helm-tools.env (shell syntax,
# AUREN_HELM=... and AUREN_KUBERNETES_VALIDATE=...), which the test reads; the test fails, and
# names this script, when a tool is missing. Called by scripts/test.sh before vitest.
set -euo pipefail
CACHE="${AUREN_CACHE_DIR:-$HOME/.cache/auren}"
HELM_VERSION=v3.22.0
KV_VERSION=1.37.0
HELM_DIR="$CACHE/helm-$HELM_VERSION"
HELM="$HELM_DIR/helm"
VENV="$CACHE/venv-kubernetes-validate-$KV_VERSION"
KV="$VENV/bin/kubernetes-validate"
mkdir -p "$CACHE"

if [[ ! -f "$VENV/.ready" ]]; then
  exec 9>"$CACHE/helm-tools-venv.lock"
  flock 9
  if [[ ! -f "$VENV/.ready" ]]; then
    echo "[helm-tools] creating $VENV (kubernetes-validate $KV_VERSION from PyPI, once)" >&2
    rm -rf "$VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check --no-input "kubernetes-validate==$KV_VERSION" >&2
    "$KV" --version >/dev/null
    touch "$VENV/.ready"
  fi
  flock -u 9
fi

helm_works() { [[ -x "$HELM" ]] && "$HELM" version --short >/dev/null 2>&1; }

if ! helm_works; then
  exec 8>"$CACHE/helm-tools-helm.lock"
  flock 8
  if ! helm_works; then
    command -v go >/dev/null || { echo "[helm-tools] go is not installed: Helm is built with 'go install' (RECIPES.md 7a)" >&2; exit 1; }
    start=$(date +%s)
    echo "[helm-tools] building Helm $HELM_VERSION into $HELM_DIR (several minutes, once)" >&2
    tmp="$HELM_DIR.tmp-$$"
    rm -rf "$tmp" && mkdir -p "$tmp"
    GOTOOLCHAIN=local GOBIN="$tmp" go install "helm.sh/helm/v3/cmd/helm@$HELM_VERSION" >&2
    mkdir -p "$HELM_DIR"
    mv -f "$tmp/helm" "$HELM"
    rm -rf "$tmp"
    helm_works || { echo "[helm-tools] $HELM was built but does not run" >&2; exit 1; }
    echo "[helm-tools] Helm built in $(( $(date +%s) - start )) s" >&2
  fi
  flock -u 8
fi

printf 'AUREN_HELM=%s\nAUREN_KUBERNETES_VALIDATE=%s\n' "$HELM" "$KV" > "$CACHE/helm-tools.env.tmp-$$"
mv -f "$CACHE/helm-tools.env.tmp-$$" "$CACHE/helm-tools.env"
cat "$CACHE/helm-tools.env"
