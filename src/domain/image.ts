import type { Analysis, Provenance } from "./analysis.js";

export type ImageStatus = "queued" | "running" | "done" | "failed";
export const IMAGE_STATUSES: readonly ImageStatus[] = ["queued", "running", "done", "failed"];

/**
 * The one table of media types we accept (found by content, never by file name): the extension stored files
 * get, other extensions that name the same type, the label users read, and the libvips loader that must
 * recognise the content (AVIF and HEIC are both read by libvips' heif loader).
 */
export const MEDIA_TYPES = {
  "image/jpeg": { extension: "jpg", aliases: ["jpeg"], label: "JPEG", libvips: "jpeg" },
  "image/png": { extension: "png", aliases: [], label: "PNG", libvips: "png" },
  "image/webp": { extension: "webp", aliases: [], label: "WebP", libvips: "webp" },
  "image/gif": { extension: "gif", aliases: [], label: "GIF", libvips: "gif" },
  "image/avif": { extension: "avif", aliases: [], label: "AVIF", libvips: "heif" },
  "image/heic": { extension: "heic", aliases: [], label: "HEIC", libvips: "heif" },
  "image/heif": { extension: "heif", aliases: [], label: "HEIF", libvips: "heif" },
  "image/tiff": { extension: "tiff", aliases: ["tif"], label: "TIFF", libvips: "tiff" },
  // libvips here reads no BMP: its pixels come from a pure-JS decoder (src/media/bmp.ts).
  "image/bmp": { extension: "bmp", aliases: ["dib"], label: "BMP", libvips: null },
  // Camera RAW: the original is kept; pictures come from the preview JPEG the camera embedded.
  "image/x-canon-cr2": { extension: "cr2", aliases: [], label: "Canon RAW (CR2)", libvips: null },
  "image/x-canon-cr3": { extension: "cr3", aliases: [], label: "Canon RAW (CR3)", libvips: null },
  "image/x-nikon-nef": { extension: "nef", aliases: ["nrw"], label: "Nikon RAW (NEF)", libvips: null },
  "image/x-sony-arw": { extension: "arw", aliases: [], label: "Sony RAW (ARW)", libvips: null },
  "image/x-adobe-dng": { extension: "dng", aliases: [], label: "DNG", libvips: null },
  "image/x-fujifilm-raf": { extension: "raf", aliases: [], label: "Fujifilm RAW (RAF)", libvips: null },
  "image/x-olympus-orf": { extension: "orf", aliases: [], label: "Olympus RAW (ORF)", libvips: null },
  "image/x-panasonic-rw2": { extension: "rw2", aliases: [], label: "Panasonic RAW (RW2)", libvips: null },
} as const satisfies Record<
  string,
  { extension: string; aliases: readonly string[]; label: string; libvips: string | null }
>;
export type AcceptedMediaType = keyof typeof MEDIA_TYPES;

export function isAcceptedMediaType(mediaType: string): mediaType is AcceptedMediaType {
  return Object.hasOwn(MEDIA_TYPES, mediaType);
}

export type RawMediaType = Extract<AcceptedMediaType, `image/x-${string}`>;

/** Camera RAW formats: kept as they are, shown and analysed through their embedded preview. */
export function isRawMediaType(mediaType: string): mediaType is RawMediaType {
  return mediaType.startsWith("image/x-") && isAcceptedMediaType(mediaType);
}

/** The name people know a format by ("JPEG"), or the media type itself for one we do not accept. */
export function formatLabel(mediaType: string): string {
  return isAcceptedMediaType(mediaType) ? MEDIA_TYPES[mediaType].label : mediaType;
}

/** A file size as people read it: "840 KB", "3.2 MB". */
export function formatBytes(bytes: number): string {
  return bytes < 1_000_000
    ? `${Math.max(1, Math.round(bytes / 1000))} KB`
    : `${(bytes / 1_000_000).toFixed(1)} MB`;
}

