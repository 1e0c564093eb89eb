// The approval window: a site asked for something only the user may allow
// (connect an account, a payment, a signed message). It shows what and who
// is asking, and acts only on the user's Approve, after unlocking the vault
// with the password here: the unlocked key lives in this window's wasm
// memory only, for this one request, and the vault is locked again before
// the window closes. Payments are planned from the verified account state
// (a light client of its own) with the web wallet's rules and shown in full.
import { LightClient, Vault, type PendingTransfer, type SignedTransaction, type VaultAccount, type VerifiedAccountState } from "ruv-client";
import { deriveKeyInWorker } from "../../web/src/kdf";
import { loadActivity, PENDING_RESERVES_NONCE_MS, saveActivity, type StoredActivity } from "../../web/src/activity-store";
import { formatRuv, microFromApi } from "../../web/src/amount";
import { loadNetwork, type Network } from "../../web/src/network";
import { planTransfer, signedMatches, signParams, type TransferPlan } from "../../web/src/transfer";
import { $, codeOf, errorText, fieldError, nextPaint } from "../../web/src/ui";
import { internal, rejected, type ProviderErrorData } from "./provider-errors";
import type { Approval, ApprovalMessage, Permission } from "./protocol";

const WALLET_PAGE = "web/index.html";
/** How long to wait for an earlier payment from the account to be proven final before planning a new one. */
const EARLIER_PAYMENT_WAIT_MS = 20_000;

const ui = {
  heading: $("request-heading"),
  origin: $("request-origin"),
  status: $("request-status"),
  connectPart: $("connect-part"),
  connectAccount: $<HTMLSelectElement>("connect-account"),
  transferPart: $("transfer-part"),
  transferNetwork: $("transfer-network"),
  transferFrom: $("transfer-from"),
  transferTo: $("transfer-to"),
  transferAmount: $("transfer-amount"),
  transferFee: $("transfer-fee"),
  transferTotal: $("transfer-total"),
  transferNonce: $("transfer-nonce"),
  transferMemo: $("transfer-memo"),
  transferBalance: $("transfer-balance"),
  messagePart: $("message-part"),
  messageAccount: $("message-account"),
  messageContext: $("message-context"),
  messageText: $("message-text"),
  form: $<HTMLFormElement>("approve-form"),
  password: $<HTMLInputElement>("approve-password"),
  error: $("approve-error"),
  approve: $<HTMLButtonElement>("approve"),
  reject: $<HTMLButtonElement>("reject"),
  dismiss: $<HTMLButtonElement>("dismiss"),
};

const id = new URLSearchParams(location.search).get("id") ?? "";
let vault: Vault | null = null;
let light: LightClient | null = null;
let network: Network | null = null;
let plan: TransferPlan | null = null;

function send(message: ApprovalMessage): void {
  void chrome.runtime.sendMessage(message);
}

function done(result: unknown): void {
  vault?.lock();
  send({ type: "approval-done", id, result });
}

function refuse(error: ProviderErrorData = rejected()): void {
  vault?.lock();
  send({ type: "approval-reject", id, error });
}

/** Nothing to approve here: say why; the only way on is closing (a rejection). */
function dead(text: string): void {
  document.body.dataset.state = "dead";
  ui.status.textContent = text;
  ui.form.hidden = true;
  ui.dismiss.hidden = false;
  ui.dismiss.focus();
}

function shortAddress(address: string): string {
  return `${address.slice(0, 10)}…${address.slice(-6)}`;
}

/** Unlocks the vault with the typed password; shows the problem and returns false if it cannot. */
async function unlock(): Promise<boolean> {
  const v = vault;
  if (!v) return false;
  if (v.state === "unlocked") return true;
  const password = ui.password.value;
  if (!password) {
    fieldError(ui.password, ui.error, "Enter your wallet password to approve.");
    ui.password.focus();
    return false;
  }
  ui.status.textContent = "Unlocking…";
  await nextPaint();
  try {
    await v.unlock(password);
  } catch (e) {
    ui.status.textContent = "";
    fieldError(ui.password, ui.error, codeOf(e) === "wrong_password" ? "Wrong password. Nothing was approved." : `Could not unlock: ${errorText(e)}`);
    ui.password.select();
    return false;
  } finally {
    ui.password.value = "";
  }
  fieldError(ui.password, ui.error, "");
  return true;
}

/** The permitted account, checked against the vault (it may have been replaced since). */
function permittedAccount(permission: Permission): VaultAccount | null {
  const account = vault?.accounts().find((a) => a.index === permission.index);
  return account && account.address === permission.address ? account : null;
}

// ---------------------------------------------------------------- connect

