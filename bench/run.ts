/**
 * Photocat's benchmarks: `npm run bench` (full) or `npm run bench -- --quick` (within 10 minutes on 2 cores).
 * Prints a table and writes bench/results.json. Flags: --records N (catalogue size, default 100000),
 * --only ingest,api,local,provider,memory (a subset), --out FILE.
 */
import { execFileSync } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { availableParallelism, cpus, loadavg, totalmem } from "node:os";
import { parseArgs } from "node:util";
import { formatTable, log, type Row, type Section } from "./report.js";

const SECTIONS = ["ingest", "api", "local", "provider", "memory"] as const;
type SectionName = (typeof SECTIONS)[number];

const { values } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    records: { type: "string", default: "100000" },
    only: { type: "string" },
    out: { type: "string", default: "bench/results.json" },
  },
});
const quick = values.quick ?? false;
const records = Number(values.records);
if (!Number.isInteger(records) || records < 1000) throw new Error("--records must be a whole number >= 1000");
const only = values.only ? values.only.split(",").map((s) => s.trim()) : [...SECTIONS];
for (const name of only) {
  if (!(SECTIONS as readonly string[]).includes(name)) throw new Error(`--only: unknown section "${name}"`);
}

function commit(): string | null {
  try {
    return execFileSync("git", ["rev-parse", "--short", "HEAD"], { encoding: "utf8" }).trim();
  } catch {
    return null;
  }
}

const started = performance.now();
const results: Record<string, unknown> = {
  machine: {
    cpus: availableParallelism(),
    cpu_model: cpus()[0]?.model ?? "unknown",
    memory_gb: Math.round(totalmem() / 1024 ** 3),
    node: process.version,
    // The machine may be shared: a high load at the start explains noisy figures.
    load_average_at_start: loadavg().map((l) => Math.round(l * 10) / 10),
  },
  mode: quick ? "quick" : "full",
  commit: commit(),
  date: new Date().toISOString(),
};
const rows: Row[] = [];

async function section<T>(
  name: SectionName,
  key: string,
  work: () => Promise<Section<T>>,
): Promise<T | null> {
  if (!only.includes(name)) return null;
  const sectionStarted = performance.now();
  log(`${name}: starting`);
  try {
    const measured = await work();
    results[key] = measured.results;
    rows.push(...measured.rows);
    log(`${name}: done in ${Math.round((performance.now() - sectionStarted) / 1000)} s`);
    return measured.results;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    log(`${name}: FAILED: ${message}`);
    if (error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
    results[key] = { error: message.slice(0, 1000) };
    rows.push({ area: name, measure: "failed to run", value: message.slice(0, 60), ok: false });
    return null;
  }
}

// Each section's module loads only when it runs, so one broken part cannot stop the others.
await section("ingest", "ingest", async () =>
  (await import("./ingest.js")).benchIngest({ quick, concurrency: availableParallelism() * 2 }),
);
await section("api", "api", async () => (await import("./api.js")).benchApi({ quick, records }));
await section("local", "local_analyser", async () =>
  (await import("./analysers.js")).benchLocalAnalyser({ quick }),
);
await section("provider", "provider", async () => (await import("./analysers.js")).benchProvider({ quick }));
const memory = await section("memory", "memory", async () =>
  (await import("./memory.js")).benchMemory({ quick }),
);
if (memory) results.import_peak_rss_mb = memory.import_peak_rss_mb;
results.duration_s = Math.round((performance.now() - started) / 1000);
(results.machine as Record<string, unknown>).load_average_at_end = loadavg().map(
  (l) => Math.round(l * 10) / 10,
);

const table = formatTable(rows);
process.stdout.write(`\nPhotocat bench (${quick ? "quick" : "full"}, ${results.duration_s} s)\n\n${table}\n`);
await writeFile(values.out ?? "bench/results.json", `${JSON.stringify(results, null, 2)}\n`);
process.stdout.write(`\nwrote ${values.out}\n`);
