#!/usr/bin/env bash
# Paired comparison of relay builds on the 4-relay loopback bench devnet:
# the builds take turns, round after round, under the same load generator,
# so a machine that speeds up or slows down affects them alike. For each
# run it prints the sustained throughput, finality p50, the four relays'
# CPU seconds per accepted transfer (from /proc, the whole run including
# funding) and the bytes the loopback interface carried per accepted
# transfer (all traffic: clients and peer links). Asserts nothing.
#
#   scripts/bench-pair.sh [--rate TPS] [--in-flight K] [--rounds N]
#                         [--seconds S] DIR...
#
# Each DIR (absolute, or relative to the repository root) holds a ruv-relay
# binary (copy target/release/ruv-relay of each build there); the load
# generator is this tree's release build. Defaults:
# --rate 2000 (saturating on 2 cores) --in-flight 1 --rounds 3 --seconds 20.
source "$(dirname "$0")/lib.sh"

RATE=2000
IN_FLIGHT=1
ROUNDS=3
SECONDS_PER_RUN=20
DIRS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --rate) RATE="$2"; shift ;;
    --in-flight) IN_FLIGHT="$2"; shift ;;
    --rounds) ROUNDS="$2"; shift ;;
    --seconds) SECONDS_PER_RUN="$2"; shift ;;
    -*) echo "unknown option $1" >&2; exit 2 ;;
    *) DIRS+=("$1") ;;
  esac
  shift
done
if [ "${#DIRS[@]}" = 0 ]; then
  echo "usage: scripts/bench-pair.sh [options] DIR..." >&2
  exit 2
fi

step "building ruv-loadgen (release)"
cargo build --release -p ruv-integration-tests --bin ruv-loadgen
LOADGEN="${CARGO_TARGET_DIR:-$ROOT/target}/release/ruv-loadgen"
WORK="$(mktemp -d)"
BENCH_PIDS=()
trap 'stop_bench_devnet; rm -rf "$WORK"' EXIT
CLOCK_TICKS="$(getconf CLK_TCK)"
LOOPBACK=/sys/class/net/lo/statistics/tx_bytes

printf '%-28s %10s %8s %22s %22s\n' "build" "tx/s" "p50 ms" "relay CPU us/transfer" "loopback B/transfer"
for round in $(seq "$ROUNDS"); do
  for dir in "${DIRS[@]}"; do
    start_bench_devnet "$WORK/devnet" 7700 "$dir"
    bytes_before="$(cat "$LOOPBACK")"
    "$LOADGEN" "${BENCH_RELAYS[@]}" --devnet-dir "$WORK/devnet" --accounts 512 \
      --in-flight "$IN_FLIGHT" --rate "$RATE" --seconds "$SECONDS_PER_RUN" \
      > "$WORK/run.json" 2> "$WORK/loadgen.log" || true
    bytes_after="$(cat "$LOOPBACK")"
    ticks=0
    for pid in "${BENCH_PIDS[@]}"; do
      ticks=$((ticks + $(awk '{print $14 + $15}' "/proc/$pid/stat")))
    done
    stop_bench_devnet
    python3 - "$WORK/run.json" "$dir" "$ticks" "$CLOCK_TICKS" "$((bytes_after - bytes_before))" <<'PY'
import json, sys
path, build, ticks, hz, loop_bytes = sys.argv[1:]
run = json.load(open(path))
# Funding transfers (one per account) count as accepted transfers too.
accepted = run["final_on_every_relay"] + run["accounts"]
cpu_us = 1e6 * int(ticks) / int(hz) / accepted
p50 = run.get("finality_ms", {}).get("p50", float("nan"))
print(f"{build:28.28} {run['sustained_tps']:10.1f} {p50:8.0f} {cpu_us:22.0f} {int(loop_bytes) / accepted:22.0f}")
PY
  done
done
