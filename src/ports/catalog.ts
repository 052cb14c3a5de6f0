import type { Analysis } from "../domain/analysis.js";
import type { HumanEdits, ImageRecord, ImageStatus } from "../domain/image.js";

/** What ingest knows of a new photo; the catalogue adds status, times, analysis and edits. */
export type NewImage = Pick<
  ImageRecord,
  | "id"
  | "sha256"
  | "originalName"
  | "mediaType"
  | "byteSize"
  | "width"
  | "height"
  | "metadata"
  | "place"
  | "thumbhash"
  | "ownWords"
  | "metadataNotes"
  | "perceptualHash"
  | "sharpness"
>;

/** Two photos found to be near-duplicates, and how far apart their perceptual hashes are. */
export interface DuplicatePair {
  a: string;
  b: string;
  distance: number;
}

/** The filters of a listing: what a smart album saves, and what the timeline and places honour. */
export interface ImageFilters {
  category?: string | null;
  status?: ImageStatus | null;
  /** ISO dates (inclusive) over the capture time, or the upload time when unknown. */
  from?: string | null;
  to?: string | null;
  /** Full-text query over summary, tags, category, visible text, original name and the photo's own words. */
  q?: string | null;
  /** The place name, exactly as `places()` gives it. */
  place?: string | null;
  /** Only the photos of this album (a smart album adds its saved filters); not_found when there is none. */
  album?: string | null;
}

/**
 * `added` (default): newest uploaded first. `taken`: newest captured first (the upload time when the capture
 * time is unknown), the timeline's order; with `to`, a page starts at any month.
 */
export type ImageOrder = "added" | "taken";
export const IMAGE_ORDERS: readonly ImageOrder[] = ["added", "taken"];

export interface ImageQuery extends ImageFilters {
  limit: number;
  /**
   * Only these photos (at most MAX_PAGE_SIZE, as a page): how search by meaning applies a listing's filters
   * and the trash to the photos a vector index found. Listed in the usual order.
   */
  ids?: readonly string[] | null;
  /** From the previous page of the same query and order. */
  cursor?: string | null;
  order?: ImageOrder | null;
}

