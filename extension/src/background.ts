// The extension's background (a Manifest V3 service worker): answers
// window.ruv's requests. It holds no key and never signs: what needs the
// vault (connecting an account, a payment, a message) opens an approval
// window where the user sees the request and the site asking, unlocks the
// vault and approves or rejects. Permissions are per origin (the browser's
// `sender.origin`, never what a page says).
import init, { LightClient, TrustAnchor, Vault, validateAddress } from "../../client-wasm/pkg-web/ruv_client.js";
import { loadNetwork, type Network } from "../../web/src/network";
import { grant, onPermissionsChanged, permissionOf } from "./permissions";
import {
  internal,
  invalidParams,
  isProviderError,
  rejected,
  unauthorized,
  unsupported,
  type ProviderErrorData,
} from "./provider-errors";
import {
  EVENTS_PORT,
  TO_PAGE,
  type Approval,
  type ApprovalMessage,
  type DappReply,
  type DappRequestMessage,
  type PageResponse,
  type Permission,
} from "./protocol";

/** The wallet page's folder in the extension (its network.json is the extension's network). */
const WALLET_PAGE = "web/index.html";
const APPROVAL_PAGE = "extension/approval.html";
/** Longest `ruv_waitForFinal` wait a site may ask for (ms). */
const MAX_WAIT_MS = 120_000;
const DEFAULT_WAIT_MS = 60_000;
/** Longest message `ruv_signMessage` signs (UTF-8 bytes). */
const MAX_MESSAGE_BYTES = 4096;
/** Longest FIPS 204 context string. */
const MAX_CONTEXT_BYTES = 255;
/** At most this many approval windows wait at once (a site cannot flood the screen). */
const MAX_PENDING_APPROVALS = 4;

class RequestError extends Error {
  constructor(readonly data: ProviderErrorData) {
    super(data.message);
  }
}
const fail = (data: ProviderErrorData): never => {
  throw new RequestError(data);
};

// ---------------------------------------------------------------- network and wasm

let network: Promise<Network> | null = null;
function getNetwork(): Promise<Network> {
  network ??= loadNetwork(chrome.runtime.getURL(WALLET_PAGE), null).catch((e) => {
    network = null;
    throw e;
  });
  return network;
}

let wasmReady: Promise<unknown> | null = null;
/** The wasm package, started on first use (a service worker may not await at the top level). */
function wasm(): Promise<unknown> {
  wasmReady ??= init();
  return wasmReady;
}

let light: Promise<LightClient> | null = null;
/** One light client for `ruv_waitForFinal`, connected on first use. */
async function lightClient(): Promise<LightClient> {
  await wasm();
  const net = await getNetwork();
  light ??= LightClient.connect(net.relays, { genesis: net.genesisText }).catch((e) => {
    light = null;
    throw e;
  });
  return light;
}

// ---------------------------------------------------------------- approvals

interface PendingApproval {
  approval: Approval;
  windowId: number | null;
  resolve: (result: unknown) => void;
  reject: (error: ProviderErrorData) => void;
}
const approvals = new Map<string, PendingApproval>();

/** Opens an approval window for `approval`; resolves with what the user approved. */
async function ask(approval: Approval): Promise<unknown> {
  if (approvals.size >= MAX_PENDING_APPROVALS) fail(rejected("Too many requests are waiting for the user; try again later."));
  const id = crypto.randomUUID();
  const result = new Promise<unknown>((resolve, reject) => approvals.set(id, { approval, windowId: null, resolve, reject }));
  let created: chrome.windows.Window | undefined;
  try {
    created = await chrome.windows.create({
      url: chrome.runtime.getURL(`${APPROVAL_PAGE}?id=${id}`),
      type: "popup",
      width: 460,
      height: 720,
      focused: true,
    });
  } catch (e) {
    approvals.delete(id);
    fail(internal(`Could not open the approval window: ${e instanceof Error ? e.message : String(e)}`));
  }
  const pending = approvals.get(id);
  if (pending) pending.windowId = created?.id ?? null;
  return result.catch((e: unknown) => fail(isProviderError(e) ? e : internal(String(e))));
}

