# Shared by the project's scripts: installs what is missing (quickly skipping
# what is already there) and builds the pieces. Source it from the repo root.

set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

WASM_PACK_VERSION=0.15.1
BINARYEN_VERSION=132.0.0
# wasm-bindgen-cli must match the wasm-bindgen version pinned in Cargo.lock byte for byte.
WASM_BINDGEN_VERSION="$(awk '/^name = "wasm-bindgen"$/ {getline; gsub(/version = |"/, ""); print; exit}' Cargo.lock)"

SECONDS=0
step() { printf '\n\033[1m==> %s  (%d:%02d elapsed)\033[0m\n' "$*" $((SECONDS / 60)) $((SECONDS % 60)); }

ensure_tools() {
  if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    step "installing the wasm32-unknown-unknown target"
    rustup target add wasm32-unknown-unknown
  fi
  if ! wasm-pack --version 2>/dev/null | grep -q "$WASM_PACK_VERSION"; then
    step "installing wasm-pack $WASM_PACK_VERSION"
    cargo install wasm-pack --version "=$WASM_PACK_VERSION" --locked
  fi
  if ! wasm-bindgen --version 2>/dev/null | grep -q "$WASM_BINDGEN_VERSION"; then
    step "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION"
    # No --locked: one of its pinned transitive versions is missing from the registry mirror.
    cargo install wasm-bindgen-cli --version "=$WASM_BINDGEN_VERSION"
  fi
  if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
    step "installing Debian's chromium and chromium-driver"
    local sudo=""
    [ "$(id -u)" = 0 ] || sudo=sudo
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium chromium-driver >/dev/null
  fi
  # Debian's /usr/bin/wasm-opt (binaryen 108) silently breaks current
  # wasm-bindgen output; npm's binaryen goes first on PATH.
  if [ ! -x .tools/node_modules/.bin/wasm-opt ]; then
    step "installing binaryen $BINARYEN_VERSION (wasm-opt) from npm"
    mkdir -p .tools
    npm install --prefix .tools --no-audit --no-fund --silent "binaryen@$BINARYEN_VERSION" >/dev/null
  fi
  export PATH="$ROOT/.tools/node_modules/.bin:$PATH"
  # chromedriver leaves profile folders behind: keep them where we clean up.
  export TMPDIR="$ROOT/.tmp"
  mkdir -p "$TMPDIR"
}

# The npm package, release build: for bundlers (client-wasm/pkg, what the
# wallet imports) and for plain ES modules in browsers (client-wasm/pkg-web,
# `--target web`). The second build reuses the compiled wasm.
build_wasm_package() {
  step "building the ruv-client npm package (wasm-pack, release; bundler and web targets)"
  wasm-pack build client-wasm --release --target bundler --out-dir pkg --mode no-install
  wasm-pack build client-wasm --release --target web --out-dir pkg-web --mode no-install
  # The package's license (MIT OR Apache-2.0): one LICENSE file, which npm
  # always packs, holding both texts.
  for out in client-wasm/pkg client-wasm/pkg-web; do
    { echo "ruv-client is licensed under either of"
      echo "  - the MIT License, or"
      echo "  - the Apache License, Version 2.0,"
      echo "at your option. Both texts follow."
      echo; cat LICENSE-MIT; echo; cat LICENSE-APACHE; } > "$out/LICENSE"
  done
}

ensure_npm_packages() {
  if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ] || [ package.json -nt node_modules/.package-lock.json ]; then
    step "installing npm packages"
    npm install --no-audit --no-fund
  fi
}

build_wallet() {
  build_wasm_package
  ensure_npm_packages
  step "building the wallet (Vite)"
  npm run build --workspace web
}

# The browser extension (extension/dist, loadable unpacked). Its network is
# $RUV_NETWORK_JSON, else web/dist/network.json if the devnet wrote one.
build_extension() {
  ensure_npm_packages
  step "building the browser extension (Vite; extension/dist)"
  npm run typecheck --workspace extension
  npm run build --workspace extension
}

build_relay() {
  step "building ruv-relay"
  cargo build -p ruv-relay
}

# The lying relay proxy the Playwright lying-relay spec puts in front of a relay.
build_liar() {
  step "building ruv-liar (a lying relay proxy for the Playwright tests)"
  cargo build -p ruv-integration-tests --bin ruv-liar
}

# examples/light-client: the packed ruv-client package (npm pack of
# client-wasm/pkg) installed into a plain Vite + TypeScript app, type-checked
# against the package's declarations and built. Needs build_wasm_package first.
build_example() {
  step "building examples/light-client against the packed ruv-client (npm pack, tsc --noEmit, vite build)"
  bash examples/light-client/setup.sh
  (cd examples/light-client && npm run build --silent)
}

RELAY_BIN="${CARGO_TARGET_DIR:-$ROOT/target}/debug/ruv-relay"

# The benchmarks' 4-relay loopback devnet: initialises DIR, starts relays
# from BIN (a directory holding ruv-relay) on ports BASE..BASE+3, each
# peering with the ones before it, and waits until they answer. Extra
# arguments go to every `ruv-relay run`; BENCH_RUST_LOG sets their RUST_LOG
# (default warn; logs in DIR/relay-N.log). Sets BENCH_PIDS (relay process ids)
# and BENCH_RELAYS (the --relay arguments for ruv-loadgen).
start_bench_devnet() {
  local dir="$1" base="$2" bin="$3"
  shift 3
  BENCH_PIDS=()
  BENCH_RELAYS=()
  rm -rf "$dir"
  "$bin/ruv-relay" devnet-init --dir "$dir" --relays 4 >/dev/null
  local i j args
  for i in 0 1 2 3; do
    args=(run --listen "127.0.0.1:$((base + i))" --genesis "$dir/genesis.json" --data-dir "$dir/relay-$i"
          --key-file "$dir/relay-$i.key" --name "relay-$i" "$@")
    [ "$i" = 0 ] && args+=(--faucet-key-file "$dir/faucet.key")
    for ((j = 0; j < i; j++)); do args+=(--peer "ws://127.0.0.1:$((base + j))/peer/v1"); done
    RUST_LOG="${BENCH_RUST_LOG:-warn}" "$bin/ruv-relay" "${args[@]}" > "$dir/relay-$i.log" 2>&1 &
    BENCH_PIDS+=($!)
  done
  for i in 0 1 2 3; do
    until curl -sf "http://127.0.0.1:$((base + i))/healthz" >/dev/null; do sleep 0.1; done
    BENCH_RELAYS+=(--relay "http://127.0.0.1:$((base + i))")
  done
  sleep 1 # let the peer links come up
}

# Stops the relays start_bench_devnet started.
stop_bench_devnet() {
  kill "${BENCH_PIDS[@]}" 2>/dev/null || true
  wait "${BENCH_PIDS[@]}" 2>/dev/null || true
}
