// The light client measured in a real page (driven by playwright/light-bench.mjs):
//
// - `?mode=load` (default): navigation start until the first verified
//   balance (`LightClient.connect` + `account`), with the phases in between;
//   `window.__timeVerify(certified, proof)` then times `verifyCheckpoint` and
//   `verifyAccountProof` called directly on data the harness captured from
//   this page's WebSocket.
// - `?mode=submit&transfers=M`: a fresh key funded by the devnet faucet, then
//   M transfers one after another, each timed from `submit` until
//   `waitForFinal` resolves with a verified inclusion proof.
//
// Results go to window.__lightResult (or window.__lightError). Nothing here
// asserts on time.
import {
  Keypair,
  LightClient,
  TrustAnchor,
  minimumFee,
  verifyAccountProof,
  verifyCheckpoint,
  type AccountProof,
  type CertifiedCheckpoint,
} from "ruv-client";
import { askFaucet } from "./faucet";
import { loadNetwork } from "./network";

/** performance.now() when this module's body starts: HTML, scripts and wasm are in. */
const MODULE_START_MS = performance.now();

/** Median and minimum over 5 batches of `reps` calls, per call. */
interface Timing {
  median_ms: number;
  min_ms: number;
  reps: number;
}

interface VerifyTimes {
  signatures: number;
  /**
   * The first direct calls in this page: code the engine has not optimised
   * yet (the light client ran the same verification once before, inside
   * `connect` and `account`), as a page load pays it.
   */
  first: { verify_checkpoint_ms: number; verify_account_proof_ms: number; total_ms: number };
  /** How long the untimed warm-up calls ran before the steady figures. */
  warmup_ms: number;
  /** After the warm-up. */
  steady: {
    /** `verifyCheckpoint(genesisJson, certified)` + `verifyAccountProof(checkpoint, proof)`. */
    total: Timing;
    /** `verifyCheckpoint(genesisJson, certified)`: parses the genesis, then checks the certificate. */
    verify_checkpoint: Timing;
    /** `verifyAccountProof(checkpoint, proof)`. */
    verify_account_proof: Timing;
    /** `new TrustAnchor(genesis)` alone (part of `verifyCheckpoint`). */
    trust_anchor: Timing;
  };
}

declare global {
  interface Window {
    __lightResult?: unknown;
    __lightError?: string;
    __timeVerify?: (certified: CertifiedCheckpoint, proof: AccountProof, reps?: number) => VerifyTimes;
  }
}

const params = new URLSearchParams(location.search);
const progress = document.getElementById("progress")!;
const out = document.getElementById("results")!;
const STORED_KEY = "ruv-light-bench-checkpoint";

function say(text: string): void {
  progress.textContent = text;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.floor((s.length - 1) / 2)];
}

/**
 * Per-call time of `op`: 5 batches of `reps` calls, the median and minimum of
 * the batch means (performance.now() is coarsened to 0.1 ms in this page,
 * so fast calls cannot be timed one by one).
 */
function time(op: () => void, reps: number): Timing {
  const means: number[] = [];
  for (let b = 0; b < 5; b++) {
    const t = performance.now();
    for (let i = 0; i < reps; i++) op();
    means.push((performance.now() - t) / reps);
  }
  return { median_ms: median(means), min_ms: Math.min(...means), reps: 5 * reps };
}

function resource(name: string) {
  const entry = performance
    .getEntriesByType("resource")
    .find((e) => e.name.includes(name)) as PerformanceResourceTiming | undefined;
  return entry
    ? { transfer_bytes: entry.transferSize, body_bytes: entry.encodedBodySize, start_ms: entry.startTime, end_ms: entry.responseEnd }
    : null;
}

