// The unlocked wallet: the vault's accounts, a live connection to a relay (a
// RelayPool: it reconnects, fails over between relays given with
// `?relay=a,b`, and keeps subscriptions alive), the devnet faucet, sending,
// and live status of every transaction. Keys stay in the vault: this module
// only ever sees addresses, and asks the vault (through `Signer`) to sign.
import {
  RelayPool,
  minimumFee,
  transferSize,
  validateAddress,
  type AccountInfo,
  type NetworkStatus,
  type PoolStatus,
  type RuvError,
  type SignedTransaction,
  type TransferParams,
  type TxStatus,
  type VaultAccount,
} from "ruv-client";
import { formatRuv, microFromApi, parseRuv } from "./amount";
import { httpOrigin, relayUrls } from "./relay-url";
import { $, codeOf, errorText, fieldError } from "./ui";

const MAX_MEMO_BYTES = 128;

/** What the wallet needs from the vault. */
export interface Signer {
  /** Signs with account `index`; throws (`vault_locked`, …) like `Vault.signTransfer`. */
  sign(index: number, params: TransferParams): SignedTransaction;
  /** Signing failed because the vault is locked (auto-lock ran out): show the unlock form. */
  locked(): void;
}

const ui = {
  connection: $("connection"),
  relayUrl: $("relay-url"),
  chainId: $("chain-id"),
  accountSelect: $<HTMLSelectElement>("account-select"),
  address: $<HTMLInputElement>("address"),
  copy: $<HTMLButtonElement>("copy-address"),
  copyStatus: $("copy-status"),
  balance: $("balance"),
  faucet: $<HTMLButtonElement>("faucet"),
  faucetStatus: $("faucet-status"),
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
  activityHolder: $("activity-holder"),
};

type Kind = "sent" | "faucet";

/** One account of the vault as this page shows it. */
interface AccountView {
  index: number;
  label: string;
  address: string;
  /** The relay's latest word on it (null until the subscription's first event). */
  info: AccountInfo | null;
  tracked: Map<string, Tracked>;
  /** The payment whose nonce is in use and not final yet (one at a time keeps nonces gap-free). */
  inFlight: Tracked | null;
  /** Nonce of this account's last accepted payment: account events may lag behind the transaction event. */
  lastAcceptedNonce: bigint;
  /** This account's activity list. */
  list: HTMLOListElement;
}

