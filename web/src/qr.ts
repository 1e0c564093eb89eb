// The receive QR code: the address as a QR code (byte mode, error
// correction "medium"), drawn as one SVG path from the module grid of
// @paulmillr/qr (no dependencies, by the author of the @noble libraries;
// its raw grid output means no markup from a library reaches the page).
import encodeQR from "@paulmillr/qr";

const SVG = "http://www.w3.org/2000/svg";
/** White modules around the code, as the QR standard asks. */
const QUIET_ZONE = 4;

/** Draws `text` as a QR code into `holder` (replacing what was there). */
export function renderQr(holder: HTMLElement, text: string, label: string): void {
  const grid = encodeQR(text, "raw", { ecc: "medium", border: 0 });
  const size = grid.length + 2 * QUIET_ZONE;
  let d = "";
  grid.forEach((row, y) =>
    row.forEach((dark, x) => {
      if (dark) d += `M${x + QUIET_ZONE} ${y + QUIET_ZONE}h1v1h-1z`;
    }),
  );
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", `0 0 ${size} ${size}`);
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", label);
  svg.setAttribute("shape-rendering", "crispEdges");
  const background = document.createElementNS(SVG, "rect");
  background.setAttribute("width", String(size));
  background.setAttribute("height", String(size));
  background.setAttribute("fill", "#fff");
  const modules = document.createElementNS(SVG, "path");
  modules.setAttribute("d", d);
  modules.setAttribute("fill", "#000");
  svg.append(background, modules);
  holder.replaceChildren(svg);
  holder.dataset.text = text;
}
