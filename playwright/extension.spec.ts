// The browser extension (extension/dist, built by `npm run build --workspace
// extension`) loaded unpacked into real Chromium (new headless mode) with a
// persistent profile, against the real devnet: the wallet page as the
// extension's popup, and the demo dapp (web/dapp.html, on the origin of its
// own that scripts/devnet.sh serves it from) using window.ruv: connect (rejected, then approved), the network,
// a payment (rejected, then approved after a wrong password, then proven
// final), a signed message (the protocol's own contexts refused), and
// revoking the site's permission.
import { chromium, expect, test, type BrowserContext, type Page } from "@playwright/test";
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { createWallet, DEVNET_CHAIN, PASSWORD, RELAY } from "./wallet-flow";

const ROOT = resolve(fileURLToPath(new URL("..", import.meta.url)));
const DIST = join(ROOT, "extension", "dist");
const RELAYS = [7300, 7301, 7302, 7303].map((port) => `ws://127.0.0.1:${port}/api/v1/ws`);
/** The demo dapp (playwright.config.ts: scripts/devnet.sh serves it on the wallet's port + 1). */
const DAPP_URL = "http://127.0.0.1:7381/dapp.html";
/** A signed message's signature: 3309 bytes, base64url without padding. */
const SIGNATURE_CHARS = Math.ceil((3309 * 4) / 3);

test.describe.configure({ mode: "serial" });

let work = "";
let context: BrowserContext;
let extensionId = "";
const dappUrl = DAPP_URL;
let wallet: Page;
let dapp: Page;
let address = "";

/** The approval window the next request opens. */
async function approvalWindow(trigger: () => Promise<void>): Promise<Page> {
  const opened = context.waitForEvent("page", (p) => p.url().includes("/extension/approval.html"));
  await trigger();
  const page = await opened;
  await expect(page.locator("body")).toHaveAttribute("data-state", "ready");
  return page;
}

/**
 * The payments the extension's vault keeps as pending, read in the
 * extension's own origin (the wallet page) with the extension's own build of
 * ruv-client: a vault session of its own, unlocked with the password and
 * locked again.
 */
async function vaultPending(): Promise<{ id: string; origin?: string; nonce: string }[]> {
  const chunk = readdirSync(join(DIST, "assets")).find((f) => /^ruv-client-.*\.js$/.test(f));
  if (!chunk) throw new Error("no ruv-client chunk in extension/dist/assets");
  return wallet.evaluate(
    async ({ url, password }) => {
      const { Vault } = await import(url);
      const vault = await Vault.open();
      await vault.unlock(password);
      try {
        return vault.pendingTransfers();
      } finally {
        vault.lock();
      }
    },
    { url: `chrome-extension://${extensionId}/assets/${chunk}`, password: PASSWORD },
  );
}

async function dappError(): Promise<string> {
  await expect(dapp.getByTestId("error")).not.toBeEmpty();
  return (await dapp.getByTestId("error").textContent()) ?? "";
}

test.beforeAll(async () => {
  test.setTimeout(120_000);
  if (!existsSync(join(DIST, "manifest.json"))) throw new Error("no extension/dist: run `npm run build --workspace extension` first");
  work = mkdtempSync(join(tmpdir(), "ruv-e2e-extension-"));
  // The extension as built, with this devnet's network configuration (what a
  // release ships for its network), in a copy: the build stays untouched.
  const unpacked = join(work, "extension");
  cpSync(DIST, unpacked, { recursive: true });
  const genesis = readFileSync(join(process.env.RUV_E2E_DATA_DIR ?? "", "genesis.json"), "utf8");
  writeFileSync(join(unpacked, "web", "network.json"), `{"genesis":${genesis},"relays":${JSON.stringify(RELAYS)}}`);

  context = await chromium.launchPersistentContext(join(work, "profile"), {
    executablePath: "/usr/bin/chromium",
    headless: true,
    args: [
      "--headless=new",
      "--no-sandbox",
      "--disable-gpu",
      `--disable-extensions-except=${unpacked}`,
      `--load-extension=${unpacked}`,
      "--disable-features=DisableLoadExtensionCommandLineSwitch",
      "--no-first-run",
    ],
  });
  const worker = context.serviceWorkers()[0] ?? (await context.waitForEvent("serviceworker"));
  extensionId = new URL(worker.url()).host;
});