function showConnect(): void {
  ui.heading.textContent = "Connect this site to your wallet?";
  ui.connectPart.hidden = false;
  ui.approve.textContent = "Connect";
  // Account names and addresses are readable only from an unlocked vault: unlock first.
  ui.connectAccount.replaceChildren(new Option("Unlock to choose an account", ""));
  ui.connectAccount.disabled = true;
  ui.status.textContent = "Enter your password to choose the account to connect.";
}

async function approveConnect(): Promise<void> {
  if (!vault) return;
  if (ui.connectAccount.disabled) {
    if (!(await unlock())) return;
    const accounts = vault.accounts();
    ui.connectAccount.replaceChildren(...accounts.map((a) => new Option(`${a.label} · ${shortAddress(a.address)}`, String(a.index))));
    ui.connectAccount.disabled = false;
    ui.password.closest("form")?.querySelector<HTMLElement>("label[for=approve-password]")?.setAttribute("hidden", "");
    ui.password.hidden = true;
    ui.status.textContent = "Choose the account this site may see, then connect.";
    ui.connectAccount.focus();
    return;
  }
  const index = Number(ui.connectAccount.value);
  const account = vault.accounts().find((a) => a.index === index);
  if (!account) return;
  done({ address: account.address, index: account.index, label: account.label, at: Date.now() } satisfies Permission);
}

// ---------------------------------------------------------------- transfer

/** The verified account state the payment was planned from. */
let verified: VerifiedAccountState | null = null;

/** Shows a plan's fee, total and nonce. */
function showPlan(p: TransferPlan): void {
  ui.transferFee.textContent = `${formatRuv(p.fee)} rUv`;
  ui.transferTotal.textContent = `${formatRuv(p.total)} rUv`;
  ui.transferNonce.textContent = p.nonce.toString();
}

async function showTransfer(approval: Extract<Approval, { kind: "transfer" }>): Promise<void> {
  ui.heading.textContent = "Approve this payment?";
  ui.transferPart.hidden = false;
  ui.approve.textContent = "Approve, sign and send";
  ui.approve.disabled = true;
  ui.transferFrom.textContent = `${approval.account.label} · ${approval.account.address}`;
  ui.transferTo.textContent = approval.to;
  ui.transferAmount.textContent = `${formatRuv(microFromApi(approval.amount))} rUv`;
  ui.transferMemo.textContent = approval.memo === "" ? "(none)" : approval.memo;
  ui.status.textContent = "Verifying the account's balance and nonce…";
  const net = network!;
  ui.transferNetwork.textContent = net.chainId;
  try {
    light = await LightClient.connect(net.relays, { genesis: net.genesisText });
    verified = await light.account(approval.account.address);
    if (verified.stale) throw new Error("no recent verified checkpoint; the balance may be out of date");
    ui.transferBalance.textContent = `${formatRuv(microFromApi(verified.balance))} rUv (verified at checkpoint ${verified.checkpoint})`;
    // The vault's pending payments are readable only once it is unlocked: planned again then (approveTransfer).
    const result = await planWith(approval, storedEarlier(approval));
    if (!result.ok) {
      ui.status.textContent = `This payment cannot be made: ${Object.values(result.errors).join(" ")}`;
      ui.approve.hidden = true;
      return;
    }
    plan = result.plan;
  } catch (e) {
    ui.status.textContent = `Cannot verify the account now (${errorText(e)}); nothing can be approved.`;
    ui.approve.hidden = true;
    return;
  }
  showPlan(plan);
  ui.approve.disabled = false;
  ui.status.textContent = "Check the payment, enter your password and approve, or reject it.";
}

/** A payment from the account signed earlier, whose nonce may be in use. */
interface Earlier {
  id: string;
  nonce: bigint;
  at: number;
  /** Stored as proven final (proven again here). */
  final: boolean;
}

/** Payments in this origin's activity (final ones, and pending ones an older version kept here). */
function storedEarlier(approval: Extract<Approval, { kind: "transfer" }>): Earlier[] {
  return loadActivity(localStorage, network!.chainId, approval.account.address)
    .filter((i) => i.kind === "sent" && i.nonce !== null && !i.unproven && i.status !== "rejected")
    .map((i) => ({ id: i.id, nonce: BigInt(i.nonce!), at: i.at, final: i.status === "final" }));
}

/** The account's payments the unlocked vault keeps as pending. */
function vaultEarlier(approval: Extract<Approval, { kind: "transfer" }>): Earlier[] {
  return vault!
    .pendingTransfers()
    .filter((p) => p.account === approval.account.index)
    .map((p) => ({ id: p.id, nonce: BigInt(p.nonce), at: p.at, final: false }));
}

