// A verified rUv balance, the way an application uses the ruv-client
// package: a LightClient over a few relays, trusting only the network's
// genesis file. Every balance it returns is proven (a Merkle proof against a
// checkpoint signed by validators holding more than 2/3 of the stake); this
// page shows it with its checkpoint number and age, and refreshes on every
// new verified checkpoint.
import {
  LightClient,
  validateAddress,
  type CheckpointFreshness,
  type LightClientOptions,
  type RuvError,
  type VerifiedAccountState,
} from "ruv-client";

/** Where the network's configuration comes from: the trust anchor and relays. */
interface NetworkConfig {
  /** The genesis file's text (never taken from a relay). */
  genesis: string;
  relays: string[];
}

/** A balance older than this is shown as stale (the client's default stale limit). */
const STALE_AFTER_MS = 60_000;
const MICRO_PER_RUV = 1_000_000n;

function el(id: string): HTMLElement {
  const found = document.getElementById(id);
  if (!found) throw new Error(`missing #${id}`);
  return found;
}

const ui = {
  status: el("status"),
  address: el("address"),
  balance: el("balance"),
  balanceState: el("balance-state"),
  checkpoint: el("checkpoint"),
  relay: el("relay"),
  dropped: el("dropped"),
};

function setStatus(state: "connecting" | "open" | "stale" | "error", text: string): void {
  ui.status.dataset.state = state;
  ui.status.textContent = text;
}

/** "1,234.5 rUv" from micro-rUv, exactly (no floating point). */
function formatRuv(micro: bigint): string {
  const whole = (micro / MICRO_PER_RUV).toLocaleString("en-US");
  const fraction = (micro % MICRO_PER_RUV).toString().padStart(6, "0").replace(/0+$/, "");
  return `${whole}${fraction ? `.${fraction}` : ""} rUv`;
}

function ageText(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  return s < 120 ? `${s} s` : `${Math.round(s / 60)} min`;
}

function errorText(e: unknown): string {
  const err = e as Partial<RuvError>;
  return err.code ? `${err.message ?? String(e)} (${err.code})` : e instanceof Error ? e.message : String(e);
}

async function fetchText(url: string): Promise<string> {
  const response = await fetch(url, { cache: "no-cache" });
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return response.text();
}

/** `?genesis=URL&relay=a,b`, else (for what is missing) `network.json` next to the page. */
async function loadNetwork(params: URLSearchParams): Promise<NetworkConfig> {
  const genesisUrl = params.get("genesis");
  const relays = (params.get("relay") ?? "")
    .split(",")
    .map((u) => u.trim())
    .filter((u) => u !== "");
  let genesis = genesisUrl ? await fetchText(new URL(genesisUrl, location.href).href) : null;
  if (genesis === null || relays.length === 0) {
    const file = JSON.parse(await fetchText(new URL("network.json", location.href).href)) as {
      genesis?: unknown;
      relays?: unknown;
    };
    if (genesis === null) {
      if (typeof file.genesis !== "object" || file.genesis === null) throw new Error("network.json has no genesis");
      genesis = JSON.stringify(file.genesis);
    }
    if (relays.length === 0 && Array.isArray(file.relays)) {
      relays.push(...file.relays.filter((u): u is string => typeof u === "string"));
    }
  }
  if (relays.length === 0) throw new Error("no relay: give ?relay=ws://… or list relays in network.json");
  return { genesis, relays };
}

/** The newest proven state of the account, and the client that proved it. */
const shown: { account: VerifiedAccountState | null; client: LightClient | null } = { account: null, client: null };

function render(): void {
  const { account, client } = shown;
  const latest: CheckpointFreshness | null = client?.latestCheckpoint ?? null;
  if (client) {
    ui.relay.textContent = client.relay ?? "none right now";
    const dropped = client.droppedRelays;
    ui.dropped.textContent = dropped.length === 0 ? "none" : dropped.map((d) => `${d.relay}: ${d.reason}`).join("; ");
    const evidence = client.equivocationEvidence();
    if (evidence.length > 0) {
      setStatus("error", `Validators signed two different checkpoints ${evidence.map((e) => e.number).join(", ")}: nothing here can be trusted.`);
    } else if (latest?.stale) {
      setStatus("stale", `No recent checkpoint: the newest verified one is ${ageText(latest.ageMs)} old. Still trying.`);
    } else if (latest) {
      setStatus("open", `Connected to ${client.chainId}; every number below is verified.`);
    }
  }
  ui.checkpoint.textContent = latest ? `${latest.number} (${ageText(latest.ageMs)} old, from ${latest.relay})` : "…";
  if (!account) return;
  const micro = BigInt(account.balance);
  const age = Date.now() - account.checkpointTimeMs;
  const stale = age > STALE_AFTER_MS || (latest?.stale ?? true);
  ui.balance.textContent = formatRuv(micro);
  ui.balance.dataset.micro = micro.toString();
  ui.balanceState.dataset.state = stale ? "stale" : "verified";
  ui.balanceState.dataset.checkpoint = account.checkpoint;
  ui.balanceState.textContent = `${stale ? "Stale: last verified" : "Verified"} at checkpoint ${account.checkpoint}, ${ageText(age)} ago`;
}

async function main(): Promise<void> {
  const params = new URLSearchParams(location.search);
  const address = params.get("address")?.trim() ?? "";
  try {
    validateAddress(address);
  } catch (e) {
    setStatus("error", address === "" ? "Give an address: ?address=ruv1…" : `Not an rUv address: ${errorText(e)}`);
    return;
  }
  ui.address.textContent = address;

  let network: NetworkConfig;
  try {
    network = await loadNetwork(params);
  } catch (e) {
    setStatus("error", `No network configuration: ${errorText(e)}`);
    return;
  }

  setStatus("connecting", `Connecting to ${network.relays.join(", ")} and verifying…`);
  const options: LightClientOptions = { genesis: network.genesis, staleAfterMs: STALE_AFTER_MS };
  let client: LightClient;
  try {
    client = await LightClient.connect(network.relays, options);
  } catch (e) {
    setStatus("error", `No relay gave a verifiable answer: ${errorText(e)}`);
    return;
  }
  shown.client = client;

  let refreshing = false;
  const refresh = async (): Promise<void> => {
    if (refreshing) return;
    refreshing = true;
    try {
      const account = await client.account(address);
      // A proof against an older checkpoint than the one shown is not news.
      if (!shown.account || BigInt(account.checkpoint) >= BigInt(shown.account.checkpoint)) shown.account = account;
    } catch (e) {
      if (!shown.account) ui.balanceState.textContent = `Not verified: ${errorText(e)}`;
    } finally {
      refreshing = false;
      render();
    }
  };
  client.onCheckpoint(() => void refresh());
  setInterval(render, 1_000);
  await refresh();
}

void main();
