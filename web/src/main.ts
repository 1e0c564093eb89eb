// The rUv wallet page. The wallet is the vault of `ruv-client` (a BIP-39
// recovery phrase, several accounts, encrypted with the user's password in
// IndexedDB, unlocked into wasm memory only, locked again after a while
// without activity). This module runs the vault's screens: first visit
// (create, restore, import), unlock, the recovery phrase, and settings.
// `wallet.ts` shows the unlocked accounts, talks to the relay and sends.
import { Vault, type TransferParams } from "ruv-client";
import { deriveKeyInWorker } from "./kdf";
import { $, codeOf, errorText, fieldError, newPasswordProblem, nextPaint, sentence, showPhrase } from "./ui";
import * as wallet from "./wallet";

type Screen = "loading" | "unavailable" | "welcome" | "backup" | "locked" | "wallet";

const screens: Record<Screen, HTMLElement> = {
  loading: $("screen-loading"),
  unavailable: $("screen-unavailable"),
  welcome: $("screen-welcome"),
  backup: $("screen-backup"),
  locked: $("screen-locked"),
  wallet: $("screen-wallet"),
};

const ui = {
  lock: $<HTMLButtonElement>("lock"),
  temporaryBanner: $("temporary-banner"),
  vaultStatus: $("vault-status"),
  unavailableHeading: $("unavailable-heading"),
  unavailableReason: $("unavailable-reason"),
  useTemporary: $<HTMLButtonElement>("use-temporary"),
  // welcome
  welcomeHeading: $("welcome-heading"),
  welcomeChoices: $("welcome-choices"),
  welcomeStatus: $("welcome-status"),
  chooseCreate: $<HTMLButtonElement>("choose-create"),
  chooseRestore: $<HTMLButtonElement>("choose-restore"),
  chooseImport: $<HTMLButtonElement>("choose-import"),
  createForm: $<HTMLFormElement>("create-form"),
  createPassword: $<HTMLInputElement>("create-password"),
  createPasswordError: $("create-password-error"),
  createRepeat: $<HTMLInputElement>("create-repeat"),
  createRepeatError: $("create-repeat-error"),
  createStatus: $("create-status"),
  restoreForm: $<HTMLFormElement>("restore-form"),
  restorePhrase: $<HTMLTextAreaElement>("restore-phrase"),
  restorePhraseError: $("restore-phrase-error"),
  restorePassword: $<HTMLInputElement>("restore-password"),
  restorePasswordError: $("restore-password-error"),
  restoreRepeat: $<HTMLInputElement>("restore-repeat"),
  restoreRepeatError: $("restore-repeat-error"),
  restoreStatus: $("restore-status"),
  importFirstForm: $<HTMLFormElement>("import-first-form"),
  importFirstFile: $<HTMLInputElement>("import-first-file"),
  importFirstFileError: $("import-first-file-error"),
  importFirstPassword: $<HTMLInputElement>("import-first-password"),
  importFirstPasswordError: $("import-first-password-error"),
  importFirstStatus: $("import-first-status"),
  // backup (right after creating)
  backupPhrase: $<HTMLOListElement>("backup-phrase"),
  backupConfirm: $<HTMLInputElement>("backup-confirm"),
  backupDone: $<HTMLButtonElement>("backup-done"),
  backupShow: $("backup-show"),
  backupQuiz: $<HTMLFormElement>("backup-quiz"),
  quizInputs: [0, 1, 2].map((i) => $<HTMLInputElement>(`quiz-${i}`)),
  quizLabels: [0, 1, 2].map((i) => $(`quiz-${i}-label`)),
  quizError: $("quiz-error"),
  quizBack: $<HTMLButtonElement>("quiz-back"),
  // locked
  unlockForm: $<HTMLFormElement>("unlock-form"),
  unlockPassword: $<HTMLInputElement>("unlock-password"),
  unlockError: $("unlock-error"),
  unlockStatus: $("unlock-status"),
  forgot: $<HTMLDetailsElement>("forgot"),
  resetForm: $<HTMLFormElement>("reset-form"),
  resetPhrase: $<HTMLTextAreaElement>("reset-phrase"),
  resetPhraseError: $("reset-phrase-error"),
  resetPassword: $<HTMLInputElement>("reset-password"),
  resetPasswordError: $("reset-password-error"),
  resetRepeat: $<HTMLInputElement>("reset-repeat"),
  resetRepeatError: $("reset-repeat-error"),
  resetConfirm: $<HTMLInputElement>("reset-confirm"),
  resetSubmit: $<HTMLButtonElement>("reset-submit"),
  resetStatus: $("reset-status"),
  // unlocked
  accountHeading: $("account-heading"),
  accountSelect: $<HTMLSelectElement>("account-select"),
  addAccount: $<HTMLButtonElement>("add-account"),
  accountStatus: $("account-status"),
  settings: $("settings"),
  renameForm: $<HTMLFormElement>("rename-form"),
  renameLabel: $<HTMLInputElement>("rename-label"),
  renameError: $("rename-error"),
  renameStatus: $("rename-status"),
  revealDetails: $<HTMLDetailsElement>("reveal-details"),
  revealForm: $<HTMLFormElement>("reveal-form"),
  revealPassword: $<HTMLInputElement>("reveal-password"),
  revealError: $("reveal-error"),
  revealStatus: $("reveal-status"),
  revealed: $("revealed"),
  revealedPhrase: $<HTMLOListElement>("revealed-phrase"),
  revealHide: $<HTMLButtonElement>("reveal-hide"),
  passwordForm: $<HTMLFormElement>("password-form"),
  passwordCurrent: $<HTMLInputElement>("password-current"),
  passwordCurrentError: $("password-current-error"),
  passwordNew: $<HTMLInputElement>("password-new"),
  passwordNewError: $("password-new-error"),
  passwordRepeat: $<HTMLInputElement>("password-repeat"),
  passwordRepeatError: $("password-repeat-error"),
  passwordStatus: $("password-status"),
  autolockSelect: $<HTMLSelectElement>("autolock-select"),
  autolockStatus: $("autolock-status"),
  exportBackup: $<HTMLButtonElement>("export-backup"),
  exportStatus: $("export-status"),
  importForm: $<HTMLFormElement>("import-form"),
  importFile: $<HTMLInputElement>("import-file"),
  importFileError: $("import-file-error"),
  importPassword: $<HTMLInputElement>("import-password"),
  importPasswordError: $("import-password-error"),
  importCurrent: $<HTMLInputElement>("import-current"),
  importCurrentError: $("import-current-error"),
  importReplace: $<HTMLInputElement>("import-replace"),
  importSubmit: $<HTMLButtonElement>("import-submit"),
  importStatus: $("import-status"),
  deleteForm: $<HTMLFormElement>("delete-form"),
  deleteConfirm: $<HTMLInputElement>("delete-confirm"),
  deleteSubmit: $<HTMLButtonElement>("delete-submit"),
  deletePassword: $<HTMLInputElement>("delete-password"),
  deletePasswordError: $("delete-password-error"),
  deleteStatus: $("delete-status"),
};

