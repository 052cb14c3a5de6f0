/**
 * Trains the local analyser's category head (softmax regression) on ../shared/testdata/labelled.tsv, and its
 * kind head (a bird, a car, fruit: kinds.ts) on the same rows, each row's kind read from its fine label
 * through WordNet (eval/lib/kinds.ts). Extracts (or reads cached) signals, prints k-fold cross-validated
 * accuracy, fits each softmax temperature on the out-of-fold predictions, trains on all rows and writes
 * src/analysers/local/weights/category-head.json and kind-head.json.
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
import { kindLabel } from "../eval/lib/kinds.js";
import { signalsFor } from "../eval/lib/signals.js";
import { inputNames } from "../src/analysers/local/classifier.js";
import { kindClasses, NO_KIND } from "../src/analysers/local/kinds.js";
import { LocalModels } from "../src/analysers/local/models.js";
import { PIPELINE_VERSION } from "../src/analysers/local/version.js";
import { DEFAULT_TAXONOMY } from "../src/domain/taxonomy.js";
import { loadWordNet } from "../src/lexicon/wordnet.js";

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

const wordnet = await loadWordNet();
const kinds = kindClasses();
const kindOf = new Map(examples.map((e) => [e.row.path, kindLabel(wordnet, e.row)]));
const labelOfKind = (e: Example) => kindOf.get(e.row.path)!;
const kindCv = crossValidate(examples, kinds, settings, folds, labelOfKind);
const kindScored = scoreOutOfFold(kindCv.outOfFold, kinds, kindCv.temperature);
const withKind = kindScored.filter((s) => kindOf.get(s.row.path) !== NO_KIND);
console.log(
  `kind head: ${withKind.length} rows of a kind; ${folds}-fold cross-validated accuracy on them ${(
    (withKind.filter((s) => s.predicted === kindOf.get(s.row.path)).length / withKind.length) * 100
  ).toFixed(1)}%, temperature ${kindCv.temperature}`,
);

const heads = [
  {
    name: "category-head.json",
    classes,
    labelOf: undefined,
    temperature,
    cv: { accuracy: accuracy(scored), highAccuracy: accuracy(high) },
  },
  {
    name: "kind-head.json",
    classes: kinds,
    labelOf: labelOfKind,
    temperature: kindCv.temperature,
    cv: undefined,
  },
];
const round = (v: number) => Math.round(v * 1e6) / 1e6;
for (const head of heads) {
  const trained = trainOn(examples, head.classes, settings, head.labelOf);
  const weights = {
    version: PIPELINE_VERSION,
    ...trained,
    inputs: inputNames(settings.features, examples[0]!.cues.signals.feature.length),
    temperature: head.temperature,
    trainedOn: {
      rows: examples.length,
      sources: [...new Set(examples.map((e) => sourceOf(e.row.path)))].sort(),
      excluded,
      settings,
      ...(head.cv ? { folds: head.cv } : {}),
    },
  };
  const file = path.resolve(import.meta.dirname, "../src/analysers/local/weights", head.name);
  if (values["dry-run"]) {
    console.log(`dry run: ${head.name} not written`);
    continue;
  }
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
