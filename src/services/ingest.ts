import { createHash, randomUUID } from "node:crypto";
import { readFile, stat } from "node:fs/promises";
import path from "node:path";
import { stripControlCharacters } from "../domain/analysis.js";
import { isPhotocatError, PhotocatError } from "../domain/errors.js";
import type { ImageRecord } from "../domain/image.js";
import type { Logger } from "../logger.js";
import { reverseGeocode } from "../media/geocode.js";
import { type InspectedImage, inspectImage } from "../media/inspect.js";
import { mergeOwnWords, readSidecars } from "../media/own-words.js";
import type { BlobStore } from "../ports/blob-store.js";
import type { Catalog } from "../ports/catalog.js";
import type { JobQueue } from "../ports/job-queue.js";
import { queueAnalysis } from "./analysis-status.js";
import { recordNearDuplicates } from "./duplicates.js";
import type { ImageEvents } from "./events.js";
import { allKeys, originalKey, thumbnailKey } from "./storage-keys.js";

export interface IngestDeps {
  catalog: Catalog;
  queue: JobQueue;
  blobs: BlobStore;
  events: ImageEvents;
  logger: Logger;
}

export interface IngestLimits {
  maxBytes: number;
  maxPixels: number;
  /** Whether to queue analysis (off for benchmarks of the ingest path alone). */
  analyse?: boolean;
}

export interface IncomingFile {
  /** A local file holding the bytes (an upload's temporary file, an imported file...). */
  path: string;
  /** The name the user gave it: kept as metadata only, never shown to a model. */
  originalName: string;
  /** Known when the bytes were hashed while being received. */
  sha256?: string;
  /** Move the file into the store instead of copying it (uploads' temporary files). */
  consume?: boolean;
  /** Sidecars found next to it (name.xmp, name.ext.xmp, Google Takeout's name.ext.json): read, never stored. */
  sidecars?: readonly string[];
}

export interface IngestResult {
  image: ImageRecord;
  duplicate: boolean;
}

/** Keeps a display name: no folders, no control or bidi-override characters, at most 255 characters. */
export function cleanOriginalName(name: string): string {
  const base = stripControlCharacters(path.basename(name.replace(/\\/g, "/"))).replace(/\s+/g, " ");
  const trimmed = base.trim().slice(0, 255);
  return trimmed && trimmed !== "." && trimmed !== ".." ? trimmed : "unnamed";
}

/**
 * The person's own words from the sidecars and the file (sidecars first: photo managers write them when they
 * leave the file alone), and Google Takeout's capture time and place where the file's EXIF has none.
 */
async function ownWordsOf(inspected: InspectedImage, sidecars: readonly string[]) {
  const fromSidecars = await readSidecars(sidecars);
  const notes = [...fromSidecars.notes, ...inspected.embedded.notes];
  const ownWords = mergeOwnWords([...fromSidecars.found, ...inspected.embedded.found], notes);
  let { metadata, place } = inspected;
  const takeout = fromSidecars.takeout;
  if (takeout && !metadata.takenAt && takeout.takenAt) metadata = { ...metadata, takenAt: takeout.takenAt };
  if (takeout?.gps && !metadata.gps) {
    metadata = { ...metadata, gps: takeout.gps };
    place = await reverseGeocode(takeout.gps.latitude, takeout.gps.longitude);
  }
  return { metadata, place, ownWords, metadataNotes: notes };
}

/**
 * The ingest pipeline: size check -> sha256 (same bytes = same photo) -> validate by content and decode ->
 * EXIF, place, thumbnails, perceptual hash, the photo's own words (metadata and sidecars) -> store files ->
 * catalogue record -> analysis job -> near-duplicates.
 * Files are stored before the record, so a crash leaves at worst unreferenced files (swept at start),
 * never a record without its files; a failed record write removes them. A record left without a job
 * is re-queued by the worker at start.
 */
