// Relay URL helpers. Which relays the wallet uses comes from its network
// configuration (network.ts), never from the page's URL.

/** The http(s) origin of a relay URL, for its REST endpoints (the faucet). */
export function httpOrigin(url: string): string {
  const u = new URL(url);
  if (u.protocol === "ws:") u.protocol = "http:";
  else if (u.protocol === "wss:") u.protocol = "https:";
  return u.origin;
}
