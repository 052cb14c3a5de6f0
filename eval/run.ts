/**
 * Evaluates the offline local analyser on ../shared/testdata:
 *   1. speed: model load, per-photo latency after warm-up, peak RSS, tensor and RSS growth over N photos;
 *   2. category accuracy (overall, per category, confusion matrix, for all and high-confidence rows),
 *      in-sample with the shipped head AND cross-validated (head retrained per fold on cached signals);
 *   3. OCR character accuracy over ocr_groundtruth.tsv;
 *   4. near-duplicates: recall of variant pairs, false positives over distinct photos (eval/duplicates.ts).
 *
 *   4. descriptions: subject truth of summaries (WordNet judge on ImageNet rows, hand-judged sample of the
 *      rest), alt-text length, with the category head cross-validated.
 *
 *   npm run eval [-- --photos 500] [--no-speed] [--folds 5] [[--originals 200]
 *                [--only speed|categories|ocr|descriptions|duplicates] [--verbose] [--save after]
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { loadavg } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import {
  buildVocabulary,
  CAPTION_THRESHOLDS,
  type CaptionFacts,
  type CaptionThresholds,
  caption,
  captionFacts,
  type Vocabulary,
} from "../src/analysers/local/caption.js";
import { decideDefault, type Ranked } from "../src/analysers/local/category.js";
import { type HeadWeights, headInput, predict, softmax } from "../src/analysers/local/classifier.js";
import { createLocalAnalyser } from "../src/analysers/local/index.js";
import { kindClasses } from "../src/analysers/local/kinds.js";
import { LocalModels } from "../src/analysers/local/models.js";
import { DEFAULT_OCR_ENGINE, planReading, seesText, TextReader } from "../src/analysers/local/ocr.js";
import { preparePixels, type RgbImage } from "../src/analysers/local/pixels.js";
import headJson from "../src/analysers/local/weights/category-head.json" with { type: "json" };
import { DEFAULT_TAXONOMY } from "../src/domain/taxonomy.js";
import { loadWordNet } from "../src/lexicon/wordnet.js";
import { duplicates } from "./duplicates.js";
import { crossValidate, DEFAULT_CV_SETTINGS, type Example, type Scored } from "./lib/cv.js";
import { labelledRows, ocrRows, TESTDATA_DIR } from "./lib/dataset.js";
import {
  alsoVisible,
  type Described,
  type EvalFigures,
  evaluateDescriptions,
  mergeFigures,
  printDescriptionFigures,
  readFigures,
  readSentences,
  writeSentences,
} from "./lib/descriptions.js";
import { kindLabel } from "./lib/kinds.js";
import { characterAccuracy, median, pct, quantile, table } from "./lib/report.js";
import { mediaTypeOf, signalsFor } from "./lib/signals.js";
import { judgeSummary } from "./lib/subject-truth.js";

const { values: args } = parseArgs({
  options: {
    photos: { type: "string", default: "500" },
    "no-speed": { type: "boolean", default: false },
    only: { type: "string" },
    folds: { type: "string", default: "5" },
    verbose: { type: "boolean", default: false },
    /** Save this run's figures as eval/results/<name>.json (e.g. "before" on main, "after" on a branch). */
    save: { type: "string" },
    originals: { type: "string", default: "200" },
  },
});
/** main's figures, measured before issue 11's changes, printed beside this run's. */
const before = readFigures("before.json");
const figures: EvalFigures = {};
const classes = DEFAULT_TAXONOMY.categories.map((c) => c.slug);
const head = headJson as HeadWeights;
const HEAD_FEATURES = DEFAULT_CV_SETTINGS.features;
const rows = labelledRows();
const mb = (bytes: number) => `${Math.round(bytes / 1024 / 1024)} MB`;

