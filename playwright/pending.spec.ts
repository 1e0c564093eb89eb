// A payment signed and sent but not yet proven final is kept in the vault
// (the encrypted IndexedDB record), not in this origin's localStorage: the
// page is reloaded the moment the relay took the payment, before any proof
// could arrive, and after unlocking the payment is still shown and then
// proven final. Pending payments an older wallet kept in localStorage move
// into the vault.
import { expect, test } from "@playwright/test";
import { createWallet, pageErrors, RELAY, unlock } from "./wallet-flow";

interface Probe {
  id: string;
  status: string;
  inLocalStorage: boolean;
}

test("a payment sent just before a reload is kept in the vault and proven final afterwards", async ({ browser }, testInfo) => {
  const page = await (await browser.newContext()).newPage();
  const errors = pageErrors(page);
  await page.goto("/");
  const { address } = await createWallet(page);
  await page.getByTestId("add-account").click();
  await expect(page.getByTestId("account-select").locator("option")).toHaveCount(2);
  const second = await page.getByTestId("address").inputValue();
  await page.getByTestId("account-select").selectOption("0");
  await expect(page.getByTestId("address")).toHaveValue(address);
  await page.getByTestId("faucet").click();
  await expect(page.getByTestId("balance")).toHaveAttribute("data-micro", "1000000000");
  await expect(page.getByTestId("balance-state")).toHaveAttribute("data-state", "verified");

  await page.getByTestId("send-to").fill(second);
  await page.getByTestId("send-amount").fill("1.25");
  await page.getByTestId("send").click();
  await expect(page.getByTestId("confirm")).toBeVisible();
  // The moment the relay took the payment: note what the page shows and stores, and reload at once
  // (in the same task: no proof can be handled in between).
  await page.evaluate(() => {
    const status = document.querySelector('[data-testid="send-status"]')!;
    const observer = new MutationObserver(() => {
      if (!status.textContent?.startsWith("Sent.")) return;
      observer.disconnect();
      const line = document.querySelector<HTMLElement>('[data-testid="tx"][data-kind="sent"]')!;
      const id = line.dataset.txId!;
      const probe: Probe = {
        id,
        status: line.querySelector<HTMLElement>('[data-testid="tx-status"]')!.dataset.status!,
        inLocalStorage: Object.keys(localStorage).some((k) => (localStorage.getItem(k) ?? "").includes(id)),
      };
      sessionStorage.setItem("ruv-test-probe", JSON.stringify(probe));
      location.reload();
    });
    observer.observe(status, { childList: true, characterData: true, subtree: true });
  });
  await page.getByTestId("confirm-sign").click();
  await expect(page.getByTestId("screen-locked")).toBeVisible();
  const probe = JSON.parse((await page.evaluate(() => sessionStorage.getItem("ruv-test-probe")))!) as Probe;
  expect(probe.id).toMatch(/^[0-9a-f]{64}$/);
  // Sent, not final, and nowhere in localStorage: only the vault holds it.
  expect(probe.status).toBe("pending");
  expect(probe.inLocalStorage).toBe(false);

  await unlock(page);
  const line = page.locator(`[data-testid="tx"][data-tx-id="${probe.id}"]`);
  await expect(line).toBeVisible();
  await expect(line).toContainText(second);
  await expect(line.getByTestId("tx-status")).toHaveAttribute("data-status", "final");
  await page.screenshot({ path: testInfo.outputPath("wallet-pending-then-final.png"), fullPage: true });
  // Final: now in the activity storage with its verdict; after another reload it is still there.
  await expect.poll(() => page.evaluate((id) => Object.keys(localStorage).some((k) => (localStorage.getItem(k) ?? "").includes(id)), probe.id)).toBe(true);
  await page.reload();
  await unlock(page);
  await expect(line.getByTestId("tx-status")).toHaveAttribute("data-status", "final");
  expect(errors).toEqual([]);
});

test("a pending payment an older wallet kept in localStorage moves into the vault", async ({ browser }) => {
  const page = await (await browser.newContext()).newPage();
  const errors = pageErrors(page);
  await page.goto("/");
  const { address } = await createWallet(page);
  const chain = (await (await fetch(`${RELAY}/api/v1/network/status`)).json()).chain_id as string;
  // What the previous version stored: a sent payment, pending, in localStorage (old enough not to hold its nonce).
  const legacy = "cd".repeat(32);
  await page.evaluate(
    ({ address, legacy, chain }) => {
      const key = `ruv-wallet/activity/${chain}/${address}`;
      const items = JSON.parse(localStorage.getItem(key) ?? "[]");
      items.push({ id: legacy, kind: "sent", amount: "1000", fee: "6326", counterpart: address, nonce: "7", status: "pending", at: Date.now() - 3_600_000 });
      localStorage.setItem(key, JSON.stringify(items));
    },
    { address, legacy, chain },
  );
  const inLocalStorage = () => page.evaluate((id) => Object.keys(localStorage).some((k) => (localStorage.getItem(k) ?? "").includes(id)), legacy);

  await page.reload();
  await unlock(page);
  const line = page.locator(`[data-testid="tx"][data-tx-id="${legacy}"]`);
  await expect(line.getByTestId("tx-status")).toHaveAttribute("data-status", "pending");
  // Moved: gone from localStorage, kept (encrypted) in the vault, so still shown after the next unlock.
  await expect.poll(inLocalStorage).toBe(false);
  await page.reload();
  await expect(page.getByTestId("screen-locked")).toBeVisible();
  await unlock(page);
  await expect(line.getByTestId("tx-status")).toHaveAttribute("data-status", "pending");
  expect(await inLocalStorage()).toBe(false);
  expect(errors).toEqual([]);
});
