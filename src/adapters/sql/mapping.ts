import { endianness } from "node:os";
import type { Selectable } from "kysely";
import type { Analysis } from "../../domain/analysis.js";
import type {
  AcceptedMediaType,
  HumanEdits,
  ImageRecord,
  ImageStatus,
  OwnWords,
} from "../../domain/image.js";
import type { NewImage } from "../../ports/catalog.js";
import { normaliseCaptureTime } from "./query.js";
import type { ImagesTable } from "./schema.js";

/** Every column a record needs (PostgreSQL's search vector stays in the database). */
export const IMAGE_COLUMNS = [
  "id",
  "sha256",
  "status",
  "original_name",
  "media_type",
  "byte_size",
  "width",
  "height",
  "taken_at",
  "camera_make",
  "camera_model",
  "lens",
  "gps_lat",
  "gps_lon",
  "gps_alt",
  "orientation",
  "place",
  "thumbhash",
  "perceptual_hash",
  "sharpness",
  "created_at",
  "updated_at",
  "trashed_at",
  "error",
  "summary",
  "category",
  "tags",
  "alt_text",
  "text",
  "confidence",
  "extras",
  "provider",
  "model",
  "prompt_version",
  "input_tokens",
  "output_tokens",
  "cost_usd",
  "ms",
  "analysed_at",
  "analysis_job_id",
  "edit_summary",
  "edit_category",
  "edit_tags",
  "edit_alt_text",
  "edited_at",
  "own_title",
  "own_description",
  "own_keywords",
  "own_alt_text",
  "own_sources",
  "metadata_notes",
] as const satisfies readonly (keyof ImagesTable)[];

export type ImageRow = Pick<Selectable<ImagesTable>, (typeof IMAGE_COLUMNS)[number]>;

/** PostgreSQL text cannot hold NUL, and no stored text needs it: removed from whatever comes in. */
export function storableText(value: unknown, maxChars = Number.POSITIVE_INFINITY): string {
  return String(value).replaceAll("\0", "").slice(0, maxChars);
}

function parseJson(value: string | null): unknown {
  if (value === null) return null;
  try {
    return JSON.parse(value);
  } catch {
    return null;
  }
}

export function parseTags(value: string | null): string[] | null {
  const parsed = parseJson(value);
  return Array.isArray(parsed) ? parsed.filter((t): t is string => typeof t === "string") : null;
}

function toAnalysis(row: ImageRow): Analysis | null {
  if (row.provider === null || row.model === null) return null;
  const extras = parseJson(row.extras);
  return {
    summary: row.summary ?? "",
    category: row.category ?? "",
    tags: parseTags(row.tags) ?? [],
    altText: row.alt_text ?? "",
    text: row.text,
    confidence: Number(row.confidence ?? 0),
    ...(extras && typeof extras === "object" && !Array.isArray(extras)
      ? { extras: extras as Analysis["extras"] }
      : {}),
    provenance: {
      provider: row.provider,
      model: row.model,
      promptVersion: row.prompt_version ?? "",
      inputTokens: Number(row.input_tokens ?? 0),
      outputTokens: Number(row.output_tokens ?? 0),
      costUsd: Number(row.cost_usd ?? 0),
      ms: Number(row.ms ?? 0),
    },
  };
}

function toEdits(row: ImageRow): HumanEdits | null {
  if (row.edited_at === null) return null;
  const edits: HumanEdits = { editedAt: row.edited_at };
  if (row.edit_summary !== null) edits.summary = row.edit_summary;
  if (row.edit_category !== null) edits.category = row.edit_category;
  const tags = parseTags(row.edit_tags);
  if (tags !== null) edits.tags = tags;
  if (row.edit_alt_text !== null) edits.altText = row.edit_alt_text;
  return edits;
}

function toOwnWords(row: ImageRow): OwnWords | null {
  const keywords = parseTags(row.own_keywords) ?? [];
  if (
    row.own_title === null &&
    row.own_description === null &&
    row.own_alt_text === null &&
    !keywords.length
  ) {
    return null;
  }
  return {
    title: row.own_title,
    description: row.own_description,
    keywords,
    altText: row.own_alt_text,
    sources: parseTags(row.own_sources) ?? [],
  };
}

