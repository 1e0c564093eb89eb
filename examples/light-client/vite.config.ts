// ruv-client (the wasm-pack "bundler" build) imports its .wasm as an ES
// module; Vite 8 handles that with no plugin, instantiating it with a
// top-level await, hence ES2022.
import { defineConfig } from "vite";

export default defineConfig({
  // Relative asset URLs: dist/ works from any folder of any static server.
  base: "./",
  build: { target: "es2022" },
});
