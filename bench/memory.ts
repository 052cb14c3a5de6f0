import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fakeProviderEnv, startFakeProvider } from "../test/faults/support/fake-provider.js";
import { generatedPhoto, isJpeg, jpegVariant, labelledPhotoPaths } from "../test/faults/support/photos.js";
import { peakRssMb, startServerProcess, uploadFile } from "../test/faults/support/server-process.js";
import { log, pool, type Row, round, type Section } from "./report.js";

export interface MemoryResults {
  import_peak_rss_mb: number;
  photos: number;
  accepted: number;
  failed_uploads: number;
  upload_concurrency: number;
  source: string;
  photos_per_s: number;
  analysis: string;
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

/**
 * Peak resident memory (VmHWM) of a `photocat serve` process while 1,000 photos are uploaded over HTTP,
 * with its worker analysing them against a fast fake remote provider.
 */
export async function benchMemory(): Promise<Section<MemoryResults>> {
  const count = 1000;
  const concurrency = 8;
  const { files, source } = await importSet(count);
  const provider = await startFakeProvider({ latencyMs: 50 });
  const dataDir = await mkdtemp(path.join(tmpdir(), "photocat-bench-memory-"));
  try {
    const server = await startServerProcess({ dataDir, env: fakeProviderEnv(provider) });
    let accepted = 0;
    let failed = 0;
    let peak = 0;
    const sampler = setInterval(() => {
      peak = Math.max(peak, peakRssMb(server.pid) ?? 0);
    }, 200);
    const started = performance.now();
    try {
      await pool(files, concurrency, async (file) => {
        const result = await uploadFile(server.url, file).catch(() => ({ status: 0 }));
        if (result.status === 200 || result.status === 201) accepted++;
        else failed++;
      });
      peak = Math.max(peak, peakRssMb(server.pid) ?? 0);
    } finally {
      clearInterval(sampler);
      await server.stop();
    }
    const elapsedS = (performance.now() - started) / 1000;
    const results: MemoryResults = {
      import_peak_rss_mb: round(peak, 0),
      photos: count,
      accepted,
      failed_uploads: failed,
      upload_concurrency: concurrency,
      source,
      photos_per_s: round(count / elapsedS, 1),
      analysis: "worker on, OpenAI analyser against a local fake provider (50 ms answers)",
    };
    log(`memory: peak RSS ${results.import_peak_rss_mb} MB, ${accepted}/${count} accepted`);
    const rows: Row[] = [
      {
        area: "memory",
        measure: `server peak RSS importing ${count} photos over HTTP (${concurrency} clients, ${accepted} accepted)`,
        value: `${results.import_peak_rss_mb} MB`,
        target: "<= 1536 MB",
        ok: peak > 0 && peak <= 1536 && failed === 0,
      },
    ];
    return { results, rows };
  } finally {
    await provider.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}