function ownWordsColumns(image: NewImage) {
  const own = image.ownWords;
  const notes = image.metadataNotes ?? [];
  return {
    own_title: own?.title ? storableText(own.title) : null,
    own_description: own?.description ? storableText(own.description) : null,
    own_keywords: own?.keywords.length ? JSON.stringify(own.keywords.map((k) => storableText(k))) : null,
    own_alt_text: own?.altText ? storableText(own.altText) : null,
    own_sources: own?.sources.length ? JSON.stringify(own.sources) : null,
    metadata_notes: notes.length ? JSON.stringify(notes.map((n) => storableText(n))) : null,
  };
}

export function toImageRecord(row: ImageRow): ImageRecord {
  const hasGps = row.gps_lat !== null && row.gps_lon !== null;
  return {
    id: row.id,
    sha256: row.sha256,
    status: row.status as ImageStatus,
    originalName: row.original_name,
    mediaType: row.media_type as AcceptedMediaType,
    byteSize: Number(row.byte_size),
    width: Number(row.width),
    height: Number(row.height),
    metadata: {
      takenAt: row.taken_at,
      cameraMake: row.camera_make,
      cameraModel: row.camera_model,
      lens: row.lens,
      gps: hasGps
        ? {
            latitude: Number(row.gps_lat),
            longitude: Number(row.gps_lon),
            altitude: row.gps_alt === null ? null : Number(row.gps_alt),
          }
        : null,
      orientation: row.orientation === null ? null : Number(row.orientation),
    },
    place: row.place,
    thumbhash: row.thumbhash,
    perceptualHash: row.perceptual_hash,
    sharpness: row.sharpness === null ? null : Number(row.sharpness),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    trashedAt: row.trashed_at,
    analysis: toAnalysis(row),
    edits: toEdits(row),
    ownWords: toOwnWords(row),
    metadataNotes: parseTags(row.metadata_notes) ?? [],
    error: row.error,
  };
}

export function newImageRow(image: NewImage, now: string) {
  const meta = image.metadata;
  return {
    id: image.id,
    sha256: image.sha256,
    status: "queued",
    original_name: storableText(image.originalName),
    media_type: image.mediaType,
    byte_size: image.byteSize,
    width: image.width,
    height: image.height,
    taken_at: meta.takenAt,
    captured_at: normaliseCaptureTime(meta.takenAt, now),
    camera_make: meta.cameraMake,
    camera_model: meta.cameraModel,
    lens: meta.lens,
    gps_lat: meta.gps?.latitude ?? null,
    gps_lon: meta.gps?.longitude ?? null,
    gps_alt: meta.gps?.altitude ?? null,
    orientation: meta.orientation,
    place: image.place,
    thumbhash: image.thumbhash,
    perceptual_hash: image.perceptualHash,
    sharpness: image.sharpness,
    created_at: now,
    updated_at: now,
    error: null,
    ...ownWordsColumns(image),
  } satisfies Partial<ImageRow> & { captured_at: string };
}

export function analysisColumns(analysis: Analysis, jobId: string, now: string) {
  const p = analysis.provenance;
  return {
    summary: analysis.summary,
    category: analysis.category,
    tags: JSON.stringify(analysis.tags),
    alt_text: analysis.altText,
    text: analysis.text,
    confidence: analysis.confidence,
    extras: analysis.extras ? JSON.stringify(analysis.extras) : null,
    provider: p.provider,
    model: p.model,
    prompt_version: p.promptVersion,
    input_tokens: p.inputTokens,
    output_tokens: p.outputTokens,
    cost_usd: p.costUsd,
    ms: p.ms,
    analysed_at: now,
    analysis_job_id: jobId,
    status: "done",
    error: null,
    updated_at: now,
  };
}

/** Float32 little-endian, the compact form both databases store as bytes. */
export function encodeVector(vector: ArrayLike<number>): Buffer {
  const bytes = Buffer.alloc(vector.length * 4);
  for (let i = 0; i < vector.length; i++) bytes.writeFloatLE(vector[i]!, i * 4);
  return bytes;
}

const LITTLE_ENDIAN = endianness() === "LE";

/** The stored values as a Float32Array of their own (no copy of the row's buffer is kept). */
export function decodeFloats(bytes: Uint8Array): Float32Array {
  const length = Math.floor(bytes.byteLength / 4);
  // Stored little-endian, as this machine keeps them: one copy of the bytes.
  if (LITTLE_ENDIAN)
    return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + length * 4));
  const values = new Float32Array(length);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < values.length; i++) values[i] = view.getFloat32(i * 4, true);
  return values;
}

export function decodeVector(bytes: Uint8Array): number[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const values: number[] = [];
  for (let offset = 0; offset + 4 <= bytes.byteLength; offset += 4) {
    values.push(view.getFloat32(offset, true));
  }
  return values;
}
