// Two people, two browser contexts (two profiles, each with its own
// encrypted wallet), one real devnet: Alice funds herself from the faucet and
// pays Bob; Bob's balance changes on his open page and Alice sees her payment
// final, with no reloads. Alice's payment is signed by her vault. Every
// balance shown is verified (a Merkle proof against a certified checkpoint)
// and "final" needs a verified inclusion proof.
import { expect, test, type Page } from "@playwright/test";
import { createWallet, RELAY } from "./wallet-flow";

/** Opens the wallet on a fresh profile, waits for the relay connection, creates a wallet; returns the address. */
async function openWalletWithNewWallet(page: Page): Promise<string> {
  await page.goto("/");
  await expect(page.getByTestId("connection")).toHaveAttribute("data-state", "open");
  await expect(page.getByTestId("chain-id")).toHaveText(/^ruv-devnet-[a-z2-7]{20}$/);
  const { address } = await createWallet(page);
  // A new account is proven absent: a verified zero.
  await expect(page.getByTestId("balance")).toHaveAttribute("data-micro", "0");
  await expect(page.getByTestId("balance-state")).toHaveAttribute("data-state", "verified");
  // A marker a reload would wipe.
  await page.evaluate(() => ((window as unknown as { __sameDocument: boolean }).__sameDocument = true));
  return address;
}

async function sameDocument(page: Page): Promise<boolean> {
  return page.evaluate(() => (window as unknown as { __sameDocument?: boolean }).__sameDocument === true);
}

/** Changes the last data character so the bech32m checksum no longer matches. */
function corrupt(address: string): string {
  const last = address.at(-1) === "q" ? "p" : "q";
  return address.slice(0, -1) + last;
}

test("Alice gets faucet funds and pays Bob; both pages update live", async ({ browser, request }) => {
  const alice = await (await browser.newContext()).newPage();
  const bob = await (await browser.newContext()).newPage();
  const pageErrors: string[] = [];
  for (const page of [alice, bob]) page.on("pageerror", (e) => pageErrors.push(e.message));

  const bobAddress = await openWalletWithNewWallet(bob);
  const aliceAddress = await openWalletWithNewWallet(alice);
  expect(aliceAddress).not.toBe(bobAddress);

  // Faucet: a real signed transfer from the genesis faucet account.
  await alice.getByTestId("faucet").click();
  const faucetTx = alice.locator('[data-testid="tx"][data-kind="faucet"]');
  await expect(faucetTx.getByTestId("tx-status")).toHaveAttribute("data-status", "final");
  await expect(alice.getByTestId("balance")).toHaveAttribute("data-micro", "1000000000");
  await expect(alice.getByTestId("balance")).toHaveText("1,000 rUv");

  // A mistyped address is refused with a clear message, and nothing is sent.
  await alice.getByTestId("send-to").fill(corrupt(bobAddress));
  await alice.getByTestId("send-amount").fill("12.5");
  await alice.getByTestId("send").click();
  await expect(alice.getByTestId("send-to-error")).toContainText("not a valid rUv address");
  await expect(alice.getByTestId("send-to")).toHaveAttribute("aria-invalid", "true");
  // More decimals than rUv has is refused too.
  await alice.getByTestId("send-to").fill(bobAddress);
  await alice.getByTestId("send-amount").fill("0.0000001");
  await alice.getByTestId("send").click();
  await expect(alice.getByTestId("send-amount-error")).toContainText("at most 6 decimal places");
  await expect(alice.locator('[data-testid="tx"][data-kind="sent"]')).toHaveCount(0);

  // The fee the page shows is the relay's own estimate for this size.
  const estimate = await (await request.get(`${RELAY}/api/v1/fees/estimate?memo_bytes=0`)).json();
  const fee = BigInt(estimate.minimum_fee);

  // Pay Bob 12.5 rUv.
  await alice.getByTestId("send-to").fill(bobAddress);
  await alice.getByTestId("send-amount").fill("12.5");
  await alice.getByTestId("send").click();
  await expect(alice.getByTestId("confirm-total")).toHaveText(`${12.5 + Number(fee) / 1e6} rUv`);
  await alice.getByTestId("confirm-sign").click();
  const sent = alice.locator('[data-testid="tx"][data-kind="sent"]');
  await expect(sent).toHaveCount(1);
  await expect(sent.getByTestId("tx-status")).toHaveAttribute("data-status", "final");
  await expect(alice.getByTestId("send-status")).toContainText("final");

  // Bob's open page shows the money; Alice's shows amount and fee gone.
  await expect(bob.getByTestId("balance")).toHaveAttribute("data-micro", "12500000");
  await expect(bob.getByTestId("balance")).toHaveText("12.5 rUv");
  await expect(alice.getByTestId("balance")).toHaveAttribute("data-micro", String(1_000_000_000n - 12_500_000n - fee));

  // The relay agrees, and the transaction it stores is the one the page shows.
  const txId = await sent.getAttribute("data-tx-id");
  expect(txId).toMatch(/^[0-9a-f]{64}$/);
  const status = await (await request.get(`${RELAY}/api/v1/transactions/${txId}`)).json();
  expect(status).toEqual({ id: txId, status: "accepted" });
  const bobAccount = await (await request.get(`${RELAY}/api/v1/accounts/${bobAddress}`)).json();
  expect(bobAccount).toEqual({ address: bobAddress, balance: "12500000", nonce: "0" });

  // Bob cannot overspend: the page says why before anything is signed.
  await bob.getByTestId("send-to").fill(aliceAddress);
  await bob.getByTestId("send-amount").fill("12.5");
  await bob.getByTestId("send").click();
  await expect(bob.getByTestId("send-amount-error")).toContainText("Not enough rUv");
  await expect(bob.locator('[data-testid="tx"][data-kind="sent"]')).toHaveCount(0);

  expect(await sameDocument(alice)).toBe(true);
  expect(await sameDocument(bob)).toBe(true);
  expect(pageErrors).toEqual([]);
});