/** The payment planned from the verified account state and the earlier payments proven final. */
async function planWith(approval: Extract<Approval, { kind: "transfer" }>, earlier: Earlier[]) {
  const lastFinal = await earlierPayments(microFromApi(verified!.nonce), earlier);
  return planTransfer(network!, verified!, lastFinal, { to: approval.to, amount: microFromApi(approval.amount), memo: approval.memo });
}

/** Verdicts already proven in this window (an earlier payment is waited for once). */
const verdicts = new Map<string, "final" | "rejected">();

/**
 * The nonce of the account's last payment proven final that proofs of the
 * account may not show yet. Only proofs move it: an earlier payment is a
 * reason to wait for one, never a nonce taken on trust. One still pending
 * with a newer nonce blocks a new one (its nonce is in use) until proven.
 */
async function earlierPayments(verifiedNonce: bigint, earlier: Earlier[]): Promise<bigint> {
  let last = verifiedNonce;
  for (const item of earlier) {
    if (item.nonce <= verifiedNonce) continue;
    // Old enough that it may never have arrived: its nonce is offered again (see PENDING_RESERVES_NONCE_MS).
    if (!item.final && Date.now() - item.at >= PENDING_RESERVES_NONCE_MS) continue;
    let verdict = verdicts.get(item.id);
    if (!verdict) {
      const proven = await light!.waitForFinal(item.id, EARLIER_PAYMENT_WAIT_MS).catch(() => null);
      if (!proven) throw new Error(`an earlier payment from this account (${item.id.slice(0, 12)}…) is not proven final yet; try again once it is`);
      verdict = proven.status === "final" ? "final" : "rejected";
      verdicts.set(item.id, verdict);
    }
    if (verdict === "final" && item.nonce > last) last = item.nonce;
  }
  return last;
}

function samePlan(a: TransferPlan, b: TransferPlan): boolean {
  return JSON.stringify(signParams(a)) === JSON.stringify(signParams(b)) && a.total === b.total;
}

async function approveTransfer(approval: Extract<Approval, { kind: "transfer" }>): Promise<void> {
  if (!plan || !light || !network || !(await unlock())) return;
  const v = vault!;
  if (!permittedAccount(approval.account)) {
    refuse(internal("The connected account is no longer in this wallet; connect again."));
    return;
  }
  // Now the vault's pending payments are readable: sign only if they leave the plan shown as it is.
  ui.status.textContent = "Checking the account's pending payments…";
  let again: TransferPlan;
  try {
    const result = await planWith(approval, [...storedEarlier(approval), ...vaultEarlier(approval)]);
    if (!result.ok) throw new Error(Object.values(result.errors).join(" "));
    again = result.plan;
  } catch (e) {
    v.lock();
    ui.status.textContent = `This payment cannot be made now: ${errorText(e)}`;
    ui.approve.hidden = true;
    return;
  }
  if (!samePlan(again, plan)) {
    v.lock();
    plan = again;
    showPlan(plan);
    ui.status.textContent = "A payment this wallet keeps as pending changed the plan; nothing was signed. Check it and approve again.";
    ui.password.focus();
    return;
  }
  let tx: SignedTransaction;
  try {
    tx = v.signTransfer(approval.account.index, signParams(plan));
  } catch (e) {
    v.lock();
    fieldError(ui.password, ui.error, `Could not sign: ${errorText(e)}`);
    return;
  }
  try {
    const mismatch = signedMatches(tx, plan);
    if (mismatch) {
      refuse(internal(`Internal error: ${mismatch}; nothing was sent.`));
      return;
    }
    const txId = tx.id;
    // Kept in the vault (encrypted) before it is sent: the wallet follows it to its proven fate from there.
    try {
      await v.addPendingTransfer(pendingOf(approval, plan, txId));
    } catch (e) {
      refuse(internal(`The wallet could not keep the payment: ${errorText(e)}; nothing was sent.`));
      return;
    }
    ui.status.textContent = "Sending…";
    const status = await light.submit(tx);
    // "expired" (dropped before it was issued, says the relay) is not a
    // verdict: the payment stays kept as pending and proofs settle it.
    if (status.status === "rejected") {
      const reason = status.reason?.message ?? "no reason given";
      await forgetRejected(approval, plan, txId, reason);
      refuse(internal(`The relay refused the payment: ${reason} (not verified).`));
      return;
    }
    done(txId);
  } catch (e) {
    const code = codeOf(e);
    // It may have arrived: its id is the answer; its fate is settled by proofs (ruv_waitForFinal).
    if (code === "connection" || code === "timeout" || code === "duplicate_transaction") done(tx.id);
    else refuse(internal(`Could not send: ${errorText(e)}`));
  } finally {
    v.lock();
    tx.free();
  }
}

