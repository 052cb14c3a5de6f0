import { type AcceptedMediaType, MEDIA_TYPES } from "../domain/image.js";

/** Where each photo's files live in the blob store. Spread over 256 folders so no folder grows huge. */
export const THUMBNAIL_SIZES = ["small", "large"] as const;
export type ThumbnailSize = (typeof THUMBNAIL_SIZES)[number];

export function originalKey(id: string, mediaType: AcceptedMediaType): string {
  return `originals/${id.slice(0, 2)}/${id}.${MEDIA_TYPES[mediaType].extension}`;
}

export function thumbnailKey(id: string, size: ThumbnailSize): string {
  return `thumbnails/${id.slice(0, 2)}/${id}-${size}.webp`;
}

/** The XMP sidecar kept beside the original when PHOTOCAT_STORAGE_SIDECARS is on (`name.xmp`, as Adobe names them). */
export function sidecarKey(id: string): string {
  return `originals/${id.slice(0, 2)}/${id}.xmp`;
}

/** The files every photo has. */
export function allKeys(id: string, mediaType: AcceptedMediaType): string[] {
  return [originalKey(id, mediaType), ...THUMBNAIL_SIZES.map((s) => thumbnailKey(id, s))];
}

/** What deleting a photo removes: its files and the sidecar it may have. */
export function keysToDelete(id: string, mediaType: AcceptedMediaType): string[] {
  return [...allKeys(id, mediaType), sidecarKey(id)];
}
