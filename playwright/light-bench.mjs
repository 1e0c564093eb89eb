#!/usr/bin/env node
// The light client in real headless Chromium against a running devnet:
// opens web/light-bench.html as a relay serves it and prints (never asserts)
//
//   --part load:   navigation start until the first verified balance, cold
//                  (a new browser context: empty cache and storage) and warm
//                  (reload), p50/p90 over --runs; the WebSocket requests
//                  after connect and the bytes received until the balance
//                  (Playwright's framesent/framereceived); and the CPU time
//                  of verifyCheckpoint + verifyAccountProof, called directly
//                  in the page on the checkpoint and proof it received.
//   --part submit: a fresh key funded by the faucet, then --transfers
//                  transfers one after another, each timed from submit until
//                  waitForFinal resolves with a verified inclusion proof.
//
//   node playwright/light-bench.mjs --url http://127.0.0.1:7680/light-bench.html \
//     [--part load|submit] [--runs 10] [--transfers 40] [--json out.json]
//
// The page comes from the wallet's own static origin (scripts/serve-wallet.mjs
// serving the built web/dist with a network.json naming the relays);
// scripts/bench-light.sh sets all of that up.
import { chromium } from "@playwright/test";
import { writeFile } from "node:fs/promises";

const args = process.argv.slice(2);
function option(name, fallback) {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : fallback;
}
const url = option("--url", null);
const part = option("--part", "load");
const runs = Number(option("--runs", "10"));
const transfers = Number(option("--transfers", "40"));
const jsonOut = option("--json", null);
if (!url || !["load", "submit"].includes(part)) {
  console.error("usage: light-bench.mjs --url http://HOST:PORT/light-bench.html [--part load|submit] [--runs N] [--transfers M] [--json FILE]");
  process.exit(2);
}

// The targets.
const TARGET = {
  load_p50_ms: 500,
  verify_ms: 5,
  bytes: 64 * 1024,
  final_p50_ms: 500,
  final_p99_ms: 1500,
};

/** Nearest-rank percentile (as ruv-loadgen computes it). */
function percentile(xs, p) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.round((s.length - 1) * p)];
}
const f1 = (x) => (Number.isFinite(x) ? x.toFixed(1) : "n/a");
const f2 = (x) => (Number.isFinite(x) ? x.toFixed(2) : "n/a");
const f3 = (x) => (Number.isFinite(x) ? x.toFixed(3) : "n/a");
const kb = (b) => `${(b / 1024).toFixed(1)} KiB`;
const byteLength = (payload) => (typeof payload === "string" ? Buffer.byteLength(payload, "utf8") : payload.length);

/**
 * Records every WebSocket frame of a page. `begin()` starts a new record;
 * a socket's frames go to the record that was current when it opened.
 */
function recordFrames(page) {
  let current = null;
  page.on("websocket", (ws) => {
    const record = current;
    if (!record) return;
    record.sockets.push(ws.url());
    ws.on("framesent", ({ payload }) => record.sent.push({ at: Date.now(), bytes: byteLength(payload), payload }));
    ws.on("framereceived", ({ payload }) => record.received.push({ at: Date.now(), bytes: byteLength(payload), payload }));
  });
  return {
    begin() {
      current = { sockets: [], sent: [], received: [] };
      return current;
    },
  };
}

/**
 * The same WebSocket traffic with the browser's own timestamps (a CDP
 * session, Chromium only), for the timeline: handshake, then when each
 * request went out and its answer came in.
 */
async function recordTimeline(page) {
  const session = await page.context().newCDPSession(page);
  let current = null;
  const push = (e, what, payload) => {
    if (!current) return;
    current.events.push({ ts: e.timestamp * 1000, what, payload });
  };
  session.on("Network.webSocketWillSendHandshakeRequest", (e) => {
    if (current && current.offset === null) current.offset = e.wallTime * 1000 - e.timestamp * 1000;
    push(e, "handshake");
  });
  session.on("Network.webSocketHandshakeResponseReceived", (e) => push(e, "open"));
  session.on("Network.webSocketFrameSent", (e) => push(e, "sent", e.response.payloadData));
  session.on("Network.webSocketFrameReceived", (e) => push(e, "received", e.response.payloadData));
  await session.send("Network.enable");
  return {
    begin() {
      current = { offset: null, events: [] };
      return current;
    },
  };
}

