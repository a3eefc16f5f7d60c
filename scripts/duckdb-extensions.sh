#!/usr/bin/env bash
# Fills DuckDB's extension directory with the httpfs extension (S3 reads for `auren query` and the
# archival tests) from PyPI's `duckdb-ext-httpfs` wheel, which ships the signed extension built
# for one DuckDB version. Cached under ${AUREN_CACHE_DIR:-~/.cache/auren}/duckdb-ext; quick when
# present. Called by scripts/bootstrap.sh. DuckDB never downloads an extension at run time
# (autoinstall is off where we open it: processors/archival/duckdb.ts).
#
# Version: the wheel exists up to DuckDB 1.4.4 (1.4.4.20260205), so @duckdb/node-api is pinned
# to 1.4.4-r.4 in package.json; the check below fails when the two disagree.
set -euo pipefail
cd "$(dirname "$0")/.."
CACHE="${AUREN_CACHE_DIR:-$HOME/.cache/auren}"
WHEEL_VERSION="${AUREN_DUCKDB_HTTPFS_WHEEL:-1.4.4.20260205}"
DUCKDB_VERSION="v${WHEEL_VERSION%.*}"
DEST="$CACHE/duckdb-ext"
TARGET="$DEST/$DUCKDB_VERSION/linux_amd64/httpfs.duckdb_extension"

node_version="$(node -p "require('@duckdb/node-bindings/package.json').version" 2>/dev/null || true)"
if [[ -n "$node_version" && "v${node_version%%-*}" != "$DUCKDB_VERSION" ]]; then
  echo "[duckdb] @duckdb/node-bindings is $node_version but the httpfs wheel is for $DUCKDB_VERSION" >&2
  exit 1
fi
[[ -f "$TARGET" ]] && exit 0

echo "[duckdb] fetching duckdb-ext-httpfs==$WHEEL_VERSION from PyPI into $DEST" >&2
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
python3 -m pip download -q --no-deps --only-binary=:all: --platform manylinux_2_28_x86_64 \
  -d "$tmp" "duckdb-ext-httpfs==$WHEEL_VERSION"
python3 - "$tmp" "$DEST" <<'PY'
import glob, os, sys, zipfile
src, dest = sys.argv[1], sys.argv[2]
wheel = glob.glob(os.path.join(src, '*.whl'))[0]
with zipfile.ZipFile(wheel) as z:
    for name in z.namelist():
        marker = 'extensions/'
        if name.endswith('.duckdb_extension') and marker in name:
            rel = name.split(marker, 1)[1]          # v1.4.4/linux_amd64/httpfs.duckdb_extension
            out = os.path.join(dest, rel)
            os.makedirs(os.path.dirname(out), exist_ok=True)
            with z.open(name) as r, open(out + '.part', 'wb') as w:
                w.write(r.read())
            os.replace(out + '.part', out)
PY
[[ -f "$TARGET" ]] || { echo "[duckdb] the wheel did not contain $TARGET" >&2; exit 1; }
echo "[duckdb] httpfs $DUCKDB_VERSION ready in $DEST" >&2