/** Largest backup file the vault accepts (4 MiB); bigger files are not read at all. */
const MAX_BACKUP_BYTES = 4 * 1024 * 1024;
/** At most one `vault.touch()` per this many ms of continuous activity. */
const TOUCH_EVERY_MS = 1000;

let vault: Vault | null = null;
/** The new wallet's phrase, while the backup screen checks a few words of it (wiped with the screen). */
let backupWords: string[] = [];
/** Positions (0-based) of the words asked back. */
let quizPositions: number[] = [];
/** How many words are asked back after creating a wallet. */
const QUIZ_WORDS = 3;
let screen: Screen = "loading";
/** The auto-lock time while unlocked (to say why the wallet locked). */
let autoLockMs: number | null = null;
let lockTimer: ReturnType<typeof setTimeout> | undefined;
let lastTouch = 0;

// ---------------------------------------------------------------- screens

/** Removes everything secret from the page: typed passwords and phrases, shown phrases. */
function wipeSecrets(): void {
  for (const input of document.querySelectorAll<HTMLInputElement>('input[type="password"]')) input.value = "";
  for (const textarea of document.querySelectorAll<HTMLTextAreaElement>("textarea")) textarea.value = "";
  ui.backupPhrase.replaceChildren();
  ui.backupConfirm.checked = false;
  ui.backupDone.disabled = true;
  backupWords = [];
  for (const input of ui.quizInputs) input.value = "";
  ui.backupQuiz.hidden = true;
  ui.backupShow.hidden = false;
  hideRevealed();
}

/** Clears the errors and status lines of the screens (not the relay's). */
function clearMessages(): void {
  for (const el of document.querySelectorAll<HTMLElement>("main .field-error")) el.textContent = "";
  for (const el of document.querySelectorAll<HTMLElement>("main [aria-invalid]")) el.removeAttribute("aria-invalid");
  for (const el of document.querySelectorAll<HTMLElement>(".screen:not(#screen-wallet) [role=status], #settings [role=status], #account-status")) {
    el.textContent = "";
  }
}

function show(next: Screen, focus?: HTMLElement): void {
  if (next !== screen) {
    if (screen === "wallet") {
      wallet.hideAccounts();
      for (const d of ui.settings.querySelectorAll("details")) d.open = false;
      ui.deleteConfirm.value = "";
      ui.deleteSubmit.disabled = true;
      ui.importReplace.checked = false;
      ui.importSubmit.disabled = true;
      ui.importFile.value = "";
    }
    if (next !== "locked") ui.forgot.open = false;
    wipeSecrets();
    clearMessages();
    screen = next;
  }
  for (const [name, el] of Object.entries(screens)) el.hidden = name !== next;
  document.body.dataset.screen = next;
  ui.lock.hidden = next !== "wallet";
  const target = focus ?? screens[next].querySelector<HTMLElement>("h2[tabindex]");
  target?.focus();
}

/** Tells screen-reader users what just happened to the wallet. */
function announce(text: string): void {
  ui.vaultStatus.textContent = text;
}

/** Shows the screen for the vault's state. */
function route(): void {
  if (!vault) return;
  switch (vault.state) {
    case "empty":
      wallet.forgetAccounts();
      showWelcome();
      break;
    case "locked":
      showLocked();
      break;
    case "unlocked":
      showWallet();
      break;
  }
}

