// ML-DSA-65 keygen / sign / verify per-operation times: this project's wasm
// (release build of ruv-client) against @noble/post-quantum, in one page.
// Results go to <pre id="results"> and window.__benchResults.
import { Keypair, verifySignature } from "ruv-client";
import { ml_dsa65 } from "@noble/post-quantum/ml-dsa.js";

interface Timing {
  ms_per_op: number;
  ops_per_sec: number;
  iterations: number;
}

interface Side {
  keygen: Timing;
  sign: Timing;
  verify: Timing;
}

export interface BenchResults {
  algorithm: "ML-DSA-65";
  message_bytes: number;
  context: string;
  min_ms: number;
  min_iterations: number;
  user_agent: string;
  cross_origin_isolated: boolean;
  interop: { same_public_key_from_seed: boolean; noble_verifies_wasm: boolean; wasm_verifies_noble: boolean };
  wasm: Side;
  noble: Side;
  /** noble ms / wasm ms per operation: above 1 means the wasm build is faster. */
  speedup: { keygen: number; sign: number; verify: number };
}

declare global {
  interface Window {
    __benchResults?: BenchResults;
    __benchError?: string;
  }
}

const params = new URLSearchParams(location.search);
const MIN_MS = positive(params.get("minMs"), 2000);
const MIN_ITERS = positive(params.get("minIters"), 10);
const MESSAGE_BYTES = 2048;
const CONTEXT = "ruv/bench";

const progress = document.getElementById("progress")!;
const out = document.getElementById("results")!;
const tbody = document.querySelector("#table tbody")!;

function positive(text: string | null, fallback: number): number {
  const n = Number(text);
  return text !== null && Number.isFinite(n) && n > 0 ? n : fallback;
}

function random(n: number): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(n));
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Lets the page repaint between phases. */
const tick = () => new Promise<void>((r) => setTimeout(r, 0));

/** Runs `op` for at least MIN_MS and MIN_ITERS after a short warm-up; `op` gets the iteration number. */
async function time(label: string, op: (i: number) => void): Promise<Timing> {
  progress.textContent = `Measuring ${label}…`;
  await tick();
  for (let i = 0; i < 3; i++) op(i);
  let n = 0;
  const start = performance.now();
  let elapsed = 0;
  while (n < MIN_ITERS || elapsed < MIN_MS) {
    op(n++);
    elapsed = performance.now() - start;
  }
  return { ms_per_op: elapsed / n, ops_per_sec: (n * 1000) / elapsed, iterations: n };
}

function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(`interop check failed: ${what}`);
}

async function run(): Promise<BenchResults> {
  const ctx = new TextEncoder().encode(CONTEXT);
  const msg = random(MESSAGE_BYTES);
  const seeds = Array.from({ length: 64 }, () => random(32));

  // Same algorithm on both sides, or the comparison means nothing.
  const ours = Keypair.fromSeed(seeds[0]);
  const theirs = ml_dsa65.keygen(seeds[0]);
  const ourPk = ours.publicKey();
  const interop = {
    same_public_key_from_seed: equal(ourPk, theirs.publicKey),
    noble_verifies_wasm: ml_dsa65.verify(ours.signMessage(msg, ctx), msg, ourPk, { context: ctx }),
    wasm_verifies_noble: verifySignature(theirs.publicKey, msg, ctx, ml_dsa65.sign(msg, theirs.secretKey, { context: ctx })),
  };
  check(interop.same_public_key_from_seed, "public keys from the same seed differ");
  check(interop.noble_verifies_wasm, "noble rejects a wasm signature");
  check(interop.wasm_verifies_noble, "wasm rejects a noble signature");

  const ourSig = ours.signMessage(msg, ctx);
  const theirSig = ml_dsa65.sign(msg, theirs.secretKey, { context: ctx });

  const wasm: Side = {
    keygen: await time("wasm keygen", (i) => Keypair.fromSeed(seeds[i % seeds.length]).free()),
    sign: await time("wasm sign", () => {
      if (ours.signMessage(msg, ctx).length !== 3309) throw new Error("bad signature length");
    }),
    verify: await time("wasm verify", () => check(verifySignature(ourPk, msg, ctx, ourSig), "wasm verify")),
  };
  const noble: Side = {
    keygen: await time("noble keygen", (i) => void ml_dsa65.keygen(seeds[i % seeds.length])),
    sign: await time("noble sign", () => {
      if (ml_dsa65.sign(msg, theirs.secretKey, { context: ctx }).length !== 3309) throw new Error("bad signature length");
    }),
    verify: await time("noble verify", () =>
      check(ml_dsa65.verify(theirSig, msg, theirs.publicKey, { context: ctx }), "noble verify"),
    ),
  };
  ours.free();

  const ratio = (op: keyof Side) => noble[op].ms_per_op / wasm[op].ms_per_op;
  return {
    algorithm: "ML-DSA-65",
    message_bytes: MESSAGE_BYTES,
    context: CONTEXT,
    min_ms: MIN_MS,
    min_iterations: MIN_ITERS,
    user_agent: navigator.userAgent,
    cross_origin_isolated: globalThis.crossOriginIsolated ?? false,
    interop,
    wasm,
    noble,
    speedup: { keygen: ratio("keygen"), sign: ratio("sign"), verify: ratio("verify") },
  };
}

function render(r: BenchResults): void {
  for (const op of ["keygen", "sign", "verify"] as const) {
    const row = document.createElement("tr");
    for (const text of [op, r.wasm[op].ms_per_op.toFixed(3), r.noble[op].ms_per_op.toFixed(3), `${r.speedup[op].toFixed(2)}×`]) {
      const cell = document.createElement(row.childElementCount === 0 ? "th" : "td");
      if (cell instanceof HTMLTableCellElement && cell.tagName === "TH") cell.scope = "row";
      cell.textContent = text;
      row.append(cell);
    }
    tbody.append(row);
  }
  out.textContent = JSON.stringify(r, null, 2);
}

document.getElementById("msg-bytes")!.textContent = String(MESSAGE_BYTES);
run().then(
  (r) => {
    render(r);
    window.__benchResults = r;
    progress.textContent = "Done.";
  },
  (e: unknown) => {
    const message = e instanceof Error ? e.message : String(e);
    window.__benchError = message;
    progress.textContent = `Failed: ${message}`;
    out.textContent = JSON.stringify({ error: message }, null, 2);
  },
);
