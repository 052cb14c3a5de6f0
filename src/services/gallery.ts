import { cleanText, LIMITS, normaliseSummary, normaliseTags } from "../domain/analysis.js";
import { PhotocatError, storageFailure } from "../domain/errors.js";
import type { HumanEdits, ImageRecord } from "../domain/image.js";
import { isCategory, type Taxonomy } from "../domain/taxonomy.js";
import type { Logger } from "../logger.js";
import type { BlobStore } from "../ports/blob-store.js";
import type {
  Catalog,
  CatalogStats,
  ImageFilters,
  ImagePage,
  ImageQuery,
  ImagesChange,
  ImagesChanged,
  PlaceCount,
  SelectFilter,
  TimelineMonth,
} from "../ports/catalog.js";
import type { Embedder } from "../ports/embedder.js";
import type { JobQueue } from "../ports/job-queue.js";
import type { VectorIndex } from "../ports/vector-index.js";
import { queueAnalysis } from "./analysis-status.js";
import { type DuplicateGroup, dismissDuplicates, listDuplicateGroups } from "./duplicates.js";
import { embeddingModelKey, queueEmbedding } from "./embed.js";
import type { ImageEvents } from "./events.js";
import { BlendedSearch } from "./search.js";
import { type SimilarPhoto, SimilarPhotos } from "./similar.js";
import { keysToDelete } from "./storage-keys.js";

export interface GalleryDeps {
  catalog: Catalog;
  queue: JobQueue;
  blobs: BlobStore;
  events: ImageEvents;
  /** Search by meaning, blended with full text, when a remote embedder is configured. */
  meaning?: { embedder: Embedder; vectors: VectorIndex; logger: Logger } | null;
}

/** How long a photo stays in the trash before it is deleted for good by the periodic purge. */
export const TRASH_RETENTION_DAYS = 30;

/** One action on many photos (POST /api/images/bulk). */
export type BulkRequest =
  | { action: "category"; value: string }
  | { action: "tags"; value: string[] }
  | { action: "album"; value: string }
  | { action: "reanalyse" }
  | { action: "trash" }
  | { action: "restore" };

export interface BulkOutcome {
  /** The photos changed (or already as asked), as they are now. */
  images: ImageRecord[];
  /** Why each other id was left alone. */
  errors: { id: string; error: PhotocatError }[];
}

/** The per-id errors of a change to many photos: unknown ids, photos in the trash. */
export function idErrors(outcome: Pick<ImagesChanged, "missing" | "inTrash">): BulkOutcome["errors"] {
  return [
    ...outcome.missing.map((id) => ({ id, error: new PhotocatError("not_found", `no photo with id ${id}`) })),
    ...outcome.inTrash.map((id) => ({
      id,
      error: new PhotocatError("in_trash", `the photo ${id} is in the trash: restore it first`),
    })),
  ];
}

/** Every category of the taxonomy with its count, then any stored category no longer in it. */
export async function categoriesWithCounts(
  catalog: Pick<Catalog, "categoryCounts">,
  taxonomy: Taxonomy,
): Promise<{ slug: string; description: string; count: number }[]> {
  const counts = new Map((await catalog.categoryCounts()).map((c) => [c.category, c.count]));
  const listed = taxonomy.categories.map((c) => ({ ...c, count: counts.get(c.slug) ?? 0 }));
  const retired = [...counts]
    .filter(([slug]) => !isCategory(taxonomy, slug))
    .map(([slug, count]) => ({ slug, description: "no longer in the taxonomy", count }));
  return [...listed, ...retired];
}

/**
 * A category filter must name a category: a typo would otherwise show an empty gallery (the catalogue says
 * when an album does not exist).
 */
export async function checkFilters(
  catalog: Pick<Catalog, "categoryCounts">,
  taxonomy: Taxonomy,
  filters: ImageFilters,
): Promise<void> {
  if (filters.category && !isCategory(taxonomy, filters.category)) {
    const known = (await categoriesWithCounts(catalog, taxonomy)).map((c) => c.slug);
    if (!known.includes(filters.category)) {
      throw new PhotocatError(
        "invalid_request",
        `there is no category "${filters.category}": category must be one of: ${known.join(", ")}`,
      );
    }
  }
}

export interface EditRequest {
  summary?: string;
  category?: string;
  tags?: string[];
  altText?: string;
}

