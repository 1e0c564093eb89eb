// What a payment will be before anything is signed: recipient, amount, fee,
// total, nonce and network, checked against the verified account state. The
// web wallet's send form and the extension (popup and dapp approvals) both
// plan payments here and show the plan on a confirmation screen; only a
// confirmed plan is signed.
import { minimumFee, transferSize, validateAddress, type SignedTransaction } from "ruv-client";
import { formatRuv, microFromApi, parseRuv } from "./amount";
import type { Network } from "./network";

/** Longest memo, in UTF-8 bytes (the protocol's limit). */
export const MAX_MEMO_BYTES = 128;
/**
 * The most fee this wallet signs for one payment: 0.1 rUv (a plain devnet
 * transfer costs 0.006326 rUv). A network configuration whose fee schedule
 * asks more is refused rather than signed.
 */
export const MAX_FEE_MICRO = 100_000n;

/** A payment ready for the confirmation screen. */
export interface TransferPlan {
  chainId: string;
  from: string;
  to: string;
  amount: bigint;
  fee: bigint;
  total: bigint;
  /** From the verified account state (and this wallet's own payments proven final since). */
  nonce: bigint;
  memo: string;
}

export type TransferField = "to" | "amount" | "memo";
export type PlanResult = { ok: true; plan: TransferPlan } | { ok: false; errors: Partial<Record<TransferField, string>> };

/** The verified state a plan is made from. */
export interface VerifiedFunds {
  address: string;
  balance: string;
  nonce: string;
}

const textEncoder = new TextEncoder();

/** The fee schedule and chain id, from the genesis, in the shape `minimumFee` takes. */
export function feeContext(network: Network): { chain_id: string; fees: Network["fees"] } {
  return { chain_id: network.chainId, fees: network.fees };
}

/** The fee for a payment with this memo, from the genesis schedule. */
export function feeFor(network: Network, memo: string): bigint {
  return BigInt(minimumFee(feeContext(network), memo));
}

/**
 * Checks a payment against the network and the verified account: the
 * address, the amount, the memo, the fee cap, the balance. `lastFinalNonce`
 * is the nonce of this wallet's last payment from the account proven final
 * (proofs of the account may lag behind it).
 */
export function planTransfer(
  network: Network,
  funds: VerifiedFunds,
  lastFinalNonce: bigint,
  draft: { to: string; amount: string | bigint; memo?: string },
): PlanResult {
  const errors: Partial<Record<TransferField, string>> = {};
  const to = draft.to.trim();
  const memo = draft.memo ?? "";
  try {
    validateAddress(to);
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    errors.to = to === "" ? "Enter the recipient's address." : `That is not a valid rUv address: ${why}.`;
  }
  let amount: bigint | null = null;
  if (typeof draft.amount === "bigint") {
    if (draft.amount <= 0n) errors.amount = "The amount must be more than zero.";
    else amount = draft.amount;
  } else {
    const parsed = parseRuv(draft.amount);
    if (parsed.ok) amount = parsed.micro;
    else errors.amount = parsed.error;
  }
  const memoBytes = textEncoder.encode(memo).length;
  if (memoBytes > MAX_MEMO_BYTES) errors.memo = `The memo is ${memoBytes} bytes; at most ${MAX_MEMO_BYTES}.`;
  if (amount === null || errors.to || errors.memo) return { ok: false, errors };

  const fee = feeFor(network, memo);
  if (fee > MAX_FEE_MICRO) {
    return {
      ok: false,
      errors: {
        amount: `The network asks a fee of ${formatRuv(fee)} rUv, above this wallet's cap of ${formatRuv(MAX_FEE_MICRO)} rUv; nothing is signed.`,
      },
    };
  }
  const balance = microFromApi(funds.balance);
  const total = amount + fee;
  if (total > balance) {
    return {
      ok: false,
      errors: {
        amount: `Not enough rUv: this needs ${formatRuv(total)} rUv including the ${formatRuv(fee)} rUv fee, and you have ${formatRuv(balance)} rUv.`,
      },
    };
  }
  const accountNonce = microFromApi(funds.nonce);
  const nonce = (accountNonce > lastFinalNonce ? accountNonce : lastFinalNonce) + 1n;
  return { ok: true, plan: { chainId: network.chainId, from: funds.address, to, amount, fee, total, nonce, memo } };
}

/** The parameters the vault signs for a plan. */
export function signParams(plan: TransferPlan): { chainId: string; to: string; amount: string; fee: string; nonce: string; memo: string } {
  return {
    chainId: plan.chainId,
    to: plan.to,
    amount: plan.amount.toString(),
    fee: plan.fee.toString(),
    nonce: plan.nonce.toString(),
    memo: plan.memo,
  };
}

/**
 * Checks that the vault signed exactly the plan: the account, and the size
 * the fee was computed for. Returns the problem, or null.
 */
export function signedMatches(tx: SignedTransaction, plan: TransferPlan): string | null {
  const json = tx.toJSON();
  if (json.from !== plan.from) return "the vault signed from a different account than the one shown";
  if (json.to !== plan.to || json.amount !== plan.amount.toString() || json.fee !== plan.fee.toString() || json.nonce !== plan.nonce.toString()) {
    return "the vault signed something other than what was confirmed";
  }
  if (tx.toBytes().length !== transferSize(plan.chainId, plan.memo)) return "the signed size does not match the fee computation";
  return null;
}
