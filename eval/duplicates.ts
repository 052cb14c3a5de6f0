/**
 * Near-duplicate detection measured on ../shared/testdata: the same pictures in many codecs (ground truth
 * in eval/duplicates/groups.tsv, grouped by looking at them), plus variants generated with sharp (resized,
 * re-encoded, converted, cropped 2-10%). Every hash comes from inspectImage, the ingest's own single decode.
 *
 *   npm run eval -- --only duplicates [--originals 200] [--folds 5]
 *
 * Reports recall of variant pairs, false positives over pairs of distinct photos (and separately over
 * hard negatives: bursts of similar shots), precision, how much of it the hash index finds, and which
 * copy is kept; the threshold is chosen on training folds and scored on held-out ones.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import sharp, { type Sharp } from "sharp";
import {
  candidateKeys,
  compareCopies,
  hashDistance,
  hashKeys,
  MATCH_DISTANCE,
  type PerceptualHash,
} from "../src/domain/near-duplicates.js";
import { inspectImage } from "../src/media/inspect.js";
import { labelledRows, TESTDATA_DIR } from "./lib/dataset.js";
import { pct, table } from "./lib/report.js";

const CACHE_DIR = path.resolve(import.meta.dirname, "../.tmp/duplicates-eval");
/** Bump when the hash or the variants change, so cached hashes are recomputed. */
const CACHE_VERSION = "phash6x64-2026-12-06.2";
/** Test files rather than pictures: metadata stubs, fuzz corpora, PngSuite's 32-pixel patterns. */
const NOT_PICTURES = /^(pngsuite|libheif|exiftool-t-images)\//;
const MIN_SIDE = 64;

interface Item {
  /** A testdata path, or `path#variant` for a generated copy. */
  key: string;
  /** What the item is a copy of: its ground-truth group, or its own key. */
  content: string;
  variant: string | null;
  hash: PerceptualHash | null;
  width: number;
  height: number;
  bytes: number;
  sharpness: number;
}

type Cached = Omit<Item, "key" | "content" | "variant"> | null;

function cached(key: string, stamp: string, compute: () => Promise<Cached>): Promise<Cached> {
  mkdirSync(CACHE_DIR, { recursive: true });
  const file = path.join(
    CACHE_DIR,
    `${createHash("sha256").update(`${CACHE_VERSION}\0${key}\0${stamp}`).digest("hex").slice(0, 32)}.json`,
  );
  if (existsSync(file)) return Promise.resolve(JSON.parse(readFileSync(file, "utf8")) as Cached);
  return compute().then((value) => {
    writeFileSync(file, JSON.stringify(value));
    return value;
  });
}

async function fingerprint(bytes: Buffer): Promise<Cached> {
  try {
    // A generous time limit: a slow decode on a busy machine must not drop a picture from the evaluation.
    const inspected = await inspectImage(bytes, {
      maxPixels: 100_000_000,
      timeoutMs: 300_000,
      queueMs: 600_000,
    });
    return {
      hash: inspected.perceptualHash,
      width: inspected.width,
      height: inspected.height,
      bytes: bytes.length,
      sharpness: inspected.sharpness,
    };
  } catch {
    return null; // Not accepted by ingest: not part of the evaluation.
  }
}

function manifestPaths(): string[] {
  const readme = readFileSync(path.join(TESTDATA_DIR, "README.md"), "utf8");
  const sources = (readme.match(/^\| ([a-z0-9-]+) \|/gm) ?? []).map((s) => s.slice(2, -2).trim());
  return sources.flatMap((source) => {
    const manifest = path.join(TESTDATA_DIR, source, "MANIFEST.tsv");
    if (!existsSync(manifest)) return [];
    return readFileSync(manifest, "utf8")
      .split("\n")
      .slice(1)
      .filter((line) => line.trim())
      .map((line) => `${source}/${line.split("\t")[0]}`);
  });
}

function groundTruth(): Map<string, string> {
  const file = path.resolve(import.meta.dirname, "duplicates/groups.tsv");
  return new Map(
    readFileSync(file, "utf8")
      .trim()
      .split("\n")
      .slice(1)
      .map((line) => {
        const [group = "", p = ""] = line.split("\t");
        return [p, group] as const;
      }),
  );
}

const crop = (left: number, top: number, right: number, bottom: number) => (s: Sharp, w: number, h: number) =>
  s
    .extract({
      left: Math.round(w * left),
      top: Math.round(h * top),
      width: w - Math.round(w * left) - Math.round(w * right),
      height: h - Math.round(h * top) - Math.round(h * bottom),
    })
    .jpeg({ quality: 90 });

