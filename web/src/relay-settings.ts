// The relay settings: which relays the wallet uses. By default the ones of
// its network configuration (network.json); the user may choose others here,
// explicitly, after a warning. A link (`?relay=`) cannot do this. Relays
// cannot forge what the wallet shows as verified (every balance and status
// is proven against the genesis), but a relay sees the addresses and
// payments asked about and the asker's IP address, and can withhold. The
// wallet's host may also limit which relays the page can reach at all
// (Content-Security-Policy connect-src).
import { parseRelayList, saveCustomRelays, type Network } from "./network";
import { $, fieldError } from "./ui";

const ui = {
  configured: $("relays-configured"),
  form: $<HTMLFormElement>("relays-form"),
  list: $<HTMLTextAreaElement>("relays-list"),
  listError: $("relays-list-error"),
  understand: $<HTMLInputElement>("relays-understand"),
  save: $<HTMLButtonElement>("relays-save"),
  reset: $<HTMLButtonElement>("relays-reset"),
  status: $("relays-status"),
};

let current: Network | null = null;

/** Fills the relay settings for `network` (called once the network configuration is loaded). */
export function showRelaySettings(network: Network): void {
  current = network;
  ui.configured.textContent = network.configuredRelays.join(", ");
  ui.list.value = network.relays.join("\n");
  ui.reset.hidden = !network.custom;
  ui.status.textContent = network.custom ? "This wallet uses relays you chose, not the network's." : "";
}

function onSave(event: SubmitEvent): void {
  event.preventDefault();
  if (!current || !ui.understand.checked) return;
  const parsed = parseRelayList(ui.list.value);
  fieldError(ui.list, ui.listError, parsed.ok ? "" : parsed.error);
  if (!parsed.ok) {
    ui.list.focus();
    return;
  }
  saveCustomRelays(localStorage, current.chainId, parsed.relays);
  // A fresh start with the new relays: nothing verified through the old ones is reused unverified.
  location.reload();
}

function onReset(): void {
  if (!current) return;
  saveCustomRelays(localStorage, current.chainId, null);
  location.reload();
}

ui.understand.addEventListener("change", () => (ui.save.disabled = !ui.understand.checked));
ui.form.addEventListener("submit", onSave);
ui.reset.addEventListener("click", onReset);
