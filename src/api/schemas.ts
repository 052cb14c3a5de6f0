import { z } from "@hono/zod-openapi";
import { IMAGE_STATUSES, type ImageStatus as Status } from "../domain/image.js";
import { IMAGE_ORDERS, type ImageOrder } from "../ports/catalog.js";
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
    title: z
      .string()
      .nullable()
      .openapi({ description: "The photo's own title, from its metadata or sidecar" }),
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
    own_words: z
      .strictObject({
        title: z.string().nullable(),
        description: z.string().nullable(),
        keywords: z.array(z.string()),
        alt_text: z.string().nullable(),
        sources: z
          .array(z.string())
          .openapi({ description: 'Where they were found: "xmp", "iptc", "exif", "xmp sidecar", "takeout"' }),
      })
      .nullable()
      .openapi({
        description:
          "The words the photo came with (its XMP, IPTC or EXIF, or a sidecar): they win over the model's, gallery edits win over them",
      }),
    model_words: z
      .strictObject({
        summary: z.string(),
        category: z.string(),
        tags: z.array(z.string()),
        alt_text: z.string(),
        text: z.string().nullable(),
      })
      .nullable()
      .openapi({ description: "What the model wrote, shown beside the words that win" }),
    metadata_notes: z
      .array(z.string())
      .openapi({ description: "What could not be read from the photo's metadata or sidecars" }),
    details: z
      .record(z.string(), z.unknown())
      .nullable()
      .openapi({ description: "Facts the analyser added beyond the contract (objects, faces, colours...)" }),
    thumbhash: z.string().nullable(),
    thumbnails: z.strictObject({ small: z.string(), large: z.string() }),
    original: z.string(),
    xmp: z.string().openapi({ description: "An XMP sidecar with the description (GET)" }),
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

const LIMIT = z.coerce
  .number({ error: "limit must be a whole number from 1 to 200" })
  .int({ error: "limit must be a whole number from 1 to 200" })
  .min(1, "limit must be a whole number from 1 to 200")
  .max(200, "limit must be a whole number from 1 to 200")
  .default(50);

/** The filters of a listing; a smart album saves them, the timeline and places honour them. */
const SEARCH_FIELDS = {
  category: z.string().max(40, "category must be at most 40 characters").optional(),
  status: ImageStatus.optional(),
  from: z.string().regex(DATE_PATTERN, "from must be a date such as 2024-05-01").optional(),
  to: z.string().regex(DATE_PATTERN, "to must be a date such as 2024-05-31").optional(),
  q: z
    .string()
    .max(200, "q (the search text) must be at most 200 characters")
    .optional()
    .openapi({
      description:
        "Search words, all required; each also matches its plurals, synonyms and more specific words " +
        '(WordNet: "animal" finds dogs, "automobile" cars). Exact matches come first, then synonyms, then ' +
        "more specific words, each newest first; the last word also matches as a prefix. With a remote " +
        "embedder configured (search by meaning), in upload order this ranking is blended with the photos " +
        "whose embeddings are nearest the query's: reciprocal rank fusion of the top 300 of each " +
        "(1/(60 + rank) summed); a photo found only by meaning must reach a minimum cosine similarity, and " +
        "the other filters and the trash apply to it. If the embedder fails, the words alone rank",
    }),
  place: z
    .string()
    .max(200, "place must be at most 200 characters")
    .optional()
    .openapi({ description: "A place name exactly as GET /api/places gives it" }),
};
const ALBUM_FILTER = z
  .string()
  .regex(UUID_PATTERN, "album must be an album id")
  .optional()
  .openapi({ description: "Only the photos of this album", format: "uuid" });

export const FilterQuery = z.object({ ...SEARCH_FIELDS, album: ALBUM_FILTER });

