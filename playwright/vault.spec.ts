// The wallet page's key vault in real Chromium with real IndexedDB (one
// browser profile per context), against the real devnet: create, reload,
// unlock, restore from the phrase elsewhere, accounts, settings, auto-lock.
import { expect, test } from "@playwright/test";
import { readFile } from "node:fs/promises";
import { BECH32, PASSWORD, createWallet, openSettings, pageErrors, unlock } from "./wallet-flow";

const NEW_PASSWORD = "a different long passphrase";

test("create, reload, wrong then right password; the phrase restores the same accounts elsewhere", async ({ browser }) => {
  const page = await (await browser.newContext()).newPage();
  const errors = pageErrors(page);

  await page.goto("/");
  const { phrase, address } = await createWallet(page);
  // The relay's snapshot of the new account arrives through the subscription.
  await expect(page.getByTestId("balance")).toHaveAttribute("data-micro", "0");

  // A later visit: the wallet is stored, encrypted, and opens locked.
  await page.reload();
  await expect(page.getByTestId("screen-locked")).toBeVisible();
  await expect(page.getByTestId("screen-wallet")).toBeHidden();
  await expect(page.getByTestId("address")).toHaveValue("");

  // A wrong password: a clear message, still locked.
  await page.getByTestId("unlock-password").fill("not the password");
  await page.getByTestId("unlock").click();
  await expect(page.getByTestId("unlock-error")).toHaveText("Wrong password. The wallet stays locked; try again.");
  await expect(page.getByTestId("unlock-password")).toHaveAttribute("aria-invalid", "true");
  await expect(page.getByTestId("screen-locked")).toBeVisible();
  await expect(page.getByTestId("screen-wallet")).toBeHidden();

  // The right one: the same account.
  await unlock(page);
  await expect(page.getByTestId("address")).toHaveValue(address);
  await expect(page.getByTestId("balance")).toHaveAttribute("data-micro", "0");

  // A second account: another address, followed live like the first.
  await page.getByTestId("add-account").click();
  await expect(page.getByTestId("account-select").locator("option")).toHaveCount(2);
  await expect(page.getByTestId("account-status")).toHaveText("Added Account 2. It is shown now.");
  const second = await page.getByTestId("address").inputValue();
  expect(second).toMatch(BECH32);
  expect(second).not.toBe(address);
  await expect(page.getByTestId("balance")).toHaveAttribute("data-micro", "0");
  await page.getByTestId("account-select").selectOption({ label: `Account 1 · ${address.slice(0, 10)}…${address.slice(-6)}` });
  await expect(page.getByTestId("address")).toHaveValue(address);

  // Another browser profile (empty IndexedDB): restore from the written-down phrase.
  const other = await (await browser.newContext()).newPage();
  const otherErrors = pageErrors(other);
  await other.goto("/");
  await expect(other.getByTestId("screen-welcome")).toBeVisible();
  await other.getByTestId("choose-restore").click();
  await other.getByTestId("restore-password").fill(PASSWORD);
  await other.getByTestId("restore-repeat").fill(PASSWORD);
  // A missing word and a misspelled word get the vault's own messages; nothing is stored.
  await other.getByTestId("restore-phrase").fill(phrase.slice(0, 23).join(" "));
  await other.getByTestId("restore-submit").click();
  await expect(other.getByTestId("restore-phrase-error")).toHaveText(
    "A recovery phrase has 12, 15, 18, 21 or 24 words, this one has 23.",
  );
  await expect(other.getByTestId("restore-phrase")).toHaveAttribute("aria-invalid", "true");
  await other.getByTestId("restore-phrase").fill([...phrase.slice(0, 23), "notaword"].join(" "));
  await other.getByTestId("restore-submit").click();
  await expect(other.getByTestId("restore-phrase-error")).toHaveText("Word 24 is not in the BIP-39 English word list.");
  await expect(other.getByTestId("screen-welcome")).toBeVisible();
  await other.reload();
  await expect(other.getByTestId("screen-welcome")).toBeVisible();

  // Written by hand: capitals and odd spacing are fine.
  await other.getByTestId("choose-restore").click();
  await other.getByTestId("restore-phrase").fill(`  ${phrase.join("  ").toUpperCase()}\n`);
  await other.getByTestId("restore-password").fill(PASSWORD);
  await other.getByTestId("restore-repeat").fill(PASSWORD);
  await other.getByTestId("restore-submit").click();
  await expect(other.getByTestId("screen-wallet")).toBeVisible();
  await expect(other.getByTestId("address")).toHaveValue(address);
  await expect(other.getByTestId("account-select").locator("option")).toHaveCount(1);
  // Accounts are derived from the phrase: the second account is the same too.
  await other.getByTestId("add-account").click();
  await expect(other.getByTestId("account-select").locator("option")).toHaveCount(2);
  await expect(other.getByTestId("address")).toHaveValue(second);

  expect(errors).toEqual([]);
  expect(otherErrors).toEqual([]);
});

