// The devnet faucet, asked the one way every page asks it: fetch the relay's
// proof-of-work challenge, solve it with the shared client code, post the
// solved request. What the faucet answers is only a relay's word: callers
// show the payment as final once it is proven, like any other.
import { solveFaucetChallenge, type TxStatus } from "ruv-client";
import { httpOrigin } from "./relay-url";

/** The faucet's answer: its payment's status, or why there is none. */
export type FaucetAnswer = { ok: true; status: TxStatus } | { ok: false; message: string };

/** Asks the faucet of the relay at `relay` (ws(s) or http(s) URL) to pay `address`. */
export async function askFaucet(relay: string, address: string): Promise<FaucetAnswer> {
  const origin = httpOrigin(relay);
  const challenge = await fetch(`${origin}/api/v1/faucet/challenge`);
  const challengeText = await challenge.text();
  if (!challenge.ok) return { ok: false, message: errorMessage(parseJson(challengeText), challenge.status) };
  const response = await fetch(`${origin}/api/v1/faucet`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: solveFaucetChallenge(challengeText, address),
  });
  const body = parseJson(await response.text());
  if (!response.ok) return { ok: false, message: errorMessage(body, response.status) };
  if (!isTxStatus(body)) return { ok: false, message: "the faucet's answer was not a transaction status" };
  return { ok: true, status: body };
}

/** Whether `v` has the shape of a relay's transaction status. */
export function isTxStatus(v: unknown): v is TxStatus {
  if (typeof v !== "object" || v === null) return false;
  const o = v as Record<string, unknown>;
  return (
    typeof o.id === "string" &&
    /^[0-9a-f]{64}$/.test(o.id) &&
    (o.status === "pending" || o.status === "accepted" || o.status === "rejected" || o.status === "expired")
  );
}

function errorMessage(body: unknown, status: number): string {
  const message = (body as { error?: { message?: unknown } } | null)?.error?.message;
  return typeof message === "string" ? message : `HTTP ${status}`;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