/** One transaction this page follows. */
interface Tracked {
  id: string;
  kind: Kind;
  account: AccountView;
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

/** The pool's subscription to the shown account (one at a time: relays allow 64 per connection). */
interface AccountSubscription {
  view: AccountView;
  id: number | null;
}

const state = {
  urls: relayUrls(location),
  pool: null as RelayPool | null,
  /** A relay connection is open and its network status checked. */
  online: false,
  network: null as NetworkStatus | null,
  signer: null as Signer | null,
  /** The vault's accounts, by address. */
  views: new Map<string, AccountView>(),
  /** The account on screen (null while locked). */
  current: null as AccountView | null,
  following: null as AccountSubscription | null,
};

const textEncoder = new TextEncoder();

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
export async function startRelay(signer: Signer): Promise<void> {
  state.signer = signer;
  ui.relayUrl.textContent = state.urls.join(", ");
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
      if (codeOf(e) === "invalid_params") {
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
  void followCurrent();
  for (const view of state.views.values()) {
    for (const t of view.tracked.values()) {
      if (t.subscription === undefined) void followTransaction(t);
      if (t.uncertain) void recheck(t);
    }
  }
}

// ---------------------------------------------------------------- accounts

function shortAddress(address: string): string {
  return `${address.slice(0, 10)}…${address.slice(-6)}`;
}

function newView(a: VaultAccount): AccountView {
  const list = document.createElement("ol");
  list.className = "activity";
  list.dataset.testid = "activity";
  list.setAttribute("aria-live", "polite");
  list.setAttribute("aria-relevant", "additions text");
  list.setAttribute("aria-labelledby", "activity-heading");
  return {
    index: a.index,
    label: a.label,
    address: a.address,
    info: null,
    tracked: new Map(),
    inFlight: null,
    lastAcceptedNonce: 0n,
    list,
  };
}

/** Stops following a view's pending transactions (its account left the vault). */
function dropView(view: AccountView): void {
  for (const t of view.tracked.values()) {
    if (t.subscription !== undefined) state.pool?.unsubscribe(t.subscription).catch(() => {});
    t.subscription = undefined;
  }
  state.views.delete(view.address);
}

/**
 * Shows the vault's accounts (after unlocking, adding, renaming, or a change
 * made in another tab) and selects `select` (an index), else the account on
 * screen before, else the first one. Accounts no longer in the vault (another
 * wallet was restored or imported) are forgotten, with their activity.
 */
export function showAccounts(accounts: VaultAccount[], select?: number): void {
  const keep = new Set(accounts.map((a) => a.address));
  for (const view of [...state.views.values()]) if (!keep.has(view.address)) dropView(view);
  for (const a of accounts) {
    const view = state.views.get(a.address);
    if (view) view.label = a.label;
    else state.views.set(a.address, newView(a));
  }
  ui.accountSelect.replaceChildren(
    ...accounts.map((a) => {
      const option = document.createElement("option");
      option.value = String(a.index);
      option.textContent = `${a.label} · ${shortAddress(a.address)}`;
      return option;
    }),
  );
  const previous = state.current?.address;
  const chosen =
    accounts.find((a) => a.index === select) ?? accounts.find((a) => a.address === previous) ?? accounts[0];
  if (chosen) selectAccount(chosen.index);
}

/** Puts account `index` on screen and follows its balance. */
export function selectAccount(index: number): void {
  const view = [...state.views.values()].find((v) => v.index === index);
  if (!view) return;
  ui.accountSelect.value = String(index);
  if (state.current === view) return;
  state.current = view;
  ui.address.value = view.address;
  ui.copyStatus.textContent = "";
  ui.faucetStatus.textContent = "";
  ui.sendStatus.textContent = view.inFlight ? "Waiting for your previous payment from this account to be final…" : "";
  for (const [input, out] of [
    [ui.to, ui.toError],
    [ui.amount, ui.amountError],
    [ui.memo, ui.memoError],
  ] as const) {
    fieldError(input, out, "");
  }
  ui.activityHolder.replaceChildren(view.list);
  ui.activitySection.hidden = view.tracked.size === 0;
  renderBalance();
  void followCurrent();
}

/** The account on screen. */
export function currentAccount(): { index: number; label: string; address: string } | null {
  const v = state.current;
  return v ? { index: v.index, label: v.label, address: v.address } : null;
}

/**
 * The vault locked: take the account off screen and stop following its
 * balance. Payments already sent keep being followed; their status shows
 * after the next unlock.
 */
export function hideAccounts(): void {
  unfollow();
  state.current = null;
  ui.address.value = "";
  ui.form.reset();
  ui.sendStatus.textContent = "";
  ui.faucetStatus.textContent = "";
  ui.copyStatus.textContent = "";
  ui.activityHolder.replaceChildren();
  ui.accountSelect.replaceChildren();
}

/** The wallet was deleted or replaced: forget every account and its activity. */
export function forgetAccounts(): void {
  hideAccounts();
  for (const view of [...state.views.values()]) dropView(view);
}

function unfollow(): void {
  const sub = state.following;
  state.following = null;
  if (!sub) return;
  // The next subscription's first event brings the current balance and nonce.
  sub.view.info = null;
  if (sub.id !== null) state.pool?.unsubscribe(sub.id).catch(() => {});
}

async function followCurrent(): Promise<void> {
  const pool = state.pool;
  const view = state.current;
  if (!pool || !state.online || !view) return;
  if (state.following?.view === view) return; // Pool subscriptions outlive connections.
  unfollow();
  const sub: AccountSubscription = { view, id: null };
  state.following = sub;
  try {
    // The relay sends the current state first, then every change.
    const id = await pool.subscribeAccount(view.address, (event) => {
      if (state.following !== sub || event.address !== view.address) return;
      view.info = { address: event.address, balance: event.balance, nonce: event.nonce };
      if (state.current === view) renderBalance();
    });
    if (state.following === sub) sub.id = id;
    else pool.unsubscribe(id).catch(() => {});
  } catch (e) {
    if (state.following !== sub) return;
    state.following = null;
    if (state.current === view) ui.balance.textContent = `unavailable: ${errorText(e)}`;
  }
}

function renderBalance(): void {
  const info = state.current?.info;
  if (!info) {
    ui.balance.textContent = "…";
    delete ui.balance.dataset.micro;
  } else {
    const micro = microFromApi(info.balance);
    ui.balance.textContent = `${formatRuv(micro)} rUv`;
    ui.balance.dataset.micro = micro.toString();
  }
  updateControls();
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
  const view = state.current;
  if (!view) return;
  ui.faucet.disabled = true;
  ui.faucetStatus.textContent = "Asking the faucet…";
  const say = (text: string) => {
    if (state.current === view) ui.faucetStatus.textContent = text;
  };
  try {
    // The faucet of the relay in use (the button only shows when that relay runs one).
    const relay = state.pool?.url ?? state.urls[0];
    const response = await fetch(`${httpOrigin(relay)}/api/v1/faucet`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ address: view.address }),
    });
    const body: unknown = await response.json().catch(() => null);
    if (!response.ok) {
      const error = (body as { error?: { message?: unknown } } | null)?.error;
      const message = typeof error?.message === "string" ? error.message : `HTTP ${response.status}`;
      say(`The faucet said no: ${message}`);
      return;
    }
    if (!isTxStatus(body)) {
      say("The faucet's answer was not a transaction status.");
      return;
    }
    say("The faucet sent a payment; its status is below.");
    const t = track(view, { id: body.id, kind: "faucet", amount: 1_000_000_000n, counterpart: "faucet", nonce: null });
    applyStatus(t, body);
  } catch (e) {
    say(`Could not reach the faucet: ${errorText(e)}`);
  } finally {
    updateControls();
  }
}