test("settings: rename, reveal the phrase, change password, export, import and delete", async ({ browser }, testInfo) => {
  const page = await (await browser.newContext()).newPage();
  const errors = pageErrors(page);
  await page.goto("/");
  const { phrase, address } = await createWallet(page);

  // Rename the account.
  await openSettings(page, "Rename this account");
  await page.getByTestId("rename-label").fill("Savings");
  await page.getByTestId("rename-submit").click();
  await expect(page.getByTestId("rename-status")).toHaveText("Renamed to Savings.");
  await expect(page.getByTestId("account-select").locator("option")).toHaveText([/^Savings · ruv1/]);
  await page.screenshot({ path: testInfo.outputPath("wallet-settings.png"), fullPage: true });

  // Reveal the phrase: only with the password.
  await openSettings(page, "Reveal recovery phrase");
  await page.getByTestId("reveal-password").fill("not the password");
  await page.getByTestId("reveal-submit").click();
  await expect(page.getByTestId("reveal-error")).toHaveText("Wrong password.");
  await expect(page.getByTestId("revealed-phrase").locator("li")).toHaveCount(0);
  await page.getByTestId("reveal-password").fill(PASSWORD);
  await page.getByTestId("reveal-submit").click();
  await expect(page.getByTestId("revealed-phrase").locator("li")).toHaveText(phrase);
  await page.getByTestId("reveal-hide").click();
  await expect(page.getByTestId("revealed-phrase").locator("li")).toHaveCount(0);

  // Change the password: the current one is checked first.
  await openSettings(page, "Change password");
  await page.getByTestId("password-current").fill("not the password");
  await page.getByTestId("password-new").fill(NEW_PASSWORD);
  await page.getByTestId("password-repeat").fill(NEW_PASSWORD);
  await page.getByTestId("password-submit").click();
  await expect(page.getByTestId("password-current-error")).toHaveText(
    "This is not your current password. Nothing was changed.",
  );
  await page.getByTestId("password-current").fill(PASSWORD);
  await page.getByTestId("password-submit").click();
  await expect(page.getByTestId("password-status")).toContainText("Password changed.");

  // Export a backup file (encrypted under the new password).
  await openSettings(page, "Backup file");
  const [download] = await Promise.all([page.waitForEvent("download"), page.getByTestId("export-backup").click()]);
  expect(download.suggestedFilename()).toMatch(/^ruv-wallet-backup-\d{4}-\d\d-\d\d\.json$/);
  const backup = await readFile((await download.path())!, "utf8");
  const parsed = JSON.parse(backup);
  expect(Object.keys(parsed).sort()).toEqual(["format", "record", "version"]);
  expect(parsed.format).toBe("ruv-vault-backup");
  expect(parsed.version).toBe(1);
  expect(parsed.record).toMatch(/^[0-9a-f]+$/);
  const backupFile = { name: download.suggestedFilename(), mimeType: "application/json", buffer: Buffer.from(backup) };

  // A second account after the backup; importing the backup (replace) brings back the state it holds.
  await page.getByTestId("add-account").click();
  await expect(page.getByTestId("account-select").locator("option")).toHaveCount(2);
  await expect(page.getByTestId("import-submit")).toBeDisabled();
  await page.getByTestId("import-file").setInputFiles(backupFile);
  await page.getByTestId("import-password").fill(PASSWORD);
  await page.getByTestId("import-replace").check();
  // Replacing the wallet needs its current password first.
  await page.getByTestId("import-submit").click();
  await expect(page.getByTestId("import-current-error")).toHaveText("Enter your password to confirm.");
  await page.getByTestId("import-current").fill(PASSWORD);
  await page.getByTestId("import-submit").click();
  await expect(page.getByTestId("import-current-error")).toHaveText("Wrong password. Nothing was changed.");
  await page.getByTestId("import-current").fill(NEW_PASSWORD);
  await page.getByTestId("import-submit").click();
  await expect(page.getByTestId("import-password-error")).toHaveText(
    "This password does not open the backup file. Nothing was changed.",
  );
  await expect(page.getByTestId("account-select").locator("option")).toHaveCount(2);
  await page.getByTestId("import-password").fill(NEW_PASSWORD);
  await page.getByTestId("import-submit").click();
  await expect(page.getByTestId("import-status")).toContainText("Imported.");
  await expect(page.getByTestId("account-select").locator("option")).toHaveText([/^Savings · ruv1/]);
  await expect(page.getByTestId("address")).toHaveValue(address);

  // Lock: the old password no longer opens it, the new one does.
  await page.getByTestId("lock").click();
  await expect(page.getByTestId("screen-locked")).toBeVisible();
  await expect(page.getByTestId("unlock-status")).toHaveText("Locked.");
  await page.getByTestId("unlock-password").fill(PASSWORD);
  await page.getByTestId("unlock").click();
  await expect(page.getByTestId("unlock-error")).toContainText("Wrong password");
  await unlock(page, NEW_PASSWORD);
  await expect(page.getByTestId("address")).toHaveValue(address);

  // The backup file on a fresh browser profile.
  const other = await (await browser.newContext()).newPage();
  const otherErrors = pageErrors(other);
  await other.goto("/");
  await other.getByTestId("choose-import").click();
  await other.getByTestId("import-first-file").setInputFiles({
    name: "notes.json",
    mimeType: "application/json",
    buffer: Buffer.from('{"format":"something else","version":1,"record":"00"}'),
  });
  await other.getByTestId("import-first-password").fill(NEW_PASSWORD);
  await other.getByTestId("import-first-submit").click();
  await expect(other.getByTestId("import-first-file-error")).toContainText("This is not a usable wallet backup");
  await other.getByTestId("import-first-file").setInputFiles(backupFile);
  await other.getByTestId("import-first-submit").click();
  await expect(other.getByTestId("screen-wallet")).toBeVisible();
  await expect(other.getByTestId("address")).toHaveValue(address);
  await expect(other.getByTestId("account-select").locator("option")).toHaveText([/^Savings · ruv1/]);

  // Delete, with the typed confirmation and the password.
  await openSettings(other, "Delete wallet");
  await expect(other.getByTestId("delete-submit")).toBeDisabled();
  await other.getByTestId("delete-confirm").fill("Delete");
  await expect(other.getByTestId("delete-submit")).toBeDisabled();
  await other.getByTestId("delete-confirm").fill("delete");
  await other.getByTestId("delete-password").fill(PASSWORD);
  await other.getByTestId("delete-submit").click();
  await expect(other.getByTestId("delete-password-error")).toHaveText("Wrong password. Nothing was changed.");
  await expect(other.getByTestId("screen-wallet")).toBeVisible();
  await other.getByTestId("delete-password").fill(NEW_PASSWORD);
  await other.getByTestId("delete-submit").click();
  await expect(other.getByTestId("screen-welcome")).toBeVisible();
  await expect(other.getByTestId("welcome-status")).toHaveText("The wallet was deleted from this browser.");
  await other.reload();
  await expect(other.getByTestId("screen-welcome")).toBeVisible();
  // The first profile still has its own copy.
  await expect(page.getByTestId("address")).toHaveValue(address);

  expect(errors).toEqual([]);
  expect(otherErrors).toEqual([]);
});

