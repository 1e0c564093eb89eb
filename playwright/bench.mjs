#!/usr/bin/env node
// ML-DSA-65 benchmark in real headless Chromium: opens the wallet's bench
// page (web/bench.html, built into web/dist) and prints per-operation times
// for the rUv wasm build and @noble/post-quantum, with the ratios.
//
//   node playwright/bench.mjs [--url http://127.0.0.1:7100/bench.html] [--min-ms 2000] [--min-iters 10] [--json out.json]
//
// Without --url it serves web/dist itself on a free local port. Build first
// (release wasm): `npm run build` at the repository root.
import { chromium } from "@playwright/test";
import { createServer } from "node:http";
import { readFile, writeFile } from "node:fs/promises";
import { extname, join, normalize, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const args = process.argv.slice(2);
function option(name, fallback) {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : fallback;
}
const minMs = Number(option("--min-ms", "2000"));
const minIters = Number(option("--min-iters", "10"));
const jsonOut = option("--json", null);
let url = option("--url", null);

const dist = resolve(fileURLToPath(new URL("../web/dist", import.meta.url)));
const types = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript",
  ".css": "text/css",
  ".wasm": "application/wasm",
  ".json": "application/json",
};

let server = null;
if (!url) {
  server = createServer(async (req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url, "http://x").pathname)).replace(/^(\.\.[/\\])+/, "");
    const file = join(dist, path === "/" ? "index.html" : path);
    if (!file.startsWith(dist)) {
      res.writeHead(403).end();
      return;
    }
    try {
      const body = await readFile(file);
      res.writeHead(200, { "content-type": types[extname(file)] ?? "application/octet-stream" }).end(body);
    } catch {
      res.writeHead(404).end("not found");
    }
  });
  await new Promise((ok) => server.listen(0, "127.0.0.1", ok));
  url = `http://127.0.0.1:${server.address().port}/bench.html`;
}

const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  headless: true,
  args: [
    "--no-sandbox",
    "--headless=new",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
  ],
});
let exitCode = 0;
try {
  const page = await browser.newPage();
  page.on("pageerror", (e) => console.error("page error:", e.message));
  const target = new URL(url);
  target.searchParams.set("minMs", String(minMs));
  target.searchParams.set("minIters", String(minIters));
  await page.goto(target.href);
  await page.waitForFunction(() => window.__benchResults || window.__benchError, null, {
    timeout: 30 * 60_000,
    polling: 500,
  });
  const error = await page.evaluate(() => window.__benchError);
  if (error) throw new Error(`bench page failed: ${error}`);
  const r = await page.evaluate(() => window.__benchResults);

  const row = (op) => [
    op.padEnd(8),
    r.wasm[op].ms_per_op.toFixed(3).padStart(12),
    r.noble[op].ms_per_op.toFixed(3).padStart(12),
    `${r.speedup[op].toFixed(2)}x`.padStart(14),
    `${r.wasm[op].iterations}/${r.noble[op].iterations}`.padStart(12),
  ].join(" ");
  console.log(`ML-DSA-65 in ${r.user_agent}`);
  console.log(`message ${r.message_bytes} bytes, >= ${r.min_ms} ms and >= ${r.min_iterations} iterations per figure`);
  console.log(`interop: ${JSON.stringify(r.interop)}`);
  console.log(["op".padEnd(8), "wasm ms/op".padStart(12), "noble ms/op".padStart(12), "noble/wasm".padStart(14), "iterations".padStart(12)].join(" "));
  for (const op of ["keygen", "sign", "verify"]) console.log(row(op));
  console.log(JSON.stringify(r));
  if (jsonOut) await writeFile(jsonOut, JSON.stringify(r, null, 2) + "\n");
} catch (e) {
  console.error(e instanceof Error ? e.message : e);
  exitCode = 1;
} finally {
  await browser.close();
  server?.close();
}
process.exit(exitCode);
