import { hostname } from "node:os";
import { errorMessage, isPhotocatError } from "../domain/errors.js";
import type { ImageRecord } from "../domain/image.js";
import type { Taxonomy } from "../domain/taxonomy.js";
import type { Logger } from "../logger.js";
import type { Analyser, AnalysisContext, RetryProgress } from "../ports/analyser.js";
import type { BlobStore } from "../ports/blob-store.js";
import type { Catalog } from "../ports/catalog.js";
import type { Job, JobQueue } from "../ports/job-queue.js";
import type { ImageEvents } from "./events.js";
import { applyCorrections } from "./learn-from-corrections.js";
import { originalKey } from "./storage-keys.js";

export interface AnalyseDeps {
  catalog: Catalog;
  queue: JobQueue;
  blobs: BlobStore;
  analyser: Analyser;
  events: ImageEvents;
  logger: Logger;
}

export interface AnalyseSettings {
  taxonomy: Taxonomy;
  language: string;
  /** The user allows capture date and place to be given to remote models. */
  shareContext: boolean;
}

export interface WorkerOptions extends AnalyseSettings {
  concurrency: number;
  /** How long a claimed job stays ours without a heartbeat. */
  leaseMs?: number;
  /** How often an idle worker looks for work (it is also woken when work is queued here). */
  pollMs?: number;
  /** First retry delay (default 5 s); doubles per attempt, with jitter, up to maxBackoffMs. */
  baseBackoffMs?: number;
  maxBackoffMs?: number;
  workerId?: string;
}

export interface Worker {
  /** Looks for work now instead of at the next poll. */
  wake(): void;
  /** Resolves when no job is queued or running (for tests and one-shot commands). */
  drain(): Promise<void>;
  /** Stops claiming and waits for the jobs in hand to finish. */
  stop(): Promise<void>;
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
  },
  job: Job,
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
  await catalog.setStatus(image.id, "running", null);
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
    const retryable = isPhotocatError(error) ? error.retryable : false;
    log.warn({ err: error, retryable }, "analysis failed");
    await failJob(deps, settings, job, errorMessage(error), retryable);
  } finally {
    clearInterval(heartbeat);
  }
}

async function failJob(
  deps: AnalyseDeps,
  settings: { baseBackoffMs: number; maxBackoffMs: number; workerId: string },
  job: Job,
  reason: string,
  retryable: boolean,
): Promise<void> {
  const retryInMs = retryDelayMs(job.attempts, settings.baseBackoffMs, settings.maxBackoffMs);
  const outcome = await deps.queue.fail(job.id, settings.workerId, reason, { retryable, retryInMs });
  if (outcome === "failed") await deps.catalog.setStatus(job.imageId, "failed", reason);
  else if (outcome === "retrying") await deps.catalog.setStatus(job.imageId, "queued", null);
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

/**
 * Puts back in the queue every photo that waits for analysis without a job (a crash between the
 * catalogue insert and the enqueue). Enqueue is a no-op for photos that have one.
 */
export async function requeueOrphans(deps: Pick<AnalyseDeps, "catalog" | "queue">): Promise<number> {
  const ids = [
    ...(await deps.catalog.selectIds({ status: "queued" })),
    ...(await deps.catalog.selectIds({ status: "running" })),
  ];
  for (const id of ids) await deps.queue.enqueue(id);
  return ids.length;
}

/** Runs analysis jobs with `concurrency` slots until stopped. */
export function startWorker(deps: AnalyseDeps, options: WorkerOptions): Worker {
  const settings = {
    taxonomy: options.taxonomy,
    language: options.language,
    shareContext: options.shareContext,
    leaseMs: options.leaseMs ?? 60_000,
    // 5 s doubling: a job's 5 attempts span at least 37 s (equal jitter), so a half-minute provider outage
    // delays photos instead of failing them (with 2 s they gave up after 15-30 s).
    baseBackoffMs: options.baseBackoffMs ?? 5_000,
    maxBackoffMs: options.maxBackoffMs ?? 300_000,
    workerId: options.workerId ?? `${hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 8)}`,
  };
  const pollMs = options.pollMs ?? 1_000;
  let stopping = false;
  let wakeUp: (() => void) | null = null;
  const sleepers = new Set<() => void>();
  let active = 0;
  const idleWaiters = new Set<() => void>();

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        sleepers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      sleepers.add(done);
    });
  wakeUp = () => {
    for (const s of [...sleepers]) s();
  };

  const checkIdle = async () => {
    if (active > 0 || idleWaiters.size === 0) return;
    const counts = await deps.queue.counts();
    if (counts.queued === 0 && counts.running === 0 && active === 0) {
      for (const w of [...idleWaiters]) w();
      idleWaiters.clear();
    }
  };

  const slot = async () => {
    while (!stopping) {
      let job: Job | null = null;
      try {
        job = await deps.queue.claim(settings.workerId, settings.leaseMs);
      } catch (error) {
        deps.logger.error({ err: error }, "could not claim a job");
      }
      if (!job) {
        await checkIdle().catch(() => {});
        await sleep(pollMs);
        continue;
      }
      active++;
      try {
        await runAnalysisJob(deps, settings, job);
      } catch (error) {
        deps.logger.error({ err: error, jobId: job.id }, "job bookkeeping failed; its lease will expire");
      } finally {
        active--;
      }
    }
  };

  const slots = Array.from({ length: options.concurrency }, () => slot());
  deps.logger.info({ concurrency: options.concurrency, workerId: settings.workerId }, "worker started");

  return {
    wake: () => wakeUp?.(),
    drain: () =>
      new Promise<void>((resolve) => {
        idleWaiters.add(resolve);
        wakeUp?.();
      }),
    stop: async () => {
      stopping = true;
      wakeUp?.();
      await Promise.all(slots);
    },
  };
}
