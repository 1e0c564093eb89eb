#!/usr/bin/env bash
# Memory soak: a 4-relay loopback devnet (release build) under ruv-loadgen at
# a fixed rate. Prints every relay's RSS every --every seconds, then each
# relay's growth after the warm-up, the heap bytes per accepted transfer by
# owner (the `memory_per_transfer` example on relay 1's stopped database) and
# last the whole devnet's RSS growth after the warm-up. Asserts nothing.
#
#   scripts/bench-soak.sh [--rate TPS] [--seconds S] [--warmup S] [--every S]
#                         [--accounts N] [--bin DIR]
#
# --bin DIR runs the ruv-relay, ruv-loadgen and memory_per_transfer found in
# DIR instead of building them (to measure an older build).
source "$(dirname "$0")/lib.sh"

RATE=150
DURATION=300
WARMUP=60
EVERY=10
ACCOUNTS=256
BIN=""
while [ $# -gt 0 ]; do
  case "$1" in
    --rate) RATE="$2"; shift ;;
    --seconds) DURATION="$2"; shift ;;
    --warmup) WARMUP="$2"; shift ;;
    --every) EVERY="$2"; shift ;;
    --accounts) ACCOUNTS="$2"; shift ;;
    --bin) BIN="$2"; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

if [ -z "$BIN" ]; then
  step "building ruv-relay, ruv-loadgen and memory_per_transfer (release)"
  cargo build --release -p ruv-relay -p ruv-integration-tests --bin ruv-relay --bin ruv-loadgen \
    --example memory_per_transfer
  BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release"
  EXAMPLE="$BIN/examples/memory_per_transfer"
else
  EXAMPLE="$BIN/memory_per_transfer"
fi
export TMPDIR="$ROOT/.tmp"
mkdir -p "$TMPDIR"
dir="$TMPDIR/bench-soak"

rss_mib() { echo $(( $(ps -o rss= -p "$1") / 1024 )); }
accepted() {
  curl -sf "http://127.0.0.1:7700/api/v1/network/status" |
    node -e "let s='';process.stdin.on('data',d=>s+=d).on('end',()=>console.log(JSON.parse(s).accepted_transactions))"
}

start_bench_devnet "$dir" 7700 "$BIN"
step "$RATE tx/s offered for ${DURATION}s; RSS every ${EVERY}s, warm-up ${WARMUP}s"
"$BIN/ruv-loadgen" "${BENCH_RELAYS[@]}" --devnet-dir "$dir" --accounts "$ACCOUNTS" --rate "$RATE" \
  --seconds "$DURATION" > "$dir/load.json" &
LOADGEN=$!

started=$SECONDS
warm=() warm_accepted="" warm_at=""
while kill -0 "$LOADGEN" 2>/dev/null; do
  sleep "$EVERY"
  kill -0 "$LOADGEN" 2>/dev/null || break
  elapsed=$((SECONDS - started)) line="t=${elapsed}s RSS MiB:"
  now=()
  for i in 0 1 2 3; do now+=("$(rss_mib "${BENCH_PIDS[$i]}")"); line+=" relay-$i ${now[$i]}"; done
  echo "$line"
  if [ -z "$warm_at" ] && [ "$elapsed" -ge "$WARMUP" ]; then
    warm=("${now[@]}") warm_accepted="$(accepted)" warm_at=$elapsed
  fi
  last=("${now[@]}") last_at=$elapsed
done
wait "$LOADGEN" || true
last_accepted="$(accepted)"
stop_bench_devnet
node -e "const r=JSON.parse(require('fs').readFileSync('$dir/load.json','utf8'));
  console.log('loadgen: offered', r.offered_rate_tps, 'tx/s, submitted', r.submitted_tps.toFixed(1), 'tx/s, sustained', r.sustained_tps.toFixed(1),
    'tx/s; finality p50/p99', r.finality_ms.p50, '/', r.finality_ms.p99, 'ms; refused', JSON.stringify(r.refused),
    '; transport errors', r.transport_errors, '; stale', r.stale_in_flight, '; event reconnects', r.event_reconnects,
    JSON.stringify(r.event_disconnects), '; raw ML-DSA-65 verify', Math.round(r.mldsa65_verify_per_second_all_cores), '/s (all cores)')" || true

if [ -z "$warm_at" ] || [ "$last_at" -le "$warm_at" ]; then
  echo "the run ended before the warm-up did: nothing to compare" >&2
  exit 1
fi
span=$((last_at - warm_at)) transfers=$((last_accepted - warm_accepted)) before=0 after=0
for i in 0 1 2 3; do
  line="relay-$i: ${warm[$i]} MiB -> ${last[$i]} MiB over ${span}s"
  if [ "$transfers" -gt 0 ]; then
    line+=", about $(( (last[i] - warm[i]) * 1024 * 1024 / transfers )) bytes per accepted transfer ($transfers accepted)"
  else
    line+=", no transfer accepted after the warm-up"
  fi
  echo "$line"
  before=$((before + warm[i])) after=$((after + last[i]))
done
if [ -x "$EXAMPLE" ]; then
  step "heap by owner on relay-1's database"
  "$EXAMPLE" "$dir/genesis.json" "$dir/relay-1" "$dir/relay-1.key"
fi
rate_seen=$(( transfers / (span > 0 ? span : 1) ))
pct=$(node -e "const p=($after-$before)*100/$before; console.log((p>=0?'+':'')+p.toFixed(1))")
echo "rss growth after warm-up: ${pct}% ($before MiB -> $after MiB over $span s at $rate_seen tx/s)"