function showWelcome(form: HTMLFormElement | null = null): void {
  show("welcome");
  ui.welcomeChoices.hidden = form !== null;
  for (const f of [ui.createForm, ui.restoreForm, ui.importFirstForm]) f.hidden = f !== form;
  if (form) form.querySelector<HTMLElement>("h3[tabindex]")?.focus();
  else ui.welcomeHeading.focus();
}

function showLocked(message = ""): void {
  clearTimeout(lockTimer);
  show("locked", ui.unlockPassword);
  ui.unlockStatus.textContent = message;
  announce(message || "The wallet is locked.");
}

/** Shows the unlocked wallet (and `select`, an account index). False if the vault is not unlocked. */
function showWallet(select?: number): boolean {
  if (!vault) return false;
  let accounts;
  try {
    accounts = vault.accounts();
  } catch (e) {
    vaultTrouble(e);
    return false;
  }
  if (screen !== "wallet") {
    show("wallet");
    announce("The wallet is unlocked.");
  }
  wallet.showAccounts(accounts, select);
  syncSettings();
  watchLock();
  return true;
}

/** The vault locked (by itself, the Lock button, or a change in another tab). */
function onLocked(message: string): void {
  clearTimeout(lockTimer);
  if (screen === "wallet" || screen === "backup") showLocked(message);
}

function describeMs(ms: number): string {
  const plural = (n: number, unit: string) => `${n} ${unit}${n === 1 ? "" : "s"}`;
  if (ms % 3_600_000 === 0) return plural(ms / 3_600_000, "hour");
  if (ms % 60_000 === 0) return plural(ms / 60_000, "minute");
  return plural(Math.round(ms / 1000), "second");
}

function autoLockMessage(): string {
  return autoLockMs === null
    ? "The wallet locked itself."
    : `The wallet locked itself after ${describeMs(autoLockMs)} without activity. Unlock it to carry on.`;
}

/**
 * Errors any vault call can give when the world changed under it (auto-lock,
 * another tab). Moves to the right screen; true if it handled the error.
 */
function vaultTrouble(e: unknown, status?: HTMLElement): boolean {
  if (!vault) return false;
  switch (codeOf(e)) {
    case "vault_locked":
      onLocked(autoLockMessage());
      return true;
    case "vault_not_found":
      wallet.forgetAccounts();
      showWelcome();
      ui.welcomeStatus.textContent = "The wallet was deleted from this browser (in another tab).";
      return true;
    case "vault_exists":
    case "vault_conflict": {
      // The vault re-read what another tab wrote. Nothing was written here.
      const s = vault.state;
      if (s === "locked" && screen !== "locked") {
        showLocked("The wallet was changed in another tab (a new password, or another wallet). Unlock it here.");
        return true;
      }
      if (s === "empty" && screen !== "welcome") {
        route();
        return true;
      }
      if (s === "unlocked" && screen === "wallet") showWallet();
      if (status) {
        status.textContent =
          "The wallet was changed in another tab meanwhile; this page now shows that change. Nothing was changed here: please try again.";
      }
      return status !== undefined;
    }
    default:
      return false;
  }
}

// ---------------------------------------------------------------- auto-lock

/** Re-arms the page's check for the vault's idle deadline. */
function watchLock(): void {
  clearTimeout(lockTimer);
  if (!vault || (screen !== "wallet" && screen !== "backup")) return;
  if (vault.state !== "unlocked") {
    onLocked(autoLockMessage());
    return;
  }
  const ms = vault.autoLockMs;
  if (typeof ms !== "number") return;
  // The vault locks itself at the deadline (its own timer, and every call
  // checks it); this timer only brings the page back to the unlock form.
  const wait = Math.max(0, vault.lastActivityMs + ms - Date.now()) + 50;
  lockTimer = setTimeout(watchLock, Math.min(wait, 2 ** 31 - 1));
}

/** User activity keeps an unlocked vault unlocked. */
function onActivity(): void {
  if (!vault || (screen !== "wallet" && screen !== "backup")) return;
  const now = Date.now();
  if (now - lastTouch < TOUCH_EVERY_MS && now >= lastTouch) return;
  lastTouch = now;
  try {
    vault.touch();
  } catch (e) {
    vaultTrouble(e);
    return;
  }
  watchLock();
}

// ---------------------------------------------------------------- busy forms

/**
 * Runs a vault operation with the form's buttons disabled and a status
 * line; waits for a paint first, since Argon2 holds the main thread.
 */
async function busy<T>(container: HTMLElement, status: HTMLElement, text: string, work: () => Promise<T>): Promise<T> {
  const buttons = [...container.querySelectorAll<HTMLButtonElement>("button")];
  if (container instanceof HTMLButtonElement) buttons.push(container);
  const before = buttons.map((b) => b.disabled);
  // Disabling the focused button drops focus to the page; it goes back afterwards.
  const focused = document.activeElement instanceof HTMLElement ? document.activeElement : null;
  for (const b of buttons) b.disabled = true;
  container.setAttribute("aria-busy", "true");
  status.textContent = text;
  try {
    await nextPaint();
    return await work();
  } finally {
    buttons.forEach((b, i) => (b.disabled = before[i]));
    container.removeAttribute("aria-busy");
    if (focused?.isConnected && (document.activeElement === document.body || document.activeElement === null)) {
      focused.focus();
    }
  }
}

