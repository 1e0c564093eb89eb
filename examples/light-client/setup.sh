#!/usr/bin/env bash
# Packs the ruv-client npm package (client-wasm/pkg, the bundler build) with
# `npm pack`, exactly as it would be published, and installs that tarball
# into this example. Quick when nothing changed.
#
#   examples/light-client/setup.sh            # pack + install
#   (cd examples/light-client && npm run build)  # tsc --noEmit, then vite build into dist/
#
# Build the package first: `source scripts/lib.sh && build_wasm_package`.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PKG="$(cd "$HERE/../.." && pwd)/client-wasm/pkg"
TARBALL="$HERE/vendor/ruv-client.tgz"
STAMP="$HERE/node_modules/.ruv-setup-stamp"

[ -f "$PKG/package.json" ] || { echo "no ruv-client package in $PKG: run 'source scripts/lib.sh && build_wasm_package' first" >&2; exit 1; }

mkdir -p "$HERE/vendor"
if [ ! -f "$TARBALL" ] || [ -n "$(find "$PKG" -type f -newer "$TARBALL" -print -quit)" ]; then
  echo "packing $PKG"
  packed="$(cd "$PKG" && npm pack --pack-destination "$HERE/vendor" --silent | tail -n 1)"
  mv "$HERE/vendor/$packed" "$TARBALL"
fi

cd "$HERE"
if [ ! -f "$STAMP" ] || [ "$TARBALL" -nt "$STAMP" ] || [ package.json -nt "$STAMP" ]; then
  echo "installing the example's packages (ruv-client from $TARBALL)"
  # Same version, new contents: npm would keep the old copy.
  rm -rf node_modules/ruv-client
  npm install --no-audit --no-fund
  touch "$STAMP"
fi
