/**
 * Runs inspectImage over every file listed in ../shared/testdata's MANIFESTs and prints what happened:
 * accepted / rejected by error code, time per file (p50/p95/max), the slowest files, and any file that met an
 * error other than a PhotocatError (a bug).
 *
 *   npx tsx scripts/check-media-corpus.ts [--verbose] [--filter SUBSTRING] [--max-pixels N]
 */
import { parseArgs } from "node:util";
import { percentile } from "../bench/report.js";
import { isPhotocatError } from "../src/domain/errors.js";
import { inspectImage } from "../src/media/inspect.js";
import {
  HAS_TESTDATA,
  readManifests,
  robustnessFiles,
  TESTDATA_SKIP_REASON,
  testdataPath,
} from "../test/support/testdata.js";

const { values } = parseArgs({
  options: {
    verbose: { type: "boolean", default: false },
    filter: { type: "string" },
    "max-pixels": { type: "string", default: "100000000" },
  },
});

if (!HAS_TESTDATA) {
  console.error(TESTDATA_SKIP_REASON);
  process.exit(2);
}

const maxPixels = Number(values["max-pixels"]);
const robustness = new Set(robustnessFiles().map((row) => row.path));
const rows = readManifests().filter((row) => !values.filter || row.path.includes(values.filter));

interface Outcome {
  path: string;
  ms: number;
  result: string;
  message: string;
}

const outcomes: Outcome[] = [];
const started = Date.now();
for (const row of rows) {
  const t0 = performance.now();
  let result: string;
  let message = "";
  try {
    const image = await inspectImage(testdataPath(row.path), { maxPixels });
    result = "accepted";
    message = `${image.mediaType} ${image.width}x${image.height} ${image.colours.join(", ")}${image.place ? ` @ ${image.place}` : ""}`;
  } catch (error) {
    if (isPhotocatError(error)) {
      result = error.code;
      message = error.message;
    } else {
      result = "NOT A PHOTOCAT ERROR";
      message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    }
  }
  const ms = performance.now() - t0;
  outcomes.push({ path: row.path, ms, result, message });
  if (values.verbose)
    console.log(`${ms.toFixed(0).padStart(6)} ms  ${result.padEnd(22)} ${row.path}  ${message}`);
}

function groupBy<T>(items: T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) groups.set(key(item), [...(groups.get(key(item)) ?? []), item]);
  return groups;
}

function summarise(label: string, group: Outcome[]) {
  const times = group.map((o) => o.ms).sort((a, b) => a - b);
  return {
    outcome: label,
    files: group.length,
    "p50 ms": Math.round(percentile(times, 50)),
    "p95 ms": Math.round(percentile(times, 95)),
    "max ms": Math.round(times.at(-1) ?? 0),
  };
}

const byResult = groupBy(outcomes, (o) => o.result);
console.log(
  `\n${outcomes.length} files in ${((Date.now() - started) / 1000).toFixed(1)} s (max pixels ${maxPixels})`,
);
console.table([
  ...[...byResult].sort((a, b) => b[1].length - a[1].length).map(([label, group]) => summarise(label, group)),
  summarise("all", outcomes),
]);

const robustnessOutcomes = outcomes.filter((o) => robustness.has(o.path));
console.log("\nRobustness-labelled files:");
console.table(
  [...groupBy(robustnessOutcomes, (o) => o.result)].map(([label, group]) => summarise(label, group)),
);
const acceptedRobustness = robustnessOutcomes.filter((o) => o.result === "accepted");
if (acceptedRobustness.length > 0) {
  console.log("Robustness-labelled files accepted (decoded fully; check they are really usable):");
  for (const o of acceptedRobustness) console.log(`  ${o.path}  ${o.message}`);
}

console.log("\nSlowest files:");
for (const o of [...outcomes].sort((a, b) => b.ms - a.ms).slice(0, 8)) {
  console.log(`  ${o.ms.toFixed(0).padStart(6)} ms  ${o.result.padEnd(22)} ${o.path}`);
}

const bugs = outcomes.filter((o) => o.result === "NOT A PHOTOCAT ERROR" || o.ms > 10_000);
if (bugs.length > 0) {
  console.log("\nFAILURES (non-PhotocatError or over 10 s):");
  for (const o of bugs) console.log(`  ${o.path}: ${o.message} (${o.ms.toFixed(0)} ms)`);
  process.exitCode = 1;
}