/** An album: chosen photos, or a saved search (smart album) whose photos are whatever matches it. */
export interface AlbumRecord {
  id: string;
  name: string;
  /** A smart album's saved search; null for an album of chosen photos. */
  filters: Omit<ImageFilters, "album"> | null;
  /** The cover a person chose; shown while it is in the album and not trashed. */
  coverId: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface AlbumSummary extends AlbumRecord {
  /** Photos in the album, trashed ones not counted. */
  count: number;
  /** The chosen cover while it is in the album, else the newest photo taken; null when empty. */
  cover: ImageRecord | null;
}

export interface TimelineMonth {
  /** YYYY-MM (UTC) of the capture time, or of the upload time when unknown. */
  month: string;
  count: number;
}

export interface PlaceCount {
  place: string;
  /** The mean position of the place's geotagged photos. */
  lat: number;
  lon: number;
  count: number;
}

/** One change applied to many photos at once (in one transaction). */
export type ImagesChange =
  | { kind: "category"; category: string }
  | { kind: "addTags"; tags: string[] }
  | { kind: "addToAlbum"; albumId: string }
  | { kind: "removeFromAlbum"; albumId: string }
  | { kind: "trash" }
  | { kind: "restore" };

export interface ImagesChanged {
  /** The photos changed (or already as asked), as they are now. */
  changed: ImageRecord[];
  /** Ids with no photo. */
  missing: string[];
  /** Photos in the trash, which only trash, restore and removeFromAlbum touch. */
  inTrash: string[];
}

export interface ImagePage {
  items: ImageRecord[];
  nextCursor: string | null;
}

export interface CatalogStats {
  images: number;
  byStatus: Record<ImageStatus, number>;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
  /** Per provider/model, for "cost per photo" figures. */
  byModel: { provider: string; model: string; images: number; costUsd: number }[];
  /** Spent on embeddings by a remote provider (search by meaning), on top of costUsd. */
  embeddingCostUsd: number;
  /** Per embedding model that cost anything (`<provider>:<model>`): photos embedded and what it cost. */
  byEmbeddingModel: { model: string; images: number; inputTokens: number; costUsd: number }[];
}

/** An embedding to store with a photo, and what computing it cost (added to what earlier ones cost). */
export interface NewEmbedding {
  model: string;
  vector: Float32Array;
  inputTokens: number;
  costUsd: number;
}

/** A stored image embedding whose category a person set by hand: the examples the catalogue learns from. */
export interface CorrectionExample {
  imageId: string;
  category: string;
  vector: number[];
}

export interface SelectFilter {
  all?: boolean;
  status?: ImageStatus;
  category?: string;
}

/**
 * Readers of changed embeddings read again what was written this long before the last change they saw: a
 * write stamped earlier may commit after a later one (the stamps come from one clock: the database's, or the
 * one machine's with SQLite).
 */
export const EMBEDDING_CHANGE_LAG_MS = 2_000;

/** Where a reader of changed embeddings got to: the last change it saw. */
export interface EmbeddingChange {
  imageId: string;
  /** Epoch milliseconds by the database clock. */
  changedMs: number;
}

/** A sign-in session as stored: times are epoch milliseconds; the id is kept only as a hash. */
export interface SessionRecord {
  idHash: string;
  createdAt: number;
  expiresAt: number;
  revokedAt: number | null;
}

/** The catalogue of photos and their descriptions (SQLite, PostgreSQL...). */
export interface Catalog {
  readonly kind: string;
  /**
   * Inserts a photo unless one with the same sha256 exists; either way returns the stored record.
   * Safe under concurrency: two uploads of the same bytes give one record.
   */
  insertImage(image: NewImage): Promise<{ image: ImageRecord; created: boolean }>;
  getImage(id: string): Promise<ImageRecord | null>;
  findBySha256(sha256: string): Promise<ImageRecord | null>;
  listImages(query: ImageQuery): Promise<ImagePage>;
  setStatus(id: string, status: ImageStatus, error?: string | null): Promise<void>;
  /**
   * Records an analysis (status becomes done). `jobId` makes the write idempotent: a job that already
   * saved its result and crashed before completing is recognised by `analysisJobId`.
   */
  saveAnalysis(id: string, analysis: Analysis, jobId: string): Promise<void>;
  analysisJobId(id: string): Promise<string | null>;
  /** Merges edits over the stored ones; returns the updated record, or null when the photo is gone. */
  saveEdits(id: string, edits: Omit<HumanEdits, "editedAt">): Promise<ImageRecord | null>;
  deleteImage(id: string): Promise<boolean>;
  /**
   * Moves a photo to the trash: it keeps its files and record but leaves listings, search, counts,
   * statistics and bulk selections until restored or deleted. Returns the record, or null when missing.
   */
  trashImage(id: string): Promise<ImageRecord | null>;
  /** Takes a photo out of the trash; returns the record, or null when missing. */
  restoreImage(id: string): Promise<ImageRecord | null>;
  /** The trash, most recently trashed first; `trashedBefore` (ISO) keeps only photos trashed before then. */
  listTrash(query: {
    limit: number;
    cursor?: string | null;
    trashedBefore?: string | null;
  }): Promise<ImagePage>;
  /**
   * Applies one change to many photos in one transaction. Unknown ids and (but for trash, restore and
   * removeFromAlbum) trashed photos are left alone and reported; the album must exist and hold chosen photos.
   */
  changeImages(ids: readonly string[], change: ImagesChange): Promise<ImagesChanged>;
  /** Photos per month of capture (upload time when unknown), newest month first, honouring the filters. */
  timeline(filters: ImageFilters): Promise<TimelineMonth[]>;
  /** Places of geotagged photos with their counts, largest first, honouring the filters. */
  places(filters: ImageFilters): Promise<PlaceCount[]>;
  createAlbum(album: Pick<AlbumRecord, "id" | "name" | "filters">): Promise<AlbumSummary>;
  getAlbum(id: string): Promise<AlbumSummary | null>;
  /** Every album, by name. */
  listAlbums(): Promise<AlbumSummary[]>;
  /** Renames, sets or clears the cover, or replaces a smart album's search; null when the album is gone. */
  updateAlbum(
    id: string,
    change: Partial<Pick<AlbumRecord, "name" | "coverId" | "filters">>,
  ): Promise<AlbumSummary | null>;
  /** Deletes the album (its photos stay); false when there was none. */
  deleteAlbum(id: string): Promise<boolean>;
  categoryCounts(): Promise<{ category: string; count: number }[]>;
  stats(): Promise<CatalogStats>;
  /** Ids of the photos a bulk re-analysis should touch. */
  selectIds(filter: SelectFilter): Promise<string[]>;
  correctionExamples(embeddingModel: string): Promise<CorrectionExample[]>;
  /**
   * Stores (or replaces) the photo's embedding of `embedding.model`, adding its cost to what the photo's
   * earlier embeddings of that model cost. not_found when the photo is gone.
   */
  saveEmbedding(id: string, embedding: NewEmbedding): Promise<void>;
  /** The photo's stored embeddings, most recently written first (trashed photos too). */
  embeddingsOf(id: string): Promise<{ model: string; vector: Float32Array }[]>;
  /**
   * Up to `limit` embeddings of `model` written after `since` (all when null), in the order written: how an
   * index of similar photos loads and then keeps in step. Trashed photos are included.
   */
  changedEmbeddings(
    model: string,
    since: EmbeddingChange | null,
    limit: number,
  ): Promise<(EmbeddingChange & { vector: Float32Array })[]>;
  /** Writes a tiny row: throws when the database cannot record anything (full disk, read-only). */
  probeWrite(): Promise<void>;
  /** Records a new session, and forgets sessions that expired before `now`. */
  createSession(session: Omit<SessionRecord, "revokedAt">, now: number): Promise<void>;
  findSession(idHash: string): Promise<SessionRecord | null>;
  /** Revokes one session; false when there is no such session or it was already revoked. */
  revokeSession(idHash: string, now: number): Promise<boolean>;
  /** Revokes every session ("sign out everywhere"); returns how many were still active. */
  revokeAllSessions(now: number): Promise<number>;
  /** Records a photo's perceptual hash and sharpness (photos stored before they were computed at ingest). */
  saveFingerprint(id: string, fingerprint: Pick<ImageRecord, "perceptualHash" | "sharpness">): Promise<void>;
  /** Up to `limit` ids (trashed photos too) whose fingerprint was never computed, in id order after `after`. */
  idsWithoutFingerprint(limit: number, after?: string | null): Promise<string[]>;
  /**
   * Photos stored under any of these perceptual-hash index keys (src/domain/near-duplicates.ts hashKeys),
   * with their hashes, for the caller to measure; `excludeId` is left out. Trashed photos are included
   * (their pairs show again if they are restored).
   */
  hashCandidates(
    keys: readonly number[],
    excludeId: string,
  ): Promise<{ id: string; perceptualHash: string }[]>;
  /** Records near-duplicate pairs (either order; a pair already recorded is kept as it is). */
  addDuplicatePairs(pairs: readonly DuplicatePair[]): Promise<void>;
  /** The recorded pairs not dismissed, between photos that are both out of the trash. */
  duplicatePairs(): Promise<DuplicatePair[]>;
  /** Marks every pair among `ids` as "not duplicates" (a burst of similar shots): they stop showing. Returns how many. */
  dismissDuplicates(ids: readonly string[]): Promise<number>;
  /** The records of these ids that exist (in no particular order). */
  getImages(ids: readonly string[]): Promise<ImageRecord[]>;
  /** Ids that start with `prefix` (exactly, case-sensitive), in id order, at most `limit`: short ids as in git. */
  findIdsByPrefix(prefix: string, limit: number): Promise<string[]>;
  close(): Promise<void>;
}
