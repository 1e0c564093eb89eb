//! TypeScript declarations for the plain-object shapes that cross the JS
//! boundary (wasm-bindgen generates the classes; these are the rest).

use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &'static str = r#"
/** A u64 from JavaScript: a decimal string, a safe integer, or a BigInt. Amounts are micro-rUv (1 rUv = 1_000_000). */
export type U64 = string | number | bigint;

/** Parameters of `Keypair.signTransfer`. */
export interface TransferParams {
  chainId: string;
  to: string;
  amount: U64;
  fee: U64;
  /** The sender's next nonce: account nonce + 1. */
  nonce: U64;
  memo?: string;
}

/** The JSON form of a signed transfer (what the relay API takes). u64 fields are decimal strings. */
export interface SignedTransferJson {
  chain_id: string; from: string; to: string;
  amount: string; fee: string; nonce: string; memo: string;
  /** base64url, unpadded */
  public_key: string;
  /** base64url, unpadded */
  signature: string;
}

/** Every error thrown by this package is an Error with a stable `code`. */
export interface RuvError extends Error { code: string }

export interface FeeSchedule { base: string; per_byte: string; burn_percent: number }

export interface NetworkStatus {
  chain_id: string; relay: string; version: string; validators: number; peers_connected: number;
  accepted_transactions: string; pending_transactions: string; faucet: boolean; fees: FeeSchedule;
}

export interface AccountInfo { address: string; balance: string; nonce: string }

export interface TxStatus {
  id: string;
  status: "pending" | "accepted" | "rejected";
  reason?: { code: string; message: string };
}

export type RelayEvent =
  | ({ type: "account" } & AccountInfo)
  | ({ type: "transaction" } & TxStatus);
"#;

#[wasm_bindgen(typescript_custom_section)]
const TS_RELAY_TYPES: &'static str = r#"
/** Options of `RelayClient.connect`. */
export interface ConnectOptions {
  /** How long a request may wait for its answer (default 15000). */
  requestTimeoutMs?: number;
  /** How long the WebSocket handshake may take (default 10000). */
  connectTimeoutMs?: number;
}

/** An account subscription event: the account's new balance and nonce. */
export type AccountEvent = { type: "account" } & AccountInfo;

/** A transaction subscription event: the transaction's new status. */
export type TransactionEvent = { type: "transaction" } & TxStatus;

/** A `RelayPool` connection change. */
export interface PoolStatus {
  connected: boolean;
  /** The relay connected to, or the one that was lost or could not be reached. */
  url: string;
  /** Why, when not connected. */
  error?: RuvError;
}
"#;