/** The vault's record of the payment (the wallet page shows it with the site's origin). */
function pendingOf(approval: Extract<Approval, { kind: "transfer" }>, p: TransferPlan, txId: string): PendingTransfer {
  return {
    id: txId,
    account: approval.account.index,
    to: p.to,
    amount: p.amount.toString(),
    fee: p.fee.toString(),
    nonce: p.nonce.toString(),
    at: Date.now(),
    origin: approval.origin,
  };
}

/** A payment the relay refused at once: out of the vault's pending list, into the activity with the relay's word. */
async function forgetRejected(approval: Extract<Approval, { kind: "transfer" }>, p: TransferPlan, txId: string, reason: string): Promise<void> {
  const entry: StoredActivity = {
    id: txId,
    kind: "sent",
    amount: p.amount.toString(),
    fee: p.fee.toString(),
    counterpart: p.to,
    nonce: p.nonce.toString(),
    status: "rejected",
    unproven: true,
    reason: `the relay refused it: ${reason} (not verified)`,
    origin: approval.origin,
    at: Date.now(),
  };
  const items = loadActivity(localStorage, p.chainId, p.from);
  saveActivity(localStorage, p.chainId, p.from, [...items.filter((i) => i.id !== txId), entry]);
  // If this fails it stays pending in the vault, and the wallet settles it by proofs.
  await vault!.removePendingTransfer(txId).catch((e) => console.warn("could not drop the refused payment from the vault:", errorText(e)));
}

// ---------------------------------------------------------------- sign a message

function showMessage(approval: Extract<Approval, { kind: "sign-message" }>): void {
  ui.heading.textContent = "Sign this message?";
  ui.messagePart.hidden = false;
  ui.approve.textContent = "Sign";
  ui.messageAccount.textContent = `${approval.account.label} · ${approval.account.address}`;
  ui.messageContext.textContent = approval.context;
  ui.messageText.textContent = approval.message;
  ui.status.textContent = "A signed message can prove to the site that you hold this account. It cannot move funds.";
}

async function approveMessage(approval: Extract<Approval, { kind: "sign-message" }>): Promise<void> {
  if (!(await unlock())) return;
  if (!permittedAccount(approval.account)) {
    refuse(internal("The connected account is no longer in this wallet; connect again."));
    return;
  }
  const encoder = new TextEncoder();
  try {
    const signature = vault!.signMessage(approval.account.index, encoder.encode(approval.message), encoder.encode(approval.context));
    done({ address: approval.account.address, context: approval.context, signature: base64url(signature) });
  } catch (e) {
    refuse(internal(`Could not sign: ${errorText(e)}`));
  }
}

function base64url(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

// ---------------------------------------------------------------- start

async function start(): Promise<void> {
  const approval = (await chrome.runtime.sendMessage({ type: "approval-get", id } satisfies ApprovalMessage)) as Approval | null;
  if (!approval) {
    dead("This request is no longer waiting (it was answered, or the wallet restarted). Close this window.");
    return;
  }
  ui.origin.textContent = approval.origin;
  document.title = `rUv wallet: ${approval.origin} asks`;
  try {
    network = await loadNetwork(chrome.runtime.getURL(WALLET_PAGE));
    vault = await Vault.open(undefined, { deriveKey: deriveKeyInWorker });
  } catch (e) {
    dead(`The wallet cannot be opened: ${errorText(e)}`);
    refuse(internal(`The wallet cannot be opened: ${errorText(e)}`));
    return;
  }
  if (vault.state === "empty") {
    // Closing this window answers the site with a rejection (4001).
    dead("There is no wallet in this extension yet. Open the rUv wallet from the toolbar to create one, then try again.");
    return;
  }
  ui.form.hidden = false;
  document.body.dataset.state = "ready";
  ui.reject.addEventListener("click", () => refuse());
  let approve: () => Promise<void>;
  switch (approval.kind) {
    case "connect":
      showConnect();
      approve = approveConnect;
      break;
    case "transfer":
      approve = () => approveTransfer(approval);
      await showTransfer(approval);
      break;
    case "sign-message":
      showMessage(approval);
      approve = () => approveMessage(approval);
      break;
  }
  let busy = false;
  ui.form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (busy) return;
    busy = true;
    ui.approve.disabled = true;
    void approve().finally(() => {
      busy = false;
      ui.approve.disabled = false;
    });
  });
  ui.password.focus();
}

/** The background may stop when idle; asking about this request now and then keeps it (and the request) alive. */
const KEEPALIVE_MS = 20_000;

ui.dismiss.addEventListener("click", () => window.close());
setInterval(() => void chrome.runtime.sendMessage({ type: "approval-get", id } satisfies ApprovalMessage).catch(() => {}), KEEPALIVE_MS);
addEventListener("pagehide", () => vault?.lock());
void start();
