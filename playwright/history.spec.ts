// A wallet restored from its phrase in a new browser shows its past payments:
// the relays' history of each account (GET /api/v1/accounts/{address}/history
// through the light client's `history`), each entry shown final only because
// its inclusion proof verified against a certified checkpoint.
import { expect, test } from "@playwright/test";
import { createWallet, pageErrors, PASSWORD } from "./wallet-flow";

test("a restored wallet shows its verified history from the relays", async ({ browser }, testInfo) => {
  const page = await (await browser.newContext()).newPage();
  const errors = pageErrors(page);
  await page.goto("/");
  await expect(page.getByTestId("connection")).toHaveAttribute("data-state", "open");
  const { phrase, address } = await createWallet(page);
  await page.getByTestId("add-account").click();
  await expect(page.getByTestId("account-select").locator("option")).toHaveCount(2);
  const second = await page.getByTestId("address").inputValue();
  await page.getByTestId("account-select").selectOption("0");
  await expect(page.getByTestId("address")).toHaveValue(address);

  // Funds from the faucet, then a payment to the second account, both final.
  await page.getByTestId("faucet").click();
  const faucet = page.locator('[data-testid="tx"][data-kind="faucet"]');
  await expect(faucet.getByTestId("tx-status")).toHaveAttribute("data-status", "final");
  const faucetId = await faucet.getAttribute("data-tx-id");
  await expect(page.getByTestId("balance-state")).toHaveAttribute("data-state", "verified");
  await page.getByTestId("send-to").fill(second);
  await page.getByTestId("send-amount").fill("1.5");
  await page.getByTestId("send").click();
  await page.getByTestId("confirm-sign").click();
  const sent = page.locator('[data-testid="tx"][data-kind="sent"]');
  await expect(sent.getByTestId("tx-status")).toHaveAttribute("data-status", "final");
  const sentId = await sent.getAttribute("data-tx-id");

  // Another browser profile: nothing stored, the phrase restores the wallet.
  const other = await (await browser.newContext()).newPage();
  const otherErrors = pageErrors(other);
  await other.goto("/");
  await other.getByTestId("choose-restore").click();
  await other.getByTestId("restore-phrase").fill(phrase.join(" "));
  await other.getByTestId("restore-password").fill(PASSWORD);
  await other.getByTestId("restore-repeat").fill(PASSWORD);
  await other.getByTestId("restore-submit").click();
  await expect(other.getByTestId("screen-wallet")).toBeVisible();
  await expect(other.getByTestId("address")).toHaveValue(address);

  // Both payments, newest first, final from verified inclusion proofs.
  await expect(other.getByTestId("history-status")).toContainText("History verified by the relays");
  const items = other.getByTestId("tx");
  await expect(items).toHaveCount(2);
  await expect(items.nth(0)).toHaveAttribute("data-tx-id", sentId!);
  await expect(items.nth(0)).toHaveAttribute("data-kind", "sent");
  await expect(items.nth(0)).toContainText(second);
  await expect(items.nth(1)).toHaveAttribute("data-tx-id", faucetId!);
  await expect(items.nth(1)).toHaveAttribute("data-kind", "received");
  await expect(items.nth(1)).toContainText("Received 1,000 rUv");
  for (const status of await other.getByTestId("tx-status").all()) {
    await expect(status).toHaveAttribute("data-status", "final");
    await expect(status).toContainText("proven in checkpoint");
  }
  await other.screenshot({ path: testInfo.outputPath("wallet-restored-history.png"), fullPage: true });

  // The second account's history: the payment it received.
  await other.getByTestId("add-account").click();
  await expect(other.getByTestId("address")).toHaveValue(second);
  const received = other.locator(`[data-tx-id="${sentId}"]`);
  await expect(received).toHaveAttribute("data-kind", "received");
  await expect(received.getByTestId("tx-status")).toHaveAttribute("data-status", "final");
  await expect(received).toContainText("Received 1.5 rUv");
  await expect(received).toContainText(address);

  expect(errors).toEqual([]);
  expect(otherErrors).toEqual([]);
});
