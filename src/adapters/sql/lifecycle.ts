import type { Catalog } from "../../ports/catalog.js";
import type { JobQueue } from "../../ports/job-queue.js";

/** A catalogue and a job queue sharing one database. */
export interface SqlStore {
  catalog: Catalog;
  queue: JobQueue;
  close(): Promise<void>;
}

/**
 * The catalogue and the queue share one connection pool: it closes when both parts are closed, or at
 * once through the store's own close().
 */
export function sharedCloser(parts: number, closeNow: () => Promise<void>) {
  let open = parts;
  let closing: Promise<void> | null = null;
  const all = () => {
    closing ??= closeNow();
    return closing;
  };
  return {
    all,
    part: async () => {
      open -= 1;
      if (open <= 0) await all();
    },
  };
}

type AsyncMethods<T> = {
  [K in keyof T]: T[K] extends (...args: never[]) => Promise<unknown>
    ? T[K] // Kept as is, generics included.
    : T[K] extends (...args: infer A) => infer R
      ? (...args: A) => Promise<R>
      : T[K];
};

/** Makes every method wait for `ready` (migrations) first, so a store can be opened synchronously. */
export function afterReady<T extends object>(target: T, ready: Promise<void>): AsyncMethods<T> {
  const wrapped: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(target)) {
    wrapped[name] =
      typeof value === "function"
        ? async (...args: unknown[]) => {
            await ready;
            return value.apply(target, args);
          }
        : value;
  }
  return wrapped as AsyncMethods<T>;
}
