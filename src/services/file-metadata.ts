import { copyFile, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { effectiveDescription, type ImageRecord } from "../domain/image.js";
import type { Logger } from "../logger.js";
import { buildXmp } from "../media/xmp.js";
import type { BlobStore } from "../ports/blob-store.js";
import type { Catalog } from "../ports/catalog.js";
import type { JobQueue } from "../ports/job-queue.js";
import type { FileDescription, MetadataWriter } from "../ports/metadata-writer.js";
import type { ImageEvents } from "./events.js";
import { originalKey, sidecarKey } from "./storage-keys.js";
import type { JobHandler } from "./worker.js";

/** The hierarchical keyword that carries the category, as Lightroom and digiKam show keyword trees. */
export const CATEGORY_KEYWORD_ROOT = "Photocat";

/**
 * What goes into files and sidecars: the effective description (gallery edits, then the photo's own words,
 * then the model's), the tags and the category as keywords, the category also as "Photocat|<category>".
 */
export function fileDescription(image: ImageRecord): FileDescription {
  const d = effectiveDescription(image);
  const keywords = [...d.tags];
  if (d.category && !keywords.some((k) => k.toLowerCase() === d.category)) keywords.push(d.category);
  return {
    title: d.title,
    description: d.summary,
    keywords,
    hierarchicalSubjects: d.category ? [`${CATEGORY_KEYWORD_ROOT}|${d.category}`] : [],
    altText: d.altText,
    visibleText: d.text,
  };
}

/** An XMP sidecar for the photo (pure JS: works wherever Photocat runs, perl or not). */
export function xmpSidecar(image: ImageRecord): string {
  return buildXmp(fileDescription(image));
}

/**
 * A copy of the original with the description embedded (XMP, IPTC, EXIF). The stored original is never
 * touched: its sha256 is its identity. Works on a temporary copy, removed before returning.
 */
export async function withEmbeddedCopy<T>(
  deps: { blobs: BlobStore; writer: MetadataWriter },
  image: ImageRecord,
  use: (file: string) => Promise<T>,
): Promise<T> {
  const folder = await mkdtemp(path.join(tmpdir(), "photocat-embed-"));
  try {
    const file = path.join(folder, path.basename(originalKey(image.id, image.mediaType)));
    await writeFile(file, await deps.blobs.get(originalKey(image.id, image.mediaType)));
    await deps.writer.embed(file, image.mediaType, fileDescription(image));
    return await use(file);
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}

export async function embeddedCopy(
  deps: { blobs: BlobStore; writer: MetadataWriter },
  image: ImageRecord,
): Promise<Buffer> {
  return withEmbeddedCopy(deps, image, (file) => readFile(file));
}

/** Copies a file with the description embedded to `target` (export --embed). */
export async function writeEmbeddedCopy(
  deps: { blobs: BlobStore; writer: MetadataWriter },
  image: ImageRecord,
  target: string,
): Promise<void> {
  await withEmbeddedCopy(deps, image, (file) => copyFile(file, target));
}

/**
 * Writes the sidecar kept beside the original in the storage (PHOTOCAT_STORAGE_SIDECARS), from the record as
 * it is now, and again while the record changes under it (so jobs that finish out of order still leave the
 * newest description). Unchanged sidecars are not written again; a photo that is gone has none.
 */
export function sidecarHandler(deps: {
  catalog: Catalog;
  blobs: BlobStore;
  queue: JobQueue;
  logger: Logger;
}): JobHandler<"sidecar"> {
  const writeCurrent = async (imageId: string) => {
    let written: string | null = null;
    for (let round = 0; round < 5; round++) {
      const image = await deps.catalog.getImage(imageId);
      if (!image || image.updatedAt === written) return;
      const xmp = Buffer.from(xmpSidecar(image));
      const key = sidecarKey(image.id);
      const stored = (await deps.blobs.stat(key)) ? await deps.blobs.get(key).catch(() => null) : null;
      if (!stored?.equals(xmp)) await deps.blobs.put(key, xmp, "application/rdf+xml");
      written = image.updatedAt;
    }
  };
  return async (job, context) => {
    try {
      await writeCurrent(job.payload.imageId);
      await deps.queue.complete(job.id, context.workerId);
    } catch (error) {
      deps.logger.warn({ err: error, imageId: job.payload.imageId }, "could not write the photo's sidecar");
      await deps.queue.fail(job.id, context.workerId, String((error as Error).message ?? error), {
        retryable: true,
        retryInMs: 5_000 * 2 ** job.attempts,
      });
    }
  };
}

/**
 * Keeps storage sidecars in step with descriptions: whenever a photo is added, described, corrected or
 * restored, its sidecar is (re)written by a `sidecar` job. While a photo is being analysed nothing changes.
 */
export function keepSidecarsInStep(deps: {
  events: ImageEvents;
  queue: JobQueue;
  logger: Logger;
}): () => void {
  return deps.events.subscribe((event) => {
    if (event.type !== "image" || event.image.status === "running") return;
    const { id, updatedAt } = event.image;
    deps.queue.enqueue("sidecar", { imageId: id, version: updatedAt }).catch((error: unknown) => {
      deps.logger.warn({ err: error, imageId: id }, "could not queue the photo's sidecar");
    });
  });
}
