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
  /** The relay's genesis hash (hex). Informative: a light client trusts its own genesis. */
  genesis_hash: string;
  /** Number of the relay's latest certified checkpoint ("0": none yet). */
  latest_checkpoint: string;
  /** "follower": a relay without a validator key that verifies certified checkpoints from `upstreams`. */
  role?: "validator" | "follower";
  upstreams?: string[];
}

export interface AccountInfo { address: string; balance: string; nonce: string }

/**
 * A relay's word about a transaction, never verified: "accepted" and
 * "rejected" (lost a conflict, or the ledger refused it) are its verdicts;
 * "expired": dropped before it was issued or decided, so its nonce was not
 * used by it (a new transfer may take that nonce once a verified nonce proof,
 * or the account's verified nonce, shows it unused). `reason` comes with
 * "rejected" and "expired" only.
 */
export interface TxStatus {
  id: string;
  status: "pending" | "accepted" | "rejected" | "expired";
  reason?: { code: string; message: string };
}

export type RelayEvent =
  | ({ type: "account" } & AccountInfo)
  | ({ type: "transaction" } & TxStatus)
  | ({ type: "checkpoint" } & CertifiedCheckpoint)
  | ({ type: "account_proof" } & AccountProof);
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

#[wasm_bindgen(typescript_custom_section)]
const TS_VERIFY_TYPES: &'static str = r#"
/** A checkpoint header (the API's JSON form). u64 fields are decimal strings; hashes are 64 lower-case hex digits. */
export interface CheckpointHeader {
  version: number;
  chain_id: string;
  genesis_hash: string;
  epoch: string;
  number: string;
  /** Id of header `number - 1`. */
  previous: string;
  anchor: string;
  state_root: string;
  transaction_root: string;
  transaction_count: string;
  /** Sum of all balances, micro-rUv. */
  circulating: string;
  /** Fees burned so far, micro-rUv (`circulating + burned` = genesis supply). */
  burned: string;
  time_ms: string;
  validator_set_hash: string;
  next_validator_set_hash: string;
}

/** A certified checkpoint as a relay sends it (`get_checkpoint`, `checkpoint` events). */
export interface CertifiedCheckpoint {
  header: CheckpointHeader;
  /** The header's id (64 hex digits), as the relay computed it. */
  header_id: string;
  /** The agreement round every signature precommits in (bound into each signed message). */
  round: number;
  /** Size of the validator set. */
  validator_count: number;
  /** Validator indices of the signers, ascending. */
  signers: number[];
  /** ML-DSA-65 signatures (3309 bytes each, base64url, unpadded), one per signer, same order. */
  signatures: string[];
}

/** A relay's proof of an account's state at a checkpoint (`get_account_proof`). */
export interface AccountProof {
  address: string;
  balance: string;
  nonce: string;
  checkpoint: string;
  /** The encoded sparse Merkle proof (base64url, unpadded). */
  proof: string;
}

/** A relay's proof that a transaction was first included in a checkpoint (`get_transaction_proof`). */
export interface TransactionProof {
  id: string;
  from: string;
  nonce: string;
  checkpoint: string;
  /** The encoded sparse Merkle proof (base64url, unpadded). */
  proof: string;
}

/** An account state a verified checkpoint proves (balance and nonce are zero for an account proven absent). */
export interface VerifiedAccount { address: string; balance: string; nonce: string; checkpoint: string }

/** A transaction a verified checkpoint proves final. */
export interface VerifiedInclusion { id: string; from: string; nonce: string; checkpoint: string }
"#;

#[wasm_bindgen(typescript_custom_section)]
const TS_LIGHT_TYPES: &'static str = r#"
/** Options of `LightClient.connect`. */
export interface LightClientOptions {
  /** The network's genesis file as text: the trust anchor (never taken from a relay). */
  genesis: string;
  /** A certified checkpoint stored earlier (`checkpointJson()`); verified again before use. */
  checkpoint?: CertifiedCheckpoint;
  /** A newest checkpoint older than this is reported as stale (default 60000). */
  staleAfterMs?: number;
  /** How long a request may wait for its answer (default 15000). */
  requestTimeoutMs?: number;
  /** How long a WebSocket handshake may take (default 10000). */
  connectTimeoutMs?: number;
  /** How long `connect` waits for the first verified checkpoint (default 15000). */
  readyTimeoutMs?: number;
}

/** An account's balance and nonce, proven against a certified checkpoint. */
export interface VerifiedAccountState {
  address: string;
  /** micro-rUv, decimal string */
  balance: string;
  nonce: string;
  /** The checkpoint that proves it. */
  checkpoint: string;
  checkpointTimeMs: number;
  /** Milliseconds since that checkpoint was made. */
  ageMs: number;
  /** The client has no recent verified checkpoint: show the value as stale. */
  stale: boolean;
}

/** The newest verified checkpoint (`latestCheckpoint`, `onCheckpoint`). */
export interface CheckpointFreshness {
  number: string;
  headerId: string;
  timeMs: number;
  ageMs: number;
  stale: boolean;
  /** The relay it came from. */
  relay: string;
}

/** `waitForFinal`'s answer: always backed by a verified proof. */
export interface VerifiedFinality {
  id: string;
  /** "final": included in a certified checkpoint; "rejected": another transaction used its nonce. */
  status: "final" | "rejected";
  checkpoint: string;
  from?: string;
  nonce?: string;
  /** For "rejected": why. */
  reason?: "nonce_used";
  /** For "rejected": the transaction that used the nonce. */
  by?: string;
}

/** Two validly certified checkpoints with one number: validators equivocated. */
export interface EquivocationEvidence {
  number: string;
  first: CertifiedCheckpoint;
  first_relay: string;
  second: CertifiedCheckpoint;
  second_relay: string;
}

/** A relay the light client stopped using, and why. */
export interface DroppedRelay { relay: string; reason: string }

/** Options of `LightClient.history`. */
export interface HistoryOptions {
  /** A previous page's `next`: only older entries. */
  before?: string;
  /** Entries wanted, 1 to 50 (default 20). */
  limit?: number;
}

/** A transaction of an account's history whose inclusion proof verified. */
export interface VerifiedHistoryEntry {
  id: string;
  from: string;
  to: string;
  /** micro-rUv, decimal string */
  amount: string;
  /** micro-rUv, decimal string */
  fee: string;
  nonce: string;
  memo: string;
  /** For the account asked about: received, sent, or sent to itself. */
  direction: "in" | "out" | "self";
  /** The certified checkpoint that includes it. */
  checkpoint: string;
  checkpointTimeMs: number;
}

/** `history`'s answer: newest first; every entry verified. */
export interface VerifiedHistoryPage {
  address: string;
  entries: VerifiedHistoryEntry[];
  /** Pass as `before` for the next, older page; absent on the last page. */
  next?: string;
}
"#;
