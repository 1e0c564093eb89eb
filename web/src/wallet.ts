// The unlocked wallet: the vault's accounts, the light client (a LightClient
// over the network's relays: it fails over, drops relays that lie, and
// verifies every answer against this wallet's own copy of the genesis), the
// devnet faucet, sending, and the verified fate of every transaction. Keys
// stay in the vault: this module only ever sees addresses, and asks the vault
// (through `Signer`) to sign.
//
// What is shown as true is verified: a balance and nonce only with a Merkle
// proof against a certified checkpoint (with its number and age, or marked
// stale / not verified), "final" only with an inclusion proof. Chain id and
// fees for signing come from the genesis, the nonce from a verified proof.
// Every payment is shown on a confirmation screen before the vault signs it;
// a signed payment is kept in the vault (encrypted) until a proof settles it,
// the rest of the activity per account in this origin's storage; both are
// verified again after a reload, and
// merged with the account's history from the relays (`LightClient.history`:
// only entries whose inclusion proofs verified), so a wallet restored in a
// new browser shows its past payments.
import {
  LightClient,
  type CertifiedCheckpoint,
  type RuvError,
  type SignedTransaction,
  type PendingTransfer,
  type TransferParams,
  type TxStatus,
  type VaultAccount,
  type VerifiedAccountState,
  type VerifiedFinality,
  type VerifiedHistoryEntry,
} from "ruv-client";
import {
  loadActivity,
  MAX_STORED_ACTIVITY,
  PENDING_RESERVES_NONCE_MS,
  removeActivity,
  saveActivity,
  type StoredActivity,
} from "./activity-store";
import { formatRuv, microFromApi } from "./amount";
import { askFaucet as askRelayFaucet } from "./faucet";
import { loadCheckpoint, saveCheckpoint } from "./checkpoint-store";
import { loadNetwork, type Network } from "./network";
import { renderNetworkPanel } from "./network-panel";
import { renderQr } from "./qr";
import { showRelaySettings } from "./relay-settings";
import { feeFor, MAX_MEMO_BYTES, planTransfer, signedMatches, signParams, type TransferPlan } from "./transfer";
import { $, codeOf, errorText, fieldError } from "./ui";
/** How often ages ("verified 3 s ago") and staleness are redrawn. */
const REDRAW_MS = 1_000;

/** What the wallet needs from the vault. */
export interface Signer {
  /** Signs with account `index`; throws (`vault_locked`, …) like `Vault.signTransfer`. */
  sign(index: number, params: TransferParams): SignedTransaction;
  /** Signing failed because the vault is locked (auto-lock ran out): show the unlock form. */
  locked(): void;
  /** The payments the vault keeps as pending (empty while locked). */
  pending(): PendingTransfer[];
  /** Keeps a signed payment in the vault, encrypted, until `dropPending`. */
  keepPending(transfer: PendingTransfer): Promise<void>;
  /** Forgets a settled payment in the vault (while locked it stays until proven again after the next unlock). */
  dropPending(id: string): Promise<void>;
}

const ui = {
  connection: $("connection"),
  relayUrl: $("relay-url"),
  chainId: $("chain-id"),
  checkpoint: $("checkpoint"),
  accountSelect: $<HTMLSelectElement>("account-select"),
  address: $<HTMLInputElement>("address"),
  copy: $<HTMLButtonElement>("copy-address"),
  copyStatus: $("copy-status"),
  addressQr: $("address-qr"),
  balance: $("balance"),
  balanceState: $("balance-state"),
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
  confirm: $("confirm"),
  confirmNetwork: $("confirm-network"),
  confirmFrom: $("confirm-from"),
  confirmTo: $("confirm-to"),
  confirmAmount: $("confirm-amount"),
  confirmFee: $("confirm-fee"),
  confirmTotal: $("confirm-total"),
  confirmNonce: $("confirm-nonce"),
  confirmMemo: $("confirm-memo"),
  confirmSign: $<HTMLButtonElement>("confirm-sign"),
  confirmCancel: $<HTMLButtonElement>("confirm-cancel"),
  customRelaysBanner: $("custom-relays-banner"),
  activitySection: $("activity-section"),
  activityHolder: $("activity-holder"),
  historyStatus: $("history-status"),
};

type Kind = "sent" | "faucet" | "received";
type Status = "pending" | "final" | "rejected";

