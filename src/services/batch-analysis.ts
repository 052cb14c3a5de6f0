import type { Analysis } from "../domain/analysis.js";
import { errorMessage, isPhotocatError, type PhotocatError } from "../domain/errors.js";
import type { Taxonomy } from "../domain/taxonomy.js";
import type { Logger } from "../logger.js";
import type { Analyser } from "../ports/analyser.js";
import type { BlobStore } from "../ports/blob-store.js";
import type { Catalog } from "../ports/catalog.js";
import type { Embedder } from "../ports/embedder.js";
import type { Job, JobQueue } from "../ports/job-queue.js";
import { contextFor, retryDelayMs } from "./analyse.js";
import { failAbandonedJobs, markRunning, queueAnalysis } from "./analysis-status.js";
import { queueEmbedding } from "./embed.js";
import type { ImageEvents } from "./events.js";
import { originalKey } from "./storage-keys.js";
import { type JobHandler, startWorker } from "./worker.js";

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
  /** One look at a batch: "ended" once every result can be read. */
  status(batchId: string): Promise<{ state: string; done: number; total: number }>;
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
  /** The remote embedder, when one is configured: each analysed photo is then queued for embedding. */
  embedder?: Embedder | null;
}

export interface BatchRunSettings {
  taxonomy: Taxonomy;
  language: string;
  shareContext: boolean;
  /** How long between two looks at an unfinished batch (default 30 s). */
  pollIntervalMs?: number;
  onProgress?: (batchId: string, done: number, total: number) => void;
}

export interface BatchSummary {
  analysed: number;
  /** Sent back to the ordinary queue (invalid answers, errors, photos that could not be prepared). */
  requeued: number;
  batches: number;
}

/**
 * Submits photos to a batch API. Each submitted batch is recorded in the database as a batch-poll
 * job (its id and photos), so any worker of any machine can wait for it and store its results, also
 * after a restart. Photos the batch could not take go to the ordinary queue.
 */
export async function submitBatches(
  deps: BatchDeps,
  api: BatchApi,
  analyser: Pick<Analyser, "offline">,
  settings: Pick<BatchRunSettings, "taxonomy" | "language" | "shareContext">,
  imageIds: readonly string[],
): Promise<{ batches: number; requeued: number }> {
  if (imageIds.length === 0) return { batches: 0, requeued: 0 };
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
  const submitted = await api.submit(photos(), { taxonomy: settings.taxonomy, language: settings.language });
  for (const batch of submitted.batches) {
    // A batch lasts up to 24 h: many polls may fail on the way (network), so allow many attempts.
    await deps.queue.enqueue(
      "batch-poll",
      { ...batch, submittedAt: new Date().toISOString() },
      { maxAttempts: 20 },
    );
    for (const id of batch.imageIds) await markRunning(deps, id);
  }
  for (const skipped of submitted.skipped) await requeue(deps, skipped.imageId, skipped.error.message);
  return { batches: submitted.batches.length, requeued: submitted.skipped.length };
}

async function requeue(deps: BatchDeps, id: string, reason: string): Promise<void> {
  deps.logger.warn(
    { imageId: id, reason },
    "batch could not describe the photo; queued for a normal analysis",
  );
  if (await deps.catalog.getImage(id)) await queueAnalysis(deps, id);
}

/**
 * The batch-poll job kind's handler: looks at the batch once; while it runs, puts the job back for the
 * next look; once ended, stores its results and queues what it could not describe for a normal analysis.
 * `onDone` hears what each finished batch gave.
 */
