import type { Failure } from "./retry.js";

/**
 * Codes of failures to reach a server or keep a connection: Node's socket and DNS errors, undici's
 * socket errors and the HTTP/2 stream errors the AWS SDK reports. All are worth another try.
 */
const NETWORK_CODES = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "ECONNABORTED",
  "EPIPE",
  "ETIMEDOUT",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENETDOWN",
  "UND_ERR_SOCKET",
  "UND_ERR_CLOSED",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
  "ERR_HTTP2_STREAM_CANCEL",
  "ERR_HTTP2_STREAM_ERROR",
  "ERR_HTTP2_SESSION_ERROR",
  "ERR_HTTP2_GOAWAY_SESSION",
  "ERR_HTTP2_INVALID_SESSION",
]);
const NETWORK_MESSAGE = /socket hang up|other side closed|ECONNRESET|ECONNREFUSED|ENOTFOUND|EAI_AGAIN/i;

interface ErrorLike {
  message?: unknown;
  code?: unknown;
  cause?: unknown;
  errors?: unknown;
}

/** The error and its causes, outermost first (an AggregateError's first error counts as its cause). */
export function causeChain(error: unknown): ErrorLike[] {
  const chain: ErrorLike[] = [];
  let current: unknown = error;
  while (typeof current === "object" && current !== null && chain.length < 10) {
    const e = current as ErrorLike;
    if (chain.includes(e)) break;
    chain.push(e);
    current = e.cause ?? (Array.isArray(e.errors) ? e.errors[0] : undefined);
  }
  return chain;
}

/**
 * The deepest message of the cause chain, the one that says what really happened:
 * "getaddrinfo ENOTFOUND api.anthropic.com" rather than "Connection error." or "fetch failed".
 */
export function rootCause(error: unknown): string {
  const chain = causeChain(error);
  for (const e of [...chain].reverse()) {
    // The first line: SDKs append hints ("Deserialization error: ...") on later ones.
    const message = typeof e.message === "string" ? (e.message.split("\n")[0] ?? "").trim() : "";
    const code = typeof e.code === "string" ? e.code : "";
    if (message) return code && !message.includes(code) ? `${message} (${code})` : message;
    if (code) return code;
  }
  return error instanceof Error ? error.message : String(error);
}

/** True when the error, or any of its causes, is a failure to reach the server or a dropped connection. */
export function isNetworkError(error: unknown): boolean {
  return causeChain(error).some(
    (e) =>
      (typeof e.code === "string" && NETWORK_CODES.has(e.code)) ||
      (typeof e.message === "string" && NETWORK_MESSAGE.test(e.message)),
  );
}

/** A retryable failure that keeps the root cause: "could not reach Anthropic: getaddrinfo ENOTFOUND ...". */
export function unreachable(where: string, error: unknown): Failure {
  return { retryable: true, reason: `could not reach ${where}: ${rootCause(error)}` };
}
