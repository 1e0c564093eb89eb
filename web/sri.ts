// Subresource integrity for the built pages: every script and stylesheet an
// HTML page of dist/ loads from /assets/ gets `integrity="sha384-…"` with the
// hash of the file in the same build, so a file changed after the build (on
// disk, in a cache, on the way) is refused by the browser. Shared with the
// extension's build.
import type { createHash as CreateHash } from "node:crypto";

interface BundleFile {
  type: "chunk" | "asset";
  fileName: string;
  code?: string;
  source?: string | Uint8Array;
}

const TAG = /<(script|link)\b[^>]*?\b(?:src|href)="\/?(assets\/[^"]+)"[^>]*>/g;

/** A Vite/Rollup plugin adding integrity attributes to the HTML pages it builds. */
export function subresourceIntegrity(createHash: typeof CreateHash) {
  return {
    name: "ruv-subresource-integrity",
    enforce: "post" as const,
    apply: "build" as const,
    generateBundle(_options: unknown, bundle: Record<string, BundleFile>) {
      const hashOf = (fileName: string): string => {
        const file = bundle[fileName];
        if (!file) throw new Error(`SRI: ${fileName} is not part of this build`);
        const body = file.type === "chunk" ? file.code ?? "" : file.source ?? "";
        return `sha384-${createHash("sha384").update(body).digest("base64")}`;
      };
      for (const file of Object.values(bundle)) {
        if (file.type !== "asset" || !file.fileName.endsWith(".html")) continue;
        const html = String(file.source);
        file.source = html.replace(TAG, (tag: string, _kind: string, path: string) => {
          if (/\bintegrity=/.test(tag)) return tag;
          const withCors = /\bcrossorigin\b/.test(tag) ? tag : tag.replace(/^<(script|link)/, "<$1 crossorigin");
          return withCors.replace(/>$/, ` integrity="${hashOf(path)}">`);
        });
      }
    },
  };
}
