#!/usr/bin/env node
// Serves the built wallet (web/dist) from an origin of its own, never from a
// relay: the vault's origin must not be one that relay operators (or anyone
// on the path to an http:// relay) can put script into. Static files only,
// GET and HEAD, with a strict Content-Security-Policy and the usual security
// headers on every answer.
//
//   node scripts/serve-wallet.mjs --dir web/dist --listen 127.0.0.1:7180
//
// connect-src lists exactly the relays of the wallet's network.json (their
// ws(s):// URL and the matching http(s):// origin, for the devnet faucet),
// read again on every request, so the page can talk to no other server.
// Prints "listening on http://HOST:PORT/" once it is.
import { createReadStream, readFileSync, statSync } from "node:fs";
import { createServer } from "node:http";
import { extname, join, normalize, resolve, sep } from "node:path";

const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".wasm": "application/wasm",
  ".json": "application/json; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".txt": "text/plain; charset=utf-8",
};

function parseArgs(argv) {
  const args = { dir: "web/dist", listen: "127.0.0.1:7180" };
  for (let i = 0; i < argv.length; i++) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (flag === "--dir") args.dir = value;
    else if (flag === "--listen") args.listen = value;
    else {
      console.error(`unknown option ${flag}\nusage: serve-wallet.mjs --dir DIR --listen HOST:PORT`);
      process.exit(2);
    }
    i++;
  }
  const at = args.listen.lastIndexOf(":");
  const port = Number(args.listen.slice(at + 1));
  if (at < 0 || !Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`--listen wants HOST:PORT, not ${args.listen}`);
    process.exit(2);
  }
  return { root: resolve(args.dir), host: args.listen.slice(0, at), port };
}

/** The relays' origins for connect-src: each ws(s) URL's origin and its http(s) twin. */
export function relayOrigins(networkJsonText) {
  let relays = [];
  try {
    const parsed = JSON.parse(networkJsonText);
    if (Array.isArray(parsed?.relays)) relays = parsed.relays.filter((r) => typeof r === "string");
  } catch {
    return [];
  }
  const origins = new Set();
  for (const relay of relays) {
    let url;
    try {
      url = new URL(relay);
    } catch {
      continue;
    }
    const twin = { "ws:": "http:", "wss:": "https:", "http:": "ws:", "https:": "wss:" }[url.protocol];
    if (!twin) continue;
    origins.add(`${url.protocol}//${url.host}`);
    origins.add(`${twin}//${url.host}`);
  }
  return [...origins];
}

/** The policy for every page of the wallet's origin. */
export function contentSecurityPolicy(connect) {
  return [
    "default-src 'none'",
    // Only the wallet's own script; WebAssembly compilation, nothing else eval-like.
    "script-src 'self' 'wasm-unsafe-eval'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    `connect-src 'self' ${connect.join(" ")}`.trim(),
    "worker-src 'self'",
    "manifest-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
    "object-src 'none'",
  ].join("; ");
}

function securityHeaders(root) {
  let connect = [];
  try {
    connect = relayOrigins(readFileSync(join(root, "network.json"), "utf8"));
  } catch {
    // No network.json: the page says so; it may connect to nothing else.
  }
  return {
    "content-security-policy": contentSecurityPolicy(connect),
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=(), serial=()",
  };
}

function main() {
  const { root, host, port } = parseArgs(process.argv.slice(2));
  const server = createServer((req, res) => {
    const headers = securityHeaders(root);
    const fail = (status, text) => {
      res.writeHead(status, { ...headers, "content-type": "text/plain; charset=utf-8" });
      res.end(req.method === "HEAD" ? undefined : `${text}\n`);
    };
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.setHeader("allow", "GET, HEAD");
      return fail(405, "method not allowed");
    }
    let path;
    try {
      path = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
    } catch {
      return fail(400, "bad path");
    }
    if (path.endsWith("/")) path += "index.html";
    const file = normalize(join(root, path));
    if (!file.startsWith(root + sep) || path.includes("\0")) return fail(404, "not found");
    let size;
    try {
      const stat = statSync(file);
      if (!stat.isFile()) return fail(404, "not found");
      size = stat.size;
    } catch {
      return fail(404, "not found");
    }
    const ext = extname(file);
    res.writeHead(200, {
      ...headers,
      "content-type": TYPES[ext] ?? "application/octet-stream",
      "content-length": size,
      // Hashed asset names never change content; pages and network.json do.
      "cache-control": path.startsWith("/assets/") ? "public, max-age=31536000, immutable" : "no-cache",
    });
    if (req.method === "HEAD") return res.end();
    createReadStream(file).pipe(res);
  });
  server.listen(port, host, () => {
    const addr = server.address();
    console.log(`listening on http://${host}:${addr.port}/`);
  });
  const stop = () => server.close(() => process.exit(0));
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

if (import.meta.url === `file://${process.argv[1]}`) main();