/** One account of the vault as this page shows it. */
interface AccountView {
  index: number;
  label: string;
  address: string;
  /** The last verified state (null until the first proof). */
  info: VerifiedAccountState | null;
  tracked: Map<string, Tracked>;
  /** The payment whose nonce is in use and not final yet (one at a time keeps nonces gap-free). */
  inFlight: Tracked | null;
  /** Nonce of this account's last payment proven final: proofs may lag behind. */
  lastFinalNonce: bigint;
  /** This account's activity list. */
  list: HTMLOListElement;
  /** Its stored activity was loaded. */
  restored: boolean;
  /** The relays' verified history: being fetched; fetched once at least; the nonce and balance it was fetched for. */
  history: { running: boolean; loaded: boolean; seenAt: string | null; status: string };
}

/** One transaction this page follows. */
interface Tracked {
  id: string;
  kind: Kind;
  account: AccountView;
  amount: bigint;
  counterpart: string;
  nonce: bigint | null;
  status: Status;
  /** Why it was rejected (verified), or what the relay claimed (unverified). */
  reason?: string;
  /** Checkpoint that proves the final status. */
  checkpoint?: string;
  /** A rejection no proof backs (the relay refused it at once). */
  unproven?: boolean;
  /** What a relay claims about a pending payment (e.g. that it expired), shown as unverified. */
  relaySays?: string;
  fee?: bigint;
  /** The site that asked for it (an extension approval), if any. */
  origin?: string;
  /** The vault could not keep it: stored in this origin's storage instead (moved into the vault at the next unlock). */
  unkept?: boolean;
  /** When it was sent (ms since the epoch). */
  at: number;
  el: HTMLLIElement;
}

const state = {
  network: null as Network | null,
  light: null as LightClient | null,
  signer: null as Signer | null,
  /** The vault's accounts, by address. */
  views: new Map<string, AccountView>(),
  /** The account on screen (null while locked). */
  current: null as AccountView | null,
  /** A refresh of the current account is running (one at a time). */
  refreshing: false,
  /** A new checkpoint arrived during that refresh: refresh again after it. */
  refreshAgain: false,
  /** The payment on the confirmation screen (null when none). */
  confirming: null as { view: AccountView; plan: TransferPlan } | null,
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

/** Loads the network configuration and connects the light client; retries with backoff. */
export async function startRelay(signer: Signer): Promise<void> {
  state.signer = signer;
  let network: Network;
  try {
    network = await loadNetwork(location.href);
  } catch (e) {
    setConnection("closed", `This wallet has no usable network configuration: ${errorText(e)}`);
    return;
  }
  state.network = network;
  ui.chainId.textContent = network.chainId;
  ui.relayUrl.textContent = network.relays.join(", ");
  ui.customRelaysBanner.hidden = !network.custom;
  showRelaySettings(network);
  updateFee();
  // Accounts shown before the network was known: their stored activity now.
  for (const view of state.views.values()) restoreActivity(view);
  for (let attempt = 0; ; attempt++) {
    setConnection("connecting", "Connecting to the network's relays and verifying…");
    try {
      const stored = await loadCheckpoint(network.chainId).catch(() => null);
      const light = await LightClient.connect(network.relays, {
        genesis: network.genesisText,
        ...(stored ? { checkpoint: stored as CertifiedCheckpoint } : {}),
      });
      state.light = light;
      light.onCheckpoint(() => onCheckpoint());
      const latest = light.latestCheckpoint;
      if (latest) onCheckpoint();
      setInterval(redraw, REDRAW_MS);
      return;
    } catch (e) {
      if (codeOf(e) === "invalid_params" || codeOf(e) === "verification_failed") {
        setConnection("closed", `Cannot use this network: ${errorText(e)}`);
        return;
      }
      const delay = reconnectDelay(attempt);
      setConnection("closed", `No relay gave a verifiable answer (${errorText(e)}). Retrying in ${Math.ceil(delay / 1000)} s…`);
      await sleep(delay);
    }
  }
}

/** A new verified checkpoint: keep it, refresh what it may prove. */
function onCheckpoint(): void {
  const light = state.light;
  if (!light) return;
  const json = light.checkpointJson();
  if (json && state.network) void saveCheckpoint(state.network.chainId, json).catch(() => {});
  redraw();
  void refreshCurrent();
  for (const view of state.views.values()) {
    for (const t of view.tracked.values()) if (t.status === "pending") void followTransaction(t);
  }
}

/** Redraws what depends on time: the connection line, the balance's age. */
function redraw(): void {
  const light = state.light;
  if (!light) return;
  const latest = light.latestCheckpoint;
  const relay = light.relay;
  const broken = equivocation();
  if (broken) {
    setConnection("closed", broken);
  } else if (!latest) {
    setConnection("connecting", "Waiting for a verified checkpoint…");
  } else if (latest.stale) {
    setConnection("closed", `No recent checkpoint: the newest verified is ${latest.number}, ${ageText(latest.ageMs)} old. Relays may be withholding; still trying.`);
  } else {
    setConnection("open", `Verified checkpoint ${latest.number} (${ageText(latest.ageMs)} old) via ${relay ?? "no relay right now"}`);
  }
  ui.checkpoint.textContent = latest ? latest.number : "…";
  ui.relayUrl.textContent = relay ?? state.network?.relays.join(", ") ?? "";
  if (state.network) renderNetworkPanel(state.network, light, ageText);
  renderBalance();
}

function ageText(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  return s < 120 ? `${s} s` : `${Math.round(s / 60)} min`;
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
    lastFinalNonce: 0n,
    list,
    restored: false,
    history: { running: false, loaded: false, seenAt: null, status: "" },
  };
}

