import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fakeProviderEnv, startFakeProvider } from "../test/faults/support/fake-provider.js";
import { generatedPhoto, isJpeg, jpegVariant, labelledPhotoPaths } from "../test/faults/support/photos.js";
import { peakRssMb, startServerProcess, uploadFile } from "../test/faults/support/server-process.js";
import { log, pool, type Row, round, type Section } from "./report.js";

export interface ImportRun {
  analysis: string;
  peak_rss_mb: number;
  accepted: number;
  failed_uploads: number;
  photos_per_s: number;
  /** Photos the worker had analysed when the import ended. */
  analysed_during_import: number;
}

export interface MemoryResults {
  /** The highest peak of the runs (with the local analyser in full mode, the remote one in both). */
  import_peak_rss_mb: number;
  photos: number;
  upload_concurrency: number;
  source: string;
  runs: ImportRun[];
}

/** The photos to import: real JPEGs made distinct by a harmless tail, or generated ones without testdata. */
async function importSet(
  count: number,
): Promise<{ files: { name: string; bytes: Buffer }[]; source: string }> {
  const jpegs: Buffer[] = [];
  for (const file of labelledPhotoPaths()) {
    const bytes = await readFile(file);
    if (isJpeg(bytes)) jpegs.push(bytes);
  }
  if (jpegs.length > 0) {
    return {
      files: Array.from({ length: count }, (_, i) => ({
        name: `photo-${i}.jpg`,
        bytes: jpegVariant(jpegs[i % jpegs.length]!, i),
      })),
      source: `${jpegs.length} real JPEGs, each file distinct`,
    };
  }
  log("memory: ../shared/testdata is absent: importing GENERATED photos");
  const files: { name: string; bytes: Buffer }[] = [];
  for (let i = 0; i < count; i++) {
    files.push({ name: `photo-${i}.jpg`, bytes: await generatedPhoto(i, { width: 2000, height: 1500 }) });
  }
  return { files, source: "generated 2000x1500 JPEGs" };
}

const COUNT = 1000;
const UPLOAD_CONCURRENCY = 8;

async function importOnce(
  files: { name: string; bytes: Buffer }[],
  analysis: string,
  env: Record<string, string>,
): Promise<ImportRun> {
  const dataDir = await mkdtemp(path.join(tmpdir(), "photocat-bench-memory-"));
  try {
    const server = await startServerProcess({ dataDir, env, timeoutMs: 120_000 });
    let accepted = 0;
    let failed = 0;
    let peak = 0;
    let analysed = 0;
    const sampler = setInterval(() => {
      peak = Math.max(peak, peakRssMb(server.pid) ?? 0);
    }, 200);
    const started = performance.now();
    try {
      await pool(files, UPLOAD_CONCURRENCY, async (file) => {
        const result = await uploadFile(server.url, file).catch(() => ({ status: 0 }));
        if (result.status === 200 || result.status === 201) accepted++;
        else failed++;
      });
      peak = Math.max(peak, peakRssMb(server.pid) ?? 0);
      const stats = (await (await fetch(`${server.url}/api/stats`)).json()) as {
        by_status: { done?: number };
      };
      analysed = stats.by_status.done ?? 0;
    } finally {
      clearInterval(sampler);
      await server.stop();
    }
    const run: ImportRun = {
      analysis,
      peak_rss_mb: round(peak, 0),
      accepted,
      failed_uploads: failed,
      photos_per_s: round(files.length / ((performance.now() - started) / 1000), 1),
      analysed_during_import: analysed,
    };
    log(`memory (${analysis}): peak RSS ${run.peak_rss_mb} MB, ${accepted}/${files.length} accepted`);
    return run;
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}

/**
 * Peak resident memory (VmHWM) of a `photocat serve` process while 1,000 photos are uploaded over HTTP, its
 * worker analysing at the same time: with a remote analyser against a fast local fake provider, and in full
 * mode also with the default local analyser.
 */
export async function benchMemory(options: { quick: boolean }): Promise<Section<MemoryResults>> {
  const { files, source } = await importSet(COUNT);
  const runs: ImportRun[] = [];
  const rows: Row[] = [];
  const row = (r: ImportRun): Row => ({
    area: "memory",
    measure: `server peak RSS importing ${COUNT} photos over HTTP, ${r.analysis} (${r.accepted} accepted, ${r.analysed_during_import} analysed meanwhile)`,
    value: `${r.peak_rss_mb} MB`,
    target: "<= 1536 MB",
    ok: r.peak_rss_mb > 0 && r.peak_rss_mb <= 1536 && r.failed_uploads === 0,
  });
  // The local analyser shares the 2 cores with the import (about 5 minutes): full mode only.
  if (!options.quick) {
    try {
      runs.push(await importOnce(files, "local analyser (default)", { PHOTOCAT_ANALYSER: "local" }));
      rows.push(row(runs.at(-1)!));
    } catch (error) {
      const message = (error as Error).message.split("\n")[0]!.slice(0, 200);
      log(`memory: the server with the local analyser did not run: ${message}`);
      rows.push({
        area: "memory",
        measure: "with the local analyser: did not run",
        value: message.slice(0, 60),
      });
    }
  }
  const provider = await startFakeProvider({ latencyMs: 50 });
  try {
    runs.push(await importOnce(files, "remote analyser, fake provider (50 ms)", fakeProviderEnv(provider)));
    rows.push(row(runs.at(-1)!));
  } finally {
    await provider.close();
  }
  return {
    results: {
      import_peak_rss_mb: Math.max(...runs.map((r) => r.peak_rss_mb)),
      photos: COUNT,
      upload_concurrency: UPLOAD_CONCURRENCY,
      source,
      runs,
    },
    rows,
  };
}
