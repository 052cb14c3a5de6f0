/**
 * Trains the local analyser's category head (softmax regression) on ../shared/testdata/labelled.tsv.
 * Extracts (or reads cached) signals, prints k-fold cross-validated accuracy, fits the softmax temperature
 * on the out-of-fold predictions, trains on all rows and writes src/analysers/local/weights/category-head.json.
 *
 *   npx tsx scripts/train-local-classifier.ts [--folds 5] [--dry-run] [--exclude imagenet-samples,av1-avif/Netflix]
 *
 * --exclude leaves out rows whose path starts with any of the given prefixes (e.g. sources under
 * non-commercial terms), to build a head free of them.
 */
import { writeFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import {
  accuracy,
  crossValidate,
  DEFAULT_CV_SETTINGS,
  type Example,
  scoreOutOfFold,
  trainOn,
} from "../eval/lib/cv.js";
import { labelledRows, sourceOf } from "../eval/lib/dataset.js";
import { signalsFor } from "../eval/lib/signals.js";
import { inputNames } from "../src/analysers/local/classifier.js";
import { LocalModels } from "../src/analysers/local/models.js";
import { PIPELINE_VERSION } from "../src/analysers/local/version.js";
import { DEFAULT_TAXONOMY } from "../src/domain/taxonomy.js";

const { values } = parseArgs({
  options: {
    folds: { type: "string", default: "5" },
    "dry-run": { type: "boolean", default: false },
    exclude: { type: "string", default: "" },
  },
});
const folds = Number(values.folds);
const classes = DEFAULT_TAXONOMY.categories.map((c) => c.slug);
const settings = DEFAULT_CV_SETTINGS;

const excluded = values.exclude.split(",").filter(Boolean);
const rows = labelledRows().filter((r) => !excluded.some((prefix) => r.path.startsWith(prefix)));
if (excluded.length) console.log(`excluding rows under: ${excluded.join(", ")}`);
let models: Promise<LocalModels> | undefined;
const signals = await signalsFor(
  rows.map((r) => r.path),
  () => {
    models ??= LocalModels.load();
    return models;
  },
  (done, total) => {
    if (done % 50 === 0 || done === total) process.stderr.write(`signals ${done}/${total}\n`);
  },
);
const examples: Example[] = rows.flatMap((row) => {
  const cues = signals.get(row.path);
  return cues ? [{ row, cues }] : [];
});
console.log(
  `rows: ${rows.length}, usable: ${examples.length} (${examples.filter((e) => e.row.high).length} high)`,
);

const { outOfFold, temperature } = crossValidate(examples, classes, settings, folds);
const scored = scoreOutOfFold(outOfFold, classes, temperature);
const high = scored.filter((s) => s.row.high);
console.log(
  `${folds}-fold cross-validated head accuracy (before rules): all ${(accuracy(scored) * 100).toFixed(1)}%, high ${(accuracy(high) * 100).toFixed(1)}%`,
);
for (let f = 0; f < folds; f++) {
  const inFold = scored.filter((s, i) => s.row.high && outOfFold[i]?.fold === f);
  console.log(`  fold ${f + 1}: high ${(accuracy(inFold) * 100).toFixed(1)}% (${inFold.length} rows)`);
}
console.log(`softmax temperature fitted on out-of-fold predictions: ${temperature}`);

const trained = trainOn(examples, classes, settings);
const weights = {
  version: PIPELINE_VERSION,
  ...trained,
  inputs: inputNames(settings.features, examples[0]!.cues.signals.feature.length),
  temperature,
  trainedOn: {
    rows: examples.length,
    sources: [...new Set(examples.map((e) => sourceOf(e.row.path)))].sort(),
    excluded,
    settings,
    folds: { accuracy: accuracy(scored), highAccuracy: accuracy(high) },
  },
};
const round = (v: number) => Math.round(v * 1e6) / 1e6;
const file = path.resolve(import.meta.dirname, "../src/analysers/local/weights/category-head.json");
if (values["dry-run"]) {
  console.log("dry run: weights not written");
} else {
  writeFileSync(
    file,
    `${JSON.stringify({
      ...weights,
      mean: weights.mean.map(round),
      std: weights.std.map(round),
      weights: weights.weights.map((row) => row.map(round)),
      bias: weights.bias.map(round),
    })}\n`,
  );
  console.log(`wrote ${path.relative(process.cwd(), file)}`);
}
(await models)?.dispose();
