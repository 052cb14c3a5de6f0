import type { Logger } from "./logger.js";

// biome-ignore lint/suspicious/noExplicitAny: process listeners take any arguments
type Listener = (...args: any[]) => void;
const EVENTS = ["unhandledRejection", "uncaughtException"] as const;
const ours = new Set<Listener>();

/**
 * Photocat decides what a stray error does to the process, not a dependency: an unhandled rejection is
 * logged and the process keeps serving (every request and job handles its own errors; a stray one is a
 * bug to fix, not a reason to drop every other upload); an uncaught exception is logged and the process
 * exits with code 1, since its state may be broken. Idempotent.
 */
export function installProcessGuards(logger: Logger): void {
  if (ours.size > 0) return;
  const onRejection = (reason: unknown) => {
    logger.error({ err: reason }, "unhandled promise rejection; the process keeps running");
  };
  const onException = (error: unknown) => {
    logger.fatal({ err: error }, "uncaught exception; the process exits");
    process.exitCode = 1;
    // Let pino flush before leaving.
    setTimeout(() => process.exit(1), 100).unref();
  };
  ours.add(onRejection).add(onException);
  process.on("unhandledRejection", onRejection);
  process.on("uncaughtException", onException);
}

/**
 * Removes the process-wide error handlers that libraries installed behind our back (tfjs-backend-wasm's
 * Emscripten runtime adds one that rethrows every unhandled rejection, which kills the server). Call it
 * after loading such a library. Returns how many were removed.
 */
export function reclaimProcessGuards(): number {
  if (ours.size === 0) return 0;
  let removed = 0;
  for (const event of EVENTS) {
    for (const listener of process.listeners(event as "uncaughtException") as Listener[]) {
      if (ours.has(listener)) continue;
      process.removeListener(event, listener);
      removed++;
    }
  }
  return removed;
}
