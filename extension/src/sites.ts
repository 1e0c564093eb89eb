// The extension's own settings on the wallet page: the sites connected to
// the wallet, each with the account it may see, and a button to disconnect
// it (the site's open pages get `accountsChanged` with [] at once).
import { allPermissions, revoke } from "./permissions";

const settings = document.getElementById("settings");
if (!settings) throw new Error("missing #settings");
document.body.classList.add("in-extension");

const details = document.createElement("details");
details.id = "sites-details";
details.dataset.testid = "sites-details";
const summary = document.createElement("summary");
summary.textContent = "Connected sites";
const intro = document.createElement("p");
intro.textContent = "These sites may see the address of one account and ask you to approve payments or messages. Disconnect a site to take that back.";
const list = document.createElement("ul");
list.className = "sites";
list.dataset.testid = "sites";
const status = document.createElement("p");
status.className = "hint";
status.setAttribute("role", "status");
status.setAttribute("aria-live", "polite");
status.dataset.testid = "sites-status";
details.append(summary, intro, list, status);
settings.querySelector("h2")?.after(details);

async function render(): Promise<void> {
  const permissions = await allPermissions();
  const origins = Object.keys(permissions).sort();
  if (origins.length === 0) {
    const empty = document.createElement("li");
    empty.textContent = "No site is connected.";
    list.replaceChildren(empty);
    return;
  }
  list.replaceChildren(
    ...origins.map((origin) => {
      const p = permissions[origin];
      const li = document.createElement("li");
      li.dataset.testid = "site";
      li.dataset.origin = origin;
      const name = document.createElement("strong");
      name.className = "mono";
      name.textContent = origin;
      const account = document.createElement("span");
      account.className = "hint";
      account.textContent = ` sees ${p.label} (${p.address.slice(0, 10)}…${p.address.slice(-6)}) since ${new Date(p.at).toLocaleString()}`;
      const button = document.createElement("button");
      button.type = "button";
      button.className = "secondary";
      button.dataset.testid = "site-revoke";
      button.textContent = "Disconnect";
      button.addEventListener("click", () => {
        void revoke(origin).then(() => {
          status.textContent = `Disconnected ${origin}.`;
        });
      });
      li.append(name, account, button);
      return li;
    }),
  );
}

chrome.storage.onChanged.addListener((_changes, area) => {
  if (area === "local") void render();
});
void render();
