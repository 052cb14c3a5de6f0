import { z } from "@hono/zod-openapi";
import { IMAGE_STATUSES, type ImageStatus as Status } from "../domain/image.js";
import { THUMBNAIL_SIZES } from "../services/storage-keys.js";

/**
 * The API's resources, each written once. The HTTP routes validate with these, the served OpenAPI document is
 * generated from them, and the gallery's types are inferred from them (web/src/types.ts, types only).
 * Responses are strict objects, so the document says additionalProperties: false and a field the server sends
 * but the document lacks fails test/http/openapi-contract.test.ts.
 */

// No regex flags: the document carries the pattern as a string, where flags cannot go.
const UUID_PATTERN = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const DATE_PATTERN = /^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/;

export const ApiError = z
  .strictObject({
    error: z.strictObject({
      code: z.string().openapi({ example: "invalid_request" }),
      message: z.string().openapi({ example: "limit must be a whole number from 1 to 200" }),
    }),
  })
  .openapi("Error");

export const ImageStatus = z.enum(IMAGE_STATUSES as [Status, ...Status[]]).openapi("ImageStatus");

export const Provenance = z
  .strictObject({
    provider: z.string(),
    model: z.string(),
    prompt_version: z.string(),
    input_tokens: z.number().int(),
    output_tokens: z.number().int(),
    cost_usd: z.number(),
    ms: z.number(),
  })
  .openapi("Provenance");

/** The fields a person may correct (PATCH /api/images/{id}). */
export const ImageEdit = z
  .strictObject({
    summary: z.string().max(2000).optional(),
    category: z.string().max(40).optional(),
    tags: z.array(z.string().max(100)).max(50).optional(),
    alt_text: z.string().max(1000).optional(),
  })
  .openapi("ImageEdit");

export const Image = z
  .strictObject({
    id: z.string().openapi({ format: "uuid" }),
    status: ImageStatus,
    duplicate: z
      .boolean()
      .optional()
      .openapi({ description: "On upload only: the same bytes were stored before" }),
    original_name: z.string(),
    media_type: z.string(),
    byte_size: z.number().int(),
    width: z.number().int(),
    height: z.number().int(),
    taken_at: z.string().nullable(),
    camera: z.string().nullable(),
    lens: z.string().nullable(),
    place: z.string().nullable(),
    summary: z.string().nullable(),
    category: z.string().nullable(),
    tags: z.array(z.string()),
    alt_text: z.string().nullable(),
    text: z.string().nullable(),
    confidence: z.number().nullable(),
    error: z.string().nullable().openapi({ description: "Why the last analysis failed" }),
    edited: z
      .strictObject({
        summary: z.string().optional(),
        category: z.string().optional(),
        tags: z.array(z.string()).optional(),
        alt_text: z.string().optional(),
        edited_at: z.string(),
      })
      .nullable()
      .openapi({ description: "The human corrections, which win over every analysis" }),
    details: z
      .record(z.string(), z.unknown())
      .nullable()
      .openapi({ description: "Facts the analyser added beyond the contract (objects, faces, colours...)" }),
    thumbhash: z.string().nullable(),
    thumbnails: z.strictObject({ small: z.string(), large: z.string() }),
    original: z.string(),
    analysis: Provenance.nullable(),
    created_at: z.string(),
    /** Orders versions of one photo: an upload's answer can arrive after the event that it was described. */
    updated_at: z.string(),
    trashed_at: z
      .string()
      .nullable()
      .openapi({ description: "When the photo was moved to the trash; null while it is in the catalogue" }),
  })
  .openapi("Image");

export const ImagePage = z
  .strictObject({ items: z.array(Image), next_cursor: z.string().nullable() })
  .openapi("ImagePage");

export const ImageListQuery = z.object({
  cursor: z.string().max(512, "cursor is not one this server gave out").optional(),
  limit: z.coerce
    .number({ error: "limit must be a whole number from 1 to 200" })
    .int({ error: "limit must be a whole number from 1 to 200" })
    .min(1, "limit must be a whole number from 1 to 200")
    .max(200, "limit must be a whole number from 1 to 200")
    .default(50),
  category: z.string().max(40, "category must be at most 40 characters").optional(),
  status: ImageStatus.optional(),
  from: z.string().regex(DATE_PATTERN, "from must be a date such as 2024-05-01").optional(),
  to: z.string().regex(DATE_PATTERN, "to must be a date such as 2024-05-31").optional(),
  q: z.string().max(200, "q (the search text) must be at most 200 characters").optional(),
});