/** The copies a person ends up with: resized, re-encoded, converted, cropped by 2 to 10% of a side. */
const VARIANTS: Record<string, (s: Sharp, w: number, h: number) => Sharp> = {
  "resize 50% (JPEG q85)": (s, w) => s.resize(Math.round(w / 2)).jpeg({ quality: 85 }),
  "resize 25% (JPEG q85)": (s, w) => s.resize(Math.max(16, Math.round(w / 4))).jpeg({ quality: 85 }),
  "JPEG q90": (s) => s.jpeg({ quality: 90 }),
  "JPEG q70": (s) => s.jpeg({ quality: 70 }),
  "JPEG q50": (s) => s.jpeg({ quality: 50 }),
  "JPEG q30": (s) => s.jpeg({ quality: 30 }),
  "WebP q80": (s) => s.webp({ quality: 80 }),
  "WebP q50": (s) => s.webp({ quality: 50 }),
  PNG: (s) => s.png(),
  "AVIF q50": (s) => s.avif({ quality: 50, effort: 0 }),
  "blurred (sigma 2, JPEG q90)": (s) => s.blur(2).jpeg({ quality: 90 }),
  "crop 2% (1% each side)": crop(0.01, 0.01, 0.01, 0.01),
  "crop 5% (centred)": crop(0.025, 0.025, 0.025, 0.025),
  "crop 10% (centred)": crop(0.05, 0.05, 0.05, 0.05),
  "crop 5% (one side)": crop(0, 0, 0.05, 0),
  "crop 10% (one side)": crop(0, 0, 0.1, 0),
  "crop 10% (top and left)": crop(0.1, 0.1, 0, 0),
};

/** Sets of similar shots that are not duplicates: consecutive camera frames, animation frames, re-drawings. */
function hardNegativeSets(universe: readonly string[]): string[][] {
  const folder = (prefix: string) => universe.filter((p) => p.startsWith(prefix));
  const byCategory = new Map<string, string[]>();
  for (const row of labelledRows()) {
    if (!row.path.startsWith("imagenet-samples/") || !universe.includes(row.path)) continue;
    byCategory.set(row.category, [...(byCategory.get(row.category) ?? []), row.path]);
  }
  return [
    folder("exif-samples/jpg/gps/"),
    folder("exif-samples/jpg/invalid/"),
    ["pillow-tests/anim_frame1.webp", "pillow-tests/anim_frame2.webp"],
    [
      "pillow-tests/dxt3-argb-8bbp-explicitalpha_MipMaps-1.png",
      "pillow-tests/dxt5-argb-8bbp-interpolatedalpha_MipMaps-1.png",
    ],
    ["wuffs-testdata/hibiscus.primitive.png", "wuffs-testdata/hibiscus.regular.png"],
    ...byCategory.values(),
  ].filter((set) => set.length > 1);
}

interface Scored {
  pair: Pair;
  t: number;
}

interface Pair {
  i: number;
  j: number;
  distance: number;
  same: boolean;
}

/** The hashes as 32-bit words (hi, lo per window), for the millions of pairs measured here. */
function words(hash: PerceptualHash | null): Uint32Array | null {
  if (!hash) return null;
  const out = new Uint32Array(hash.length / 8);
  for (let w = 0; w < out.length; w++) out[w] = Number.parseInt(hash.slice(w * 8, w * 8 + 8), 16);
  return out;
}

