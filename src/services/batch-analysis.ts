import { mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import type { Analysis } from "../domain/analysis.js";
import type { PhotocatError } from "../domain/errors.js";
import type { Taxonomy } from "../domain/taxonomy.js";
import type { Logger } from "../logger.js";
import type { Analyser } from "../ports/analyser.js";
import type { BlobStore } from "../ports/blob-store.js";
import type { Catalog } from "../ports/catalog.js";
import type { JobQueue } from "../ports/job-queue.js";
import { contextFor } from "./analyse.js";
import type { ImageEvents } from "./events.js";
import { originalKey } from "./storage-keys.js";

/** What a provider's batch API offers (Anthropic's Message Batches: half price, results within 24 h). */
export interface BatchApi {
  submit(
    photos: AsyncIterable<{
      id: string;
      bytes: Buffer;
      mediaType: string;
      context?: ReturnType<typeof contextFor>;
    }>,
    settings: { taxonomy: Taxonomy; language: string },
  ): Promise<{
    batches: { batchId: string; imageIds: string[] }[];
    skipped: { imageId: string; error: PhotocatError }[];
  }>;
  waitUntilEnded(
    batchId: string,
    options?: { onProgress?: (p: { done: number; total: number; state: string }) => void },
  ): Promise<unknown>;
  results(
    batchId: string,
    taxonomy: Taxonomy,
  ): AsyncGenerator<{ imageId: string; analysis: Analysis } | { imageId: string; error: PhotocatError }>;
}

export interface BatchDeps {
  catalog: Catalog;
  queue: JobQueue;
  blobs: BlobStore;
  events: ImageEvents;
  logger: Logger;
}

export interface BatchRunSettings {
  taxonomy: Taxonomy;
  language: string;
  shareContext: boolean;
  /** Where submitted batch ids are kept so an interrupted import resumes (the data folder). */
  stateDir: string;
  onProgress?: (batchId: string, done: number, total: number) => void;
}

interface BatchState {
  batchId: string;
  imageIds: string[];
  submittedAt: string;
}

export interface BatchSummary {
  analysed: number;
  /** Sent back to the ordinary queue (invalid answers, errors, photos that could not be prepared). */
  requeued: number;
  batches: number;
}

/**
 * Analyses photos through a batch API: submits them, records each batch id on disk, waits, stores the
 * results. Run again after an interruption, it first finishes every batch recorded before. Photos
 * the batch could not describe go to the ordinary queue, where a worker analyses them one by one.
 */
export async function analyseInBatches(
  deps: BatchDeps,
  api: BatchApi,
  analyser: Pick<Analyser, "offline">,
  settings: BatchRunSettings,
  imageIds: readonly string[],
): Promise<BatchSummary> {
  await mkdir(settings.stateDir, { recursive: true });
  const summary: BatchSummary = { analysed: 0, requeued: 0, batches: 0 };
  const requeue = async (id: string, reason: string) => {
    deps.logger.warn(
      { imageId: id, reason },
      "batch could not describe the photo; queued for a normal analysis",
    );
    await deps.queue.enqueue(id);
    await deps.catalog.setStatus(id, "queued", null);
    summary.requeued++;
  };

  if (imageIds.length > 0) {
    const photos = async function* () {
      for (const id of imageIds) {
        const image = await deps.catalog.getImage(id);
        if (!image) continue;
        const bytes = await deps.blobs.get(originalKey(image.id, image.mediaType));
        yield {
          id,
          bytes,
          mediaType: image.mediaType,
          context: contextFor(image, analyser, settings.shareContext),
        };
      }
    };
    const submitted = await api.submit(photos(), {
      taxonomy: settings.taxonomy,
      language: settings.language,
    });
    for (const batch of submitted.batches) {
      const state: BatchState = { ...batch, submittedAt: new Date().toISOString() };
      await writeFile(path.join(settings.stateDir, `${batch.batchId}.json`), JSON.stringify(state));
      for (const id of batch.imageIds) await deps.catalog.setStatus(id, "running", null);
    }
    for (const skipped of submitted.skipped) await requeue(skipped.imageId, skipped.error.message);
  }

  const pending = (await readdir(settings.stateDir)).filter((f) => f.endsWith(".json")).sort();
  for (const file of pending) {
    const state = JSON.parse(await readFile(path.join(settings.stateDir, file), "utf8")) as BatchState;
    await api.waitUntilEnded(state.batchId, {
      onProgress: (p) => settings.onProgress?.(state.batchId, p.done, p.total),
    });
    const answered = new Set<string>();
    const jobId = `batch:${state.batchId}`;
    for await (const outcome of api.results(state.batchId, settings.taxonomy)) {
      answered.add(outcome.imageId);
      if ("error" in outcome) {
        await requeue(outcome.imageId, outcome.error.message);
        continue;
      }
      if ((await deps.catalog.analysisJobId(outcome.imageId)) === jobId) continue; // stored before a restart
      if (!(await deps.catalog.getImage(outcome.imageId))) continue; // deleted meanwhile
      await deps.catalog.saveAnalysis(outcome.imageId, outcome.analysis, jobId);
      summary.analysed++;
      const image = await deps.catalog.getImage(outcome.imageId);
      if (image) deps.events.publish({ type: "image", image });
    }
    for (const id of state.imageIds) {
      if (!answered.has(id)) await requeue(id, "the batch returned no result for it");
    }
    await rm(path.join(settings.stateDir, file), { force: true });
    summary.batches++;
  }
  return summary;
}
