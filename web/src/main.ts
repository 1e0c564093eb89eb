// The rUv wallet page: a key in wasm memory, a live connection to a relay
// (a RelayPool: it reconnects, fails over between relays given with
// `?relay=a,b`, and keeps subscriptions alive), the devnet faucet, sending,
// and live status of every transaction.
import {
  Keypair,
  RelayPool,
  minimumFee,
  transferSize,
  validateAddress,
  type AccountInfo,
  type NetworkStatus,
  type PoolStatus,
  type RuvError,
  type TxStatus,
} from "ruv-client";
import { formatRuv, microFromApi, parseRuv } from "./amount";
import { httpOrigin, relayUrls } from "./relay-url";

const MAX_MEMO_BYTES = 128;

function $<T extends HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`missing #${id}`);
  return el as T;
}

const ui = {
  connection: $("connection"),
  relayUrl: $("relay-url"),
  chainId: $("chain-id"),
  noKey: $("no-key"),
  hasKey: $("has-key"),
  createKey: $<HTMLButtonElement>("create-key"),
  address: $<HTMLInputElement>("address"),
  copy: $<HTMLButtonElement>("copy-address"),
  copyStatus: $("copy-status"),
  balance: $("balance"),
  faucet: $<HTMLButtonElement>("faucet"),
  faucetStatus: $("faucet-status"),
  sendSection: $("send-section"),
  form: $<HTMLFormElement>("send-form"),
  to: $<HTMLInputElement>("send-to"),
  toError: $("send-to-error"),
  amount: $<HTMLInputElement>("send-amount"),
  amountError: $("send-amount-error"),
  memo: $<HTMLInputElement>("send-memo"),
  memoError: $("send-memo-error"),
  fee: $("fee"),
  send: $<HTMLButtonElement>("send"),
  sendStatus: $("send-status"),
  activitySection: $("activity-section"),
  activity: $("activity"),
};

type Kind = "sent" | "faucet";

/** One transaction this page follows. */
interface Tracked {
  id: string;
  kind: Kind;
  amount: bigint;
  counterpart: string;
  nonce: bigint | null;
  status: TxStatus["status"];
  reason?: TxStatus["reason"];
  /** The submission's fate is unknown (the connection failed mid-way): ask again after reconnecting. */
  uncertain: boolean;
  /** The pool's subscription to its status, while there is one. */
  subscription?: number;
  el: HTMLLIElement;
}

const state = {
  urls: relayUrls(location),
  pool: null as RelayPool | null,
  /** A relay connection is open and its network status checked. */
  online: false,
  network: null as NetworkStatus | null,
  key: null as Keypair | null,
  account: null as AccountInfo | null,
  /** The pool follows this key's account (once: pool subscriptions outlive connections). */
  followingAccount: false,
  tracked: new Map<string, Tracked>(),
  /** The payment whose nonce is in use and not final yet (one at a time keeps nonces gap-free). */
  inFlight: null as Tracked | null,
  /** Nonce of this key's last accepted payment: account events may lag behind the transaction event. */
  lastAcceptedNonce: 0n,
};

const textEncoder = new TextEncoder();

function errorText(e: unknown): string {
  if (e instanceof Error) {
    const code = (e as Partial<RuvError>).code;
    return code ? `${e.message} (${code})` : e.message;
  }
  return String(e);
}

// ---------------------------------------------------------------- connection

function setConnection(s: "connecting" | "open" | "closed", text: string): void {
  ui.connection.dataset.state = s;
  ui.connection.textContent = text;
  updateControls();
}

/** Jittered capped exponential: wallets that lose their relays together do not return together. */
function reconnectDelay(attempt: number): number {
  const cap = Math.min(15_000, 500 * 2 ** Math.min(attempt, 10));
  return cap / 2 + Math.random() * (cap / 2);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Connects the pool; until some relay answers, tries again with backoff. */
async function start(): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    setConnection("connecting", "Connecting to the relay…");
    try {
      const pool = await RelayPool.connect(state.urls);
      state.pool = pool;
      // From here on the pool reconnects by itself and reports each change.
      pool.onStatus((s) => void onStatus(s));
      await onConnected();
      return;
    } catch (e) {
      if ((e as RuvError).code === "invalid_params") {
        setConnection("closed", `Cannot use this relay address: ${errorText(e)}`);
        return;
      }
      const delay = reconnectDelay(attempt);
      setConnection("closed", `No relay reachable (${errorText(e)}). Retrying in ${Math.ceil(delay / 1000)} s…`);
      await sleep(delay);
    }
  }
}

