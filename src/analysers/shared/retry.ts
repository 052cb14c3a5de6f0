import { type ErrorCode, PhotocatError } from "../../domain/errors.js";
import type { RetryProgress } from "../../ports/analyser.js";

/** What went wrong with one call, in words a user can act on, and whether trying again may help. */
export interface Failure {
  retryable: boolean;
  reason: string;
  /** How long the server asked us to wait (retry-after), in ms. */
  retryAfterMs?: number;
}

export interface RetryPolicy {
  /** Retries after the first attempt (PHOTOCAT_MAX_RETRIES). */
  maxRetries: number;
  /** First backoff delay; doubles per retry, with jitter, up to maxDelayMs. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** A retry-after longer than this is not waited for in-process: the job queue retries later instead. */
  maxRetryAfterMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxRetries: 4,
  baseDelayMs: 500,
  maxDelayMs: 8_000,
  maxRetryAfterMs: 60_000,
};

type HeaderBag = { get(name: string): string | null } | Record<string, string | string[] | undefined>;

function header(headers: HeaderBag | undefined | null, name: string): string | undefined {
  if (!headers) return undefined;
  if (typeof (headers as { get?: unknown }).get === "function") {
    return (headers as { get(name: string): string | null }).get(name) ?? undefined;
  }
  const record = headers as Record<string, string | string[] | undefined>;
  const key = Object.keys(record).find((k) => k.toLowerCase() === name);
  const value = key ? record[key] : undefined;
  return Array.isArray(value) ? value[0] : value;
}

/** The wait a server asks for: `retry-after-ms`, or `retry-after` in seconds or as an HTTP date. */
export function parseRetryAfter(headers: HeaderBag | undefined | null, now = Date.now()): number | undefined {
  const ms = Number.parseFloat(header(headers, "retry-after-ms") ?? "");
  if (Number.isFinite(ms) && ms >= 0) return ms;
  const value = header(headers, "retry-after");
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isFinite(date) ? Math.max(0, date - now) : undefined;
}

/** Maps an HTTP status to a failure; `detail` is the provider's own message, `keySetting` names the key. */
export function httpFailure(
  provider: string,
  status: number,
  detail: string,
  options: { keySetting?: string; retryAfterMs?: number } = {},
): Failure {
  const said = detail ? `: ${detail.slice(0, 300)}` : "";
  const retryAfterMs = options.retryAfterMs;
  if (status === 401) {
    return {
      retryable: false,
      reason: `${provider} refused the credentials (401)${options.keySetting ? `; check ${options.keySetting}` : ""}${said}`,
    };
  }
  if (status === 403) return { retryable: false, reason: `${provider} denied access (403)${said}` };
  if (status === 404)
    return { retryable: false, reason: `${provider} does not know this model or endpoint (404)${said}` };
  if (status === 413)
    return { retryable: false, reason: `${provider} says the request is too large (413)${said}` };
  if (status === 429)
    return { retryable: true, reason: `rate limited by ${provider} (429)${said}`, retryAfterMs };
  if (status === 529)
    return { retryable: true, reason: `${provider} is overloaded (529)${said}`, retryAfterMs };
  if (status === 408 || status === 409 || status >= 500) {
    return { retryable: true, reason: `${provider} answered with an error (${status})${said}`, retryAfterMs };
  }
  if (status === 400 && /image/i.test(detail)) {
    return { retryable: false, reason: `${provider} rejected the image (400)${said}` };
  }
  return { retryable: false, reason: `${provider} rejected the request (${status})${said}` };
}

/** Thrown by the runner when an attempt ran out of time. */
export class AttemptTimeoutError extends Error {
  constructor(readonly timeoutMs: number) {
    super(`no answer within ${timeoutMs} ms`);
    this.name = "AttemptTimeoutError";
  }
}

function abortError(signal: AbortSignal): unknown {
  return signal.reason ?? new Error("aborted");
}

/** Waits, unless the signal aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortError(signal));
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortError(signal as AbortSignal));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** Exponential backoff with jitter (up to 25% shorter), like the official SDKs. */
export function backoffMs(retry: number, policy: RetryPolicy, random = Math.random): number {
  const exponential = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** retry);
  return Math.round(exponential * (1 - random() * 0.25));
}

/**
 * Runs `attempt` until it succeeds, a failure is not retryable, or the retries are used up; then
 * throws PhotocatError(`errorCode`, default "analyser_failed") with the reason and whether a later
 * retry may help.
 * Honours retry-after (and tells `onRateLimited` so other calls in this process hold back too).
 */
export async function withRetry<T>(
  attempt: (retry: number) => Promise<T>,
  options: {
    policy: RetryPolicy;
    classify: (error: unknown) => Failure;
    signal?: AbortSignal;
    /** Told before each wait: the attempt about to come, the reason of the last failure, the wait. */
    onRetry?: (progress: RetryProgress) => void;
    onRateLimited?: (untilMs: number) => void;
    /** The code of the error thrown when giving up ("embedder_failed" for embedding calls). */
    errorCode?: ErrorCode;
  },
): Promise<T> {
  const { policy, signal } = options;
  for (let retry = 0; ; retry++) {
    try {
      return await attempt(retry);
    } catch (error) {
      if (signal?.aborted) throw abortError(signal);
      if (error instanceof PhotocatError) throw error;
      const failure =
        error instanceof AttemptTimeoutError
          ? { retryable: true, reason: error.message }
          : options.classify(error);
      const attempts = retry + 1;
      const fail = (reason: string) =>
        new PhotocatError(options.errorCode ?? "analyser_failed", reason, {
          retryable: failure.retryable,
          cause: error,
        });
      if (!failure.retryable) throw fail(failure.reason);
      if (retry >= policy.maxRetries) {
        throw fail(`${failure.reason} (gave up after ${attempts} attempt${attempts === 1 ? "" : "s"})`);
      }
      let delay = backoffMs(retry, policy);
      if (failure.retryAfterMs !== undefined) {
        if (failure.retryAfterMs > policy.maxRetryAfterMs) {
          throw fail(`${failure.reason} (asked to wait ${Math.ceil(failure.retryAfterMs / 1000)} s)`);
        }
        delay = failure.retryAfterMs;
        options.onRateLimited?.(Date.now() + delay);
      }
      options.onRetry?.({
        attempt: attempts + 1,
        maxAttempts: policy.maxRetries + 1,
        reason: failure.reason,
        delayMs: delay,
      });
      await sleep(delay, signal);
    }
  }
}
