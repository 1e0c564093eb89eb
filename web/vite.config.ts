// The wallet (index.html) and the benchmark pages (bench.html, light-bench.html). `vite dev`
// proxies the relay API (REST and WebSocket) to a local devnet relay, so the
// page talks to "its own origin" exactly as it does when a relay serves it.
import { defineConfig } from "vite";

const relay = process.env.RUV_RELAY ?? "http://127.0.0.1:7100";

export default defineConfig({
  build: {
    // Top-level await and BigInt literals; every browser with WebAssembly ESM support has both.
    target: "es2022",
    rollupOptions: {
      input: { wallet: "index.html", bench: "bench.html", relayCheck: "relay-check.html", lightBench: "light-bench.html" },
    },
  },
  server: {
    proxy: {
      "/api": { target: relay, ws: true },
      "/healthz": relay,
    },
  },
});