async function onStatus(s: PoolStatus): Promise<void> {
  if (s.connected) {
    await onConnected();
  } else {
    state.online = false;
    setConnection("closed", `Lost the relay (${s.error ? errorText(s.error) : "closed"}). Reconnecting…`);
  }
}

/** A relay connection is up: check which network it serves, then carry on. */
async function onConnected(): Promise<void> {
  const pool = state.pool;
  if (!pool) return;
  let network: NetworkStatus;
  try {
    network = await pool.networkStatus();
  } catch {
    return; // The pool reports the loss and reconnects.
  }
  if (state.network && network.chain_id !== state.network.chain_id) {
    // Keys, nonces and balances belong to one network: never mix two.
    setConnection("closed", `Relay ${network.relay} serves ${network.chain_id}, not ${state.network.chain_id}; trying another…`);
    pool.reconnect();
    return;
  }
  state.network = network;
  state.online = true;
  ui.chainId.textContent = network.chain_id;
  setConnection("open", `Connected to ${network.relay} (${network.chain_id})`);
  ui.faucet.hidden = !network.faucet;
  updateFee();
  // Subscriptions resume by themselves; a submission cut off mid-way is looked up.
  if (state.key && !state.followingAccount) void followAccount();
  for (const t of state.tracked.values()) {
    if (t.subscription === undefined) void followTransaction(t);
    if (t.uncertain) void recheck(t);
  }
}

// ---------------------------------------------------------------- account

async function followAccount(): Promise<void> {
  const pool = state.pool;
  const key = state.key;
  if (!pool || !key || state.followingAccount) return;
  state.followingAccount = true;
  try {
    // A pool subscription: it survives reconnections (the relay sends the current state first).
    await pool.subscribeAccount(key.address, (event) => {
      state.account = { address: event.address, balance: event.balance, nonce: event.nonce };
      renderBalance();
    });
  } catch (e) {
    state.followingAccount = false;
    ui.balance.textContent = `unavailable: ${errorText(e)}`;
  }
}

function renderBalance(): void {
  if (!state.account) return;
  const micro = microFromApi(state.account.balance);
  ui.balance.textContent = `${formatRuv(micro)} rUv`;
  ui.balance.dataset.micro = micro.toString();
  updateControls();
}

function createKey(): void {
  state.key = Keypair.generate();
  ui.address.value = state.key.address;
  ui.noKey.hidden = true;
  ui.hasKey.hidden = false;
  ui.sendSection.hidden = false;
  void followAccount();
  updateControls();
  ui.address.focus();
  ui.address.select();
}

async function copyAddress(): Promise<void> {
  const address = ui.address.value;
  try {
    await navigator.clipboard.writeText(address);
    ui.copyStatus.textContent = "Address copied.";
  } catch {
    // No clipboard permission: leave it selected so Ctrl+C works.
    ui.address.focus();
    ui.address.select();
    ui.copyStatus.textContent = "Press Ctrl+C (or ⌘C) to copy the selected address.";
  }
}

// ---------------------------------------------------------------- faucet

function isTxStatus(v: unknown): v is TxStatus {
  if (typeof v !== "object" || v === null) return false;
  const o = v as Record<string, unknown>;
  return (
    typeof o.id === "string" &&
    /^[0-9a-f]{64}$/.test(o.id) &&
    (o.status === "pending" || o.status === "accepted" || o.status === "rejected")
  );
}

async function askFaucet(): Promise<void> {
  const key = state.key;
  if (!key) return;
  ui.faucet.disabled = true;
  ui.faucetStatus.textContent = "Asking the faucet…";
  try {
    // The faucet of the relay in use (the button only shows when that relay runs one).
    const relay = state.pool?.url ?? state.urls[0];
    const response = await fetch(`${httpOrigin(relay)}/api/v1/faucet`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ address: key.address }),
    });
    const body: unknown = await response.json().catch(() => null);
    if (!response.ok) {
      const error = (body as { error?: { message?: unknown } } | null)?.error;
      const message = typeof error?.message === "string" ? error.message : `HTTP ${response.status}`;
      ui.faucetStatus.textContent = `The faucet said no: ${message}`;
      return;
    }
    if (!isTxStatus(body)) {
      ui.faucetStatus.textContent = "The faucet's answer was not a transaction status.";
      return;
    }
    ui.faucetStatus.textContent = "The faucet sent a payment; its status is below.";
    const t = track({ id: body.id, kind: "faucet", amount: 1_000_000_000n, counterpart: "faucet", nonce: null });
    applyStatus(t, body);
  } catch (e) {
    ui.faucetStatus.textContent = `Could not reach the faucet: ${errorText(e)}`;
  } finally {
    updateControls();
  }
}

