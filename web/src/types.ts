/**
 * The API's JSON shapes (snake_case, as the server sends them), inferred from the server's schemas in
 * src/api/schemas.ts: types only, so nothing of zod reaches the browser bundle.
 */
import type { z } from "zod";
import type * as api from "../../src/api/schemas.js";

export type ImageStatus = z.output<typeof api.ImageStatus>;
export type Provenance = z.output<typeof api.Provenance>;
/** What a person may correct (the body of PATCH /api/images/{id}). */
export type EditableFields = z.input<typeof api.ImageEdit>;
export type Photo = z.output<typeof api.Image>;
export type PhotoPage = z.output<typeof api.ImagePage>;
export type UploadResult = z.output<typeof api.UploadResult>;
export type DirectUpload = z.output<typeof api.Upload>;
export type DirectUploadStatus = z.output<typeof api.UploadStatus>;
export type CategoryCount = z.output<typeof api.CategoryCount>;
export type Stats = z.output<typeof api.Stats>;
export type DuplicateGroup = z.output<typeof api.DuplicateGroup>;
export type DuplicateGroups = z.output<typeof api.DuplicateGroups>;
export type Session = z.output<typeof api.Session>;
export type ApiErrorBody = z.output<typeof api.ApiError>;
export type Album = z.output<typeof api.Album>;
export type SavedSearch = z.input<typeof api.SavedSearch>;
export type TimelineMonth = z.output<typeof api.TimelineMonth>;
export type Place = z.output<typeof api.Place>;
export type BulkRequest = z.input<typeof api.BulkRequest>;
export type BulkResult = z.output<typeof api.BulkResult>;
export type AlbumImagesResult = z.output<typeof api.AlbumImagesResult>;

/** What the gallery shows: search text, filters, album and order, mirrored in the URL. */
export interface Filters {
  q: string;
  category: string;
  status: string;
  from: string;
  to: string;
  place: string;
  /** The album shown (/albums/<id>). */
  album: string;
  /** "" (newest added first) or "taken" (newest taken first: the timeline's order). */
  order: string;
}

export const NO_FILTERS: Filters = {
  q: "",
  category: "",
  status: "",
  from: "",
  to: "",
  place: "",
  album: "",
  order: "",
};

/** The filters a smart album can save (the album and the order are not filters). */
export const SEARCH_KEYS = ["q", "category", "status", "from", "to", "place"] as const;
