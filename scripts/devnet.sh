#!/usr/bin/env bash
# Runs the product: a local devnet of relays on 127.0.0.1 with an embedded
# database each, and the wallet on an origin of its own. Ctrl-C stops everything.
#
#   scripts/devnet.sh [--no-build] [--relays N] [--followers F] [--base-port P] [--wallet-port W] [--data-dir DIR] [--fresh]
#
# Relay i listens on 127.0.0.1:(P+i) (client API and peer endpoint); the
# relays run QR-Avalanche among themselves; relay 0 also runs the devnet
# faucet. The built wallet (web/dist) is served by scripts/serve-wallet.mjs
# on 127.0.0.1:W, never by a relay (http://127.0.0.1:W/ is printed); the
# demo dapp for the browser extension (extension/dist) on 127.0.0.1:(W+1).
# With --followers F, F follower relays (no validator key: they verify the
# validators' certified checkpoints and never vote) listen on the ports after
# the validators', 127.0.0.1:(P+N+k), and are listed in the wallet's
# network.json too.
# Defaults: 4 relays, 0 followers, base port 7100, wallet port P+80, data in .devnet/.
source "$(dirname "$0")/lib.sh"

BUILD=1
RELAYS=4
FOLLOWERS=0
BASE_PORT=7100
WALLET_PORT=""
DATA_DIR="$ROOT/.devnet"
FRESH=0
while [ $# -gt 0 ]; do
  case "$1" in
    --no-build) BUILD=0 ;;
    --relays) RELAYS="$2"; shift ;;
    --followers) FOLLOWERS="$2"; shift ;;
    --base-port) BASE_PORT="$2"; shift ;;
    --wallet-port) WALLET_PORT="$2"; shift ;;
    --data-dir) DATA_DIR="$2"; shift ;;
    --fresh) FRESH=1 ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
WALLET_PORT="${WALLET_PORT:-$((BASE_PORT + 80))}"

if [ "$BUILD" = 1 ]; then
  ensure_tools
  build_wallet
  build_relay
fi
[ -x "$RELAY_BIN" ] || { echo "no relay binary at $RELAY_BIN; run without --no-build" >&2; exit 1; }
[ -f web/dist/index.html ] || { echo "no built wallet in web/dist; run without --no-build" >&2; exit 1; }

# A devnet folder is made for one relay count; start over if that changed.
if [ "$FRESH" = 1 ] || [ ! -f "$DATA_DIR/genesis.json" ] || [ "$(cat "$DATA_DIR/relays" 2>/dev/null)" != "$RELAYS" ]; then
  rm -rf "$DATA_DIR"
  mkdir -p "$DATA_DIR"
  "$RELAY_BIN" devnet-init --dir "$DATA_DIR" --relays "$RELAYS" >/dev/null
  echo "$RELAYS" > "$DATA_DIR/relays"
fi

# The wallet's network configuration: the genesis (its trust anchor: chain id,
# validators, fees) and the relays. A devnet convenience: a real deployment
# ships its network's network.json with the wallet; relays never supply it.
relay_list=""
for ((i = 0; i < RELAYS + FOLLOWERS; i++)); do
  relay_list+="${relay_list:+,}\"ws://127.0.0.1:$((BASE_PORT + i))/api/v1/ws\""
done
printf '{"genesis":%s,"relays":[%s]}\n' "$(cat "$DATA_DIR/genesis.json")" "$relay_list" > "$ROOT/web/dist/network.json"
# The browser extension ships the same network configuration.
if [ "$BUILD" = 1 ]; then build_extension; fi

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM

