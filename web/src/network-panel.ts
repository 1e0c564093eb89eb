// The network panel: what the wallet is connected to and what it verified.
// The network (chain id, genesis hash, validators) is the wallet's own
// genesis; each relay is shown in use, on standby or dropped (with the
// light client's reason: a lie, a timeout, staleness); the newest verified
// checkpoint with its age. Redrawn with the connection line.
import type { LightClient } from "ruv-client";
import type { Network } from "./network";
import { $ } from "./ui";

const ui = {
  chain: $("net-chain"),
  genesis: $("net-genesis"),
  validators: $("net-validators"),
  checkpoint: $("net-checkpoint"),
  relays: $<HTMLUListElement>("net-relays"),
};

function validatorCount(network: Network): number | null {
  const validators = (JSON.parse(network.genesisText) as { validators?: unknown }).validators;
  return Array.isArray(validators) ? validators.length : null;
}

/** Draws the panel; `ageText` formats a checkpoint's age the way the page does. */
export function renderNetworkPanel(network: Network, light: LightClient | null, ageText: (ms: number) => string): void {
  ui.chain.textContent = network.chainId;
  ui.genesis.textContent = light?.genesisHash ?? "…";
  ui.validators.textContent = String(validatorCount(network) ?? "?");
  const latest = light?.latestCheckpoint ?? null;
  ui.checkpoint.textContent = latest
    ? `${latest.number}, ${ageText(latest.ageMs)} old${latest.stale ? " (stale)" : ""}`
    : "none verified yet";
  ui.checkpoint.dataset.number = latest?.number ?? "";
  const dropped = new Map((light?.droppedRelays ?? []).map((d) => [d.relay, d.reason]));
  const items = network.relays.map((relay) => {
    const li = document.createElement("li");
    li.dataset.testid = "net-relay";
    const state = light?.relay === relay ? "in use" : dropped.has(relay) ? "dropped" : "standby";
    li.dataset.state = state;
    const url = document.createElement("code");
    url.textContent = relay;
    const what = document.createElement("span");
    what.textContent = state === "dropped" ? ` dropped: ${dropped.get(relay)}` : ` ${state}`;
    li.append(url, what);
    return li;
  });
  // Only redraw when something changed (the panel is redrawn every second).
  const before = [...ui.relays.children].map((li) => li.textContent).join("\n");
  if (before !== items.map((li) => li.textContent).join("\n")) ui.relays.replaceChildren(...items);
}
