import { errorMessage, isPhotocatError, PhotocatError } from "../domain/errors.js";
import { effectiveDescription, type ImageRecord } from "../domain/image.js";
import { unitLength } from "../domain/vectors.js";
import type { Logger } from "../logger.js";
import type { BlobStore } from "../ports/blob-store.js";
import type { Catalog, EmbeddingChange } from "../ports/catalog.js";
import type { Embedder, Embedding } from "../ports/embedder.js";
import type { JobQueue } from "../ports/job-queue.js";
import { retryDelayMs } from "./analyse.js";
import { originalKey } from "./storage-keys.js";
import type { JobHandler } from "./worker.js";

export interface EmbedDeps {
  catalog: Catalog;
  queue: JobQueue;
  blobs: BlobStore;
  embedder: Embedder;
  logger: Logger;
}

/** Enough for a summary, tags, alt text and a few lines of visible text; providers bill by the token. */
export const EMBEDDING_TEXT_CHARS = 2_000;

/**
 * The one text a photo is embedded by: its effective description (a person's edits win), in a fixed order.
 * Search queries are embedded as they are typed; both land in the embedder's one space.
 */
export function embeddingText(record: Pick<ImageRecord, "analysis" | "edits" | "ownWords">): string {
  const d = effectiveDescription(record);
  const parts = [
    d.title,
    d.summary,
    d.category ? `Category: ${d.category}` : null,
    d.tags.length > 0 ? `Tags: ${d.tags.join(", ")}` : null,
    d.altText,
    d.text ? `Text in the photo: ${d.text}` : null,
  ];
  const text = parts
    .filter((p): p is string => Boolean(p?.trim()))
    .map((p) => p.replace(/\s+/g, " ").trim())
    .join("\n");
  return text.length > EMBEDDING_TEXT_CHARS ? text.slice(0, EMBEDDING_TEXT_CHARS) : text;
}

/** The model key embeddings of this embedder are stored under: `<provider>:<model>`. */
export function embeddingModelKey(embedder: Pick<Embedder, "provider" | "model">): string {
  return `${embedder.provider}:${embedder.model}`;
}

/**
 * An embedder's vector, checked (it comes from a remote service) and scaled to unit length, so that a dot
 * product is the cosine whatever the provider sent.
 */
export function checkedVector(embedding: Embedding, what: string): Float32Array {
  const unit = embedding.vector instanceof Float32Array ? unitLength(embedding.vector) : null;
  if (!unit) {
    throw new PhotocatError("embedder_failed", `the embedder returned no usable vector for ${what}`, {
      retryable: false,
    });
  }
  return unit;
}

/** Queues a photo's embedding; never throws (a missed embedding is repaired by `photocat embed`). */
export async function queueEmbedding(
  deps: { queue: JobQueue; logger: Logger },
  imageId: string,
): Promise<void> {
  try {
    await deps.queue.enqueue("embed", { imageId });
  } catch (error) {
    deps.logger.warn(
      { err: error, imageId },
      "could not queue the photo's embedding; photocat embed queues it",
    );
  }
}

/**
 * Embeds one photo and stores the vector with what it cost. A failure never touches the photo's status: a
 * retryable one is tried again after the queue's backoff, another ends the job with its reason.
 */
export function embedHandler(
  deps: EmbedDeps,
  options: { baseBackoffMs?: number; maxBackoffMs?: number } = {},
): JobHandler<"embed"> {
  const baseBackoffMs = options.baseBackoffMs ?? 5_000;
  const maxBackoffMs = options.maxBackoffMs ?? 300_000;
  const model = embeddingModelKey(deps.embedder);
  return async (job, { workerId, signal }) => {
    const log = deps.logger.child({ jobId: job.id, imageId: job.imageId, attempt: job.attempts });
    const image = await deps.catalog.getImage(job.imageId);
    // Gone, in the trash (restoring it does not change its description) or not described yet: nothing to pay for.
    const description = image ? embeddingText(image) : "";
    if (!image || image.trashedAt || (!description && !deps.embedder.seesImages)) {
      await deps.queue.complete(job.id, workerId);
      return;
    }
    if (job.attempts > job.maxAttempts) {
      // A queue that delivers a job past its attempts (Lambda's) leaves it to its handler to end.
      const reason = `embedding stopped after ${job.maxAttempts} attempts`;
      await deps.queue.fail(job.id, workerId, reason, { retryable: false, retryInMs: 0 });
      return;
    }
    try {
      const bytes = deps.embedder.seesImages
        ? await deps.blobs.get(originalKey(image.id, image.mediaType))
        : Buffer.alloc(0);
      const embedding = await deps.embedder.embedPhoto({
        bytes,
        mediaType: image.mediaType,
        description,
        ...(signal ? { signal } : {}),
      });
      const vector = checkedVector(embedding, `the photo ${image.id}`);
      const { inputTokens, costUsd } = embedding.usage;
      await deps.catalog.saveEmbedding(image.id, {
        model,
        vector,
        inputTokens: Number.isFinite(inputTokens) ? inputTokens : 0,
        costUsd: Number.isFinite(costUsd) ? costUsd : 0,
      });
      await deps.queue.complete(job.id, workerId);
      log.info({ model, costUsd, ms: Math.round(embedding.usage.ms) }, "photo embedded");
    } catch (error) {
      if (signal?.aborted) return; // Given up: the lease runs out, the job is delivered again.
      if (isPhotocatError(error) && error.code === "not_found") {
        await deps.queue.complete(job.id, workerId); // Deleted meanwhile.
        return;
      }
      const retryable = isPhotocatError(error) ? error.retryable : false;
      const reason = errorMessage(error);
      log.warn({ err: error, retryable }, `could not embed the photo: ${reason}`);
      await deps.queue.fail(job.id, workerId, `embedding failed: ${reason}`, {
        retryable,
        retryInMs: retryDelayMs(job.attempts, baseBackoffMs, maxBackoffMs),
      });
    }
  };
}

/**
 * The backfill (`photocat embed`): queues an embed job for every described photo (status done, out of the
 * trash) without an embedding of the embedder's model, or for every one with `all`. Returns how many.
 */
export async function queueMissingEmbeddings(
  deps: { catalog: Catalog; queue: JobQueue; embedder: Embedder },
  options: { all?: boolean; onProgress?: (queued: number, total: number) => void } = {},
): Promise<number> {
  const model = embeddingModelKey(deps.embedder);
  const embedded = new Set<string>();
  if (!options.all) {
    for (let since: EmbeddingChange | null = null; ; ) {
      const page = await deps.catalog.changedEmbeddings(model, since, BACKFILL_PAGE);
      for (const change of page) embedded.add(change.imageId);
      if (page.length < BACKFILL_PAGE) break;
      since = page.at(-1)!;
    }
  }
  const ids = (await deps.catalog.selectIds({ status: "done" })).filter((id) => !embedded.has(id));
  for (const [n, imageId] of ids.entries()) {
    await deps.queue.enqueue("embed", { imageId });
    options.onProgress?.(n + 1, ids.length);
  }
  return ids.length;
}

const BACKFILL_PAGE = 2_000;