for ((i = 0; i < RELAYS; i++)); do
  args=(run --listen "127.0.0.1:$((BASE_PORT + i))" --genesis "$DATA_DIR/genesis.json"
        --data-dir "$DATA_DIR/relay-$i" --key-file "$DATA_DIR/relay-$i.key" --name "relay-$i")
  [ "$i" = 0 ] && args+=(--faucet-key-file "$DATA_DIR/faucet.key")
  # The wallet and the demo dapp live on origins of their own: let their pages
  # call the REST API (the faucet); WebSockets need no CORS.
  args+=(--cors-origin "http://127.0.0.1:$WALLET_PORT" --cors-origin "http://127.0.0.1:$((WALLET_PORT + 1))")
  # Each relay dials the ones before it: one authenticated link per pair.
  for ((j = 0; j < i; j++)); do args+=(--peer "ws://127.0.0.1:$((BASE_PORT + j))/peer/v1"); done
  "$RELAY_BIN" "${args[@]}" > "$DATA_DIR/relay-$i.log" 2>&1 &
  pids+=($!)
done

# Followers: no key, every validator as an upstream (each starting with a
# different one, to spread the load), never a peer link.
for ((k = 0; k < FOLLOWERS; k++)); do
  args=(run --listen "127.0.0.1:$((BASE_PORT + RELAYS + k))" --genesis "$DATA_DIR/genesis.json"
        --data-dir "$DATA_DIR/follower-$k" --name "follower-$k"
        --cors-origin "http://127.0.0.1:$WALLET_PORT" --cors-origin "http://127.0.0.1:$((WALLET_PORT + 1))")
  for ((j = 0; j < RELAYS; j++)); do
    args+=(--upstream "http://127.0.0.1:$((BASE_PORT + (k + j) % RELAYS))")
  done
  "$RELAY_BIN" "${args[@]}" > "$DATA_DIR/follower-$k.log" 2>&1 &
  pids+=($!)
done

for ((i = 0; i < RELAYS + FOLLOWERS; i++)); do
  if [ "$i" -lt "$RELAYS" ]; then name="relay-$i"; else name="follower-$((i - RELAYS))"; fi
  for _ in $(seq 1 100); do
    curl -sf "http://127.0.0.1:$((BASE_PORT + i))/healthz" >/dev/null && break
    kill -0 "${pids[$i]}" 2>/dev/null || { echo "$name exited; its log:" >&2; cat "$DATA_DIR/$name.log" >&2; exit 1; }
    sleep 0.1
  done
done

# The wallet's own origin: static files with a strict CSP (connect-src: the relays above).
node "$ROOT/scripts/serve-wallet.mjs" --dir "$ROOT/web/dist" --listen "127.0.0.1:$WALLET_PORT" > "$DATA_DIR/wallet-server.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$WALLET_PORT/network.json" >/dev/null && break
  kill -0 "${pids[-1]}" 2>/dev/null || { echo "the wallet server exited; its log:" >&2; cat "$DATA_DIR/wallet-server.log" >&2; exit 1; }
  sleep 0.1
done
# The demo dapp (web/dapp.html, for the extension's window.ruv) on an origin of its own.
node "$ROOT/scripts/serve-wallet.mjs" --dir "$ROOT/web/dist" --listen "127.0.0.1:$((WALLET_PORT + 1))" > "$DATA_DIR/dapp-server.log" 2>&1 &
pids+=($!)

echo
echo "rUv devnet: $RELAYS relay(s) on 127.0.0.1:$BASE_PORT..$((BASE_PORT + RELAYS - 1)), data and logs in $DATA_DIR"
if [ "$FOLLOWERS" -gt 0 ]; then
  echo "Followers: $FOLLOWERS on 127.0.0.1:$((BASE_PORT + RELAYS))..$((BASE_PORT + RELAYS + FOLLOWERS - 1))"
fi
echo "Open the wallet: http://127.0.0.1:$WALLET_PORT/"
echo "The browser extension: load extension/dist unpacked in Chromium; its demo dapp: http://127.0.0.1:$((WALLET_PORT + 1))/dapp.html"
echo "Press Ctrl-C to stop."
# Stop everything as soon as any relay (or the wallet server) exits.
wait -n "${pids[@]}"
echo "a relay or the wallet server exited; stopping the devnet (logs in $DATA_DIR)" >&2
exit 1
