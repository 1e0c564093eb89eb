// Argon2 off the page's thread: the vault's `deriveKey` option. Each
// derivation runs in a fresh dedicated Web Worker (kdf-worker.ts, its own
// instance of the ruv-client module) that is terminated as soon as it
// answers, so Argon2's memory, the password bytes and the output go with
// it. The password bytes are transferred, not copied; the answer is
// transferred back and wiped by the vault once read. Workers come from this
// page's own origin (`worker-src 'self'` in the wallet's CSP; the
// extension's pages run them from the extension's origin).
import type { DeriveKey, KdfParams } from "ruv-client";

/** What the page sends the worker. */
export interface KdfRequest {
  password: Uint8Array;
  salt: Uint8Array;
  params: KdfParams;
}

/** What the worker answers: the 32-byte Argon2id output, or an error with a vault code. */
export type KdfReply = { key: Uint8Array } | { error: { code: string; message: string } };

function kdfError(code: string, message: string): Error {
  return Object.assign(new Error(message), { name: "RuvError", code });
}

/** Runs one Argon2id derivation in a new worker (see the top of this file). */
export const deriveKeyInWorker: DeriveKey = (request) =>
  new Promise<Uint8Array>((resolve, reject) => {
    let worker: Worker;
    try {
      worker = new Worker(new URL("./kdf-worker.ts", import.meta.url), { type: "module", name: "ruv-kdf" });
    } catch (e) {
      request.password.fill(0);
      reject(kdfError("kdf_failed", `could not start the key-derivation worker: ${(e as Error).message}`));
      return;
    }
    worker.addEventListener("message", (event: MessageEvent<KdfReply>) => {
      worker.terminate();
      const data = event.data;
      if ("key" in data && data.key instanceof Uint8Array) resolve(data.key);
      else if ("error" in data) reject(kdfError(data.error.code, data.error.message));
      else reject(kdfError("kdf_failed", "the key-derivation worker answered something else"));
    });
    worker.addEventListener("error", (event: ErrorEvent) => {
      worker.terminate();
      reject(kdfError("kdf_failed", `the key-derivation worker failed: ${event.message || "it could not start"}`));
    });
    worker.addEventListener("messageerror", () => {
      worker.terminate();
      reject(kdfError("kdf_failed", "the key-derivation worker's answer could not be read"));
    });
    const message: KdfRequest = { password: request.password, salt: request.salt, params: request.params };
    worker.postMessage(message, [request.password.buffer as ArrayBuffer]);
  });
