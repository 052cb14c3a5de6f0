import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { loadConfig } from "../src/config.js";
import { createContainer } from "../src/container.js";
import { run } from "../src/entry/runtime.js";
import { silentLogger } from "../src/logger.js";
import { ingestFile } from "../src/services/ingest.js";
import { fakeProviderEnv, startFakeProvider } from "../test/faults/support/fake-provider.js";
import { generatedPhoto, labelledPhotoPaths } from "../test/faults/support/photos.js";
import { log, round, type Section } from "./report.js";

const run$ = promisify(execFile);
const CHILD = fileURLToPath(new URL("./local-analyser-child.ts", import.meta.url));

export type LocalAnalyserResults =
  | {
      available: true;
      model: string;
      photos: number;
      failed: number;
      load_ms: number;
      p50_ms: number;
      p95_ms: number;
      peak_rss_mb: number;
    }
  | { available: false; reason: string };

export interface ProviderResults {
  allowed_per_min: number;
  achieved_per_min: number;
  share: number;
  failed: number;
  photos: number;
  latency_ms: number;
  rpm_setting: number;
  concurrency: number;
  rate_limited_answers: number;
  elapsed_s: number;
}

/** The local analyser's speed and memory, measured in a child process on real photos. */
export async function benchLocalAnalyser(options: {
  quick: boolean;
}): Promise<Section<LocalAnalyserResults>> {
  const workDir = await mkdtemp(path.join(tmpdir(), "photocat-bench-local-"));
  try {
    let photos = labelledPhotoPaths();
    let source = "real photos";
    if (photos.length === 0) {
      source = "generated photos";
      photos = [];
      for (let i = 0; i < 30; i++) {
        const file = path.join(workDir, `p${i}.jpg`);
        await writeFile(file, await generatedPhoto(i, { width: 1600, height: 1200 }));
        photos.push(file);
      }
    }
    // Every k-th photo: a spread over the sources rather than the first folder only.
    const count = options.quick ? 30 : 100;
    const step = Math.max(1, Math.floor(photos.length / count));
    const chosen = photos.filter((_, i) => i % step === 0).slice(0, count);
    let results: LocalAnalyserResults;
    try {
      const { stdout } = await run$(
        process.execPath,
        ["--import", "tsx", CHILD, String(chosen.length), ...chosen],
        { timeout: options.quick ? 300_000 : 900_000, maxBuffer: 1 << 20 },
      );
      results = JSON.parse(stdout.trim().split("\n").at(-1) ?? "{}") as LocalAnalyserResults;
    } catch (error) {
      results = {
        available: false,
        reason: `the measuring process failed: ${(error as Error).message.slice(0, 300)}`,
      };
    }
    if (!results.available) {
      log(`local analyser not available: ${results.reason}`);
      return {
        results,
        rows: [{ area: "local analyser", measure: "not available", value: results.reason.slice(0, 60) }],
      };
    }
    log(`local analyser: ${results.photos} ${source}, p95 ${results.p95_ms} ms`);
    return {
      results,
      rows: [
        {
          area: "local analyser",
          measure: `per photo p50/p95 ms (${results.photos} ${source}${results.failed ? `, ${results.failed} failed` : ""})`,
          value: `${results.p50_ms}/${results.p95_ms}`,
        },
        { area: "local analyser", measure: "load time ms", value: String(results.load_ms) },
        { area: "local analyser", measure: "peak RSS MB", value: String(results.peak_rss_mb) },
      ],
    };
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}

/**
 * A remote provider against a local server that answers in 800 ms and allows 60 requests a minute (429 with
 * retry-after beyond): the real worker and OpenAI analyser, paced by PHOTOCAT_RPM, analyse queued photos.
 */
export async function benchProvider(options: { quick: boolean }): Promise<Section<ProviderResults>> {
  const allowed = 60;
  const latencyMs = 800;
  const photos = options.quick ? 100 : 300;
  const concurrency = 4;
  const provider = await startFakeProvider({ latencyMs, perMinute: allowed });
  const dataDir = await mkdtemp(path.join(tmpdir(), "photocat-bench-provider-"));
  try {
    const config = loadConfig(fakeProviderEnv(provider), {
      PHOTOCAT_DATA_DIR: dataDir,
      PHOTOCAT_RPM: String(allowed),
      PHOTOCAT_CONCURRENCY: String(concurrency),
    });
    const seeding = await createContainer(config, { logger: silentLogger() });
    for (let i = 0; i < photos; i++) {
      const file = path.join(dataDir, `photo-${i}.jpg`);
      await writeFile(file, await generatedPhoto(i, { width: 800, height: 600 }));
      await ingestFile(seeding.ingestDeps, seeding.ingestLimits, {
        path: file,
        originalName: `photo-${i}.jpg`,
      });
    }
    await seeding.close();
    log(
      `provider: ${photos} photos queued; analysing at ${allowed}/min (about ${Math.ceil(photos / allowed)} min)`,
    );

    const started = performance.now();
    const running = await run(config, { http: false, worker: true, logger: silentLogger() });
    const deadline = Date.now() + (photos / allowed) * 60_000 * 2 + 60_000;
    let counts = await running.container.queue.counts();
    try {
      while (counts.done + counts.failed < photos && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 250));
        counts = await running.container.queue.counts();
      }
    } finally {
      await running.close();
    }
    const elapsedS = (performance.now() - started) / 1000;
    const achieved = (counts.done / elapsedS) * 60;
    const failed = photos - counts.done;
    const results: ProviderResults = {
      allowed_per_min: allowed,
      achieved_per_min: round(achieved, 1),
      share: round(achieved / allowed, 3),
      failed,
      photos,
      latency_ms: latencyMs,
      rpm_setting: allowed,
      concurrency,
      rate_limited_answers: provider.stats.rateLimited,
      elapsed_s: round(elapsedS, 1),
    };
    log(`provider: ${results.achieved_per_min}/min, ${provider.stats.rateLimited} answers were 429`);
    return {
      results,
      rows: [
        {
          area: "remote provider",
          measure: `photos/min achieved of ${allowed} allowed (${photos} photos, 800 ms answers, ${provider.stats.rateLimited} x 429)`,
          value: `${results.achieved_per_min} (${round(results.share * 100)}%)`,
          target: ">= 95%",
          ok: results.share >= 0.95,
        },
        {
          area: "remote provider",
          measure: "failed photos",
          value: String(failed),
          target: "0",
          ok: failed === 0,
        },
      ],
    };
  } finally {
    await provider.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}
