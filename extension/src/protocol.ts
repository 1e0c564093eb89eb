// The messages between the extension's parts: the page's provider (inpage,
// MAIN world) <-> the content script (window.postMessage), the content
// script <-> the background (chrome.runtime), the approval window <-> the
// background. The origin of a dapp request is always taken from the
// browser (`sender.origin`), never from a message.
import type { ProviderErrorData } from "./provider-errors";

/** Tags of window messages between the page's provider and the content script. */
export const TO_CONTENT = "ruv-provider-request";
export const TO_PAGE = "ruv-provider-response";

/** Methods of window.ruv. */
export const METHODS = [
  "ruv_requestAccounts",
  "ruv_accounts",
  "ruv_network",
  "ruv_sendTransfer",
  "ruv_signMessage",
  "ruv_waitForFinal",
] as const;
export type Method = (typeof METHODS)[number];

/** Events window.ruv emits. */
export type ProviderEvent = "accountsChanged" | "networkChanged" | "disconnect";

/** Longest JSON of a request's params the provider forwards (bytes). */
export const MAX_PARAMS_JSON = 16 * 1024;

export interface PageRequest {
  tag: typeof TO_CONTENT;
  id: number;
  method: string;
  params?: unknown;
}

export type PageResponse =
  | { tag: typeof TO_PAGE; id: number; result: unknown }
  | { tag: typeof TO_PAGE; id: number; error: ProviderErrorData }
  | { tag: typeof TO_PAGE; event: ProviderEvent; data: unknown };

/** content script -> background */
export interface DappRequestMessage {
  type: "dapp-request";
  method: string;
  params?: unknown;
}

export type DappReply = { result: unknown } | { error: ProviderErrorData };

/** What an approval window is asked. */
export type Approval =
  | { kind: "connect"; origin: string }
  | { kind: "transfer"; origin: string; account: Permission; to: string; amount: string; memo: string }
  | { kind: "sign-message"; origin: string; account: Permission; message: string; context: string };

/** A site's permission: the one account it may see and ask to use. */
export interface Permission {
  address: string;
  index: number;
  label: string;
  /** When it was granted (ms since the epoch). */
  at: number;
}

/** approval window -> background */
export type ApprovalMessage =
  | { type: "approval-get"; id: string }
  | { type: "approval-done"; id: string; result: unknown }
  | { type: "approval-reject"; id: string; error?: ProviderErrorData };

/** The port the content script keeps open for events. */
export const EVENTS_PORT = "ruv-provider-events";