/** Shows a new-password problem at its field; true if there is one. */
function badNewPassword(
  password: HTMLInputElement,
  passwordError: HTMLElement,
  repeat: HTMLInputElement,
  repeatError: HTMLElement,
): boolean {
  fieldError(password, passwordError, "");
  fieldError(repeat, repeatError, "");
  const problem = newPasswordProblem(password.value, repeat.value);
  if (!problem) return false;
  const [input, out] = problem.field === "password" ? [password, passwordError] : [repeat, repeatError];
  fieldError(input, out, problem.message);
  input.focus();
  return true;
}

/**
 * Destructive actions (delete, replace from a backup) need the wallet's
 * password: checks it in the vault (nothing secret leaves wasm); shows the
 * problem at the field and returns false if it is not right.
 */
async function passwordConfirmed(v: Vault, input: HTMLInputElement, out: HTMLElement): Promise<boolean> {
  const password = input.value;
  if (!password) {
    fieldError(input, out, "Enter your password to confirm.");
    input.focus();
    return false;
  }
  try {
    await v.checkPassword(password);
  } catch (e) {
    if (codeOf(e) !== "wrong_password") throw e;
    fieldError(input, out, "Wrong password. Nothing was changed.");
    input.focus();
    input.select();
    return false;
  }
  fieldError(input, out, "");
  return true;
}

/** Checks a typed recovery phrase with the vault's own rules; shows the vault's message. */
function badPhrase(textarea: HTMLTextAreaElement, out: HTMLElement): boolean {
  try {
    Vault.validatePhrase(textarea.value);
    fieldError(textarea, out, "");
    return false;
  } catch (e) {
    const message = codeOf(e)?.startsWith("invalid_mnemonic") && e instanceof Error ? sentence(e.message) : errorText(e);
    fieldError(textarea, out, message);
    textarea.focus();
    return true;
  }
}

/** Reads a chosen backup file; shows the problem at the field and returns null if there is one. */
async function readBackup(input: HTMLInputElement, out: HTMLElement): Promise<string | null> {
  const file = input.files?.[0];
  if (!file) {
    fieldError(input, out, "Choose the backup file.");
    input.focus();
    return null;
  }
  if (file.size > MAX_BACKUP_BYTES) {
    fieldError(input, out, "This file is far too large to be an rUv wallet backup.");
    input.focus();
    return null;
  }
  fieldError(input, out, "");
  return file.text();
}

/** Shows an import error at the right field; false if it is not one of the import's own errors. */
function importError(
  e: unknown,
  file: HTMLInputElement,
  fileError: HTMLElement,
  password: HTMLInputElement,
  passwordError: HTMLElement,
): boolean {
  switch (codeOf(e)) {
    case "wrong_password":
      fieldError(password, passwordError, "This password does not open the backup file. Nothing was changed.");
      password.focus();
      password.select();
      return true;
    case "invalid_backup":
    case "vault_unsupported_version":
      fieldError(file, fileError, `This is not a usable wallet backup: ${sentence((e as Error).message)}`);
      file.focus();
      return true;
    default:
      return false;
  }
}

// ---------------------------------------------------------------- first visit

async function onCreate(event: SubmitEvent): Promise<void> {
  event.preventDefault();
  const v = vault;
  if (!v) return;
  if (badNewPassword(ui.createPassword, ui.createPasswordError, ui.createRepeat, ui.createRepeatError)) return;
  const password = ui.createPassword.value;
  let phrase: string;
  try {
    phrase = await busy(ui.createForm, ui.createStatus, "Creating your wallet and encrypting it with your password…", async () => {
      await v.create(password);
      return v.revealPhrase(password);
    });
  } catch (e) {
    if (codeOf(e) === "invalid_password") {
      fieldError(ui.createPassword, ui.createPasswordError, sentence((e as Error).message));
      ui.createStatus.textContent = "";
    } else if (!vaultTrouble(e, ui.createStatus)) {
      ui.createStatus.textContent = `Could not create the wallet: ${errorText(e)}`;
    }
    return;
  }
  show("backup");
  showPhrase(ui.backupPhrase, phrase);
  backupWords = phrase.split(" ");
  announce("Your wallet was created. Write down the recovery phrase shown on the page.");
  watchLock();
}

/** The user says the phrase is written down: hide it and ask a few words back. */
function onBackupDone(): void {
  if (!ui.backupConfirm.checked || backupWords.length === 0) return;
  // Distinct random positions, in order.
  const picked = new Set<number>();
  const random = new Uint32Array(1);
  while (picked.size < QUIZ_WORDS) {
    crypto.getRandomValues(random);
    picked.add(random[0] % backupWords.length);
  }
  quizPositions = [...picked].sort((a, b) => a - b);
  quizPositions.forEach((position, i) => {
    ui.quizLabels[i].textContent = `Word ${position + 1}`;
    ui.quizLabels[i].dataset.position = String(position + 1);
    ui.quizInputs[i].value = "";
  });
  ui.quizError.textContent = "";
  ui.backupShow.hidden = true;
  ui.backupQuiz.hidden = false;
  ui.quizInputs[0].focus();
}

