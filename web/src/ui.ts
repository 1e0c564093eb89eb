// Small DOM helpers shared by the wallet page's modules.
import type { RuvError } from "ruv-client";

/** The element with this id (the page is static: a missing one is a bug). */
export function $<T extends HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`missing #${id}`);
  return el as T;
}

/** The error's `code` (every ruv-client error has one), or undefined. */
export function codeOf(e: unknown): string | undefined {
  const code = (e as Partial<RuvError> | null)?.code;
  return typeof code === "string" ? code : undefined;
}

/** "message (code)" for errors shown as technical details. */
export function errorText(e: unknown): string {
  if (e instanceof Error) {
    const code = codeOf(e);
    return code ? `${e.message} (${code})` : e.message;
  }
  return String(e);
}

/** An error message as a sentence: capital first letter, final period. */
export function sentence(message: string): string {
  const m = message.trim();
  if (m === "") return m;
  const first = m[0].toUpperCase() + m.slice(1);
  return /[.!?]$/.test(first) ? first : `${first}.`;
}

/**
 * Resolves after the browser had a chance to paint. Argon2 (unlock, create,
 * password checks) blocks the main thread for a moment; waiting first lets
 * the "Unlocking…" status and the disabled button show before it does.
 */
export function nextPaint(): Promise<void> {
  return new Promise((resolve) => {
    let done = false;
    const finish = () => {
      if (!done) {
        done = true;
        resolve();
      }
    };
    requestAnimationFrame(() => setTimeout(finish, 0));
    // requestAnimationFrame does not run in hidden tabs.
    setTimeout(finish, 100);
  });
}

/** Shows a field's error (or clears it with ""), for sighted and screen-reader users. */
export function fieldError(input: HTMLInputElement | HTMLTextAreaElement, out: HTMLElement, message: string): void {
  out.textContent = message;
  input.setAttribute("aria-invalid", message ? "true" : "false");
}

/** Number of characters of a password as the vault counts them (Unicode NFKC). */
export function passwordLength(password: string): number {
  return [...password.normalize("NFKC")].length;
}

/** Minimum password length the vault accepts for new passwords. */
export const MIN_PASSWORD_CHARS = 8;

/**
 * Checks a new password and its repetition; returns the problem, or "" if
 * there is none. The vault checks the length again (`invalid_password`).
 */
export function newPasswordProblem(password: string, repeat: string): { field: "password" | "repeat"; message: string } | null {
  if (passwordLength(password) < MIN_PASSWORD_CHARS) {
    return { field: "password", message: `Use at least ${MIN_PASSWORD_CHARS} characters.` };
  }
  if (password !== repeat) return { field: "repeat", message: "The two passwords are not the same." };
  return null;
}

/** Fills an <ol> with the words of a recovery phrase (one <li> per word). */
export function showPhrase(list: HTMLOListElement, phrase: string): void {
  list.replaceChildren(
    ...phrase.split(" ").map((word) => {
      const li = document.createElement("li");
      li.textContent = word;
      return li;
    }),
  );
}
