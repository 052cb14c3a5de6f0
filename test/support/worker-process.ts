/**
 * A worker process for crash tests: analyses with the fake analyser (slow on purpose) and appends a line
 * to `<dataDir>/calls.log` for every analysis started.
 * Usage: tsx worker-process.ts <dataDir> <delayMs> [leaseMs]
 */
import { appendFileSync } from "node:fs";
import path from "node:path";
import { loadConfig } from "../../src/config.js";
import { run } from "../../src/entry/runtime.js";
import { silentLogger } from "../../src/logger.js";
import { fakeAnalyser } from "./fake-analyser.js";

const [dataDir = "", delay = "300", lease = "1500"] = process.argv.slice(2);
const inner = fakeAnalyser({ delayMs: Number(delay) });
const analyser = {
  ...inner,
  analyse: (input: Parameters<typeof inner.analyse>[0]) => {
    appendFileSync(path.join(dataDir, "calls.log"), `${process.pid}\n`);
    return inner.analyse(input);
  },
};
const config = loadConfig({}, { PHOTOCAT_DATA_DIR: dataDir, PHOTOCAT_CONCURRENCY: "2" });
const running = await run(config, {
  http: false,
  worker: true,
  analyser,
  logger: silentLogger(),
  pollMs: 100,
  leaseMs: Number(lease),
});
process.stdout.write("ready\n");
process.on("SIGTERM", () => {
  running.close().then(() => process.exit(0));
});
