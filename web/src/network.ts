// The network this wallet belongs to: its genesis (the trust anchor: chain
// id, validators, fee schedule) and its relays. It comes from the wallet's
// own files (`network.json` next to index.html, written when the wallet is
// deployed; `scripts/devnet.sh` writes the devnet's), never from a relay and
// never from the page's URL: a link cannot point the wallet at other relays.
// Other relays take an explicit change in the settings (`saveCustomRelays`),
// kept per network in this origin's storage and shown while in use.

export interface Network {
  /** The genesis file's text, exactly as given to `LightClient.connect`. */
  genesisText: string;
  chainId: string;
  fees: { base: string; per_byte: string; burn_percent: number };
  /** Relay WebSocket URLs to use, in order. */
  relays: string[];
  /** The relays network.json lists. */
  configuredRelays: string[];
  /** `relays` are the user's own choice (settings), not network.json's. */
  custom: boolean;
}

interface NetworkFile {
  genesis: unknown;
  relays?: unknown;
}

/** Most relays a custom list may hold. */
export const MAX_CUSTOM_RELAYS = 8;

const customKey = (chainId: string) => `ruv-wallet/relays/${chainId}`;

/** Loads `network.json` from next to the page, and the relays chosen in the settings if any. */
export async function loadNetwork(base: string | URL, storage: Pick<Storage, "getItem"> | null = localStorage): Promise<Network> {
  const response = await fetch(new URL("network.json", base), { cache: "no-cache" });
  if (!response.ok) throw new Error(`this wallet has no network configuration (network.json: HTTP ${response.status})`);
  const file = (await response.json()) as NetworkFile;
  const genesis = file.genesis as { chain_id?: unknown; fees?: unknown } | null;
  if (!genesis || typeof genesis.chain_id !== "string" || typeof genesis.fees !== "object" || genesis.fees === null) {
    throw new Error("network.json has no valid genesis");
  }
  const configuredRelays = Array.isArray(file.relays) ? file.relays.filter((u): u is string => typeof u === "string") : [];
  if (configuredRelays.length === 0) throw new Error("network.json lists no relays");
  const custom = readCustomRelays(storage, genesis.chain_id);
  return {
    genesisText: JSON.stringify(file.genesis),
    chainId: genesis.chain_id,
    fees: genesis.fees as Network["fees"],
    relays: custom ?? configuredRelays,
    configuredRelays,
    custom: custom !== null,
  };
}

function readCustomRelays(storage: Pick<Storage, "getItem"> | null, chainId: string): string[] | null {
  try {
    const parsed: unknown = JSON.parse(storage?.getItem(customKey(chainId)) ?? "null");
    if (!Array.isArray(parsed)) return null;
    const relays = parsed.filter((u): u is string => typeof u === "string" && relayProblem(u) === null);
    return relays.length > 0 ? relays.slice(0, MAX_CUSTOM_RELAYS) : null;
  } catch {
    return null;
  }
}

/** Why `url` cannot be a relay URL, or null if it can. */
export function relayProblem(url: string): string | null {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return `"${url}" is not a URL`;
  }
  if (u.protocol !== "ws:" && u.protocol !== "wss:") return `"${url}" is not a ws:// or wss:// URL`;
  if (u.username || u.password) return `"${url}" carries a user name or password`;
  return null;
}

/** Reads a typed relay list (comma, space or line separated); returns the URLs or the first problem. */
export function parseRelayList(text: string): { ok: true; relays: string[] } | { ok: false; error: string } {
  const relays = text
    .split(/[\s,]+/)
    .map((u) => u.trim())
    .filter((u) => u !== "");
  if (relays.length === 0) return { ok: false, error: "Enter at least one relay URL." };
  if (relays.length > MAX_CUSTOM_RELAYS) return { ok: false, error: `At most ${MAX_CUSTOM_RELAYS} relays.` };
  for (const r of relays) {
    const problem = relayProblem(r);
    if (problem) return { ok: false, error: `${problem}.` };
  }
  return { ok: true, relays };
}

/** Uses `relays` instead of network.json's for network `chainId` (null: back to network.json's). */
export function saveCustomRelays(storage: Pick<Storage, "setItem" | "removeItem">, chainId: string, relays: string[] | null): void {
  if (relays === null) storage.removeItem(customKey(chainId));
  else storage.setItem(customKey(chainId), JSON.stringify(relays));
}
