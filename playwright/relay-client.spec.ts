// Every RelayClient call against the real devnet relay, from real Chromium:
// the relay self-check page (web/relay-check.html) runs them and checks each
// answer; this test requires every step to have run and passed. The last
// steps drive a RelayPool whose first relay is dead, through a relay change.
import { expect, test } from "@playwright/test";

const STEPS = [
  "connect",
  "network status",
  "get a new account",
  "subscribe to an account (snapshot first)",
  "faucet pays, waitForFinal sees it accepted",
  "account event shows the funds",
  "get transaction",
  "subscribe to a transaction, submit, wait for final",
  "recipient and sender balances",
  "a reused nonce is refused",
  "unsubscribe",
  "120 requests at once stay under the rate limit",
  "unknown transaction and bad input give error codes",
  "close ends everything with code connection",
  "pool fails over from a dead relay",
  "pool subscription survives a relay change",
  "pool close",
];

interface Step {
  name: string;
  ok: boolean;
  detail: string;
}

test("the relay client's whole API works against a real relay", async ({ browser }) => {
  // The page's "dead relay" (port 9) is outside the wallet origin's CSP
  // connect-src (the configured relays only), where the browser would block
  // it before any connection: this test is about the client meeting a dead
  // relay, not about the CSP (dashboard.spec.ts checks that).
  const page = await (await browser.newContext({ bypassCSP: true })).newPage();
  const pageErrors: string[] = [];
  page.on("pageerror", (e) => pageErrors.push(e.message));
  await page.goto("/relay-check.html");
  const handle = await page.waitForFunction(() => (window as unknown as { __relayCheck?: unknown }).__relayCheck, null, {
    timeout: 90_000,
  });
  const results = (await handle.jsonValue()) as { ok: boolean; steps: Step[] };
  for (const s of results.steps) console.log(`${s.ok ? "ok  " : "FAIL"} ${s.name}: ${s.detail}`);
  const failed = results.steps.filter((s) => !s.ok).map((s) => `${s.name}: ${s.detail}`);
  expect(failed).toEqual([]);
  expect(results.steps.map((s) => s.name)).toEqual(STEPS);
  expect(results.ok).toBe(true);
  await expect(page.getByTestId("check-summary")).toHaveText(`All ${STEPS.length} checks passed.`);
  expect(pageErrors).toEqual([]);
});
