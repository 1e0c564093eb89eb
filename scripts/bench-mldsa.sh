#!/usr/bin/env bash
# ML-DSA-65 keygen/sign/verify per-op times: natively (libcrux, AVX2), and in
# headless Chromium for this project's wasm and @noble/post-quantum in the
# same page; prints the figures and the ratios. Asserts nothing about time.
#
#   scripts/bench-mldsa.sh
source "$(dirname "$0")/lib.sh"

ensure_tools
build_wallet
step "native (release)"
native_json="$TMPDIR/bench-native.json"
cargo run --quiet --release -p ruv-protocol --example mldsa_bench > "$native_json"
cat "$native_json"

step "headless Chromium: ruv-client wasm vs @noble/post-quantum"
browser_json="$TMPDIR/bench-browser.json"
node playwright/bench.mjs --json "$browser_json" | grep -v '^{'

step "ratios"
node - "$native_json" "$browser_json" <<'JS'
const fs = require("node:fs");
const native = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const browser = JSON.parse(fs.readFileSync(process.argv[3], "utf8"));
const rows = [["op", "native µs", "wasm µs", "noble µs", "wasm/native", "noble/wasm"]];
for (const op of ["keygen", "sign", "verify"]) {
  const n = native[`${op}_us`], w = browser.wasm[op].ms_per_op * 1000, b = browser.noble[op].ms_per_op * 1000;
  rows.push([op, n.toFixed(1), w.toFixed(1), b.toFixed(1), (w / n).toFixed(2) + "x", (b / w).toFixed(2) + "x"]);
}
for (const r of rows) console.log(r.map((c, i) => (i ? c.padStart(12) : c.padEnd(8))).join(""));
JS