export function batchPollHandler(
  deps: BatchDeps,
  api: BatchApi,
  settings: Omit<BatchRunSettings, "shareContext"> & { onDone?: (summary: BatchSummary) => void },
): JobHandler<"batch-poll"> {
  const pollIntervalMs = settings.pollIntervalMs ?? 30_000;
  return async (job, context) => {
    const { batchId, imageIds } = job.payload;
    let state: string;
    try {
      const progress = await api.status(batchId);
      settings.onProgress?.(batchId, progress.done, progress.total);
      state = progress.state;
    } catch (error) {
      await failPoll(deps, job, context.workerId, error, pollIntervalMs);
      return;
    }
    if (state !== "ended") {
      await deps.queue.postpone(job.id, context.workerId, pollIntervalMs);
      return;
    }
    const heartbeat = setInterval(
      () => void deps.queue.extendLease(job.id, context.workerId, context.leaseMs).catch(() => {}),
      Math.max(1000, Math.floor(context.leaseMs / 3)),
    );
    heartbeat.unref();
    const summary: BatchSummary = { analysed: 0, requeued: 0, batches: 1 };
    try {
      const answered = new Set<string>();
      const jobId = `batch:${batchId}`;
      for await (const outcome of api.results(batchId, settings.taxonomy)) {
        answered.add(outcome.imageId);
        if ("error" in outcome) {
          await requeue(deps, outcome.imageId, outcome.error.message);
          summary.requeued++;
          continue;
        }
        if ((await deps.catalog.analysisJobId(outcome.imageId)) === jobId) continue; // stored before a restart
        if (!(await deps.catalog.getImage(outcome.imageId))) continue; // deleted meanwhile
        await deps.catalog.saveAnalysis(outcome.imageId, outcome.analysis, jobId);
        if (deps.embedder) await queueEmbedding(deps, outcome.imageId);
        summary.analysed++;
        const image = await deps.catalog.getImage(outcome.imageId);
        if (image) deps.events.publish({ type: "image", image });
      }
      for (const id of imageIds) {
        if (answered.has(id)) continue;
        await requeue(deps, id, "the batch returned no result for it");
        summary.requeued++;
      }
    } catch (error) {
      await failPoll(deps, job, context.workerId, error, pollIntervalMs);
      return;
    } finally {
      clearInterval(heartbeat);
    }
    await deps.queue.complete(job.id, context.workerId);
    settings.onDone?.(summary);
  };
}

/** A poll or result read failed: try again later; after the last attempt, analyse the photos normally. */
async function failPoll(
  deps: BatchDeps,
  job: Job<"batch-poll">,
  workerId: string,
  error: unknown,
  pollIntervalMs: number,
) {
  const reason = `could not read batch ${job.payload.batchId}: ${errorMessage(error)}`;
  const retryable = isPhotocatError(error) ? error.retryable : true;
  deps.logger.warn({ err: error, batchId: job.payload.batchId, attempt: job.attempts }, "batch poll failed");
  const outcome = await deps.queue.fail(job.id, workerId, reason, {
    retryable,
    retryInMs: retryDelayMs(job.attempts, pollIntervalMs, 15 * 60_000),
  });
  if (outcome === "failed") {
    for (const id of job.payload.imageIds) await requeue(deps, id, reason);
  }
}

/**
 * Analyses photos through a batch API in this process: submits them, then waits for every batch
 * recorded in the database (those of an interrupted earlier run too) and stores their results.
 */
export async function analyseInBatches(
  deps: BatchDeps,
  api: BatchApi,
  analyser: Pick<Analyser, "offline">,
  settings: BatchRunSettings,
  imageIds: readonly string[],
): Promise<BatchSummary> {
  const submitted = await submitBatches(deps, api, analyser, settings, imageIds);
  const summary: BatchSummary = { analysed: 0, requeued: submitted.requeued, batches: 0 };
  const pollMs = Math.min(1_000, settings.pollIntervalMs ?? 30_000);
  const worker = startWorker(
    deps,
    {
      "batch-poll": batchPollHandler(deps, api, {
        ...settings,
        onDone: (done) => {
          summary.analysed += done.analysed;
          summary.requeued += done.requeued;
          summary.batches += done.batches;
        },
      }),
    },
    { concurrency: 1, pollMs, housekeeping: () => failAbandonedJobs(deps) },
  );
  try {
    await worker.drain();
  } finally {
    await worker.stop();
  }
  return summary;
}
