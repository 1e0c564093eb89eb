// The network this wallet belongs to: its genesis (the trust anchor: chain
// id, validators, fee schedule) and its relays. It comes from the wallet's
// own files (`network.json` next to index.html, written when the wallet is
// deployed; `scripts/devnet.sh` writes the devnet's), never from a relay.
import { relayUrls } from "./relay-url";

export interface Network {
  /** The genesis file's text, exactly as given to `LightClient.connect`. */
  genesisText: string;
  chainId: string;
  fees: { base: string; per_byte: string; burn_percent: number };
  /** Relay WebSocket URLs to use, in order. */
  relays: string[];
}

interface NetworkFile {
  genesis: unknown;
  relays?: unknown;
}

/** Loads `network.json`; `?relay=` (several, comma-separated) overrides its relay list. */
export async function loadNetwork(location: Location): Promise<Network> {
  const response = await fetch(new URL("network.json", location.href), { cache: "no-cache" });
  if (!response.ok) throw new Error(`this wallet has no network configuration (network.json: HTTP ${response.status})`);
  const file = (await response.json()) as NetworkFile;
  const genesis = file.genesis as { chain_id?: unknown; fees?: unknown } | null;
  if (!genesis || typeof genesis.chain_id !== "string" || typeof genesis.fees !== "object" || genesis.fees === null) {
    throw new Error("network.json has no valid genesis");
  }
  const listed = Array.isArray(file.relays) ? file.relays.filter((u): u is string => typeof u === "string") : [];
  const override = new URLSearchParams(location.search).get("relay");
  return {
    genesisText: JSON.stringify(file.genesis),
    chainId: genesis.chain_id,
    fees: genesis.fees as Network["fees"],
    relays: override || listed.length === 0 ? relayUrls(location) : listed,
  };
}
