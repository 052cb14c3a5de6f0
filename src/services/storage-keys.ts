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

export function allKeys(id: string, mediaType: AcceptedMediaType): string[] {
  return [originalKey(id, mediaType), ...THUMBNAIL_SIZES.map((s) => thumbnailKey(id, s))];
}
