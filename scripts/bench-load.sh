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
  local rate="$1"
  start_bench_devnet "$TMPDIR/bench-devnet" 7500 "$BIN"
  "$BIN/ruv-loadgen" "${BENCH_RELAYS[@]}" --devnet-dir "$TMPDIR/bench-devnet" --accounts "$ACCOUNTS" --rate "$rate" \
    --seconds "$SECONDS_PER_RUN" > "$TMPDIR/bench-load-$rate.json" || true
  stop_bench_devnet
  cat "$TMPDIR/bench-load-$rate.json"
}

step "offered $RATE tx/s for ${SECONDS_PER_RUN}s (saturating)"
run_devnet_and_load "$RATE"
SUSTAINED=$(node -e "console.log(Math.max(1, Math.round(JSON.parse(require('fs').readFileSync('$TMPDIR/bench-load-$RATE.json','utf8')).sustained_tps / 2)))")
step "offered $SUSTAINED tx/s (half the sustained rate) for ${SECONDS_PER_RUN}s"
run_devnet_and_load "$SUSTAINED"
