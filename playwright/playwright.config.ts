// End-to-end tests in real headless Chromium (Debian's /usr/bin/chromium;
// Playwright's own browser downloads are never used) against a real devnet
// started by scripts/devnet.sh: relays on 7300..7303, and the built wallet
// (web/dist) on an origin of its own, 7380 (scripts/serve-wallet.mjs).
import { defineConfig } from "@playwright/test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const PORT = 7300;
const WALLET_PORT = PORT + 80;
const BASE_URL = `http://127.0.0.1:${WALLET_PORT}`;

// The config is evaluated in the runner and again in every worker: the
// runner makes the fresh devnet folder, hands it down through the
// environment, and removes it when it exits (after stopping the devnet).
if (!process.env.RUV_E2E_DATA_DIR) {
  const dir = mkdtempSync(join(tmpdir(), "ruv-e2e-devnet-"));
  process.env.RUV_E2E_DATA_DIR = dir;
  process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
}

export default defineConfig({
  testDir: ".",
  testMatch: "*.spec.ts",
  // One devnet, shared state (faucet cooldowns, balances): run tests one at a time.
  workers: 1,
  fullyParallel: false,
  forbidOnly: !!process.env.CI,
  retries: 0,
  timeout: 120_000,
  expect: { timeout: 30_000 },
  reporter: [["list"]],
  use: {
    baseURL: BASE_URL,
    browserName: "chromium",
    headless: true,
    launchOptions: {
      executablePath: "/usr/bin/chromium",
      args: [
        "--no-sandbox",
        "--headless=new",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
      ],
    },
    trace: "retain-on-failure",
  },
  webServer: {
    command: `bash ../scripts/devnet.sh --no-build --base-port ${PORT} --wallet-port ${WALLET_PORT} --data-dir ${process.env.RUV_E2E_DATA_DIR}`,
    // Served once every relay answers /healthz.
    url: `${BASE_URL}/network.json`,
    // Never test against some other process that happens to hold the port.
    reuseExistingServer: false,
    timeout: 60_000,
    // SIGTERM lets devnet.sh stop its relays cleanly.
    gracefulShutdown: { signal: "SIGTERM", timeout: 10_000 },
    stdout: "pipe",
    stderr: "pipe",
  },
});