/** Milliseconds since navigation start of the socket's open and of each request and its answer. */
function timeline(record, timeOriginMs) {
  if (record.offset === null) return null;
  const at = (e) => e.ts + record.offset - timeOriginMs;
  const out = { handshake: NaN, open: NaN, requests: [] };
  const byId = new Map();
  for (const e of record.events) {
    if (e.what === "handshake" && Number.isNaN(out.handshake)) out.handshake = at(e);
    if (e.what === "open" && Number.isNaN(out.open)) out.open = at(e);
    const m = e.payload !== undefined ? parse(e.payload) : null;
    if (e.what === "sent" && m?.method) {
      const r = { method: m.method, sent: at(e), answered: NaN };
      byId.set(m.id, r);
      out.requests.push(r);
    }
    if (e.what === "received" && m && "id" in m && byId.has(m.id) && Number.isNaN(byId.get(m.id).answered)) byId.get(m.id).answered = at(e);
  }
  return out;
}

function parse(payload) {
  try {
    return JSON.parse(typeof payload === "string" ? payload : payload.toString("utf8"));
  } catch {
    return null;
  }
}

/**
 * What the frames say: requests by method, received bytes by kind, the last
 * account proof and its checkpoint. Only frames `within` counts are counted.
 */
function analyse(record, untilMethod, within = () => true) {
  const methodOf = new Map();
  const requests = [];
  for (const frame of record.sent) {
    const m = parse(frame.payload);
    if (m && typeof m.method === "string") {
      methodOf.set(m.id, m.method);
      if (within(frame)) requests.push({ method: m.method, bytes: frame.bytes });
    }
  }
  // Received frames up to (and with) the last answer to `untilMethod`, if given.
  let cut = record.received.length;
  if (untilMethod) {
    for (let i = record.received.length - 1; i >= 0; i--) {
      const m = parse(record.received[i].payload);
      if (m && "id" in m && methodOf.get(m.id) === untilMethod) {
        cut = i + 1;
        break;
      }
    }
  }
  const received = record.received.slice(0, cut).filter(within);
  const byKind = {};
  const checkpoints = [];
  let proof = null;
  for (const frame of received) {
    const m = parse(frame.payload);
    let kind = "unparsed";
    if (m && "id" in m) {
      kind = `${methodOf.get(m.id) ?? "?"}${"error" in m ? " (error)" : ""}`;
      if (methodOf.get(m.id) === "get_checkpoint" && m.result) checkpoints.push({ certified: m.result, bytes: frame.bytes });
      if (methodOf.get(m.id) === "get_account_proof" && m.result) proof = m.result;
    } else if (m && m.event) {
      kind = `event ${m.event.type}`;
      if (m.event.type === "checkpoint") {
        const { type: _type, ...certified } = m.event;
        checkpoints.push({ certified, bytes: frame.bytes });
      }
    }
    byKind[kind] ??= { frames: 0, bytes: 0 };
    byKind[kind].frames += 1;
    byKind[kind].bytes += frame.bytes;
  }
  const requestsUntil = untilMethod
    ? requests.slice(0, requests.map((r) => r.method).lastIndexOf(untilMethod) + 1)
    : requests;
  return {
    sockets: record.sockets.length,
    requests: requestsUntil.map((r) => r.method),
    sent_bytes: requestsUntil.reduce((a, r) => a + r.bytes, 0),
    received_frames: received.length,
    received_bytes: received.reduce((a, f) => a + f.bytes, 0),
    by_kind: byKind,
    checkpoints,
    proof,
  };
}

/**
 * Bytes of the same frames if the network had 20 equal-stake validators:
 * every certified checkpoint would carry 14 signatures (the smallest k with
 * 3k > 40) instead of the ones it has. Computed, not measured.
 */