/** The newest photos looked at for the embedding model whose similar-photo index to load at start. */
const NEWEST_FOR_WARM_UP = 20;

/** What people do with the catalogue: browse, search, correct, re-analyse, delete. */
export class GalleryService {
  readonly #similar: SimilarPhotos;
  readonly #blended: BlendedSearch | null;

  constructor(
    private readonly deps: GalleryDeps,
    private readonly taxonomy: Taxonomy,
  ) {
    this.#similar = new SimilarPhotos(deps);
    this.#blended = deps.meaning ? new BlendedSearch({ catalog: deps.catalog, ...deps.meaning }) : null;
  }

  /**
   * A page of photos. A search with an embedder configured ranks by words and meaning blended (see
   * BlendedSearch), unless the photos are asked in capture-time order.
   */
  async list(query: ImageQuery): Promise<ImagePage> {
    await this.checkFilters(query);
    if (this.#blended && query.q?.trim() && (query.order ?? "added") === "added") {
      return this.#blended.page(query);
    }
    return this.deps.catalog.listImages(query);
  }

  /** A text-only embedder embeds the description: a person's change to it is embedded again. */
  async #descriptionChanged(id: string): Promise<void> {
    const meaning = this.deps.meaning;
    if (meaning && !meaning.embedder.seesImages)
      await queueEmbedding({ ...this.deps, logger: meaning.logger }, id);
  }

  /** Photos per month taken (upload month when unknown), newest first, for the same filters as a listing. */
  async timeline(filters: ImageFilters): Promise<TimelineMonth[]> {
    await this.checkFilters(filters);
    return this.deps.catalog.timeline(filters);
  }

  /** The places of geotagged photos with their counts, for the same filters as a listing. */
  async places(filters: ImageFilters): Promise<PlaceCount[]> {
    await this.checkFilters(filters);
    return this.deps.catalog.places(filters);
  }

  checkFilters(filters: ImageFilters): Promise<void> {
    return checkFilters(this.deps.catalog, this.taxonomy, filters);
  }

  /**
   * One action on many photos. Catalogue changes are one transaction; unknown ids and photos in the trash
   * are reported one by one and leave the others done. Re-analysis queues each photo in turn.
   */
  async bulk(ids: readonly string[], request: BulkRequest): Promise<BulkOutcome> {
    const wanted = [...new Set(ids.map((id) => id.trim().toLowerCase()))];
    if (request.action === "reanalyse") return this.#reanalyseMany(wanted);
    const change = this.#changeOf(request);
    const outcome = await this.deps.catalog.changeImages(wanted, change);
    for (const image of outcome.changed) {
      if (change.kind === "trash") {
        await this.deps.queue.cancel(image.id);
        this.deps.events.publish({ type: "deleted", id: image.id });
      } else if (change.kind === "restore" && (image.status === "queued" || image.status === "running")) {
        await queueAnalysis(this.deps, image.id);
        this.deps.events.publish({ type: "image", image: await this.get(image.id) });
      } else {
        if (change.kind === "category" || change.kind === "addTags") await this.#descriptionChanged(image.id);
        if (change.kind === "restore") await this.#embedIfMissing(image);
        this.deps.events.publish({ type: "image", image });
      }
    }
    const images =
      change.kind === "restore"
        ? await Promise.all(outcome.changed.map((i) => this.get(i.id)))
        : outcome.changed;
    return { images, errors: idErrors(outcome) };
  }

  #changeOf(request: Exclude<BulkRequest, { action: "reanalyse" }>): ImagesChange {
    switch (request.action) {
      case "category": {
        const category = request.value.trim().toLowerCase();
        if (!isCategory(this.taxonomy, category)) {
          const slugs = this.taxonomy.categories.map((c) => c.slug).join(", ");
          throw new PhotocatError("invalid_request", `value must be a category: one of ${slugs}`);
        }
        return { kind: "category", category };
      }
      case "tags": {
        const tags = normaliseTags(request.value);
        if (tags.length === 0) throw new PhotocatError("invalid_request", "value must hold at least one tag");
        return { kind: "addTags", tags };
      }
      case "album":
        return { kind: "addToAlbum", albumId: request.value.trim().toLowerCase() };
      case "trash":
        return { kind: "trash" };
      case "restore":
        return { kind: "restore" };
    }
  }

  async #reanalyseMany(ids: readonly string[]): Promise<BulkOutcome> {
    const missing: string[] = [];
    const inTrash: string[] = [];
    const images: ImageRecord[] = [];
    for (const id of ids) {
      const image = await this.deps.catalog.getImage(id);
      if (!image) missing.push(id);
      else if (image.trashedAt) inTrash.push(id);
      else images.push(await this.reanalyse(id));
    }
    return { images, errors: idErrors({ missing, inTrash }) };
  }

  async get(id: string): Promise<ImageRecord> {
    const image = await this.deps.catalog.getImage(id);
    if (!image) throw new PhotocatError("not_found", `no photo with id ${id}`);
    return image;
  }

  /** A full id, or a unique prefix of one (at least 4 characters), as git takes commit ids. */
  async resolveId(idOrPrefix: string): Promise<string> {
    const prefix = idOrPrefix.trim().toLowerCase();
    if (!/^[0-9a-f-]{4,36}$/.test(prefix)) {
      throw new PhotocatError(
        "invalid_request",
        `"${idOrPrefix}" is not a photo id: give the id or its first 4 or more characters`,
      );
    }
    const ids = await this.deps.catalog.findIdsByPrefix(prefix, 4);
    if (ids.length === 1) return ids[0]!;
    if (ids.length === 0) throw new PhotocatError("not_found", `no photo has an id starting with ${prefix}`);
    const shown = ids.slice(0, 3).join(", ");
    throw new PhotocatError(
      "invalid_request",
      `the id prefix ${prefix} is ambiguous: it matches ${ids.length > 3 ? "several photos" : `${ids.length} photos`} (${shown}${ids.length > 3 ? ", ..." : ""}); give more characters`,
    );
  }

  /** Stores a person's corrections apart from the analysis; they win over every later analysis. */
  async edit(id: string, request: EditRequest): Promise<ImageRecord> {
    const edits: Omit<HumanEdits, "editedAt"> = {};
    if (request.summary !== undefined) {
      const summary = normaliseSummary(request.summary);
      if (!summary) throw new PhotocatError("invalid_request", "summary must not be empty");
      edits.summary = summary;
    }
    if (request.category !== undefined) {
      const category = request.category.trim().toLowerCase();
      if (!isCategory(this.taxonomy, category)) {
        const slugs = this.taxonomy.categories.map((c) => c.slug).join(", ");
        throw new PhotocatError("invalid_request", `category must be one of: ${slugs}`);
      }
      edits.category = category;
    }
    if (request.tags !== undefined) edits.tags = normaliseTags(request.tags);
    if (request.altText !== undefined) edits.altText = cleanText(request.altText, LIMITS.altTextChars);
    if (Object.keys(edits).length === 0) {
      throw new PhotocatError(
        "invalid_request",
        "nothing to change: give summary, category, tags or alt_text",
      );
    }
    const image = await this.deps.catalog.saveEdits(id, edits);
    if (!image) throw new PhotocatError("not_found", `no photo with id ${id}`);
    await this.#descriptionChanged(id);
    this.deps.events.publish({ type: "image", image });
    return image;
  }

  async reanalyse(id: string): Promise<ImageRecord> {
    await this.get(id);
    await queueAnalysis(this.deps, id);
    const image = await this.get(id);
    this.deps.events.publish({ type: "image", image });
    return image;
  }

  /** Queues many photos again; returns how many. */
  async reanalyseMany(filter: SelectFilter): Promise<number> {
    const ids = await this.deps.catalog.selectIds(filter);
    for (const id of ids) await queueAnalysis(this.deps, id);
    return ids.length;
  }

  /** Moves a photo to the trash (nothing is freed; restore brings it back as it was). */
  async trash(id: string): Promise<ImageRecord> {
    const image = await this.deps.catalog.trashImage(id);
    if (!image) throw new PhotocatError("not_found", `no photo with id ${id}`);
    // A trashed photo is not worth paying a model for; restore queues it again.
    await this.deps.queue.cancel(id);
    this.deps.events.publish({ type: "deleted", id });
    return image;
  }

  async restore(id: string): Promise<ImageRecord> {
    const image = await this.deps.catalog.restoreImage(id);
    if (!image) throw new PhotocatError("not_found", `no photo with id ${id}`);
    if (image.status === "queued" || image.status === "running") return this.reanalyse(id);
    await this.#embedIfMissing(image);
    this.deps.events.publish({ type: "image", image });
    return image;
  }

  /** Trashing a photo cancels its pending embedding: a restored photo without one is queued again. */
  async #embedIfMissing(image: ImageRecord): Promise<void> {
    const meaning = this.deps.meaning;
    if (!meaning || image.status !== "done") return;
    const model = embeddingModelKey(meaning.embedder);
    const stored = await this.deps.catalog.embeddingsOf(image.id);
    if (!stored.some((e) => e.model === model)) {
      await queueEmbedding({ ...this.deps, logger: meaning.logger }, image.id);
    }
  }

  listTrash(query: { limit: number; cursor?: string | null }): Promise<ImagePage> {
    return this.deps.catalog.listTrash(query);
  }

  /**
   * Deletes a photo for good. The record goes first, so nobody sees a photo without files. On a full
   * disk the database may be unable to record even a deletion: then the files go first, which frees
   * the space the database needs, and the record follows.
   */
  async delete(id: string): Promise<void> {
    const image = await this.get(id);
    const files = keysToDelete(id, image.mediaType);
    try {
      await this.deps.catalog.deleteImage(id);
    } catch (error) {
      if (storageFailure(error, "delete the photo")?.code !== "storage_full") throw error;
      await this.#deleteFiles(files);
      await this.deps.catalog.deleteImage(id);
    }
    await this.deps.queue.cancel(id);
    // The record is gone: a file that cannot be removed now is an orphan, swept at a later start.
    await Promise.allSettled(files.map((key) => this.deps.blobs.delete(key)));
    this.deps.events.publish({ type: "deleted", id });
  }

  /**
   * Deletes every photo in the trash for good, files first: a crash halfway leaves trashed records
   * whose files are gone, which the next emptying removes. Works on a full disk, since deleting files
   * frees what the database needs to record the deletions. Returns how many photos were deleted.
   */
  async emptyTrash(options: { trashedBefore?: string } = {}): Promise<number> {
    let deleted = 0;
    for (;;) {
      const page = await this.deps.catalog.listTrash({
        limit: 100,
        trashedBefore: options.trashedBefore ?? null,
      });
      if (page.items.length === 0) return deleted;
      for (const image of page.items) {
        await this.#deleteFiles(keysToDelete(image.id, image.mediaType));
        if (await this.deps.catalog.deleteImage(image.id)) deleted++;
        this.deps.events.publish({ type: "deleted", id: image.id });
      }
    }
  }

  /** Deletes for good what has been in the trash longer than the retention time (the periodic purge). */
  purgeExpiredTrash(now = Date.now()): Promise<number> {
    const cutoff = new Date(now - TRASH_RETENTION_DAYS * 86_400_000).toISOString();
    return this.emptyTrash({ trashedBefore: cutoff });
  }

  async #deleteFiles(keys: readonly string[]): Promise<void> {
    const results = await Promise.allSettled(keys.map((key) => this.deps.blobs.delete(key)));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failed) throw failed.reason;
  }

  categories(): Promise<{ slug: string; description: string; count: number }[]> {
    return categoriesWithCounts(this.deps.catalog, this.taxonomy);
  }

  /** Groups of near-duplicates, each with the copy to keep first. */
  duplicates(): Promise<DuplicateGroup[]> {
    return listDuplicateGroups(this.deps);
  }

  /** Marks photos as "not duplicates" of each other; returns how many pairs were dismissed. */
  /** "More like this": the photos nearest `id` by their stored embeddings, nearest first, trash left out. */
  similar(id: string, limit: number): Promise<SimilarPhoto[]> {
    return this.#similar.similar(id, limit);
  }

  /**
   * Loads the similar-photo index of the newest photos' embedding model ahead of the first request; resolves
   * to the photos indexed.
   */
  async warmSimilar(): Promise<number> {
    const { items } = await this.deps.catalog.listImages({ limit: NEWEST_FOR_WARM_UP });
    return this.#similar.warm(items.map((i) => i.id));
  }

  dismissDuplicates(ids: readonly string[]): Promise<number> {
    return dismissDuplicates(this.deps, ids);
  }

  stats(): Promise<CatalogStats> {
    return this.deps.catalog.stats();
  }
}
