// The example app (examples/light-client): a plain Vite + TypeScript page
// built against the *packed* ruv-client package (`npm pack` of
// client-wasm/pkg, installed from the tarball by examples/light-client/setup.sh),
// served by a static server of its own, not by a relay. It must show the
// devnet faucet account's balance, verified, with its checkpoint, through
// `LightClient` and the package's public API only.
import { expect, test } from "@playwright/test";
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { extname, join, normalize, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(fileURLToPath(new URL("..", import.meta.url)));
const EXAMPLE = join(ROOT, "examples", "light-client");
const DIST = join(EXAMPLE, "dist");
const RELAY = "http://127.0.0.1:7300";
/** The devnet's relays (playwright.config.ts: 4 relays from port 7300). */
const RELAYS = [7300, 7301, 7302, 7303].map((port) => `ws://127.0.0.1:${port}/api/v1/ws`);

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript",
  ".wasm": "application/wasm",
  ".json": "application/json",
  ".css": "text/css",
};

let server: Server;
let origin = "";

/** The devnet's genesis file (its text: the trust anchor the example is given). */
function genesisText(): string {
  const dir = process.env.RUV_E2E_DATA_DIR;
  if (!dir) throw new Error("RUV_E2E_DATA_DIR is not set (run through playwright.config.ts)");
  return readFileSync(join(dir, "genesis.json"), "utf8");
}

/** The faucet: the devnet genesis's only funded account. */
function faucetAddress(): string {
  const balances = (JSON.parse(genesisText()) as { balances: { address: string }[] }).balances;
  expect(balances).toHaveLength(1);
  return balances[0].address;
}

async function provenBalance(address: string): Promise<{ balance: string; checkpoint: string }> {
  const body = await (await fetch(`${RELAY}/api/v1/accounts/${address}/proof`)).json();
  return { balance: body.balance, checkpoint: body.checkpoint };
}

test.beforeAll(async () => {
  // scripts/test.sh builds the example; built here if it is missing.
  if (!existsSync(join(DIST, "index.html"))) {
    test.setTimeout(180_000);
    execFileSync("bash", [join(EXAMPLE, "setup.sh")], { stdio: "inherit" });
    execFileSync("npm", ["run", "build"], { cwd: EXAMPLE, stdio: "inherit" });
  }
  // dist/ as any static host serves it, plus the devnet's network.json next
  // to it (what scripts/devnet.sh writes for the wallet: `{genesis, relays}`)
  // and the genesis file alone (for the query-parameter variant).
  server = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
    try {
      const file = normalize(join(DIST, path === "/" ? "index.html" : path));
      if (!file.startsWith(DIST + "/")) throw new Error("outside dist");
      let body: Buffer | string;
      if (path === "/network.json") body = `{"genesis":${genesisText()},"relays":${JSON.stringify(RELAYS)}}`;
      else if (path === "/genesis.json") body = genesisText();
      else body = await readFile(file);
      res.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream" });
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
  if (server) await new Promise((done) => server.close(done));
});

const VARIANTS = [
  { name: "network.json next to the page", query: "", relay: /^ws:\/\/127\.0\.0\.1:730[0-3]\/api\/v1\/ws$/ },
  {
    name: "?genesis=URL&relay=…",
    query: `&genesis=${encodeURIComponent("/genesis.json")}&relay=${encodeURIComponent("ws://127.0.0.1:7302/api/v1/ws,ws://127.0.0.1:7303/api/v1/ws")}`,
    relay: /^ws:\/\/127\.0\.0\.1:7302\/api\/v1\/ws$/,
  },
];

for (const variant of VARIANTS) {
  test(`the example app shows the faucet's verified balance (${variant.name})`, async ({ page }) => {
    const pageErrors: string[] = [];
    page.on("pageerror", (e) => pageErrors.push(e.message));
    const address = faucetAddress();
    await page.goto(`${origin}/?address=${address}${variant.query}`);

    await expect(page.getByTestId("address")).toHaveText(address);
    await expect(page.getByTestId("status")).toHaveAttribute("data-state", "open");
    await expect(page.getByTestId("status")).toContainText("ruv-devnet-");
    await expect(page.getByTestId("balance-state")).toHaveAttribute("data-state", "verified");
    await expect(page.getByTestId("balance-state")).toContainText(/^Verified at checkpoint \d+, \d+ s ago$/);
    await expect(page.getByTestId("checkpoint")).toHaveText(/^\d+ \(\d+ s old, from ws:\/\/127\.0\.0\.1:730\d\/api\/v1\/ws\)$/);
    await expect(page.getByTestId("relay")).toHaveText(variant.relay);
    await expect(page.getByTestId("dropped")).toHaveText("none");

    // The balance is the one the relay proves (nothing pays from the faucet
    // during this test, but a checkpoint may come between the two reads).
    await expect
      .poll(async () => {
        const shown = await page.getByTestId("balance").getAttribute("data-micro");
        const proven = await provenBalance(address);
        return shown === proven.balance;
      })
      .toBe(true);
    const micro = BigInt((await page.getByTestId("balance").getAttribute("data-micro")) ?? "-1");
    const genesisAmount = BigInt((JSON.parse(genesisText()) as { balances: { amount: string }[] }).balances[0].amount);
    expect(micro > 0n && micro <= genesisAmount).toBe(true);
    // Shown in rUv, exactly.
    const whole = (micro / 1_000_000n).toLocaleString("en-US");
    await expect(page.getByTestId("balance")).toContainText(new RegExp(`^${whole}(\\.\\d{1,6})? rUv$`));

    // It refreshes on new checkpoints (onCheckpoint): the devnet certifies a
    // heartbeat checkpoint at least every few seconds.
    const first = Number(await page.getByTestId("balance-state").getAttribute("data-checkpoint"));
    await expect.poll(async () => Number(await page.getByTestId("balance-state").getAttribute("data-checkpoint")), { timeout: 20_000 }).toBeGreaterThan(first);
    await expect(page.getByTestId("balance-state")).toHaveAttribute("data-state", "verified");
    expect(pageErrors).toEqual([]);
  });
}

test("the example app refuses a mistyped address", async ({ page }) => {
  const address = faucetAddress();
  const mistyped = address.slice(0, -1) + (address.endsWith("q") ? "p" : "q");
  await page.goto(`${origin}/?address=${mistyped}`);
  await expect(page.getByTestId("status")).toHaveAttribute("data-state", "error");
  await expect(page.getByTestId("status")).toContainText("Not an rUv address");
  await expect(page.getByTestId("balance")).not.toHaveAttribute("data-micro", /.*/);
});