export async function ingestFile(
  deps: IngestDeps,
  limits: IngestLimits,
  file: IncomingFile,
): Promise<IngestResult> {
  const originalName = cleanOriginalName(file.originalName);
  const { size } = await stat(file.path);
  try {
    return await ingestChecked(deps, limits, file, originalName, size);
  } catch (error) {
    // Every refusal leaves a line (what and why, never the content); unexpected errors are logged by callers.
    // At info: a refused file is the answer to its sender (the CLI prints it once), not a fault of the server.
    if (isPhotocatError(error)) {
      deps.logger.info({ code: error.code, name: originalName, size }, `photo refused: ${error.message}`);
    }
    throw error;
  }
}

async function ingestChecked(
  deps: IngestDeps,
  limits: IngestLimits,
  file: IncomingFile,
  originalName: string,
  size: number,
): Promise<IngestResult> {
  if (size === 0) throw new PhotocatError("empty_file", "the file is empty");
  if (size > limits.maxBytes) throw fileTooLarge(size, limits.maxBytes);
  // Read once: the same bytes are hashed and inspected (uploads arrive hashed, and are read by inspection).
  const bytes = file.sha256 ? null : await readFile(file.path);
  const sha256 = file.sha256 ?? createHash("sha256").update(bytes!).digest("hex");
  const existing = await deps.catalog.findBySha256(sha256);
  if (existing?.trashedAt) {
    // Adding a photo that is in the trash again means it is wanted: it comes back as it was.
    const restored = (await deps.catalog.restoreImage(existing.id)) ?? existing;
    deps.events.publish({ type: "image", image: restored });
    return { image: restored, duplicate: true };
  }
  if (existing) return { image: existing, duplicate: true };

  const inspected = await inspectImage(bytes ?? file.path, { maxPixels: limits.maxPixels });
  const words = await ownWordsOf(inspected, file.sidecars ?? []);
  const id = randomUUID();
  const stored: string[] = [];
  try {
    await deps.blobs.put(thumbnailKey(id, "small"), inspected.thumbnails.small, "image/webp");
    stored.push(thumbnailKey(id, "small"));
    await deps.blobs.put(thumbnailKey(id, "large"), inspected.thumbnails.large, "image/webp");
    stored.push(thumbnailKey(id, "large"));
    const key = originalKey(id, inspected.mediaType);
    await deps.blobs.put(key, { path: file.path, move: file.consume ?? false }, inspected.mediaType);
    stored.push(key);
  } catch (error) {
    await Promise.allSettled(stored.map((k) => deps.blobs.delete(k)));
    throw error;
  }

  let inserted: Awaited<ReturnType<Catalog["insertImage"]>>;
  try {
    inserted = await deps.catalog.insertImage({
      id,
      sha256,
      originalName,
      mediaType: inspected.mediaType,
      byteSize: size,
      width: inspected.width,
      height: inspected.height,
      thumbhash: inspected.thumbhash,
      ...words,
      perceptualHash: inspected.perceptualHash,
      sharpness: inspected.sharpness,
    });
  } catch (error) {
    // The record could not be written (disk full, read-only database): leave no files nobody can see.
    await Promise.allSettled(stored.map((k) => deps.blobs.delete(k)));
    throw error;
  }
  const { image, created } = inserted;
  if (!created) {
    // The same bytes arrived twice at once and the other upload won: drop our copy.
    await Promise.allSettled(allKeys(id, inspected.mediaType).map((k) => deps.blobs.delete(k)));
    return { image, duplicate: true };
  }
  if (limits.analyse !== false) await queueAnalysis(deps, id, { isNew: true });
  // After the insert: of two near-duplicates arriving together, the later lookup sees the other.
  await recordNearDuplicates(deps, id, inspected.perceptualHash).catch((error: unknown) =>
    deps.logger.warn({ err: error, id }, "could not look for near-duplicates of the photo"),
  );
  deps.logger.info(
    { id, mediaType: image.mediaType, width: image.width, height: image.height },
    "photo ingested",
  );
  deps.events.publish({ type: "image", image });
  return { image, duplicate: false };
}

/** The refusal of a file over the upload limit (PHOTOCAT_MAX_UPLOAD_MB), saying both sizes. */
export function fileTooLarge(size: number, maxBytes: number): PhotocatError {
  return new PhotocatError(
    "file_too_large",
    `the file is ${(size / 1048576).toFixed(1)} MB, over the limit of ${Math.round(maxBytes / 1048576)} MB`,
  );
}
