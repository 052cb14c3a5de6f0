import { errorMessage, isPhotocatError, PhotocatError } from "../domain/errors.js";
import type { ImageRecord } from "../domain/image.js";
import {
  candidateKeys,
  compareCopies,
  groupPairs,
  hashDistance,
  MATCH_DISTANCE,
  type PerceptualHash,
} from "../domain/near-duplicates.js";
import type { Logger } from "../logger.js";
import { inspectImage } from "../media/inspect.js";
import type { BlobStore } from "../ports/blob-store.js";
import type { Catalog, DuplicatePair } from "../ports/catalog.js";
import type { JobQueue } from "../ports/job-queue.js";
import { originalKey } from "./storage-keys.js";
import type { JobHandler } from "./worker.js";

export interface DuplicateGroup {
  /** The copy to keep: the largest, then sharpest, then least compressed. */
  keep: string;
  /** The kept photo first, then the others from the best copy down. */
  images: ImageRecord[];
}

/**
 * Finds the stored photos that are near-duplicates of one photo (by its perceptual hashes, through the
 * hash index: no scan) and records the pairs. Returns the pairs found.
 */
export async function recordNearDuplicates(
  deps: { catalog: Catalog },
  id: string,
  hash: PerceptualHash | null,
): Promise<DuplicatePair[]> {
  if (!hash) return [];
  const candidates = await deps.catalog.hashCandidates(candidateKeys(hash), id);
  const pairs = candidates
    .map((c) => ({ a: id, b: c.id, distance: hashDistance(hash, c.perceptualHash) }))
    .filter((p) => p.distance <= MATCH_DISTANCE);
  await deps.catalog.addDuplicatePairs(pairs);
  return pairs;
}

/** Groups of near-duplicates out of the trash, not dismissed, each with the copy to keep first. */
export async function listDuplicateGroups(deps: { catalog: Catalog }): Promise<DuplicateGroup[]> {
  const groups = groupPairs(await deps.catalog.duplicatePairs());
  const images = new Map((await deps.catalog.getImages(groups.flat())).map((i) => [i.id, i]));
  return groups.flatMap((ids) => {
    const ranked = ids.flatMap((id) => images.get(id) ?? []).sort(compareCopies);
    return ranked.length < 2 ? [] : [{ keep: ranked[0]!.id, images: ranked }];
  });
}

/** "Not duplicates" (a burst of similar shots): the group of these photos stops showing. */
export async function dismissDuplicates(deps: { catalog: Catalog }, ids: readonly string[]): Promise<number> {
  const unique = [...new Set(ids)];
  if (unique.length < 2) {
    throw new PhotocatError("invalid_request", "give at least two photo ids that are not duplicates");
  }
  const dismissed = await deps.catalog.dismissDuplicates(unique);
  if (dismissed === 0) {
    throw new PhotocatError("not_found", "these photos are not a group of near-duplicates");
  }
  return dismissed;
}

export interface FingerprintDeps {
  catalog: Catalog;
  queue: JobQueue;
  blobs: BlobStore;
  logger: Logger;
}

/**
 * Queues a fingerprint job for every photo stored before ingest computed perceptual hashes (a catalogue
 * from before the migration). A job per photo rather than a command to remember: any worker runs them,
 * they survive restarts, and a photo that cannot be read fails alone. Returns how many were queued.
 */
export async function queueMissingFingerprints(
  deps: Pick<FingerprintDeps, "catalog" | "queue">,
): Promise<number> {
  let queued = 0;
  let after: string | null = null;
  for (;;) {
    const ids = await deps.catalog.idsWithoutFingerprint(500, after);
    if (ids.length === 0) return queued;
    for (const imageId of ids) await deps.queue.enqueue("fingerprint", { imageId });
    queued += ids.length;
    after = ids.at(-1)!;
  }
}

/** Reads a photo's original, computes its perceptual hash and sharpness, and records its near-duplicates. */
export function fingerprintHandler(
  deps: FingerprintDeps,
  options: { maxPixels: number },
): JobHandler<"fingerprint"> {
  return async (job, { workerId }) => {
    const image = await deps.catalog.getImage(job.imageId);
    if (!image) {
      await deps.queue.complete(job.id, workerId);
      return;
    }
    try {
      const bytes = await deps.blobs.get(originalKey(image.id, image.mediaType));
      const inspected = await inspectImage(bytes, { maxPixels: options.maxPixels });
      await deps.catalog.saveFingerprint(image.id, inspected);
      await recordNearDuplicates(deps, image.id, inspected.perceptualHash);
      await deps.queue.complete(job.id, workerId);
    } catch (error) {
      const reason = errorMessage(error);
      // A busy decoder is worth another try; an unreadable file will stay so.
      const retryable = !isPhotocatError(error) || error.code === "busy" || error.status >= 500;
      deps.logger.warn({ err: error, imageId: image.id }, `could not fingerprint the photo: ${reason}`);
      await deps.queue.fail(job.id, workerId, reason, { retryable, retryInMs: 60_000 });
    }
  };
}