/** A payment this wallet signed that is kept in the vault (not in this origin's storage) until settled. */
function keptInVault(t: { kind: string; status: string; unkept?: boolean }): boolean {
  // Payments a site asked for too: the extension's approval window keeps them in the vault.
  return t.kind === "sent" && t.status === "pending" && !t.unkept;
}

/** The vault's record of a signed payment. */
function pendingOf(view: AccountView, t: Tracked): PendingTransfer {
  return {
    id: t.id,
    account: view.index,
    to: t.counterpart,
    amount: t.amount.toString(),
    fee: (t.fee ?? 0n).toString(),
    nonce: (t.nonce ?? 0n).toString(),
    at: t.at,
    ...(t.origin ? { origin: t.origin } : {}),
  };
}

/** A payment not proven yet (a stored "final" is proven again) and recent: its nonce may be in use. */
function reserveNonce(view: AccountView, t: Tracked): void {
  if (
    t.kind === "sent" &&
    t.nonce !== null &&
    Date.now() - t.at < PENDING_RESERVES_NONCE_MS &&
    (!view.inFlight || (view.inFlight.nonce ?? 0n) < t.nonce)
  ) {
    view.inFlight = t;
  }
}

/**
 * Shows an account's activity (once the network is known) and verifies it
 * again: the payments the vault keeps as pending, and the rest from this
 * origin's storage. Pending payments an older version of the wallet stored
 * there move into the vault.
 */
function restoreActivity(view: AccountView): void {
  const network = state.network;
  if (!network || view.restored) return;
  view.restored = true;
  const stored = loadActivity(localStorage, network.chainId, view.address);
  const pending = (state.signer?.pending() ?? []).filter((p) => p.account === view.index);
  const moved: Tracked[] = [];
  for (const p of pending) {
    const t = track(view, {
      id: p.id,
      kind: "sent",
      amount: BigInt(p.amount),
      fee: BigInt(p.fee),
      counterpart: p.to,
      nonce: BigInt(p.nonce),
      at: p.at,
      ...(p.origin ? { origin: p.origin } : {}),
    }, false);
    reserveNonce(view, t);
  }
  for (const item of stored) {
    const t = track(view, {
      id: item.id,
      kind: item.kind,
      amount: BigInt(item.amount),
      counterpart: item.counterpart,
      nonce: item.nonce === null ? null : BigInt(item.nonce),
      at: item.at,
      ...(item.fee ? { fee: BigInt(item.fee) } : {}),
      ...(item.origin ? { origin: item.origin } : {}),
    }, false);
    if (item.status === "rejected" && item.unproven) {
      settle(t, "rejected", { reason: item.reason, unproven: true }, false);
    } else {
      if (keptInVault(item)) {
        // Stays in this origin's storage until the vault holds it.
        t.unkept = true;
        moved.push(t);
      }
      reserveNonce(view, t);
    }
  }
  if (moved.length > 0) void migratePending(view, moved);
  if (state.current === view) {
    ui.activitySection.hidden = view.tracked.size === 0;
    updateControls();
  }
}

/** Moves pending payments an older wallet kept in this origin's storage into the vault, then drops them there. */
async function migratePending(view: AccountView, moved: Tracked[]): Promise<void> {
  const signer = state.signer;
  if (!signer) return;
  try {
    for (const t of moved) {
      if (t.status !== "pending") continue;
      await signer.keepPending(pendingOf(view, t));
      t.unkept = false;
    }
    persist(view);
  } catch (e) {
    // Left where they were (still shown and followed); moved at the next unlock.
    console.warn("could not move pending payments into the vault:", errorText(e));
  }
}

