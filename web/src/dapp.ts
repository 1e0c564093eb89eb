// The demo dapp: a page that uses window.ruv (the rUv wallet extension's
// provider) to connect, learn the network, ask for a payment, follow it to a
// verified verdict, and ask for a signed message. Every error is shown with
// its EIP-1193 code.
import { parseRuv } from "./amount";

interface RuvProvider {
  isRuv: true;
  request(args: { method: string; params?: unknown }): Promise<unknown>;
  on(event: string, listener: (data: unknown) => void): void;
}

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const ui = {
  provider: $("provider"),
  connect: $<HTMLButtonElement>("connect"),
  network: $<HTMLButtonElement>("network"),
  account: $("account"),
  networkInfo: $("network-info"),
  payForm: $<HTMLFormElement>("pay-form"),
  payTo: $<HTMLInputElement>("pay-to"),
  payAmount: $<HTMLInputElement>("pay-amount"),
  payMemo: $<HTMLInputElement>("pay-memo"),
  payment: $("payment"),
  paymentStatus: $("payment-status"),
  signForm: $<HTMLFormElement>("sign-form"),
  signMessage: $<HTMLInputElement>("sign-message"),
  signContext: $<HTMLInputElement>("sign-context"),
  signature: $("signature"),
  error: $("error"),
  log: $<HTMLOListElement>("log"),
};

function log(text: string): void {
  const li = document.createElement("li");
  li.textContent = text;
  ui.log.prepend(li);
}

function provider(): RuvProvider | null {
  const ruv = (window as unknown as { ruv?: RuvProvider }).ruv;
  return ruv?.isRuv ? ruv : null;
}

/** Runs a request; shows an error as "code: message". */
async function call<T>(method: string, params?: unknown): Promise<T | null> {
  const ruv = provider();
  ui.error.textContent = "";
  if (!ruv) {
    ui.error.textContent = "The rUv wallet extension is not installed in this browser.";
    return null;
  }
  try {
    const result = (await ruv.request({ method, ...(params === undefined ? {} : { params }) })) as T;
    log(`${method}: ok`);
    return result;
  } catch (e) {
    const { code, message } = e as { code?: number; message?: string };
    ui.error.dataset.code = String(code ?? "");
    ui.error.textContent = `${code ?? "?"}: ${message ?? String(e)}`;
    log(`${method}: error ${code}`);
    return null;
  }
}

function showAccounts(accounts: unknown): void {
  const list = Array.isArray(accounts) ? accounts.filter((a): a is string => typeof a === "string") : [];
  ui.account.textContent = list[0] ?? "not connected";
}

let started = false;
async function start(): Promise<void> {
  if (started) return;
  started = true;
  const ruv = provider();
  if (!ruv) {
    ui.provider.dataset.state = "closed";
    ui.provider.textContent = "No rUv wallet extension in this browser.";
    return;
  }
  ui.provider.dataset.state = "open";
  ui.provider.textContent = "The rUv wallet extension is here.";
  ruv.on("accountsChanged", (accounts) => {
    log(`accountsChanged: ${JSON.stringify(accounts)}`);
    showAccounts(accounts);
  });
  ruv.on("networkChanged", (network) => log(`networkChanged: ${JSON.stringify(network)}`));
  ruv.on("disconnect", (error) => log(`disconnect: ${JSON.stringify(error)}`));
  // Already connected (a permission from an earlier visit)? No window opens for this.
  showAccounts(await call<string[]>("ruv_accounts"));
}

ui.connect.addEventListener("click", () => {
  void call<string[]>("ruv_requestAccounts").then((accounts) => accounts && showAccounts(accounts));
});

ui.network.addEventListener("click", () => {
  void call<{ chainId: string; genesisHash: string }>("ruv_network").then((n) => {
    if (n) ui.networkInfo.textContent = `${n.chainId} · genesis ${n.genesisHash}`;
  });
});

ui.payForm.addEventListener("submit", (event) => {
  event.preventDefault();
  const amount = parseRuv(ui.payAmount.value);
  if (!amount.ok) {
    ui.error.textContent = amount.error;
    return;
  }
  void (async () => {
    const id = await call<string>("ruv_sendTransfer", [{ to: ui.payTo.value.trim(), amount: amount.micro.toString(), memo: ui.payMemo.value }]);
    if (!id) return;
    ui.payment.textContent = id;
    ui.paymentStatus.textContent = "waiting for a verified verdict…";
    const verdict = await call<{ status: string; checkpoint: string }>("ruv_waitForFinal", [{ id }]);
    if (verdict) {
      ui.paymentStatus.dataset.status = verdict.status;
      ui.paymentStatus.textContent = `${verdict.status} (proven in checkpoint ${verdict.checkpoint})`;
    }
  })();
});

ui.signForm.addEventListener("submit", (event) => {
  event.preventDefault();
  void call<{ signature: string }>("ruv_signMessage", [{ message: ui.signMessage.value, context: ui.signContext.value }]).then((r) => {
    if (r) ui.signature.textContent = r.signature;
  });
});

// The provider is injected at document_start; wait for it briefly if it is late.
if (provider()) void start();
else {
  addEventListener("ruv#initialized", () => void start(), { once: true });
  setTimeout(() => {
    if (!provider()) void start();
  }, 1000);
}