async function loadMode() {
  const network = await loadNetwork(location.href, null);
  const networkLoaded = performance.now();
  window.__timeVerify = (certified, proof, reps = 10) => {
    const pair = () => {
      const checkpoint = verifyCheckpoint(network.genesisText, certified);
      verifyAccountProof(checkpoint, proof);
      checkpoint.free();
    };
    let t = performance.now();
    const verified = verifyCheckpoint(network.genesisText, certified);
    const t1 = performance.now();
    verifyAccountProof(verified, proof);
    const t2 = performance.now();
    const first = { verify_checkpoint_ms: t1 - t, verify_account_proof_ms: t2 - t1, total_ms: t2 - t };
    // Warm-up: at least 50 pairs and 300 ms, so the engine can tier the code up.
    t = performance.now();
    for (let i = 0; i < 50 || performance.now() - t < 300; i++) pair();
    const warmup_ms = performance.now() - t;
    const steady = {
      total: time(pair, reps),
      verify_checkpoint: time(() => verifyCheckpoint(network.genesisText, certified).free(), reps),
      verify_account_proof: time(() => void verifyAccountProof(verified, proof), reps * 20),
      trust_anchor: time(() => new TrustAnchor(network.genesisText).free(), reps),
    };
    verified.free();
    return { signatures: certified.signatures.length, first, warmup_ms, steady };
  };
  const genesis = JSON.parse(network.genesisText) as { balances: { address: string }[]; validators: unknown[] };
  const address = params.get("address") ?? genesis.balances[0].address;
  const storedKey = `${STORED_KEY}:${network.chainId}`;
  const stored = localStorage.getItem(storedKey);
  say("Connecting…");
  const light = await LightClient.connect(network.relays, {
    genesis: network.genesisText,
    ...(stored ? { checkpoint: JSON.parse(stored) as CertifiedCheckpoint } : {}),
  });
  const connected = performance.now();
  const account = await light.account(address);
  const verifiedBalance = performance.now();
  const relay = light.relay;
  const checkpoint = light.checkpointJson();
  light.close();
  if (checkpoint) localStorage.setItem(storedKey, JSON.stringify(checkpoint));
  const nav = performance.getEntriesByType("navigation")[0] as PerformanceNavigationTiming | undefined;
  return {
    mode: "load",
    relay,
    validators: genesis.validators.length,
    used_stored_checkpoint: stored !== null,
    account,
    // Milliseconds since navigation start (performance.timeOrigin).
    ms: {
      html_response_end: nav?.responseEnd ?? NaN,
      module_start: MODULE_START_MS,
      network_json: networkLoaded,
      connected,
      verified_balance: verifiedBalance,
    },
    navigation_type: nav?.type ?? "unknown",
    wasm: resource(".wasm"),
    time_origin_ms: performance.timeOrigin,
  };
}

async function submitMode() {
  const transfers = Math.max(1, Number(params.get("transfers") ?? "20") | 0);
  const network = await loadNetwork(location.href, null);
  say("Connecting…");
  const light = await LightClient.connect(network.relays, { genesis: network.genesisText });
  const checkpointsAt: number[] = [];
  light.onCheckpoint(() => checkpointsAt.push(performance.now()));

  // A fresh key, funded by the devnet faucet of the first relay.
  const key = Keypair.generate();
  const genesis = JSON.parse(network.genesisText) as { balances: { address: string }[] };
  const to = genesis.balances[0].address;
  say("Asking the faucet…");
  const faucetStart = performance.now();
  const faucet = await askFaucet(network.relays[0], key.address);
  if (!faucet.ok) throw new Error(`faucet: ${faucet.message}`);
  const funded = await light.waitForFinal(faucet.status.id, 60_000);
  const faucetFinalMs = performance.now() - faucetStart;
  if (funded.status !== "final") throw new Error(`faucet payment ${funded.status}`);
  const account = await light.account(key.address);
  let nonce = BigInt(account.nonce);
  const fee = minimumFee({ chain_id: network.chainId, fees: network.fees }, "");

  const runs: { submit_ack_ms: number; final_ms: number; sign_ms: number; ack: string; status: string; checkpoint: string }[] = [];
  const start = performance.now();
  const startEpochMs = performance.timeOrigin + start;
  for (let i = 0; i < transfers; i++) {
    say(`Transfer ${i + 1} of ${transfers}…`);
    nonce += 1n;
    const t0 = performance.now();
    const tx = key.signTransfer({ chainId: network.chainId, to, amount: "1", fee, nonce: nonce.toString() });
    const t1 = performance.now();
    const ack = await light.submit(tx);
    const t2 = performance.now();
    const final = await light.waitForFinal(tx.id, 60_000);
    const t3 = performance.now();
    runs.push({ sign_ms: t1 - t0, submit_ack_ms: t2 - t1, final_ms: t3 - t1, ack: ack.status, status: final.status, checkpoint: final.checkpoint });
    tx.free();
  }
  const end = performance.now();
  const after = await light.account(key.address);
  const relay = light.relay;
  light.close();
  key.free();
  const gaps = checkpointsAt.slice(1).map((t, i) => t - checkpointsAt[i]);
  return {
    mode: "submit",
    relay,
    transfers,
    faucet_final_ms: faucetFinalMs,
    fee,
    runs,
    nonce_after: after.nonce,
    window_epoch_ms: { start: startEpochMs, end: performance.timeOrigin + end },
    checkpoints_seen: checkpointsAt.length,
    checkpoint_gap_ms: { median: median(gaps), max: gaps.length ? Math.max(...gaps) : NaN },
  };
}

(params.get("mode") === "submit" ? submitMode() : loadMode()).then(
  (r) => {
    window.__lightResult = r;
    out.textContent = JSON.stringify(r, null, 2);
    say("Done.");
  },
  (e: unknown) => {
    const message = e instanceof Error ? e.message : typeof e === "object" && e && "message" in e ? String((e as { message: unknown }).message) : String(e);
    window.__lightError = message;
    out.textContent = JSON.stringify({ error: message }, null, 2);
    say(`Failed: ${message}`);
  },
);
