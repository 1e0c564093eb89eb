// The wallet's rUv <-> micro-rUv conversion: exact, never through floats.
import { expect, test } from "@playwright/test";
import { formatRuv, parseRuv } from "../web/src/amount";

test("parses rUv amounts exactly", () => {
  const ok: [string, bigint][] = [
    ["1", 1_000_000n],
    ["12.5", 12_500_000n],
    ["0.000001", 1n],
    [".5", 500_000n],
    ["3.", 3_000_000n],
    [" 0.3 ", 300_000n],
    ["18446744073709.551615", 18_446_744_073_709_551_615n],
  ];
  for (const [text, micro] of ok) expect(parseRuv(text), text).toEqual({ ok: true, micro });
  // 0.1 + 0.2 in floating point is 0.30000000000000004; here it is exact.
  const a = parseRuv("0.1");
  const b = parseRuv("0.2");
  expect(a.ok && b.ok && a.micro + b.micro).toBe(300_000n);
});

test("refuses what is not an amount, with a reason", () => {
  for (const text of ["", "  ", ".", "-1", "+1", "1e3", "1,5", "1.2.3", "0", "0.000000", "abc", "0.0000001", "18446744073709.551616"]) {
    const r = parseRuv(text);
    expect(r.ok, text).toBe(false);
    if (!r.ok) expect(r.error.length, text).toBeGreaterThan(5);
  }
});

test("formats micro-rUv without losing digits", () => {
  expect(formatRuv(0n)).toBe("0");
  expect(formatRuv(1n)).toBe("0.000001");
  expect(formatRuv(12_500_000n)).toBe("12.5");
  expect(formatRuv(1_000_000_000n)).toBe("1,000");
  expect(formatRuv(18_446_744_073_709_551_615n)).toBe("18,446,744,073,709.551615");
});
