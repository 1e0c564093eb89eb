#!/usr/bin/env bash
# Restart time vs history length: a 4-relay loopback devnet (release build)
# runs ruv-loadgen for each length, then relay 1's database is restored
# twice by the `restart_time` example: replaying the accepted log from
# genesis (how relays restarted before states were stored) and from the
# stored state. Also prints each relay's RSS and database size at the end of
# the run. Asserts nothing about time.
#
#   scripts/bench-restart.sh [--rate TPS] [--seconds "S1 S2 ..."] [--keep K]
source "$(dirname "$0")/lib.sh"

RATE=150
LENGTHS="20 60"
KEEP=4
while [ $# -gt 0 ]; do
  case "$1" in
    --rate) RATE="$2"; shift ;;
    --seconds) LENGTHS="$2"; shift ;;
    --keep) KEEP="$2"; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

step "building ruv-relay, ruv-loadgen and restart_time (release)"
cargo build --release -p ruv-relay -p ruv-integration-tests --bin ruv-relay --bin ruv-loadgen --example restart_time
BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release"
export TMPDIR="$ROOT/.tmp"
mkdir -p "$TMPDIR"

for seconds in $LENGTHS; do
  dir="$TMPDIR/bench-restart" base=7600 pids=()
  rm -rf "$dir"
  "$BIN/ruv-relay" devnet-init --dir "$dir" --relays 4 >/dev/null
  for i in 0 1 2 3; do
    args=(run --listen "127.0.0.1:$((base + i))" --genesis "$dir/genesis.json" --data-dir "$dir/relay-$i"
          --key-file "$dir/relay-$i.key" --name "relay-$i" --keep-checkpoints "$KEEP")
    [ "$i" = 0 ] && args+=(--faucet-key-file "$dir/faucet.key")
    for ((j = 0; j < i; j++)); do args+=(--peer "ws://127.0.0.1:$((base + j))/peer/v1"); done
    RUST_LOG=warn "$BIN/ruv-relay" "${args[@]}" > "$dir/relay-$i.log" 2>&1 &
    pids+=($!)
  done
  for i in 0 1 2 3; do
    until curl -sf "http://127.0.0.1:$((base + i))/healthz" >/dev/null; do sleep 0.1; done
  done
  sleep 1
  relays=()
  for i in 0 1 2 3; do relays+=(--relay "http://127.0.0.1:$((base + i))"); done
  step "history: $RATE tx/s offered for ${seconds}s"
  "$BIN/ruv-loadgen" "${relays[@]}" --devnet-dir "$dir" --accounts 64 --rate "$RATE" --seconds "$seconds" \
    > "$dir/load.json" || true
  sleep 3 # let the last checkpoints certify
  for i in 0 1 2 3; do
    echo "relay-$i RSS $(( $(ps -o rss= -p "${pids[$i]}") / 1024 )) MiB"
  done
  kill "${pids[@]}" 2>/dev/null || true
  wait 2>/dev/null || true
  echo "relay-1 database $(du -m "$dir/relay-1/relay.redb" | cut -f1) MiB"
  "$BIN/examples/restart_time" "$dir/genesis.json" "$dir/relay-1" "$dir/relay-1.key"
done
