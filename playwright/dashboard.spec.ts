// The web wallet as its own origin: served by scripts/serve-wallet.mjs (not
// by a relay) with a strict CSP and subresource integrity; a `?relay=` link
// cannot retarget it; every payment goes through a confirmation screen; the
// activity survives a reload and is verified again (storage is not trusted).
import { decodeQR } from "@paulmillr/qr/decode.js";
import { expect, test, type Page } from "@playwright/test";
import { createWallet, pageErrors, RELAY, unlock } from "./wallet-flow";

/** The devnet's chain id: the devnet name and a suffix bound to its genesis. */
const CHAIN_ID = /^ruv-devnet-[a-z2-7]{20}$/;

/** The devnet's relays (playwright.config.ts): the only servers the page may reach. */
const RELAY_PORTS = [7300, 7301, 7302, 7303];

/** Records every CSP violation the page reports, from the first script on. */
async function recordViolations(page: Page): Promise<void> {
  await page.addInitScript(() => {
    const w = window as unknown as { __violations: string[] };
    w.__violations = [];
    document.addEventListener("securitypolicyviolation", (e) => w.__violations.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
}

async function violations(page: Page): Promise<string[]> {
  return page.evaluate(() => (window as unknown as { __violations: string[] }).__violations);
}

test("the wallet's own origin: CSP and security headers, SRI, and no wallet on the relays", async ({ request }) => {
  const response = await request.get("/");
  expect(response.status()).toBe(200);
  const headers = response.headers();
  const csp = headers["content-security-policy"];
  expect(csp).toContain("default-src 'none'");
  expect(csp).toContain("script-src 'self' 'wasm-unsafe-eval'");
  expect(csp).toContain("frame-ancestors 'none'");
  // connect-src: this origin and exactly the relays of network.json.
  const connect = csp.split("; ").find((d) => d.startsWith("connect-src "))?.split(" ").slice(1) ?? [];
  const expected = ["'self'", ...RELAY_PORTS.flatMap((p) => [`ws://127.0.0.1:${p}`, `http://127.0.0.1:${p}`])];
  expect([...connect].sort()).toEqual([...expected].sort());
  expect(headers["x-content-type-options"]).toBe("nosniff");
  expect(headers["x-frame-options"]).toBe("DENY");
  expect(headers["referrer-policy"]).toBe("no-referrer");
  expect(headers["cross-origin-opener-policy"]).toBe("same-origin");

  // Every script and stylesheet of the page carries the hash of its file.
  const html = await response.text();
  const tags = html.match(/<(script|link)\b[^>]*(src|href)="\/assets\/[^"]+"[^>]*>/g) ?? [];
  expect(tags.length).toBeGreaterThanOrEqual(2);
  for (const tag of tags) expect(tag).toMatch(/integrity="sha384-[A-Za-z0-9+/]{64}"/);
  expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/); // no inline script
  expect(html).not.toMatch(/src="https?:/); // no third-party script

  // No relay serves the wallet any more.
  for (const path of ["/", "/index.html", "/network.json"]) {
    expect((await request.get(`${RELAY}${path}`)).status(), path).toBe(404);
  }
});

test("?relay= in a link is ignored: the wallet talks to its configured relays only", async ({ page }) => {
  const errors = pageErrors(page);
  await recordViolations(page);
  const sockets: string[] = [];
  page.on("websocket", (ws) => sockets.push(ws.url()));
  await page.goto(`/?relay=${encodeURIComponent("ws://127.0.0.1:7399/api/v1/ws")}`);
  await expect(page.getByTestId("connection")).toHaveAttribute("data-state", "open");
  await expect(page.getByTestId("custom-relays-banner")).toBeHidden();
  expect(sockets.length).toBeGreaterThan(0);
  for (const url of sockets) expect(RELAY_PORTS.map(String)).toContain(new URL(url).port);
  await expect(page.getByTestId("relay-url")).not.toContainText("7399");
  // The network panel: the wallet's own genesis, its relays and the newest verified checkpoint.
  await page.getByTestId("network-details").locator("summary").click();
  await expect(page.getByTestId("net-chain")).toHaveText(CHAIN_ID);
  await expect(page.getByTestId("net-genesis")).toHaveText(/^[0-9a-f]{64}$/);
  await expect(page.getByTestId("net-validators")).toHaveText("4");
  await expect(page.getByTestId("net-checkpoint")).toHaveAttribute("data-number", /^[1-9]\d*$/);
  await expect(page.getByTestId("net-relay")).toHaveCount(RELAY_PORTS.length);
  await expect(page.locator('[data-testid="net-relay"][data-state="in use"]')).toHaveCount(1);
  expect(await violations(page)).toEqual([]);
  expect(errors).toEqual([]);
});

test("other relays only through the settings, after a warning; a banner shows while they are used", async ({ page }) => {
  const errors = pageErrors(page);
  await page.goto("/");
  await expect(page.getByTestId("connection")).toHaveAttribute("data-state", "open");
  await page.getByTestId("relays-details").locator("summary").click();
  await expect(page.getByTestId("relays-configured")).toHaveText(RELAY_PORTS.map((p) => `ws://127.0.0.1:${p}/api/v1/ws`).join(", "));
  await expect(page.getByTestId("relays-form")).toContainText("sees which addresses you look at");
  // Nothing is saved without the acknowledgement, nor a list that is not relay URLs.
  await expect(page.getByTestId("relays-save")).toBeDisabled();
  await page.getByTestId("relays-understand").check();
  await page.getByTestId("relays-list").fill("http://127.0.0.1:7302/api/v1/ws");
  await page.getByTestId("relays-save").click();
  await expect(page.getByTestId("relays-list-error")).toContainText("is not a ws:// or wss:// URL");

  // One relay of the network's, chosen explicitly: the page reloads and uses only it.
  const sockets: string[] = [];
  page.on("websocket", (ws) => sockets.push(ws.url()));
  await page.getByTestId("relays-list").fill("ws://127.0.0.1:7302/api/v1/ws");
  await Promise.all([page.waitForEvent("load"), page.getByTestId("relays-save").click()]);
  await expect(page.getByTestId("custom-relays-banner")).toBeVisible();
  await expect(page.getByTestId("connection")).toHaveAttribute("data-state", "open");
  expect(sockets.length).toBeGreaterThan(0);
  for (const url of sockets) expect(new URL(url).port).toBe("7302");

  // Back to the network's relays.
  await page.getByTestId("relays-details").locator("summary").click();
  await Promise.all([page.waitForEvent("load"), page.getByTestId("relays-reset").click()]);
  await expect(page.getByTestId("custom-relays-banner")).toBeHidden();
  await expect(page.getByTestId("connection")).toHaveAttribute("data-state", "open");
  expect(errors).toEqual([]);
});

test("a payment is signed only after its confirmation screen; the activity survives a reload, verified again", async ({ page }, testInfo) => {
  const errors = pageErrors(page);
  await recordViolations(page);
  await page.goto("/");
  await expect(page.getByTestId("connection")).toHaveAttribute("data-state", "open");
  const { address } = await createWallet(page);
  // A second account of the same wallet to pay.
  await page.getByTestId("add-account").click();
  await expect(page.getByTestId("account-select").locator("option")).toHaveCount(2);
  const second = await page.getByTestId("address").inputValue();
  expect(second).not.toBe(address);
  await page.getByTestId("account-select").selectOption("0");
  await expect(page.getByTestId("address")).toHaveValue(address);

  // Receive: the QR code on the page reads back as the address (decoded from its pixels).
  await page.getByTestId("receive-details").locator("summary").click();
  const image = await page.getByTestId("address-qr").evaluate(async (holder) => {
    const element = holder.querySelector("svg")!;
    // Whole pixels per module: no edge is blurred by scaling.
    const side = element.viewBox.baseVal.width * 8;
    const img = new Image(side, side);
    img.src = `data:image/svg+xml;base64,${btoa(new XMLSerializer().serializeToString(element))}`;
    await img.decode();
    const canvas = document.createElement("canvas");
    canvas.width = canvas.height = side;
    const g = canvas.getContext("2d")!;
    g.imageSmoothingEnabled = false;
    g.drawImage(img, 0, 0, side, side);
    return { width: side, height: side, data: [...g.getImageData(0, 0, side, side).data] };
  });
  expect(decodeQR({ width: image.width, height: image.height, data: Uint8Array.from(image.data) })).toBe(address);

  await page.getByTestId("faucet").click();
  await expect(page.locator('[data-testid="tx"][data-kind="faucet"] [data-testid="tx-status"]')).toHaveAttribute("data-status", "final");
  await expect(page.getByTestId("balance")).toHaveAttribute("data-micro", "1000000000");
  await expect(page.getByTestId("balance-state")).toHaveAttribute("data-state", "verified");

  // The confirmation screen: network, recipient, amount, fee, total, nonce from the verified state.
  await page.getByTestId("send-to").fill(second);
  await page.getByTestId("send-amount").fill("2.5");
  await page.getByTestId("send").click();
  const confirm = page.getByTestId("confirm");
  await expect(confirm).toBeVisible();
  await expect(page.getByTestId("confirm-network")).toHaveText(CHAIN_ID);
  await expect(page.getByTestId("confirm-to")).toHaveText(second);
  await expect(page.getByTestId("confirm-amount")).toHaveText("2.5 rUv");
  const feeText = await page.getByTestId("confirm-fee").textContent();
  const feeMicro = BigInt(Math.round(Number(feeText!.replace(" rUv", "")) * 1e6));
  await expect(page.getByTestId("confirm-total")).toHaveText(`${(2_500_000 + Number(feeMicro)) / 1e6} rUv`);
  await expect(page.getByTestId("confirm-nonce")).toHaveText("1");
  await expect(page.getByTestId("send")).toBeDisabled();
  await page.screenshot({ path: testInfo.outputPath("wallet-confirm.png"), fullPage: true });

  // Cancel: nothing signed, nothing sent.
  await page.getByTestId("confirm-cancel").click();
  await expect(confirm).toBeHidden();
  await expect(page.getByTestId("send-status")).toHaveText("Cancelled; nothing was signed.");
  await expect(page.locator('[data-testid="tx"][data-kind="sent"]')).toHaveCount(0);

  // Confirm: signed, sent, proven final.
  await page.getByTestId("send").click();
  await page.getByTestId("confirm-sign").click();
  const sent = page.locator('[data-testid="tx"][data-kind="sent"]');
  await expect(sent.getByTestId("tx-status")).toHaveAttribute("data-status", "final");
  const sentId = await sent.getAttribute("data-tx-id");
  await expect(page.getByTestId("balance")).toHaveAttribute("data-micro", String(1_000_000_000n - 2_500_000n - feeMicro));
  await page.screenshot({ path: testInfo.outputPath("wallet-activity.png"), fullPage: true });

  // A stored entry nothing proves (storage is not trusted): it must not show as final after the reload.
  const forged = "ab".repeat(32);
  await page.evaluate(
    ({ address, forged, chainId }) => {
      const key = `ruv-wallet/activity/${chainId}/${address}`;
      const items = JSON.parse(localStorage.getItem(key) ?? "[]");
      items.push({ id: forged, kind: "faucet", amount: "5000000", counterpart: "faucet", nonce: null, status: "final", checkpoint: "1", at: Date.now() });
      localStorage.setItem(key, JSON.stringify(items));
    },
    { address, forged, chainId: await page.getByTestId("chain-id").textContent() },
  );

  await page.reload();
  await unlock(page);
  await expect(page.getByTestId("address")).toHaveValue(address);
  const restored = page.getByTestId("tx");
  await expect(restored).toHaveCount(3);
  // The real ones are proven again; the forged one stays unproven.
  await expect(page.locator(`[data-tx-id="${sentId}"] [data-testid="tx-status"]`)).toHaveAttribute("data-status", "final");
  await expect(page.locator('[data-testid="tx"][data-kind="faucet"]').first()).toBeVisible();
  await expect(page.locator(`[data-tx-id="${forged}"] [data-testid="tx-status"]`)).toHaveAttribute("data-status", "pending");
  await expect(page.locator(`[data-tx-id="${sentId}"]`)).toContainText(second);
  expect(await violations(page)).toEqual([]);
  expect(errors).toEqual([]);
});
