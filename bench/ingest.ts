import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import sharp from "sharp";
import { loadConfig } from "../src/config.js";
import { createContainer } from "../src/container.js";
import { isPhotocatError } from "../src/domain/errors.js";
import { silentLogger } from "../src/logger.js";
import { sharpInputOptions } from "../src/media/decode.js";
import { THUMBNAIL_EDGES, THUMBNAIL_WEBP } from "../src/media/inspect.js";
import { ingestFile } from "../src/services/ingest.js";
import { generatedPhoto, labelledPhotoPaths } from "../test/faults/support/photos.js";
import { log, pool, type Row, round, type Section } from "./report.js";

export interface IngestResults {
  photos_per_s: number;
  limit_photos_per_s: number;
  ratio: number;
  photos: number;
  source: string;
  concurrency: number;
  rounds: { ingest_photos_per_s: number[]; limit_photos_per_s: number[] };
  rejected: number;
  /** Files left out because sharp alone cannot decode them (HEIC needs its own decoder). */
  excluded: number;
}

const MAX_PIXELS = 100_000_000;

function fitInside(edge: number) {
  return { width: edge, height: edge, fit: "inside", withoutEnlargement: true } as const;
}

/**
 * The physical limit: what sharp alone needs to make the same two WebP thumbnails from the file, with
 * the baseline's settings (one shrink-on-load decode to the large edge, both encodes from those pixels).
 */
async function sharpThumbnails(file: string): Promise<void> {
  const bytes = await readFile(file);
  const { data, info } = await sharp(bytes, sharpInputOptions(MAX_PIXELS))
    .resize(fitInside(THUMBNAIL_EDGES.large))
    .toColourspace("srgb")
    .raw({ depth: "uchar" })
    .toBuffer({ resolveWithObject: true });
  const raw = { width: info.width, height: info.height, channels: info.channels };
  await Promise.all([
    sharp(data, { raw }).webp(THUMBNAIL_WEBP).toBuffer(),
    sharp(data, { raw }).resize(fitInside(THUMBNAIL_EDGES.small)).webp(THUMBNAIL_WEBP).toBuffer(),
  ]);
}

async function photoSet(quick: boolean, workDir: string): Promise<{ files: string[]; source: string }> {
  const real = labelledPhotoPaths();
  if (real.length > 0) return { files: real, source: "real photos (../shared/testdata/labelled.tsv)" };
  log("../shared/testdata is absent: ingest uses GENERATED photos instead of real ones");
  const count = quick ? 100 : 300;
  const files: string[] = [];
  for (let i = 0; i < count; i++) {
    const file = path.join(workDir, `generated-${i}.jpg`);
    await writeFile(file, await generatedPhoto(i, { width: 2000, height: 1500 }));
    files.push(file);
  }
  return { files, source: "generated 2000x1500 JPEGs (no ../shared/testdata)" };
}

async function timeLimit(files: readonly string[], concurrency: number): Promise<number> {
  const started = performance.now();
  await pool(files, concurrency, (file) => sharpThumbnails(file));
  return files.length / ((performance.now() - started) / 1000);
}

async function timeIngest(
  files: readonly string[],
  concurrency: number,
  workDir: string,
  round: number,
): Promise<{ perSecond: number; rejected: number }> {
  const dataDir = path.join(workDir, `data-${round}`);
  const config = loadConfig({}, { PHOTOCAT_DATA_DIR: dataDir });
  const container = await createContainer(config, { logger: silentLogger() });
  const limits = { ...container.ingestLimits, analyse: false };
  let rejected = 0;
  try {
    const started = performance.now();
    await pool(files, concurrency, async (file) => {
      try {
        await ingestFile(container.ingestDeps, limits, { path: file, originalName: path.basename(file) });
      } catch (error) {
        if (!isPhotocatError(error)) throw error;
        rejected++;
      }
    });
    return { perSecond: files.length / ((performance.now() - started) / 1000), rejected };
  } finally {
    await container.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

/** Ingest throughput against sharp alone on the same files at the same concurrency, in alternating rounds. */
export async function benchIngest(options: {
  quick: boolean;
  concurrency: number;
}): Promise<Section<IngestResults>> {
  const workDir = await mkdtemp(path.join(tmpdir(), "photocat-bench-ingest-"));
  try {
    const { files: candidates, source } = await photoSet(options.quick, workDir);
    // Files sharp alone cannot make thumbnails of (HEIC) are left out of both sides; this also warms the cache.
    const files: string[] = [];
    await pool(candidates, options.concurrency, async (file) => {
      try {
        await sharpThumbnails(file);
        files.push(file);
      } catch {
        // Excluded from both measurements.
      }
    });
    files.sort();
    log(`ingest: ${files.length} photos (${candidates.length - files.length} excluded), ${source}`);
    const rounds = options.quick ? 2 : 3;
    const limitRates: number[] = [];
    const ingestRates: number[] = [];
    let rejected = 0;
    for (let r = 0; r < rounds; r++) {
      limitRates.push(await timeLimit(files, options.concurrency));
      const ingest = await timeIngest(files, options.concurrency, workDir, r);
      ingestRates.push(ingest.perSecond);
      rejected = ingest.rejected;
      log(
        `ingest round ${r + 1}/${rounds}: sharp alone ${round(limitRates.at(-1)!)} photos/s, ingest ${round(ingest.perSecond)} photos/s`,
      );
    }
    // Best of the rounds on both sides: the machine is shared, and the best run is the least disturbed one.
    const limit = Math.max(...limitRates);
    const ingest = Math.max(...ingestRates);
    const ratio = ingest / limit;
    const results: IngestResults = {
      photos_per_s: round(ingest, 2),
      limit_photos_per_s: round(limit, 2),
      ratio: round(ratio, 3),
      photos: files.length,
      source,
      concurrency: options.concurrency,
      rounds: {
        ingest_photos_per_s: ingestRates.map((v) => round(v, 2)),
        limit_photos_per_s: limitRates.map((v) => round(v, 2)),
      },
      rejected,
      excluded: candidates.length - files.length,
    };
    const rows: Row[] = [
      {
        area: "ingest",
        measure: `photos/s (${files.length} photos, concurrency ${options.concurrency})`,
        value: String(results.photos_per_s),
      },
      {
        area: "ingest",
        measure: "sharp alone, same thumbnails (limit)",
        value: String(results.limit_photos_per_s),
      },
      {
        area: "ingest",
        measure: "ratio ingest / limit",
        value: String(results.ratio),
        target: ">= 0.8",
        ok: ratio >= 0.8,
      },
    ];
    if (rejected > 0)
      rows.push({ area: "ingest", measure: "files rejected by ingest", value: String(rejected) });
    return { results, rows };
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}
