import { randomUUID } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import { isPhotocatError, PhotocatError } from "../domain/errors.js";
import { type ImageRecord, isAcceptedMediaType } from "../domain/image.js";
import type { DropZone, UploadForm } from "../ports/drop-zone.js";
import { cleanOriginalName, fileTooLarge, type IngestDeps, type IngestLimits, ingestFile } from "./ingest.js";

/**
 * The drop zone: files arriving under `incoming/` (a browser's direct upload, the console, the AWS CLI)
 * go through the ingest service; what became of each is written under `results/`, and a refused file is
 * moved to `rejected/` beside a JSON file saying why. Nothing is dropped silently.
 */
export const INCOMING = "incoming/";
export const REJECTED = "rejected/";
export const RESULTS = "results/";

/** The object metadata a direct upload carries its file name in (S3 sends it as x-amz-meta-original-name). */
export const ORIGINAL_NAME_METADATA = "original-name";

export interface IncomingDeps {
  dropZone: DropZone;
  ingest: IngestDeps;
  /** Where a file is copied while it is ingested (Lambda: under /tmp). */
  tmpDir: string;
}

const Outcome = z.discriminatedUnion("state", [
  z.object({ state: z.literal("stored"), imageId: z.string(), duplicate: z.boolean(), at: z.string() }),
  z.object({
    state: z.literal("rejected"),
    name: z.string(),
    error: z.object({ code: z.string(), message: z.string() }),
    at: z.string(),
  }),
]);
export type IncomingOutcome = z.infer<typeof Outcome>;

export type UploadStatus =
  | { id: string; state: "waiting" | "processing" }
  | ({ id: string } & IncomingOutcome & { image?: ImageRecord });

const resultKey = (key: string) => `${RESULTS}${key.slice(INCOMING.length)}.json`;

/**
 * Ingests one file of the drop zone (its key under incoming/). Idempotent, as S3 delivers events at least
 * once: a file already taken is gone from incoming/, and the same bytes twice are one photo. The file is
 * deleted from incoming/ only once its outcome is written. Throws only for faults worth trying again.
 */