function projectTo20(analysis) {
  const SIGNERS_20 = 14;
  let extra = 0;
  for (const { certified } of analysis.checkpoints) {
    const n = certified.signatures.length;
    const perSignature = certified.signatures[0].length + 3 /* quotes, comma */ + 3; /* signer index, comma */
    extra += (SIGNERS_20 - n) * perSignature;
  }
  return analysis.received_bytes + extra;
}

async function waitForResult(page, timeout) {
  await page.waitForFunction(() => window.__lightResult || window.__lightError, null, { timeout, polling: 20 });
  const error = await page.evaluate(() => window.__lightError);
  if (error) throw new Error(`light-bench page failed: ${error}`);
  return page.evaluate(() => window.__lightResult);
}

async function oneLoad(page, frames, times, kind, navigate) {
  const record = frames.begin();
  const timed = times.begin();
  await navigate();
  const r = await waitForResult(page, 60_000);
  const a = analyse(record, "get_account_proof");
  const proofCheckpoint = a.proof && a.checkpoints.find((c) => c.certified.header.number === a.proof.checkpoint);
  const verify = proofCheckpoint
    ? await page.evaluate(([c, p]) => window.__timeVerify(c, p), [proofCheckpoint.certified, a.proof])
    : null;
  const { checkpoints, proof: _proof, ...traffic } = a;
  return {
    kind,
    ms: r.ms,
    used_stored_checkpoint: r.used_stored_checkpoint,
    navigation_type: r.navigation_type,
    wasm: r.wasm,
    validators: r.validators,
    balance: r.account.balance,
    checkpoint: r.account.checkpoint,
    traffic: { ...traffic, checkpoint_frames: checkpoints.map((c) => ({ bytes: c.bytes, signatures: c.certified.signatures.length })) },
    projected_bytes_20_validators: projectTo20(a),
    verify,
    timeline: timeline(timed, r.time_origin_ms),
  };
}

function summariseLoads(loads) {
  const summary = {};
  for (const kind of ["cold", "warm"]) {
    const xs = loads.filter((l) => l.kind === kind);
    if (xs.length === 0) continue;
    const pick = (f) => xs.map(f).filter(Number.isFinite);
    summary[kind] = {
      runs: xs.length,
      verified_balance_ms: { p50: percentile(pick((l) => l.ms.verified_balance), 0.5), p90: percentile(pick((l) => l.ms.verified_balance), 0.9) },
      module_start_ms_p50: percentile(pick((l) => l.ms.module_start), 0.5),
      connected_ms_p50: percentile(pick((l) => l.ms.connected), 0.5),
      connect_to_balance_ms_p50: percentile(pick((l) => l.ms.verified_balance - l.ms.connected), 0.5),
      requests_p50: percentile(pick((l) => l.traffic.requests.length), 0.5),
      requests_max: Math.max(...pick((l) => l.traffic.requests.length)),
      received_bytes: { p50: percentile(pick((l) => l.traffic.received_bytes), 0.5), max: Math.max(...pick((l) => l.traffic.received_bytes)) },
      received_frames_p50: percentile(pick((l) => l.traffic.received_frames), 0.5),
      projected_bytes_20_validators_p50: percentile(pick((l) => l.projected_bytes_20_validators), 0.5),
      verify_ms: {
        first_call_p50: percentile(pick((l) => l.verify?.first.total_ms ?? NaN), 0.5),
        first_call_max: Math.max(...pick((l) => l.verify?.first.total_ms ?? NaN)),
        steady_p50: percentile(pick((l) => l.verify?.steady.total.median_ms ?? NaN), 0.5),
        checkpoint_steady_p50: percentile(pick((l) => l.verify?.steady.verify_checkpoint.median_ms ?? NaN), 0.5),
        account_proof_steady_p50: percentile(pick((l) => l.verify?.steady.verify_account_proof.median_ms ?? NaN), 0.5),
        trust_anchor_steady_p50: percentile(pick((l) => l.verify?.steady.trust_anchor.median_ms ?? NaN), 0.5),
      },
      wasm_transfer_bytes_p50: percentile(pick((l) => l.wasm?.transfer_bytes ?? NaN), 0.5),
      phases_p50: phases(xs),
    };
  }
  return summary;
}