function onQuiz(event: SubmitEvent): void {
  event.preventDefault();
  const wrong = quizPositions.filter((position, i) => ui.quizInputs[i].value.trim().toLowerCase() !== backupWords[position]);
  for (const [i, input] of ui.quizInputs.entries()) {
    input.setAttribute("aria-invalid", wrong.includes(quizPositions[i]) ? "true" : "false");
  }
  if (wrong.length > 0) {
    ui.quizError.textContent = `Word ${wrong.map((p) => p + 1).join(" and ")} ${wrong.length === 1 ? "is" : "are"} not what the phrase has. Check your paper, or show the words again.`;
    ui.quizInputs[quizPositions.indexOf(wrong[0])].focus();
    return;
  }
  backupWords = [];
  ui.backupPhrase.replaceChildren();
  showWallet();
}

function onQuizBack(): void {
  for (const input of ui.quizInputs) input.value = "";
  ui.backupQuiz.hidden = true;
  ui.backupShow.hidden = false;
  ui.backupDone.focus();
}

async function onRestore(event: SubmitEvent): Promise<void> {
  event.preventDefault();
  const v = vault;
  if (!v) return;
  if (badPhrase(ui.restorePhrase, ui.restorePhraseError)) return;
  if (badNewPassword(ui.restorePassword, ui.restorePasswordError, ui.restoreRepeat, ui.restoreRepeatError)) return;
  try {
    await busy(ui.restoreForm, ui.restoreStatus, "Restoring your wallet and encrypting it with your password…", () =>
      v.restore(ui.restorePhrase.value, ui.restorePassword.value),
    );
  } catch (e) {
    if (!vaultTrouble(e, ui.restoreStatus)) ui.restoreStatus.textContent = `Could not restore the wallet: ${errorText(e)}`;
    return;
  }
  wallet.forgetAccounts();
  if (showWallet()) announce("Your wallet was restored and is unlocked.");
}

async function onImportFirst(event: SubmitEvent): Promise<void> {
  event.preventDefault();
  const v = vault;
  if (!v) return;
  const text = await readBackup(ui.importFirstFile, ui.importFirstFileError);
  if (text === null) return;
  const password = ui.importFirstPassword.value;
  fieldError(ui.importFirstPassword, ui.importFirstPasswordError, password ? "" : "Enter the backup's password.");
  if (!password) {
    ui.importFirstPassword.focus();
    return;
  }
  try {
    await busy(ui.importFirstForm, ui.importFirstStatus, "Checking the backup and its password…", () =>
      v.importBackup(text, password, false),
    );
  } catch (e) {
    ui.importFirstStatus.textContent = "";
    if (
      !importError(e, ui.importFirstFile, ui.importFirstFileError, ui.importFirstPassword, ui.importFirstPasswordError) &&
      !vaultTrouble(e, ui.importFirstStatus)
    ) {
      ui.importFirstStatus.textContent = `Could not import the backup: ${errorText(e)}`;
    }
    return;
  }
  wallet.forgetAccounts();
  if (showWallet()) announce("The backup was imported; the wallet is unlocked.");
}

// ---------------------------------------------------------------- locked

async function onUnlock(event: SubmitEvent): Promise<void> {
  event.preventDefault();
  const v = vault;
  if (!v) return;
  const password = ui.unlockPassword.value;
  if (!password) {
    fieldError(ui.unlockPassword, ui.unlockError, "Enter your password.");
    ui.unlockPassword.focus();
    return;
  }
  fieldError(ui.unlockPassword, ui.unlockError, "");
  try {
    await busy(ui.unlockForm, ui.unlockStatus, "Unlocking…", () => v.unlock(password));
  } catch (e) {
    ui.unlockStatus.textContent = "";
    switch (codeOf(e)) {
      case "wrong_password":
        fieldError(ui.unlockPassword, ui.unlockError, "Wrong password. The wallet stays locked; try again.");
        ui.unlockPassword.focus();
        ui.unlockPassword.select();
        return;
      case "vault_corrupted":
        fieldError(
          ui.unlockPassword,
          ui.unlockError,
          "The wallet stored in this browser is damaged and cannot be opened. It was left as it is. Restore it from its recovery phrase below, or import a backup file after resetting.",
        );
        ui.forgot.open = true;
        return;
      case "vault_not_found":
        route();
        ui.welcomeStatus.textContent = "There is no wallet in this browser any more (it was deleted in another tab).";
        return;
      default:
        fieldError(ui.unlockPassword, ui.unlockError, `Could not unlock: ${errorText(e)}`);
        return;
    }
  }
  showWallet();
}

