import { errorMessage, isPhotocatError } from "../domain/errors.js";
import type { ImageRecord } from "../domain/image.js";
import type { Taxonomy } from "../domain/taxonomy.js";
import type { Logger } from "../logger.js";
import type { Analyser, AnalysisContext, RetryProgress } from "../ports/analyser.js";
import type { BlobStore } from "../ports/blob-store.js";
import type { Catalog } from "../ports/catalog.js";
import type { Embedder } from "../ports/embedder.js";
import type { Job, JobQueue } from "../ports/job-queue.js";
import { markRunning, recordFailedAttempt } from "./analysis-status.js";
import { queueEmbedding } from "./embed.js";
import type { ImageEvents } from "./events.js";
import { applyCorrections } from "./learn-from-corrections.js";
import { originalKey } from "./storage-keys.js";
import type { JobHandler } from "./worker.js";

export interface AnalyseDeps {
  catalog: Catalog;
  queue: JobQueue;
  blobs: BlobStore;
  analyser: Analyser;
  events: ImageEvents;
  logger: Logger;
  /** The remote embedder, when one is configured: each analysed photo is then queued for embedding. */
  embedder?: Embedder | null;
}

export interface AnalyseSettings {
  taxonomy: Taxonomy;
  language: string;
  /** The user allows capture date and place to be given to remote models. */
  shareContext: boolean;
}

export function retryDelayMs(attempt: number, baseMs: number, maxMs: number, random = Math.random): number {
  const exponential = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  // "Equal jitter": never less than half the delay, so retries of many jobs spread out without bunching.
  return Math.round(exponential / 2 + (random() * exponential) / 2);
}

export function contextFor(
  image: Pick<ImageRecord, "metadata" | "place">,
  analyser: Pick<Analyser, "offline">,
  shareContext: boolean,
): AnalysisContext | undefined {
  if (!shareContext && !analyser.offline) return undefined;
  return { takenAt: image.metadata.takenAt, place: image.place };
}

/** Analyses one claimed job's photo and records the outcome. Never throws. */
export async function runAnalysisJob(
  deps: AnalyseDeps,
  settings: AnalyseSettings & {
    leaseMs: number;
    baseBackoffMs: number;
    maxBackoffMs: number;
    workerId: string;
    signal?: AbortSignal;
  },
  job: Job<"analyse">,
): Promise<void> {
  const { catalog, queue, logger } = deps;
  const log = logger.child({ jobId: job.id, imageId: job.imageId, attempt: job.attempts });
  // A previous holder saved the result and died before completing the job: do not pay for it twice.
  if ((await catalog.analysisJobId(job.imageId)) === job.id) {
    await queue.complete(job.id, settings.workerId);
    return;
  }
  const image = await catalog.getImage(job.imageId);
  if (!image) {
    await queue.complete(job.id, settings.workerId);
    return;
  }
  if (job.attempts > job.maxAttempts) {
    await failJob(deps, settings, job, `analysis stopped after ${job.maxAttempts} attempts`, false);
    return;
  }
  await markRunning(deps, image.id);
  publish(deps, image.id);

  const controller = new AbortController();
  const heartbeat = setInterval(
    () => {
      queue.extendLease(job.id, settings.workerId, settings.leaseMs).then(
        (kept) => {
          if (!kept) controller.abort(new Error("the job's lease was lost"));
        },
        (error: unknown) => log.warn({ err: error }, "could not extend the job's lease"),
      );
    },
    Math.max(1000, Math.floor(settings.leaseMs / 3)),
  );
  heartbeat.unref();
  const abandon = () => {
    clearInterval(heartbeat);
    controller.abort(settings.signal?.reason);
  };
  settings.signal?.addEventListener("abort", abandon, { once: true });
  // While a remote call is retried the photo says so; a later status write replaces the note.
  let retryNote: Promise<void> = Promise.resolve();
  const onRetry = ({ attempt, maxAttempts, reason }: RetryProgress) => {
    const note = `retrying (attempt ${attempt} of ${maxAttempts}): ${reason}`;
    retryNote = retryNote
      .then(() => catalog.setStatus(image.id, "running", note))
      .then(() => publish(deps, image.id))
      .catch((error: unknown) => log.warn({ err: error }, "could not record the retry"));
  };
  try {
    const bytes = await deps.blobs.get(originalKey(image.id, image.mediaType));
    const started = performance.now();
    let analysis = await deps.analyser.analyse({
      bytes,
      mediaType: image.mediaType,
      taxonomy: settings.taxonomy,
      language: settings.language,
      context: contextFor(image, deps.analyser, settings.shareContext),
      signal: controller.signal,
      onRetry,
    });
    await retryNote;
    if (analysis.embedding) {
      const examples = await catalog.correctionExamples(analysis.embedding.model);
      if (examples.length > 0) analysis = applyCorrections(analysis, examples);
    }
    if (controller.signal.aborted) throw controller.signal.reason;
    await catalog.saveAnalysis(image.id, analysis, job.id);
    if (deps.embedder) await queueEmbedding(deps, image.id);
    await queue.complete(job.id, settings.workerId);
    log.info(
      {
        category: analysis.category,
        ms: Math.round(performance.now() - started),
        costUsd: analysis.provenance.costUsd,
      },
      "photo analysed",
    );
    publish(deps, image.id);
  } catch (error) {
    await retryNote;
    if (settings.signal?.aborted) return; // Given up: the lease runs out, the job is delivered again.
    const retryable = isPhotocatError(error) ? error.retryable : false;
    log.warn({ err: error, retryable }, "analysis failed");
    await failJob(deps, settings, job, errorMessage(error), retryable);
  } finally {
    clearInterval(heartbeat);
    settings.signal?.removeEventListener("abort", abandon);
  }
}

async function failJob(
  deps: AnalyseDeps,
  settings: { baseBackoffMs: number; maxBackoffMs: number; workerId: string },
  job: Job<"analyse">,
  reason: string,
  retryable: boolean,
): Promise<void> {
  const retryInMs = retryDelayMs(job.attempts, settings.baseBackoffMs, settings.maxBackoffMs);
  await recordFailedAttempt(deps, job, settings.workerId, reason, { retryable, retryInMs });
  publish(deps, job.imageId);
}

function publish(deps: AnalyseDeps, id: string): void {
  deps.catalog.getImage(id).then(
    (image) => {
      if (image) deps.events.publish({ type: "image", image });
    },
    () => {},
  );
}

/** The analyse job kind's handler for the worker. */
export function analysisHandler(
  deps: AnalyseDeps,
  options: AnalyseSettings & { baseBackoffMs?: number; maxBackoffMs?: number },
): JobHandler<"analyse"> {
  const settings = {
    taxonomy: options.taxonomy,
    language: options.language,
    shareContext: options.shareContext,
    // 5 s doubling: a job's 5 attempts span at least 37 s (equal jitter), so a half-minute provider outage
    // delays photos instead of failing them (with 2 s they gave up after 15-30 s).
    baseBackoffMs: options.baseBackoffMs ?? 5_000,
    maxBackoffMs: options.maxBackoffMs ?? 300_000,
  };
  return (job, context) => runAnalysisJob(deps, { ...settings, ...context }, job);
}
