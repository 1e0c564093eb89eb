#!/usr/bin/env bash
# Load benchmark: a 4-relay loopback devnet (release build) driven by
# ruv-loadgen. Prints sustained accepted tx/s, finality p50/p95/p99 (submit
# until accepted on every relay) and, in the same run, the machine's raw
# ML-DSA-65 verify throughput with the ratio. Asserts nothing about time.
#
#   scripts/bench-load.sh [--rate TPS] [--seconds S] [--accounts N]
#
# Runs twice: at --rate (default 2000, above what 2 cores sustain), then at
# half the sustained rate measured in the first run.
source "$(dirname "$0")/lib.sh"

RATE=2000
SECONDS_PER_RUN=20
ACCOUNTS=512
while [ $# -gt 0 ]; do
  case "$1" in
    --rate) RATE="$2"; shift ;;
    --seconds) SECONDS_PER_RUN="$2"; shift ;;
    --accounts) ACCOUNTS="$2"; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

ensure_tools
step "building ruv-relay and ruv-loadgen (release)"
cargo build --release -p ruv-relay -p ruv-integration-tests --bin ruv-relay --bin ruv-loadgen
BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release"

run_devnet_and_load() {
  local rate="$1" dir="$TMPDIR/bench-devnet" base=7500 pids=()
  rm -rf "$dir"
  "$BIN/ruv-relay" devnet-init --dir "$dir" --relays 4 >/dev/null
  for i in 0 1 2 3; do
    args=(run --listen "127.0.0.1:$((base + i))" --genesis "$dir/genesis.json" --data-dir "$dir/relay-$i"
          --key-file "$dir/relay-$i.key" --name "relay-$i")
    [ "$i" = 0 ] && args+=(--faucet-key-file "$dir/faucet.key")
    for ((j = 0; j < i; j++)); do args+=(--peer "ws://127.0.0.1:$((base + j))/peer/v1"); done
    RUST_LOG=warn "$BIN/ruv-relay" "${args[@]}" > "$dir/relay-$i.log" 2>&1 &
    pids+=($!)
  done
  for i in 0 1 2 3; do
    until curl -sf "http://127.0.0.1:$((base + i))/healthz" >/dev/null; do sleep 0.1; done
  done
  sleep 1 # let the peer links come up
  local relays=()
  for i in 0 1 2 3; do relays+=(--relay "http://127.0.0.1:$((base + i))"); done
  "$BIN/ruv-loadgen" "${relays[@]}" --devnet-dir "$dir" --accounts "$ACCOUNTS" --rate "$rate" --seconds "$SECONDS_PER_RUN" \
    > "$TMPDIR/bench-load-$rate.json" || true
  kill "${pids[@]}" 2>/dev/null || true
  wait 2>/dev/null || true
  cat "$TMPDIR/bench-load-$rate.json"
}

step "offered $RATE tx/s for ${SECONDS_PER_RUN}s (saturating)"
run_devnet_and_load "$RATE"
SUSTAINED=$(node -e "console.log(Math.max(1, Math.round(JSON.parse(require('fs').readFileSync('$TMPDIR/bench-load-$RATE.json','utf8')).sustained_tps / 2)))")
step "offered $SUSTAINED tx/s (half the sustained rate) for ${SECONDS_PER_RUN}s"
run_devnet_and_load "$SUSTAINED"