// ---------------------------------------------------------------- activity

function track(init: Omit<Tracked, "status" | "el" | "reason" | "uncertain" | "subscription">): Tracked {
  const existing = state.tracked.get(init.id);
  if (existing) return existing;
  const el = document.createElement("li");
  el.dataset.testid = "tx";
  el.dataset.txId = init.id;
  el.dataset.kind = init.kind;
  const t: Tracked = { ...init, status: "pending", uncertain: false, el };
  state.tracked.set(t.id, t);
  ui.activitySection.hidden = false;
  ui.activity.prepend(el);
  renderTracked(t);
  void followTransaction(t);
  return t;
}

function renderTracked(t: Tracked): void {
  const what = document.createElement("span");
  what.className = "what";
  what.textContent =
    t.kind === "faucet" ? `Faucet payment of ${formatRuv(t.amount)} rUv` : `Sent ${formatRuv(t.amount)} rUv`;

  const status = document.createElement("span");
  status.className = "status";
  status.dataset.testid = "tx-status";
  status.dataset.status = t.status;
  status.textContent = { pending: "Pending…", accepted: "Accepted", rejected: "Rejected" }[t.status];

  const detail = document.createElement("span");
  detail.className = "detail";
  if (t.status === "rejected" && t.reason) {
    detail.dataset.testid = "tx-reason";
    detail.textContent = `Reason: ${t.reason.message} (${t.reason.code})`;
  } else if (t.kind === "sent") {
    detail.textContent = `To ${t.counterpart}`;
  }

  const id = document.createElement("code");
  id.className = "txid";
  id.textContent = `id ${t.id}`;

  t.el.dataset.status = t.status;
  t.el.replaceChildren(what, status, detail, id);
}

function applyStatus(t: Tracked, s: TxStatus): void {
  // Final is final: a late "pending" (say, from another relay) never undoes it.
  if (t.status !== "pending" || s.id !== t.id) return;
  t.status = s.status;
  t.reason = s.reason;
  t.uncertain = false;
  renderTracked(t);
  if (s.status !== "pending" && t.subscription !== undefined) {
    // Usually the relay already ended it with the final event; then this is a no-op.
    state.pool?.unsubscribe(t.subscription).catch(() => {});
    t.subscription = undefined;
  }
  if (s.status !== "pending" && state.inFlight === t) {
    state.inFlight = null;
    if (s.status === "accepted" && t.nonce !== null) state.lastAcceptedNonce = t.nonce;
    ui.sendStatus.textContent =
      s.status === "accepted"
        ? `Payment of ${formatRuv(t.amount)} rUv accepted.`
        : `Payment rejected: ${s.reason?.message ?? "no reason given"}.`;
    updateControls();
  }
}

async function followTransaction(t: Tracked): Promise<void> {
  const pool = state.pool;
  if (!pool || t.status !== "pending") return;
  try {
    // Subscribed before submitting, so no status change can slip by; the
    // relay sends the current status first if it knows the transaction.
    const subscription = await pool.subscribeTransaction(t.id, (event) => applyStatus(t, event));
    if (t.status === "pending") t.subscription = subscription;
  } catch (e) {
    console.warn(`following ${t.id}:`, e);
  }
}

/** After a submission was cut off: did the relay get it? */
async function recheck(t: Tracked): Promise<void> {
  const pool = state.pool;
  if (!pool || !t.uncertain || t.status !== "pending") return;
  try {
    applyStatus(t, await pool.getTransaction(t.id));
  } catch (e) {
    if ((e as RuvError).code === "not_found") {
      applyStatus(t, {
        id: t.id,
        status: "rejected",
        reason: { code: "not_delivered", message: "the relay never received this payment; you can send it again" },
      });
    }
  }
}

// ---------------------------------------------------------------- sending

function fieldError(input: HTMLInputElement, out: HTMLElement, message: string): void {
  out.textContent = message;
  input.setAttribute("aria-invalid", message ? "true" : "false");
}

function updateFee(): void {
  if (!state.network) return;
  const memo = ui.memo.value;
  if (textEncoder.encode(memo).length > MAX_MEMO_BYTES) return;
  ui.fee.textContent = formatRuv(BigInt(minimumFee(state.network, memo)));
}

function updateControls(): void {
  const online = state.online && state.network !== null;
  ui.faucet.disabled = !online || !state.key;
  const ready = online && state.account !== null;
  ui.send.disabled = !ready || state.inFlight !== null;
  if (state.inFlight) ui.send.title = "Waiting for your previous payment to be final";
  else ui.send.removeAttribute("title");
}