/** Stores an account's activity (see activity-store.ts); pending payments of its own are in the vault. */
function persist(view: AccountView): void {
  const network = state.network;
  if (!network) return;
  const items: StoredActivity[] = [...view.tracked.values()]
    .filter((t) => !keptInVault(t))
    .sort((a, b) => a.at - b.at)
    .map((t) => ({
      id: t.id,
      kind: t.kind,
      amount: t.amount.toString(),
      ...(t.fee !== undefined ? { fee: t.fee.toString() } : {}),
      counterpart: t.counterpart,
      nonce: t.nonce === null ? null : t.nonce.toString(),
      status: t.status,
      ...(t.reason ? { reason: t.reason } : {}),
      ...(t.checkpoint ? { checkpoint: t.checkpoint } : {}),
      ...(t.unproven ? { unproven: true } : {}),
      ...(t.origin ? { origin: t.origin } : {}),
      at: t.at,
    }));
  saveActivity(localStorage, network.chainId, view.address, items);
}

/** Forgets a view (its account left the vault); its transactions stop being followed. */
function dropView(view: AccountView): void {
  view.tracked.clear();
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
    else {
      const fresh = newView(a);
      state.views.set(a.address, fresh);
      restoreActivity(fresh);
    }
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
  closeConfirm("");
  state.current = view;
  ui.address.value = view.address;
  renderQr(ui.addressQr, view.address, `QR code of the address ${view.address}`);
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
  ui.historyStatus.textContent = view.history.status;
  renderBalance();
  void refreshCurrent();
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
  closeConfirm();
  state.current = null;
  ui.address.value = "";
  ui.addressQr.replaceChildren();
  ui.form.reset();
  ui.sendStatus.textContent = "";
  ui.faucetStatus.textContent = "";
  ui.copyStatus.textContent = "";
  ui.activityHolder.replaceChildren();
  ui.historyStatus.textContent = "";
  ui.accountSelect.replaceChildren();
}

/** The wallet was deleted from this browser: its stored activity goes too. */
export function eraseStoredActivity(): void {
  const network = state.network;
  if (!network) return;
  for (const view of state.views.values()) removeActivity(localStorage, network.chainId, view.address);
}

/** The wallet was deleted or replaced: forget every account and its activity. */
export function forgetAccounts(): void {
  hideAccounts();
  for (const view of [...state.views.values()]) dropView(view);
}

/** Asks for the shown account's state, proven against the newest checkpoint. */
async function refreshCurrent(): Promise<void> {
  const light = state.light;
  const view = state.current;
  if (!light || !view) return;
  if (state.refreshing) {
    // One at a time, but a checkpoint that arrives meanwhile is not missed.
    state.refreshAgain = true;
    return;
  }
  state.refreshing = true;
  try {
    const info = await light.account(view.address);
    // Never go back: a proof against an older checkpoint than the one shown is not news.
    if (!view.info || BigInt(info.checkpoint) >= BigInt(view.info.checkpoint)) view.info = info;
    // The account changed (or its history was never fetched): new history entries.
    const seen = `${view.info.nonce}/${view.info.balance}`;
    if (view.history.seenAt !== seen) void syncHistory(view, seen);
  } catch (e) {
    if (state.current === view && !view.info) ui.balanceState.textContent = `Not verified: ${errorText(e)}`;
  } finally {
    state.refreshing = false;
    if (state.current === view) renderBalance();
    if (state.refreshAgain) {
      state.refreshAgain = false;
      void refreshCurrent();
    }
  }
}

/** Validators equivocated: the network's guarantees are broken; say so and verify nothing. */
function equivocation(): string | null {
  const evidence = state.light?.equivocationEvidence() ?? [];
  const e = evidence[0];
  return e
    ? `Validators signed two different checkpoints with number ${e.number} (from ${e.first_relay} and ${e.second_relay}). ` +
        "More than a third of the network's stake is faulty: nothing can be verified, so no balance is shown as true."
    : null;
}

