// The wallet (index.html), the demo dapp (dapp.html) and the benchmark and
// self-check pages. Built into dist/ and served from an origin of its own
// (scripts/serve-wallet.mjs), never by a relay. `vite dev` is for working on
// the pages: it serves them with the devnet's network.json (run
// scripts/devnet.sh once to write web/dist/network.json).
import { createHash } from "node:crypto";
import { defineConfig, type Plugin } from "vite";
import { subresourceIntegrity } from "./sri";

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
  plugins: [subresourceIntegrity(createHash) as Plugin],
});