async function onSend(event: SubmitEvent): Promise<void> {
  event.preventDefault();
  const { pool, network, key, account } = state;
  if (!pool || !state.online || !network || !key || !account || state.inFlight) return;

  const to = ui.to.value.trim();
  const memo = ui.memo.value;
  let firstInvalid: HTMLInputElement | null = null;

  try {
    validateAddress(to);
    fieldError(ui.to, ui.toError, "");
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    fieldError(ui.to, ui.toError, to === "" ? "Enter the recipient's address." : `That is not a valid rUv address: ${why}.`);
    firstInvalid ??= ui.to;
  }

  const amount = parseRuv(ui.amount.value);
  fieldError(ui.amount, ui.amountError, amount.ok ? "" : amount.error);
  if (!amount.ok) firstInvalid ??= ui.amount;

  const memoBytes = textEncoder.encode(memo).length;
  fieldError(ui.memo, ui.memoError, memoBytes > MAX_MEMO_BYTES ? `The memo is ${memoBytes} bytes; at most ${MAX_MEMO_BYTES}.` : "");
  if (memoBytes > MAX_MEMO_BYTES) firstInvalid ??= ui.memo;

  if (firstInvalid || !amount.ok) {
    ui.sendStatus.textContent = "Please fix the fields marked above.";
    firstInvalid?.focus();
    return;
  }

  const fee = BigInt(minimumFee(network, memo));
  const balance = microFromApi(account.balance);
  if (amount.micro + fee > balance) {
    fieldError(
      ui.amount,
      ui.amountError,
      `Not enough rUv: this needs ${formatRuv(amount.micro + fee)} rUv including the ${formatRuv(fee)} rUv fee, and you have ${formatRuv(balance)} rUv.`,
    );
    ui.sendStatus.textContent = "Please fix the fields marked above.";
    ui.amount.focus();
    return;
  }

  const accountNonce = microFromApi(account.nonce);
  const nonce = (accountNonce > state.lastAcceptedNonce ? accountNonce : state.lastAcceptedNonce) + 1n;
  let tx;
  try {
    tx = key.signTransfer({
      chainId: network.chain_id,
      to,
      amount: amount.micro.toString(),
      fee: fee.toString(),
      nonce: nonce.toString(),
      memo,
    });
  } catch (e) {
    ui.sendStatus.textContent = `Could not sign: ${errorText(e)}`;
    return;
  }
  // The fee was computed for this exact size; a mismatch would mean a fee the relay refuses.
  if (tx.toBytes().length !== transferSize(network.chain_id, memo)) {
    ui.sendStatus.textContent = "Internal error: the signed size does not match the fee computation.";
    return;
  }

  const t = track({ id: tx.id, kind: "sent", amount: amount.micro, counterpart: to, nonce });
  state.inFlight = t;
  updateControls();
  ui.sendStatus.textContent = `Sending ${formatRuv(amount.micro)} rUv…`;
  try {
    // The pool retries once on the next connection if this one is lost mid-way.
    const status = await pool.submit(tx);
    ui.form.reset();
    updateFee();
    if (status.status === "pending") ui.sendStatus.textContent = "Sent. Waiting for the network to accept it…";
    applyStatus(t, status);
  } catch (e) {
    const err = e as RuvError;
    if (err.code === "connection" || err.code === "timeout") {
      // It may or may not have arrived: ask again once reconnected.
      t.uncertain = true;
      if (state.online) void recheck(t);
      ui.sendStatus.textContent = "The connection failed while sending; checking the payment's fate when it is back…";
    } else if (err.code === "duplicate_transaction") {
      ui.sendStatus.textContent = "The relay already has this payment; following its status.";
    } else {
      applyStatus(t, {
        id: t.id,
        status: "rejected",
        reason: { code: err.code ?? "error", message: err.message ?? String(e) },
      });
    }
  } finally {
    tx.free();
  }
}

// ---------------------------------------------------------------- wiring

ui.relayUrl.textContent = state.urls.join(", ");
ui.createKey.addEventListener("click", createKey);
ui.copy.addEventListener("click", () => void copyAddress());
ui.faucet.addEventListener("click", () => void askFaucet());
ui.form.addEventListener("submit", (e) => void onSend(e));
ui.memo.addEventListener("input", updateFee);
ui.to.addEventListener("input", () => fieldError(ui.to, ui.toError, ""));
ui.amount.addEventListener("input", () => fieldError(ui.amount, ui.amountError, ""));
updateControls();
void start();
