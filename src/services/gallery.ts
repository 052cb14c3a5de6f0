import { cleanText, LIMITS, normaliseSummary, normaliseTags } from "../domain/analysis.js";
import { PhotocatError } from "../domain/errors.js";
import type { HumanEdits, ImageRecord } from "../domain/image.js";
import { isCategory, type Taxonomy } from "../domain/taxonomy.js";
import type { BlobStore } from "../ports/blob-store.js";
import type { Catalog, CatalogStats, ImagePage, ImageQuery, SelectFilter } from "../ports/catalog.js";
import type { JobQueue } from "../ports/job-queue.js";
import { queueAnalysis } from "./analysis-status.js";
import type { ImageEvents } from "./events.js";
import { allKeys } from "./storage-keys.js";

export interface GalleryDeps {
  catalog: Catalog;
  queue: JobQueue;
  blobs: BlobStore;
  events: ImageEvents;
}

export interface EditRequest {
  summary?: string;
  category?: string;
  tags?: string[];
  altText?: string;
}

/** What people do with the catalogue: browse, search, correct, re-analyse, delete. */
export class GalleryService {
  constructor(
    private readonly deps: GalleryDeps,
    private readonly taxonomy: Taxonomy,
  ) {}

  list(query: ImageQuery): Promise<ImagePage> {
    return this.deps.catalog.listImages(query);
  }

  async get(id: string): Promise<ImageRecord> {
    const image = await this.deps.catalog.getImage(id);
    if (!image) throw new PhotocatError("not_found", `no photo with id ${id}`);
    return image;
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

  /** Removes the record first (so nobody sees a photo without files), then its job and files. */
  async delete(id: string): Promise<void> {
    const image = await this.get(id);
    await this.deps.catalog.deleteImage(id);
    await this.deps.queue.cancel(id);
    await Promise.allSettled(allKeys(id, image.mediaType).map((key) => this.deps.blobs.delete(key)));
    this.deps.events.publish({ type: "deleted", id });
  }

  /** Every category of the taxonomy with its count, then any stored category no longer in it. */
  async categories(): Promise<{ slug: string; description: string; count: number }[]> {
    const counts = new Map((await this.deps.catalog.categoryCounts()).map((c) => [c.category, c.count]));
    const listed = this.taxonomy.categories.map((c) => ({ ...c, count: counts.get(c.slug) ?? 0 }));
    const retired = [...counts]
      .filter(([slug]) => !isCategory(this.taxonomy, slug))
      .map(([slug, count]) => ({ slug, description: "no longer in the taxonomy", count }));
    return [...listed, ...retired];
  }

  stats(): Promise<CatalogStats> {
    return this.deps.catalog.stats();
  }
}