async function onReset(event: SubmitEvent): Promise<void> {
  event.preventDefault();
  const v = vault;
  if (!v || !ui.resetConfirm.checked) return;
  if (badPhrase(ui.resetPhrase, ui.resetPhraseError)) return;
  if (badNewPassword(ui.resetPassword, ui.resetPasswordError, ui.resetRepeat, ui.resetRepeatError)) return;
  const phrase = ui.resetPhrase.value;
  const password = ui.resetPassword.value;
  try {
    await busy(ui.resetForm, ui.resetStatus, "Replacing the wallet in this browser…", async () => {
      try {
        await v.delete("delete");
      } catch (e) {
        // Changed in another tab since this page read it: the vault has re-read it; the user asked to replace it anyway.
        if (codeOf(e) !== "vault_conflict" && codeOf(e) !== "vault_not_found") throw e;
        if (v.state !== "empty") await v.delete("delete");
      }
      await v.restore(phrase, password);
    });
  } catch (e) {
    ui.resetStatus.textContent = `Could not reset the wallet: ${errorText(e)}`;
    if (v.state === "empty") {
      // Deleted, but not restored (storage trouble): start over from the first screen.
      showWelcome(ui.restoreForm);
      ui.restoreStatus.textContent = `The old wallet was deleted, but restoring failed: ${errorText(e)}. Try again here.`;
    }
    return;
  }
  wallet.forgetAccounts();
  if (showWallet()) announce("The wallet was restored from its recovery phrase and is unlocked.");
}

// ---------------------------------------------------------------- unlocked

/** Brings the settings in line with the vault (auto-lock time, account name). */
function syncSettings(): void {
  if (!vault) return;
  const ms = vault.autoLockMs;
  autoLockMs = typeof ms === "number" ? ms : null;
  const value = autoLockMs === null ? "never" : String(autoLockMs);
  if (![...ui.autolockSelect.options].some((o) => o.value === value)) {
    // Set elsewhere to a time this page does not list.
    const option = document.createElement("option");
    option.value = value;
    option.textContent = describeMs(autoLockMs ?? 0);
    ui.autolockSelect.append(option);
  }
  ui.autolockSelect.value = value;
  ui.renameLabel.value = wallet.currentAccount()?.label ?? "";
}

async function onAddAccount(): Promise<void> {
  const v = vault;
  if (!v) return;
  let added;
  try {
    added = await busy(ui.addAccount, ui.accountStatus, "Adding an account…", () => v.addAccount());
  } catch (e) {
    if (!vaultTrouble(e, ui.accountStatus)) ui.accountStatus.textContent = `Could not add an account: ${errorText(e)}`;
    return;
  }
  if (showWallet(added.index)) ui.accountStatus.textContent = `Added ${added.label}. It is shown now.`;
}

async function onRename(event: SubmitEvent): Promise<void> {
  event.preventDefault();
  const v = vault;
  const account = wallet.currentAccount();
  if (!v || !account) return;
  const label = ui.renameLabel.value.trim();
  try {
    await busy(ui.renameForm, ui.renameStatus, "Saving…", () => v.renameAccount(account.index, label));
  } catch (e) {
    ui.renameStatus.textContent = "";
    if (codeOf(e) === "invalid_label") {
      fieldError(ui.renameLabel, ui.renameError, sentence((e as Error).message));
      ui.renameLabel.focus();
    } else if (!vaultTrouble(e, ui.renameStatus)) {
      ui.renameStatus.textContent = `Could not rename: ${errorText(e)}`;
    }
    return;
  }
  fieldError(ui.renameLabel, ui.renameError, "");
  if (showWallet(account.index)) ui.renameStatus.textContent = `Renamed to ${label}.`;
}

function hideRevealed(): void {
  ui.revealedPhrase.replaceChildren();
  ui.revealed.hidden = true;
  ui.revealForm.hidden = false;
}

async function onReveal(event: SubmitEvent): Promise<void> {
  event.preventDefault();
  const v = vault;
  if (!v) return;
  const password = ui.revealPassword.value;
  if (!password) {
    fieldError(ui.revealPassword, ui.revealError, "Enter your password.");
    ui.revealPassword.focus();
    return;
  }
  let phrase: string;
  try {
    phrase = await busy(ui.revealForm, ui.revealStatus, "Checking your password…", () => v.revealPhrase(password));
  } catch (e) {
    ui.revealStatus.textContent = "";
    if (codeOf(e) === "wrong_password") {
      fieldError(ui.revealPassword, ui.revealError, "Wrong password.");
      ui.revealPassword.focus();
      ui.revealPassword.select();
    } else if (!vaultTrouble(e)) {
      fieldError(ui.revealPassword, ui.revealError, `Could not show the phrase: ${errorText(e)}`);
    }
    return;
  }
  ui.revealPassword.value = "";
  fieldError(ui.revealPassword, ui.revealError, "");
  ui.revealStatus.textContent = "";
  showPhrase(ui.revealedPhrase, phrase);
  ui.revealForm.hidden = true;
  ui.revealed.hidden = false;
  ui.revealHide.focus();
}

async function onChangePassword(event: SubmitEvent): Promise<void> {
  event.preventDefault();
  const v = vault;
  if (!v) return;
  const current = ui.passwordCurrent.value;
  fieldError(ui.passwordCurrent, ui.passwordCurrentError, current ? "" : "Enter your current password.");
  if (!current) {
    ui.passwordCurrent.focus();
    return;
  }
  if (badNewPassword(ui.passwordNew, ui.passwordNewError, ui.passwordRepeat, ui.passwordRepeatError)) return;
  try {
    await busy(ui.passwordForm, ui.passwordStatus, "Re-encrypting the wallet with the new password…", () =>
      v.changePassword(current, ui.passwordNew.value),
    );
  } catch (e) {
    ui.passwordStatus.textContent = "";
    if (codeOf(e) === "wrong_password") {
      fieldError(ui.passwordCurrent, ui.passwordCurrentError, "This is not your current password. Nothing was changed.");
      ui.passwordCurrent.focus();
      ui.passwordCurrent.select();
    } else if (codeOf(e) === "invalid_password") {
      fieldError(ui.passwordNew, ui.passwordNewError, sentence((e as Error).message));
      ui.passwordNew.focus();
    } else if (!vaultTrouble(e, ui.passwordStatus)) {
      ui.passwordStatus.textContent = `Could not change the password: ${errorText(e)}`;
    }
    return;
  }
  for (const input of [ui.passwordCurrent, ui.passwordNew, ui.passwordRepeat]) input.value = "";
  ui.passwordStatus.textContent =
    "Password changed. Backup files you exported before still open with the old password: export a new one.";
}