export async function receiveIncoming(
  deps: IncomingDeps,
  limits: IngestLimits,
  key: string,
): Promise<IncomingOutcome | null> {
  if (!key.startsWith(INCOMING) || key.endsWith("/")) return null;
  const files = deps.dropZone.files;
  const metadata = await deps.dropZone.metadata(key);
  if (metadata === null) return null; // Taken already: a repeated event.
  const encodedName = metadata[ORIGINAL_NAME_METADATA];
  const name = cleanOriginalName(encodedName ? safeDecode(encodedName) : path.posix.basename(key));
  // Too large to take: refused by its size alone, never downloaded; the file stays in incoming/ (where the
  // drop zone's lifecycle rule expires it) rather than being copied.
  const size = (await files.stat(key))?.size ?? 0;
  if (size > limits.maxBytes) {
    const error = fileTooLarge(size, limits.maxBytes);
    const outcome: IncomingOutcome = {
      state: "rejected",
      name,
      error: error.toJSON(),
      at: new Date().toISOString(),
    };
    const record = { key, ...outcome, left: `${key} (too large to move; it expires with incoming/)` };
    await files.put(
      `${REJECTED}${key.slice(INCOMING.length)}.json`,
      Buffer.from(JSON.stringify(record)),
      "application/json",
    );
    await files.put(resultKey(key), Buffer.from(JSON.stringify(outcome)), "application/json");
    deps.ingest.logger.warn({ key, code: error.code }, `incoming file rejected: ${error.message}`);
    return outcome;
  }
  await mkdir(deps.tmpDir, { recursive: true });
  const folder = await mkdtemp(path.join(deps.tmpDir, "incoming-"));
  try {
    const file = path.join(folder, "file");
    await writeFile(file, await files.get(key));
    let outcome: IncomingOutcome;
    try {
      const { image, duplicate } = await ingestFile(deps.ingest, limits, { path: file, originalName: name });
      outcome = { state: "stored", imageId: image.id, duplicate, at: new Date().toISOString() };
    } catch (error) {
      if (!isRefusal(error)) throw error;
      outcome = { state: "rejected", name, error: error.toJSON(), at: new Date().toISOString() };
      const kept = `${REJECTED}${key.slice(INCOMING.length)}`;
      await files.put(kept, { path: file }, "application/octet-stream");
      await files.put(`${kept}.json`, Buffer.from(JSON.stringify({ key, ...outcome })), "application/json");
      deps.ingest.logger.warn({ key, code: error.code }, `incoming file rejected: ${error.message}`);
    }
    await files.put(resultKey(key), Buffer.from(JSON.stringify(outcome)), "application/json");
    await files.delete(key);
    return outcome;
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}

/** A refusal of the file itself (not a photo, too large...), not a fault worth trying again. */
function isRefusal(error: unknown): error is PhotocatError {
  return isPhotocatError(error) && error.status < 500 && !error.retryable;
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

export interface UploadRequest {
  name: string;
  contentType: string;
  size: number;
}

/** How long a signed upload form stays valid. */
export const UPLOAD_FORM_SECONDS = 15 * 60;

/**
 * A direct upload: the server chooses the key (a UUID under incoming/), the store holds the browser to
 * the size limit and the declared image type; the file is checked by content when it arrives.
 */
export async function startUpload(
  deps: Pick<IncomingDeps, "dropZone">,
  limits: IngestLimits,
  request: UploadRequest,
): Promise<{ id: string; form: UploadForm; expiresAt: string }> {
  if (!isAcceptedMediaType(request.contentType)) {
    throw new PhotocatError(
      "unsupported_media_type",
      `${request.contentType || "this type"} is not a photo type Photocat takes`,
    );
  }
  if (!Number.isInteger(request.size) || request.size < 1) {
    throw new PhotocatError("invalid_request", "size must be the file's size in bytes");
  }
  if (request.size > limits.maxBytes) throw fileTooLarge(request.size, limits.maxBytes);
  const id = randomUUID();
  const form = await deps.dropZone.presignUpload(`${INCOMING}${id}`, {
    maxBytes: limits.maxBytes,
    contentType: request.contentType,
    expiresSeconds: UPLOAD_FORM_SECONDS,
    metadata: { [ORIGINAL_NAME_METADATA]: encodeURIComponent(cleanOriginalName(request.name)) },
  });
  return { id, form, expiresAt: new Date(Date.now() + UPLOAD_FORM_SECONDS * 1000).toISOString() };
}

/** What became of a direct upload: waiting (not arrived), processing, stored or rejected. */
export async function uploadStatus(deps: Pick<IncomingDeps, "dropZone">, id: string): Promise<UploadStatus> {
  if (!z.uuid().safeParse(id).success) throw new PhotocatError("invalid_request", "an upload id is a UUID");
  const key = `${INCOMING}${id}`;
  const files = deps.dropZone.files;
  if (await files.stat(resultKey(key))) {
    return { id, ...Outcome.parse(JSON.parse((await files.get(resultKey(key))).toString("utf8"))) };
  }
  return { id, state: (await files.stat(key)) ? "processing" : "waiting" };
}

export interface Rejection {
  key: string;
  name: string;
  error: { code: string; message: string };
  at: string;
}

/** The refused files kept under rejected/, each with why (at most `limit`, in key order). */
export async function listRejections(
  deps: Pick<IncomingDeps, "dropZone">,
  limit: number,
): Promise<Rejection[]> {
  const files = deps.dropZone.files;
  const found: Rejection[] = [];
  for await (const key of files.list(REJECTED)) {
    if (!key.endsWith(".json")) continue;
    const record = JSON.parse((await files.get(key)).toString("utf8")) as Rejection;
    found.push({ key: record.key, name: record.name, error: record.error, at: record.at });
    if (found.length >= limit) break;
  }
  return found;
}
