// The wallet (index.html), the demo dapp (dapp.html) and the benchmark and
// self-check pages. Built into dist/ and served from an origin of its own
// (scripts/serve-wallet.mjs), never by a relay. `vite dev` is for working on
// the pages: it serves them with the devnet's network.json (run
// scripts/devnet.sh once to write web/dist/network.json).
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { defineConfig, type Plugin } from "vite";
import { subresourceIntegrity } from "./sri";

/** `vite dev` only: the devnet's network.json (written into dist/ by scripts/devnet.sh). */
function devNetwork(): Plugin {
  return {
    name: "ruv-dev-network",
    apply: "serve",
    configureServer(server) {
      server.middlewares.use("/network.json", (_req, res, next) => {
        const path = new URL("./dist/network.json", import.meta.url);
        if (!existsSync(path)) return next();
        res.setHeader("content-type", "application/json");
        res.end(readFileSync(path));
      });
    },
  };
}

export default defineConfig({
  build: {
    // Top-level await and BigInt literals; every browser with WebAssembly ESM support has both.
    target: "es2022",
    rollupOptions: {
      input: {
        wallet: "index.html",
        bench: "bench.html",
        dapp: "dapp.html",
        relayCheck: "relay-check.html",
        lightBench: "light-bench.html",
      },
    },
  },
  // The key-derivation worker (src/kdf-worker.ts) imports the wasm module: an ES module worker.
  worker: { format: "es" },
  plugins: [subresourceIntegrity(createHash) as Plugin, devNetwork()],
});
