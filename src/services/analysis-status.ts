import type { Catalog } from "../ports/catalog.js";
import type { Job, JobQueue } from "../ports/job-queue.js";

/**
 * The one owner of a photo's analysis status: the only module that queues analysis jobs and sets a
 * photo's status (queued, running, failed; `done` is written with the analysis itself). Ingest, the
 * gallery, the CLI, the worker and batch analysis all come here.
 */
export interface AnalysisStatusDeps {
  catalog: Catalog;
  queue: JobQueue;
}

/**
 * Queues (re-)analysis of a photo. The status is written before the job: a worker that claims the job
 * at once can then never have its "done" overwritten by our "queued", and a crash in between leaves a
 * queued photo without a job, which `requeueOrphans` repairs at the next start.
 * `isNew` skips the status write for a record the catalogue has just created as queued.
 */
export async function queueAnalysis(
  deps: AnalysisStatusDeps,
  imageId: string,
  options: { isNew?: boolean } = {},
): Promise<void> {
  if (!options.isNew) await deps.catalog.setStatus(imageId, "queued", null);
  await deps.queue.enqueue("analyse", { imageId });
}

/** A worker (or a submitted batch) is describing the photo now. */
export async function markRunning(deps: AnalysisStatusDeps, imageId: string): Promise<void> {
  await deps.catalog.setStatus(imageId, "running", null);
}

/** Records a failed attempt of an analyse job and shows its outcome on the photo. */
export async function recordFailedAttempt(
  deps: AnalysisStatusDeps,
  job: Job<"analyse">,
  workerId: string,
  reason: string,
  retry: { retryable: boolean; retryInMs: number },
): Promise<"retrying" | "failed" | "lost"> {
  const outcome = await deps.queue.fail(job.id, workerId, reason, retry);
  if (outcome === "failed") await deps.catalog.setStatus(job.imageId, "failed", reason);
  else if (outcome === "retrying") await deps.catalog.setStatus(job.imageId, "queued", null);
  return outcome;
}

/**
 * Puts back in the queue every photo that waits for analysis without a job (a crash between the
 * status write and the enqueue). Photos a pending batch is describing are left to it. Enqueue is a
 * no-op for photos that have a job.
 */
export async function requeueOrphans(deps: AnalysisStatusDeps): Promise<number> {
  const inBatches = new Set<string>();
  for (const job of await deps.queue.pendingJobs("batch-poll")) {
    for (const id of job.payload.imageIds) inBatches.add(id);
  }
  const ids = [
    ...(await deps.catalog.selectIds({ status: "queued" })),
    ...(await deps.catalog.selectIds({ status: "running" })),
  ].filter((id) => !inBatches.has(id));
  for (const id of ids) await deps.queue.enqueue("analyse", { imageId: id });
  return ids.length;
}

/**
 * Queues again at once the jobs of workers that are known to be dead (a killed process), instead of
 * waiting for their leases to run out, and shows their photos as queued. Returns how many jobs.
 */
export async function releaseDeadWorkers(
  deps: AnalysisStatusDeps,
  isDead: (workerId: string) => boolean,
): Promise<number> {
  let released = 0;
  for (const holder of await deps.queue.leaseHolders()) {
    if (!isDead(holder)) continue;
    for (const job of await deps.queue.releaseLeases(holder)) {
      released++;
      if (job.kind === "analyse" && job.imageId) await deps.catalog.setStatus(job.imageId, "queued", null);
    }
  }
  return released;
}

/**
 * Ends the jobs whose worker kept dying and shows it: an analysed photo is left alone, a photo a dead
 * batch held goes to the ordinary queue. The job is ended first: a crash before its photo is told
 * leaves a pending photo without a job, which `requeueOrphans` repairs. Returns how many jobs.
 */
export async function failAbandonedJobs(deps: AnalysisStatusDeps): Promise<number> {
  const jobs = await deps.queue.failAbandoned();
  for (const job of jobs) {
    // Not about the analysis: the photo's status is not their business.
    if (job.kind === "fingerprint" || job.kind === "embed") continue;
    const reason = job.lastError ?? "its worker stopped";
    if (job.kind === "sidecar") continue; // Only describing photos changes their status.
    const photos = job.kind === "analyse" ? [job.imageId] : job.payload.imageIds;
    for (const id of photos) {
      const image = await deps.catalog.getImage(id);
      if (image?.status !== "queued" && image?.status !== "running") continue;
      if (job.kind === "analyse") await deps.catalog.setStatus(id, "failed", reason);
      else await queueAnalysis(deps, id);
    }
  }
  return jobs.length;
}