export interface GpsPosition {
  latitude: number;
  longitude: number;
  altitude?: number | null;
}

/** What the camera recorded, read once at ingest. */
export interface PhotoMetadata {
  takenAt: string | null;
  cameraMake: string | null;
  cameraModel: string | null;
  lens: string | null;
  gps: GpsPosition | null;
  orientation: number | null;
}

/**
 * The person's own words, found in the file (XMP, IPTC, EXIF) or in a sidecar next to it (name.xmp,
 * name.ext.xmp, Google Takeout's name.ext.json) when it was imported. Stored apart from the analysis and from
 * the gallery's edits; they win over the model's words (see effectiveDescription).
 */
export interface OwnWords {
  title: string | null;
  description: string | null;
  keywords: string[];
  altText: string | null;
  /** Where the words were found: "xmp", "iptc", "exif", "xmp sidecar", "takeout". */
  sources: string[];
}

/** A user's corrections: each field set here wins over any analysis, now and after re-analysis. */
export interface HumanEdits {
  summary?: string;
  category?: string;
  tags?: string[];
  altText?: string;
  editedAt: string;
}

export interface ImageRecord {
  id: string;
  sha256: string;
  status: ImageStatus;
  originalName: string;
  mediaType: AcceptedMediaType;
  byteSize: number;
  /** Display size, after EXIF orientation. */
  width: number;
  height: number;
  metadata: PhotoMetadata;
  /** A human-readable place name (from GPS, offline), when known. */
  place: string | null;
  /** A tiny placeholder the gallery paints while the thumbnail loads (base64 thumbhash). */
  thumbhash: string | null;
  /** Perceptual hashes for finding near-duplicates (src/domain/near-duplicates.ts); null for a flat picture or when not computed yet. */
  perceptualHash: string | null;
  /** Variance of the Laplacian of the decoded preview, or null when not computed yet (photos from before it). */
  sharpness: number | null;
  createdAt: string;
  updatedAt: string;
  /** When the photo was moved to the trash; null (or absent) while it is in the catalogue. */
  trashedAt?: string | null;
  analysis: Analysis | null;
  edits: HumanEdits | null;
  /** The words the photo came with (absent: none, or a catalogue that does not keep them). */
  ownWords?: OwnWords | null;
  /** What could not be read from the photo's metadata or sidecars (malformed, too long...): nothing is lost silently. */
  metadataNotes?: string[];
  /** Why the last analysis failed, when status is failed. */
  error: string | null;
}

/** The fields people see (and exports write): gallery edits, then the file's own words, then the analysis. */
export interface EffectiveDescription {
  title: string | null;
  summary: string | null;
  category: string | null;
  tags: string[];
  altText: string | null;
  text: string | null;
}

/**
 * Precedence, field by field: a gallery edit (the most recent human act) wins; then the words the photo came
 * with (the person's own, from its metadata or sidecar); then the model's analysis.
 */
export function effectiveDescription(
  image: Pick<ImageRecord, "analysis" | "edits"> & { ownWords?: OwnWords | null },
): EffectiveDescription {
  const a = image.analysis;
  const e = image.edits;
  const own = image.ownWords;
  return {
    title: own?.title ?? null,
    summary: e?.summary ?? own?.description ?? a?.summary ?? null,
    category: e?.category ?? a?.category ?? null,
    tags: e?.tags ?? (own?.keywords.length ? own.keywords : null) ?? a?.tags ?? [],
    altText: e?.altText ?? own?.altText ?? a?.altText ?? null,
    text: a?.text ?? null,
  };
}

export function cameraLabel(meta: PhotoMetadata): string | null {
  const make = meta.cameraMake?.trim() ?? "";
  const model = meta.cameraModel?.trim() ?? "";
  if (!make && !model) return null;
  // Models often repeat the make ("Canon Canon EOS 5D"): show it once.
  if (model.toLowerCase().startsWith(make.toLowerCase())) return model || make;
  return `${make} ${model}`.trim();
}

export type { Analysis, Provenance };
