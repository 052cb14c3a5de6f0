import { hostname } from "node:os";
import type { Container } from "../container.js";
import type { JobKind } from "../ports/job-queue.js";
import { analysisHandler } from "../services/analyse.js";
import { failAbandonedJobs, releaseDeadWorkers, requeueOrphans } from "../services/analysis-status.js";
import { batchPollHandler } from "../services/batch-analysis.js";
import { fingerprintHandler, queueMissingFingerprints } from "../services/duplicates.js";
import { embedHandler } from "../services/embed.js";
import { sidecarHandler } from "../services/file-metadata.js";
import {
  isThisProcess,
  type JobHandlers,
  parseWorkerId,
  processIsGone,
  startWorker,
  type Worker,
} from "../services/worker.js";

export interface ContainerWorkerOptions {
  /** The kinds to run (default: every kind this configuration has a handler for). */
  kinds?: readonly JobKind[];
  pollMs?: number;
  baseBackoffMs?: number;
  maxBackoffMs?: number;
  leaseMs?: number;
  probeMs?: number;
  onBatchProgress?: (batchId: string, done: number, total: number) => void;
}

/**
 * Whether a lease holder is a dead process of this machine. Only holders named with this host are
 * judged, even on SQLite (one writer machine): containers sharing a SQLite volume have their own pid
 * namespaces but, by default, their own hostnames. Others wait for their leases to run out.
 */
export function isDeadHolder(workerId: string): boolean {
  const holder = parseWorkerId(workerId);
  if (!holder || holder.host !== hostname() || isThisProcess(holder)) return false;
  // Our own pid under another instance: an earlier run that had the same pid (pid 1 in a container).
  return holder.pid === process.pid || processIsGone(holder.pid);
}

/** A handler for each job kind this configuration can run, over the container's ports and analyser. */
export async function containerJobHandlers(
  container: Container,
  options: Pick<ContainerWorkerOptions, "baseBackoffMs" | "maxBackoffMs" | "onBatchProgress"> = {},
) {
  const { config } = container;
  const analyser = await container.analyser();
  await analyser.warmUp?.();
  const deps = { ...container.ingestDeps, analyser, embedder: container.embedder };
  const settings = {
    taxonomy: config.taxonomy,
    language: config.language,
    shareContext: config.shareContext,
  };
  const handlers: JobHandlers = {
    analyse: analysisHandler(deps, {
      ...settings,
      baseBackoffMs: options.baseBackoffMs,
      maxBackoffMs: options.maxBackoffMs,
    }),
    sidecar: sidecarHandler(deps),
    fingerprint: fingerprintHandler(deps, { maxPixels: config.maxPixels }),
  };
  if (container.embedder) {
    handlers.embed = embedHandler(
      { ...deps, embedder: container.embedder },
      { baseBackoffMs: options.baseBackoffMs, maxBackoffMs: options.maxBackoffMs },
    );
  }
  // Batches are Anthropic's: other configurations leave their polls to a worker that has the key.
  if (config.analyser === "anthropic") {
    const { createBatchApi } = await import("../analysers/registry.js");
    handlers["batch-poll"] = batchPollHandler(deps, await createBatchApi(config), {
      ...settings,
      onProgress: options.onBatchProgress,
    });
  }
  return { deps, handlers };
}

/**
 * The one way to build a worker from a container: loads the analyser, repairs what a killed process
 * left (its leases, photos without jobs), declares a handler per job kind and wakes on new work.
 */
export async function startContainerWorker(
  container: Container,
  options: ContainerWorkerOptions = {},
): Promise<Worker> {
  const { config, logger } = container;
  const { deps, handlers } = await containerJobHandlers(container, options);

  const released = await releaseDeadWorkers(deps, isDeadHolder);
  if (released > 0) logger.info({ released }, "jobs of a stopped worker queued again");
  const requeued = await requeueOrphans(deps);
  if (requeued > 0) logger.info({ requeued }, "photos waiting for analysis checked");

  if (!handlers["batch-poll"]) {
    const batches = await container.queue.counts(["batch-poll"]);
    if (batches.queued + batches.running > 0) {
      logger.info(
        { batches: batches.queued + batches.running },
        "message batches are waiting; a worker with PHOTOCAT_ANALYSER=anthropic finishes them",
      );
    }
  }
  const worker = startWorker(deps, handlers, {
    concurrency: config.concurrency,
    kinds: options.kinds,
    pollMs: options.pollMs,
    leaseMs: options.leaseMs,
    probeMs: options.probeMs,
    housekeeping: () => failAbandonedJobs(deps),
  });
  if (!options.kinds || options.kinds.includes("fingerprint")) {
    // In the background: a catalogue from before perceptual hashes may hold many photos to queue.
    queueMissingFingerprints(deps)
      .then((queued) => {
        if (queued === 0) return;
        logger.info({ queued }, "photos from before near-duplicate detection queued for it");
        worker.wake();
      })
      .catch((error: unknown) =>
        logger.warn({ err: error }, "could not queue photos for near-duplicate detection"),
      );
  }
  const unsubscribe = container.events.subscribe((event) => {
    if (event.type === "image" && event.image.status === "queued") worker.wake();
  });
  return {
    ...worker,
    stop: async () => {
      unsubscribe();
      await worker.stop();
    },
  };
}
