// The extension's pages and service worker (content scripts: vite.scripts.config.ts).
// The root is the repository, so the wallet page is the web wallet's own
// (web/index.html and its modules, with the connected-sites settings added):
// one wallet, built twice, never written twice.
//
//   dist/manifest.json, dist/background.js        (public/, src/background.ts)
//   dist/web/index.html                           the popup: the wallet page
//   dist/web/network.json                         the network (see below)
//   dist/extension/approval.html                  the approval window
//
// The network: $RUV_NETWORK_JSON if set, else web/dist/network.json (what
// scripts/devnet.sh writes for the devnet), copied in as dist/web/network.json.
import { existsSync, readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { defineConfig, type Plugin } from "vite";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "..");

/** Adds the extension's own settings (connected sites) to the wallet page. */
function walletPageAdditions(): Plugin {
  return {
    name: "ruv-extension-wallet-page",
    transformIndexHtml: {
      order: "pre",
      handler(html, ctx) {
        if (!ctx.filename.endsWith("web/index.html")) return html;
        return html.replace("</body>", '    <script type="module" src="/extension/src/sites.ts"></script>\n  </body>');
      },
    },
  };
}

/** Ships the network configuration with the extension (a relay never supplies it). */
function networkConfig(): Plugin {
  return {
    name: "ruv-extension-network",
    apply: "build",
    generateBundle() {
      const path = process.env.RUV_NETWORK_JSON ?? resolve(root, "web/dist/network.json");
      if (!existsSync(path)) {
        this.warn(`no network configuration at ${path}: the extension will say it has none (set RUV_NETWORK_JSON)`);
        return;
      }
      this.emitFile({ type: "asset", fileName: "web/network.json", source: readFileSync(path, "utf8") });
    },
  };
}

export default defineConfig({
  root,
  base: "/",
  publicDir: resolve(here, "public"),
  resolve: {
    alias: { "ruv-client": resolve(here, "src/ruv-client.ts") },
  },
  plugins: [walletPageAdditions(), networkConfig()],
  // The key-derivation worker (web/src/kdf-worker.ts) imports the wasm module: an ES module worker.
  worker: { format: "es" },
  build: {
    outDir: resolve(here, "dist"),
    emptyOutDir: true,
    target: "es2022",
    // No inline data: URLs (the extension's CSP allows only its own files).
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    rollupOptions: {
      input: {
        wallet: resolve(root, "web/index.html"),
        approval: resolve(here, "approval.html"),
        background: resolve(here, "src/background.ts"),
      },
      output: {
        entryFileNames: (chunk) => (chunk.name === "background" ? "background.js" : "assets/[name]-[hash].js"),
      },
    },
  },
});