test("locks itself after five idle minutes; activity postpones it", async ({ page }) => {
  const errors = pageErrors(page);
  // The page's clock (Date, timers) under the test's control; it runs normally until told otherwise.
  await page.clock.install();
  await page.goto("/");
  const { address } = await createWallet(page);

  await page.clock.fastForward("04:00");
  await expect(page.getByTestId("screen-wallet")).toBeVisible();
  // Activity (a click) restarts the five minutes.
  await page.getByTestId("address").click();
  await page.clock.fastForward("04:00");
  await expect(page.getByTestId("screen-wallet")).toBeVisible();
  await expect(page.getByTestId("address")).toHaveValue(address);
  // Five minutes after the last activity: locked, and the page says why.
  await page.clock.fastForward("01:05");
  await expect(page.getByTestId("screen-locked")).toBeVisible();
  await expect(page.getByTestId("unlock-status")).toHaveText(
    "The wallet locked itself after 5 minutes without activity. Unlock it to carry on.",
  );
  await expect(page.getByTestId("address")).toHaveValue("");

  await unlock(page);
  await expect(page.getByTestId("address")).toHaveValue(address);
  expect(errors).toEqual([]);
});

test("without IndexedDB: a clear message, and a temporary wallet that lives in the tab", async ({ page }) => {
  const errors = pageErrors(page);
  // As in browsing modes that give pages no IndexedDB.
  await page.addInitScript(() =>
    Object.defineProperty(globalThis, "indexedDB", { get: () => undefined, configurable: true }),
  );
  await page.goto("/");
  await expect(page.getByTestId("screen-unavailable")).toBeVisible();
  await expect(page.getByTestId("unavailable-reason")).toContainText("IndexedDB is not available");
  await expect(page.getByTestId("temporary-banner")).toBeHidden();
  await page.getByTestId("use-temporary").click();
  await expect(page.getByTestId("temporary-banner")).toBeVisible();
  const { address } = await createWallet(page);
  await expect(page.getByTestId("balance")).toHaveAttribute("data-micro", "0");
  // Lock and unlock work the same in memory.
  await page.getByTestId("lock").click();
  await unlock(page);
  await expect(page.getByTestId("address")).toHaveValue(address);
  // Nothing was stored: a reload starts over.
  await page.reload();
  await expect(page.getByTestId("screen-unavailable")).toBeVisible();
  expect(errors).toEqual([]);
});
