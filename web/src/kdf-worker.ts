// The key-derivation worker: runs Argon2id for the vault (`deriveVaultKey`)
// in its own instance of the ruv-client module, off the page's thread, so
// the page keeps drawing and answering while a password is checked. It
// answers one request and is then terminated by the page (kdf.ts), which
// takes its whole memory with it. Nothing here is logged.
import type { KdfReply, KdfRequest } from "./kdf";

// The listener is registered before the module (and its wasm) has loaded:
// a message that arrives while a module worker is still evaluating a
// top-level await would otherwise be dropped.
const client = import("ruv-client");

const reply = (message: KdfReply, transfer: Transferable[] = []) =>
  (globalThis as unknown as { postMessage(m: KdfReply, t: Transferable[]): void }).postMessage(message, transfer);

async function answer({ password, salt, params }: KdfRequest): Promise<void> {
  try {
    const { deriveVaultKey } = await client;
    const key = deriveVaultKey(password, salt, params);
    reply({ key }, [key.buffer as ArrayBuffer]);
  } catch (e) {
    const error = e as { code?: unknown; message?: unknown };
    reply({
      error: {
        code: typeof error.code === "string" ? error.code : "kdf_failed",
        message: typeof error.message === "string" ? error.message : String(e),
      },
    });
  } finally {
    password.fill(0);
  }
}

addEventListener("message", (event: Event) => void answer((event as MessageEvent<KdfRequest>).data));
