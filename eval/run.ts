/**
 * Evaluates the offline local analyser on ../shared/testdata:
 *   1. speed: model load, per-photo latency after warm-up, peak RSS, tensor and RSS growth over N photos;
 *   2. category accuracy (overall, per category, confusion matrix, for all and high-confidence rows),
 *      in-sample with the shipped head AND cross-validated (head retrained per fold on cached signals);
 *   3. OCR character accuracy over ocr_groundtruth.tsv;
 *   4. near-duplicates: recall of variant pairs, false positives over distinct photos (eval/duplicates.ts).
 *
 *   npm run eval [-- --photos 500] [--no-speed] [--folds 5] [--originals 200]
 *                [--only speed|categories|ocr|duplicates]
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { parseArgs } from "node:util";
import { decideDefault, type Ranked } from "../src/analysers/local/category.js";
import { type HeadWeights, headInput, predict, softmax } from "../src/analysers/local/classifier.js";
import { createLocalAnalyser } from "../src/analysers/local/index.js";
import { LocalModels } from "../src/analysers/local/models.js";
import { TextReader } from "../src/analysers/local/ocr.js";
import { preparePixels } from "../src/analysers/local/pixels.js";
import headJson from "../src/analysers/local/weights/category-head.json" with { type: "json" };
import { DEFAULT_TAXONOMY } from "../src/domain/taxonomy.js";
import { duplicates } from "./duplicates.js";
import { crossValidate, DEFAULT_CV_SETTINGS, type Example, type Scored } from "./lib/cv.js";
import { labelledRows, ocrRows, TESTDATA_DIR } from "./lib/dataset.js";
import { characterAccuracy, median, pct, quantile, table } from "./lib/report.js";
import { mediaTypeOf, signalsFor } from "./lib/signals.js";

const { values: args } = parseArgs({
  options: {
    photos: { type: "string", default: "500" },
    "no-speed": { type: "boolean", default: false },
    only: { type: "string" },
    folds: { type: "string", default: "5" },
    originals: { type: "string", default: "200" },
  },
});
const classes = DEFAULT_TAXONOMY.categories.map((c) => c.slug);
const head = headJson as HeadWeights;
const HEAD_FEATURES = DEFAULT_CV_SETTINGS.features;
const rows = labelledRows();
const mb = (bytes: number) => `${Math.round(bytes / 1024 / 1024)} MB`;

// ---------- 1. Speed (first, so the model load is measured cold in this process) ----------
async function speed(photoCount: number): Promise<void> {
  console.log("\n== Speed (full analyser: decode, models, colours, head, OCR where text is likely) ==");
  const analyser = await createLocalAnalyser();
  const loadStarted = performance.now();
  await analyser.warmUp?.();
  const loadMs = performance.now() - loadStarted;
  const warmUp = 10;
  const times: number[] = [];
  const samples: { n: number; rss: number; tensors: number }[] = [];
  let failures = 0;
  for (let i = 0; i < photoCount + warmUp; i++) {
    // Read per photo (untimed) so the RSS figures are the analyser's, not a preloaded corpus.
    const bytes = await readFile(path.join(TESTDATA_DIR, rows[i % rows.length]!.path));
    const mediaType = await mediaTypeOf(bytes, "application/octet-stream");
    const started = performance.now();
    try {
      await analyser.analyse({ bytes, mediaType, taxonomy: DEFAULT_TAXONOMY, language: "en" });
    } catch {
      failures++;
    }
    const done = i - warmUp + 1;
    if (done >= 1) times.push(performance.now() - started);
    if (done === 1 || (done > 0 && done % 100 === 0)) {
      samples.push({ n: done, rss: process.memoryUsage().rss, tensors: analyser.tensorCount() });
    }
  }
  await analyser.close?.();
  const peakRss = process.resourceUsage().maxRSS * 1024;
  console.log(
    table(
      ["measure", "value", "target"],
      [
        ["model load (warmUp)", `${Math.round(loadMs)} ms`, "<= 3000 ms"],
        [`photos timed (after ${warmUp} warm-up)`, `${times.length} (${failures} not decodable)`, ""],
        ["median per photo", `${Math.round(median(times))} ms`, "<= 700 ms"],
        ["p95 per photo", `${Math.round(quantile(times, 0.95))} ms`, ""],
        ["peak RSS", mb(peakRss), "<= 1229 MB"],
      ],
    ),
  );
  console.log("\nMemory over the run (no growth = no leak):");
  console.log(
    table(
      ["photos", "RSS", "tf tensors"],
      samples.map((s) => [String(s.n), mb(s.rss), String(s.tensors)]),
    ),
  );
}

// ---------- 2. Categories ----------
function report(title: string, scored: readonly Scored[]): void {
  for (const [subset, items] of [
    ["all rows", scored],
    ["confidence == high rows", scored.filter((s) => s.row.high)],
  ] as const) {
    const correct = items.filter((s) => s.predicted === s.row.category).length;
    console.log(`\n-- ${title}, ${subset}: ${pct(correct / items.length)} (${correct}/${items.length}) --`);
    const perRows = classes.map((c) => {
      const mine = items.filter((s) => s.row.category === c);
      const right = mine.filter((s) => s.predicted === c).length;
      const predicted = items.filter((s) => s.predicted === c);
      const precision = predicted.length
        ? predicted.filter((s) => s.row.category === c).length / predicted.length
        : 0;
      return [
        c,
        String(mine.length),
        mine.length ? pct(right / mine.length) : "-",
        predicted.length ? pct(precision) : "-",
      ];
    });
    console.log(table(["category", "rows", "accuracy (recall)", "precision"], perRows));
    const abbrev = classes.map((c) => c.slice(0, 5));
    console.log("\nconfusion (rows = labelled, columns = predicted):");
    console.log(
      table(
        ["", ...abbrev],
        classes.map((c, i) => [
          abbrev[i]!,
          ...classes.map((p) =>
            String(items.filter((s) => s.row.category === c && s.predicted === p).length),
          ),
        ]),
      ),
    );
  }
  const bySource = (imagenet: boolean) =>
    scored.filter((x) => x.row.high && x.row.path.startsWith("imagenet-samples/") === imagenet);
  const [inet, rest] = [bySource(true), bySource(false)];
  console.log(
    `\n${title}, high rows by origin: ImageNet samples ${pct(inet.filter((x) => x.predicted === x.row.category).length / (inet.length || 1))} (${inet.length}), other sources (camera photos, wallpapers, test images) ${pct(rest.filter((x) => x.predicted === x.row.category).length / (rest.length || 1))} (${rest.length})`,
  );
  // Calibration: does a stated confidence of 0.8 mean right 80% of the time?
  const bins = [0, 0.4, 0.6, 0.8, 0.9, 1.01];
  const cal = bins.slice(0, -1).map((lo, i) => {
    const inBin = scored.filter((s) => s.confidence >= lo && s.confidence < bins[i + 1]!);
    const right = inBin.filter((s) => s.predicted === s.row.category).length;
    const mean = inBin.reduce((a, s) => a + s.confidence, 0) / (inBin.length || 1);
    return [
      `${lo.toFixed(1)}-${Math.min(1, bins[i + 1]!).toFixed(1)}`,
      String(inBin.length),
      inBin.length ? mean.toFixed(2) : "-",
      inBin.length ? pct(right / inBin.length) : "-",
    ];
  });
  console.log(`\ncalibration (${title}, all rows):`);
  console.log(table(["confidence", "rows", "mean confidence", "accuracy"], cal));
}

async function categories(folds: number): Promise<void> {
  let models: Promise<LocalModels> | undefined;
  const signals = await signalsFor(
    rows.map((r) => r.path),
    () => {
      models ??= LocalModels.load();
      return models;
    },
    (done, total) => {
      if (done % 100 === 0) process.stderr.write(`signals ${done}/${total}\n`);
    },
  );
  const examples: Example[] = rows.flatMap((row) => {
    const cues = signals.get(row.path);
    return cues ? [{ row, cues }] : [];
  });
  const skipped = rows.filter((r) => !signals.get(r.path)).map((r) => r.path);
  console.log(
    `\n== Categories: ${examples.length} labelled photos (${examples.filter((e) => e.row.high).length} high confidence) ==`,
  );
  if (skipped.length) console.log(`not decodable, left out: ${skipped.join(", ")}`);

  const decide = (e: Example, ranking: Ranked[]): Scored => {
    const d = decideDefault(ranking, e.cues.signals, e.cues.colours);
    return { row: e.row, predicted: d.category, confidence: d.confidence };
  };

  const cv = crossValidate(examples, classes, DEFAULT_CV_SETTINGS, folds);
  const byPath = new Map(examples.map((e) => [e.row.path, e]));
  const crossValidated = cv.outOfFold.map((o) => {
    const probs = softmax(o.logits, cv.temperature);
    const ranking = classes.map((label, k) => ({ label, p: probs[k]! })).sort((a, b) => b.p - a.p);
    return decide(byPath.get(o.row.path)!, ranking);
  });
  report(
    `CROSS-VALIDATED (${folds}-fold, head retrained per fold, near-duplicates kept in one fold; rules applied)`,
    crossValidated,
  );

  const inSample = examples.map((e) => decide(e, predict(head, headInput(e.cues, HEAD_FEATURES))));
  report("IN-SAMPLE (shipped head, which was trained on these very rows: optimistic)", inSample);
  (await models)?.dispose();
}

// ---------- 3. OCR ----------
async function ocr(): Promise<void> {
  const items = ocrRows();
  console.log(`\n== OCR: ${items.length} images with a transcription (ocr_groundtruth.tsv) ==`);
  const analyser = await createLocalAnalyser();
  const reader = new TextReader();
  const results: string[][] = [];
  let gatedSum = 0;
  let forcedSum = 0;
  for (const item of items) {
    const bytes = await readFile(path.join(TESTDATA_DIR, item.path));
    const mediaType = await mediaTypeOf(bytes, "application/octet-stream");
    let gated: string | null = null;
    let forced: string | null = null;
    try {
      gated = (await analyser.analyse({ bytes, mediaType, taxonomy: DEFAULT_TAXONOMY, language: "en" })).text;
      forced = (await reader.read((await preparePixels(bytes, { mediaType, maxPixels: 1e8 })).base)).text;
    } catch (error) {
      console.log(`  ${item.path}: ${error instanceof Error ? error.message : String(error)}`);
    }
    const g = characterAccuracy(item.expected, gated);
    const f = characterAccuracy(item.expected, forced);
    gatedSum += g;
    forcedSum += f;
    const show = (s: string | null) =>
      s === null ? "null" : JSON.stringify(s.replace(/\s+/g, " ").slice(0, 40));
    results.push([item.path, item.language, pct(g), show(gated), pct(f)]);
  }
  await reader.close();
  await analyser.close?.();
  console.log(table(["image", "lang", "1-CER (analyser)", "analyser text", "1-CER (always OCR)"], results));
  console.log(
    `\nmean character accuracy (1 - CER): analyser as shipped (OCR gated, lines >= 70 confidence) ${pct(gatedSum / items.length)}; OCR forced on every image ${pct(forcedSum / items.length)}`,
  );
}

const started = performance.now();
const run = (part: string) => !args.only || args.only === part;
if (run("speed") && !args["no-speed"]) await speed(Number(args.photos));
if (run("categories")) await categories(Number(args.folds));
if (run("ocr")) await ocr();
if (run("duplicates")) await duplicates({ originals: Number(args.originals), folds: Number(args.folds) });
console.log(`\n(evaluation took ${Math.round((performance.now() - started) / 1000)} s)`);
