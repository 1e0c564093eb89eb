// window.ruv: the rUv wallet's provider for web pages, in the style of
// EIP-1193. Runs in the page's own JavaScript world (a MAIN-world content
// script); it holds nothing secret and can do nothing by itself: every
// request goes through the extension's content script to its background,
// which asks the user in a window of its own before anything is signed.
//
//   const [address] = await window.ruv.request({ method: "ruv_requestAccounts" });
//   window.ruv.on("accountsChanged", (accounts) => …);
import { disconnected, invalidParams, isProviderError, type ProviderErrorData } from "./provider-errors";
import { MAX_PARAMS_JSON, TO_CONTENT, TO_PAGE, type PageRequest, type PageResponse, type ProviderEvent } from "./protocol";

/** The error window.ruv rejects with: an Error carrying an EIP-1193 `code`. */
class ProviderRpcError extends Error {
  readonly code: number;
  constructor({ code, message }: ProviderErrorData) {
    super(message);
    this.name = "ProviderRpcError";
    this.code = code;
  }
}

type Listener = (data: unknown) => void;

const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: ProviderRpcError) => void }>();
const listeners = new Map<ProviderEvent, Set<Listener>>();
let nextId = 1;
let isDisconnected = false;

function emit(event: ProviderEvent, data: unknown): void {
  for (const listener of listeners.get(event) ?? []) {
    try {
      listener(data);
    } catch (e) {
      console.error(`window.ruv ${event} listener:`, e);
    }
  }
}

window.addEventListener("message", (event: MessageEvent) => {
  if (event.source !== window || event.origin !== location.origin) return;
  const data = event.data as PageResponse | null;
  if (!data || data.tag !== TO_PAGE) return;
  if ("event" in data) {
    if (data.event === "disconnect") {
      isDisconnected = true;
      for (const [id, p] of pending) {
        pending.delete(id);
        p.reject(new ProviderRpcError(disconnected()));
      }
    }
    emit(data.event, data.data);
    return;
  }
  const waiting = pending.get(data.id);
  if (!waiting) return;
  pending.delete(data.id);
  if ("error" in data) waiting.reject(new ProviderRpcError(isProviderError(data.error) ? data.error : disconnected()));
  else waiting.resolve(data.result);
});

const provider = Object.freeze({
  isRuv: true,
  /** Sends a request to the wallet; resolves with its result or rejects with a ProviderRpcError. */
  request(args: { method: string; params?: unknown }): Promise<unknown> {
    if (typeof args !== "object" || args === null || typeof args.method !== "string") {
      return Promise.reject(new ProviderRpcError(invalidParams("request() takes { method: string, params? }.")));
    }
    if (isDisconnected) return Promise.reject(new ProviderRpcError(disconnected()));
    let params: unknown;
    try {
      // Plain data only (no functions, no cycles), and not too much of it.
      const json = args.params === undefined ? undefined : JSON.stringify(args.params);
      if (json !== undefined && json.length > MAX_PARAMS_JSON) {
        return Promise.reject(new ProviderRpcError(invalidParams(`params are longer than ${MAX_PARAMS_JSON} bytes of JSON.`)));
      }
      params = json === undefined ? undefined : JSON.parse(json);
    } catch {
      return Promise.reject(new ProviderRpcError(invalidParams("params must be plain JSON data.")));
    }
    const id = nextId++;
    return new Promise((resolve, reject) => {
      pending.set(id, { resolve, reject });
      const message: PageRequest = { tag: TO_CONTENT, id, method: args.method, params };
      window.postMessage(message, location.origin);
    });
  },
  on(event: ProviderEvent, listener: Listener): void {
    if (!listeners.has(event)) listeners.set(event, new Set());
    listeners.get(event)!.add(listener);
  },
  removeListener(event: ProviderEvent, listener: Listener): void {
    listeners.get(event)?.delete(listener);
  },
});

if (!("ruv" in window)) {
  Object.defineProperty(window, "ruv", { value: provider, writable: false, configurable: false, enumerable: true });
  window.dispatchEvent(new Event("ruv#initialized"));
}
