// The wallet's fee cap (web/src/transfer.ts, MAX_FEE_MICRO: 0.1 rUv) against
// a real network whose genesis asks more: a one-relay network of its own
// (ruv-relay devnet-init for the keys, `ruv-relay genesis --fees base=200000`
// for the genesis), with the built wallet served for it on an origin of its
// own. The payment is refused before the confirmation screen: nothing is
// signed, nothing is sent. Ports 7390 (relay) and 7391 (wallet), next to the
// shared devnet's (playwright.config.ts).
import { expect, test } from "@playwright/test";
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { createWallet, pageErrors } from "./wallet-flow";

const ROOT = resolve(fileURLToPath(new URL("..", import.meta.url)));
const RELAY_BIN = join(process.env.CARGO_TARGET_DIR ?? join(ROOT, "target"), "debug", "ruv-relay");
const RELAY_PORT = 7390;
const WALLET_PORT = 7391;
const WALLET = `http://127.0.0.1:${WALLET_PORT}`;
/** 0.2 rUv per payment before its size: twice the wallet's cap. */
const BASE_FEE_MICRO = 200_000;

let work = "";
const children: ChildProcess[] = [];

async function waitFor(url: string, child: ChildProcess, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) throw new Error(`${what} exited (${child.exitCode})`);
    if (await fetch(url).then((r) => r.ok, () => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} did not start`);
}

test.beforeAll(async () => {
  test.setTimeout(60_000);
  work = mkdtempSync(join(tmpdir(), "ruv-e2e-feecap-"));
  const keys = join(work, "keys");
  execFileSync(RELAY_BIN, ["devnet-init", "--dir", keys, "--relays", "1"]);
  const devnet = JSON.parse(readFileSync(join(keys, "genesis.json"), "utf8"));
  const genesisPath = join(work, "genesis.json");
  execFileSync(RELAY_BIN, [
    "genesis",
    "--chain-id", "feecap",
    "--validator", `relay-0=${devnet.validators[0].public_key}`,
    "--balance", `${devnet.balances[0].address}=${devnet.balances[0].amount}`,
    "--fees", `base=${BASE_FEE_MICRO},per-byte=1,burn-percent=50`,
    "--out", genesisPath,
  ]);
  const relay = spawn(RELAY_BIN, [
    "run",
    "--listen", `127.0.0.1:${RELAY_PORT}`,
    "--genesis", genesisPath,
    "--data-dir", join(work, "relay-0"),
    "--key-file", join(keys, "relay-0.key"),
    "--faucet-key-file", join(keys, "faucet.key"),
    "--name", "relay-0",
    "--cors-origin", WALLET,
  ], { stdio: "ignore" });
  children.push(relay);
  await waitFor(`http://127.0.0.1:${RELAY_PORT}/healthz`, relay, "the relay");

  // The built wallet with this network's configuration, in a copy (web/dist is the shared devnet's).
  const dist = join(work, "wallet");
  cpSync(join(ROOT, "web", "dist"), dist, { recursive: true });
  const genesis = readFileSync(genesisPath, "utf8");
  writeFileSync(join(dist, "network.json"), `{"genesis":${genesis},"relays":["ws://127.0.0.1:${RELAY_PORT}/api/v1/ws"]}`);
  const server = spawn("node", [join(ROOT, "scripts", "serve-wallet.mjs"), "--dir", dist, "--listen", `127.0.0.1:${WALLET_PORT}`], { stdio: "ignore" });
  children.push(server);
  await waitFor(`${WALLET}/network.json`, server, "the wallet server");
});

test.afterAll(async () => {
  for (const child of children) child.kill("SIGTERM");
  await Promise.all(children.map((c) => (c.exitCode !== null ? null : new Promise((r) => c.once("exit", r)))));
  if (work) rmSync(work, { recursive: true, force: true });
});

test("a payment whose fee is above the wallet's cap is refused before anything is signed", async ({ browser }, testInfo) => {
  const page = await (await browser.newContext()).newPage();
  const errors = pageErrors(page);
  await page.goto(`${WALLET}/`);
  const { address } = await createWallet(page);
  await page.getByTestId("faucet").click();
  await expect(page.locator('[data-testid="tx"][data-kind="faucet"] [data-testid="tx-status"]')).toHaveAttribute("data-status", "final");
  await expect(page.getByTestId("balance-state")).toHaveAttribute("data-state", "verified");
  const balance = await page.getByTestId("balance").getAttribute("data-micro");
  expect(BigInt(balance!)).toBeGreaterThan(BigInt(BASE_FEE_MICRO) * 10n);

  await page.getByTestId("send-to").fill(address);
  await page.getByTestId("send-amount").fill("1");
  await page.getByTestId("send").click();
  await expect(page.getByTestId("send-amount-error")).toContainText("above this wallet's cap of 0.1 rUv; nothing is signed.");
  await expect(page.getByTestId("confirm")).toBeHidden();
  await expect(page.locator('[data-testid="tx"][data-kind="sent"]')).toHaveCount(0);
  await page.screenshot({ path: testInfo.outputPath("wallet-fee-cap.png"), fullPage: true });
  // Nothing reached the network: the balance is what the faucet gave.
  await expect(page.getByTestId("balance")).toHaveAttribute("data-micro", balance!);
  expect(errors).toEqual([]);
});
