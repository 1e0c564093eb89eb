// Steps a person takes on the wallet page, shared by the specs.
import { expect, type Page } from "@playwright/test";

/** Devnet relay 0 (playwright.config.ts), for the specs' own REST calls. */
export const RELAY = "http://127.0.0.1:7300";

/** A bech32m rUv address. */
export const BECH32 = /^ruv1[02-9ac-hj-np-z]{58}$/;

export const PASSWORD = "correct horse battery staple";

/** Collects uncaught page errors; specs expect none. */
export function pageErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  return errors;
}

/**
 * On a wallet page opened on a fresh browser profile: creates a wallet with
 * `password`, reads the recovery phrase shown once, confirms writing it down
 * and types three of its words back; returns the phrase and the first
 * account's address.
 */
export async function createWallet(page: Page, password = PASSWORD): Promise<{ phrase: string[]; address: string }> {
  await expect(page.getByTestId("screen-welcome")).toBeVisible();
  await page.getByTestId("choose-create").click();

  // Too short, then two different passwords: refused before anything is created.
  await page.getByTestId("create-password").fill("short");
  await page.getByTestId("create-repeat").fill("short");
  await page.getByTestId("create-submit").click();
  await expect(page.getByTestId("create-password-error")).toHaveText("Use at least 8 characters.");
  await page.getByTestId("create-password").fill(password);
  await page.getByTestId("create-repeat").fill(`${password}!`);
  await page.getByTestId("create-submit").click();
  await expect(page.getByTestId("create-repeat-error")).toHaveText("The two passwords are not the same.");
  await expect(page.getByTestId("screen-welcome")).toBeVisible();

  await page.getByTestId("create-repeat").fill(password);
  await page.getByTestId("create-submit").click();

  // The phrase, once, with a confirmation before going on.
  await expect(page.getByTestId("screen-backup")).toBeVisible();
  const words = page.getByTestId("recovery-phrase").locator("li");
  await expect(words).toHaveCount(24);
  const phrase = (await words.allTextContents()).map((w) => w.trim());
  for (const word of phrase) expect(word).toMatch(/^[a-z]{3,8}$/);
  await expect(page.getByTestId("backup-done")).toBeDisabled();
  await page.getByTestId("backup-confirm").check();
  await expect(page.getByTestId("backup-done")).toBeEnabled();
  await page.getByTestId("backup-done").click();

  // Three words typed back from the paper; a wrong one is refused.
  await expect(page.getByTestId("backup-quiz")).toBeVisible();
  await expect(page.getByTestId("recovery-phrase")).toBeHidden();
  const positions: number[] = [];
  for (let i = 0; i < 3; i++) positions.push(Number(await page.getByTestId(`quiz-${i}-label`).getAttribute("data-position")));
  expect(new Set(positions).size).toBe(3);
  for (const [i, position] of positions.entries()) await page.getByTestId(`quiz-${i}`).fill(phrase[position - 1]);
  const other = phrase.find((w) => w !== phrase[positions[0] - 1])!;
  await page.getByTestId("quiz-0").fill(other);
  await page.getByTestId("quiz-done").click();
  await expect(page.getByTestId("quiz-error")).toContainText(`Word ${positions[0]} is not what the phrase has`);
  await expect(page.getByTestId("screen-backup")).toBeVisible();
  await page.getByTestId("quiz-0").fill(phrase[positions[0] - 1]);
  await page.getByTestId("quiz-done").click();

  await expect(page.getByTestId("screen-wallet")).toBeVisible();
  // Shown once: the words are gone from the page.
  await expect(page.getByTestId("recovery-phrase").locator("li")).toHaveCount(0);
  const address = await page.getByTestId("address").inputValue();
  expect(address).toMatch(BECH32);
  return { phrase, address };
}

/** Unlocks a locked wallet page with `password`. */
export async function unlock(page: Page, password = PASSWORD): Promise<void> {
  await expect(page.getByTestId("screen-locked")).toBeVisible();
  await page.getByTestId("unlock-password").fill(password);
  await page.getByTestId("unlock").click();
  await expect(page.getByTestId("screen-wallet")).toBeVisible();
}

/** Opens a collapsed settings section by its summary text. */
export async function openSettings(page: Page, section: string): Promise<void> {
  await page.getByTestId("settings").locator("summary", { hasText: section }).click();
}
