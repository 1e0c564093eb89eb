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
  dir="$TMPDIR/bench-restart"
  start_bench_devnet "$dir" 7600 "$BIN" --keep-checkpoints "$KEEP"
  step "history: $RATE tx/s offered for ${seconds}s"
  "$BIN/ruv-loadgen" "${BENCH_RELAYS[@]}" --devnet-dir "$dir" --accounts 64 --rate "$RATE" --seconds "$seconds" \
    > "$dir/load.json" || true
  sleep 3 # let the last checkpoints certify
  for i in 0 1 2 3; do
    echo "relay-$i RSS $(( $(ps -o rss= -p "${BENCH_PIDS[$i]}") / 1024 )) MiB"
  done
  stop_bench_devnet
  echo "relay-1 database $(du -m "$dir/relay-1/relay.redb" | cut -f1) MiB"
  "$BIN/examples/restart_time" "$dir/genesis.json" "$dir/relay-1" "$dir/relay-1.key"
done