export const ImageListQuery = z.object({
  cursor: z.string().max(512, "cursor is not one this server gave out").optional(),
  limit: LIMIT,
  ...FilterQuery.shape,
  order: z
    .enum(IMAGE_ORDERS as [ImageOrder, ...ImageOrder[]], { error: "order must be added or taken" })
    .optional()
    .openapi({
      description:
        "added (default): newest uploaded first; taken: newest taken first (upload time when unknown), " +
        "so with `to` a page starts at any month",
    }),
  trashed: z
    .enum(["true", "false"], { error: "trashed must be true or false" })
    .optional()
    .openapi({ description: "true: the trash, most recently trashed first (only cursor and limit apply)" }),
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

export const OriginalQuery = z.object({
  metadata: z
    .enum(["original", "embedded"], { error: "metadata must be original or embedded" })
    .optional()
    .openapi({
      description:
        "embedded: a copy with the description written into its XMP, IPTC and EXIF (the stored original is never changed)",
    }),
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
    embedding_cost_usd: z.number().openapi({
      description: "Spent on a remote provider's embeddings (search by meaning), on top of cost_usd",
    }),
    by_embedding_model: z.array(
      z.strictObject({
        model: z.string().openapi({ description: "<provider>:<model>" }),
        images: z.number().int(),
        input_tokens: z.number().int(),
        cost_usd: z.number(),
      }),
    ),
  })
  .openapi("Stats");

export const Session = z
  .strictObject({
    required: z.boolean(),
    authenticated: z.boolean(),
    /** Uploads go straight to the storage (POST /api/uploads) instead of through POST /api/images. */
    direct_upload: z.boolean(),
  })
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

export const DeleteQuery = z.strictObject({
  purge: z.enum(["true", "false"], { error: "purge must be true or false" }).optional().openapi({
    description: "true: delete the photo and its files for good instead of moving it to the trash",
  }),
});
export const TrashEmptied = z.strictObject({ deleted: z.number().int() }).openapi("TrashEmptied");

export const SimilarQuery = z.object({
  limit: z.coerce
    .number({ error: "limit must be a whole number from 1 to 100" })
    .int({ error: "limit must be a whole number from 1 to 100" })
    .min(1, "limit must be a whole number from 1 to 100")
    .max(100, "limit must be a whole number from 1 to 100")
    .default(12),
});
export const SimilarImages = z
  .strictObject({
    items: z.array(Image).openapi({ description: "Nearest first; the photo itself is not one" }),
  })
  .openapi("SimilarImages");

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

export const TimelineMonth = z
  .strictObject({
    month: z.string().openapi({ example: "2014-09", description: "YYYY-MM (UTC) the photos were taken" }),
    count: z.number().int(),
  })
  .openapi("TimelineMonth");
export const Timeline = z.array(TimelineMonth).openapi("Timeline");

export const Place = z
  .strictObject({
    place: z.string(),
    lat: z.number().openapi({ description: "Mean latitude of the place's photos" }),
    lon: z.number().openapi({ description: "Mean longitude of the place's photos" }),
    count: z.number().int(),
  })
  .openapi("Place");
export const PlaceList = z.array(Place).openapi("PlaceList");

/** A smart album's saved search: the same filters as GET /api/images. */
export const SavedSearch = z.strictObject(SEARCH_FIELDS).openapi("SavedSearch");

export const Album = z
  .strictObject({
    id: z.string().openapi({ format: "uuid" }),
    name: z.string(),
    count: z.number().int().openapi({ description: "Photos in the album, those in the trash not counted" }),
    cover: z.union([Image, z.null()]).openapi({
      description: "The chosen cover while it is in the album, else the newest photo taken; null when empty",
    }),
    cover_chosen: z.boolean().openapi({ description: "Whether a person chose the cover" }),
    smart: z.boolean().openapi({ description: "A saved search: its photos are whatever the search finds" }),
    filters: z.union([SavedSearch, z.null()]).openapi({ description: "A smart album's search" }),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi("Album");
export const AlbumList = z.array(Album).openapi("AlbumList");

const ALBUM_NAME = z
  .string({ error: "name must be text" })
  .trim()
  .min(1, "name must not be empty")
  .max(100, "name must be at most 100 characters");

export const AlbumCreate = z
  .strictObject({
    name: ALBUM_NAME,
    filters: SavedSearch.optional().openapi({ description: "Makes a smart album of this search" }),
  })
  .openapi("AlbumCreate");

export const AlbumEdit = z
  .strictObject({
    name: ALBUM_NAME.optional(),
    cover: z
      .string()
      .regex(UUID_PATTERN, "cover must be the id of a photo of the album")
      .nullable()
      .optional()
      .openapi({ description: "A photo of the album; null: the newest photo" }),
    filters: SavedSearch.optional().openapi({ description: "A smart album's new search" }),
  })
  .openapi("AlbumEdit");

export const AlbumIdParams = z.object({
  id: z
    .string()
    .regex(UUID_PATTERN, "no album with that id")
    .openapi({ param: { name: "id", in: "path" }, format: "uuid" }),
});

/** Ids of photos to act on; a malformed or unknown one is reported on its own. */
const IDS = z
  .array(z.string({ error: "ids must be a list of photo ids" }).max(100, "an id is at most 100 characters"), {
    error: "ids must be a list of photo ids",
  })
  .min(1, "ids must name at least one photo")
  .max(1000, "ids may name at most 1000 photos at once");

export const ImageIds = z.strictObject({ ids: IDS }).openapi("ImageIds");

export const IdError = z.strictObject({ id: z.string(), error: ApiError.shape.error }).openapi("IdError");

export const AlbumImagesResult = z
  .strictObject({
    album: Album,
    done: z.array(z.string()).openapi({ description: "Ids added (or removed), or already so" }),
    errors: z.array(IdError).openapi({ description: "Each id left alone, with why" }),
  })
  .openapi("AlbumImagesResult");

const bulk = <S extends z.ZodRawShape>(shape: S, description: string) =>
  z.object({ ids: IDS, ...shape }).openapi({ description });

export const BulkRequest = z
  .discriminatedUnion(
    "action",
    [
      bulk(
        { action: z.literal("category"), value: z.string({ error: "value must be a category" }).max(40) },
        "Set the category",
      ),
      bulk(
        {
          action: z.literal("tags"),
          value: z
            .array(z.string().max(100), { error: "value must be a list of tags" })
            .min(1, "value must hold at least one tag")
            .max(50),
        },
        "Add tags",
      ),
      bulk(
        {
          action: z.literal("album"),
          value: z
            .string({ error: "value must be an album id" })
            .regex(UUID_PATTERN, "value must be an album id"),
        },
        "Add to an album",
      ),
      bulk({ action: z.literal("reanalyse") }, "Queue analysis again"),
      bulk({ action: z.literal("trash") }, "Move to the trash"),
      bulk({ action: z.literal("restore") }, "Bring back from the trash"),
    ],
    { error: "action must be one of: category, tags, album, reanalyse, trash, restore" },
  )
  .openapi("BulkRequest");

export const BulkResult = z
  .strictObject({
    done: z.array(z.string()).openapi({ description: "Ids done (or already as asked)" }),
    errors: z.array(IdError).openapi({ description: "Each id left alone, with why" }),
    images: z.array(Image).openapi({ description: "The photos done, as they are now (none for trash)" }),
  })
  .openapi("BulkResult");

/** POST /api/uploads: the file a browser is about to send straight to the storage. */
export const UploadRequest = z
  .object({
    name: z.string().max(1024, "name is too long"),
    content_type: z.string().max(100),
    size: z.number().int("size must be a whole number of bytes").min(1, "size must be at least 1 byte"),
  })
  .openapi("UploadRequest");

export const Upload = z
  .strictObject({
    id: z.string().openapi({ format: "uuid" }),
    /** Post `fields` then the file as `file` (multipart/form-data) to `url`. */
    url: z.string(),
    fields: z.record(z.string(), z.string()),
    expires_at: z.string(),
  })
  .openapi("Upload");

export const UploadIdParams = z.object({
  id: z
    .string()
    .regex(UUID_PATTERN, "no upload with that id")
    .openapi({ param: { name: "id", in: "path" }, format: "uuid" }),
});

const FileError = z.strictObject({ code: z.string(), message: z.string() });

export const UploadStatus = z
  .strictObject({
    id: z.string().openapi({ format: "uuid" }),
    /** waiting: not arrived (or not yet seen); processing: arrived, being ingested; stored; rejected. */
    state: z.enum(["waiting", "processing", "stored", "rejected"]),
    image_id: z.string().optional(),
    duplicate: z.boolean().optional(),
    error: FileError.optional(),
  })
  .openapi("UploadStatus");

export const Rejections = z
  .strictObject({
    items: z.array(z.strictObject({ key: z.string(), name: z.string(), error: FileError, at: z.string() })),
  })
  .openapi("Rejections");

export const RejectionsQuery = z.object({
  limit: z.coerce
    .number({ error: "limit must be a whole number from 1 to 1000" })
    .int("limit must be a whole number from 1 to 1000")
    .min(1, "limit must be a whole number from 1 to 1000")
    .max(1000, "limit must be a whole number from 1 to 1000")
    .optional(),
});
