// Which sites may see and use which account: one permission per origin,
// granted in an approval window, revoked in the extension's settings.
// Kept in chrome.storage.local (the extension's own storage; pages cannot
// read it). Only the background writes grants; settings may revoke.
import type { Permission } from "./protocol";

const KEY = "ruv/permissions";

export async function allPermissions(): Promise<Record<string, Permission>> {
  const stored = (await chrome.storage.local.get(KEY))[KEY];
  return typeof stored === "object" && stored !== null ? (stored as Record<string, Permission>) : {};
}

export async function permissionOf(origin: string): Promise<Permission | null> {
  return (await allPermissions())[origin] ?? null;
}

export async function grant(origin: string, permission: Permission): Promise<void> {
  const all = await allPermissions();
  all[origin] = permission;
  await chrome.storage.local.set({ [KEY]: all });
}

export async function revoke(origin: string): Promise<void> {
  const all = await allPermissions();
  delete all[origin];
  await chrome.storage.local.set({ [KEY]: all });
}

/** Calls `listener` with the origins whose permission changed (granted, revoked or replaced). */
export function onPermissionsChanged(listener: (changed: Map<string, Permission | null>) => void): void {
  chrome.storage.onChanged.addListener((changes, area) => {
    if (area !== "local" || !(KEY in changes)) return;
    const before = (changes[KEY].oldValue ?? {}) as Record<string, Permission>;
    const after = (changes[KEY].newValue ?? {}) as Record<string, Permission>;
    const changed = new Map<string, Permission | null>();
    for (const origin of new Set([...Object.keys(before), ...Object.keys(after)])) {
      if (before[origin]?.address !== after[origin]?.address) changed.set(origin, after[origin] ?? null);
    }
    if (changed.size > 0) listener(changed);
  });
}