function settleApproval(id: string, outcome: { result: unknown } | { error: ProviderErrorData }): void {
  const pending = approvals.get(id);
  if (!pending) return;
  approvals.delete(id);
  if ("error" in outcome) pending.reject(outcome.error);
  else pending.resolve(outcome.result);
  if (pending.windowId !== null) chrome.windows.remove(pending.windowId).catch(() => {});
}

// Closing the window is a rejection.
chrome.windows.onRemoved.addListener((windowId) => {
  for (const [id, pending] of approvals) if (pending.windowId === windowId) settleApproval(id, { error: rejected() });
});

// ---------------------------------------------------------------- methods

/** `params` as one object: `{…}` or `[{…}]`. */
function paramObject(params: unknown, method: string): Record<string, unknown> {
  const p = Array.isArray(params) && params.length === 1 ? params[0] : params;
  if (typeof p !== "object" || p === null || Array.isArray(p)) fail(invalidParams(`${method} takes one object as params.`));
  return p as Record<string, unknown>;
}

async function connectedAccount(origin: string): Promise<Permission> {
  return (await permissionOf(origin)) ?? fail(unauthorized());
}

const U64_MAX = (1n << 64n) - 1n;

async function handle(origin: string, method: string, params: unknown): Promise<unknown> {
  switch (method) {
    case "ruv_accounts": {
      const permission = await permissionOf(origin);
      return permission ? [permission.address] : [];
    }
    case "ruv_requestAccounts": {
      const existing = await permissionOf(origin);
      if (existing) return [existing.address];
      const chosen = (await ask({ kind: "connect", origin })) as Permission;
      await grant(origin, { ...chosen, at: Date.now() });
      return [chosen.address];
    }
    case "ruv_network": {
      const net = await getNetwork();
      await wasm();
      const anchor = new TrustAnchor(net.genesisText);
      try {
        return { chainId: anchor.chainId, genesisHash: anchor.genesisHash };
      } finally {
        anchor.free();
      }
    }
    case "ruv_sendTransfer": {
      const account = await connectedAccount(origin);
      const p = paramObject(params, method);
      const { to, amount } = p;
      const memo = p.memo ?? "";
      if (typeof to !== "string") fail(invalidParams("to: the recipient's rUv address (a string)."));
      if (typeof amount !== "string" || !/^[1-9]\d{0,19}$/.test(amount) || BigInt(amount) > U64_MAX) {
        fail(invalidParams("amount: micro-rUv as a decimal string, more than zero (1 rUv = \"1000000\")."));
      }
      if (typeof memo !== "string") fail(invalidParams("memo: a string, if given."));
      await wasm();
      try {
        validateAddress(to as string);
      } catch (e) {
        fail(invalidParams(`to: not a valid rUv address (${e instanceof Error ? e.message : String(e)}).`));
      }
      return ask({ kind: "transfer", origin, account, to: to as string, amount: amount as string, memo: memo as string });
    }
    case "ruv_signMessage": {
      const account = await connectedAccount(origin);
      const { message, context } = paramObject(params, method);
      if (typeof message !== "string") fail(invalidParams("message: the text to sign (a string)."));
      const encoder = new TextEncoder();
      if (typeof context !== "string" || context === "" || encoder.encode(context).length > MAX_CONTEXT_BYTES) {
        fail(invalidParams(`context: the signature's context string (1 to ${MAX_CONTEXT_BYTES} bytes), naming your application.`));
      }
      await wasm();
      // The vault refuses these too; refused here before any window opens.
      if (Vault.isReservedContext(encoder.encode(context as string))) {
        fail(invalidParams('context: contexts starting with "ruv/" are the rUv protocol\'s own and are never signed for a site.'));
      }
      if (new TextEncoder().encode(message as string).length > MAX_MESSAGE_BYTES) {
        fail(invalidParams(`message: at most ${MAX_MESSAGE_BYTES} bytes.`));
      }
      return ask({ kind: "sign-message", origin, account, message: message as string, context: context as string });
    }
    case "ruv_waitForFinal": {
      await connectedAccount(origin);
      const { id, timeoutMs } = paramObject(params, method);
      if (typeof id !== "string" || !/^[0-9a-f]{64}$/.test(id)) fail(invalidParams("id: a transaction id (64 lower-case hex digits)."));
      if (timeoutMs !== undefined && (typeof timeoutMs !== "number" || !(timeoutMs > 0) || timeoutMs > MAX_WAIT_MS)) {
        fail(invalidParams(`timeoutMs: 1 to ${MAX_WAIT_MS}.`));
      }
      const client = await lightClient();
      try {
        const verdict = await client.waitForFinal(id as string, (timeoutMs as number | undefined) ?? DEFAULT_WAIT_MS);
        return { id: verdict.id, status: verdict.status, checkpoint: verdict.checkpoint, ...(verdict.by ? { by: verdict.by } : {}) };
      } catch (e) {
        fail(internal(`no verified verdict on ${id}: ${e instanceof Error ? e.message : String(e)}`));
      }
      return null;
    }
    default:
      return fail(unsupported(method));
  }
}