test.afterAll(async () => {
  await context?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

test("before there is a wallet: a site's request shows why nothing can be approved; closing rejects (4001)", async () => {
  dapp = await context.newPage();
  await dapp.goto(dappUrl);
  await expect(dapp.getByTestId("provider")).toHaveAttribute("data-state", "open");
  const opened = context.waitForEvent("page", (p) => p.url().includes("/extension/approval.html"));
  await dapp.getByTestId("connect").click();
  const approval = await opened;
  await expect(approval.locator("body")).toHaveAttribute("data-state", "dead");
  await expect(approval.getByTestId("request-status")).toContainText("There is no wallet in this extension yet");
  await expect(approval.getByTestId("approve-form")).toBeHidden();
  await clickClosing(approval, "dismiss");
  expect(await dappError()).toMatch(/^4001: /);
});

/** Clicks a button that closes its own window, and waits for the close.
 * The click can see the page go away mid-action ("Target page ... has been
 * closed"); that is only an error if the window did not close. */
async function clickClosing(page: Page, testId: string): Promise<void> {
  const closed = page.waitForEvent("close");
  await page
    .getByTestId(testId)
    .click()
    .catch((error: unknown) => {
      if (!page.isClosed()) throw error;
    });
  await closed;
}

test("the popup is the wallet: create a wallet in the extension's own origin and get devnet funds", async ({}, testInfo) => {
  wallet = await context.newPage();
  // Argon2 runs in a Web Worker started from the extension's own origin (the MV3 CSP allows it).
  const kdfWorkers: string[] = [];
  wallet.on("worker", (w) => kdfWorkers.push(w.url()));
  await wallet.goto(`chrome-extension://${extensionId}/web/index.html`);
  await expect(wallet.getByTestId("connection")).toHaveAttribute("data-state", "open");
  ({ address } = await createWallet(wallet));
  expect(kdfWorkers.length).toBeGreaterThan(0);
  for (const url of kdfWorkers) expect(url).toMatch(new RegExp(`^chrome-extension://${extensionId}/assets/kdf-worker-[\\w-]+\\.js$`));
  await wallet.getByTestId("faucet").click();
  await expect(wallet.locator('[data-testid="tx"][data-kind="faucet"] [data-testid="tx-status"]')).toHaveAttribute("data-status", "final");
  await expect(wallet.getByTestId("balance")).toHaveAttribute("data-micro", "1000000000");
  await expect(wallet.getByTestId("sites-details")).toBeVisible();
  await wallet.screenshot({ path: testInfo.outputPath("extension-wallet.png"), fullPage: true });
});

test("a site sees nothing before it is connected; rejecting the connection gives 4001, approving it the account", async ({}, testInfo) => {
  await dapp.reload();
  await expect(dapp.getByTestId("provider")).toHaveAttribute("data-state", "open");
  await expect(dapp.getByTestId("account")).toHaveText("not connected");
  // Unknown methods and unconnected sites get their EIP-1193 codes.
  const codes = await dapp.evaluate(async () => {
    const ruv = (window as unknown as { ruv: { request(a: unknown): Promise<unknown> } }).ruv;
    const code = (p: Promise<unknown>) => p.then(() => 0, (e: { code: number }) => e.code);
    return {
      accounts: await ruv.request({ method: "ruv_accounts" }),
      unsupported: await code(ruv.request({ method: "eth_sendTransaction" })),
      send: await code(ruv.request({ method: "ruv_sendTransfer", params: [{ to: "ruv1x", amount: "1" }] })),
      wait: await code(ruv.request({ method: "ruv_waitForFinal", params: [{ id: "00".repeat(32) }] })),
    };
  });
  expect(codes).toEqual({ accounts: [], unsupported: 4200, send: 4100, wait: 4100 });

  // Rejected.
  let approval = await approvalWindow(() => dapp.getByTestId("connect").click());
  await expect(approval.getByTestId("request-origin")).toHaveText(new URL(dappUrl).origin);
  await expect(approval.getByTestId("request-heading")).toHaveText("Connect this site to your wallet?");
  await approval.getByTestId("reject").click();
  expect(await dappError()).toMatch(/^4001: /);
  await expect(dapp.getByTestId("account")).toHaveText("not connected");

  // Approved: unlock (the vault is locked in every approval window), choose the account, connect.
  approval = await approvalWindow(() => dapp.getByTestId("connect").click());
  await approval.getByTestId("approve-password").fill(PASSWORD);
  await approval.getByTestId("approve").click();
  await expect(approval.getByTestId("connect-account")).toBeEnabled();
  await approval.screenshot({ path: testInfo.outputPath("extension-connect.png"), fullPage: true });
  const closed = approval.waitForEvent("close");
  await approval.getByTestId("approve").click();
  await closed;
  await expect(dapp.getByTestId("account")).toHaveText(address);
  expect(await dapp.evaluate(() => (window as unknown as { ruv: { request(a: unknown): Promise<unknown> } }).ruv.request({ method: "ruv_accounts" }))).toEqual([address]);

  // The network: the chain id and the genesis hash the relays name.
  await dapp.getByTestId("network").click();
  const status = await (await fetch(`${RELAY}/api/v1/network/status`)).json();
  expect(status.genesis_hash).toMatch(/^[0-9a-f]{64}$/);
  await expect(dapp.getByTestId("network-info")).toHaveText(`${status.chain_id} · genesis ${status.genesis_hash}`);
  expect(status.chain_id).toMatch(DEVNET_CHAIN);
});

test("a payment: rejected gives 4001; a wrong password approves nothing; approved, it is signed, sent and proven final", async ({}, testInfo) => {
  // A second account of the wallet receives.
  await wallet.getByTestId("add-account").click();
  await expect(wallet.getByTestId("account-select").locator("option")).toHaveCount(2);
  const recipient = await wallet.getByTestId("address").inputValue();
  expect(recipient).not.toBe(address);

  await dapp.getByTestId("pay-to").fill(recipient);
  await dapp.getByTestId("pay-amount").fill("3.25");
  let approval = await approvalWindow(() => dapp.getByTestId("pay").click());
  await expect(approval.getByTestId("request-origin")).toHaveText(new URL(dappUrl).origin);
  await expect(approval.getByTestId("transfer-to")).toHaveText(recipient);
  await expect(approval.getByTestId("transfer-amount")).toHaveText("3.25 rUv");
  await expect(approval.getByTestId("transfer-network")).toHaveText(DEVNET_CHAIN);
  await expect(approval.getByTestId("transfer-from")).toContainText(address);
  await expect(approval.getByTestId("approve")).toBeEnabled();
  await approval.getByTestId("reject").click();
  expect(await dappError()).toMatch(/^4001: /);

  approval = await approvalWindow(() => dapp.getByTestId("pay").click());
  await expect(approval.getByTestId("approve")).toBeEnabled();
  const fee = (await approval.getByTestId("transfer-fee").textContent())!;
  const feeMicro = BigInt(Math.round(Number(fee.replace(" rUv", "")) * 1e6));
  await expect(approval.getByTestId("transfer-total")).toHaveText(`${(3_250_000 + Number(feeMicro)) / 1e6} rUv`);
  await expect(approval.getByTestId("transfer-nonce")).toHaveText("1");
  await approval.screenshot({ path: testInfo.outputPath("extension-approve-payment.png"), fullPage: true });
  // The vault stays locked with a wrong password: nothing is signed.
  await approval.getByTestId("approve-password").fill("not the password");
  await approval.getByTestId("approve").click();
  await expect(approval.getByTestId("approve-error")).toHaveText("Wrong password. Nothing was approved.");
  await expect(dapp.getByTestId("payment")).toHaveText("none");
  await approval.getByTestId("approve-password").fill(PASSWORD);
  const closed = approval.waitForEvent("close");
  await approval.getByTestId("approve").click();
  await closed;

  await expect(dapp.getByTestId("payment")).toHaveText(/^[0-9a-f]{64}$/);
  const id = (await dapp.getByTestId("payment").textContent())!;
  // Kept in the vault (encrypted), with the site that asked, until the wallet settles it by a proof;
  // nothing about it in the extension origin's plain storage.
  expect(await vaultPending()).toContainEqual(expect.objectContaining({ id, origin: new URL(dappUrl).origin, nonce: "1" }));
  // (The wallet page may list it as received by the other account: nothing stores it as sent.)
  const storedAsSent = await wallet.evaluate((txId) =>
    Object.values(localStorage).some((v) => {
      try {
        const items: unknown = JSON.parse(v);
        return Array.isArray(items) && items.some((i) => i?.id === txId && i?.kind === "sent");
      } catch {
        return false;
      }
    }), id);
  expect(storedAsSent).toBe(false);
  await expect(dapp.getByTestId("payment-status")).toHaveAttribute("data-status", "final");
  const proof = await (await fetch(`${RELAY}/api/v1/accounts/${recipient}/proof`)).json();
  expect(proof.balance).toBe("3250000");

  // The wallet page shows the site's payment in its activity, verified.
  await wallet.reload();
  await wallet.getByTestId("unlock-password").fill(PASSWORD);
  await wallet.getByTestId("unlock").click();
  await wallet.getByTestId("account-select").selectOption("0");
  await expect(wallet.locator(`[data-tx-id="${id}"] [data-testid="tx-status"]`)).toHaveAttribute("data-status", "final");
  await expect(wallet.getByTestId("balance")).toHaveAttribute("data-micro", String(1_000_000_000n - 3_250_000n - feeMicro));
  // Proven final: the vault keeps it pending no more.
  await expect.poll(async () => (await vaultPending()).map((p) => p.id)).not.toContain(id);
});

test("a site's payment an older extension kept in localStorage moves into the vault, with its origin", async () => {
  const chain = (await (await fetch(`${RELAY}/api/v1/network/status`)).json()).chain_id as string;
  const legacy = "ab".repeat(32);
  const origin = new URL(dappUrl).origin;
  // What the previous version's approval window stored: pending, with the site (old enough not to hold its nonce).
  await wallet.evaluate(
    ({ address, legacy, chain, origin }) => {
      const key = `ruv-wallet/activity/${chain}/${address}`;
      const items = JSON.parse(localStorage.getItem(key) ?? "[]");
      items.push({ id: legacy, kind: "sent", amount: "1000", fee: "6326", counterpart: address, nonce: "9", status: "pending", origin, at: Date.now() - 3_600_000 });
      localStorage.setItem(key, JSON.stringify(items));
    },
    { address, legacy, chain, origin },
  );
  const inLocalStorage = () => wallet.evaluate((id) => Object.values(localStorage).some((v) => v.includes(id)), legacy);
  expect(await inLocalStorage()).toBe(true);

  await wallet.reload();
  await wallet.getByTestId("unlock-password").fill(PASSWORD);
  await wallet.getByTestId("unlock").click();
  await wallet.getByTestId("account-select").selectOption("0");
  await expect(wallet.locator(`[data-tx-id="${legacy}"] [data-testid="tx-status"]`)).toHaveAttribute("data-status", "pending");
  await expect.poll(inLocalStorage).toBe(false);
  expect(await vaultPending()).toContainEqual(expect.objectContaining({ id: legacy, origin, nonce: "9" }));
});

test("a signed message: the protocol's own contexts are refused; an approved one verifies in length", async () => {
  await dapp.getByTestId("sign-context").fill("ruv/tx/v1");
  await dapp.getByTestId("sign").click();
  expect(await dappError()).toMatch(/^-32602: context: contexts starting with "ruv\/"/);
  expect(context.pages().some((p) => p.url().includes("approval.html"))).toBe(false);

  await dapp.getByTestId("sign-context").fill("ruv-demo-dapp/login/v1");
  const approval = await approvalWindow(() => dapp.getByTestId("sign").click());
  await expect(approval.getByTestId("message-text")).toHaveText("Log in to the rUv demo dapp");
  await expect(approval.getByTestId("message-context")).toHaveText("ruv-demo-dapp/login/v1");
  await approval.getByTestId("approve-password").fill(PASSWORD);
  const closed = approval.waitForEvent("close");
  await approval.getByTestId("approve").click();
  await closed;
  await expect(dapp.getByTestId("signature")).toHaveText(new RegExp(`^[A-Za-z0-9_-]{${SIGNATURE_CHARS}}$`));
});

test("revoking the site in the wallet's settings: accountsChanged [] at once, and requests are unauthorized again", async () => {
  await wallet.getByTestId("sites-details").locator("summary").click();
  const site = wallet.locator(`[data-testid="site"][data-origin="${new URL(dappUrl).origin}"]`);
  await expect(site).toContainText(address.slice(0, 10));
  await site.getByTestId("site-revoke").click();
  await expect(wallet.getByTestId("sites-status")).toHaveText(`Disconnected ${new URL(dappUrl).origin}.`);
  await expect(dapp.getByTestId("account")).toHaveText("not connected");
  await expect(dapp.getByTestId("log")).toContainText("accountsChanged: []");
  const after = await dapp.evaluate(async () => {
    const ruv = (window as unknown as { ruv: { request(a: unknown): Promise<unknown> } }).ruv;
    return {
      accounts: await ruv.request({ method: "ruv_accounts" }),
      send: await ruv.request({ method: "ruv_sendTransfer", params: [{ to: "x", amount: "1" }] }).then(() => 0, (e: { code: number }) => e.code),
    };
  });
  expect(after).toEqual({ accounts: [], send: 4100 });
});

test("the extension goes away (reloaded): the page's provider says disconnect, and requests fail with 4900", async () => {
  const worker = context.serviceWorkers().find((w) => w.url().includes(extensionId));
  expect(worker).toBeTruthy();
  await worker!.evaluate(() => chrome.runtime.reload()).catch(() => {});
  // The content script on the open page is orphaned now.
  const code = await dapp.evaluate(async () => {
    const ruv = (window as unknown as { ruv: { request(a: unknown): Promise<unknown> } }).ruv;
    return ruv.request({ method: "ruv_accounts" }).then(() => 0, (e: { code: number }) => e.code);
  });
  expect(code).toBe(4900);
  await expect(dapp.getByTestId("log")).toContainText("disconnect:");
});