export const ImageIdParams = z.object({
  id: z
    .string()
    .regex(UUID_PATTERN, "no photo with that id")
    .openapi({ param: { name: "id", in: "path" }, format: "uuid" }),
});

export const ThumbnailParams = ImageIdParams.extend({
  size: z
    .enum(THUMBNAIL_SIZES, { error: "thumbnail sizes are small and large" })
    .openapi({ param: { name: "size", in: "path" } }),
});

export const UploadRejection = z.strictObject({ name: z.string(), error: ApiError.shape.error });

export const UploadResult = z
  .strictObject({ images: z.array(Image), rejected: z.array(UploadRejection) })
  .openapi("UploadResult");

/** When no file of an upload could be stored: the first file's error, plus the per-file detail. */
export const UploadFailure = z
  .strictObject({ error: ApiError.shape.error, images: z.array(Image), rejected: z.array(UploadRejection) })
  .openapi("UploadFailure");

export const CategoryCount = z
  .strictObject({ slug: z.string(), description: z.string(), count: z.number().int() })
  .openapi("CategoryCount");

export const CategoryList = z.strictObject({ categories: z.array(CategoryCount) }).openapi("CategoryList");

export const Stats = z
  .strictObject({
    images: z.number().int(),
    by_status: z.strictObject({
      queued: z.number().int(),
      running: z.number().int(),
      done: z.number().int(),
      failed: z.number().int(),
    }),
    input_tokens: z.number().int(),
    output_tokens: z.number().int(),
    cost_usd: z.number(),
    cost_per_photo_usd: z.number(),
    by_model: z.array(
      z.strictObject({
        provider: z.string(),
        model: z.string(),
        images: z.number().int(),
        cost_usd: z.number(),
      }),
    ),
  })
  .openapi("Stats");

export const Session = z
  .strictObject({ required: z.boolean(), authenticated: z.boolean() })
  .openapi("Session");

export const SignIn = z
  .object({ password: z.string({ error: "password must be text" }).max(1024, "the password is too long") })
  .openapi("SignIn");

const Check = z.strictObject({ ok: z.boolean(), error: z.string().optional() });
export const Health = z
  .strictObject({
    status: z.enum(["ok", "degraded"]),
    version: z.string(),
    checks: z.strictObject({ database: Check, storage: Check }),
    disk: z.strictObject({ free_bytes: z.number(), low: z.boolean() }).nullable(),
  })
  .openapi("Health");

export const DeleteQuery = z.object({
  permanent: z
    .enum(["true", "false"], { error: "permanent must be true or false" })
    .optional()
    .openapi({ description: "true: delete at once instead of moving to the trash" }),
});
export const TrashQuery = ImageListQuery.pick({ cursor: true, limit: true });
export const TrashEmptied = z.strictObject({ deleted: z.number().int() }).openapi("TrashEmptied");

export const DuplicateGroup = z
  .strictObject({
    keep: z.string().openapi({ format: "uuid", description: "The copy to keep: the largest, then sharpest" }),
    images: z.array(Image).openapi({ description: "Every copy, the one to keep first" }),
  })
  .openapi("DuplicateGroup");
export const DuplicateGroups = z.strictObject({ groups: z.array(DuplicateGroup) }).openapi("DuplicateGroups");
export const DismissDuplicates = z
  .object({
    ids: z
      .array(z.string().regex(UUID_PATTERN, "ids must be photo ids"), {
        error: "ids must be a list of photo ids",
      })
      .min(2, "give at least two photo ids")
      .max(500, "give at most 500 photo ids"),
  })
  .openapi("DismissDuplicates");
export const DuplicatesDismissed = z
  .strictObject({ dismissed: z.number().int().openapi({ description: "Pairs marked as not duplicates" }) })
  .openapi("DuplicatesDismissed");

/** The data of each server-sent event: `image` carries an Image, `deleted` an id, `ping` nothing. */
export const DeletedEvent = z.strictObject({ id: z.string() }).openapi("DeletedEvent");
