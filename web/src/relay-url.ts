// Which relay the page talks to: the one that served it (same origin), or
// the ones named by `?relay=ws://host:port/api/v1/ws` (http(s) base URLs
// work too; several, comma-separated, for failover).

/** The relay URLs for this page: `?relay=a,b` if given, else this origin's `/api/v1/ws`. */
export function relayUrls(location: Location | URL): string[] {
  const override = new URLSearchParams(location.search).get("relay");
  const listed = (override ?? "")
    .split(",")
    .map((u) => u.trim())
    .filter((u) => u !== "");
  if (listed.length > 0) return listed;
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return [`${scheme}//${location.host}/api/v1/ws`];
}

/** The first relay URL for this page (see `relayUrls`). */
export function relayUrl(location: Location | URL): string {
  return relayUrls(location)[0];
}

/** The http(s) origin of a relay URL, for its REST endpoints (the faucet). */
export function httpOrigin(url: string): string {
  const u = new URL(url);
  if (u.protocol === "ws:") u.protocol = "http:";
  else if (u.protocol === "wss:") u.protocol = "https:";
  return u.origin;
}
