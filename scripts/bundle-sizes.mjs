#!/usr/bin/env node
// Prints the size of what the browser loads for the wallet (web/dist, the
// wallet page index.html and everything it references) and of the whole
// extension (extension/dist), raw and gzip (level 9), file by file.
// Build both first (`npm run build --workspace web`, `... --workspace extension`).
//
//   node scripts/bundle-sizes.mjs
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const ROOT = resolve(fileURLToPath(new URL("..", import.meta.url)));

function files(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : [path];
  });
}

/** The wallet page and the /assets/ files it names, and the ones those name (imports, wasm, css). */
function walletFiles(dist) {
  const seen = new Set([join(dist, "index.html")]);
  const queue = [...seen];
  while (queue.length > 0) {
    const text = readFileSync(queue.pop(), "latin1");
    for (const m of text.matchAll(/assets\/[A-Za-z0-9_.-]+\.(?:js|css|wasm)/g)) {
      const path = join(dist, m[0]);
      if (!seen.has(path) && existsSync(path)) {
        seen.add(path);
        queue.push(path);
      }
    }
  }
  return [...seen];
}

const kb = (n) => `${(n / 1024).toFixed(1)} KiB`;

function report(title, dist, list) {
  let raw = 0;
  let gz = 0;
  console.log(`\n${title}`);
  for (const path of list.sort()) {
    const body = readFileSync(path);
    const g = gzipSync(body, { level: 9 }).length;
    raw += body.length;
    gz += g;
    console.log(`  ${relative(dist, path).padEnd(44)} ${kb(body.length).padStart(12)} ${kb(g).padStart(12)} gzip`);
  }
  console.log(`  ${"total".padEnd(44)} ${kb(raw).padStart(12)} ${kb(gz).padStart(12)} gzip`);
}

const web = join(ROOT, "web", "dist");
const ext = join(ROOT, "extension", "dist");
for (const [dir, what] of [[web, "web"], [ext, "extension"]]) {
  if (!existsSync(dir)) {
    console.error(`no ${dir}: npm run build --workspace ${what}`);
    process.exit(1);
  }
}
report("The wallet page (web/dist/index.html and what it loads):", web, walletFiles(web));
report("The extension (extension/dist, every file):", ext, files(ext));