/** The p50 of each point of the load's timeline, in order (ms since navigation start). */
function phases(xs) {
  const p50 = (f) => percentile(xs.map(f).filter(Number.isFinite), 0.5);
  const out = [
    ["html", p50((l) => l.ms.html_response_end)],
    ["wasm fetched", p50((l) => l.wasm?.end_ms ?? NaN)],
    ["module", p50((l) => l.ms.module_start)],
    ["network.json", p50((l) => l.ms.network_json)],
    ["ws handshake", p50((l) => l.timeline?.handshake ?? NaN)],
    ["ws open", p50((l) => l.timeline?.open ?? NaN)],
  ];
  const shape = xs[0]?.timeline?.requests.map((r) => r.method) ?? [];
  shape.forEach((method, i) => {
    const same = xs.filter((l) => l.timeline?.requests[i]?.method === method);
    const q = (f) => percentile(same.map(f).filter(Number.isFinite), 0.5);
    out.push([`${method} sent`, q((l) => l.timeline.requests[i].sent)]);
    out.push([`${method} answered`, q((l) => l.timeline.requests[i].answered)]);
    if (method === "get_checkpoint") out.push(["connected", p50((l) => l.ms.connected)]);
  });
  out.push(["verified balance", p50((l) => l.ms.verified_balance)]);
  return out;
}

function printLoads(loads, summary) {
  const first = loads[0];
  console.log(`page load to a verified balance: ${runs} cold + ${runs} warm loads of ${url}`);
  console.log(`network: ${first.validators} validators; account balance ${first.balance} at checkpoint ${first.checkpoint}`);
  console.log(`requests after connect (cold run 1): ${first.traffic.requests.join(", ")}`);
  console.log("received until the balance (cold run 1), by kind:");
  for (const [kind, v] of Object.entries(first.traffic.by_kind)) console.log(`  ${kind.padEnd(26)} ${String(v.frames).padStart(3)} frames ${String(v.bytes).padStart(8)} B`);
  console.log("");
  console.log(["run".padEnd(8), "module".padStart(8), "connected".padStart(10), "balance".padStart(9), "reqs".padStart(5), "recv B".padStart(8), "verify 1st".padStart(11), "verify hot".padStart(11), "wasm B".padStart(9)].join(" "));
  loads.forEach((l, i) =>
    console.log(
      [
        `${l.kind} ${Math.floor(i / 2) + 1}`.padEnd(8),
        f1(l.ms.module_start).padStart(8),
        f1(l.ms.connected).padStart(10),
        f1(l.ms.verified_balance).padStart(9),
        String(l.traffic.requests.length).padStart(5),
        String(l.traffic.received_bytes).padStart(8),
        f3(l.verify?.first.total_ms ?? NaN).padStart(11),
        f3(l.verify?.steady.total.median_ms ?? NaN).padStart(11),
        String(l.wasm?.transfer_bytes ?? "n/a").padStart(9),
      ].join(" "),
    ),
  );
  console.log("(ms since navigation start; module = scripts and wasm instantiated; verify in ms: the first direct calls, and after a warm-up (hot) the median of 5 batch means)");
  console.log("");
  for (const [kind, s] of Object.entries(summary)) {
    console.log(`${kind}: verified balance p50 ${f1(s.verified_balance_ms.p50)} ms, p90 ${f1(s.verified_balance_ms.p90)} ms` +
      ` (module ${f1(s.module_start_ms_p50)}, connected ${f1(s.connected_ms_p50)}, connect->balance ${f1(s.connect_to_balance_ms_p50)}; p50s)`);
    console.log(`  ratio to target: p50 / ${TARGET.load_p50_ms} ms = ${f2(s.verified_balance_ms.p50 / TARGET.load_p50_ms)}`);
    console.log(`  WebSocket requests (round trips) after connect: p50 ${s.requests_p50}, max ${s.requests_max}; frames received p50 ${s.received_frames_p50}`);
    console.log(`  bytes received until the balance: p50 ${s.received_bytes.p50} B (${kb(s.received_bytes.p50)}), max ${s.received_bytes.max} B;` +
      ` ratio p50 / 64 KiB = ${f2(s.received_bytes.p50 / TARGET.bytes)}`);
    console.log(`  same frames with 20 validators (14 signatures per checkpoint; computed): ${s.projected_bytes_20_validators_p50} B (${kb(s.projected_bytes_20_validators_p50)}),` +
      ` ratio / 64 KiB = ${f2(s.projected_bytes_20_validators_p50 / TARGET.bytes)}`);
    console.log(`  verify CPU (verifyCheckpoint + verifyAccountProof, ${loads[0].verify?.signatures} signatures): first calls p50 ${f3(s.verify_ms.first_call_p50)} ms (max ${f3(s.verify_ms.first_call_max)}),` +
      ` hot p50 ${f3(s.verify_ms.steady_p50)} ms (checkpoint ${f3(s.verify_ms.checkpoint_steady_p50)}, of which genesis parse ${f3(s.verify_ms.trust_anchor_steady_p50)}; account proof ${f3(s.verify_ms.account_proof_steady_p50)})`);
    console.log(`  ratio to target: first calls / ${TARGET.verify_ms} ms = ${f2(s.verify_ms.first_call_p50 / TARGET.verify_ms)}, hot / ${TARGET.verify_ms} ms = ${f2(s.verify_ms.steady_p50 / TARGET.verify_ms)}`);
    console.log(`  wasm transferred: p50 ${s.wasm_transfer_bytes_p50} B`);
    console.log(`  timeline, p50 of each point (ms since navigation start):`);
    for (const [what, ms] of s.phases_p50) console.log(`    ${what.padEnd(28)} ${f1(ms).padStart(7)}`);
  }
}

