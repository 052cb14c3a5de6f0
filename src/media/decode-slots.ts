import { availableParallelism } from "node:os";
import pLimit from "p-limit";
import { PhotocatError } from "../domain/errors.js";

export const DEFAULT_DECODE_TIMEOUT_MS = 10_000;
/** How long a decode may wait for a free slot before the caller is told to come back later. */
export const DEFAULT_DECODE_QUEUE_MS = 30_000;
const RETRY_AFTER_S = 5;

/**
 * One process-wide bound on concurrent decodes: more decodes than cores only make each of them slower,
 * until good photos miss their deadline. Every full decode (ingest, analysers) takes a slot here.
 */
const slots = pLimit(Math.max(1, availableParallelism()));

const defaults = { timeoutMs: DEFAULT_DECODE_TIMEOUT_MS, queueMs: DEFAULT_DECODE_QUEUE_MS };

/** Sets this process's decode bounds: slots at once, time per decode, time to wait for a slot. */
export function configureDecodes(options: { concurrency?: number } & DecodeSlotOptions): void {
  if (options.concurrency !== undefined) slots.concurrency = Math.max(1, Math.floor(options.concurrency));
  if (options.timeoutMs !== undefined) defaults.timeoutMs = options.timeoutMs;
  if (options.queueMs !== undefined) defaults.queueMs = options.queueMs;
}

export function decodeSettings(): { concurrency: number; timeoutMs: number; queueMs: number } {
  return { concurrency: slots.concurrency, ...defaults };
}

/** The server could not do it in time: not the photo's fault, so 503 with Retry-After, never "corrupt". */
export function busyError(message: string, cause?: unknown): PhotocatError {
  return new PhotocatError("busy", `${message}; the server is busy, try again shortly`, {
    cause,
    retryAfterS: RETRY_AFTER_S,
  });
}

export interface DecodeSlotOptions {
  /** Time allowed once the slot is taken. */
  timeoutMs?: number;
  /** Time allowed to wait for a slot. */
  queueMs?: number;
}

/**
 * Runs `work` in a decode slot. Its clock starts when the slot is taken, not when it was queued: `work`
 * receives its deadline (ms since epoch) and is expected to stop by then; the caller gets a `busy` error at
 * the deadline at the latest. The slot stays taken until `work` really ends, so overruns cannot pile up.
 */
export function withDecodeSlot<T>(
  work: (deadline: number) => Promise<T>,
  options: DecodeSlotOptions = {},
): Promise<T> {
  const timeoutMs = options.timeoutMs ?? defaults.timeoutMs;
  const queueMs = options.queueMs ?? defaults.queueMs;
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const settle = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(queueTimer);
      clearTimeout(runTimer);
      outcome();
    };
    let runTimer: NodeJS.Timeout | undefined;
    const queueTimer = setTimeout(
      () => settle(() => reject(busyError(`no decoder was free within ${Math.round(queueMs / 1000)} s`))),
      queueMs,
    );
    void slots(async () => {
      if (settled) return; // Given up while queued: free the slot at once.
      clearTimeout(queueTimer);
      runTimer = setTimeout(
        () =>
          settle(() => reject(busyError(`the image could not be processed within ${timeoutMs / 1000} s`))),
        timeoutMs,
      );
      try {
        const value = await work(Date.now() + timeoutMs);
        settle(() => resolve(value));
      } catch (error) {
        settle(() => reject(error));
      }
    });
  });
}
