// The wallet's activity (payments sent, faucet payments asked for, and the
// account's history as relays prove it: payments received and sent from
// anywhere, each with a verified inclusion proof), kept per
// network and address in this origin's localStorage so a reload or a crash
// loses nothing. A payment the wallet page sent and that is not yet proven
// final is kept in the vault instead (encrypted; wallet.ts), and comes here
// once settled; one a site asked for through the extension's approval window
// waits here, where that window checks nonces in use before it unlocks.
// What is stored is not trusted: every stored status is verified again (an
// inclusion proof) before it shows as final.
// Activity is public on the chain anyway; nothing secret is stored here.

export type ActivityKind = "sent" | "faucet" | "received";
export type ActivityStatus = "pending" | "final" | "rejected";

export interface StoredActivity {
  id: string;
  kind: ActivityKind;
  /** micro-rUv, decimal. */
  amount: string;
  fee?: string;
  counterpart: string;
  nonce: string | null;
  status: ActivityStatus;
  reason?: string;
  checkpoint?: string;
  /** A rejection no proof backs (a relay refused at once): never re-checked. */
  unproven?: boolean;
  /** The site that asked for the payment (extension), if any. */
  origin?: string;
  /** When it was sent (ms since the epoch). */
  at: number;
}

/**
 * How long a stored payment not yet proven final keeps its nonce reserved
 * (no new payment from the account until it is proven): 5 minutes. After
 * that it may never have reached the network (relays drop a payment they
 * cannot order within 2 minutes), so its nonce is offered again. That is
 * safe: two payments with one nonce can never both be final, and the
 * wallet shows which one was, proven.
 */
export const PENDING_RESERVES_NONCE_MS = 5 * 60_000;

/** Most entries kept per account (oldest dropped first). */
export const MAX_STORED_ACTIVITY = 200;

const key = (chainId: string, address: string) => `ruv-wallet/activity/${chainId}/${address}`;

function valid(v: unknown): v is StoredActivity {
  if (typeof v !== "object" || v === null) return false;
  const o = v as Record<string, unknown>;
  return (
    typeof o.id === "string" &&
    /^[0-9a-f]{64}$/.test(o.id) &&
    (o.kind === "sent" || o.kind === "faucet" || o.kind === "received") &&
    typeof o.amount === "string" &&
    /^\d{1,20}$/.test(o.amount) &&
    typeof o.counterpart === "string" &&
    (o.nonce === null || (typeof o.nonce === "string" && /^\d{1,20}$/.test(o.nonce))) &&
    (o.status === "pending" || o.status === "final" || o.status === "rejected") &&
    typeof o.at === "number"
  );
}

/** The stored activity of `address` on `chainId`, oldest first; damaged entries are skipped. */
export function loadActivity(storage: Pick<Storage, "getItem">, chainId: string, address: string): StoredActivity[] {
  try {
    const parsed: unknown = JSON.parse(storage.getItem(key(chainId, address)) ?? "[]");
    return Array.isArray(parsed) ? parsed.filter(valid).slice(-MAX_STORED_ACTIVITY) : [];
  } catch {
    return [];
  }
}

/** Stores the activity of `address` on `chainId` (oldest first; only the newest entries are kept). */
export function saveActivity(storage: Pick<Storage, "setItem">, chainId: string, address: string, items: StoredActivity[]): void {
  try {
    storage.setItem(key(chainId, address), JSON.stringify(items.slice(-MAX_STORED_ACTIVITY)));
  } catch (e) {
    // Storage full or refused: the activity still shows until the page closes.
    console.warn("could not store the activity:", e);
  }
}

/** Forgets the stored activity of `address` on `chainId` (the wallet was deleted from this browser). */
export function removeActivity(storage: Pick<Storage, "removeItem">, chainId: string, address: string): void {
  storage.removeItem(key(chainId, address));
}