// ---------------------------------------------------------------- activity

function track(
  view: AccountView,
  init: Omit<Tracked, "status" | "el" | "reason" | "uncertain" | "subscription" | "account">,
): Tracked {
  const existing = view.tracked.get(init.id);
  if (existing) return existing;
  const el = document.createElement("li");
  el.dataset.testid = "tx";
  el.dataset.txId = init.id;
  el.dataset.kind = init.kind;
  const t: Tracked = { ...init, account: view, status: "pending", uncertain: false, el };
  view.tracked.set(t.id, t);
  view.list.prepend(el);
  if (state.current === view) ui.activitySection.hidden = false;
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
  const view = t.account;
  if (s.status !== "pending" && view.inFlight === t) {
    view.inFlight = null;
    if (s.status === "accepted" && t.nonce !== null) view.lastAcceptedNonce = t.nonce;
    if (state.current === view) {
      ui.sendStatus.textContent =
        s.status === "accepted"
          ? `Payment of ${formatRuv(t.amount)} rUv accepted.`
          : `Payment rejected: ${s.reason?.message ?? "no reason given"}.`;
    }
    updateControls();
  }
}

async function followTransaction(t: Tracked): Promise<void> {
  const pool = state.pool;
  if (!pool || t.status !== "pending" || !state.views.has(t.account.address)) return;
  try {
    // Subscribed before submitting, so no status change can slip by; the
    // relay sends the current status first if it knows the transaction.
    const subscription = await pool.subscribeTransaction(t.id, (event) => applyStatus(t, event));
    if (t.status === "pending" && state.views.has(t.account.address)) t.subscription = subscription;
    else pool.unsubscribe(subscription).catch(() => {});
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
    if (codeOf(e) === "not_found") {
      applyStatus(t, {
        id: t.id,
        status: "rejected",
        reason: { code: "not_delivered", message: "the relay never received this payment; you can send it again" },
      });
    }
  }
}

