// rUv amounts as exact integers of micro-rUv (1 rUv = 1_000_000 micro-rUv).
// Never through floating point: "0.1 + 0.2" must stay exactly 300000 micro-rUv.

/** Micro-rUv per rUv. */
export const MICRO_PER_RUV = 1_000_000n;
/** Decimal places of an rUv amount. */
export const DECIMALS = 6;
/** Largest amount the protocol can carry (u64). */
export const MAX_MICRO = (1n << 64n) - 1n;

/** The result of reading an amount a person typed. */
export type ParsedAmount = { ok: true; micro: bigint } | { ok: false; error: string };

/**
 * Reads an rUv amount such as "12", "12.5" or "0.000001" into micro-rUv.
 * Accepts digits with at most one "." and at most six decimals; refuses
 * signs, exponents, separators, zero and anything above 2^64 - 1 micro-rUv.
 */
export function parseRuv(text: string): ParsedAmount {
  const t = text.trim();
  if (t === "") return { ok: false, error: "Enter an amount." };
  const m = /^(\d*)(?:\.(\d*))?$/.exec(t);
  if (!m || (m[1] === "" && (m[2] ?? "") === "")) {
    return { ok: false, error: "Enter the amount as a number of rUv, for example 12.5." };
  }
  const whole = m[1] === "" ? "0" : m[1];
  const frac = m[2] ?? "";
  if (frac.length > DECIMALS) {
    return { ok: false, error: `rUv has at most ${DECIMALS} decimal places.` };
  }
  const micro = BigInt(whole) * MICRO_PER_RUV + BigInt(frac.padEnd(DECIMALS, "0"));
  if (micro === 0n) return { ok: false, error: "The amount must be more than zero." };
  if (micro > MAX_MICRO) return { ok: false, error: "That amount is too large." };
  return { ok: true, micro };
}

/** Formats micro-rUv as rUv with no trailing zeros: 12500000n -> "12.5". */
export function formatRuv(micro: bigint): string {
  const negative = micro < 0n;
  const abs = negative ? -micro : micro;
  const whole = abs / MICRO_PER_RUV;
  const frac = (abs % MICRO_PER_RUV).toString().padStart(DECIMALS, "0").replace(/0+$/, "");
  const groupedWhole = whole.toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return `${negative ? "-" : ""}${groupedWhole}${frac ? "." + frac : ""}`;
}

/** Reads a u64 decimal string from the relay (an amount in micro-rUv). */
export function microFromApi(text: string): bigint {
  if (!/^(0|[1-9]\d*)$/.test(text)) throw new Error(`not a decimal amount: ${text}`);
  const v = BigInt(text);
  if (v > MAX_MICRO) throw new Error(`amount out of range: ${text}`);
  return v;
}