function renderBalance(): void {
  const info = state.current?.info;
  const latest = state.light?.latestCheckpoint ?? null;
  const broken = equivocation();
  if (broken) {
    ui.balance.textContent = "…";
    delete ui.balance.dataset.micro;
    ui.balanceState.dataset.state = "unverified";
    ui.balanceState.textContent = broken;
  } else if (!info) {
    ui.balance.textContent = "…";
    delete ui.balance.dataset.micro;
    ui.balanceState.dataset.state = "unverified";
    if (!ui.balanceState.textContent?.startsWith("Not verified:")) ui.balanceState.textContent = "Not verified yet";
  } else {
    const micro = microFromApi(info.balance);
    ui.balance.textContent = `${formatRuv(micro)} rUv`;
    ui.balance.dataset.micro = micro.toString();
    const age = Date.now() - info.checkpointTimeMs;
    // Verified means: proven at the newest checkpoint this wallet verified
    // (from any relay, including the ones that proved a payment final), and
    // that checkpoint is recent. A proof against an older one is history,
    // shown as such until a relay proves the account at the newest.
    const behind = latest ? BigInt(latest.number) - BigInt(info.checkpoint) : 0n;
    const stale = !latest || latest.stale || info.stale || behind > 0n;
    ui.balanceState.dataset.state = stale ? "stale" : "verified";
    ui.balanceState.dataset.checkpoint = info.checkpoint;
    ui.balanceState.textContent = stale
      ? `Stale: as of checkpoint ${info.checkpoint}, ${ageText(age)} ago; no newer proof from any relay yet`
      : `Verified at checkpoint ${info.checkpoint}, ${ageText(age)} ago`;
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

async function askFaucet(): Promise<void> {
  const view = state.current;
  if (!view) return;
  ui.faucet.disabled = true;
  ui.faucetStatus.textContent = "Asking the faucet…";
  const say = (text: string) => {
    if (state.current === view) ui.faucetStatus.textContent = text;
  };
  try {
    // The devnet faucet of the relay in use (a devnet convenience: what it
    // pays is believed only once proven final).
    const relay = state.light?.relay ?? state.network?.relays[0];
    if (!relay) throw new Error("no relay connected");
    // The relay's proof-of-work challenge, solved by the shared client code.
    const answer = await askRelayFaucet(relay, view.address);
    if (!answer.ok) {
      say(`The faucet said no: ${answer.message}`);
      return;
    }
    const body = answer.status;
    if (body.status === "rejected" || body.status === "expired") {
      say(`The faucet's payment was refused: ${body.reason?.message ?? "no reason given"}`);
      return;
    }
    say("The faucet sent a payment; it shows as final once proven.");
    track(view, { id: body.id, kind: "faucet", amount: 1_000_000_000n, counterpart: "faucet", nonce: null, at: Date.now() });
  } catch (e) {
    say(`Could not reach the faucet: ${errorText(e)}`);
  } finally {
    updateControls();
  }
}

// ---------------------------------------------------------------- activity

/**
 * Follows a transaction (shown pending until proven), or, with `proven` (the
 * checkpoint of an inclusion proof the light client verified), shows it final.
 */
function track(
  view: AccountView,
  init: Omit<Tracked, "status" | "el" | "reason" | "account" | "checkpoint" | "unproven">,
  store = true,
  proven?: string,
): Tracked {
  const existing = view.tracked.get(init.id);
  if (existing) return existing;
  const el = document.createElement("li");
  el.dataset.testid = "tx";
  el.dataset.txId = init.id;
  el.dataset.kind = init.kind;
  const t: Tracked = { ...init, account: view, status: proven ? "final" : "pending", checkpoint: proven, el };
  view.tracked.set(t.id, t);
  place(view, t);
  if (state.current === view) ui.activitySection.hidden = false;
  renderTracked(t);
  if (proven && t.kind === "sent" && t.nonce !== null && t.nonce > view.lastFinalNonce) view.lastFinalNonce = t.nonce;
  if (store) persist(view);
  if (!proven) void followTransaction(t);
  return t;
}

/** Puts a transaction's line in the list, newest first. */
function place(view: AccountView, t: Tracked): void {
  for (const el of view.list.children) {
    const other = view.tracked.get((el as HTMLElement).dataset.txId ?? "");
    if (other && other !== t && other.at <= t.at) {
      view.list.insertBefore(t.el, el);
      return;
    }
  }
  view.list.append(t.el);
}

/**
 * Fetches the account's history from the relays, newest first, until it
 * reaches what is already shown as final (or the stored maximum), and
 * merges it: only entries whose inclusion proofs the light client verified
 * (a relay with one bad entry is dropped and another asked).
 */
async function syncHistory(view: AccountView, seen: string): Promise<void> {
  const light = state.light;
  if (!light || view.history.running) return;
  view.history.running = true;
  let added = 0;
  const status = (text: string) => {
    view.history.status = text;
    if (state.current === view) ui.historyStatus.textContent = text;
  };
  try {
    let before: string | undefined;
    let fetched = 0;
    for (;;) {
      const page = await light.history(view.address, before ? { before } : {});
      let reachedKnown = false;
      for (const entry of page.entries) {
        const known = view.tracked.get(entry.id);
        if (known?.status === "final") reachedKnown = view.history.loaded;
        if (mergeHistoryEntry(view, entry)) added++;
      }
      fetched += page.entries.length;
      if (!page.next || reachedKnown || fetched >= MAX_STORED_ACTIVITY) break;
      before = page.next;
    }
    view.history.loaded = true;
    view.history.seenAt = seen;
    if (added > 0) persist(view);
    status(`History verified by the relays (${fetched} proven payment${fetched === 1 ? "" : "s"} checked).`);
  } catch (e) {
    status(`The relays' history could not be verified: ${errorText(e)}`);
  } finally {
    view.history.running = false;
  }
}

/** Shows one verified history entry; returns whether it is new here. */
function mergeHistoryEntry(view: AccountView, entry: VerifiedHistoryEntry): boolean {
  const known = view.tracked.get(entry.id);
  if (known) {
    // The inclusion proof just verified proves it final.
    if (known.status === "pending") settle(known, "final", { checkpoint: entry.checkpoint });
    return false;
  }
  const sent = entry.direction !== "in";
  track(
    view,
    {
      id: entry.id,
      kind: sent ? "sent" : "received",
      amount: BigInt(entry.amount),
      counterpart: sent ? entry.to : entry.from,
      nonce: sent ? BigInt(entry.nonce) : null,
      at: entry.checkpointTimeMs,
      ...(sent ? { fee: BigInt(entry.fee) } : {}),
    },
    false,
    entry.checkpoint,
  );
  return true;
}

function renderTracked(t: Tracked): void {
  const what = document.createElement("span");
  what.className = "what";
  what.textContent = {
    faucet: `Faucet payment of ${formatRuv(t.amount)} rUv`,
    sent: `Sent ${formatRuv(t.amount)} rUv`,
    received: `Received ${formatRuv(t.amount)} rUv`,
  }[t.kind];

  const status = document.createElement("span");
  status.className = "status";
  status.dataset.testid = "tx-status";
  status.dataset.status = t.status;
  status.textContent = {
    pending: "Pending (not proven final yet)…",
    final: `Final (proven in checkpoint ${t.checkpoint})`,
    rejected: "Rejected",
  }[t.status];

  const detail = document.createElement("span");
  detail.className = "detail";
  if (t.status === "rejected" && t.reason) {
    detail.dataset.testid = "tx-reason";
    detail.textContent = `Reason: ${t.reason}`;
  } else if (t.status === "pending" && t.relaySays) {
    detail.dataset.testid = "tx-relay-says";
    detail.textContent = `The relay says: ${t.relaySays}`;
  } else if (t.kind === "sent") {
    detail.textContent = `To ${t.counterpart}`;
  } else if (t.kind === "received") {
    detail.textContent = `From ${t.counterpart}`;
  }

  const id = document.createElement("code");
  id.className = "txid";
  id.textContent = `id ${t.id}`;

  t.el.dataset.status = t.status;
  t.el.replaceChildren(what, status, detail, id);
}

/** Sets a transaction's fate (final and rejected are final: nothing undoes them). */
function settle(
  t: Tracked,
  status: Exclude<Status, "pending">,
  detail: { checkpoint?: string; reason?: string; unproven?: boolean },
  store = true,
): void {
  if (t.status !== "pending") return;
  t.status = status;
  t.checkpoint = detail.checkpoint;
  t.reason = detail.reason;
  t.unproven = detail.unproven;
  renderTracked(t);
  const view = t.account;
  if (status === "final" && t.kind === "sent" && t.nonce !== null && t.nonce > view.lastFinalNonce) view.lastFinalNonce = t.nonce;
  if (store) persist(view);
  // Settled: the vault need not keep it any more (stored above with its verdict).
  if (t.kind === "sent") void state.signer?.dropPending(t.id);
  if (view.inFlight === t) {
    view.inFlight = null;
    if (state.current === view) {
      ui.sendStatus.textContent =
        status === "final"
          ? `Payment of ${formatRuv(t.amount)} rUv is final (proven in checkpoint ${detail.checkpoint}).`
          : `Payment not accepted: ${detail.reason ?? "no reason given"}.`;
    }
    updateControls();
  }
  if (state.current === view) void refreshCurrent();
}

const following = new Set<string>();

/** Waits for a verified verdict on a transaction (one wait per transaction at a time). */
async function followTransaction(t: Tracked): Promise<void> {
  const light = state.light;
  if (!light || t.status !== "pending" || following.has(t.id)) return;
  following.add(t.id);
  try {
    const verdict: VerifiedFinality = await light.waitForFinal(t.id);
    if (!state.views.has(t.account.address)) return;
    if (verdict.status === "final") settle(t, "final", { checkpoint: verdict.checkpoint });
    else
      settle(t, "rejected", {
        checkpoint: verdict.checkpoint,
        reason: `another payment (${verdict.by?.slice(0, 12)}…) used the same nonce (proven in checkpoint ${verdict.checkpoint})`,
      });
  } catch (e) {
    // Not proven within the wait: keep it pending; the next checkpoint tries again.
    console.warn(`waiting for ${t.id}:`, e);
  } finally {
    following.delete(t.id);
  }
}

// ---------------------------------------------------------------- sending

function updateFee(): void {
  if (!state.network) return;
  const memo = ui.memo.value;
  if (textEncoder.encode(memo).length > MAX_MEMO_BYTES) return;
  ui.fee.textContent = formatRuv(feeFor(state.network, memo));
}

function updateControls(): void {
  const online = state.light !== null && state.network !== null;
  const view = state.current;
  ui.faucet.disabled = !online || !view;
  // Sending needs a verified, current balance and nonce.
  const ready = online && view !== null && view.info !== null && ui.balanceState.dataset.state === "verified";
  ui.send.disabled = !ready || view.inFlight !== null || state.confirming !== null;
  ui.confirmSign.disabled = !ready || view.inFlight !== null;
  if (view?.inFlight) ui.send.title = "Waiting for your previous payment to be final";
  else if (!ready) ui.send.title = "Waiting for a verified balance";
  else ui.send.removeAttribute("title");
}

/** Plans the payment in the form against the verified state; shows problems at their fields. */
function planFromForm(view: AccountView): TransferPlan | null {
  const network = state.network;
  const info = view.info;
  if (!network || !info) return null;
  const result = planTransfer(network, info, view.lastFinalNonce, { to: ui.to.value, amount: ui.amount.value, memo: ui.memo.value });
  const errors = result.ok ? {} : result.errors;
  fieldError(ui.to, ui.toError, errors.to ?? "");
  fieldError(ui.amount, ui.amountError, errors.amount ?? "");
  fieldError(ui.memo, ui.memoError, errors.memo ?? "");
  if (result.ok) return result.plan;
  ui.sendStatus.textContent = "Please fix the fields marked above.";
  (errors.to ? ui.to : errors.amount ? ui.amount : ui.memo).focus();
  return null;
}

/** The form was submitted: check it, then show the confirmation screen (nothing is signed yet). */
function onSend(event: SubmitEvent): void {
  event.preventDefault();
  const view = state.current;
  if (!state.light || !view || !view.info || view.inFlight || state.confirming) return;
  const plan = planFromForm(view);
  if (!plan) return;
  showConfirm(view, plan);
}

function showConfirm(view: AccountView, plan: TransferPlan): void {
  state.confirming = { view, plan };
  ui.confirmNetwork.textContent = plan.chainId;
  ui.confirmFrom.textContent = `${view.label} · ${plan.from}`;
  ui.confirmTo.textContent = plan.to;
  ui.confirmAmount.textContent = `${formatRuv(plan.amount)} rUv`;
  ui.confirmFee.textContent = `${formatRuv(plan.fee)} rUv`;
  ui.confirmTotal.textContent = `${formatRuv(plan.total)} rUv`;
  ui.confirmNonce.textContent = plan.nonce.toString();
  ui.confirmMemo.textContent = plan.memo === "" ? "(none)" : plan.memo;
  for (const el of ui.form.elements) if (el instanceof HTMLInputElement) el.readOnly = true;
  ui.sendStatus.textContent = "Check the payment below, then confirm to sign it.";
  ui.confirm.hidden = false;
  updateControls();
  ui.confirm.querySelector<HTMLElement>("h3[tabindex]")?.focus();
}

function closeConfirm(message?: string): void {
  if (!state.confirming) return;
  state.confirming = null;
  ui.confirm.hidden = true;
  for (const el of ui.form.elements) if (el instanceof HTMLInputElement) el.readOnly = false;
  if (message !== undefined) ui.sendStatus.textContent = message;
  updateControls();
}

/** The user confirmed: sign exactly what was shown (if the verified state still allows it) and submit. */
async function onConfirm(): Promise<void> {
  const confirming = state.confirming;
  const { light, signer } = state;
  if (!confirming || !light || !signer) return;
  const { view, plan } = confirming;
  // The verified state may have moved while the screen was open: plan again and sign only an identical plan.
  const again = state.current === view && view.info && !view.inFlight ? planFromForm(view) : null;
  if (!again || JSON.stringify(signParams(again)) !== JSON.stringify(signParams(plan)) || again.total !== plan.total) {
    closeConfirm("The verified account state changed while you were confirming; nothing was signed. Check the payment again.");
    return;
  }
  closeConfirm();
  let tx: SignedTransaction;
  try {
    // The vault derives the account's key, signs and wipes the key, all inside wasm.
    tx = signer.sign(view.index, signParams(plan));
  } catch (e) {
    if (codeOf(e) === "vault_locked") {
      signer.locked();
      return;
    }
    ui.sendStatus.textContent = `Could not sign: ${errorText(e)}`;
    return;
  }
  const mismatch = signedMatches(tx, plan);
  if (mismatch) {
    tx.free();
    ui.sendStatus.textContent = `Internal error: ${mismatch}; nothing was sent.`;
    return;
  }

  const t = track(view, { id: tx.id, kind: "sent", amount: plan.amount, fee: plan.fee, counterpart: plan.to, nonce: plan.nonce, at: Date.now() });
  view.inFlight = t;
  updateControls();
  // Kept in the vault before it is sent: a reload or a crash from here on loses nothing.
  try {
    await signer.keepPending(pendingOf(view, t));
  } catch (e) {
    // Not lost either way: kept in this origin's storage until the next unlock moves it into the vault.
    console.warn("could not keep the payment in the vault:", errorText(e));
    t.unkept = true;
    persist(view);
  }
  ui.sendStatus.textContent = `Sending ${formatRuv(plan.amount)} rUv…`;
  const say = (text: string) => {
    if (state.current === view) ui.sendStatus.textContent = text;
  };
  try {
    // The relay's first answer is not proof of anything: the payment shows
    // as final only with a verified inclusion proof (`followTransaction`).
    const status: TxStatus = await light.submit(tx);
    if (state.current === view) {
      ui.form.reset();
      updateFee();
    }
    if (status.status === "rejected") {
      // A relay refusing at once (bad fee, stale nonce…) releases the form;
      // the nonce was not used, so nothing can be double spent by retrying.
      settle(t, "rejected", {
        reason: `the relay refused it: ${status.reason?.message ?? "no reason"} (not verified)`,
        unproven: true,
      });
    } else if (status.status === "expired") {
      // Dropped before it was issued, says the relay: its word only. The
      // payment stays pending with its nonce reserved; proofs settle it.
      t.relaySays = `expired, not sent: ${status.reason?.message ?? "no reason"} (the relay's word, not verified)`;
      renderTracked(t);
      say("The relay says the payment expired before it was sent (not verified); waiting for a proof of its fate…");
    } else {
      say("Sent. Waiting for a proof that it is final…");
    }
  } catch (e) {
    const err = e as RuvError;
    if (err.code === "connection" || err.code === "timeout" || err.code === "duplicate_transaction") {
      // It may or may not have arrived: its fate is settled by proofs either way.
      say("The connection failed while sending; waiting for a proof of the payment's fate…");
    } else {
      settle(t, "rejected", { reason: `${err.message ?? String(e)} (${err.code ?? "error"})`, unproven: true });
    }
  } finally {
    tx.free();
  }
}

// ---------------------------------------------------------------- wiring

ui.accountSelect.addEventListener("change", () => selectAccount(Number(ui.accountSelect.value)));
ui.copy.addEventListener("click", () => void copyAddress());
ui.faucet.addEventListener("click", () => void askFaucet());
ui.form.addEventListener("submit", onSend);
ui.confirmSign.addEventListener("click", () => void onConfirm());
ui.confirmCancel.addEventListener("click", () => {
  closeConfirm("Cancelled; nothing was signed.");
  ui.send.focus();
});
ui.memo.addEventListener("input", updateFee);
ui.to.addEventListener("input", () => fieldError(ui.to, ui.toError, ""));
ui.amount.addEventListener("input", () => fieldError(ui.amount, ui.amountError, ""));
updateControls();
