import type { ErrorCode } from "../../domain/errors.js";
import type { Logger } from "../../logger.js";
import type { RetryProgress } from "../../ports/analyser.js";
import { rateGateFor } from "./rate-gate.js";
import { AttemptTimeoutError, type Failure, type RetryPolicy, withRetry } from "./retry.js";

export interface ProviderCallSettings {
  /** The provider and its endpoint: calls to the same one share a pace and a rate-limit pause. */
  gateKey: string;
  requestsPerMinute: number | null;
  /** Time limit of each attempt. */
  timeoutMs: number;
  policy: RetryPolicy;
  classify(error: unknown): Failure;
  /** The code thrown when giving up (see withRetry). */
  errorCode?: ErrorCode;
  logger: Logger;
  /** Logged with each retry, e.g. "analyser call failed; retrying". */
  retryMessage: string;
}

/**
 * How every remote adapter calls its provider: each attempt waits for the endpoint's rate gate, gets
 * its own time limit (and the caller's signal), and failed attempts are retried per the policy.
 */
export function providerCaller(settings: ProviderCallSettings) {
  const gate = rateGateFor(settings.gateKey, settings.requestsPerMinute);
  const { timeoutMs } = settings;
  return function call<T>(
    send: (signal: AbortSignal) => Promise<T>,
    signal?: AbortSignal,
    onRetry?: (progress: RetryProgress) => void,
  ): Promise<T> {
    return withRetry(
      async () => {
        await gate.acquire(signal);
        const timeout = AbortSignal.timeout(timeoutMs);
        const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
        try {
          return await send(combined);
        } catch (error) {
          if (timeout.aborted && !signal?.aborted) throw new AttemptTimeoutError(timeoutMs);
          throw error;
        }
      },
      {
        policy: settings.policy,
        signal,
        errorCode: settings.errorCode,
        classify: settings.classify,
        onRateLimited: (until) => gate.pauseUntil(until),
        onRetry: (progress) => {
          settings.logger.warn(progress, settings.retryMessage);
          onRetry?.(progress);
        },
      },
    );
  };
}
