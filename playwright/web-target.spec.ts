// The `--target web` build of ruv-client (client-wasm/pkg-web) loads as a
// plain ES module in Chromium, with no bundler: key generation, addresses,
// signing and verification work.
import { test, expect } from "@playwright/test";
import { createServer, type Server } from "node:http";
import { readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const pkg = resolve(fileURLToPath(new URL("../client-wasm/pkg-web", import.meta.url)));
const types: Record<string, string> = {
  ".js": "text/javascript",
  ".wasm": "application/wasm",
  ".html": "text/html; charset=utf-8",
};
let server: Server;
let origin = "";

test.beforeAll(async () => {
  server = createServer(async (req, res) => {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    if (path === "/") {
      res.writeHead(200, { "content-type": types[".html"] });
      res.end("<!doctype html><title>pkg-web</title>");
      return;
    }
    const name = path.replace(/^\/+/, "");
    if (name.includes("..") || name.includes("/")) {
      res.writeHead(404).end();
      return;
    }
    try {
      const body = await readFile(join(pkg, name));
      res.writeHead(200, { "content-type": types[name.slice(name.lastIndexOf("."))] ?? "application/octet-stream" });
      res.end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  origin = `http://127.0.0.1:${address.port}`;
});

test.afterAll(async () => {
  await new Promise((done) => server.close(done));
});

test("the --target web package loads and signs in Chromium", async ({ page }) => {
  await page.goto(origin + "/");
  const result = await page.evaluate(async () => {
    const m = await import("/ruv_client.js");
    await m.default();
    const key = m.Keypair.fromSeed(new Uint8Array(32).fill(7));
    const message = new TextEncoder().encode("pay bob");
    const context = new TextEncoder().encode("ruv/tx/v1");
    const signature = key.signMessage(message, context);
    let badSeed = "";
    try {
      m.Keypair.fromSeed(new Uint8Array(31));
    } catch (e) {
      badSeed = (e as { code?: string }).code ?? "no code";
    }
    return {
      address: key.address,
      derived: m.addressOfPublicKey(key.publicKey()),
      signatureBytes: signature.length,
      verifies: m.verifySignature(key.publicKey(), message, context, signature),
      tamperedVerifies: m.verifySignature(key.publicKey(), new TextEncoder().encode("pay eve"), context, signature),
      badSeed,
    };
  });
  expect(result.address).toMatch(/^ruv1[02-9ac-hj-np-z]{58}$/);
  expect(result.derived).toBe(result.address);
  expect(result.signatureBytes).toBe(3309);
  expect(result.verifies).toBe(true);
  expect(result.tamperedVerifies).toBe(false);
  expect(result.badSeed).toBe("invalid_seed");
});