async function onAutoLock(): Promise<void> {
  const v = vault;
  if (!v) return;
  const value = ui.autolockSelect.value;
  const ms = value === "never" ? null : Number(value);
  try {
    await v.setAutoLock(ms);
  } catch (e) {
    syncSettings();
    if (!vaultTrouble(e, ui.autolockStatus)) ui.autolockStatus.textContent = `Could not change auto-lock: ${errorText(e)}`;
    return;
  }
  syncSettings();
  watchLock();
  ui.autolockStatus.textContent =
    ms === null
      ? "The wallet no longer locks by itself. Use the Lock button when you step away."
      : `The wallet now locks after ${describeMs(ms)} without activity.`;
}

async function onExport(): Promise<void> {
  const v = vault;
  if (!v) return;
  let text: string;
  try {
    text = await busy(ui.exportBackup, ui.exportStatus, "Preparing the backup…", () => v.exportBackup());
  } catch (e) {
    if (!vaultTrouble(e, ui.exportStatus)) ui.exportStatus.textContent = `Could not export: ${errorText(e)}`;
    return;
  }
  const name = `ruv-wallet-backup-${new Date().toISOString().slice(0, 10)}.json`;
  const url = URL.createObjectURL(new Blob([text], { type: "application/json" }));
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  a.hidden = true;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
  ui.exportStatus.textContent = `Saved ${name}. It opens with your current password.`;
}

async function onImport(event: SubmitEvent): Promise<void> {
  event.preventDefault();
  const v = vault;
  if (!v || !ui.importReplace.checked) return;
  const text = await readBackup(ui.importFile, ui.importFileError);
  if (text === null) return;
  const password = ui.importPassword.value;
  fieldError(ui.importPassword, ui.importPasswordError, password ? "" : "Enter the backup's password.");
  if (!password) {
    ui.importPassword.focus();
    return;
  }
  try {
    const confirmed = await busy(ui.importForm, ui.importStatus, "Checking your password…", () =>
      passwordConfirmed(v, ui.importCurrent, ui.importCurrentError),
    );
    ui.importStatus.textContent = "";
    if (!confirmed) return;
    await busy(ui.importForm, ui.importStatus, "Checking the backup and its password…", () =>
      v.importBackup(text, password, true),
    );
  } catch (e) {
    ui.importStatus.textContent = "";
    if (
      !importError(e, ui.importFile, ui.importFileError, ui.importPassword, ui.importPasswordError) &&
      !vaultTrouble(e, ui.importStatus)
    ) {
      ui.importStatus.textContent = `Could not import the backup: ${errorText(e)}`;
    }
    return;
  }
  ui.importPassword.value = "";
  ui.importCurrent.value = "";
  ui.importFile.value = "";
  ui.importReplace.checked = false;
  ui.importSubmit.disabled = true;
  wallet.forgetAccounts();
  if (showWallet()) {
    ui.importStatus.textContent = "Imported. This browser now holds the wallet from the file, with the file's password.";
    announce("The backup was imported.");
  }
}

async function onDelete(event: SubmitEvent): Promise<void> {
  event.preventDefault();
  const v = vault;
  if (!v || ui.deleteConfirm.value !== "delete") return;
  try {
    const confirmed = await busy(ui.deleteForm, ui.deleteStatus, "Checking your password…", () =>
      passwordConfirmed(v, ui.deletePassword, ui.deletePasswordError),
    );
    ui.deleteStatus.textContent = "";
    if (!confirmed) return;
    await busy(ui.deleteForm, ui.deleteStatus, "Deleting…", () => v.delete("delete"));
  } catch (e) {
    if (!vaultTrouble(e, ui.deleteStatus)) ui.deleteStatus.textContent = `Could not delete: ${errorText(e)}`;
    return;
  }
  wallet.eraseStoredActivity();
  wallet.forgetAccounts();
  showWelcome();
  ui.welcomeStatus.textContent = "The wallet was deleted from this browser.";
  announce("The wallet was deleted from this browser.");
}

function lockNow(): void {
  vault?.lock();
  onLocked("Locked.");
}

/** Another tab may have changed the vault: re-read it when this tab is shown again. */
async function resync(): Promise<void> {
  const v = vault;
  if (!v || screen === "loading" || screen === "unavailable") return;
  try {
    await v.refresh();
  } catch {
    return;
  }
  const s = v.state;
  if (screen === "wallet") {
    if (s === "unlocked") showWallet();
    else if (s === "locked") onLocked(autoLockMs !== null && Date.now() >= v.lastActivityMs + autoLockMs ? autoLockMessage() : "The wallet was changed in another tab. Unlock it here.");
    else route();
  } else if (screen === "backup") {
    if (s !== "unlocked") route();
  } else if ((screen === "welcome" && s !== "empty") || (screen === "locked" && s !== "locked")) {
    route();
  }
}