async function partLoad(browser) {
  const loads = [];
  // One load first, not counted: the browser process itself warms up.
  {
    const context = await browser.newContext();
    const page = await context.newPage();
    const frames = recordFrames(page);
    const times = await recordTimeline(page);
    await oneLoad(page, frames, times, "discarded", () => page.goto(url));
    await context.close();
  }
  for (let i = 0; i < runs; i++) {
    const context = await browser.newContext();
    const page = await context.newPage();
    page.on("pageerror", (e) => console.error("page error:", e.message));
    const frames = recordFrames(page);
    const times = await recordTimeline(page);
    loads.push(await oneLoad(page, frames, times, "cold", () => page.goto(url)));
    loads.push(await oneLoad(page, frames, times, "warm", () => page.reload()));
    await context.close();
  }
  const summary = summariseLoads(loads);
  printLoads(loads, summary);
  return { part: "load", url, runs, targets: TARGET, summary, loads };
}

async function partSubmit(browser) {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.on("pageerror", (e) => console.error("page error:", e.message));
  page.on("console", (m) => {
    if (m.type() === "warning" || m.type() === "error") console.error(`page ${m.type()}: ${m.text()}`);
  });
  const frames = recordFrames(page);
  const record = frames.begin();
  const target = new URL(url);
  target.searchParams.set("mode", "submit");
  target.searchParams.set("transfers", String(transfers));
  await page.goto(target.href);
  const r = await waitForResult(page, 10 * 60_000);
  await context.close();
  const traffic = analyse(record, null);
  // Traffic during the timed transfers only.
  const inWindow = (f) => f.at >= r.window_epoch_ms.start && f.at <= r.window_epoch_ms.end + 50;
  const windowSeconds = (r.window_epoch_ms.end - r.window_epoch_ms.start) / 1000;
  const windowed = analyse(record, null, inWindow);
  const finals = r.runs.map((x) => x.final_ms);
  const s = {
    transfers: r.runs.length,
    all_final: r.runs.every((x) => x.status === "final"),
    statuses: [...new Set(r.runs.map((x) => x.status))],
    final_ms: { p50: percentile(finals, 0.5), p90: percentile(finals, 0.9), p99: percentile(finals, 0.99), min: Math.min(...finals), max: Math.max(...finals) },
    submit_ack_ms_p50: percentile(r.runs.map((x) => x.submit_ack_ms), 0.5),
    sign_ms_p50: percentile(r.runs.map((x) => x.sign_ms), 0.5),
    faucet_final_ms: r.faucet_final_ms,
    checkpoints_seen: r.checkpoints_seen,
    checkpoint_gap_ms: r.checkpoint_gap_ms,
    window_seconds: windowSeconds,
    window_epoch_ms: r.window_epoch_ms,
    requests_per_transfer: windowed.requests.length / Math.max(1, r.runs.length),
    received_bytes_per_second: windowed.received_bytes / windowSeconds,
    received_by_kind: windowed.by_kind,
  };
  console.log(`submit to verified final: ${s.transfers} transfers one after another from a fresh key (relay ${r.relay})`);
  console.log(`faucet payment proven final after ${f1(s.faucet_final_ms)} ms; all final: ${s.all_final} (${s.statuses.join(", ")}); nonce after: ${r.nonce_after}`);
  console.log(`submit -> waitForFinal: p50 ${f1(s.final_ms.p50)} ms, p90 ${f1(s.final_ms.p90)} ms, p99 ${f1(s.final_ms.p99)} ms, min ${f1(s.final_ms.min)}, max ${f1(s.final_ms.max)}` +
    (s.transfers < 100 ? ` (p99 of ${s.transfers} is the nearest rank, i.e. about the maximum)` : ""));
  console.log(`  ratio to targets: p50 / ${TARGET.final_p50_ms} ms = ${f2(s.final_ms.p50 / TARGET.final_p50_ms)}, p99 / ${TARGET.final_p99_ms} ms = ${f2(s.final_ms.p99 / TARGET.final_p99_ms)}`);
  console.log(`  submit answered (unverified "${r.runs[0]?.ack}") p50 ${f1(s.submit_ack_ms_p50)} ms; signing p50 ${f1(s.sign_ms_p50)} ms (not in the figure)`);
  console.log(`  verified checkpoints seen by the page: ${s.checkpoints_seen}, gap median ${f1(s.checkpoint_gap_ms.median)} ms, max ${f1(s.checkpoint_gap_ms.max)} ms`);
  console.log(`  during the ${f1(s.window_seconds)} s of transfers: ${f1(s.requests_per_transfer)} requests per transfer, ${kb(s.received_bytes_per_second)}/s received:`);
  for (const [kind, v] of Object.entries(s.received_by_kind)) console.log(`    ${kind.padEnd(26)} ${String(v.frames).padStart(5)} frames ${String(v.bytes).padStart(10)} B`);
  console.log(["#".padStart(3), "final ms".padStart(9), "ack ms".padStart(8), "checkpoint".padStart(11)].join(" "));
  r.runs.forEach((x, i) => console.log([String(i + 1).padStart(3), f1(x.final_ms).padStart(9), f1(x.submit_ack_ms).padStart(8), x.checkpoint.padStart(11)].join(" ")));
  return { part: "submit", url, targets: TARGET, summary: s, result: r, traffic: { ...traffic, checkpoints: undefined, proof: undefined } };
}

const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox", "--headless=new", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
});
let exitCode = 0;
try {
  console.log(`Chromium ${browser.version()}`);
  const report = part === "load" ? await partLoad(browser) : await partSubmit(browser);
  if (jsonOut) await writeFile(jsonOut, JSON.stringify(report, null, 2) + "\n");
} catch (e) {
  console.error(e instanceof Error ? e.message : e);
  exitCode = 1;
} finally {
  await browser.close();
}
process.exit(exitCode);
