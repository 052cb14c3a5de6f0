import type { z } from "@hono/zod-openapi";
import { cameraLabel, effectiveDescription, type ImageRecord } from "../domain/image.js";
import type { Image } from "./schemas.js";

/** An image as the API sends it; its shape is the Image schema's. */
export type ImageJson = z.output<typeof Image>;

/**
 * The `<image>` resource of the API (DESIGN.md): snake_case, effective values (gallery edits win, then the
 * photo's own words, then the model's), with the own words and the model's words beside them.
 */
export function presentImage(image: ImageRecord, extra: { duplicate?: boolean } = {}): ImageJson {
  const d = effectiveDescription(image);
  const a = image.analysis;
  const base = `/api/images/${image.id}`;
  const details = a?.extras ? { ...a.extras } : null;
  const own = image.ownWords;
  return {
    id: image.id,
    status: image.status,
    ...(extra.duplicate === undefined ? {} : { duplicate: extra.duplicate }),
    original_name: image.originalName,
    title: d.title,
    media_type: image.mediaType,
    byte_size: image.byteSize,
    width: image.width,
    height: image.height,
    taken_at: image.metadata.takenAt,
    camera: cameraLabel(image.metadata),
    lens: image.metadata.lens,
    place: image.place,
    summary: d.summary,
    category: d.category,
    tags: d.tags,
    alt_text: d.altText,
    text: d.text,
    confidence: a?.confidence ?? null,
    error: image.error,
    edited: image.edits
      ? {
          ...(image.edits.summary === undefined ? {} : { summary: image.edits.summary }),
          ...(image.edits.category === undefined ? {} : { category: image.edits.category }),
          ...(image.edits.tags === undefined ? {} : { tags: image.edits.tags }),
          ...(image.edits.altText === undefined ? {} : { alt_text: image.edits.altText }),
          edited_at: image.edits.editedAt,
        }
      : null,
    own_words: own
      ? {
          title: own.title,
          description: own.description,
          keywords: own.keywords,
          alt_text: own.altText,
          sources: own.sources,
        }
      : null,
    model_words: a
      ? { summary: a.summary, category: a.category, tags: a.tags, alt_text: a.altText, text: a.text }
      : null,
    metadata_notes: image.metadataNotes ?? [],
    details,
    thumbhash: image.thumbhash,
    thumbnails: { small: `${base}/thumbnails/small`, large: `${base}/thumbnails/large` },
    original: `${base}/original`,
    xmp: `${base}/xmp`,
    analysis: a
      ? {
          provider: a.provenance.provider,
          model: a.provenance.model,
          prompt_version: a.provenance.promptVersion,
          input_tokens: a.provenance.inputTokens,
          output_tokens: a.provenance.outputTokens,
          cost_usd: a.provenance.costUsd,
          ms: a.provenance.ms,
        }
      : null,
    created_at: image.createdAt,
    updated_at: image.updatedAt,
    trashed_at: image.trashedAt ?? null,
  };
}
