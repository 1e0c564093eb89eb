// The two content scripts, each one self-contained classic script (content
// scripts cannot be ES modules): `--mode content` (the isolated-world
// messenger) and `--mode inpage` (window.ruv, in the page's world).
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

const here = dirname(fileURLToPath(import.meta.url));

export default defineConfig(({ mode }) => {
  if (mode !== "content" && mode !== "inpage") throw new Error(`--mode content or --mode inpage, not ${mode}`);
  return {
    publicDir: false,
    build: {
      outDir: resolve(here, "dist"),
      emptyOutDir: false,
      target: "es2022",
      lib: {
        entry: resolve(here, `src/${mode}.ts`),
        formats: ["iife"],
        name: mode === "content" ? "ruvContent" : "ruvInpage",
        fileName: () => `${mode}.js`,
      },
    },
  };
});
