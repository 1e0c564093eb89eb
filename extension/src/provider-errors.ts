// The provider's error codes: the one home for them (EIP-1193 provider
// errors and the JSON-RPC codes for bad requests). Every error `window.ruv`
// rejects with is `{ code, message }` with one of these codes.

export const ProviderErrorCode = {
  /** The user rejected the request. */
  USER_REJECTED: 4001,
  /** This site is not connected (no permission for the method or account). */
  UNAUTHORIZED: 4100,
  /** The provider does not support the method. */
  UNSUPPORTED_METHOD: 4200,
  /** The provider is disconnected from the wallet (the extension was reloaded or removed). */
  DISCONNECTED: 4900,
  /** The parameters are not what the method takes. */
  INVALID_PARAMS: -32602,
  /** Something went wrong in the wallet. */
  INTERNAL: -32603,
} as const;

export type ProviderErrorCode = (typeof ProviderErrorCode)[keyof typeof ProviderErrorCode];

/** The error shape the provider rejects with (structured-clone safe). */
export interface ProviderErrorData {
  code: ProviderErrorCode;
  message: string;
}

export function providerError(code: ProviderErrorCode, message: string): ProviderErrorData {
  return { code, message };
}

export const rejected = (what = "The user rejected the request.") => providerError(ProviderErrorCode.USER_REJECTED, what);
export const unauthorized = (what = "This site is not connected to the rUv wallet: call ruv_requestAccounts first.") =>
  providerError(ProviderErrorCode.UNAUTHORIZED, what);
export const unsupported = (method: string) =>
  providerError(ProviderErrorCode.UNSUPPORTED_METHOD, `The rUv wallet does not support the method ${JSON.stringify(method)}.`);
export const disconnected = () =>
  providerError(ProviderErrorCode.DISCONNECTED, "The rUv wallet extension is not reachable (it was reloaded or removed); reload the page.");
export const invalidParams = (what: string) => providerError(ProviderErrorCode.INVALID_PARAMS, what);
export const internal = (what: string) => providerError(ProviderErrorCode.INTERNAL, what);

export function isProviderError(v: unknown): v is ProviderErrorData {
  return typeof v === "object" && v !== null && typeof (v as ProviderErrorData).code === "number" && typeof (v as ProviderErrorData).message === "string";
}
