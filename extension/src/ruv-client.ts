// The ruv-client package for the extension's pages: the `--target web`
// build, started before anything uses it. The wallet page's modules (from
// web/) import "ruv-client" and get this (extension/vite.config.ts). The
// service worker imports the package itself and starts it on first use
// (a service worker may not await at the top level).
import init from "../../client-wasm/pkg-web/ruv_client.js";

await init();

export * from "../../client-wasm/pkg-web/ruv_client.js";
