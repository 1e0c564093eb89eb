// The content script (the extension's isolated world on every page): carries
// window.ruv's requests from the page to the background and the answers and
// events back. It adds nothing of its own; the background takes the page's
// origin from the browser, not from anything the page says.
import { disconnected } from "./provider-errors";
import { EVENTS_PORT, TO_CONTENT, TO_PAGE, type DappReply, type DappRequestMessage, type PageRequest, type PageResponse } from "./protocol";

function toPage(message: PageResponse): void {
  window.postMessage(message, location.origin);
}

/** The extension is gone (reloaded, updated or removed): this script is orphaned. */
function extensionGone(): boolean {
  return !chrome.runtime?.id;
}

let announcedDisconnect = false;
function announceDisconnect(): void {
  if (announcedDisconnect) return;
  announcedDisconnect = true;
  toPage({ tag: TO_PAGE, event: "disconnect", data: disconnected() });
}

window.addEventListener("message", (event: MessageEvent) => {
  if (event.source !== window || event.origin !== location.origin) return;
  const data = event.data as PageRequest | null;
  if (!data || data.tag !== TO_CONTENT || typeof data.id !== "number" || typeof data.method !== "string") return;
  if (extensionGone()) {
    announceDisconnect();
    toPage({ tag: TO_PAGE, id: data.id, error: disconnected() });
    return;
  }
  const message: DappRequestMessage = { type: "dapp-request", method: data.method, params: data.params };
  chrome.runtime.sendMessage(message).then(
    (reply: DappReply | undefined) => {
      if (!reply) toPage({ tag: TO_PAGE, id: data.id, error: disconnected() });
      else if ("error" in reply) toPage({ tag: TO_PAGE, id: data.id, error: reply.error });
      else toPage({ tag: TO_PAGE, id: data.id, result: reply.result });
    },
    () => {
      if (extensionGone()) announceDisconnect();
      toPage({ tag: TO_PAGE, id: data.id, error: disconnected() });
    },
  );
});

/** Events from the background (accountsChanged, networkChanged); reconnects when the service worker restarts. */
function listen(): void {
  if (extensionGone()) return;
  const port = chrome.runtime.connect({ name: EVENTS_PORT });
  port.onMessage.addListener((message: PageResponse) => {
    if (message && message.tag === TO_PAGE && "event" in message) toPage(message);
  });
  port.onDisconnect.addListener(() => {
    if (extensionGone()) announceDisconnect();
    else setTimeout(listen, 1000);
  });
}
listen();