function popcount(x: number): number {
  let v = x - ((x >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (((v + (v >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

/** hashDistance on words (the same minimum over whole frame against every window, both ways). */
function fastDistance(a: Uint32Array | null, b: Uint32Array | null): number {
  if (!a || !b) return Number.POSITIVE_INFINITY;
  const d = (x: Uint32Array, wx: number, y: Uint32Array, wy: number) =>
    popcount(x[wx * 2]! ^ y[wy * 2]!) + popcount(x[wx * 2 + 1]! ^ y[wy * 2 + 1]!);
  let best = d(a, 0, b, 0);
  for (let w = 1; w < a.length / 2; w++) best = Math.min(best, d(a, 0, b, w), d(a, w, b, 0));
  return best;
}

/**
 * The false-positive rate per pair a threshold may have on the training folds: a tenth of the 1-in-1,000
 * target, since a library of n photos has n^2/2 pairs of distinct photos (at 1 in 1,000, every photo of a
 * 100,000-photo library would be paired with about 100 others).
 */
const TRAINING_FALSE_POSITIVES = 1 / 10_000;

/** Negative pairs further apart than this never count at any threshold tried: only counted, not kept. */
const MAX_THRESHOLD = 24;

export async function duplicates(options: { originals: number; folds: number }): Promise<void> {
  const truth = groundTruth();
  const all = manifestPaths();
  console.log(
    `\n== Near-duplicates: ${all.length} test files, ground truth in eval/duplicates/groups.tsv ==`,
  );
  const items: Item[] = [];
  let done = 0;
  for (const p of all) {
    const full = path.join(TESTDATA_DIR, p);
    if (NOT_PICTURES.test(p) || !existsSync(full)) continue;
    const stat = statSync(full);
    const value = await cached(p, `${stat.size}\0${stat.mtimeMs}`, async () =>
      fingerprint(readFileSync(full)),
    );
    if (++done % 200 === 0) process.stderr.write(`hashed ${done} test files\n`);
    if (!value || Math.min(value.width, value.height) < MIN_SIDE) continue;
    items.push({ key: p, content: truth.get(p) ?? p, variant: null, ...value });
  }
  const testFiles = items.length;

  // Originals: one picture per ground-truth group and every picture without copies, at least 200 px.
  const seen = new Set<string>();
  const candidates = items.filter((item) => {
    if (Math.min(item.width, item.height) < 200 || seen.has(item.content)) return false;
    seen.add(item.content);
    return true;
  });
  const step = candidates.length / Math.min(options.originals, candidates.length);
  const originals = Array.from(
    { length: Math.min(options.originals, candidates.length) },
    (_, i) => candidates[Math.floor(i * step)]!,
  );
  for (const [n, original] of originals.entries()) {
    const full = path.join(TESTDATA_DIR, original.key);
    const stat = statSync(full);
    // The "original": the decoded, oriented picture, at most 1600 px, kept lossless.
    let base: { png: Buffer; width: number; height: number } | null = null;
    const source = async () => {
      if (!base) {
        const { data, info } = await sharp(readFileSync(full), { autoOrient: true, limitInputPixels: 1e8 })
          .resize({ width: 1600, height: 1600, fit: "inside", withoutEnlargement: true })
          .png()
          .toBuffer({ resolveWithObject: true });
        base = { png: data, width: info.width, height: info.height };
      }
      return base;
    };
    for (const name of ["original", ...Object.keys(VARIANTS)]) {
      const value = await cached(`${original.key}#${name}`, `${stat.size}\0${stat.mtimeMs}`, async () => {
        try {
          const b = await source();
          const bytes =
            name === "original" ? b.png : await VARIANTS[name]!(sharp(b.png), b.width, b.height).toBuffer();
          return fingerprint(bytes);
        } catch {
          return null;
        }
      });
      if (value)
        items.push({
          key: `${original.key}#${name}`,
          content: `variant:${original.key}`,
          variant: name,
          ...value,
        });
    }
    if ((n + 1) % 25 === 0) process.stderr.write(`variants of ${n + 1}/${originals.length} originals\n`);
  }
  const flat = items.filter((i) => !i.hash).length;
  console.log(
    `${testFiles} test files accepted by ingest (at least ${MIN_SIDE} px, test patterns left out), ${originals.length} originals x ${Object.keys(VARIANTS).length} generated variants; ${flat} flat pictures get no hash`,
  );

  // Every pair: positives kept, negatives kept when near enough to count, and counted by folds.
  const hashWords = items.map((item) => words(item.hash));
  const pictureOf = (item: Item) => {
    const base = item.content.replace(/^variant:/, "");
    return truth.get(base) ?? base;
  };
  const pictures = items.map(pictureOf);
  // Folds by picture: every copy of a picture in the same fold.
  const foldOf = new Map([...new Set(pictures)].sort().map((picture, n) => [picture, n % options.folds]));
  const folds = pictures.map((picture) => foldOf.get(picture)!);
  // The hard-negative set of each test file (-1: none).
  const hardSetOf = new Map<string, number>();
  hardNegativeSets(items.filter((i) => !i.variant).map((i) => i.key)).forEach((set, n) => {
    for (const key of set) hardSetOf.set(key, n);
  });
  const hardSets = items.map((item) => (item.variant ? -1 : (hardSetOf.get(item.key) ?? -1)));
  const isHard = (p: Pair) => hardSets[p.i] !== -1 && hardSets[p.i] === hardSets[p.j];
  const kept: Pair[] = [];
  const negativeCount = Array.from({ length: options.folds }, () => new Array<number>(options.folds).fill(0));
  let hardCount = 0;
  for (let i = 0; i < items.length; i++) {
    for (let j = i + 1; j < items.length; j++) {
      const same = pictures[i] === pictures[j];
      const d = fastDistance(hashWords[i]!, hashWords[j]!);
      if (!same) {
        const [fa, fb] = [folds[i]!, folds[j]!].sort((x, y) => x - y);
        negativeCount[fa!]![fb!]!++;
      }
      const pair = { i, j, distance: d, same };
      if (!same && isHard(pair)) hardCount++;
      if (same || d <= MAX_THRESHOLD) kept.push(pair);
    }
  }
  // The fast distance is the shipped one.
  for (const p of kept.slice(0, 2000)) {
    const exact = hashDistance(items[p.i]!.hash ?? "", items[p.j]!.hash ?? "");
    if (items[p.i]!.hash && items[p.j]!.hash && exact !== p.distance)
      throw new Error("fastDistance disagrees");
  }

  // Cross-validation: the threshold is the largest whose false-positive rate on the training folds' pairs
  // stays under TRAINING_FALSE_POSITIVES; it scores the pairs whose lower fold is held out.
  const lowFold = (p: Pair) => Math.min(folds[p.i]!, folds[p.j]!);
  const touches = (p: Pair, k: number) => folds[p.i] === k || folds[p.j] === k;
  const countWhere = (test: (fa: number, fb: number) => boolean) => {
    let n = 0;
    for (let fa = 0; fa < options.folds; fa++)
      for (let fb = fa; fb < options.folds; fb++) if (test(fa, fb)) n += negativeCount[fa]![fb]!;
    return n;
  };
  const chosen: number[] = [];
  const heldOut: Scored[] = [];
  let heldOutNegatives = 0;
  for (let k = 0; k < options.folds; k++) {
    const trainingNegatives = countWhere((fa, fb) => fa !== k && fb !== k);
    const near = kept.filter((p) => !p.same && !touches(p, k));
    let best = 0;
    for (let t = 0; t <= MAX_THRESHOLD; t++) {
      if (near.filter((p) => p.distance <= t).length / trainingNegatives <= TRAINING_FALSE_POSITIVES)
        best = t;
    }
    chosen.push(best);
    heldOutNegatives += countWhere((fa) => fa === k);
    for (const pair of kept) if (lowFold(pair) === k) heldOut.push({ pair, t: best });
  }
  console.log(
    `thresholds chosen on the training folds: ${chosen.join(", ")} bits (the shipped MATCH_DISTANCE is ${MATCH_DISTANCE})`,
  );
  const allNegatives = countWhere(() => true);

  const report = (title: string, scored: Scored[], negativeTotal: number) => {
    const positive = scored.filter((s) => s.pair.same);
    const negative = scored.filter((s) => !s.pair.same);
    const hit = (s: { pair: Pair; t: number }) => s.pair.distance <= s.t;
    const variantPairs = positive.filter((s) => items[s.pair.i]!.variant || items[s.pair.j]!.variant);
    const codecPairs = positive.filter((s) => !items[s.pair.i]!.variant && !items[s.pair.j]!.variant);
    const hardPairs = negative.filter((s) => isHard(s.pair));
    const tp = positive.filter(hit).length;
    const fp = negative.filter(hit).length;
    console.log(`\n-- ${title} --`);
    console.log(
      table(
        ["measure", "value", "target"],
        [
          [
            "recall, generated variant pairs",
            `${pct(variantPairs.filter(hit).length / variantPairs.length)} (${variantPairs.filter(hit).length}/${variantPairs.length})`,
            ">= 90%",
          ],
          [
            "recall, same picture in several test files",
            `${pct(codecPairs.filter(hit).length / codecPairs.length)} (${codecPairs.filter(hit).length}/${codecPairs.length})`,
            "",
          ],
          [
            "false positives, distinct photo pairs",
            `${((fp / negativeTotal) * 1000).toFixed(3)} per 1,000 (${fp}/${negativeTotal})`,
            "< 1 per 1,000",
          ],
          [
            "false positives, hard negatives (bursts, similar shots)",
            `${hardPairs.filter(hit).length} of ${hardTotal} pairs`,
            "",
          ],
          [
            "precision over all pairs called duplicates",
            `${pct(tp / (tp + fp || 1))} (${tp}/${tp + fp})`,
            "",
          ],
        ],
      ),
    );
    const byVariant = Object.keys(VARIANTS).map((name) => {
      const mine = variantPairs.filter((s) => {
        const [a, b] = [items[s.pair.i]!, items[s.pair.j]!];
        return (
          (a.variant === "original" && b.variant === name) || (b.variant === "original" && a.variant === name)
        );
      });
      return [name, `${pct(mine.filter(hit).length / (mine.length || 1))}`, String(mine.length)];
    });
    console.log("\nrecall of each variant against its original:");
    console.log(table(["variant", "recall", "pairs"], byVariant));
  };
  const hardTotal = hardCount;
  report(
    `CROSS-VALIDATED (${options.folds} folds by picture; threshold from the training folds)`,
    heldOut,
    heldOutNegatives,
  );
  report(
    `SHIPPED THRESHOLD (${MATCH_DISTANCE} bits, on every pair)`,
    kept.map((pair) => ({ pair, t: MATCH_DISTANCE })),
    allNegatives,
  );

  // Where the false positives are, at the shipped threshold: by the sources of the two pictures.
  const sourceOf = (item: Item) => `${item.key.split("/")[0]}${item.variant ? " (variant)" : ""}`;
  const bySources = new Map<string, number>();
  for (const p of kept) {
    if (p.same || p.distance > MATCH_DISTANCE) continue;
    const label = [sourceOf(items[p.i]!), sourceOf(items[p.j]!)].sort().join(" + ");
    bySources.set(label, (bySources.get(label) ?? 0) + 1);
  }
  console.log(`\nfalse positives at ${MATCH_DISTANCE} bits by the sources of the two pictures:`);
  console.log(
    table(
      ["sources", "pairs"],
      [...bySources]
        .sort((a, b) => b[1] - a[1])
        .slice(0, 12)
        .map(([label, n]) => [label, String(n)]),
    ),
  );

  // The closest false pairs between test files (not generated variants): worth a look, in case the ground
  // truth misses a copy.
  const closest = kept
    .filter((p) => !p.same && p.distance <= MATCH_DISTANCE && !items[p.i]!.variant && !items[p.j]!.variant)
    .sort((a, b) => a.distance - b.distance)
    .slice(0, 10);
  console.log("\nclosest false positives between test files:");
  console.log(
    table(
      ["bits", "pair"],
      closest.map((p) => [String(p.distance), `${items[p.i]!.key}  ${items[p.j]!.key}`]),
    ),
  );

  // The index finds a stored photo when one of its band keys is among the new photo's lookup keys.
  const matches = kept.filter((p) => p.distance <= MATCH_DISTANCE);
  const found = matches.filter((p) => {
    const [a, b] = [items[p.i]!.hash!, items[p.j]!.hash!];
    const keysOfB = new Set(hashKeys(b));
    const keysOfA = new Set(hashKeys(a));
    // Either photo may arrive second.
    return candidateKeys(a).some((k) => keysOfB.has(k)) && candidateKeys(b).some((k) => keysOfA.has(k));
  });
  console.log(
    `\nhash index: finds ${pct(found.length / (matches.length || 1))} of the pairs within ${MATCH_DISTANCE} bits whichever photo comes second (${found.length}/${matches.length}); the rest are missed at ingest`,
  );

  // Which copy is kept: the original should win over every smaller or re-compressed copy.
  const byOriginal = new Map<string, Item[]>();
  for (const item of items.filter((i) => i.variant)) {
    byOriginal.set(item.content, [...(byOriginal.get(item.content) ?? []), item]);
  }
  const keepRows = Object.keys(VARIANTS).map((name) => {
    let wins = 0;
    let total = 0;
    for (const copies of byOriginal.values()) {
      const original = copies.find((c) => c.variant === "original");
      const copy = copies.find((c) => c.variant === name);
      if (!original || !copy) continue;
      total++;
      const asCandidate = (c: Item) => ({ ...c, id: c.key, byteSize: c.bytes, createdAt: "" });
      if (compareCopies(asCandidate(original), asCandidate(copy)) < 0) wins++;
    }
    return [name, pct(wins / (total || 1)), String(total)];
  });
  console.log(
    "\nkeep: the lossless original is ranked above the copy (largest, then sharpest, then biggest file):",
  );
  console.log(table(["copy", "original kept", "pairs"], keepRows));
}
