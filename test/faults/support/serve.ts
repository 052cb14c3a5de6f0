/**
 * `photocat serve` as the CLI runs it (settings from the environment), with the worker's timing shortened
 * for fault tests: a killed server's jobs are claimed again after FAULT_LEASE_MS instead of a minute.
 * Usage: node --import tsx test/faults/support/serve.ts   (prints "Photocat is running at <url>" to stderr)
 */
import { loadConfig } from "../../../src/config.js";
import { run } from "../../../src/entry/runtime.js";

const running = await run(loadConfig(process.env), {
  http: true,
  worker: true,
  leaseMs: Number(process.env.FAULT_LEASE_MS ?? 3000),
  pollMs: Number(process.env.FAULT_POLL_MS ?? 200),
  baseBackoffMs: process.env.FAULT_BACKOFF_MS ? Number(process.env.FAULT_BACKOFF_MS) : undefined,
});
process.stderr.write(`Photocat is running at ${running.url}\n`);
const stop = () => {
  running.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.once("SIGTERM", stop);
process.once("SIGINT", stop);