// ---------------------------------------------------------------- wiring

/** The origin of a page's request: the browser's word for it, https or http only. */
function senderOrigin(sender: chrome.runtime.MessageSender): string | null {
  if (sender.id !== chrome.runtime.id || !sender.tab) return null;
  const origin = sender.origin ?? (sender.url ? new URL(sender.url).origin : null);
  return origin && /^https?:\/\//.test(origin) ? origin : null;
}

function isExtensionPage(sender: chrome.runtime.MessageSender): boolean {
  return sender.id === chrome.runtime.id && typeof sender.url === "string" && sender.url.startsWith(chrome.runtime.getURL(""));
}

chrome.runtime.onMessage.addListener((message: DappRequestMessage | ApprovalMessage, sender, sendResponse) => {
  if (message?.type === "dapp-request") {
    const origin = senderOrigin(sender);
    if (!origin) return false;
    handle(origin, String(message.method), message.params).then(
      (result) => sendResponse({ result } satisfies DappReply),
      (e: unknown) =>
        sendResponse({ error: e instanceof RequestError ? e.data : internal(e instanceof Error ? e.message : String(e)) } satisfies DappReply),
    );
    return true;
  }
  if (!isExtensionPage(sender)) return false;
  switch (message?.type) {
    case "approval-get":
      sendResponse(approvals.get(message.id)?.approval ?? null);
      return false;
    case "approval-done":
      settleApproval(message.id, { result: message.result });
      return false;
    case "approval-reject":
      settleApproval(message.id, { error: message.error && isProviderError(message.error) ? message.error : rejected() });
      return false;
  }
  return false;
});

/** Open event ports, by the origin of their page. */
const ports = new Map<chrome.runtime.Port, string>();
chrome.runtime.onConnect.addListener((port) => {
  if (port.name !== EVENTS_PORT) return;
  const origin = port.sender ? senderOrigin(port.sender) : null;
  if (!origin) {
    port.disconnect();
    return;
  }
  ports.set(port, origin);
  port.onDisconnect.addListener(() => ports.delete(port));
});

// A grant or a revocation (settings) tells the site's open pages at once.
onPermissionsChanged((changed) => {
  for (const [port, origin] of ports) {
    if (!changed.has(origin)) continue;
    const permission = changed.get(origin);
    const event: PageResponse = { tag: TO_PAGE, event: "accountsChanged", data: permission ? [permission.address] : [] };
    port.postMessage(event);
  }
});