// ---------------------------------------------------------------- sending

function updateFee(): void {
  if (!state.network) return;
  const memo = ui.memo.value;
  if (textEncoder.encode(memo).length > MAX_MEMO_BYTES) return;
  ui.fee.textContent = formatRuv(BigInt(minimumFee(state.network, memo)));
}

function updateControls(): void {
  const online = state.online && state.network !== null;
  const view = state.current;
  ui.faucet.disabled = !online || !view;
  const ready = online && view !== null && view.info !== null;
  ui.send.disabled = !ready || view.inFlight !== null;
  if (view?.inFlight) ui.send.title = "Waiting for your previous payment to be final";
  else ui.send.removeAttribute("title");
}

async function onSend(event: SubmitEvent): Promise<void> {
  event.preventDefault();
  const { pool, network, signer } = state;
  const view = state.current;
  const account = view?.info;
  if (!pool || !state.online || !network || !signer || !view || !account || view.inFlight) return;

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
  const nonce = (accountNonce > view.lastAcceptedNonce ? accountNonce : view.lastAcceptedNonce) + 1n;
  let tx: SignedTransaction;
  try {
    // The vault derives the account's key, signs and wipes the key, all inside wasm.
    tx = signer.sign(view.index, {
      chainId: network.chain_id,
      to,
      amount: amount.micro.toString(),
      fee: fee.toString(),
      nonce: nonce.toString(),
      memo,
    });
  } catch (e) {
    if (codeOf(e) === "vault_locked") {
      signer.locked();
      return;
    }
    ui.sendStatus.textContent = `Could not sign: ${errorText(e)}`;
    return;
  }
  // The vault signed with the account on screen; the fee was computed for this exact size.
  if (tx.toJSON().from !== view.address) {
    tx.free();
    ui.sendStatus.textContent = "Internal error: the vault signed from a different account than the one shown.";
    return;
  }
  if (tx.toBytes().length !== transferSize(network.chain_id, memo)) {
    tx.free();
    ui.sendStatus.textContent = "Internal error: the signed size does not match the fee computation.";
    return;
  }

  const t = track(view, { id: tx.id, kind: "sent", amount: amount.micro, counterpart: to, nonce });
  view.inFlight = t;
  updateControls();
  ui.sendStatus.textContent = `Sending ${formatRuv(amount.micro)} rUv…`;
  const say = (text: string) => {
    if (state.current === view) ui.sendStatus.textContent = text;
  };
  try {
    // The pool retries once on the next connection if this one is lost mid-way.
    const status = await pool.submit(tx);
    if (state.current === view) {
      ui.form.reset();
      updateFee();
    }
    if (status.status === "pending") say("Sent. Waiting for the network to accept it…");
    applyStatus(t, status);
  } catch (e) {
    const err = e as RuvError;
    if (err.code === "connection" || err.code === "timeout") {
      // It may or may not have arrived: ask again once reconnected.
      t.uncertain = true;
      if (state.online) void recheck(t);
      say("The connection failed while sending; checking the payment's fate when it is back…");
    } else if (err.code === "duplicate_transaction") {
      say("The relay already has this payment; following its status.");
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

ui.accountSelect.addEventListener("change", () => selectAccount(Number(ui.accountSelect.value)));
ui.copy.addEventListener("click", () => void copyAddress());
ui.faucet.addEventListener("click", () => void askFaucet());
ui.form.addEventListener("submit", (e) => void onSend(e));
ui.memo.addEventListener("input", updateFee);
ui.to.addEventListener("input", () => fieldError(ui.to, ui.toError, ""));
ui.amount.addEventListener("input", () => fieldError(ui.amount, ui.amountError, ""));
updateControls();