// ---------- 1. Speed (first, so the model load is measured cold in this process) ----------
async function speed(photoCount: number): Promise<void> {
  console.log("\n== Speed (full analyser: decode, models, colours, head, OCR where text is likely) ==");
  const loadStart = loadavg()
    .map((v) => v.toFixed(2))
    .join(" ");
  const analyser = await createLocalAnalyser();
  const loadStarted = performance.now();
  await analyser.warmUp?.();
  const loadMs = performance.now() - loadStarted;
  const warmUp = 10;
  const times: number[] = [];
  /** CPU time per photo (all threads of this process): less sensitive to a loaded machine than wall time. */
  const cpuTimes: number[] = [];
  const samples: { n: number; rss: number; tensors: number }[] = [];
  let failures = 0;
  for (let i = 0; i < photoCount + warmUp; i++) {
    // Read per photo (untimed) so the RSS figures are the analyser's, not a preloaded corpus.
    const bytes = await readFile(path.join(TESTDATA_DIR, rows[i % rows.length]!.path));
    const mediaType = await mediaTypeOf(bytes, "application/octet-stream");
    const started = performance.now();
    const cpuStarted = process.cpuUsage();
    try {
      await analyser.analyse({ bytes, mediaType, taxonomy: DEFAULT_TAXONOMY, language: "en" });
    } catch {
      failures++;
    }
    const done = i - warmUp + 1;
    if (done >= 1) {
      times.push(performance.now() - started);
      const cpu = process.cpuUsage(cpuStarted);
      cpuTimes.push((cpu.user + cpu.system) / 1000);
    }
    if (done === 1 || (done > 0 && done % 100 === 0)) {
      samples.push({ n: done, rss: process.memoryUsage().rss, tensors: analyser.tensorCount() });
    }
  }
  await analyser.close?.();
  const peakRss = process.resourceUsage().maxRSS * 1024;
  // The machine may be shared: the load average says how far the times can be trusted.
  const load = `${loadStart} at start, ${loadavg()
    .map((v) => v.toFixed(2))
    .join(" ")} at end`;
  figures.speed = {
    medianMs: Math.round(median(times)),
    p95Ms: Math.round(quantile(times, 0.95)),
    medianCpuMs: Math.round(median(cpuTimes)),
    loadMs: Math.round(loadMs),
    load,
  };
  const was = before.speed;
  console.log(
    table(
      ["measure", "before (main)", "after", "target"],
      [
        ["model load (warmUp)", was ? `${was.loadMs} ms` : "-", `${Math.round(loadMs)} ms`, "<= 3000 ms"],
        [`photos timed (after ${warmUp} warm-up)`, "", `${times.length} (${failures} not decodable)`, ""],
        ["median per photo", was ? `${was.medianMs} ms` : "-", `${figures.speed.medianMs} ms`, "<= 400 ms"],
        ["p95 per photo", was ? `${was.p95Ms} ms` : "-", `${figures.speed.p95Ms} ms`, ""],
        [
          "median CPU time per photo (all threads)",
          was?.medianCpuMs ? `${was.medianCpuMs} ms` : "-",
          `${figures.speed.medianCpuMs} ms`,
          "",
        ],
        ["peak RSS", "", mb(peakRss), "<= 1229 MB"],
        ["load average (1, 5, 15 min)", was?.load ?? "-", load, "low"],
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

interface Prepared {
  examples: Example[];
  /** Out-of-fold ranking of every row: from a head that never saw it (or its near-duplicates). */
  rankings: Map<string, Ranked[]>;
  /** Out-of-fold ranking of kinds (a bird, a car, fruit), from a kind head that never saw the row. */
  kindRankings: Map<string, Ranked[]>;
  models: () => Promise<LocalModels>;
  dispose: () => void;
}

let preparedOnce: Promise<Prepared> | undefined;
function prepare(folds: number): Promise<Prepared> {
  preparedOnce ??= (async () => {
    let models: Promise<LocalModels> | undefined;
    const loadModels = () => {
      models ??= LocalModels.load();
      return models;
    };
    const signals = await signalsFor(
      rows.map((r) => r.path),
      loadModels,
      (done, total) => {
        if (done % 100 === 0) process.stderr.write(`signals ${done}/${total}\n`);
      },
    );
    const examples: Example[] = rows.flatMap((row) => {
      const cues = signals.get(row.path);
      return cues ? [{ row, cues }] : [];
    });
    const skipped = rows.filter((r) => !signals.get(r.path)).map((r) => r.path);
    if (skipped.length) console.log(`not decodable, left out: ${skipped.join(", ")}`);
    const cv = crossValidate(examples, classes, DEFAULT_CV_SETTINGS, folds);
    const rankings = new Map(
      cv.outOfFold.map((o) => {
        const probs = softmax(o.logits, cv.temperature);
        return [o.row.path, classes.map((label, k) => ({ label, p: probs[k]! })).sort((a, b) => b.p - a.p)];
      }),
    );
    const wordnet = await loadWordNet();
    const kinds = kindClasses();
    const kindOf = new Map(examples.map((e) => [e.row.path, kindLabel(wordnet, e.row)]));
    const kindCv = crossValidate(examples, kinds, DEFAULT_CV_SETTINGS, folds, (e) => kindOf.get(e.row.path)!);
    const kindRankings = new Map(
      kindCv.outOfFold.map((o) => {
        const probs = softmax(o.logits, kindCv.temperature);
        return [o.row.path, kinds.map((label, k) => ({ label, p: probs[k]! })).sort((a, b) => b.p - a.p)];
      }),
    );
    return {
      examples,
      rankings,
      kindRankings,
      models: loadModels,
      dispose: () => void models?.then((m) => m.dispose()),
    };
  })();
  return preparedOnce;
}

async function categories(folds: number): Promise<void> {
  const { examples, rankings } = await prepare(folds);
  console.log(
    `\n== Categories: ${examples.length} labelled photos (${examples.filter((e) => e.row.high).length} high confidence) ==`,
  );
  const decide = (e: Example, ranking: Ranked[]): Scored => {
    const d = decideDefault(ranking, e.cues.signals, e.cues.colours);
    return { row: e.row, predicted: d.category, confidence: d.confidence };
  };
  const crossValidated = examples.map((e) => decide(e, rankings.get(e.row.path)!));
  report(
    `CROSS-VALIDATED (${folds}-fold, head retrained per fold, near-duplicates kept in one fold; rules applied)`,
    crossValidated,
  );
  const high = crossValidated.filter((s) => s.row.high);
  figures.categories = {
    highRows: high.length,
    highRight: high.filter((s) => s.predicted === s.row.category).length,
    perCategory: Object.fromEntries(
      classes.map((c) => {
        const mine = high.filter((s) => s.row.category === c);
        return [c, [mine.filter((s) => s.predicted === c).length, mine.length]];
      }),
    ),
  };
  printCategoryFigures(figures.categories, before.categories);

  const inSample = examples.map((e) => decide(e, predict(head, headInput(e.cues, HEAD_FEATURES))));
  report("IN-SAMPLE (shipped head, which was trained on these very rows: optimistic)", inSample);
}

function printCategoryFigures(after: NonNullable<EvalFigures["categories"]>, was: EvalFigures["categories"]) {
  const share = (f: EvalFigures["categories"], c?: string) => {
    if (!f) return "-";
    const [right, all] = c ? (f.perCategory[c] ?? [0, 0]) : [f.highRight, f.highRows];
    return `${pct(right / (all || 1))} (${right}/${all})`;
  };
  console.log("\nCategory accuracy on high-confidence rows, cross-validated: before (main) and after");
  console.log(
    table(
      ["rows", "before (main)", "after", "target"],
      [
        ["all high rows", share(was), share(after), ">= 82%"],
        ...classes.map((c) => [c, share(was, c), share(after, c), ">= 50%"]),
      ],
    ),
  );
}

// ---------- Descriptions: subject truth, alt text ----------
/** OCR output per file, cached (gitignored) and keyed by the OCR code itself, so a changed reader rereads. */
const OCR_CACHE_DIR = path.resolve(import.meta.dirname, "../.tmp/local-ocr");
const OCR_CODE_DIGEST = createHash("sha256")
  .update(readFileSync(path.resolve(import.meta.dirname, "../src/analysers/local/ocr.ts")))
  .update(readFileSync(path.resolve(import.meta.dirname, "../src/analysers/local/ppocr.ts")))
  .digest("hex")
  .slice(0, 12);

async function cachedOcr<T>(
  relative: string,
  key: string,
  compute: (image: RgbImage) => Promise<T>,
): Promise<T> {
  mkdirSync(OCR_CACHE_DIR, { recursive: true });
  const file = path.join(
    OCR_CACHE_DIR,
    `${createHash("sha256").update(`${OCR_CODE_DIGEST}\0${relative}\0${key}`).digest("hex").slice(0, 32)}.json`,
  );
  if (existsSync(file)) return JSON.parse(readFileSync(file, "utf8")) as T;
  const bytes = await readFile(path.join(TESTDATA_DIR, relative));
  const pixels = await preparePixels(bytes, {
    mediaType: await mediaTypeOf(bytes, "application/octet-stream"),
    maxPixels: 1e8,
  });
  const value = await compute(pixels.base);
  writeFileSync(file, JSON.stringify(value));
  return value;
}

async function descriptions(folds: number): Promise<void> {
  const { examples, rankings, kindRankings } = await prepare(folds);
  console.log(`\n== Descriptions: ${examples.length} labelled photos, category head cross-validated ==`);
  const wordnet = await loadWordNet();
  const vocabulary = buildVocabulary(wordnet);
  const reader = new TextReader();
  const described: Described[] = [];
  const allFacts: { e: Example; facts: CaptionFacts }[] = [];
  for (const e of examples) {
    const ranking = rankings.get(e.row.path)!;
    const modelView = decideDefault(ranking, e.cues.signals, e.cues.colours);
    // The analyser's own decision (planReading), with the detector's answer and the text cached per file.
    const plan = await planReading(
      {
        documentCategory: modelView.category === "documents",
        documentProbability: ranking.find((r) => r.label === "documents")?.p ?? 0,
        colours: e.cues.colours,
        top: ranking[0] ?? { label: "other", p: 0 },
      },
      () => cachedOcr(e.row.path, "sees text", seesText),
    );
    const text = plan
      ? await cachedOcr(
          e.row.path,
          JSON.stringify(plan),
          async (image) => (await reader.read(image, plan)).text,
        )
      : null;
    const kinds = kindRankings.get(e.row.path);
    const facts = captionFacts(e.cues.signals, e.cues.colours, ranking, kinds, text);
    allFacts.push({ e, facts });
    const out = caption(facts, vocabulary);
    described.push({ row: e.row, summary: out.summary, altText: out.altText, tags: out.tags });
  }
  await reader.close();
  figures.descriptions = evaluateDescriptions(wordnet, described, { verbose: args.verbose });
  // main's sentences are judged again with today's judge, so before and after are judged alike.
  const mainSentences = readSentences("before-sentences.tsv", examples);
  const judgedBefore = mainSentences.length
    ? evaluateDescriptions(wordnet, mainSentences, { verbose: false, quiet: true })
    : before.descriptions;
  printDescriptionFigures(figures.descriptions, judgedBefore);
  writeSentences(`${args.save ?? "latest"}-sentences.tsv`, described);
  tradeOff(wordnet, vocabulary, allFacts);
}

/**
 * The trade-off between naming specific things and naming wrong ones, on the ImageNet rows with out-of-fold
 * heads: each threshold of the caption swept alone around the shipped ones (CAPTION_THRESHOLDS).
 */
function tradeOff(
  wordnet: Awaited<ReturnType<typeof loadWordNet>>,
  vocabulary: Vocabulary,
  allFacts: readonly { e: Example; facts: CaptionFacts }[],
): void {
  const imagenet = allFacts.filter(({ e }) => e.row.path.startsWith("imagenet-samples/"));
  const judge = (t: CaptionThresholds) => {
    const judged = imagenet.map(({ e, facts }) =>
      judgeSummary(
        wordnet,
        caption(facts, vocabulary, t).summary,
        e.row.fineLabel,
        e.row.category,
        visible.get(e.row.path),
      ),
    );
    const share = (v: string) => pct(judged.filter((j) => j.verdict === v).length / (judged.length || 1));
    return [share("wrong"), share("specific")];
  };
  const visible = alsoVisible();
  const sweeps: [keyof CaptionThresholds, number[]][] = [
    ["kindSure", [0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]],
    ["nameScore", [0.3, 0.35, 0.4, 0.5, 0.6, 0.7]],
    ["kindInMind", [0.05, 0.1, 0.2, 0.3, 0.5, 1]],
    ["kindAgree", [0.2, 0.3, 0.4, 0.5, 1]],
    ["sure", [0.5, 0.6, 0.7, 0.8, 0.9]],
  ];
  console.log(
    `\nTrade-off (${imagenet.length} ImageNet rows, heads out of fold): each threshold swept alone, the others as shipped`,
  );
  const rows: string[][] = [];
  for (const [name, values] of sweeps) {
    for (const value of values) {
      const [wrong, specific] = judge({ ...CAPTION_THRESHOLDS, [name]: value });
      const shipped = CAPTION_THRESHOLDS[name] === value ? " (shipped)" : "";
      rows.push([`${name} = ${value}${shipped}`, wrong!, specific!]);
    }
  }
  console.log(table(["threshold", "wrong subject", "specific and right"], rows));
}

// ---------- 3. OCR ----------
async function ocr(): Promise<void> {
  const items = ocrRows();
  console.log(`\n== OCR: ${items.length} images with a transcription (ocr_groundtruth.tsv) ==`);
  const analyser = await createLocalAnalyser();
  // Each engine forced on every image, after the same preparation: the measurement the default is chosen by.
  const engines = [
    ["tesseract", new TextReader("tesseract")],
    ["ppocr", new TextReader("ppocr")],
  ] as const;
  const results: string[][] = [];
  let gatedSum = 0;
  const forcedSums = engines.map(() => 0);
  const forcedMs = engines.map(() => [] as number[]);
  const analyserMs: number[] = [];
  for (const item of items) {
    const bytes = await readFile(path.join(TESTDATA_DIR, item.path));
    const mediaType = await mediaTypeOf(bytes, "application/octet-stream");
    let gated: string | null = null;
    const forced: (string | null)[] = engines.map(() => null);
    let ms = 0;
    try {
      const analysed = await analyser.analyse({
        bytes,
        mediaType,
        taxonomy: DEFAULT_TAXONOMY,
        language: "en",
      });
      gated = analysed.text;
      ms = analysed.provenance.ms;
      analyserMs.push(ms);
      const pixels = await preparePixels(bytes, { mediaType, maxPixels: 1e8 });
      for (const [i, [, reader]] of engines.entries()) {
        const started = performance.now();
        forced[i] = (await reader.read(pixels.base)).text;
        forcedMs[i]!.push(performance.now() - started);
      }
    } catch (error) {
      console.log(`  ${item.path}: ${error instanceof Error ? error.message : String(error)}`);
    }
    const g = characterAccuracy(item.expected, gated);
    gatedSum += g;
    const f = forced.map((text) => characterAccuracy(item.expected, text));
    f.forEach((v, i) => {
      forcedSums[i]! += v;
    });
    const show = (s: string | null) =>
      s === null ? "null" : JSON.stringify(s.replace(/\s+/g, " ").slice(0, 40));
    results.push([item.path, item.language, pct(g), show(gated), ...f.map(pct), `${ms} ms`]);
  }
  for (const [, reader] of engines) await reader.close();
  await analyser.close?.();
  console.log(
    table(
      [
        "image",
        "lang",
        "1-CER (analyser)",
        "analyser text",
        ...engines.map(([name]) => `always ${name}`),
        "analyser time",
      ],
      results,
    ),
  );
  figures.ocr = { images: items.length, accuracy: gatedSum / items.length };
  console.log(
    `\nmean character accuracy (1 - CER): analyser as shipped (${DEFAULT_OCR_ENGINE}) ${pct(gatedSum / items.length)} (before, main: ${before.ocr ? pct(before.ocr.accuracy) : "-"}; target >= 85%)`,
  );
  for (const [i, [name]] of engines.entries()) {
    console.log(
      `  ${name} forced on every image: ${pct(forcedSums[i]! / items.length)}, median ${Math.round(median(forcedMs[i]!))} ms, max ${Math.round(Math.max(...forcedMs[i]!))} ms (load average ${loadavg()[0]!.toFixed(1)})`,
    );
  }
  console.log(
    `  analyser median ${Math.round(median(analyserMs))} ms, max ${Math.round(Math.max(...analyserMs))} ms`,
  );
}

const started = performance.now();
const run = (part: string) => !args.only || args.only === part;
if (run("speed") && !args["no-speed"]) await speed(Number(args.photos));
if (run("categories")) await categories(Number(args.folds));
if (run("descriptions")) await descriptions(Number(args.folds));
if (run("ocr")) await ocr();
if (run("duplicates")) await duplicates({ originals: Number(args.originals), folds: Number(args.folds) });
(await preparedOnce)?.dispose();
if (args.save) mergeFigures(`${args.save}.json`, figures);
console.log(`\n(evaluation took ${Math.round((performance.now() - started) / 1000)} s)`);