// ---------------------------------------------------------------- start

const signer: wallet.Signer = {
  sign(index: number, params: TransferParams) {
    if (!vault) throw new Error("no wallet");
    const tx = vault.signTransfer(index, params);
    watchLock();
    return tx;
  },
  locked() {
    onLocked("The wallet locked itself before signing; nothing was sent. Unlock it and send again.");
  },
  pending() {
    return vault && vault.state === "unlocked" ? vault.pendingTransfers() : [];
  },
  async keepPending(transfer) {
    if (!vault) throw new Error("no wallet");
    await vault.addPendingTransfer(transfer);
  },
  async dropPending(id) {
    if (!vault || vault.state !== "unlocked") return;
    try {
      await vault.removePendingTransfer(id);
    } catch (e) {
      // Kept: proven again and dropped after the next unlock.
      console.warn("could not drop a settled payment from the vault:", errorText(e));
    }
  },
};

async function boot(): Promise<void> {
  void wallet.startRelay(signer);
  try {
    vault = await Vault.open(undefined, { deriveKey: deriveKeyInWorker });
  } catch (e) {
    show("unavailable");
    ui.unavailableReason.textContent =
      codeOf(e) === "storage_unavailable"
        ? `The browser did not give this page its storage (IndexedDB). It said: ${sentence((e as Error).message)}`
        : `The wallet could not be opened: ${errorText(e)}`;
    return;
  }
  route();
}

function useTemporary(): void {
  vault = Vault.openInMemory({ deriveKey: deriveKeyInWorker });
  ui.temporaryBanner.hidden = false;
  route();
}

function wire(): void {
  ui.useTemporary.addEventListener("click", useTemporary);
  ui.chooseCreate.addEventListener("click", () => showWelcome(ui.createForm));
  ui.chooseRestore.addEventListener("click", () => showWelcome(ui.restoreForm));
  ui.chooseImport.addEventListener("click", () => showWelcome(ui.importFirstForm));
  for (const back of document.querySelectorAll<HTMLButtonElement>("#screen-welcome .back")) {
    back.addEventListener("click", () => {
      wipeSecrets();
      clearMessages();
      showWelcome();
    });
  }
  ui.createForm.addEventListener("submit", (e) => void onCreate(e));
  ui.restoreForm.addEventListener("submit", (e) => void onRestore(e));
  ui.importFirstForm.addEventListener("submit", (e) => void onImportFirst(e));
  ui.backupConfirm.addEventListener("change", () => (ui.backupDone.disabled = !ui.backupConfirm.checked));
  ui.backupDone.addEventListener("click", onBackupDone);
  ui.backupQuiz.addEventListener("submit", onQuiz);
  ui.quizBack.addEventListener("click", onQuizBack);
  ui.unlockForm.addEventListener("submit", (e) => void onUnlock(e));
  ui.resetConfirm.addEventListener("change", () => (ui.resetSubmit.disabled = !ui.resetConfirm.checked));
  ui.resetForm.addEventListener("submit", (e) => void onReset(e));
  ui.lock.addEventListener("click", lockNow);
  ui.addAccount.addEventListener("click", () => void onAddAccount());
  ui.accountSelect.addEventListener("change", () => {
    ui.renameLabel.value = wallet.currentAccount()?.label ?? "";
    fieldError(ui.renameLabel, ui.renameError, "");
    ui.renameStatus.textContent = "";
    ui.accountStatus.textContent = "";
  });
  ui.renameForm.addEventListener("submit", (e) => void onRename(e));
  ui.revealForm.addEventListener("submit", (e) => void onReveal(e));
  ui.revealHide.addEventListener("click", () => {
    hideRevealed();
    ui.revealPassword.focus();
  });
  ui.revealDetails.addEventListener("toggle", () => {
    if (!ui.revealDetails.open) hideRevealed();
  });
  ui.passwordForm.addEventListener("submit", (e) => void onChangePassword(e));
  ui.autolockSelect.addEventListener("change", () => void onAutoLock());
  ui.exportBackup.addEventListener("click", () => void onExport());
  ui.importReplace.addEventListener("change", () => (ui.importSubmit.disabled = !ui.importReplace.checked));
  ui.importForm.addEventListener("submit", (e) => void onImport(e));
  ui.deleteConfirm.addEventListener("input", () => (ui.deleteSubmit.disabled = ui.deleteConfirm.value !== "delete"));
  ui.deleteForm.addEventListener("submit", (e) => void onDelete(e));

  for (const type of ["pointerdown", "keydown", "wheel", "touchstart", "input"]) {
    document.addEventListener(type, onActivity, { capture: true, passive: true });
  }
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") void resync();
  });
  // Leaving the page locks: a page restored from the back/forward cache comes back locked.
  addEventListener("pagehide", () => vault?.lock());
  addEventListener("pageshow", (e) => {
    if (e.persisted) route();
  });
}

wire();
void boot();
